//! `rayon`: a CPU pool used for I/O. A dedicated rayon pool of W threads
//! (`--workers`, default one per core) runs `par_iter` over the tasks with a
//! blocking client (ureq), so at most W requests are in flight. The closest
//! Python original is a pool sized for the CPU (`Pool(os.cpu_count()).map`)
//! handed blocking requests.
//!
//! Starts W threads (its own pool, never rayon's global one); keeps up to W
//! keep-alive connections in the process's one pool.
//!
//! It is expected to be slow on I/O: W threads blocked on the network leave
//! the cores idle. That is the point of measuring it.

use anyhow::Context;
use rayon::prelude::*;

use super::{AfterWindow, RunContext, Strategy, StrategyKind, StrategyRun, THREAD_STACK_BYTES};
use crate::http;
use crate::sys::clock::mono_now_ns;
use crate::task::guard;
use crate::workload::TaskPlan;

pub(super) const DESCRIPTION: &str =
    "a rayon pool of W threads (default: cores) running par_iter with a blocking client (ureq)";

pub(super) struct Rayon;

impl Strategy for Rayon {
    fn kind(&self) -> StrategyKind {
        StrategyKind::Rayon
    }

    fn in_flight_limit(&self, ctx: &RunContext) -> usize {
        ctx.workers_or_cores()
    }

    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
        let run_start_ns = mono_now_ns();
        let workers = ctx.workers_or_cores();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("concbench-rayon-{i}"))
            .stack_size(THREAD_STACK_BYTES)
            .build()
            .context("cannot start the rayon pool")?;
        let client = ctx.blocking_client(workers, plan, run_start_ns);
        // A panicking task is caught per task, so `par_iter` never unwinds
        // and every task still gets its outcome.
        let outcomes = pool.install(|| {
            plan.specs
                .par_iter()
                .map(|spec| guard::catch(spec.id, || http::run_blocking(&client, spec)))
                .collect()
        });
        Ok(StrategyRun {
            outcomes,
            // Its idle keep-alive connections close after the window.
            after_window: AfterWindow::default().keep(client),
            threads_started: workers,
            ..StrategyRun::default()
        })
    }
}
