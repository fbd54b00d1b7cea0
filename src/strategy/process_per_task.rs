//! `process-per-task`: a new worker process for every task (the binary
//! re-executed as a hidden `__worker`), the task sent over its stdin and the
//! outcome back over its stdout; at most C processes alive at once. The
//! Python original is `multiprocessing.Process` + a `Queue` per request.
//!
//! Starts N processes over the run (C at once), each with its own blocking
//! client and so its own connection; the parent runs one thread per live
//! process (plus that process's output reader), which also keeps the
//! process's parent-death signal armed while it lives.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crossbeam_channel::bounded;

use super::{RunContext, Strategy, StrategyKind, StrategyRun};
use crate::http::ClientPolicy;
use crate::sys::clock::mono_now_ns;
use crate::sys::rusage::Usage;
use crate::task::{TaskError, TaskOutcome, TaskSpec};
use crate::worker::config::WorkerSpawn;
use crate::worker::protocol::{FromWorker, ToWorker};
use crate::worker::{Event, WorkerMode, WorkerSet};
use crate::workload::TaskPlan;

pub(super) const DESCRIPTION: &str =
    "a new worker process per task (spawn, one request, exit), at most C alive (multiprocessing.Process per request)";

pub(super) struct ProcessPerTask;

impl Strategy for ProcessPerTask {
    fn kind(&self) -> StrategyKind {
        StrategyKind::ProcessPerTask
    }

    fn in_flight_limit(&self, ctx: &RunContext) -> usize {
        ctx.concurrency
    }

    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
        // Workers measure their tasks' queued time from here (one clock for all processes).
        let run_start_ns = mono_now_ns();
        // The parent paces the spawns; a child's own retries are not paced.
        let unpaced = ClientPolicy {
            rate_per_s: None,
            ..ctx.options.policy
        };
        let spawn = ctx.workers_spawn(WorkerMode::Tasks, plan, run_start_ns, 1, unpaced)?;
        let session = ctx.session(plan, run_start_ns);
        let c = ctx.concurrency.min(plan.specs.len()).max(1);
        // A token per live process: taking one blocks until a process has ended.
        let (tokens_tx, tokens_rx) = bounded::<()>(c);
        for _ in 0..c {
            tokens_tx.send(()).expect("capacity is c");
        }
        let outcomes = Mutex::new(Vec::with_capacity(plan.specs.len()));
        let usages = Mutex::new(Vec::with_capacity(plan.specs.len()));
        let (live, most_live) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for spec in &plan.specs {
                tokens_rx.recv().expect("the sender lives in this scope");
                if let Some(wait) = session.pace() {
                    crate::http::sleep_interruptible(wait);
                }
                // Interrupted or past the deadline: no process for a task that cannot start.
                if let Some(e) = session.stopped() {
                    outcomes
                        .lock()
                        .expect("outcomes lock")
                        .push(TaskOutcome::failed(spec.id, e));
                    let _ = tokens_tx.send(());
                    continue;
                }
                let (spawn, tokens_tx, outcomes, usages) = (&spawn, &tokens_tx, &outcomes, &usages);
                let (live, most_live) = (&live, &most_live);
                let started = std::thread::Builder::new()
                    .name("process-per-task".into())
                    .stack_size(256 * 1024)
                    .spawn_scoped(scope, move || {
                        most_live
                            .fetch_max(live.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                        let (outcome, usage) = one_process(spawn, spec);
                        crate::task::guard::record_done();
                        live.fetch_sub(1, Ordering::SeqCst);
                        outcomes.lock().expect("outcomes lock").push(outcome);
                        if let Some(u) = usage {
                            usages.lock().expect("usages lock").push(u);
                        }
                        let _ = tokens_tx.send(());
                    });
                if let Err(e) = started {
                    outcomes
                        .lock()
                        .expect("outcomes lock")
                        .push(TaskOutcome::failed(
                            spec.id,
                            TaskError::Worker(format!("cannot start a thread: {e}")),
                        ));
                    let _ = tokens_tx.send(());
                }
            }
        });
        let usages = usages.into_inner().expect("usages lock");
        let mut children = Usage::default();
        let mut largest_peak = 0;
        for u in &usages {
            largest_peak = largest_peak.max(u.peak_rss_bytes);
            children.add(u);
        }
        // The sum of every child's peak would count memory that never coexisted.
        // Report the most children alive at once times the largest peak: an
        // upper bound of what was resident at once.
        children.peak_rss_bytes = largest_peak * most_live.load(Ordering::SeqCst) as u64;
        children.processes = plan.specs.len() as u64;
        Ok(StrategyRun {
            outcomes: outcomes.into_inner().expect("outcomes lock"),
            children,
            threads_started: plan.specs.len(),
            workers_replaced: 0,
            ..StrategyRun::default()
        })
    }
}

fn one_process(spawn: &WorkerSpawn, spec: &TaskSpec) -> (TaskOutcome, Option<Usage>) {
    let mut set = match WorkerSet::spawn(1, spawn) {
        Ok(set) => set,
        Err(e) => {
            return (
                TaskOutcome::failed(spec.id, TaskError::Worker(format!("{e:#}"))),
                None,
            )
        }
    };
    let _ = set.send(0, &ToWorker::Tasks(vec![*spec]));
    set.close_input(0);
    let mut outcome = None;
    while let Some(ev) = set.recv() {
        match ev {
            Event::Msg(_, FromWorker::Outcome(o)) => outcome = Some(o),
            Event::Msg(..) => {}
            Event::Gone(_, why) => {
                if outcome.is_none() {
                    outcome = Some(TaskOutcome::failed(spec.id, TaskError::Worker(why)));
                }
            }
        }
    }
    let usage = set.finish(|_| {});
    let outcome = outcome.unwrap_or_else(|| {
        TaskOutcome::failed(spec.id, TaskError::Worker("the worker said nothing".into()))
    });
    (outcome, Some(usage))
}
