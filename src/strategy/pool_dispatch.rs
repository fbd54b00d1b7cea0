//! Handing whole tasks to a [`WorkerSet`] and collecting one outcome per
//! task, shared by `process-pool` and `process-pool-async`.
//!
//! - `static`: contiguous chunks decided up front, one per worker, like
//!   Python's `Pool.map`; each worker gets its chunk at once.
//! - `dynamic`: batches of `--batch` tasks, each worker kept at most `window`
//!   tasks ahead, refilled as its outcomes arrive, like `imap_unordered`.
//! - `--max-tasks-per-child N` (Python's `maxtasksperchild`): a worker is
//!   sent at most N tasks; then its input closes, it answers for what it
//!   holds and exits, and a fresh process takes its slot (and the rest of its
//!   chunk, under `static`). A task is sent once, to one process: nothing is
//!   lost or run twice.
//!
//! A worker that dies fails exactly the tasks it held (cause `worker`); under
//! the dynamic schedule the rest go to the survivors, under `static` the rest
//! of its chunk fails with it. Nothing waits on a dead worker: its end of
//! output arrives as an event.

use std::ops::Range;

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
    let n = plan.specs.len();
    let w = set.len();
    let batch = ctx.options.batch.max(1);
    let mut d = Dispatch {
        plan,
        schedule: ctx.options.schedule,
        batch,
        window: window.max(batch),
        limit: ctx.options.max_tasks_per_child.unwrap_or(usize::MAX).max(1),
        held: vec![Vec::new(); w],
        sent: vec![0; w],
        alive: vec![true; w],
        retiring: vec![false; w],
        next: 0,
        own: (0..w).map(|i| i * n / w..(i + 1) * n / w).collect(),
        outcomes: Vec::with_capacity(n),
    };
    // Test-only: panic in the parent mid-run, to prove no worker outlives it.
    let panic_after = ctx.options.test_panic_after;
    // Deal round-robin so a small plan spreads over every worker instead of
    // filling the first worker's window.
    loop {
        let before = d.unsent();
        for i in 0..w {
            d.feed_one(set, i);
        }
        if d.unsent() == before {
            break;
        }
    }
    for i in 0..w {
        d.feed(set, i);
    }

    while d.outcomes.len() < n {
        // Ctrl-C: what was never sent fails here at once (cause
        // `cancelled`); the workers answer for what they hold.
        if d.unsent() > 0 && crate::interrupt::requested() {
            d.fail_unsent(None, |_| {
                TaskError::Cancelled("interrupted before it was sent to a worker".into())
            });
            for i in 0..w {
                set.close_input(i);
            }
        }
        match set.recv() {
            Some(Event::Msg(i, FromWorker::Outcome(o))) => {
                guard::record_done();
                if let Some(pos) = d.held[i].iter().position(|&id| id == o.id) {
                    d.held[i].swap_remove(pos);
                }
                d.outcomes.push(o);
                if panic_after == Some(d.outcomes.len()) {
                    panic!("--test-panic-after reached: panicking mid-run as asked");
                }
                if d.schedule == Schedule::Dynamic {
                    d.feed(set, i);
                }
            }
            Some(Event::Msg(..)) => {}
            Some(Event::Gone(i, why)) => {
                let finished_its_share = d.retiring[i] && d.held[i].is_empty();
                d.alive[i] = false;
                for id in d.held[i].drain(..) {
                    d.outcomes
                        .push(TaskOutcome::failed(id, TaskError::Worker(why.clone())));
                }
                let mut why = why;
                if finished_its_share && d.left_for(i) > 0 && !crate::interrupt::requested() {
                    match set.replace(i) {
                        Ok(()) => {
                            d.alive[i] = true;
                            d.retiring[i] = false;
                            d.sent[i] = 0;
                            d.feed(set, i);
                            continue;
                        }
                        Err(e) => why = format!("{e:#}"),
                    }
                }
                // Its own chunk dies with it; the shared queue goes on.
                d.fail_unsent(Some(i), |_| TaskError::Worker(why.clone()));
                if !d.alive.iter().any(|&a| a) {
                    // Nobody left to run what was never sent.
                    d.fail_unsent(None, |_| {
                        TaskError::Worker(format!("no worker left ({why})"))
                    });
                }
            }
            None => {
                // Every worker is gone: whatever is held or unsent has failed.
                for (i, h) in d.held.iter_mut().enumerate() {
                    for id in h.drain(..) {
                        d.outcomes.push(TaskOutcome::failed(
                            id,
                            TaskError::Worker(format!("worker {i} is gone")),
                        ));
                    }
                }
                d.fail_unsent(None, |_| TaskError::Worker("no worker left".into()));
                break;
            }
        }
    }
    d.outcomes
}

