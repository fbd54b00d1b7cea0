//! The guards every strategy and every worker process runs tasks under, one
//! copy each:
//! - [`catch`]: a blocking task that panics is that task's failed outcome
//!   (cause `worker`, its own id); the thread survives and the run still has
//!   one outcome per task.
//! - [`Bounded`]: at most N async tasks at once, each slot held until the
//!   task has finished all of its work (fetch *and* CPU), and a panicking
//!   task still named by its id; [`run_bounded`] runs a whole slice of specs
//!   through it.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::task::{Id, JoinError, JoinSet};

use super::{TaskError, TaskOutcome, TaskSpec};

/// Tasks finished in this process since it started (any outcome), for
/// progress displays: every guard here counts, and so does the parent's end
/// of the process strategies ([`record_done`]).
static DONE: AtomicU64 = AtomicU64::new(0);

/// Tasks finished in this process so far.
pub fn tasks_done() -> u64 {
    DONE.load(Ordering::Relaxed)
}

/// Counts one finished task (for outcomes that arrive from another process).
pub fn record_done() {
    DONE.fetch_add(1, Ordering::Relaxed);
}

/// What a panic said, for a [`TaskError::Worker`].
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    format!("panicked: {what}")
}

/// Runs task `id`'s blocking body; a panic becomes that task's failed outcome.
pub fn catch(id: u64, run: impl FnOnce() -> TaskOutcome) -> TaskOutcome {
    let outcome = panic::catch_unwind(AssertUnwindSafe(run))
        .unwrap_or_else(|p| TaskOutcome::failed(id, TaskError::Worker(panic_message(p.as_ref()))));
    record_done();
    outcome
}

/// Runs a piece of a task's work (e.g. its CPU work on a pool thread); a
/// panic becomes the task's [`TaskError::Worker`].
pub fn catch_result<T>(run: impl FnOnce() -> T) -> Result<T, TaskError> {
    panic::catch_unwind(AssertUnwindSafe(run))
        .map_err(|p| TaskError::Worker(panic_message(p.as_ref())))
}

/// At most `limit` async tasks at once on the current tokio runtime, each
/// remembered by its task id so that a panic still names its task.
///
/// Every wait here is for a spawned task, so it is bounded by the work.
pub struct Bounded {
    set: JoinSet<TaskOutcome>,
    /// Which task each tokio task runs.
    ids: HashMap<Id, u64>,
    limit: usize,
}

impl Bounded {
    /// Room for `limit` tasks at once (at least one).
    pub fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        Self {
            set: JoinSet::new(),
            ids: HashMap::with_capacity(limit.min(1 << 16)),
            limit,
        }
    }

    /// Whether another task may start now.
    pub fn has_room(&self) -> bool {
        self.set.len() < self.limit
    }

    /// Whether no task is running.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Starts task `id`; the caller has checked [`Self::has_room`].
    pub fn spawn<F>(&mut self, id: u64, task: F)
    where
        F: Future<Output = TaskOutcome> + Send + 'static,
    {
        debug_assert!(self.has_room());
        let handle = self.set.spawn(task);
        self.ids.insert(handle.id(), id);
    }

    /// The next task to finish, as its outcome; `None` when none is running.
    pub async fn join_next(&mut self) -> Option<TaskOutcome> {
        let done = self.set.join_next_with_id().await?;
        Some(self.settle(done))
    }

    /// Waits until a slot is free, then starts task `id`; outcomes of tasks
    /// that finished meanwhile go to `done`.
    pub async fn spawn_when_free<F>(&mut self, id: u64, task: F, done: &mut impl FnMut(TaskOutcome))
    where
        F: Future<Output = TaskOutcome> + Send + 'static,
    {
        while !self.has_room() {
            match self.join_next().await {
                Some(o) => done(o),
                None => break,
            }
        }
        self.spawn(id, task);
    }

    /// Waits for every running task; their outcomes go to `done`.
    pub async fn finish(mut self, done: &mut impl FnMut(TaskOutcome)) {
        while let Some(o) = self.join_next().await {
            done(o);
        }
    }

    /// The outcome of a finished tokio task: its own, or a failure of its
    /// task if it panicked (or was cancelled).
    fn settle(&mut self, done: Result<(Id, TaskOutcome), JoinError>) -> TaskOutcome {
        record_done();
        match done {
            Ok((tid, outcome)) => {
                self.ids.remove(&tid);
                outcome
            }
            Err(e) => {
                let id = self.ids.remove(&e.id()).unwrap_or(u64::MAX);
                let why = if e.is_panic() {
                    panic_message(e.into_panic().as_ref())
                } else {
                    e.to_string()
                };
                TaskOutcome::failed(id, TaskError::Worker(why))
            }
        }
    }
}

