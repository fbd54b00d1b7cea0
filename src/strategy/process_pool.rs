//! `process-pool`: W long-lived worker processes (the binary re-executed as a
//! hidden `__worker`), each running whole tasks one at a time on its own
//! blocking client and keep-alive connection; tasks and outcomes over pipes.
//! `--schedule static` hands out chunks like `Pool.map`; `dynamic` (default)
//! hands out `--batch` tasks at a time like `imap_unordered`. The Python
//! original is `multiprocessing.Pool` / `ProcessPoolExecutor`.
//!
//! Starts W processes (default: one per core) and one reader thread per
//! worker in the parent; at most W requests in flight.

use anyhow::Context;

use super::{pool_dispatch, RunContext, Strategy, StrategyKind, StrategyRun};
use crate::sys::clock::mono_now_ns;
use crate::worker::{WorkerMode, WorkerSet};
use crate::workload::TaskPlan;

pub(super) const DESCRIPTION: &str =
    "W worker processes, each a blocking client running one task at a time; tasks over pipes (Pool.map / imap_unordered)";

pub(super) struct ProcessPool;

impl Strategy for ProcessPool {
    fn kind(&self) -> StrategyKind {
        StrategyKind::ProcessPool
    }

    fn in_flight_limit(&self, ctx: &RunContext) -> usize {
        ctx.workers_or_cores()
    }

    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
        // Workers measure their tasks' queued time from here (one clock for all processes).
        let run_start_ns = mono_now_ns();
        let w = ctx.workers_or_cores().min(plan.specs.len().max(1));
        let spawn = ctx.workers_spawn(
            WorkerMode::Tasks,
            plan,
            run_start_ns,
            1,
            ctx.options.policy.share(w),
        )?;
        let mut set = WorkerSet::spawn(w, &spawn).context("starting the process pool")?;
        // One batch running and one queued keeps a worker busy between messages.
        let outcomes = pool_dispatch::run_tasks(&mut set, plan, ctx, 2 * ctx.options.batch);
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
