//! `concbench run`: every chosen strategy over one plan, a table (or the
//! format asked for) on stdout, the results written atomically with `--out`.

use std::process::ExitCode;

use anyhow::Context;

use super::progress::RunProgress;
use super::{options, resolve, target, verdict, warn_if_too_few_files};
use crate::bench;
use crate::cli::RunArgs;
use crate::interrupt;
use crate::report::Format;

/// `concbench run`.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    // First of all, so a Ctrl-C at any moment stops the run the same way.
    interrupt::install_parent();
    let args = &crate::cli::scenario::apply(args)?;
    let resolved = resolve(args)?;
    if let Some(param) = resolved.preset_sweep.clone() {
        return super::sweep::run_sweep(args, resolved, vec![param]);
    }
    let progress = RunProgress::new();
    if args.target.is_none() {
        progress.phase("starting the embedded mock server");
    }
    let (_server, target) = target(args)?;
    warn_if_too_few_files(resolved.workload.concurrency);
    let mut opts = options(args, &resolved.scenario);
    opts.on_step = Some(progress.on_step());
    let report = bench::run_workload(&resolved.workload, &resolved.kinds, &target, &opts)?;
    drop(progress);
    if report.meta.interrupted && report.results.is_empty() {
        eprintln!(
            "{} before any strategy finished: nothing was written.",
            crate::colour::interrupted()
        );
        return Ok(ExitCode::from(interrupt::EXIT_INTERRUPTED));
    }
    match &args.out {
        Some(path) => {
            crate::sys::fs::write_atomically(path, report.render(args.format))
                .with_context(|| format!("cannot write --out {}", path.display()))?;
            if args.format != Format::Table {
                print!("{}", report.render(Format::Table));
            }
            eprintln!("results written to {}", path.display());
        }
        None => print!("{}", report.render(args.format)),
    }
    if report.meta.interrupted {
        let names: Vec<&str> = report.results.iter().map(|r| r.strategy.as_str()).collect();
        eprintln!(
            "{}: {} of {} strategies finished ({}); their results are {}.",
            crate::colour::interrupted(),
            names.len(),
            resolved.kinds.len(),
            names.join(", "),
            match &args.out {
                Some(p) => format!("in {}", p.display()),
                None => "printed above".into(),
            }
        );
        return Ok(ExitCode::from(interrupt::EXIT_INTERRUPTED));
    }
    Ok(verdict(std::slice::from_ref(&report)))
}
