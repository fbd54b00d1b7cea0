//! The command line: `concbench run`, `concbench list`, and the hidden
//! subcommand that runs the embedded mock server.

pub mod arrival;
mod clap_error;
pub mod endpoint;
pub mod external;
pub mod gate;
pub mod html;
pub mod merge;
pub mod parse;
pub mod presets;
pub mod repeat;
pub mod scenario;
pub mod shard;
pub mod suite;

pub use clap_error::{report_clap_error, report_clap_error_for};
pub use gate::{CompareArgs, GateArgs};
use parse::*;
pub use repeat::Repeat;
use repeat::{parse_repeat_mode, RepeatCaps};

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};
pub use mock_server::cli::FaultArgs;
use mock_server::LatencyDist;

use crate::http::ClientPolicy;
use crate::http::ConnectionMode;
use crate::report::Format;
use crate::strategy::{self, Schedule, Selection};
use crate::task::WorkKind;
use crate::workload::{CpuWork, Verify, Workload};

/// Which concurrency model wins for this workload, and by how much.
///
/// concbench runs every model on exactly the same verified work against a local
/// mock HTTP server, measures wall time, CPU, memory and latency, and holds each
/// run against the physical lower bound.
#[derive(Debug, Parser)]
#[command(name = "concbench", version, propagate_version = true)]
pub struct Cli {
    /// Colour on a terminal: auto (unless NO_COLOR is set), always, or never.
    #[arg(
        long,
        global = true,
        value_name = "WHEN",
        default_value = "auto",
        // After a command's own flags in its help.
        display_order = 900,
        value_parser = clap::builder::PossibleValuesParser::new(crate::colour::When::NAMES)
            .try_map(|s| s.parse::<crate::colour::When>())
    )]
    pub color: crate::colour::When,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run strategies on one workload and print the comparison.
    Run(RunArgs),
    /// Run the comparison over a grid of one or two swept parameters, saving after every cell.
    Sweep(SweepArgs),
    /// Regenerate every chart and a Markdown summary from saved results, without running anything.
    Report(ReportArgs),
    /// The performance gate: a quick fixed suite compared with a baseline on noise-robust
    /// figures. Exits 1 on a confirmed regression, 0 otherwise, 2 on a usage error.
    Check(CheckArgs),
    /// Compare two results files of one plan: per strategy and figure the change and whether it
    /// is beyond noise. Exit 99 when a --fail-if does not hold, 2 for files of different plans.
    Compare(CompareArgs),
    /// Put the shards of a sweep or a run (`--shard K/N`) together into one results file.
    Merge(merge::MergeArgs),
    /// List the strategies and the presets, a line on each.
    List,
    /// Print the JSON schema of the results files (`run --format json`, `sweep`).
    Schema,
    /// Print the completion script of a shell, e.g. `concbench completions bash`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff) of concbench or of one of its commands, e.g.
    /// `concbench man run | man -l -`.
    Man(ManArgs),
    /// Serve the embedded mock server (used internally by `run`).
    #[command(name = "__mock-server", hide = true)]
    MockServer(mock_server::cli::ServerArgs),
    /// Serve as a worker process of a process strategy (used internally).
    #[command(name = "__worker", hide = true)]
    Worker(crate::worker::WorkerArgs),
}

