//! What each subcommand does, one file each (`run`, `sweep`, `report`,
//! `list`, `check`, `merge`), between the parsed flags and the library: presets
//! applied, the embedded server started, results written atomically, exit
//! codes decided. The only layer that prints.

mod check;
mod compare;
mod gate;
mod list;
mod merge;
mod progress;
mod report;
mod run;
mod shell;
mod sweep;
pub mod user;

use std::process::ExitCode;

pub use check::check;
pub use compare::compare;
pub use list::list;
pub use merge::merge;
pub use report::{report, write_html, write_report};
pub use run::run;
pub use shell::{completions, man};
pub use sweep::sweep;

use crate::bench::sweep::{self as sweeps, SweepParam};
use crate::bench::{RunOptions, Target};
use crate::cli::presets;
use crate::cli::RunArgs;
use crate::error::{exit, Interrupted, UsageError};
use crate::measure::server::EmbeddedServer;
use crate::report::RunReport;
use crate::strategy::{StrategyKind, StrategyOptions};
use crate::workload::{CpuWork, Workload};

/// A run as the flags and the preset together describe it.
pub(super) struct Resolved {
    pub(super) workload: Workload,
    pub(super) kinds: Vec<StrategyKind>,
    pub(super) scenario: String,
    /// The preset's own sweep, if it has one.
    pub(super) preset_sweep: Option<SweepParam>,
    /// The user's endpoint, when `--target` is a template with `{id}`.
    pub(super) endpoint: Option<std::sync::Arc<crate::http::Endpoint>>,
}

pub(super) fn resolve(args: &RunArgs) -> anyhow::Result<Resolved> {
    if args.repeat != crate::cli::Repeat::Auto {
        for (id, flag) in [
            ("repeat_max_rounds", "--repeat-max-rounds"),
            ("repeat_max_time", "--repeat-max-time"),
        ] {
            if args.given(id) {
                return Err(UsageError::new(
                    flag,
                    "caps --repeat auto only: add --repeat auto, or drop it",
                )
                .into());
            }
        }
    }
    let mut workload = args.workload();
    let mut kinds = args.strategies.0.clone();
    // A scenario file without a preset names the run after itself.
    let mut scenario = match &args.scenario {
        Some(file) => file
            .file_stem()
            .map_or("custom".into(), |s| s.to_string_lossy().into_owned()),
        None => "custom".to_string(),
    };
    let mut preset_sweep = None;
    if let Some(name) = &args.preset {
        let p = presets::find(name).map_err(|e| UsageError::new("--preset", e))?;
        let w = &p.workload;
        if !args.given("tasks") {
            workload.tasks = w.tasks;
        }
        if !args.given("latency") {
            workload.latency = w.latency;
        }
        if !args.given("bytes") {
            workload.bytes = w.bytes;
        }
        if !args.given("cpu") && !args.given("cpu_units") {
            workload.cpu = w.cpu;
        }
        if !args.given("concurrency") {
            workload.concurrency = w.concurrency;
        }
        if !args.given("seed") {
            workload.seed = w.seed;
        }
        if !args.given("work") {
            workload.work = w.work;
        }
        if !args.given("strategies") {
            kinds = p.strategies.to_vec();
        }
        if let Some((name, values)) = p.sweep {
            preset_sweep =
                Some(sweeps::parse_param(&format!("{name}={values}")).map_err(anyhow::Error::msg)?);
        }
        scenario = p.name.to_string();
    }
    if matches!(workload.cpu, CpuWork::Time(_)) && args.cpu_units.is_some() {
        workload.cpu = CpuWork::Units(args.cpu_units.unwrap_or(0));
    }
    if let Some(n) = args
        .load
        .tasks()
        .map_err(|e| UsageError::new("--duration", e))?
    {
        workload.tasks = n;
    }
    workload.validate()?;
    let endpoint = args
        .endpoint
        .endpoint(args.target.as_deref(), |id| args.given(id))?;
    args.external
        .models()
        .map_err(|e| UsageError::new("--external", e))?;
    if args.preconnect && args.connection == crate::http::ConnectionMode::New {
        return Err(UsageError::new(
            "--preconnect",
            "opens keep-alive connections, but --connection new opens one per request: drop one of the two",
        )
        .into());
    }
    Ok(Resolved {
        workload,
        kinds,
        scenario,
        preset_sweep,
        endpoint,
    })
}

