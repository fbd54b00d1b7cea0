//! `concbench report`: every chart (SVG and PNG) and a summary.md from a
//! saved results file, and/or the one-file HTML report, without running anything.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::ReportArgs;
use crate::error::UsageError;
use crate::report::file;
use crate::report::ResultsFile;

/// `concbench report`.
pub fn report(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    check_html_path(args.html.as_deref())?;
    let loaded = file::load(&args.results)?;
    // --html alone writes the page only; otherwise the directory (default `report`).
    let out = match (&args.out, &args.html) {
        (Some(dir), _) => Some(dir.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(PathBuf::from("report")),
    };
    if let Some(html) = &args.html {
        write_html(&loaded, html)?;
        println!("{}", html.display());
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create --out {}", dir.display()))?;
        for p in write_report(&loaded, &dir)? {
            println!("{}", p.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the one-file HTML report of `results` to `path`, atomically.
pub fn write_html(results: &ResultsFile, path: &Path) -> anyhow::Result<()> {
    write_page(&crate::html::render(results)?, path)
}

/// Writes an HTML page to `--html` `path`, atomically.
pub(super) fn write_page(page: &str, path: &Path) -> anyhow::Result<()> {
    crate::sys::fs::write_atomically(path, page)
        .with_context(|| format!("cannot write --html {}", path.display()))
}

/// Bad input before anything runs: an `--html` file in a directory that
/// does not exist, or that is a directory itself.
pub(super) fn check_html_path(path: Option<&Path>) -> Result<(), UsageError> {
    let Some(path) = path else { return Ok(()) };
    if path.is_dir() {
        return Err(UsageError::new(
            "--html",
            format!(
                "{} is a directory: name a file, e.g. report.html",
                path.display()
            ),
        ));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if parent.is_some_and(|p| !p.is_dir()) {
        return Err(UsageError::new(
            "--html",
            format!(
                "the directory of {} does not exist: create it first or name another file",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Writes every chart (SVG and PNG) and summary.md for `results` into `dir`;
/// returns the files written.
pub fn write_report(results: &ResultsFile, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = match results {
        ResultsFile::Run(run) => crate::charts::render_run(run, dir)?,
        ResultsFile::Sweep(sweep) => crate::charts::render_sweep(sweep, dir)?,
    };
    // The summary embeds the PNGs, by name relative to itself.
    let pngs: Vec<PathBuf> = written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .filter_map(|p| p.file_name().map(PathBuf::from))
        .collect();
    let summary = dir.join("summary.md");
    let text = crate::report::export::summary_markdown(results, &pngs);
    crate::sys::fs::write_atomically(&summary, &text)
        .with_context(|| format!("cannot write {}", summary.display()))?;
    written.push(summary);
    Ok(written)
}
