//! Markdown: a run's tables (`--format markdown`) and the `summary.md` that
//! `concbench report` writes beside the charts.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::RunReport;
use crate::report::{verdict, ResultsFile};

pub(crate) fn markdown_table(head: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut out = format!("| {} |\n|", head.join(" | "));
    out += &" --- |".repeat(head.len());
    out.push('\n');
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out
}

pub(super) fn render(run: &RunReport) -> String {
    let (head, rows) = run.rows();
    let (phase_head, phase_rows) = run.phase_rows();
    let mut verdict = format!("**Verdict:** {}\n", crate::report::verdict(run).line());
    if let Some(auto) = &run.meta.repeat_auto {
        let _ = writeln!(verdict, "\n{}", auto.describe(run.meta.repeat));
    }
    format!(
        "{}\n\n{}\n{verdict}\nWhere the time went (p50 per task):\n\n{}",
        run.header(),
        markdown_table(&head, rows),
        markdown_table(&phase_head, phase_rows)
    )
}

/// A Markdown summary: the tables of every run, with `charts` (paths relative
/// to the summary) embedded after them.
pub fn summary(results: &ResultsFile, charts: &[PathBuf]) -> String {
    let mut out = String::new();
    match results {
        ResultsFile::Run(run) => {
            let _ = writeln!(out, "# concbench: {}\n", run.meta.scenario);
            out += &render(run);
        }
        ResultsFile::Sweep(s) => {
            let _ = writeln!(
                out,
                "# concbench sweep: {} over {}\n",
                s.scenario,
                s.params.join(" × ")
            );
            let _ = writeln!(
                out,
                "| {} | fastest | wall | verdict |",
                s.params.join(" | ")
            );
            let _ = writeln!(out, "|{}", " --- |".repeat(s.params.len() + 3));
            for cell in &s.cells {
                let vals: Vec<&str> = s
                    .params
                    .iter()
                    .map(|p| cell.values.get(p).map(String::as_str).unwrap_or(""))
                    .collect();
                let v = verdict(&cell.report);
                let cell_line = match &v.fastest {
                    Some((name, wall_s)) => format!("{name} | {wall_s:.3} s | {}", v.line()),
                    None => format!("- | - | {}", v.line()),
                };
                let _ = writeln!(out, "| {} | {cell_line} |", vals.join(" | "));
            }
            for cell in &s.cells {
                let label = cell.label(&s.params);
                let _ = writeln!(out, "\n## {}\n", label);
                out += &render(&cell.report);
            }
        }
    }
    if !charts.is_empty() {
        out += "\n## Charts\n\n";
        for c in charts {
            let _ = writeln!(
                out,
                "![{}]({})\n",
                c.file_stem().unwrap_or_default().to_string_lossy(),
                c.display()
            );
        }
    }
    out
}
