//! Runs strategies over one plan and turns what they did into a [`RunReport`].
//!
//! For each strategy: reset the server's lateness window, read its stats and
//! the machine's noise counters, measure the strategy's run with the CPU
//! timeline sampler going, read everything again, verify every outcome
//! against the plan, and compute the row (bound, efficiency, CPU with the
//! server and the sampler excluded, latency percentiles, sanity checks).
//! Strategies run one after another on the same plan, so each meets exactly
//! the same latencies and payloads. With `--repeat R` every strategy runs R
//! times (after `--warmup W` discarded rounds), in a freshly shuffled order
//! each round so drift spreads over all of them, and the row holds medians.

pub mod check;
pub mod sweep;

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use hdrhistogram::Histogram;
use mock_server::rng::SplitMix64;

use crate::http::ClientPolicy;
use crate::http::ConnectionMode;
use crate::measure::machine::{MachineContext, Noise, SystemSnapshot};
use crate::measure::measure;
use crate::measure::sampler::{Sampler, DEFAULT_INTERVAL};
use crate::measure::server::ServerControl;
use crate::report::stats as summary;
use crate::report::{
    Checks, Meta, Percentiles, RunReport, ServerSide, Status, StrategyResult, WorkloadMeta,
    SCHEMA_VERSION,
};
use crate::strategy::{RunContext, Schedule, StrategyKind};
use crate::task::kernel;
use crate::task::{TaskError, TaskOutcome};
use crate::workload::TaskPlan;
use crate::workload::Workload;

/// Efficiency above this means the bound or the clock is wrong.
pub const EFFICIENCY_LIMIT: f64 = 1.02;

/// Where the run sends its requests.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL of a concbench mock server.
    pub url: String,
    /// How the server runs, for the report: `embedded`, `external` or `in-process`.
    pub label: String,
}

/// The edges of a strategy's measured window, for observers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Right before the measured closure starts.
    Start(StrategyKind),
    /// Right after it ends.
    End(StrategyKind),
}

/// Called at the edges of every measured window (tests use it to take an
/// independent reading of the process's CPU).
pub type Observer = Arc<dyn Fn(Window) + Send + Sync>;

/// Options that shape a run but not its work.
#[derive(Clone, Default)]
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
    /// Measured rounds per strategy; 0 is 1.
    pub repeat: usize,
    /// Discarded rounds before them.
    pub warmup: usize,
    /// Interval of the CPU timeline; `None` is [`DEFAULT_INTERVAL`].
    pub sample_interval: Option<Duration>,
    /// Print a line per strategy on stderr.
    pub progress: bool,
    pub observer: Option<Observer>,
    /// Name of the preset being run, for the report; `None` is `custom`.
    pub scenario: Option<String>,
    /// Timeout, retries, rate limit and deadline of every request.
    pub policy: ClientPolicy,
    /// The embedded server's fault flags, for the report (empty: none).
    pub server_faults: String,
    /// Test-only: see [`RunContext::test_panic_after`].
    pub test_panic_after: Option<usize>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("cores", &self.cores)
            .field("workers", &self.workers)
            .field("connection", &self.connection)
            .field("schedule", &self.schedule)
            .field("batch", &self.batch)
            .field("repeat", &self.repeat)
            .field("warmup", &self.warmup)
            .finish_non_exhaustive()
    }
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
        policy: options.policy,
        test_panic_after: options.test_panic_after,
        ..RunContext::new(
            target.url.trim_end_matches('/'),
            workload.concurrency,
            cores,
        )
    };
    let repeat = options.repeat.max(1);
    let interval = options.sample_interval.unwrap_or(DEFAULT_INTERVAL);
    let cpu_units_per_task = plan.specs.first().map(|s| s.cpu_units).unwrap_or(0);
    let meta = Meta {
        schema_version: SCHEMA_VERSION,
        concbench_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at_unix_s,
        scenario: options.scenario.clone().unwrap_or_else(|| "custom".into()),
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
        repeat,
        warmup: options.warmup,
        sample_interval_s: interval.as_secs_f64(),
        client: options.policy,
        server_faults: options.server_faults.clone(),
        interrupted: false,
        machine: MachineContext::read(),
    };
    let show = options.progress && std::io::stderr().is_terminal();
    let rounds_total = options.warmup + repeat;
    let mut rounds: Vec<Vec<StrategyResult>> = vec![Vec::new(); kinds.len()];
    let mut interrupted = false;
    for round in 0..rounds_total {
        let mut order: Vec<usize> = (0..kinds.len()).collect();
        if rounds_total > 1 {
            shuffle(
                &mut order,
                workload.seed ^ (round as u64).wrapping_mul(0x9E37_79B9),
            );
        }
        let warm = round < options.warmup;
        let mut this_round: Vec<(usize, StrategyResult)> = Vec::with_capacity(kinds.len());
        for (step, &k) in order.iter().enumerate() {
            let kind = kinds[k];
            if show {
                let label = if warm {
                    format!("warm-up {}/{}", round + 1, options.warmup)
                } else {
                    format!("round {}/{}", round - options.warmup + 1, repeat)
                };
                eprint!("[{label}, {}/{}] {kind} ...", step + 1, kinds.len());
            }
            let row = run_one(
                kind,
                &plan,
                &ctx,
                &control,
                server_pid,
                interval,
                options.observer.as_ref(),
            )?;
            if crate::interrupt::requested() {
                // Its tasks were cut short: its figures would mislead. The
                // rounds already finished are kept.
                if show {
                    eprintln!(" interrupted");
                }
                interrupted = true;
                break;
            }
            if show {
                eprintln!(" {:.2}s, efficiency {:.2}", row.wall_s, row.efficiency);
            }
            this_round.push((k, row));
        }
        // Speed-up against the sequential run of the same round.
        let seq_wall = this_round
            .iter()
            .find(|(_, r)| r.strategy == StrategyKind::Sequential.name() && r.tasks_failed == 0)
            .map(|(_, r)| r.wall_s);
        for (k, mut row) in this_round {
            row.speedup_vs_sequential = seq_wall.map(|s| s / row.wall_s);
            if !warm {
                rounds[k].push(row);
            }
        }
        if interrupted {
            break;
        }
    }
    let results = rounds
        .into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| summary::combine(r, workload.seed))
        .collect();
    Ok(RunReport {
        meta: Meta {
            interrupted,
            ..meta
        },
        results,
    })
}

