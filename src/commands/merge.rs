//! `concbench merge`: the shards of a sweep or a run, read and checked,
//! put together by [`crate::report::merge`], and written atomically; a part
//! refused is one line and exit 2, with nothing written; a task that
//! failed in any part is exit 1, as it was for the part.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::merge::MergeArgs;
use crate::error::UsageError;
use crate::report::merge::{merge as merge_parts, Part};
use crate::report::{file, Format, ResultsFile};

/// `concbench merge`.
pub fn merge(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    if Format::of_path(&args.out) != Some(Format::Json) {
        return Err(UsageError::new(
            "--out",
            format!(
                "{} is not a .json file; merge writes JSON",
                args.out.display()
            ),
        )
        .into());
    }
    let mut parts = Vec::with_capacity(args.parts.len());
    for path in &args.parts {
        parts.push(Part {
            name: path.display().to_string(),
            file: file::load(path)?,
        });
    }
    // Exit codes as the parts' own commands: 1 when a task failed anywhere.
    let reports = match merge_parts(&parts)? {
        ResultsFile::Sweep(sweep) => {
            let csv = args.out.with_extension("csv");
            file::write_sweep(&args.out, &csv, &sweep)?;
            eprintln!(
                "{} parts merged: {} cells written to {} and {}",
                parts.len(),
                sweep.cells.len(),
                args.out.display(),
                csv.display()
            );
            sweep.cells.into_iter().map(|c| c.report).collect()
        }
        ResultsFile::Run(run) => {
            crate::sys::fs::write_atomically(&args.out, run.render(Format::Json))
                .with_context(|| format!("cannot write --out {}", args.out.display()))?;
            print!("{}", run.render(Format::Table));
            eprintln!(
                "{} shards merged: {} tasks, written to {}",
                parts.len(),
                run.meta.workload.tasks,
                args.out.display()
            );
            vec![run]
        }
    };
    Ok(super::verdict(&reports))
}
