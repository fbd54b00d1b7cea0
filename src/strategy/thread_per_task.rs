//! `thread-per-task`: one OS thread spawned for every task, at most C alive
//! at once, every thread on one shared blocking client (ureq). The Python
//! original is a `threading.Thread` per request over a shared
//! `requests.Session`.
//!
//! Starts N threads in all (one per task, 256 KiB stacks), at most C at a
//! time; keeps up to C keep-alive connections in the process's one pool.
//!
//! The C slots are C tokens in a bounded channel: the spawning thread takes
//! one before each spawn (blocking while all C threads are busy) and every
//! thread gives its token back when it ends, on a panic too (a drop guard).
//! Waiting for a token is bounded by the work: some running thread always
//! finishes its one task. Threads are detached (their stacks are freed as
//! each ends); the run ends when the last one has sent its outcome.

use std::thread;

use crossbeam_channel::{bounded, unbounded, Sender};

use super::{AfterWindow, RunContext, Strategy, StrategyKind, StrategyRun, THREAD_STACK_BYTES};
use crate::http;
use crate::sys::clock::mono_now_ns;
use crate::task::{guard, TaskError, TaskOutcome};
use crate::workload::TaskPlan;

pub(super) const DESCRIPTION: &str =
    "one OS thread per task (at most C alive) sharing one blocking client (ureq)";

pub(super) struct ThreadPerTask;

/// One of the C slots; dropping it (when the thread ends, or unwinds) frees the slot.
struct Slot(Sender<()>);

impl Drop for Slot {
    fn drop(&mut self) {
        // The channel holds exactly C tokens, so this never blocks; it only
        // fails once the spawner is gone, when no one needs the slot back.
        let _ = self.0.try_send(());
    }
}

impl Strategy for ThreadPerTask {
    fn kind(&self) -> StrategyKind {
        StrategyKind::ThreadPerTask
    }

    fn in_flight_limit(&self, ctx: &RunContext) -> usize {
        ctx.concurrency
    }

    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
        let run_start_ns = mono_now_ns();
        let slots = ctx.concurrency.max(1);
        let client = ctx.blocking_client(slots, plan, run_start_ns);
        let (slot_tx, slot_rx) = bounded::<()>(slots);
        for _ in 0..slots {
            slot_tx
                .try_send(())
                .expect("the channel has room for C tokens");
        }
        let (out_tx, out_rx) = unbounded();
        let mut outcomes = Vec::with_capacity(plan.specs.len());
        let mut started = 0;
        for &spec in &plan.specs {
            // Blocks while C threads are alive; each of them returns its token.
            slot_rx
                .recv()
                .expect("the spawner holds a sender, so the channel stays open");
            // Interrupted or past the deadline: no thread for a task that cannot start.
            if let Some(e) = client.session().stopped() {
                outcomes.push(TaskOutcome::failed(spec.id, e));
                continue;
            }
            let slot = Slot(slot_tx.clone());
            let (client, out) = (client.clone(), out_tx.clone());
            let spawned = thread::Builder::new()
                .name(format!("concbench-task-{}", spec.id))
                .stack_size(THREAD_STACK_BYTES)
                .spawn(move || {
                    let _slot = slot;
                    let outcome = guard::catch(spec.id, || http::run_blocking(&client, &spec));
                    let _ = out.send(outcome);
                });
            match spawned {
                // Detached: its stack goes back to the allocator as soon as it
                // ends, however long the threads before it take.
                Ok(_detached) => started += 1,
                // The closure (and its slot) is dropped: the slot comes back.
                Err(e) => outcomes.push(TaskOutcome::failed(
                    spec.id,
                    TaskError::Worker(format!("cannot start a thread: {e}")),
                )),
            }
        }
        drop(out_tx);
        // Ends when the last thread has dropped its sender, after its one task:
        // bounded by the work. A thread that died before sending leaves its
        // task missing, which verification reports.
        outcomes.extend(out_rx.iter());
        Ok(StrategyRun {
            outcomes,
            // Its idle keep-alive connections close after the window.
            after_window: AfterWindow::default().keep(client),
            threads_started: started,
            ..StrategyRun::default()
        })
    }
}
