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
//! With `--repeat auto` ([`AutoRepeat`]) rounds go on until the verdict's top
//! is decided ([`Verdict::decided`]) or a cap of rounds or time is reached,
//! and the report's meta says which.
//!
//! [`Verdict::decided`]: crate::report::Verdict::decided

pub mod check;
mod execute;
mod row;
pub mod shard;
pub mod sweep;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use mock_server::rng::SplitMix64;

use crate::error::Interrupted;
use crate::measure::machine::MachineContext;
use crate::measure::sampler::DEFAULT_INTERVAL;
use crate::measure::server::ServerControl;
use crate::report::stats as summary;
use crate::report::{
    verdict, Meta, RepeatAuto, RepeatStop, RunReport, StrategyResult, WorkloadMeta, SCHEMA_VERSION,
};
use crate::strategy::external::ExternalModel;
use crate::strategy::{Contender, RunContext, StrategyKind, StrategyOptions};
use crate::workload::{Shard, TaskPlan, Verify, Workload};

pub use crate::report::EFFICIENCY_LIMIT;

/// Where the run sends its requests.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL of a concbench mock server.
    pub url: String,
    /// How the server runs, for the report: `embedded`, `external` or `in-process`.
    pub label: String,
}

/// The edges of a strategy's measured window, for observers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    /// Right before the measured closure starts.
    Start(Contender),
    /// Right after it ends.
    End(Contender),
}

/// Where a run is, for a progress display (drawn by the caller: this layer
/// prints nothing).
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Measuring the CPU kernel's speed.
    Calibrating,
    /// Expanding the workload into its tasks.
    Planning { tasks: usize },
    /// A strategy starts over `tasks` tasks: `round` says which (`round
    /// 1/3`, `warm-up 1/1`), `index` of `of` in this round.
    Starting {
        kind: Contender,
        round: String,
        index: usize,
        of: usize,
        tasks: usize,
    },
    /// Waiting for the wall clock to read `until_unix_s` (`--start-at`,
    /// `--start-every`) before starting it.
    Waiting { kind: Contender, until_unix_s: f64 },
    /// It ended.
    Finished {
        kind: Contender,
        wall_s: f64,
        efficiency: f64,
    },
    /// Ctrl-C cut it short.
    Interrupted { kind: Contender },
}

/// Told every [`Step`] of a run.
pub type OnStep = Arc<dyn Fn(&Step) + Send + Sync>;

/// Called at the edges of every measured window (tests use it to take an
/// independent reading of the process's CPU).
pub type Observer = Arc<dyn Fn(Window) + Send + Sync>;

/// `--repeat auto`: measure rounds until the fastest strategy leads the
/// runner-up beyond noise, at least [`AUTO_MIN_ROUNDS`] and at most
/// `max_rounds` of them, starting no new round once `max_time` of measuring
/// has passed (checked from the minimum on).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoRepeat {
    pub max_rounds: usize,
    pub max_time: Duration,
}

/// The fewest rounds `--repeat auto` measures: a confidence interval of
/// two rounds a side is as wide as the data, three is the least that can
/// tell a lead from noise at all.
pub const AUTO_MIN_ROUNDS: usize = 3;