/// Fisher–Yates with the project's own generator (the order must be reproducible).
fn shuffle(v: &mut [usize], seed: u64) {
    let mut rng = SplitMix64::new(seed);
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

#[allow(clippy::too_many_arguments)]
fn run_one(
    kind: StrategyKind,
    plan: &TaskPlan,
    ctx: &RunContext,
    control: &ServerControl,
    server_pid: u32,
    interval: Duration,
    observer: Option<&Observer>,
) -> anyhow::Result<StrategyResult> {
    let strategy = kind.create();
    let in_flight = strategy.in_flight_limit(ctx).max(1);
    let bound = plan.bound(in_flight, ctx.cores);
    control.reset().context("resetting the server's stats")?;
    let (before, faults_before) = control
        .stats_with_faults()
        .context("reading the server's stats")?;
    let sys_before = SystemSnapshot::read();
    if let Some(o) = observer {
        o(Window::Start(kind));
    }
    let ((run, sampled), measured) = measure(|| {
        let sampler = Sampler::start(interval, Some(server_pid));
        let run = strategy.run(plan, ctx);
        (run, sampler.stop())
    });
    if let Some(o) = observer {
        o(Window::End(kind));
    }
    let sys_after = SystemSnapshot::read();
    let run = run.with_context(|| format!("strategy {kind} could not run"))?;
    let (after, faults_after) = control
        .stats_with_faults()
        .context("reading the server's stats")?;
    let verification = plan.verify(&run.outcomes);
    let wall_s = measured.wall_s;

    let server_user = (after.cpu_user_s - before.cpu_user_s).max(0.0);
    let server_sys = (after.cpu_sys_s - before.cpu_sys_s).max(0.0);
    // A server in this very process (tests, library users) is not the client;
    // neither is the sampler.
    let in_process = after.pid == std::process::id();
    let (sub_user, sub_sys) = if in_process {
        (server_user, server_sys)
    } else {
        (0.0, 0.0)
    };
    let cpu_user_s = (measured.usage.cpu_user_s - sub_user - sampled.sampler_cpu_user_s).max(0.0)
        + run.children.cpu_user_s;
    let cpu_sys_s = (measured.usage.cpu_sys_s - sub_sys - sampled.sampler_cpu_sys_s).max(0.0)
        + run.children.cpu_sys_s;
    let lateness = after.lateness_us;
    let latency_s = percentiles(&run.outcomes);
    let efficiency = bound.ideal_s / wall_s;
    let throughput_per_s = verification.tasks_ok as f64 / wall_s;

    let requests_sent: u64 = run
        .outcomes
        .iter()
        .map(|o| o.attempts.saturating_sub(o.unreached) as u64)
        .sum();
    let requests_received = faults_after.requests.saturating_sub(faults_before.requests);
    let served = after.served.saturating_sub(before.served);
    // A server that counts what it receives is held to every request the
    // client sent (faults and retries included); an older one to the whole
    // 200 answers the client saw.
    let counts_received = faults_after.requests > 0;
    let (requests_answered, requests_served) = if counts_received {
        (requests_sent, requests_received)
    } else {
        let answered = run
            .outcomes
            .iter()
            .filter(|o| matches!(o.result, Ok(_) | Err(TaskError::Body(_))))
            .count() as u64;
        (answered, served)
    };
    let d = |a: u64, b: u64| a.saturating_sub(b);
    let (fa, fb) = (faults_after.faults, faults_before.faults);
    let server_faults: std::collections::BTreeMap<String, u64> = [
        ("error", d(fa.error, fb.error)),
        ("reset", d(fa.reset, fb.reset)),
        ("stall", d(fa.stall, fb.stall)),
        ("drip", d(fa.drip, fb.drip)),
        ("rate_limited", d(fa.rate_limited, fb.rate_limited)),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(k, n)| (k.to_string(), n))
    .collect();
    let answered_latency_s: f64 = run
        .outcomes
        .iter()
        .filter(|o| o.result.is_ok())
        .map(|o| o.latency_us as f64 / 1e6)
        .sum();
    let server_busy_s = (after.busy_s - before.busy_s).max(0.0);
    let noise = Noise::between(&sys_before, &sys_after, wall_s);
    let mut checks = Checks {
        bound_ok: efficiency <= EFFICIENCY_LIMIT,
        requests_answered,
        requests_served,
        requests_match: requests_answered == requests_served,
        client_in_flight_mean: answered_latency_s / wall_s,
        server_in_flight_mean: server_busy_s / wall_s,
        flags: Vec::new(),
    };
    if !checks.bound_ok {
        checks.flags.push("bound_violated".into());
    }
    if !checks.requests_match {
        checks.flags.push("requests_mismatch".into());
    }
    // The server cannot hold a request longer than the client waits for it.
    if checks.server_in_flight_mean > checks.client_in_flight_mean * 1.05 + 0.05 {
        checks.flags.push("server_busier_than_client".into());
    }
    if noise.noisy {
        checks.flags.push("noisy_machine".into());
    }

    Ok(StrategyResult {
        strategy: kind.name().to_string(),
        status: if verification.tasks_failed == 0 {
            Status::Ok
        } else {
            Status::Failed
        },
        tasks: plan.specs.len(),
        tasks_ok: verification.tasks_ok,
        tasks_failed: verification.tasks_failed,
        failures: verification.failures,
        requests_sent,
        retries: run
            .outcomes
            .iter()
            .map(|o| o.attempts.saturating_sub(1) as u64)
            .sum(),
        tasks_retried: run.outcomes.iter().filter(|o| o.attempts > 1).count() as u64,
        first_failure: verification.first_failure,
        in_flight_limit: in_flight,
        threads_started: run.threads_started,
        processes_started: run.children.processes,
        wall_s,
        ideal_s: bound.ideal_s,
        bound_io_s: bound.io_s,
        bound_cpu_s: bound.cpu_s,
        bound_longest_task_s: bound.longest_task_s,
        efficiency,
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
        throughput_per_s,
        latency_s,
        phases: crate::report::phases::summarise(&run.outcomes),
        server: ServerSide {
            served,
            requests: requests_received,
            faults: server_faults,
            cpu_user_s: server_user,
            cpu_sys_s: server_sys,
            max_in_flight: after.max_in_flight,
            lateness_p50_s: lateness.p50 as f64 / 1e6,
            lateness_p99_s: lateness.p99 as f64 / 1e6,
            lateness_max_s: lateness.max as f64 / 1e6,
        },
        checks,
        noise,
        sampler_cpu_s: sampled.sampler_cpu_user_s + sampled.sampler_cpu_sys_s,
        timeline: sampled.timeline,
        rounds: 1,
        stats: Default::default(),
        repeats: Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffles_are_reproducible_permutations() {
        let mut a: Vec<usize> = (0..11).collect();
        let mut b = a.clone();
        shuffle(&mut a, 5);
        shuffle(&mut b, 5);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..11).collect::<Vec<_>>());
        let mut c: Vec<usize> = (0..11).collect();
        shuffle(&mut c, 6);
        assert_ne!(a, c);
    }
}
