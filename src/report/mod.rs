//! The run's results ([`RunReport`], [`SweepReport`]): the JSON contract,
//! and everything that reads it without running anything: loading and
//! checking saved files ([`mod@file`]), statistics over repeated rounds
//! ([`stats`]), where the time went ([`phases`]), the one winner rule
//! ([`mod@winner`]), the verdict that knows a tie ([`mod@verdict`]), the exporters ([`export`]: table, JSON, CSV, Markdown)
//! and the merge of shards from several machines ([`mod@merge`]).
//!
//! JSON is the product's contract: field names here are what scripts, the CI
//! gate and the charts read. Add fields; never rename or remove one.

pub mod baselines;
pub mod compare;
pub mod export;
pub mod figure;
pub mod file;
pub mod merge;
pub mod phases;
pub mod slo;
pub mod stats;
pub mod sweep;
pub mod threshold;
pub mod verdict;
pub mod winner;

pub use export::Format;
pub use file::ResultsFile;
pub use merge::{MergedMeta, ShardMeta};
pub use sweep::{SweepCell, SweepReport};
pub use verdict::{verdict, Verdict};
pub use winner::{winner, Winner};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::measure::machine::{MachineContext, Noise};
use crate::measure::sampler::Timeline;

fn custom() -> String {
    "custom".into()
}

/// Efficiency above this means the bound or the clock is wrong.
pub const EFFICIENCY_LIMIT: f64 = 1.02;

/// Version of the JSON layout below; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// Whether every task of a strategy's row verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every task verified.
    #[default]
    Ok,
    /// At least one task failed (see `failures`).
    Failed,
}

impl Status {
    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A status reads as its JSON name (`"ok"`, `"failed"`).
impl PartialEq<&str> for Status {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

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
    /// The user's endpoint (method and URL template) when the target was
    /// not a mock server: then there is no `/stats`, server-side figures
    /// are absent, and the bound comes from the service times the tasks met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The name of the user's own task ([`crate::task::UserTask`]) when the
    /// run was of one: no server, latency and CPU as the tasks took them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_task: Option<String>,
    /// `--workers` as given; `null` means each pool strategy's default (one per core).
    pub workers: Option<usize>,
    /// `reuse` (keep-alive) or `new` (a connection per request).
    pub connection: String,
    /// `--preconnect`: the C connections were opened before each measured
    /// window of the strategies that keep theirs in this process (each
    /// row's `connections_preopened` says how many it opened).
    #[serde(default)]
    pub preconnect: bool,
    /// Process-pool schedule (`static` or `dynamic`) and tasks per message.
    pub schedule: String,
    pub batch: usize,
    /// Rounds measured per strategy and warm-up rounds discarded before them.
    pub repeat: usize,
    pub warmup: usize,
    /// With `--repeat auto`: its caps and why it stopped repeating (absent
    /// when the rounds were a fixed `--repeat N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_auto: Option<RepeatAuto>,
    /// Interval of the CPU timeline.
    pub sample_interval_s: f64,
    /// What every client did about slow, failing and throttling servers:
    /// timeout, retries and backoff, rate limit, deadline.
    #[serde(default)]
    pub client: crate::http::ClientPolicy,
    /// The embedded server's fault flags (`--error-rate 0.1 ...`); empty when none were given.
    #[serde(default)]
    pub server_faults: String,
    /// True when the run was stopped by Ctrl-C: the rows are the strategies
    /// that finished (the last may hold `cancelled` tasks).
    #[serde(default)]
    pub interrupted: bool,
    pub machine: MachineContext,
    /// Which CPU results were recomputed and checked (`--verify`: `auto`,
    /// `all` or `sample:F`); empty in files from before it could sample,
    /// which checked all of them.
    #[serde(default)]
    pub verify: String,
    /// The fraction of the tasks whose CPU result is checked (1: all).
    #[serde(default = "one")]
    pub cpu_checked_fraction: f64,
    /// The wall-clock time (`--start-at`, seconds since the Unix epoch)
    /// the run waited for before its first strategy, so shards on several
    /// hosts overlap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at_unix_s: Option<f64>,
    /// Which shard of which plan this run is (`run --shard K/N`): its
    /// workload and rows are that shard's tasks alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardMeta>,
    /// When the run is `concbench merge` of shards: how many, from where,
    /// and which figures are approximations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergedMeta>,
}

fn one() -> f64 {
    1.0
}

/// What `--repeat auto` did: its caps, and why it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RepeatAuto {
    pub stopped: RepeatStop,
    /// The most rounds it would measure (`--repeat-max-rounds`).
    pub max_rounds: usize,
    /// After this many seconds of measuring it started no new round
    /// (`--repeat-max-time`; checked once the minimum of rounds is in).
    pub max_time_s: f64,
}

