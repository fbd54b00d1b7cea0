//! `async-rayon`: tokio for the I/O on one thread, rayon for the CPU work.
//! A tokio `current_thread` runtime on the calling thread fetches with a
//! hyper client, at most C tasks at once; each body goes to a dedicated
//! rayon pool of P threads (one per core) for its checksum and CPU work, and
//! the result comes back through a `tokio::sync::oneshot`. The Python
//! original is asyncio + `loop.run_in_executor(ProcessPoolExecutor/ThreadPool)`.
//!
//! Starts P rayon threads (the event loop runs on the calling thread); keeps
//! up to C keep-alive connections.
//!
//! A task keeps its slot across fetch *and* CPU work: otherwise
//! fetches outrun the pool and the queue of bodies grows without bound. The
//! runtime thread never blocks: it awaits the oneshot.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::oneshot;

use super::offload::fetch_then_offload;
use super::{AfterWindow, RunContext, Strategy, StrategyKind, StrategyRun};
use crate::task::{guard, TaskError};
use crate::workload::TaskPlan;

pub(super) const DESCRIPTION: &str =
    "tokio current_thread + hyper for I/O, C in flight; CPU work on a rayon pool of P threads";

pub(super) struct AsyncRayon;

impl Strategy for AsyncRayon {
    fn kind(&self) -> StrategyKind {
        StrategyKind::AsyncRayon
    }

    fn in_flight_limit(&self, ctx: &RunContext) -> usize {
        ctx.concurrency
    }

    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
        let cores = ctx.cores.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(cores)
            .thread_name(|i| format!("concbench-cpu-{i}"))
            // Panics are caught per job below; never abort the process.
            .panic_handler(|_| {})
            .build()
            .context("cannot start the rayon pool")?;
        let pool = Arc::new(pool);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the tokio runtime")?;
        let (client, connections_preopened, window_start) = ctx.async_client(plan, &runtime)?;
        let kept = client.clone();
        let outcomes = runtime.block_on(guard::run_bounded(
            &plan.specs,
            ctx.concurrency,
            {
                let client = client.clone();
                move || client.session().stopped()
            },
            move |spec| {
                let (client, pool) = (client.clone(), pool.clone());
                let completer = client.session().completer();
                async move {
                    fetch_then_offload(&client, spec, |body| async move {
                        let (tx, rx) = oneshot::channel();
                        let units = spec.cpu_units;
                        pool.spawn(move || {
                            let _ = tx.send(guard::catch_result(|| {
                                completer.complete(spec.id, &body, units)
                            }));
                        });
                        // The job always runs and always sends (or drops `tx`
                        // while unwinding): bounded by the work.
                        rx.await.unwrap_or_else(|_| {
                            Err(TaskError::Worker("the CPU pool dropped the task".into()))
                        })
                    })
                    .await
                }
            },
        ));
        // Every job has sent its result, and the pool went with the task
        // closure when run_bounded returned: its threads end.
        Ok(StrategyRun {
            outcomes,
            threads_started: cores,
            connections_preopened,
            window_start,
            after_window: AfterWindow::default().keep_runtime(runtime).keep(kept),
            ..StrategyRun::default()
        })
    }
}
