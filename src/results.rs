//! Results on disk: loading a saved run or sweep, writing a sweep (JSON and
//! CSV, atomically, after every cell), the CSV rows (one per scenario ×
//! parameter × strategy × repeat), the Markdown summary, and the JSON schema
//! of it all (committed as `reports/schema.json`, checked by a test).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::error::UsageError;
use crate::report::{self, RunReport, StrategyResult, SCHEMA_VERSION};
use crate::sweep::SweepReport;

/// Any results file concbench writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // loaded once per command; boxing would only add noise
pub enum ResultsFile {
    /// `concbench sweep`: a run per cell of a parameter grid.
    Sweep(SweepReport),
    /// `concbench run --format json`: one run.
    Run(RunReport),
}

/// The JSON schema of [`ResultsFile`], pretty-printed.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(ResultsFile);
    serde_json::to_string_pretty(&schema).expect("the schema serialises")
}

/// Loads a results file, with one clear line on what is wrong with it.
pub fn load(path: &Path) -> anyhow::Result<ResultsFile> {
    let what = format!("results file {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| {
        UsageError::new(
            what.clone(),
            format!("cannot be read ({e}); give the path of a results JSON"),
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        UsageError::new(
            what.clone(),
            format!("is not JSON ({e}); was it truncated? Write it again with `concbench run --format json --out FILE`"),
        )
    })?;
    let version = value
        .get("schema_version")
        .or_else(|| value.get("meta").and_then(|m| m.get("schema_version")))
        .and_then(|v| v.as_u64());
    match version {
        Some(v) if v == SCHEMA_VERSION as u64 => {}
        Some(v) => {
            return Err(UsageError::new(
                what,
                format!("has schema version {v}, this concbench reads {SCHEMA_VERSION}; run it again with this version"),
            )
            .into())
        }
        None => {
            return Err(UsageError::new(
                what,
                "is not a concbench results file (no schema_version); give a file written by `run --format json` or `sweep`",
            )
            .into())
        }
    }
    let is_sweep = value.get("kind").and_then(|k| k.as_str()) == Some("sweep");
    let parsed = if is_sweep {
        serde_json::from_value(value).map(ResultsFile::Sweep)
    } else {
        serde_json::from_value(value).map(ResultsFile::Run)
    };
    parsed.map_err(|e| {
        UsageError::new(
            what,
            format!("does not match the results schema ({e}); was it edited by hand?"),
        )
        .into()
    })
}

/// Writes a sweep's JSON and CSV, each atomically.
pub fn write_sweep(json: &Path, csv: &Path, sweep: &SweepReport) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(sweep).expect("the sweep serialises") + "\n";
    report::write_atomically(json, &text)
        .with_context(|| format!("cannot write {}", json.display()))?;
    report::write_atomically(csv, sweep_csv_rows(sweep))
        .with_context(|| format!("cannot write {}", csv.display()))?;
    Ok(())
}

const CSV_HEADER: &str = "scenario,params,strategy,repeat,status,tasks,tasks_ok,tasks_failed,in_flight_limit,wall_s,\
ideal_s,efficiency,speedup_vs_sequential,cpu_user_s,cpu_sys_s,cpu_utilisation,peak_rss_bytes,ctx_switches_voluntary,\
ctx_switches_involuntary,throughput_per_s,latency_p50_s,latency_p90_s,latency_p99_s,latency_max_s,server_served,\
server_cpu_user_s,server_cpu_sys_s,server_lateness_p50_s,server_lateness_p99_s,flags\n";

/// The CSV of one run: one row per strategy × repeat.
pub fn run_csv_rows(run: &RunReport) -> String {
    let mut out = String::from(CSV_HEADER);
    push_run_rows(&mut out, &run.meta.scenario, "", run);
    out
}