/// Flags of `concbench run`.
#[derive(Debug, Clone, Args)]
// Two fault flags are stricter than `mock-server`'s: the embedded server keeps
// its 10-minute drip cap, and concbench sends no per-request drip that a
// drip rate alone could apply to.
#[command(
    mut_arg("drip", |a| a.value_parser(parse_drip)),
    mut_arg("drip_rate", |a| a.requires("drip"))
)]
pub struct RunArgs {
    /// Run a named experiment from the source articles (see `concbench list`); flags given
    /// explicitly still override it.
    #[arg(long, short = 'p', value_parser = parse_preset)]
    pub preset: Option<String>,
    /// Read flags from a TOML file whose keys are these long flag names, e.g. `tasks = "10k"`;
    /// flags given on the command line override it, and it overrides --preset.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Strategies to compare, comma-separated, or `all` (see `concbench list`).
    #[arg(long, short = 's', default_value = "sequential,thread-per-task,thread-pool,process-pool,async,async-rayon", value_parser = strategy::parse_selection)]
    pub strategies: Selection,
    /// Number of tasks (requests), e.g. 200 or 10k.
    #[arg(long, short = 'n', default_value = "200", value_parser = parse_tasks)]
    pub tasks: usize,
    /// Latency per request: 50ms, uniform:200ms..700ms, normal:50ms,10ms, exp:20ms or lognormal:50ms,0.5.
    #[arg(long, short = 'l', default_value = "10ms", value_parser = parse_latency)]
    pub latency: LatencyDist,
    /// Response body size per request, e.g. 4096, 16KiB, 1MiB.
    #[arg(long, short = 'b', default_value = "16KiB", value_parser = parse_body_bytes)]
    pub bytes: usize,
    /// CPU work per task over its body, as time on this machine (calibrated), e.g. 0, 500us, 5ms.
    #[arg(long, default_value = "1ms", value_parser = parse_cpu, conflicts_with = "cpu_units")]
    pub cpu: Duration,
    /// CPU work per task in raw units of --work (the same on every machine), instead of --cpu.
    #[arg(long, value_parser = parse_units)]
    pub cpu_units: Option<u64>,
    /// What each task does over its body: hash (random bytes through the multiply-rotate
    /// kernel; a unit is one step) or json (the server sends a document of posts; a unit is
    /// one pass that parses it with serde_json and computes the articles' analysis). --cpu
    /// is rounded to whole units, at least one when it is not 0.
    #[arg(long, value_enum, default_value_t = WorkKind::Hash)]
    pub work: WorkKind,
    /// Requests in flight at once (C) for the concurrent strategies; under an open-loop
    /// --arrival, the cap on them (--max-in-flight).
    #[arg(long, short = 'c', visible_alias = "max-in-flight", default_value = "50", value_parser = parse_concurrency)]
    pub concurrency: usize,
    /// Seed of the latencies and payloads: the same seed is the same work.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Drive an already running mock server (e.g. http://127.0.0.1:8080) instead of the
    /// embedded one, or any HTTP server through a URL template with {id}, e.g.
    /// 'http://127.0.0.1:8000/items/{id}.json' (then see --method, --header, --body, --check).
    #[arg(long, value_name = "URL", value_parser = parse_target)]
    pub target: Option<String>,
    #[command(flatten)]
    pub endpoint: endpoint::EndpointArgs,
    #[command(flatten)]
    pub load: arrival::ArrivalArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the output to FILE (atomically) instead of stdout; the table still goes to
    /// stdout. Its extension (.json, .csv, .md) sets the format unless --format is given.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write the results as JSON to FILE (several exports may be given at once).
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,
    /// Also write the results as CSV to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<PathBuf>,
    /// Also write the results as Markdown to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,
    #[command(flatten)]
    pub html: html::HtmlArgs,
    #[command(flatten)]
    pub shards: shard::ShardArgs,
    /// Worker threads or processes of the pool strategies (W); default: one per core.
    #[arg(long, short = 'w', value_parser = parse_workers)]
    pub workers: Option<usize>,
    /// Reuse keep-alive connections, or open a new one per request.
    #[arg(long, value_enum, default_value_t = ConnectionMode::Reuse)]
    pub connection: ConnectionMode,
    /// Open the C connections before the measured window, as wrk does, so the window holds
    /// requests and not connects: async, async-single, async-rayon and async-process-pool
    /// (the other models open theirs as their tasks go). With --connection reuse only.
    #[arg(long)]
    pub preconnect: bool,
    /// How process pools hand out tasks: static chunks (Pool.map) or dynamic batches (imap_unordered).
    #[arg(long, value_enum, default_value_t = Schedule::Dynamic)]
    pub schedule: Schedule,
    /// Tasks per message to a process-pool worker under --schedule dynamic.
    #[arg(long, default_value = "1", value_parser = parse_batch)]
    pub batch: usize,
    /// Measure every strategy R times (in a shuffled order each round) and report medians;
    /// `auto` repeats until the fastest leads the runner-up beyond noise (at least 3 rounds,
    /// at most --repeat-max-rounds, no new round after --repeat-max-time).
    #[arg(long, short = 'r', value_name = "R|auto", default_value = "1", value_parser = parse_repeat_mode)]
    pub repeat: Repeat,
    #[command(flatten)]
    pub repeat_caps: RepeatCaps,
    /// Discarded rounds before the measured ones.
    #[arg(long, default_value = "0", value_parser = parse_warmup)]
    pub warmup: usize,
    /// Which CPU results to recompute and check after each run: all, sample:F (a
    /// deterministic fraction F of the tasks), or auto: all while that costs at most 1 s of
    /// CPU, else a sample worth that much. Every task's single outcome and every body's
    /// length and checksum are always checked.
    #[arg(long, default_value = "auto", value_parser = parse_verify)]
    pub verify: Verify,
    /// Interval of the CPU-utilisation timeline (10ms to 1s).
    #[arg(long, default_value = "20ms", value_parser = parse_interval)]
    pub sample_interval: Duration,
    /// Flags given explicitly on the command line (filled in after parsing; presets yield to them).
    #[arg(skip)]
    pub explicit: Vec<String>,
    /// The command line as given (filled in after parsing; a scenario file is applied by re-parsing it).
    #[arg(skip)]
    pub argv: Vec<std::ffi::OsString>,
    /// Cores the client may use (P of the bound); default: all this process may run on.
    #[arg(long, value_parser = parse_cores)]
    pub cores: Option<usize>,
    /// Give up on a request when the server sends nothing for this long (connecting, the
    /// response head, or more of the body), e.g. 2s.
    #[arg(long, default_value = "30s", value_parser = parse_timeout, help_heading = "Client")]
    pub timeout: Duration,
    /// Retries of a failed request (connect errors, timeouts, cut bodies, 429 and 5xx), with
    /// exponential backoff and jitter, honouring Retry-After.
    #[arg(long, default_value = "0", value_parser = parse_retries, help_heading = "Client")]
    pub retries: u32,
    /// First backoff; retry k waits about backoff × 2^k (half of it jitter), at most --backoff-max.
    #[arg(long, default_value = "50ms", value_parser = parse_backoff, help_heading = "Client")]
    pub backoff: Duration,
    /// Ceiling of one backoff (a Retry-After that asks for more still gets it).
    #[arg(long, default_value = "5s", value_parser = parse_backoff, help_heading = "Client")]
    pub backoff_max: Duration,
    /// Client-side rate limit on requests started (every attempt counts), e.g. 400/s, 2/ms,
    /// 5/100ms; process pools split it between their workers.
    #[arg(long, value_parser = parse_rate, help_heading = "Client")]
    pub rate: Option<f64>,
    /// Stop starting requests this long after each strategy's run began; what is not done
    /// by then fails with cause `deadline`, e.g. 60s.
    #[arg(long, value_parser = parse_deadline, help_heading = "Client")]
    pub deadline: Option<Duration>,
    /// Faults of the embedded mock server, drawn from each request's (seed, task,
    /// attempt) so every strategy meets the same ones: the `mock-server` flags,
    /// handed to the embedded server; with `--target`, give them to that
    /// `mock-server` instead.
    #[command(flatten, next_help_heading = "Server faults")]
    pub faults: FaultArgs,
    #[command(flatten)]
    pub external: external::ExternalArgs,
    /// Replace a process-pool worker by a fresh process after it was sent N tasks, like
    /// Python's Pool(maxtasksperchild=N) (process-pool and process-pool-async).
    #[arg(long, value_name = "N", value_parser = parse_max_tasks_per_child)]
    pub max_tasks_per_child: Option<usize>,
    /// Test-only: the parent panics after this many outcomes of a process
    /// pool (proves that no worker outlives a panicking parent).
    #[arg(long, hide = true)]
    pub test_panic_after: Option<usize>,
    /// Test-only: the fetch of this task panics, in every strategy (proves a
    /// panicking task is one failed outcome with its own id).
    #[arg(long, hide = true)]
    pub test_panic_task: Option<u64>,
    #[command(flatten)]
    pub gate: GateArgs,
}

