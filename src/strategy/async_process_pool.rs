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

use anyhow::Context;
use crossbeam_channel::{unbounded, Receiver};
use tokio::sync::oneshot;

use super::offload::fetch_then_offload;
use super::{RunContext, Strategy, StrategyKind, StrategyRun};
use crate::http::ClientPolicy;
use crate::sys::rusage::Usage;
use crate::task::{guard, Completed, TaskError};
use crate::worker::protocol::{CpuJob, FromWorker, ToWorker};
use crate::worker::{Event, Selected, WorkerMode, WorkerSet};
use crate::workload::TaskPlan;

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
        // Under --preconnect the connections are opened first, and the run
        // (the workers' start-up with it) begins after them.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the tokio runtime")?;
        let (client, connections_preopened, window_start) = ctx.async_client(plan, &runtime)?;
        // The requests are made here, so queued time is measured here too.
        let run_start_ns = client.session().run_start_ns;
        let w = ctx.workers_or_cores();
        let spawn = ctx.workers_spawn(
            WorkerMode::Cpu,
            plan,
            run_start_ns,
            1,
            ClientPolicy::default(),
        )?;
        let set = WorkerSet::spawn(w, &spawn).context("starting the CPU worker processes")?;
        let (jobs_tx, jobs_rx) = unbounded::<(CpuJob, Reply)>();
        let bridge = std::thread::Builder::new()
            .name("async-process-pool-bridge".into())
            .spawn(move || bridge(set, jobs_rx))
            .context("cannot start the bridge thread")?;
        let outcomes = runtime.block_on(guard::run_bounded(
            &plan.specs,
            ctx.concurrency,
            {
                let client = client.clone();
                move || client.session().stopped()
            },
            move |spec| {
                let (client, jobs_tx) = (client.clone(), jobs_tx.clone());
                // The slot is held across fetch and CPU work: at most C bodies are in the system.
                async move {
                    fetch_then_offload(&client, spec, |body| async move {
                        let (tx, rx) = oneshot::channel();
                        let job = CpuJob {
                            id: spec.id,
                            units: spec.cpu_units,
                            body: body.to_vec(),
                        };
                        if jobs_tx.send((job, tx)).is_err() {
                            return Err(TaskError::Worker("the CPU pool is gone".into()));
                        }
                        rx.await.unwrap_or_else(|_| {
                            Err(TaskError::Worker("the CPU pool dropped the job".into()))
                        })
                    })
                    .await
                }
            },
        ));
        // `jobs_tx` went with the task closure when run_bounded returned:
        // the bridge sees the channel close and ends.
        runtime.shutdown_background();
        let children = bridge
            .join()
            .map_err(|_| anyhow::anyhow!("the bridge thread panicked"))?;
        Ok(StrategyRun {
            outcomes,
            children,
            threads_started: 2 + w,
            workers_replaced: 0,
            connections_preopened,
            window_start,
            ..StrategyRun::default()
        })
    }
}

/// Hands each job to the alive worker with the fewest outstanding jobs and
/// routes each result to its task. Ends when no more jobs can come and none
/// is outstanding; returns the workers' usage.
fn bridge(mut set: WorkerSet, jobs: Receiver<(CpuJob, Reply)>) -> Usage {
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
