//! `concbench report`: every chart (SVG and PNG) and a summary.md from a
//! saved results file, without running anything.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::ReportArgs;
use crate::report::file;
use crate::report::ResultsFile;

/// `concbench report`.
pub fn report(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let loaded = file::load(&args.results)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create --out {}", args.out.display()))?;
    let written = write_report(&loaded, &args.out)?;
    for p in &written {
        println!("{}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes every chart (SVG and PNG) and summary.md for `results` into `dir`;
/// returns the files written.
pub fn write_report(results: &ResultsFile, dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut written = match results {
        ResultsFile::Run(run) => crate::charts::render_run(run, dir)?,
        ResultsFile::Sweep(sweep) => crate::charts::render_sweep(sweep, dir)?,
    };
    // The summary embeds the PNGs, by name relative to itself.
    let pngs: Vec<std::path::PathBuf> = written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .filter_map(|p| p.file_name().map(std::path::PathBuf::from))
        .collect();
    let summary = dir.join("summary.md");
    let text = crate::report::export::summary_markdown(results, &pngs);
    crate::sys::fs::write_atomically(&summary, &text)
        .with_context(|| format!("cannot write {}", summary.display()))?;
    written.push(summary);
    Ok(written)
}