impl RunArgs {
    /// The client policy these flags describe.
    pub fn policy(&self) -> ClientPolicy {
        ClientPolicy {
            timeout_ms: self.timeout.as_millis() as u64,
            retries: self.retries,
            backoff_ms: self.backoff.as_millis() as u64,
            backoff_max_ms: self.backoff_max.as_millis() as u64,
            rate_per_s: self.rate,
            deadline_ms: self.deadline.map(|d| d.as_millis() as u64),
        }
    }

    /// Whether `id` (a field name) was given on the command line rather than defaulted.
    pub fn given(&self, id: &str) -> bool {
        self.explicit.iter().any(|e| e == id)
    }

    /// The workload these flags describe, without a preset.
    pub fn workload(&self) -> Workload {
        Workload {
            tasks: self.tasks,
            latency: self.latency,
            bytes: self.bytes,
            cpu: match self.cpu_units {
                Some(u) => CpuWork::Units(u),
                None => CpuWork::Time(self.cpu),
            },
            concurrency: self.concurrency,
            seed: self.seed,
            work: self.work,
            arrival: self.load.arrival,
        }
    }
}

/// Flags of `concbench sweep`: those of `run`, plus the swept parameters.
#[derive(Debug, Clone, Args)]
pub struct SweepArgs {
    /// A parameter and its values, e.g. concurrency=1,10,100,1000 or latency=1ms,10ms,100ms;
    /// values with commas of their own are separated by ';' instead, e.g.
    /// 'latency=normal:50ms,10ms;normal:50ms,20ms'. Give two for a crossover map.
    /// Sweepable: concurrency, tasks, latency, bytes, cpu, workers, batch, connection, work, arrival.
    #[arg(long = "param", value_name = "NAME=V1,V2,...", value_parser = crate::bench::sweep::parse_param)]
    pub params: Vec<crate::bench::sweep::SweepParam>,
    /// A latency objective, e.g. p99<50ms: with --param arrival=rate:100/s,rate:200/s,...
    /// the highest offered rate each model sustains under it (every task verified and
    /// that quantile of the latency from when tasks were due below the limit).
    #[arg(long, value_name = "pQ<DUR", value_parser = parse_slo)]
    pub slo: Option<crate::report::slo::Slo>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Flags of `concbench report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// A results file written by `run --format json --out` or by `sweep`.
    pub results: PathBuf,
    /// Directory for the charts (SVG and PNG) and summary.md; created if missing
    /// [default: report, unless --html alone is given].
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write one self-contained HTML report to FILE (charts inline, no network), written
    /// atomically; alone, instead of the charts directory, with --out as well as it.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Flags of `concbench completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to print the script of.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The commands `concbench man` has a page of (every one users see).
pub const MAN_PAGES: [&str; 10] = [
    "run",
    "sweep",
    "report",
    "check",
    "compare",
    "merge",
    "list",
    "schema",
    "completions",
    "man",
];

/// Flags of `concbench man`.
#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// The command whose page to print; without it, concbench's own page.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(MAN_PAGES))]
    pub command: Option<String>,
}

