//! Runs strategies over one plan and turns what they did into a [`RunReport`].
//!
//! For each strategy: reset the server's lateness window, read its stats,
//! measure the strategy's run, read the stats again, verify every outcome
//! against the plan, and compute the row (bound, efficiency, CPU with the
//! server excluded, latency percentiles). Strategies run one after another on
//! the same plan, so each meets exactly the same latencies and payloads.

use std::io::IsTerminal;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use hdrhistogram::Histogram;

use crate::kernel;
use crate::measure::measure;
use crate::plan::TaskPlan;
use crate::report::{
    Meta, Percentiles, RunReport, ServerSide, StrategyResult, WorkloadMeta, SCHEMA_VERSION,
};
use crate::server::ServerControl;
use crate::strategy::{ConnectionMode, RunContext, Schedule, StrategyKind};
use crate::task::TaskOutcome;
use crate::workload::Workload;

/// Where the run sends its requests.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL of a concbench mock server.
    pub url: String,
    /// How the server runs, for the report: `embedded`, `external` or `in-process`.
    pub label: String,
}

/// Options that shape a run but not its work.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Cores the client may use; `None` is every core this process may run on.
    pub cores: Option<usize>,
    /// Workers of the pool strategies; `None` is each strategy's default.
    pub workers: Option<usize>,
    pub connection: ConnectionMode,
    pub schedule: Schedule,
    /// Tasks per message to a process-pool worker (dynamic schedule); 0 is 1.
    pub batch: usize,
    /// Executable for worker processes; `None` is `CONCBENCH_EXE` or this executable.
    pub worker_exe: Option<std::path::PathBuf>,
    /// Print a line per strategy on stderr.
    pub progress: bool,
}

/// Cores this process may run on.
pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Runs `kinds` over `workload` against `target`.
pub fn run_workload(
    workload: &Workload,
    kinds: &[StrategyKind],
    target: &Target,
    options: &RunOptions,
) -> anyhow::Result<RunReport> {
    workload.validate()?;
    let control = ServerControl::new(&target.url);
    control.check("--target")?;
    let server_pid = control.stats().context("reading the server's stats")?.pid;
    let started_at_unix_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let units_per_us = kernel::calibrate(Duration::from_millis(20));
    let plan = TaskPlan::build(workload, units_per_us);
    let cores = options.cores.unwrap_or_else(available_cores).max(1);
    let ctx = RunContext {
        workers: options.workers,
        connection: options.connection,
        schedule: options.schedule,
        batch: options.batch.max(1),
        worker_exe: options.worker_exe.clone(),
        ..RunContext::new(
            target.url.trim_end_matches('/'),
            workload.concurrency,
            cores,
        )
    };
    let cpu_units_per_task = plan.specs.first().map(|s| s.cpu_units).unwrap_or(0);
    let meta = Meta {
        schema_version: SCHEMA_VERSION,
        concbench_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at_unix_s,
        workload: WorkloadMeta {
            tasks: workload.tasks,
            latency: workload.latency.to_string(),
            latency_total_s: plan.total_latency_s(),
            bytes: workload.bytes,
            cpu_units_per_task,
            cpu_per_task_s: cpu_units_per_task as f64 / units_per_us / 1e6,
            concurrency: workload.concurrency,
            seed: workload.seed,
        },
        cores,
        cpu_units_per_us: units_per_us,
        target: ctx.base_url.clone(),
        server: target.label.clone(),
        server_pid,
        workers: ctx.workers,
        connection: format!("{:?}", ctx.connection).to_lowercase(),
        schedule: format!("{:?}", ctx.schedule).to_lowercase(),
        batch: ctx.batch,
    };
    let mut results = Vec::with_capacity(kinds.len());
    let show = options.progress && std::io::stderr().is_terminal();
    for (i, kind) in kinds.iter().enumerate() {
        if show {
            eprint!("[{}/{}] {kind} ...", i + 1, kinds.len());
        }
        let row = run_one(*kind, &plan, &ctx, &control)?;
        if show {
            eprintln!(" {:.2}s, efficiency {:.2}", row.wall_s, row.efficiency);
        }
        results.push(row);
    }
    let sequential_wall = results
        .iter()
        .find(|r| r.strategy == StrategyKind::Sequential.name() && r.tasks_failed == 0)
        .map(|r| r.wall_s);
    for r in &mut results {
        r.speedup_vs_sequential = sequential_wall.map(|s| s / r.wall_s);
    }
    Ok(RunReport { meta, results })
}