/// The CSV of a sweep: one row per parameter values × strategy × repeat.
pub fn sweep_csv_rows(sweep: &SweepReport) -> String {
    let mut out = String::from(CSV_HEADER);
    for cell in &sweep.cells {
        let params: Vec<String> = sweep
            .params
            .iter()
            .map(|p| {
                format!(
                    "{p}={}",
                    cell.values.get(p).map(String::as_str).unwrap_or("")
                )
            })
            .collect();
        push_run_rows(&mut out, &sweep.scenario, &params.join(";"), &cell.report);
    }
    out
}

fn push_run_rows(out: &mut String, scenario: &str, params: &str, run: &RunReport) {
    for r in &run.results {
        if r.repeats.is_empty() {
            csv_row(out, scenario, params, r, 1);
        } else {
            for (i, rep) in r.repeats.iter().enumerate() {
                csv_row(out, scenario, params, rep, i + 1);
            }
        }
    }
}

fn csv_row(out: &mut String, scenario: &str, params: &str, r: &StrategyResult, repeat: usize) {
    let _ = writeln!(
        out,
        "{scenario},{params},{},{repeat},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        r.strategy,
        r.status,
        r.tasks,
        r.tasks_ok,
        r.tasks_failed,
        r.in_flight_limit,
        r.wall_s,
        r.ideal_s,
        r.efficiency,
        r.speedup_vs_sequential.map(|s| s.to_string()).unwrap_or_default(),
        r.cpu_user_s,
        r.cpu_sys_s,
        r.cpu_utilisation,
        r.peak_rss_bytes,
        r.ctx_switches_voluntary,
        r.ctx_switches_involuntary,
        r.throughput_per_s,
        r.latency_s.p50,
        r.latency_s.p90,
        r.latency_s.p99,
        r.latency_s.max,
        r.server.served,
        r.server.cpu_user_s,
        r.server.cpu_sys_s,
        r.server.lateness_p50_s,
        r.server.lateness_p99_s,
        r.checks.flags.join(" "),
    );
}

/// A Markdown summary: the tables of every run, with `charts` (paths relative
/// to the summary) embedded after them.
pub fn summary_markdown(results: &ResultsFile, charts: &[PathBuf]) -> String {
    let mut out = String::new();
    match results {
        ResultsFile::Run(run) => {
            let _ = writeln!(out, "# concbench: {}\n", run.meta.scenario);
            out += &run.render(report::Format::Markdown);
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
                "| {} | winner | wall | runner-up | margin |",
                s.params.join(" | ")
            );
            let _ = writeln!(out, "|{}", " --- |".repeat(s.params.len() + 4));
            for cell in &s.cells {
                let vals: Vec<&str> = s
                    .params
                    .iter()
                    .map(|p| cell.values.get(p).map(String::as_str).unwrap_or(""))
                    .collect();
                let (winner, runner_up) = winners(&cell.report);
                let cell_line = match (winner, runner_up) {
                    (Some(w), Some(r)) => format!(
                        "{} | {:.3} s | {} | {:.2}×",
                        w.strategy,
                        w.wall_s,
                        r.strategy,
                        r.wall_s / w.wall_s
                    ),
                    (Some(w), None) => format!("{} | {:.3} s | - | -", w.strategy, w.wall_s),
                    _ => "- | - | - | -".into(),
                };
                let _ = writeln!(out, "| {} | {cell_line} |", vals.join(" | "));
            }
            for cell in &s.cells {
                let label: Vec<String> = s
                    .params
                    .iter()
                    .map(|p| {
                        format!(
                            "{p} = {}",
                            cell.values.get(p).map(String::as_str).unwrap_or("")
                        )
                    })
                    .collect();
                let _ = writeln!(out, "\n## {}\n", label.join(", "));
                out += &cell.report.render(report::Format::Markdown);
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

/// The fastest strategy whose tasks all verified, and the next fastest.
pub fn winners(run: &RunReport) -> (Option<&StrategyResult>, Option<&StrategyResult>) {
    let mut ok: Vec<&StrategyResult> = run.results.iter().filter(|r| r.tasks_failed == 0).collect();
    ok.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    (ok.first().copied(), ok.get(1).copied())
}