/// Why `--repeat auto` stopped repeating rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RepeatStop {
    /// The fastest led the runner-up beyond noise (or nothing else verified).
    Decided,
    /// `--repeat-max-rounds` was reached with the top still within noise.
    RoundCap,
    /// `--repeat-max-time` had passed with the top still within noise.
    TimeCap,
}

impl RepeatAuto {
    /// One line for the table: why the run measured `rounds` rounds.
    pub fn describe(&self, rounds: usize) -> String {
        match self.stopped {
            RepeatStop::Decided => {
                format!("--repeat auto: the top was decided after {rounds} rounds")
            }
            RepeatStop::RoundCap => format!(
                "--repeat auto: stopped at the cap of {} rounds, the top still within noise",
                self.max_rounds
            ),
            RepeatStop::TimeCap => format!(
                "--repeat auto: stopped after {rounds} rounds at the time cap ({}), the top \
                 still within noise",
                crate::units::format_seconds(self.max_time_s)
            ),
        }
    }
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
    /// What each task did over its body (`--work`); files from before it
    /// existed were all `hash`.
    #[serde(default)]
    pub work: crate::task::WorkKind,
    /// When tasks arrived (`--arrival`): `closed`, `rate:R/s` or `poisson:R/s`.
    #[serde(default = "closed")]
    pub arrival: String,
}

fn closed() -> String {
    "closed".into()
}

/// Latency percentiles in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    /// 0 in files from before it was kept.
    #[serde(default)]
    pub p999: f64,
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
    /// The command of a program run as a model (`--external`), quoted as a
    /// shell would need it; absent for the built-in models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_command: Option<String>,
    /// `ok` when every task verified, `failed` otherwise.
    #[schemars(with = "String")]
    pub status: Status,
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
    /// Of the tasks that verified, those whose CPU result was recomputed and
    /// matched (all of them unless `--verify` sampled).
    #[serde(default)]
    pub tasks_cpu_checked: u64,
    /// C of the bound: the most requests this strategy keeps in flight.
    pub in_flight_limit: usize,
    pub threads_started: usize,
    pub processes_started: u64,
    /// Of those, the processes that replaced a worker which had done its
    /// `--max-tasks-per-child` share (their start-up is in the wall time and CPU).
    #[serde(default)]
    pub workers_replaced: u64,
    /// Connections opened before the measured window (`--preconnect`): its
    /// wall time and CPU began once they were open. 0: every connection was
    /// opened inside the window.
    #[serde(default)]
    pub connections_preopened: u64,
    pub wall_s: f64,
    pub ideal_s: f64,
    /// The bound's terms: Σl/C, Σc/P, the longest task, and the schedule's:
    /// (N − 1)/R plus the shortest task under a client rate limit R, or the
    /// last due time plus the shortest task under an open loop (0 without either).
    pub bound_io_s: f64,
    pub bound_cpu_s: f64,
    pub bound_longest_task_s: f64,
    #[serde(default)]
    pub bound_rate_s: f64,
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
    /// Under an open loop: latency from when each task was due to its last
    /// body byte (its late start and retries included), which a model that
    /// falls behind cannot hide (no coordinated omission); `latency_s` is the
    /// raw latency from the send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_corrected_s: Option<Percentiles>,
    /// Under an open loop: how late tasks started after they were due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_lateness_s: Option<Percentiles>,
    /// Under an open loop: tasks that started more than 1 ms after they
    /// were due (all C slots busy, or the model's own queue).
    #[serde(default)]
    pub late_starts: u64,
    /// Where the successful tasks' time went: queued, response, body, CPU (see [`phases`]).
    // The schema keeps the description it was published with.
    #[schemars(
        description = "Where the successful tasks' time went: queued, response, body, CPU (see [`crate::phases`])."
    )]
    #[serde(default)]
    pub phases: phases::PhaseSummary,
    /// The server's side of the run; absent (not zero) when the target was
    /// a user's endpoint, which has no `/stats`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerSide>,
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
    /// When the strategy's measured run began, in seconds since the Unix
    /// epoch (absent in files from before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at_unix_s: Option<f64>,
    /// The answered requests' latencies as HDR histogram counts, `[µs,
    /// count]` per recorded value (3 significant digits), kept by shards
    /// (`run --shard`) so `concbench merge` computes the whole's
    /// percentiles exactly; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latency_histogram_us: Vec<[u64; 2]>,
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
