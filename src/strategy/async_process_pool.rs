//! `async-process-pool`: tokio (one current-thread runtime) does the I/O; the
//! CPU work over each body is shipped to W worker processes over pipes and
//! the result comes back through a oneshot channel. The concurrency permit is
//! held across fetch and CPU work, so at most C bodies wait for a worker. The
//! Python original is asyncio + `ProcessPoolExecutor` (`run_in_executor`).
//!
//! Starts W processes (default: one per core); in the parent, the runtime
//! thread, one bridge thread that hands jobs to the least busy worker and
//! routes results back, and one reader thread per worker.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use crossbeam_channel::{unbounded, Receiver};
use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinSet;

use super::{RunContext, Strategy, StrategyKind, StrategyRun};
use crate::client::ClientPolicy;
use crate::ipc::{CpuJob, FromWorker, ToWorker};
use crate::plan::{self, TaskPlan};
use crate::task::{self, Completed, TaskError, TaskOutcome};
use crate::worker::{Event, Selected, WorkerMode, WorkerSet, WorkerSpawn};

pub(super) const DESCRIPTION: &str =
    "tokio for I/O, CPU work shipped to W worker processes over pipes (asyncio + ProcessPoolExecutor)";

pub(super) struct AsyncProcessPool;

type Reply = oneshot::Sender<Result<Completed, TaskError>>;

impl Strategy for AsyncProcessPool {
    fn kind(&self) -> StrategyKind {
        StrategyKind::AsyncProcessPool
    }

    fn in_flight_limit(&self, ctx: &RunContext) -> usize {
        ctx.concurrency
    }

    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
        // The requests are made here, so queued time is measured here too.
        let run_start_ns = task::mono_now_ns();
        let w = ctx.workers_or_cores();
        let spawn = WorkerSpawn {
            exe: ctx.exe()?,
            mode: WorkerMode::Cpu,
            base_url: String::new(),
            seed: plan.seed,
            pool: 1,
            connection: ctx.connection,
            in_flight: 1,
            run_start_ns,
            policy: ClientPolicy::default(),
        };
        let set = WorkerSet::spawn(w, &spawn).context("starting the CPU worker processes")?;
        let (jobs_tx, jobs_rx) = unbounded::<(CpuJob, Reply)>();
        let bridge = std::thread::Builder::new()
            .name("async-process-pool-bridge".into())
            .spawn(move || bridge(set, jobs_rx))
            .context("cannot start the bridge thread")?;

        let runtime = tokio::runtime::Builder::new_current_thread()
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
                let permit = limit
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("semaphore is never closed");
                let (client, jobs_tx) = (client.clone(), jobs_tx.clone());
                set.spawn(async move {
                    // Held across fetch and CPU work: at most C bodies are in the system.
                    let _permit = permit;
                    let fetched = task::fetch_async(&client, &spec).await;
                    // From handing the body to the bridge to having the result
                    // back: the worker's CPU plus the wait for it and the IPC.
                    let handed_off = task::mono_now_ns();
                    let result = match &fetched.body {
                        Err(e) => Err(e.clone()),
                        Ok(body) => {
                            let (tx, rx) = oneshot::channel();
                            let job = CpuJob {
                                id: spec.id,
                                units: spec.cpu_units,
                                body: body.to_vec(),
                            };
                            if jobs_tx.send((job, tx)).is_err() {
                                Err(TaskError::Worker("the CPU pool is gone".into()))
                            } else {
                                rx.await.unwrap_or_else(|_| {
                                    Err(TaskError::Worker("the CPU pool dropped the job".into()))
                                })
                            }
                        }
                    };
                    let cpu_us = task::us_since(handed_off);
                    fetched.outcome(spec.id, result, cpu_us)
                });
                while let Some(done) = set.try_join_next() {
                    outcomes.push(done);
                }
            }
            while let Some(done) = set.join_next().await {
                outcomes.push(done);
            }
            outcomes
        });
        drop(jobs_tx);
        runtime.shutdown_background();
        let outcomes: Vec<TaskOutcome> = outcomes
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| plan::failed(u64::MAX, TaskError::Worker(e.to_string()))))
            .collect();
        let children = bridge
            .join()
            .map_err(|_| anyhow::anyhow!("the bridge thread panicked"))?;
        Ok(StrategyRun {
            outcomes,
            children,
            threads_started: 2 + w,
        })
    }
}

/// Hands each job to the alive worker with the fewest outstanding jobs and
/// routes each result to its task. Ends when no more jobs can come and none
/// is outstanding; returns the workers' usage.
fn bridge(mut set: WorkerSet, jobs: Receiver<(CpuJob, Reply)>) -> crate::strategy::ChildUsage {
    let w = set.len();
    let mut outstanding = vec![0usize; w];
    let mut alive = vec![true; w];
    let mut pending: HashMap<u64, (usize, Reply)> = HashMap::new();
    let mut jobs_open = true;
    loop {
        let selected = if jobs_open {
            set.recv_or(&jobs)
        } else if pending.is_empty() {
            break;
        } else {
            match set.recv() {
                Some(ev) => Selected::Event(ev),
                None => Selected::AllGone,
            }
        };
        match selected {
            Selected::Other(Some((job, reply))) => {
                let target = (0..w).filter(|&i| alive[i]).min_by_key(|&i| outstanding[i]);
                let Some(i) = target else {
                    let _ = reply.send(Err(TaskError::Worker("every CPU worker is gone".into())));
                    continue;
                };
                let id = job.id;
                if set.send(i, &ToWorker::Cpu(vec![job])).is_err() {
                    // Its Gone event will follow; this job fails with it.
                    alive[i] = false;
                    let _ = reply.send(Err(TaskError::Worker(format!(
                        "CPU worker {i} stopped reading"
                    ))));
                    continue;
                }
                outstanding[i] += 1;
                pending.insert(id, (i, reply));
            }
            Selected::Other(None) => jobs_open = false,
            Selected::Event(Event::Msg(i, FromWorker::Cpu { id, result })) => {
                outstanding[i] = outstanding[i].saturating_sub(1);
                if let Some((_, reply)) = pending.remove(&id) {
                    let _ = reply.send(Ok(result));
                }
            }
            Selected::Event(Event::Msg(..)) => {}
            Selected::Event(Event::Gone(i, why)) => {
                alive[i] = false;
                let lost: Vec<u64> = pending
                    .iter()
                    .filter(|(_, (wi, _))| *wi == i)
                    .map(|(id, _)| *id)
                    .collect();
                for id in lost {
                    if let Some((_, reply)) = pending.remove(&id) {
                        let _ = reply.send(Err(TaskError::Worker(why.clone())));
                    }
                }
            }
            Selected::AllGone => {
                for (_, (_, reply)) in pending.drain() {
                    let _ = reply.send(Err(TaskError::Worker("every CPU worker is gone".into())));
                }
                alive.iter_mut().for_each(|a| *a = false);
                if !jobs_open {
                    break;
                }
                // Keep answering jobs (with failures) until the sender closes.
                match jobs.recv() {
                    Ok((_, reply)) => {
                        let _ =
                            reply.send(Err(TaskError::Worker("every CPU worker is gone".into())));
                    }
                    Err(_) => break,
                }
            }
        }
    }
    set.finish(|_| {})
}