/// The dispatcher's state: what each worker holds, what is left to send.
struct Dispatch<'a> {
    plan: &'a TaskPlan,
    schedule: Schedule,
    batch: usize,
    window: usize,
    /// Most tasks one process is sent (`--max-tasks-per-child`, else unbounded).
    limit: usize,
    /// Ids each worker holds and has not answered yet.
    held: Vec<Vec<u64>>,
    /// Tasks sent to each worker's current process.
    sent: Vec<usize>,
    alive: Vec<bool>,
    /// Its input is closed because it was sent its `limit`: it is to be replaced.
    retiring: Vec<bool>,
    /// The next task of the shared queue (dynamic).
    next: usize,
    /// What is left of each worker's own chunk (static).
    own: Vec<Range<usize>>,
    outcomes: Vec<TaskOutcome>,
}

impl Dispatch<'_> {
    /// Tasks not sent yet, to anyone.
    fn unsent(&self) -> usize {
        match self.schedule {
            Schedule::Dynamic => self.plan.specs.len() - self.next,
            Schedule::Static => self.own.iter().map(|r| r.len()).sum(),
        }
    }

    /// Tasks worker `i` could still be sent.
    fn left_for(&self, i: usize) -> usize {
        match self.schedule {
            Schedule::Dynamic => self.plan.specs.len() - self.next,
            Schedule::Static => self.own[i].len(),
        }
    }

    /// Sends worker `i` all it may take now, and closes its input once it
    /// has been sent its limit or nothing is left for it.
    fn feed(&mut self, set: &mut WorkerSet, i: usize) {
        while self.feed_one(set, i) {}
        if self.alive[i] && !self.retiring[i] {
            if self.sent[i] >= self.limit {
                self.retiring[i] = true;
                set.close_input(i);
            } else if self.left_for(i) == 0 {
                set.close_input(i);
            }
        }
    }

    /// Sends worker `i` one message if it has room; true if it did.
    fn feed_one(&mut self, set: &mut WorkerSet, i: usize) -> bool {
        if !self.alive[i] || self.retiring[i] {
            return false;
        }
        let budget = self.limit - self.sent[i].min(self.limit);
        let range = match self.schedule {
            Schedule::Static => {
                let r = &self.own[i];
                r.start..r.start + r.len().min(budget)
            }
            Schedule::Dynamic => {
                let k = self
                    .batch
                    .min(budget)
                    .min(self.plan.specs.len() - self.next);
                if k == 0 || self.held[i].len() + k > self.window {
                    return false;
                }
                self.next..self.next + k
            }
        };
        if range.is_empty() {
            return false;
        }
        let chunk = &self.plan.specs[range.clone()];
        if set.send(i, &ToWorker::Tasks(chunk.to_vec())).is_err() {
            // The worker is going; its Gone event will come. Leave the tasks unsent.
            return false;
        }
        self.held[i].extend(chunk.iter().map(|s| s.id));
        self.sent[i] += chunk.len();
        match self.schedule {
            Schedule::Static => self.own[i].start = range.end,
            Schedule::Dynamic => self.next = range.end,
        }
        true
    }

    /// Fails the unsent tasks of worker `i`'s own chunk (static), or of
    /// everyone (`None`: the shared queue and every chunk).
    fn fail_unsent(&mut self, i: Option<usize>, why: impl Fn(u64) -> TaskError) {
        let specs = &self.plan.specs;
        let mut ranges: Vec<Range<usize>> = Vec::new();
        match (self.schedule, i) {
            (Schedule::Static, Some(i)) => ranges.push(std::mem::take(&mut self.own[i])),
            (Schedule::Static, None) => ranges.extend(self.own.iter_mut().map(std::mem::take)),
            (Schedule::Dynamic, Some(_)) => {}
            (Schedule::Dynamic, None) => {
                ranges.push(self.next..specs.len());
                self.next = specs.len();
            }
        }
        for r in ranges {
            for spec in &specs[r] {
                self.outcomes
                    .push(TaskOutcome::failed(spec.id, why(spec.id)));
            }
        }
    }
}