/// Runs `task(spec)` for every spec on the current tokio runtime, at most
/// `limit` at once; one outcome per spec, in the order they finished. Once
/// `stopped` says why no task may start any more (Ctrl-C, the deadline),
/// the rest fail with that cause at once, without running.
///
/// The limit is kept by `limit` lanes, each a tokio task that takes the
/// next spec from a shared counter and runs it to the end before it takes
/// another (as wrk and oha run one loop per connection). Nothing is spawned
/// per task and no driver is woken per task: the first version spawned a
/// tokio task per spec from a driver on the `block_on` thread, and the two
/// cross-thread wake-ups of every task (the driver woken by a finished task,
/// then a worker by the new one) were a fifth of the async client's CPU at
/// 0 ms latency. A lane catches a panicking task as that task's failed
/// outcome and goes on; should a lane itself be lost, its unfinished specs
/// still get a failed outcome each.
///
/// The caller is woken once, by the last lane to end (`LanesLeft`), and
/// only then collects the lanes: awaiting each lane as it ended woke the
/// `block_on` thread once per lane, 10,000 times in the answers' burst of
/// `-c 10k` (one task per lane).
pub async fn run_bounded<F, Fut>(
    specs: &[TaskSpec],
    limit: usize,
    stopped: impl Fn() -> Option<TaskError> + Send + Sync + 'static,
    task: F,
) -> Vec<TaskOutcome>
where
    F: Fn(TaskSpec) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TaskOutcome> + Send + 'static,
{
    use futures_util::FutureExt;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    let all: Arc<[TaskSpec]> = specs.into();
    let next = Arc::new(AtomicUsize::new(0));
    let shared = Arc::new((task, stopped));
    let lane_count = limit.max(1).min(all.len());
    let left = Arc::new(LanesLeft::new(lane_count));
    let mut lanes = JoinSet::new();
    for _ in 0..lane_count {
        let (all, next, shared) = (all.clone(), next.clone(), shared.clone());
        let ended = LaneEnd(left.clone());
        lanes.spawn(async move {
            // Dropped when the lane ends, however it ends (done, panicked, aborted).
            let _ended = ended;
            let (task, stopped) = &*shared;
            let mut outcomes = Vec::new();
            while let Some(&spec) = all.get(next.fetch_add(1, Ordering::Relaxed)) {
                let outcome = match stopped() {
                    Some(why) => TaskOutcome::failed(spec.id, why),
                    None => AssertUnwindSafe(task(spec))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|p| {
                            TaskOutcome::failed(
                                spec.id,
                                TaskError::Worker(panic_message(p.as_ref())),
                            )
                        }),
                };
                record_done();
                outcomes.push(outcome);
            }
            outcomes
        });
    }
    left.all_ended().await;
    let mut outcomes = Vec::with_capacity(all.len());
    let mut lost = None;
    while let Some(lane) = lanes.join_next().await {
        match lane {
            Ok(done) => outcomes.extend(done),
            Err(e) => lost = Some(e.to_string()),
        }
    }
    if let Some(why) = lost {
        let seen: std::collections::HashSet<u64> = outcomes.iter().map(|o| o.id).collect();
        for spec in all.iter().filter(|s| !seen.contains(&s.id)) {
            record_done();
            outcomes.push(TaskOutcome::failed(spec.id, TaskError::Worker(why.clone())));
        }
    }
    outcomes
}

/// How many lanes of a [`run_bounded`] have not ended yet, and the one
/// wake-up of its caller when none is left.
struct LanesLeft {
    left: std::sync::atomic::AtomicUsize,
    none: tokio::sync::Notify,
}

impl LanesLeft {
    fn new(lanes: usize) -> Self {
        Self {
            left: std::sync::atomic::AtomicUsize::new(lanes),
            none: tokio::sync::Notify::new(),
        }
    }

    /// Returns once every lane has ended (at once if none was started).
    async fn all_ended(&self) {
        // `notify_one` keeps its permit for a waiter that comes later.
        if self.left.load(Ordering::Acquire) > 0 {
            self.none.notified().await;
        }
    }
}

