//! CSV: one row per scenario × parameters × strategy × repeat. The columns
//! are one table of (header, value) pairs, so the header cannot drift from
//! the rows.

use std::fmt::Write as _;

use crate::report::{RunReport, StrategyResult, SweepReport};

/// A column's header and how to read its value off a row.
type Column = (&'static str, fn(&StrategyResult) -> String);

fn s<T: ToString>(v: T) -> String {
    v.to_string()
}

/// Every column after `scenario,params,strategy,repeat`.
const COLUMNS: &[Column] = &[
    ("status", |r| s(r.status)),
    ("tasks", |r| s(r.tasks)),
    ("tasks_ok", |r| s(r.tasks_ok)),
    ("tasks_failed", |r| s(r.tasks_failed)),
    ("in_flight_limit", |r| s(r.in_flight_limit)),
    ("wall_s", |r| s(r.wall_s)),
    ("ideal_s", |r| s(r.ideal_s)),
    ("efficiency", |r| s(r.efficiency)),
    ("speedup_vs_sequential", |r| {
        r.speedup_vs_sequential.map(s).unwrap_or_default()
    }),
    ("cpu_user_s", |r| s(r.cpu_user_s)),
    ("cpu_sys_s", |r| s(r.cpu_sys_s)),
    ("cpu_utilisation", |r| s(r.cpu_utilisation)),
    ("peak_rss_bytes", |r| s(r.peak_rss_bytes)),
    ("ctx_switches_voluntary", |r| s(r.ctx_switches_voluntary)),
    (
        "ctx_switches_involuntary",
        |r| s(r.ctx_switches_involuntary),
    ),
    ("throughput_per_s", |r| s(r.throughput_per_s)),
    ("latency_p50_s", |r| s(r.latency_s.p50)),
    ("latency_p90_s", |r| s(r.latency_s.p90)),
    ("latency_p99_s", |r| s(r.latency_s.p99)),
    ("latency_max_s", |r| s(r.latency_s.max)),
    ("server_served", |r| s(r.server.served)),
    ("server_cpu_user_s", |r| s(r.server.cpu_user_s)),
    ("server_cpu_sys_s", |r| s(r.server.cpu_sys_s)),
    ("server_lateness_p50_s", |r| s(r.server.lateness_p50_s)),
    ("server_lateness_p99_s", |r| s(r.server.lateness_p99_s)),
    ("flags", |r| r.checks.flags.join(" ")),
];

fn header() -> String {
    let names: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
    format!("scenario,params,strategy,repeat,{}\n", names.join(","))
}

/// The CSV of one run: one row per strategy × repeat.
pub fn run_rows(run: &RunReport) -> String {
    let mut out = header();
    push_run_rows(&mut out, &run.meta.scenario, "", run);
    out
}

/// The CSV of a sweep: one row per parameter values × strategy × repeat.
pub fn sweep_rows(sweep: &SweepReport) -> String {
    let mut out = header();
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
            row(out, scenario, params, r, 1);
        } else {
            for (i, rep) in r.repeats.iter().enumerate() {
                row(out, scenario, params, rep, i + 1);
            }
        }
    }
}

fn row(out: &mut String, scenario: &str, params: &str, r: &StrategyResult, repeat: usize) {
    let values: Vec<String> = COLUMNS.iter().map(|(_, value)| value(r)).collect();
    let _ = writeln!(
        out,
        "{scenario},{params},{},{repeat},{}",
        r.strategy,
        values.join(",")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_names_every_column_a_row_has() {
        let head = header();
        assert_eq!(head.trim_end().split(',').count(), 4 + COLUMNS.len());
        assert!(head.starts_with("scenario,params,strategy,repeat,status,tasks,"));
        assert!(head.trim_end().ends_with(",server_lateness_p99_s,flags"));
    }
}