/// Options that shape a run but not its work.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Cores the client may use; `None` is every core this process may run on.
    pub cores: Option<usize>,
    /// How the strategies are set up (workers, connections, schedule,
    /// client policy), handed to each in its [`RunContext`].
    pub strategy: StrategyOptions,
    /// Measured rounds per strategy; 0 is 1. Ignored when `repeat_auto` is set.
    pub repeat: usize,
    /// Repeat until the top is decided (`--repeat auto`) instead of `repeat` rounds.
    pub repeat_auto: Option<AutoRepeat>,
    /// Discarded rounds before them.
    pub warmup: usize,
    /// Interval of the CPU timeline; `None` is [`DEFAULT_INTERVAL`].
    pub sample_interval: Option<Duration>,
    /// Told where the run is (a progress display); `None`: nobody asks.
    pub on_step: Option<OnStep>,
    pub observer: Option<Observer>,
    /// Name of the preset being run, for the report; `None` is `custom`.
    pub scenario: Option<String>,
    /// The embedded server's fault flags, for the report (empty: none).
    pub server_faults: String,
    /// Which CPU results to recompute and check.
    pub verify: Verify,
    /// Programs run as models (`--external`), each a row after the models.
    pub externals: Vec<ExternalModel>,
    /// Run only this shard of the plan's tasks (`run --shard K/N`).
    pub shard: Option<Shard>,
    /// Wait until this wall-clock time (seconds since the Unix epoch)
    /// before the first strategy, so shards on several hosts overlap.
    pub start_at_unix_s: Option<f64>,
    /// With `start_at_unix_s`, start the n-th strategy run (0-based, warm-ups
    /// included) at `start_at + n × this` rather than after the one before,
    /// so every strategy of the shards overlaps, not only the first.
    pub start_every_s: Option<f64>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("cores", &self.cores)
            .field("strategy", &self.strategy)
            .field("repeat", &self.repeat)
            .field("repeat_auto", &self.repeat_auto)
            .field("warmup", &self.warmup)
            .field("verify", &self.verify)
            .finish_non_exhaustive()
    }
}