pub(super) fn options(args: &RunArgs, resolved: &Resolved) -> RunOptions {
    let scenario = resolved.scenario.as_str();
    RunOptions {
        cores: args.cores,
        strategy: StrategyOptions {
            workers: args.workers,
            connection: args.connection,
            preconnect: args.preconnect,
            schedule: args.schedule,
            batch: args.batch,
            worker_exe: None,
            policy: args.policy(),
            max_tasks_per_child: args.max_tasks_per_child,
            test_panic_after: args.test_panic_after,
            test_panic_task: args.test_panic_task,
            endpoint: resolved.endpoint.clone(),
            user: None,
        },
        repeat: args.repeat.max_rounds(&args.repeat_caps),
        repeat_auto: match args.repeat {
            crate::cli::Repeat::Auto => Some(args.repeat_caps.auto()),
            crate::cli::Repeat::Rounds(_) => None,
        },
        warmup: args.warmup,
        sample_interval: Some(args.sample_interval),
        on_step: None,
        observer: None,
        scenario: Some(scenario.to_string()),
        server_faults: args.faults.server_args().join(" "),
        verify: args.verify,
        externals: args.external.externals.clone(),
        shard: args.shards.shard,
        start_at_unix_s: args.shards.start_at,
        start_every_s: args.shards.start_every.map(|d| d.as_secs_f64()),
    }
}

/// The server a command drives: `--target`, or the embedded one (kept alive by the guard).
pub(super) fn target(args: &RunArgs) -> anyhow::Result<(Option<EmbeddedServer>, Target)> {
    mock_server::raise_fd_limit();
    let fault_args = args.faults.server_args();
    if args.target.is_some() && !fault_args.is_empty() {
        return Err(UsageError::new(
            fault_args[0].clone(),
            "server faults configure the embedded server; with --target, give them to that \
             mock-server (e.g. mock-server --error-rate 0.1)",
        )
        .into());
    }
    Ok(match &args.target {
        Some(url) => (
            None,
            Target {
                url: url.clone(),
                label: if url.contains(crate::http::endpoint::ID) {
                    "endpoint".into()
                } else {
                    "external".into()
                },
            },
        ),
        None => {
            let server = EmbeddedServer::start(&fault_args).map_err(|e| {
                if crate::interrupt::requested() {
                    Interrupted::new("starting the embedded mock server").into()
                } else {
                    e
                }
            })?;
            if crate::interrupt::requested() {
                return Err(Interrupted::new("starting the embedded mock server").into());
            }
            let target = Target {
                url: server.url().to_string(),
                label: "embedded".into(),
            };
            (Some(server), target)
        }
    })
}

/// Warns when C connections cannot all be open at once in one process
/// (the soft limit was just raised to the hard one).
pub(super) fn warn_if_too_few_files(concurrency: usize) {
    let limit = crate::sys::process::open_files_limit();
    if limit > 0 && concurrency as u64 + 64 > limit {
        eprintln!(
            "{} --concurrency {concurrency} needs about {concurrency} open files in one \
             process, more than the {limit} this process may open: expect failures with cause \
             files_exhausted; lower --concurrency or raise the hard limit (ulimit -Hn)",
            crate::colour::warning_prefix()
        );
    }
}

/// Exit code for finished reports: 1 (with a line per failure) if any task failed anywhere.
pub(super) fn verdict(reports: &[RunReport]) -> ExitCode {
    let mut failed = false;
    for r in reports
        .iter()
        .flat_map(|rep| &rep.results)
        .filter(|r| r.tasks_failed > 0)
    {
        failed = true;
        let causes: Vec<String> = r
            .failures
            .iter()
            .map(|(c, n)| format!("{c}: {n}"))
            .collect();
        eprintln!(
            "{} {}: {} of {} tasks failed ({}); first: {}",
            crate::colour::error_prefix(),
            r.strategy,
            r.tasks_failed,
            r.tasks,
            causes.join(", "),
            r.first_failure.as_deref().unwrap_or("?")
        );
    }
    if failed {
        ExitCode::from(exit::FAILED)
    } else {
        ExitCode::SUCCESS
    }
}
