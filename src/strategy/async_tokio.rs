//! `async`: a tokio multi-thread runtime with one worker per core, a reqwest
//! client, at most C requests in flight (a semaphore), CPU work inline on the
//! runtime's workers. The Python original is asyncio + aiohttp.
//!
//! Starts P runtime worker threads; keeps up to C keep-alive connections.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{RunContext, Strategy, StrategyKind, StrategyRun};
use crate::plan::{self, TaskPlan};
use crate::task::{self, TaskError};

pub(super) const DESCRIPTION: &str =
    "tokio multi-thread runtime (one worker per core) + reqwest, C requests in flight, CPU work inline";

pub(super) struct AsyncTokio;

impl Strategy for AsyncTokio {
    fn kind(&self) -> StrategyKind {
        StrategyKind::Async
    }

    fn in_flight_limit(&self, ctx: &RunContext) -> usize {
        ctx.concurrency
    }

    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
        let run_start_ns = task::mono_now_ns();
        let workers = ctx.cores.max(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("concbench-async")
            .enable_all()
            .build()
            .context("cannot start the tokio runtime")?;
        let client = task::AsyncClient::new(
            ctx.concurrency,
            ctx.connection,
            ctx.session(plan.seed, run_start_ns),
        )?;
        let limit = Arc::new(Semaphore::new(ctx.concurrency));
        let outcomes = runtime.block_on(async {
            let mut set = JoinSet::new();
            let mut outcomes = Vec::with_capacity(plan.specs.len());
            for &spec in &plan.specs {
                // Taken before spawning, so at most C tasks exist at once.
                let permit = limit
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("semaphore is never closed");
                let client = client.clone();
                set.spawn(async move {
                    let _permit = permit;
                    task::run_async(&client, &spec).await
                });
                // Collect what has finished so memory stays bounded by C.
                while let Some(done) = set.try_join_next() {
                    outcomes.push(done);
                }
            }
            while let Some(done) = set.join_next().await {
                outcomes.push(done);
            }
            outcomes
        });
        // A panicking task loses its id; verification reports it as missing.
        let outcomes = outcomes
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| plan::failed(u64::MAX, TaskError::Worker(e.to_string()))))
            .collect();
        runtime.shutdown_background();
        Ok(StrategyRun {
            outcomes,
            threads_started: workers,
            ..StrategyRun::default()
        })
    }
}
