//! Handing whole tasks to a [`WorkerSet`] and collecting one outcome per
//! task, shared by `process-pool` and `process-pool-async`.
//!
//! - `static`: contiguous chunks decided up front, one per worker, like
//!   Python's `Pool.map`; each worker's input is closed at once.
//! - `dynamic`: batches of `--batch` tasks, each worker kept at most `window`
//!   tasks ahead, refilled as its outcomes arrive, like `imap_unordered`.
//!
//! A worker that dies fails exactly the tasks it held (cause `worker`); under
//! the dynamic schedule the rest go to the survivors. Nothing waits on a dead
//! worker: its end of output arrives as an event.

use crate::strategy::{RunContext, Schedule};
use crate::task::{guard, TaskError, TaskOutcome};
use crate::worker::protocol::{FromWorker, ToWorker};
use crate::worker::{Event, WorkerSet};
use crate::workload::TaskPlan;

/// Runs every task of `plan` on `set`; returns the outcomes (one per task).
pub(super) fn run_tasks(
    set: &mut WorkerSet,
    plan: &TaskPlan,
    ctx: &RunContext,
    window: usize,
) -> Vec<TaskOutcome> {
    let (schedule, batch) = (ctx.options.schedule, ctx.options.batch);
    let n = plan.specs.len();
    let w = set.len();
    let batch = batch.max(1);
    let window = window.max(batch);
    let mut outcomes: Vec<TaskOutcome> = Vec::with_capacity(n);
    // Ids each worker holds and has not answered yet.
    let mut held: Vec<Vec<u64>> = vec![Vec::new(); w];
    let mut alive = vec![true; w];
    let mut next = 0usize;
    let mut closed = false;
    // Test-only: panic in the parent mid-run, to prove no worker outlives it.
    let panic_after = ctx.options.test_panic_after;

    match schedule {
        Schedule::Static => {
            for (i, held_i) in held.iter_mut().enumerate() {
                let chunk = &plan.specs[i * n / w..(i + 1) * n / w];
                held_i.extend(chunk.iter().map(|s| s.id));
                // A failed send shows up as the worker's Gone event, which fails the chunk.
                let _ = set.send(i, &ToWorker::Tasks(chunk.to_vec()));
                set.close_input(i);
            }
            next = n;
            closed = true;
        }
        Schedule::Dynamic => {
            // Deal batches round-robin so a small plan spreads over every worker
            // instead of filling the first worker's window.
            loop {
                let before = next;
                for (i, held_i) in held.iter_mut().enumerate() {
                    refill_one(set, plan, i, held_i, &mut next, batch, window);
                }
                if next == before {
                    break;
                }
            }
        }
    }

    while outcomes.len() < n {
        // Ctrl-C: what was never sent fails here at once (cause
        // `cancelled`); the workers answer for what they hold.
        if next < n && crate::interrupt::requested() {
            for spec in &plan.specs[next..] {
                outcomes.push(TaskOutcome::failed(
                    spec.id,
                    TaskError::Cancelled("interrupted before it was sent to a worker".into()),
                ));
            }
            next = n;
        }
        if next == n && !closed {
            for i in 0..w {
                set.close_input(i);
            }
            closed = true;
        }
        match set.recv() {
            Some(Event::Msg(i, FromWorker::Outcome(o))) => {
                guard::record_done();
                if let Some(pos) = held[i].iter().position(|&id| id == o.id) {
                    held[i].swap_remove(pos);
                }
                outcomes.push(o);
                if panic_after == Some(outcomes.len()) {
                    panic!("--test-panic-after reached: panicking mid-run as asked");
                }
                if schedule == Schedule::Dynamic && alive[i] {
                    refill(set, plan, i, &mut held[i], &mut next, batch, window);
                }
            }
            Some(Event::Msg(..)) => {}
            Some(Event::Gone(i, why)) => {
                alive[i] = false;
                for id in held[i].drain(..) {
                    outcomes.push(TaskOutcome::failed(id, TaskError::Worker(why.clone())));
                }
                if !alive.iter().any(|&a| a) {
                    // Nobody left to run what was never sent.
                    while next < n {
                        outcomes.push(TaskOutcome::failed(
                            plan.specs[next].id,
                            TaskError::Worker(format!("no worker left ({why})")),
                        ));
                        next += 1;
                    }
                }
            }
            None => {
                // Every worker is gone: whatever is held or unsent has failed.
                for (i, h) in held.iter_mut().enumerate() {
                    for id in h.drain(..) {
                        outcomes.push(TaskOutcome::failed(
                            id,
                            TaskError::Worker(format!("worker {i} is gone")),
                        ));
                    }
                }
                while next < n {
                    outcomes.push(TaskOutcome::failed(
                        plan.specs[next].id,
                        TaskError::Worker("no worker left".into()),
                    ));
                    next += 1;
                }
                break;
            }
        }
    }
    outcomes
}

/// Tops worker `i` up to its window.
fn refill(
    set: &mut WorkerSet,
    plan: &TaskPlan,
    i: usize,
    held: &mut Vec<u64>,
    next: &mut usize,
    batch: usize,
    window: usize,
) {
    while refill_one(set, plan, i, held, next, batch, window) {}
}

/// Sends worker `i` one batch if its window has room; true if it did.
fn refill_one(
    set: &mut WorkerSet,
    plan: &TaskPlan,
    i: usize,
    held: &mut Vec<u64>,
    next: &mut usize,
    batch: usize,
    window: usize,
) -> bool {
    let n = plan.specs.len();
    if *next >= n || held.len() + batch.min(n - *next) > window {
        return false;
    }
    let end = (*next + batch).min(n);
    let chunk = &plan.specs[*next..end];
    if set.send(i, &ToWorker::Tasks(chunk.to_vec())).is_err() {
        // The worker is going; its Gone event will come. Leave the batch unsent.
        return false;
    }
    held.extend(chunk.iter().map(|s| s.id));
    *next = end;
    true
}
