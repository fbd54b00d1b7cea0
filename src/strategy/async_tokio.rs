//! `async`: a tokio multi-thread runtime with one worker per core, a hyper
//! client, at most C requests in flight (C lanes), CPU work inline on the
//! runtime's workers. The Python original is asyncio + aiohttp.
//!
//! Starts P runtime worker threads; keeps up to C keep-alive connections.

use anyhow::Context;

use super::{AfterWindow, RunContext, Strategy, StrategyKind, StrategyRun};
use crate::http;
use crate::task::guard;
use crate::workload::TaskPlan;

pub(super) const DESCRIPTION: &str =
    "tokio multi-thread runtime (one worker per core) + hyper, C requests in flight, CPU work inline";

pub(super) struct AsyncTokio;

impl Strategy for AsyncTokio {
    fn kind(&self) -> StrategyKind {
        StrategyKind::Async
    }

    fn in_flight_limit(&self, ctx: &RunContext) -> usize {
        ctx.concurrency
    }

    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
        let workers = ctx.cores.max(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("concbench-async")
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
                let client = client.clone();
                async move { http::run_async(&client, &spec).await }
            },
        ));
        Ok(StrategyRun {
            outcomes,
            threads_started: workers,
            connections_preopened,
            window_start,
            after_window: AfterWindow::default().keep_runtime(runtime).keep(kept),
            ..StrategyRun::default()
        })
    }
}