/// A lane's end, however it ends: the last one wakes the caller.
struct LaneEnd(std::sync::Arc<LanesLeft>);

impl Drop for LaneEnd {
    fn drop(&mut self) {
        if self.0.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.none.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::Completed;

    fn specs(n: u64) -> Vec<TaskSpec> {
        (0..n)
            .map(|id| TaskSpec {
                id,
                latency_us: 0,
                bytes: 0,
                cpu_units: 0,
            })
            .collect()
    }

    fn done(id: u64) -> TaskOutcome {
        TaskOutcome {
            id,
            result: Ok(Completed::from_body(b"", 0)),
            latency_us: 0,
            server_lateness_us: None,
            phases: Default::default(),
            attempts: 1,
            unreached: 0,
        }
    }

    #[test]
    fn a_panicking_async_task_becomes_its_own_failed_outcome() {
        let specs = specs(10);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = most.clone();
        let outcomes = rt.block_on(run_bounded(
            &specs,
            3,
            || None,
            move |spec| {
                let (running, most) = (running.clone(), most.clone());
                async move {
                    use std::sync::atomic::Ordering::SeqCst;
                    let now = running.fetch_add(1, SeqCst) + 1;
                    most.fetch_max(now, SeqCst);
                    tokio::task::yield_now().await;
                    running.fetch_sub(1, SeqCst);
                    assert_ne!(spec.id, 3, "task 3 breaks");
                    done(spec.id)
                }
            },
        ));
        assert_eq!(outcomes.len(), 10);
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 3);
        let broken: Vec<&TaskOutcome> = outcomes.iter().filter(|o| o.result.is_err()).collect();
        assert_eq!(broken.len(), 1);
        assert_eq!(broken[0].id, 3);
        let err = broken[0].result.as_ref().unwrap_err().to_string();
        assert!(
            err.contains("panicked") && err.contains("task 3 breaks"),
            "{err}"
        );
    }

    #[test]
    fn once_stopped_the_remaining_tasks_fail_with_the_cause_without_running() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ran = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = ran.clone();
        let outcomes = rt.block_on(run_bounded(
            &specs(100),
            4,
            move || {
                (count.load(std::sync::atomic::Ordering::SeqCst) >= 10)
                    .then(|| TaskError::Cancelled("stop".into()))
            },
            {
                let ran = ran.clone();
                move |spec| {
                    let ran = ran.clone();
                    async move {
                        ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        done(spec.id)
                    }
                }
            },
        ));
        assert_eq!(outcomes.len(), 100);
        let cancelled = outcomes.iter().filter(|o| o.result.is_err()).count();
        let ran = ran.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(ran + cancelled, 100);
        assert!(ran < 20, "{ran} tasks ran after the stop");
        let mut ids: Vec<u64> = outcomes.iter().map(|o| o.id).collect();
        ids.sort();
        assert_eq!(ids, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_lost_lane_still_ends_the_run_with_one_outcome_per_spec() {
        // A panic in `stopped` is outside the per-task catch: it loses its
        // whole lane, which must still count as ended (or the run would
        // wait for it forever) and leave its specs a failed outcome each.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let outcomes = rt.block_on(async {
            tokio::time::timeout(
                std::time::Duration::from_secs(10),
                run_bounded(
                    &specs(40),
                    4,
                    move || {
                        if asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 5 {
                            panic!("the stop check breaks");
                        }
                        None
                    },
                    |spec| async move { done(spec.id) },
                ),
            )
            .await
            .expect("the run ended")
        });
        let mut ids: Vec<u64> = outcomes.iter().map(|o| o.id).collect();
        ids.sort();
        assert_eq!(ids, (0..40).collect::<Vec<_>>());
        let lost: Vec<&TaskOutcome> = outcomes.iter().filter(|o| o.result.is_err()).collect();
        assert!(!lost.is_empty());
        for o in lost {
            let err = o.result.as_ref().unwrap_err().to_string();
            assert!(err.contains("the stop check breaks"), "{err}");
        }
    }

    #[test]
    fn a_panicking_blocking_task_becomes_its_own_failed_outcome() {
        let o = catch(7, || panic!("task 7 breaks"));
        assert_eq!(o.id, 7);
        assert_eq!(o.result.unwrap_err().cause(), "worker");
        assert_eq!(catch(8, || done(8)), done(8));
    }

    #[test]
    fn a_panic_message_is_kept() {
        let p = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "panicked: boom 7");
    }
}
