//! `thread-per-core`: one single-threaded tokio runtime per core, each pinned
//! to its core (where the machine allows it), with its own hyper client,
//! its own connections and its own share of the in-flight limit: nothing is
//! shared between them but the index of the next task (glommio's and
//! monoio's model, against tokio's work-stealing `async`). CPU work runs
//! inline, on the core whose runtime fetched the body.
//!
//! Tasks are handed out through that shared index, one at a time, to
//! whichever runtime has a free slot: a runtime never waits while tasks are
//! left, and a task once taken never moves (no stealing). Starts
//! min(P, C) threads; keeps up to C keep-alive connections in all.

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;

use super::{RunContext, Strategy, StrategyKind, StrategyRun};
use crate::http::{self, AsyncClient};
use crate::sys::affinity::{allowed_cores, pin_current_thread};
use crate::sys::clock::mono_now_ns;
use crate::task::guard::Bounded;
use crate::task::{TaskOutcome, TaskSpec};
use crate::workload::TaskPlan;

pub(super) const DESCRIPTION: &str = "one pinned current-thread tokio runtime per core, each with its own client, connections and C/P in flight; CPU work inline (glommio/monoio style)";

pub(super) struct ThreadPerCore;

impl Strategy for ThreadPerCore {
    fn kind(&self) -> StrategyKind {
        StrategyKind::ThreadPerCore
    }

    fn in_flight_limit(&self, ctx: &RunContext) -> usize {
        ctx.concurrency
    }

    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
        let run_start_ns = mono_now_ns();
        let runtimes = ctx.cores.max(1).min(ctx.concurrency.max(1));
        let cores = allowed_cores();
        let next = AtomicUsize::new(0);
        let results: Vec<anyhow::Result<Vec<TaskOutcome>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..runtimes)
                .map(|i| {
                    // C split as evenly as it goes: the first C mod P get one more.
                    let share =
                        ctx.concurrency / runtimes + usize::from(i < ctx.concurrency % runtimes);
                    let core = cores.get(i % cores.len().max(1)).copied();
                    let next = &next;
                    std::thread::Builder::new()
                        .name(format!("concbench-core-{i}"))
                        .spawn_scoped(scope, move || {
                            if let Some(core) = core {
                                pin_current_thread(core);
                            }
                            let runtime = tokio::runtime::Builder::new_current_thread()
                                .enable_all()
                                .build()
                                .context("cannot start a tokio runtime")?;
                            let client = AsyncClient::new(
                                share,
                                ctx.options.connection,
                                ctx.session(plan, run_start_ns),
                            )?;
                            Ok(runtime.block_on(serve(&plan.specs, next, share, client)))
                        })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| match h {
                    Ok(h) => h
                        .join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a runtime thread panicked"))),
                    Err(e) => Err(anyhow::Error::from(e).context("cannot start a runtime thread")),
                })
                .collect()
        });
        let mut outcomes = Vec::with_capacity(plan.specs.len());
        for r in results {
            outcomes.extend(r?);
        }
        Ok(StrategyRun {
            outcomes,
            threads_started: runtimes,
            ..StrategyRun::default()
        })
    }
}

/// One runtime's loop: take the next task whenever a slot is free, until
/// none is left, then wait for its own.
async fn serve(
    specs: &[TaskSpec],
    next: &AtomicUsize,
    share: usize,
    client: AsyncClient,
) -> Vec<TaskOutcome> {
    let mut slots = Bounded::new(share);
    let mut outcomes = Vec::new();
    let mut left = true;
    loop {
        while left && slots.has_room() {
            let Some(&spec) = specs.get(next.fetch_add(1, Ordering::Relaxed)) else {
                left = false;
                break;
            };
            // Interrupted or past the deadline: fail it here, without a task.
            if let Some(why) = client.session().stopped() {
                outcomes.push(TaskOutcome::failed(spec.id, why));
                continue;
            }
            let client = client.clone();
            slots.spawn(
                spec.id,
                async move { http::run_async(&client, &spec).await },
            );
        }
        match slots.join_next().await {
            Some(o) => outcomes.push(o),
            None if !left => break,
            None => {}
        }
    }
    outcomes
}