/// Flags of `concbench check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The baseline to compare with.
    #[arg(long, default_value = "reports/baseline.json")]
    pub baseline: PathBuf,
    /// Measure and write a new baseline instead of comparing.
    #[arg(long)]
    pub update_baseline: bool,
    /// Rounds per scenario; every figure is the median.
    #[arg(long, short = 'r', default_value = "3", value_parser = parse_repeat)]
    pub repeat: usize,
    /// Drive an already running mock server instead of the embedded one.
    #[arg(long, value_name = "URL", value_parser = parse_target)]
    pub target: Option<String>,
    /// Scale the suite's task counts (tests use a small suite).
    #[arg(long, default_value_t = 1.0, hide = true)]
    pub scale: f64,
}

/// Parses the process's arguments, remembering which flags were given
/// explicitly (a preset yields to them).
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

/// [`parse()`] over the given arguments.
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    let argv: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let matches = Cli::command().try_get_matches_from(argv.clone())?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    let explicit = |sub: &clap::ArgMatches| -> Vec<String> {
        sub.ids()
            .filter(|id| {
                sub.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine)
            })
            .map(|id| id.as_str().to_string())
            .collect()
    };
    match (&mut cli.command, matches.subcommand()) {
        (Command::Run(args), Some((_, sub))) => (args.explicit, args.argv) = (explicit(sub), argv),
        (Command::Sweep(args), Some((_, sub))) => {
            (args.run.explicit, args.run.argv) = (explicit(sub), argv)
        }
        _ => {}
    }
    Ok(cli)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_flags_accept_human_units() {
        let cli = Cli::try_parse_from([
            "concbench",
            "run",
            "-s",
            "all",
            "-n",
            "10k",
            "-l",
            "uniform:200ms..700ms",
            "-b",
            "4KiB",
            "--cpu",
            "5ms",
            "-c",
            "1k",
        ])
        .unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        let w = args.workload();
        assert_eq!((w.tasks, w.bytes, w.concurrency), (10_000, 4096, 1000));
        assert_eq!(w.cpu, CpuWork::Time(Duration::from_millis(5)));
    }

    #[test]
    fn explicit_flags_are_told_from_defaults() {
        let cli = parse_from(["concbench", "run", "--preset", "api-pull", "-n", "7"]).unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        assert!(args.given("tasks") && args.given("preset"));
        assert!(!args.given("latency") && !args.given("strategies"));
    }

    #[test]
    fn fault_flags_are_the_mock_servers_with_the_embedded_servers_drip_rules() {
        let run = |args: &[&str]| -> Result<Vec<String>, clap::Error> {
            let argv = ["concbench", "run"].iter().chain(args).copied();
            match Cli::try_parse_from(argv)?.command {
                Command::Run(run) => Ok(run.faults.server_args()),
                _ => panic!("not run"),
            }
        };
        assert_eq!(
            run(&["--stall-max", "1s", "--drip", "10min"]).unwrap(),
            ["--stall-max", "1000000us", "--drip", "600000000us"]
        );
        let too_long = run(&["--drip", "11min"]).unwrap_err().to_string();
        assert!(too_long.contains("at most 10min"), "{too_long}");
        let alone = run(&["--drip-rate", "0.5"]).unwrap_err().to_string();
        assert!(alone.contains("--drip <DUR>"), "{alone}");
    }

    #[test]
    fn targets_must_be_base_http_urls() {
        assert_eq!(
            parse_target("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(parse_target("127.0.0.1:8080").is_err());
        assert!(parse_target("http://127.0.0.1:8080/work").is_err());
    }
}
