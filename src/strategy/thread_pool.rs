//! `thread-pool`: C long-lived threads taking tasks from one channel, every
//! thread on one shared blocking client (ureq). The Python original is
//! `concurrent.futures.ThreadPoolExecutor(max_workers=C)` over a shared
//! `requests.Session`.
//!
//! Starts C threads (256 KiB stacks); keeps up to C keep-alive connections in
//! the process's one pool.
//!
//! All tasks are queued up front and the queue is closed, so each worker ends
//! when the queue is empty: joining them is bounded by the work. A panic in a
//! task becomes that task's failed outcome and the worker carries on.

use std::thread;

use anyhow::Context;
use crossbeam_channel::unbounded;

use super::{AfterWindow, RunContext, Strategy, StrategyKind, StrategyRun, THREAD_STACK_BYTES};
use crate::http;
use crate::sys::clock::mono_now_ns;
use crate::task::{guard, TaskSpec};
use crate::workload::TaskPlan;

pub(super) const DESCRIPTION: &str =
    "C long-lived threads fed by a channel, sharing one blocking client (ureq)";

pub(super) struct ThreadPool;

impl Strategy for ThreadPool {
    fn kind(&self) -> StrategyKind {
        StrategyKind::ThreadPool
    }

    fn in_flight_limit(&self, ctx: &RunContext) -> usize {
        ctx.concurrency
    }

    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
        let run_start_ns = mono_now_ns();
        let workers = ctx.concurrency.max(1);
        let client = ctx.blocking_client(workers, plan, run_start_ns);
        let (job_tx, job_rx) = unbounded::<TaskSpec>();
        for &spec in &plan.specs {
            job_tx.send(spec).expect("the receiver is held here");
        }
        // Closed queue: a worker's `recv` fails once it is empty.
        drop(job_tx);
        let (out_tx, out_rx) = unbounded();
        let mut handles = Vec::with_capacity(workers);
        let mut spawn_error = None;
        for i in 0..workers {
            let (client, jobs, out) = (client.clone(), job_rx.clone(), out_tx.clone());
            let spawned = thread::Builder::new()
                .name(format!("concbench-pool-{i}"))
                .stack_size(THREAD_STACK_BYTES)
                .spawn(move || {
                    for spec in jobs.iter() {
                        let outcome = guard::catch(spec.id, || http::run_blocking(&client, &spec));
                        if out.send(outcome).is_err() {
                            return;
                        }
                    }
                });
            match spawned {
                Ok(h) => handles.push(h),
                // Fewer workers still do every task; none is an error.
                Err(e) => {
                    spawn_error = Some(e);
                    break;
                }
            }
        }
        drop((job_rx, out_tx));
        if handles.is_empty() {
            return Err(spawn_error.expect("no worker means a spawn failed"))
                .context("cannot start a pool thread");
        }
        // Ends when every worker has ended (the queue is empty): bounded by the work.
        let outcomes: Vec<_> = out_rx.iter().collect();
        let threads_started = handles.len();
        for h in handles {
            let _ = h.join();
        }
        Ok(StrategyRun {
            outcomes,
            // Its idle keep-alive connections close after the window.
            after_window: AfterWindow::default().keep(client),
            threads_started,
            ..StrategyRun::default()
        })
    }
}