/// Cores this process may run on.
pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Runs `kinds` (and `options.externals`) over `workload` against `target`.
pub fn run_workload(
    workload: &Workload,
    kinds: &[StrategyKind],
    target: &Target,
    options: &RunOptions,
) -> anyhow::Result<RunReport> {
    workload.validate()?;
    let endpoint = options.strategy.endpoint.clone();
    let user = options.strategy.user.clone();
    if !options.externals.is_empty() {
        // The contract: a mock server's /work (verified through its per-id
        // counts), the hash kernel, and a closed loop (the plan file has no
        // due times).
        let clash = if endpoint.is_some() || user.is_some() {
            Some("needs the mock server: it is verified through the server's per-id counts, which an endpoint with {id} or your own task does not have")
        } else if workload.work != crate::task::WorkKind::Hash {
            Some("programs do the hash kernel's work (the contract has no JSON work): leave out --work json")
        } else if workload.arrival != crate::workload::Arrival::Closed {
            Some("programs run a closed loop (the plan file has no due times): leave out --arrival")
        } else {
            None
        };
        if let Some(why) = clash {
            return Err(crate::error::UsageError::new("--external", why).into());
        }
    }
    // A mock server is checked and read; a user's endpoint has no /stats,
    // so it is only checked to accept connections; a user's own task has
    // no server at all.
    let control = match &endpoint {
        _ if user.is_some() => None,
        None => {
            let control = ServerControl::new(&target.url);
            control.check("--target")?;
            Some(control)
        }
        Some(e) => {
            crate::measure::server::check_reachable(&e.authority(), "--target")?;
            None
        }
    };
    let server_pid = match &control {
        Some(c) => Some(c.stats().context("reading the server's stats")?.pid),
        None => None,
    };
    let started_at_unix_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    stop_if_interrupted("reaching the server")?;
    let step = |s: Step| {
        if let Some(on_step) = &options.on_step {
            on_step(&s)
        }
    };
    step(Step::Calibrating);
    let units_per_us = if user.is_some() {
        // Nothing of ours to calibrate: the task is sampled below.
        1.0
    } else {
        workload
            .work
            .calibrate(workload.bytes, Duration::from_millis(20))
    };
    stop_if_interrupted("calibrating the CPU kernel")?;
    step(Step::Planning {
        tasks: workload.tasks,
    });
    let plan = TaskPlan::build_until(workload, units_per_us, options.verify, || {
        crate::interrupt::requested()
    })
    .ok_or_else(|| Interrupted::new("building the plan"))?;
    let mut plan = plan;
    plan.rate_per_s = options.strategy.policy.rate_per_s;
    let plan = match (&user, &endpoint) {
        (Some(u), _) => {
            step(Step::Calibrating);
            let (io_us, cpu_us) = crate::task::user::sample(
                &*u.0,
                plan.specs.len() as u64,
                32,
                Duration::from_secs(2),
            );
            plan.for_user(u.clone(), io_us, cpu_us)
        }
        (None, Some(_)) => plan.for_endpoint(),
        (None, None) => plan,
    };
    let plan = match options.shard {
        Some(s) => plan.shard(s),
        None => plan,
    };
    let cores = options.cores.unwrap_or_else(available_cores).max(1);
    let ctx = RunContext {
        options: StrategyOptions {
            batch: options.strategy.batch.max(1),
            ..options.strategy.clone()
        },
        ..RunContext::new(
            target.url.trim_end_matches('/'),
            workload.concurrency,
            cores,
        )
    };
    let auto = options.repeat_auto;
    // With auto, the most rounds it may take; the meta says how many it did.
    let repeat = match auto {
        Some(a) => a.max_rounds.max(AUTO_MIN_ROUNDS),
        None => options.repeat.max(1),
    };
    let interval = options.sample_interval.unwrap_or(DEFAULT_INTERVAL);
    let cpu_units_per_task = plan.specs.first().map(|s| s.cpu_units).unwrap_or(0);
    let meta = Meta {
        schema_version: SCHEMA_VERSION,
        concbench_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at_unix_s,
        scenario: options.scenario.clone().unwrap_or_else(|| "custom".into()),
        workload: WorkloadMeta {
            // A shard's own tasks (the whole plan's count is in `shard`).
            tasks: plan.specs.len(),
            latency: workload.latency.to_string(),
            latency_total_s: plan.total_latency_s(),
            bytes: workload.bytes,
            cpu_units_per_task,
            cpu_per_task_s: cpu_units_per_task as f64 / units_per_us / 1e6,
            concurrency: workload.concurrency,
            seed: workload.seed,
            work: workload.work,
            arrival: workload.arrival.to_string(),
        },
        cores,
        cpu_units_per_us: units_per_us,
        target: ctx.base_url.clone(),
        server: target.label.clone(),
        server_pid: server_pid.unwrap_or(0),
        endpoint: endpoint.as_ref().map(|e| e.describe()),
        user_task: user.as_ref().map(|u| u.0.name()),
        workers: ctx.options.workers,
        connection: ctx.options.connection.name().to_string(),
        preconnect: ctx.options.preconnect,
        schedule: ctx.options.schedule.name().to_string(),
        batch: ctx.options.batch,
        repeat,
        warmup: options.warmup,
        repeat_auto: None,
        sample_interval_s: interval.as_secs_f64(),
        client: ctx.options.policy,
        server_faults: options.server_faults.clone(),
        interrupted: false,
        machine: MachineContext::read(),
        verify: options.verify.name(),
        cpu_checked_fraction: plan.cpu_checked_fraction,
        start_at_unix_s: options.start_at_unix_s,
        shard: options.shard.map(|s| crate::report::ShardMeta {
            index: s.number(),
            count: s.count(),
            total: workload.tasks,
            plan: shard::plan_identity(workload, kinds, options, &[]),
            concbench_version: env!("CARGO_PKG_VERSION").to_string(),
        }),
        merged: None,
    };
    let kinds: Vec<Contender> = kinds
        .iter()
        .map(|&k| Contender::Model(k))
        .chain(
            options
                .externals
                .iter()
                .map(|e| Contender::External(Arc::new(e.clone()))),
        )
        .collect();
    let rounds_total = options.warmup + repeat;
    let mut rounds: Vec<Vec<StrategyResult>> = vec![Vec::new(); kinds.len()];
    let mut interrupted = false;
    let mut measuring_since = Instant::now();
    let mut stopped = None;
    for round in 0..rounds_total {
        if round == options.warmup {
            measuring_since = Instant::now();
        }
        let mut order: Vec<usize> = (0..kinds.len()).collect();
        if rounds_total > 1 {
            shuffle(
                &mut order,
                workload.seed ^ (round as u64).wrapping_mul(0x9E37_79B9),
            );
        }
        let warm = round < options.warmup;
        let mut this_round: Vec<(usize, StrategyResult)> = Vec::with_capacity(kinds.len());
        for (index, &k) in order.iter().enumerate() {
            let kind = &kinds[k];
            if let Some(at) = options.start_at_unix_s {
                let slot = (round * kinds.len() + index) as f64;
                let first = round == 0 && index == 0;
                let at = at + slot * options.start_every_s.unwrap_or(0.0);
                let waits = first || options.start_every_s.is_some();
                if waits {
                    step(Step::Waiting {
                        kind: kind.clone(),
                        until_unix_s: at,
                    });
                }
                if waits && !shard::wait_until(at) {
                    if first {
                        return Err(Interrupted::new("waiting for --start-at").into());
                    }
                    step(Step::Interrupted { kind: kind.clone() });
                    interrupted = true;
                    break;
                }
            }
            step(Step::Starting {
                kind: kind.clone(),
                round: if warm {
                    format!("warm-up {}/{}", round + 1, options.warmup)
                } else if auto.is_some() {
                    format!(
                        "round {} (auto, at most {repeat})",
                        round - options.warmup + 1
                    )
                } else {
                    format!("round {}/{}", round - options.warmup + 1, repeat)
                },
                index: index + 1,
                of: kinds.len(),
                tasks: plan.specs.len(),
            });
            let executed = execute::execute(
                kind,
                &plan,
                &ctx,
                control.as_ref(),
                server_pid,
                interval,
                options.observer.as_ref(),
            );
            if crate::interrupt::requested() {
                // Its tasks were cut short (or it could not even start, its
                // workers stopped by the same signal): its figures would
                // mislead. The rounds already finished are kept.
                step(Step::Interrupted { kind: kind.clone() });
                interrupted = true;
                break;
            }
            let row = row::build(&executed?, &plan);
            step(Step::Finished {
                kind: kind.clone(),
                wall_s: row.wall_s,
                efficiency: row.efficiency,
            });
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
        if let (Some(a), false) = (auto, warm) {
            let measured = round + 1 - options.warmup;
            if measured >= AUTO_MIN_ROUNDS {
                let so_far: Vec<StrategyResult> = rounds
                    .iter()
                    .filter(|r| !r.is_empty())
                    .map(|r| summary::combine(r.clone(), workload.seed))
                    .collect();
                stopped = if verdict::of_results(&so_far).decided() {
                    Some(RepeatStop::Decided)
                } else if measured >= repeat {
                    Some(RepeatStop::RoundCap)
                } else if measuring_since.elapsed() >= a.max_time {
                    Some(RepeatStop::TimeCap)
                } else {
                    None
                };
                if stopped.is_some() {
                    break;
                }
            }
        }
    }
    let measured = rounds.iter().map(Vec::len).max().unwrap_or(0);
    let results = rounds
        .into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| summary::combine(r, workload.seed))
        .collect();
    Ok(RunReport {
        meta: Meta {
            interrupted,
            repeat: if auto.is_some() { measured } else { repeat },
            repeat_auto: auto.zip(stopped).map(|(a, stopped)| RepeatAuto {
                stopped,
                max_rounds: repeat,
                max_time_s: a.max_time.as_secs_f64(),
            }),
            ..meta
        },
        results,
    })
}

/// An [`Interrupted`] error if Ctrl-C came during `during` (before any
/// strategy ran, so there is nothing to keep).
fn stop_if_interrupted(during: &str) -> Result<(), Interrupted> {
    if crate::interrupt::requested() {
        Err(Interrupted::new(during))
    } else {
        Ok(())
    }
}

/// Fisher–Yates with the project's own generator (the order must be reproducible).
fn shuffle(v: &mut [usize], seed: u64) {
    let mut rng = SplitMix64::new(seed);
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
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
