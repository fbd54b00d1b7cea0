//! The exporters of a run: `--format table|json|csv|markdown`, one file per
//! format, and the columns the table and Markdown share (one definition, so
//! the two cannot disagree).

mod csv;
mod markdown;
mod table;

use clap::ValueEnum;

use super::RunReport;
use crate::units::{format_bytes, format_seconds};

pub use csv::{run_rows as run_csv_rows, sweep_rows as sweep_csv_rows};
pub(crate) use markdown::markdown_table;
pub use markdown::summary as summary_markdown;
pub(crate) use table::align;

/// Output formats of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Markdown,
}

/// What the table shows for the bound and the efficiency of a plan with
/// neither latency nor CPU work: there is no bound to hold it against.
const NO_BOUND: &str = "–";

impl Format {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
        }
    }

    /// The file extension that stands for it.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "md",
        }
    }

    /// The format a file name's extension stands for, if any.
    pub fn of_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "md" | "markdown" => Some(Format::Markdown),
            "txt" => Some(Format::Table),
            _ => None,
        }
    }
}

/// `" (--work json: …)"` for a kind of work other than the default hash, so
/// a reader knows what the CPU figure was spent on; nothing for hash.
pub fn work_note(work: crate::task::WorkKind) -> String {
    match work {
        crate::task::WorkKind::Hash => String::new(),
        other => format!(
            " (--work {}; a unit is {})",
            other.name(),
            other.work().unit
        ),
    }
}

impl RunReport {
    /// Renders the report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => table::render(self),
            Format::Json => serde_json::to_string_pretty(self).expect("report serialises") + "\n",
            Format::Csv => csv::run_rows(self),
            Format::Markdown => markdown::render(self),
        }
    }

    /// The workload in one line, above every table.
    pub fn header(&self) -> String {
        let w = &self.meta.workload;
        if let Some(name) = &self.meta.user_task {
            return format!(
                "{} tasks of {name} (your own task: no server), I/O {} and CPU {} per task as a \
                 sequential sample measured them (the bound's), C = {}, {} cores",
                w.tasks,
                format_seconds(self.meta.workload.latency_total_s / w.tasks.max(1) as f64),
                format_seconds(w.cpu_per_task_s),
                w.concurrency,
                self.meta.cores,
            );
        }
        if let Some(endpoint) = &self.meta.endpoint {
            return format!(
                "{} tasks, {endpoint}, CPU {} per task{}, C = {}, {} cores; the endpoint has no \
                 /stats (server-side figures absent) and no planned latency (the bound is from \
                 the latencies each model met)",
                w.tasks,
                format_seconds(w.cpu_per_task_s),
                work_note(w.work),
                w.concurrency,
                self.meta.cores,
            );
        }
        format!(
            "{} tasks{}, latency {}, {} per body, CPU {} per task{}, C = {}, seed {}, {} cores, server {} ({})",
            w.tasks,
            if w.arrival == "closed" {
                String::new()
            } else {
                format!(" arriving at {} (open loop)", w.arrival)
            },
            w.latency,
            format_bytes(w.bytes as u64),
            format_seconds(w.cpu_per_task_s),
            work_note(w.work),
            w.concurrency,
            w.seed,
            self.meta.cores,
            self.meta.target,
            self.meta.server
        )
    }

    /// The table's columns and rows (the text table, Markdown and HTML share them).
    pub fn rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let repeated = self.results.iter().any(|r| r.rounds > 1);
        let flagged = self.results.iter().any(|r| !r.checks.flags.is_empty());
        let retried = self.results.iter().any(|r| r.retries > 0);
        // Under an open loop: the latency from when tasks were due, and the late starts.
        let open = self.results.iter().any(|r| r.latency_corrected_s.is_some());
        // A user's endpoint has no /stats: its column is left out, not zero.
        let server_seen = self.results.iter().any(|r| r.server.is_some());
        let mut head = vec![
            "strategy",
            "ok",
            "wall",
            "ideal",
            "eff",
            "vs seq",
            "CPU usr+sys",
            "cores",
            "peak RSS",
            "p50",
            "p99",
            "req/s",
        ];
        if open {
            head.extend(["p99 from due", "late"]);
        }
        if server_seen {
            head.push("server CPU");
        }
        if repeated {
            head.insert(3, "± cv");
        }
        if retried {
            head.push("retries");
        }
        if flagged {
            head.push("flags");
        }
        let rows = self
            .results
            .iter()
            .map(|r| {
                let mut row = vec![
                    r.strategy.clone(),
                    if r.tasks_failed == 0 {
                        format!("{}", r.tasks_ok)
                    } else {
                        format!("{}/{} FAILED", r.tasks_ok, r.tasks)
                    },
                    format_seconds(r.wall_s),
                    // A plan with no latency and no CPU work has no bound:
                    // its efficiency would read 0, as if the strategy failed.
                    if r.ideal_s > 0.0 {
                        format_seconds(r.ideal_s)
                    } else {
                        NO_BOUND.into()
                    },
                    if r.ideal_s > 0.0 {
                        format!("{:.2}", r.efficiency)
                    } else {
                        NO_BOUND.into()
                    },
                    r.speedup_vs_sequential
                        .map(|s| format!("{s:.2}x"))
                        .unwrap_or_else(|| "-".into()),
                    format!(
                        "{}+{}",
                        format_seconds(r.cpu_user_s),
                        format_seconds(r.cpu_sys_s)
                    ),
                    format!("{:.2}", r.cpu_utilisation),
                    format_bytes(r.peak_rss_bytes),
                    format_seconds(r.latency_s.p50),
                    format_seconds(r.latency_s.p99),
                    format!("{:.0}", r.throughput_per_s),
                ];
                if open {
                    row.push(
                        r.latency_corrected_s
                            .map(|p| format_seconds(p.p99))
                            .unwrap_or_else(|| "-".into()),
                    );
                    row.push(r.late_starts.to_string());
                }
                if server_seen {
                    row.push(
                        r.server
                            .as_ref()
                            .map(|v| format_seconds(v.cpu_user_s + v.cpu_sys_s))
                            .unwrap_or_else(|| "-".into()),
                    );
                }
                if repeated {
                    let cv = r.stats.get("wall_s").map(|f| f.cv).unwrap_or(0.0);
                    row.insert(3, format!("{:.1}%", cv * 100.0));
                }
                if retried {
                    row.push(format!("{} ({} tasks)", r.retries, r.tasks_retried));
                }
                if flagged {
                    row.push(r.checks.flags.join(" "));
                }
                row
            })
            .collect();
        (head, rows)
    }

    /// Per-strategy p50 of each phase of a task.
    pub fn phase_rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let retried = self.results.iter().any(|r| r.retries > 0);
        let mut head = vec!["strategy", "queued", "response", "body", "cpu"];
        if retried {
            // Most tasks need no retry, so their p50 is 0: the tail says more.
            head.insert(2, "retries (p99)");
        }
        let rows = self
            .results
            .iter()
            .map(|r| {
                let p = &r.phases;
                let mut row = vec![
                    r.strategy.clone(),
                    format_seconds(p.queued.p50_s),
                    format_seconds(p.response.p50_s),
                    format_seconds(p.body.p50_s),
                    format_seconds(p.cpu.p50_s),
                ];
                if retried {
                    row.insert(2, format_seconds(p.retry.p99_s));
                }
                row
            })
            .collect();
        (head, rows)
    }
}
