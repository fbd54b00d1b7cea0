//! `process-pool-async`: W worker processes, each with its own current-thread
//! tokio runtime and connection pool, running ⌈C/W⌉ requests at once with CPU
//! work inline. The Python original is `aiomultiprocess.Pool`.
//!
//! Starts W processes (default: one per core), each with one runtime thread
//! and a reader and a writer thread; the parent starts one reader thread per
//! worker. At most W·⌈C/W⌉ requests in flight.

use anyhow::Context;

use super::{pool_dispatch, RunContext, Strategy, StrategyKind, StrategyRun};
use crate::sys::clock::mono_now_ns;
use crate::worker::{WorkerMode, WorkerSet};
use crate::workload::TaskPlan;

pub(super) const DESCRIPTION: &str =
    "W worker processes, each a current-thread tokio runtime with C/W requests in flight (aiomultiprocess)";

pub(super) struct ProcessPoolAsync;

fn per_worker(ctx: &RunContext) -> usize {
    ctx.concurrency.div_ceil(ctx.workers_or_cores()).max(1)
}

impl Strategy for ProcessPoolAsync {
    fn kind(&self) -> StrategyKind {
        StrategyKind::ProcessPoolAsync
    }

    fn in_flight_limit(&self, ctx: &RunContext) -> usize {
        per_worker(ctx) * ctx.workers_or_cores()
    }

    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
        // Workers measure their tasks' queued time from here (one clock for all processes).
        let run_start_ns = mono_now_ns();
        let w = ctx.workers_or_cores();
        let k = per_worker(ctx);
        let spawn = ctx.workers_spawn(
            WorkerMode::AsyncTasks,
            plan,
            run_start_ns,
            k,
            ctx.options.policy.share(w),
        )?;
        let mut set = WorkerSet::spawn(w, &spawn).context("starting the async process pool")?;
        // Keep each worker k requests busy plus as many queued, so a slot never waits on the parent.
        let window = 2 * k.max(ctx.options.batch);
        let outcomes = pool_dispatch::run_tasks(&mut set, plan, ctx, window);
        let workers_replaced = set.replaced();
        let children = set.finish(|_| {});
        Ok(StrategyRun {
            outcomes,
            children,
            workers_replaced,
            threads_started: w,
            ..StrategyRun::default()
        })
    }
}
