//! The run's results ([`RunReport`]) and its exporters: table, JSON, CSV, Markdown.
//!
//! JSON is the product's contract: field names here are what scripts, the CI
//! gate and the charts read. Add fields; never rename or remove one.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::machine::{MachineContext, Noise};
use crate::sampler::Timeline;
use crate::units::{format_bytes, format_seconds};

fn custom() -> String {
    "custom".into()
}

/// Version of the JSON layout below; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// Everything one `concbench run` measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunReport {
    pub meta: Meta,
    pub results: Vec<StrategyResult>,
}

/// What was run, where, and on what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Meta {
    pub schema_version: u32,
    pub concbench_version: String,
    /// Seconds since the Unix epoch when the run started.
    pub started_at_unix_s: f64,
    /// The preset the run came from (`concbench run --preset`), or `custom`.
    #[serde(default = "custom")]
    pub scenario: String,
    pub workload: WorkloadMeta,
    /// Cores the client may use (P in the bound).
    pub cores: usize,
    /// Calibrated speed of the CPU-work kernel.
    pub cpu_units_per_us: f64,
    /// Base URL of the server the run drove.
    pub target: String,
    /// `embedded` (a child process of concbench), `external` (`--target`) or `in-process`.
    pub server: String,
    /// Process id of the server (from its `/stats`): lets a caller check it is gone afterwards.
    pub server_pid: u32,
    /// `--workers` as given; `null` means each pool strategy's default (one per core).
    pub workers: Option<usize>,
    /// `reuse` (keep-alive) or `new` (a connection per request).
    pub connection: String,
    /// Process-pool schedule (`static` or `dynamic`) and tasks per message.
    pub schedule: String,
    pub batch: usize,
    /// Rounds measured per strategy and warm-up rounds discarded before them.
    pub repeat: usize,
    pub warmup: usize,
    /// Interval of the CPU timeline.
    pub sample_interval_s: f64,
    /// What every client did about slow, failing and throttling servers:
    /// timeout, retries and backoff, rate limit, deadline.
    #[serde(default)]
    pub client: crate::client::ClientPolicy,
    /// The embedded server's fault flags (`--error-rate 0.1 ...`); empty when none were given.
    #[serde(default)]
    pub server_faults: String,
    /// True when the run was stopped by Ctrl-C: the rows are the strategies
    /// that finished (the last may hold `cancelled` tasks).
    #[serde(default)]
    pub interrupted: bool,
    pub machine: MachineContext,
}

/// The workload as it was run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorkloadMeta {
    pub tasks: usize,
    /// The latency distribution, as `--latency` spells it.
    pub latency: String,
    /// Σ latency of the plan, in seconds.
    pub latency_total_s: f64,
    pub bytes: usize,
    /// CPU work per task in kernel units, and what that is in seconds on this machine.
    pub cpu_units_per_task: u64,
    pub cpu_per_task_s: f64,
    pub concurrency: usize,
    pub seed: u64,
}

/// Latency percentiles in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

/// The server's side of one strategy's run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServerSide {
    /// `/work` responses the server completed during the run.
    pub served: u64,
    /// `/work` requests the server received during the run (faulted ones included).
    #[serde(default)]
    pub requests: u64,
    /// Requests that met each injected fault (`error`, `reset`, `stall`,
    /// `drip`, `rate_limited`); only the faults that happened.
    #[serde(default)]
    pub faults: BTreeMap<String, u64>,
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
    pub max_in_flight: u64,
    /// How late the server's answers were against the planned latency.
    pub lateness_p50_s: f64,
    pub lateness_p99_s: f64,
    pub lateness_max_s: f64,
}

/// One strategy's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StrategyResult {
    pub strategy: String,
    /// `ok` when every task verified, `failed` otherwise.
    pub status: String,
    pub tasks: usize,
    pub tasks_ok: u64,
    pub tasks_failed: u64,
    /// Failed tasks by cause (`connect`, `ports_exhausted`, `timeout`,
    /// `http_429`, `http_503`, `body`, `deadline`, `cancelled`, `worker`,
    /// `checksum_mismatch`, ...).
    pub failures: BTreeMap<String, u64>,
    /// Requests sent that reached the server (a connection was made), retries included.
    #[serde(default)]
    pub requests_sent: u64,
    /// Retries: requests sent beyond the first of each task.
    #[serde(default)]
    pub retries: u64,
    /// Tasks that needed more than one attempt (whether they then succeeded or not).
    #[serde(default)]
    pub tasks_retried: u64,
    pub first_failure: Option<String>,
    /// C of the bound: the most requests this strategy keeps in flight.
    pub in_flight_limit: usize,
    pub threads_started: usize,
    pub processes_started: u64,
    pub wall_s: f64,
    pub ideal_s: f64,
    /// The bound's three terms: Σl/C, Σc/P and the longest task.
    pub bound_io_s: f64,
    pub bound_cpu_s: f64,
    pub bound_longest_task_s: f64,
    /// ideal_s / wall_s; above 1 means the bound or the clock is wrong.
    pub efficiency: f64,
    /// Sequential's wall time over this one's, when sequential ran in the same run.
    pub speedup_vs_sequential: Option<f64>,
    /// Client CPU (parent and child processes; the server excluded).
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
    /// Cores busy on average: (user + sys) / wall.
    pub cpu_utilisation: f64,
    pub peak_rss_bytes: u64,
    /// False when the peak RSS is the process lifetime's rather than this run's.
    pub peak_rss_per_run: bool,
    pub ctx_switches_voluntary: u64,
    pub ctx_switches_involuntary: u64,
    /// Verified tasks per second of wall time.
    pub throughput_per_s: f64,
    /// Request latency seen by the client (send to last body byte).
    pub latency_s: Percentiles,
    /// Where the successful tasks' time went: queued, response, body, CPU (see [`crate::phases`]).
    #[serde(default)]
    pub phases: crate::phases::PhaseSummary,
    pub server: ServerSide,
    /// Sanity checks of this run's own figures.
    pub checks: Checks,
    /// How noisy the machine was during the run.
    pub noise: Noise,
    /// CPU the timeline sampler itself used during the run (subtracted from the client's CPU).
    pub sampler_cpu_s: f64,
    /// Client and server CPU over time, in cores.
    pub timeline: Timeline,
    /// Rounds measured (`--repeat`); with more than one, the figures above are medians.
    pub rounds: usize,
    /// Median, range, 95% confidence interval and coefficient of variation of
    /// the key figures over the rounds, by figure name.
    pub stats: BTreeMap<String, FigureStats>,
    /// Each round's own row (without timelines), when there was more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repeats: Vec<StrategyResult>,
}

