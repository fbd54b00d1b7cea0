//! `async-single`: one event loop. A tokio `current_thread` runtime on the
//! calling thread, a hyper client, at most C requests in flight, CPU work
//! inline on that one thread. The Python original is asyncio + aiohttp with
//! its one loop (`asyncio.gather` under a semaphore).
//!
//! Starts no threads (the loop runs on the calling thread); keeps up to C
//! keep-alive connections.
//!
//! CPU work stalls the loop, so a CPU-heavy plan runs about as fast as
//! sequential: that is what the model costs.

use anyhow::Context;

use super::{AfterWindow, RunContext, Strategy, StrategyKind, StrategyRun};
use crate::http;
use crate::task::guard;
use crate::workload::TaskPlan;

pub(super) const DESCRIPTION: &str =
    "one event loop (tokio current_thread) + hyper, C requests in flight, CPU work inline";

pub(super) struct AsyncSingle;

impl Strategy for AsyncSingle {
    fn kind(&self) -> StrategyKind {
        StrategyKind::AsyncSingle
    }

    fn in_flight_limit(&self, ctx: &RunContext) -> usize {
        ctx.concurrency
    }

    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
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
                let client = client.clone();
                async move { http::run_async(&client, &spec).await }
            },
        ));
        Ok(StrategyRun {
            outcomes,
            connections_preopened,
            window_start,
            after_window: AfterWindow::default().keep_runtime(runtime).keep(kept),
            ..StrategyRun::default()
        })
    }
}
