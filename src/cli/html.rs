//! `--html FILE` of `run` and `sweep`: also write the one-file HTML report.

use std::path::PathBuf;

use clap::Args;

/// The HTML report flag of `run` and `sweep`.
#[derive(Debug, Clone, Args)]
pub struct HtmlArgs {
    /// Also write the report as one self-contained HTML file (charts inline, no network),
    /// written atomically, e.g. report.html.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}