fn run_one(
    kind: StrategyKind,
    plan: &TaskPlan,
    ctx: &RunContext,
    control: &ServerControl,
) -> anyhow::Result<StrategyResult> {
    let strategy = kind.create();
    let in_flight = strategy.in_flight_limit(ctx).max(1);
    let bound = plan.bound(in_flight, ctx.cores);
    control.reset().context("resetting the server's stats")?;
    let before = control.stats().context("reading the server's stats")?;
    let (run, measured) = measure(|| strategy.run(plan, ctx));
    let run = run.with_context(|| format!("strategy {kind} could not run"))?;
    let after = control.stats().context("reading the server's stats")?;
    let verification = plan.verify(&run.outcomes);

    let server_user = (after.cpu_user_s - before.cpu_user_s).max(0.0);
    let server_sys = (after.cpu_sys_s - before.cpu_sys_s).max(0.0);
    // A server in this very process (tests, library users) is not the client.
    let in_process = after.pid == std::process::id();
    let (sub_user, sub_sys) = if in_process {
        (server_user, server_sys)
    } else {
        (0.0, 0.0)
    };
    let cpu_user_s = (measured.usage.cpu_user_s - sub_user).max(0.0) + run.children.cpu_user_s;
    let cpu_sys_s = (measured.usage.cpu_sys_s - sub_sys).max(0.0) + run.children.cpu_sys_s;
    let wall_s = measured.wall_s;
    let lateness = after.lateness_us;

    Ok(StrategyResult {
        strategy: kind.name().to_string(),
        status: if verification.tasks_failed == 0 {
            "ok"
        } else {
            "failed"
        }
        .to_string(),
        tasks: plan.specs.len(),
        tasks_ok: verification.tasks_ok,
        tasks_failed: verification.tasks_failed,
        failures: verification.failures,
        first_failure: verification.first_failure,
        in_flight_limit: in_flight,
        threads_started: run.threads_started,
        processes_started: run.children.processes,
        wall_s,
        ideal_s: bound.ideal_s,
        bound_io_s: bound.io_s,
        bound_cpu_s: bound.cpu_s,
        bound_longest_task_s: bound.longest_task_s,
        efficiency: bound.ideal_s / wall_s,
        speedup_vs_sequential: None,
        cpu_user_s,
        cpu_sys_s,
        cpu_utilisation: (cpu_user_s + cpu_sys_s) / wall_s,
        peak_rss_bytes: measured.peak_rss_bytes + run.children.peak_rss_bytes,
        peak_rss_per_run: measured.peak_rss_is_per_run,
        ctx_switches_voluntary: measured.usage.ctx_switches_voluntary
            + run.children.ctx_switches_voluntary,
        ctx_switches_involuntary: measured.usage.ctx_switches_involuntary
            + run.children.ctx_switches_involuntary,
        throughput_per_s: verification.tasks_ok as f64 / wall_s,
        latency_s: percentiles(&run.outcomes),
        phases: crate::phases::summarise(&run.outcomes),
        server: ServerSide {
            served: after.served.saturating_sub(before.served),
            cpu_user_s: server_user,
            cpu_sys_s: server_sys,
            max_in_flight: after.max_in_flight,
            lateness_p50_s: lateness.p50 as f64 / 1e6,
            lateness_p99_s: lateness.p99 as f64 / 1e6,
            lateness_max_s: lateness.max as f64 / 1e6,
        },
    })
}

/// Client-side latency percentiles of the requests that got an answer.
fn percentiles(outcomes: &[TaskOutcome]) -> Percentiles {
    let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds");
    for o in outcomes.iter().filter(|o| o.result.is_ok()) {
        h.saturating_record(o.latency_us.max(1));
    }
    if h.is_empty() {
        return Percentiles::default();
    }
    let s = |us: u64| us as f64 / 1e6;
    Percentiles {
        p50: s(h.value_at_quantile(0.5)),
        p90: s(h.value_at_quantile(0.9)),
        p99: s(h.value_at_quantile(0.99)),
        max: s(h.max()),
        mean: h.mean() / 1e6,
    }
}