/// Sanity checks that every run carries: a failed one adds a flag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Checks {
    /// Efficiency at most 1.02: above it, the bound or the clock is wrong.
    pub bound_ok: bool,
    /// Requests the client saw answered with a whole 200 response (verified or
    /// not); with a server that counts what it receives, the requests the
    /// client sent that reached it (retries included).
    pub requests_answered: u64,
    /// `/work` requests the server completed during the run; with a server
    /// that counts what it receives, the requests it received.
    pub requests_served: u64,
    pub requests_match: bool,
    /// Little's law, client side: throughput × mean latency = mean requests in flight.
    pub client_in_flight_mean: f64,
    /// Mean requests in flight at the server (its busy time over the wall time):
    /// at most the client's, the gap being client-side queueing and transfer.
    pub server_in_flight_mean: f64,
    /// What failed: `bound_violated`, `requests_mismatch`, `server_busier_than_client`,
    /// `noisy_machine`, `high_cv:<figure>`.
    pub flags: Vec<String>,
}

/// One figure over the rounds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FigureStats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// 95% confidence interval of the median (percentile bootstrap).
    pub ci95_low: f64,
    pub ci95_high: f64,
    /// Standard deviation over mean.
    pub cv: f64,
}

/// Output formats of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Markdown,
}

impl RunReport {
    /// Renders the report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => self.table(),
            Format::Json => serde_json::to_string_pretty(self).expect("report serialises") + "\n",
            Format::Csv => crate::results::run_csv_rows(self),
            Format::Markdown => self.markdown(),
        }
    }

    fn header(&self) -> String {
        let w = &self.meta.workload;
        format!(
            "{} tasks, latency {}, {} per body, CPU {} per task, C = {}, seed {}, {} cores, server {} ({})",
            w.tasks,
            w.latency,
            format_bytes(w.bytes as u64),
            format_seconds(w.cpu_per_task_s),
            w.concurrency,
            w.seed,
            self.meta.cores,
            self.meta.target,
            self.meta.server
        )
    }

    fn rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let repeated = self.results.iter().any(|r| r.rounds > 1);
        let flagged = self.results.iter().any(|r| !r.checks.flags.is_empty());
        let retried = self.results.iter().any(|r| r.retries > 0);
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
            "server CPU",
        ];
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
                    format_seconds(r.ideal_s),
                    format!("{:.2}", r.efficiency),
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
                    format_seconds(r.server.cpu_user_s + r.server.cpu_sys_s),
                ];
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

    fn table(&self) -> String {
        let (head, rows) = self.rows();
        let mut out = self.header() + "\n\n" + &align(&head, rows);
        for r in self.results.iter().filter(|r| !r.failures.is_empty()) {
            let causes: Vec<String> = r.failures.iter().map(|(c, n)| format!("{c} {n}")).collect();
            out += &format!(
                "failed tasks of {} by cause: {}\n",
                r.strategy,
                causes.join(", ")
            );
        }
        let (phase_head, phase_rows) = self.phase_rows();
        out += "\nwhere the time went (p50 per task; response includes connecting and waiting for a busy client thread)\n";
        out += &align(&phase_head, phase_rows);
        out
    }

    /// Per-strategy p50 of each phase of a task.
    fn phase_rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
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

fn markdown_table(head: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut out = format!("| {} |\n|", head.join(" | "));
    out += &" --- |".repeat(head.len());
    out.push('\n');
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out
}

/// Aligns a table: the first column left, the others right.
fn align(head: &[&str], rows: Vec<Vec<String>>) -> String {
    {
        let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<String>| {
            let mut s = String::new();
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                let pad = w - cell.chars().count();
                if i == 0 {
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad));
                } else {
                    s.push_str("  ");
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                }
            }
            s.trim_end().to_string() + "\n"
        };
        let mut out = line(head.iter().map(|h| h.to_string()).collect());
        for row in rows {
            out += &line(row);
        }
        out
    }
}

impl RunReport {
    fn markdown(&self) -> String {
        let (head, rows) = self.rows();
        let (phase_head, phase_rows) = self.phase_rows();
        format!(
            "{}\n\n{}\nWhere the time went (p50 per task):\n\n{}",
            self.header(),
            markdown_table(&head, rows),
            markdown_table(&phase_head, phase_rows)
        )
    }
}

/// Writes `contents` (text or bytes) to `path` atomically: a temporary file
/// beside it, then a rename.
pub fn write_atomically(path: &std::path::Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the path names no file"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents.as_ref())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
