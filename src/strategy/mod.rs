//! The concurrency models: one [`Strategy`] trait, one [`StrategyKind`]
//! variant and one file per model.
//!
//! A strategy gets the plan and a [`RunContext`] and returns one
//! [`TaskOutcome`] per task plus whatever it knows about processes it started
//! ([`StrategyRun`]). The trait is synchronous: async strategies own their
//! runtime; process strategies (re-executing the binary as a hidden worker)
//! report their children's resource usage through [`ChildUsage`]. Per-task
//! failures are outcomes; `Err` is only for a strategy that could not start.
//!
//! Adding a model: one file here, one variant in [`StrategyKind`] and its arm
//! in [`StrategyKind::create`].

mod async_process_pool;
mod async_rayon;
mod async_single;
mod async_tokio;
mod pool_dispatch;
mod process_per_task;
mod process_pool;
mod process_pool_async;
// The file is named after the model; the module is not, so that it cannot be
// mistaken for the `rayon` crate.
#[path = "rayon.rs"]
mod rayon_pool;
mod sequential;
mod thread_per_task;
mod thread_pool;

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::str::FromStr;

use serde::Serialize;

use crate::client::{ClientPolicy, Session};
use crate::plan::{self, TaskPlan, TaskSpec};
use crate::task::{self, TaskError, TaskOutcome};

/// What every strategy is told about the run.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Base URL of the mock server, without a trailing slash.
    pub base_url: String,
    /// Requests in flight at once (C), for strategies that overlap requests.
    pub concurrency: usize,
    /// Cores the client may use (P): sizes runtimes and pools, and the bound's CPU term.
    pub cores: usize,
    /// Worker threads or processes of the pool strategies (W); `None` means each
    /// strategy's documented default (P for CPU pools and process pools).
    pub workers: Option<usize>,
    /// Keep-alive connections (`reuse`) or a new connection per request (`new`).
    pub connection: ConnectionMode,
    /// How process pools hand out tasks: in fixed chunks or one batch at a time.
    pub schedule: Schedule,
    /// Tasks per message to a pool worker under the dynamic schedule.
    pub batch: usize,
    /// The concbench executable that process strategies re-execute as workers;
    /// `None` is [`crate::server::concbench_exe`] (`CONCBENCH_EXE` or this executable).
    pub worker_exe: Option<std::path::PathBuf>,
    /// Timeout, retries, rate limit and deadline of every request (the same for every strategy).
    pub policy: ClientPolicy,
}

impl RunContext {
    /// A context with the defaults for everything but the target, C and P.
    pub fn new(base_url: impl Into<String>, concurrency: usize, cores: usize) -> Self {
        Self {
            base_url: base_url.into(),
            concurrency,
            cores,
            workers: None,
            connection: ConnectionMode::Reuse,
            schedule: Schedule::Dynamic,
            batch: 1,
            worker_exe: None,
            policy: ClientPolicy::default(),
        }
    }

    /// What every request of a run started at `run_start_ns` shares (in
    /// this process; worker processes build their own from the policy).
    pub fn session(&self, seed: u64, run_start_ns: u64) -> std::sync::Arc<Session> {
        std::sync::Arc::new(Session::new(
            &self.base_url,
            seed,
            run_start_ns,
            self.policy,
        ))
    }

    /// The executable to start workers from.
    pub fn exe(&self) -> anyhow::Result<std::path::PathBuf> {
        match &self.worker_exe {
            Some(p) => Ok(p.clone()),
            None => crate::server::concbench_exe(),
        }
    }

    /// W: `--workers`, or the number of cores.
    pub fn workers_or_cores(&self) -> usize {
        self.workers.unwrap_or(self.cores).max(1)
    }
}

/// Whether requests reuse keep-alive connections.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionMode {
    /// One keep-alive pool per worker (thread-based strategies share their process's pool).
    #[default]
    Reuse,
    /// A new TCP connection for every request (bounded by ephemeral ports, design.md).
    New,
}

/// How a process pool hands tasks to its workers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// Contiguous chunks decided up front, like `Pool.map`.
    Static,
    /// Batches handed to whichever worker is free, like `imap_unordered`.
    #[default]
    Dynamic,
}

/// CPU and memory of processes a strategy started, which the parent's own
/// `getrusage(RUSAGE_SELF)` cannot see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct ChildUsage {
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
    /// Sum of the children's peak resident sets.
    pub peak_rss_bytes: u64,
    pub ctx_switches_voluntary: u64,
    pub ctx_switches_involuntary: u64,
    pub processes: u64,
}

impl ChildUsage {
    /// Adds another child's usage (peak RSS adds up: the children ran side by side).
    pub fn add(&mut self, other: &ChildUsage) {
        self.cpu_user_s += other.cpu_user_s;
        self.cpu_sys_s += other.cpu_sys_s;
        self.peak_rss_bytes += other.peak_rss_bytes;
        self.ctx_switches_voluntary += other.ctx_switches_voluntary;
        self.ctx_switches_involuntary += other.ctx_switches_involuntary;
        self.processes += other.processes;
    }
}

/// What a strategy returns.
#[derive(Debug, Clone, Default)]
pub struct StrategyRun {
    /// One per task, in any order.
    pub outcomes: Vec<TaskOutcome>,
    /// Usage of child processes (zero for in-process strategies).
    pub children: ChildUsage,
    /// Threads the strategy started (runtime workers, pool threads), for the report.
    pub threads_started: usize,
}

/// A concurrency model.
pub trait Strategy: Send + Sync {
    /// Which model this is.
    fn kind(&self) -> StrategyKind;

    /// Most requests this strategy has in flight at once under `ctx`: the C of the bound.
    fn in_flight_limit(&self, ctx: &RunContext) -> usize;

    /// Runs every task of `plan` once.
    fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun>;
}

/// Every model concbench knows, by its command-line name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    Sequential,
    ThreadPerTask,
    ThreadPool,
    Rayon,
    ProcessPerTask,
    ProcessPool,
    Async,
    AsyncSingle,
    AsyncRayon,
    AsyncProcessPool,
    ProcessPoolAsync,
}

impl StrategyKind {
    /// Every kind, in report order.
    pub const ALL: &'static [StrategyKind] = &[
        StrategyKind::Sequential,
        StrategyKind::ThreadPerTask,
        StrategyKind::ThreadPool,
        StrategyKind::Rayon,
        StrategyKind::ProcessPerTask,
        StrategyKind::ProcessPool,
        StrategyKind::Async,
        StrategyKind::AsyncSingle,
        StrategyKind::AsyncRayon,
        StrategyKind::AsyncProcessPool,
        StrategyKind::ProcessPoolAsync,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Sequential => "sequential",
            StrategyKind::ThreadPerTask => "thread-per-task",
            StrategyKind::ThreadPool => "thread-pool",
            StrategyKind::Rayon => "rayon",
            StrategyKind::ProcessPerTask => "process-per-task",
            StrategyKind::ProcessPool => "process-pool",
            StrategyKind::Async => "async",
            StrategyKind::AsyncSingle => "async-single",
            StrategyKind::AsyncRayon => "async-rayon",
            StrategyKind::AsyncProcessPool => "async-process-pool",
            StrategyKind::ProcessPoolAsync => "process-pool-async",
        }
    }

    /// One line on the model, for `concbench list`.
    pub fn description(self) -> &'static str {
        match self {
            StrategyKind::Sequential => sequential::DESCRIPTION,
            StrategyKind::ThreadPerTask => thread_per_task::DESCRIPTION,
            StrategyKind::ThreadPool => thread_pool::DESCRIPTION,
            StrategyKind::Rayon => rayon_pool::DESCRIPTION,
            StrategyKind::ProcessPerTask => process_per_task::DESCRIPTION,
            StrategyKind::ProcessPool => process_pool::DESCRIPTION,
            StrategyKind::Async => async_tokio::DESCRIPTION,
            StrategyKind::AsyncSingle => async_single::DESCRIPTION,
            StrategyKind::AsyncRayon => async_rayon::DESCRIPTION,
            StrategyKind::AsyncProcessPool => async_process_pool::DESCRIPTION,
            StrategyKind::ProcessPoolAsync => process_pool_async::DESCRIPTION,
        }
    }

    /// The factory.
    pub fn create(self) -> Box<dyn Strategy> {
        match self {
            StrategyKind::Sequential => Box::new(sequential::Sequential),
            StrategyKind::ThreadPerTask => Box::new(thread_per_task::ThreadPerTask),
            StrategyKind::ThreadPool => Box::new(thread_pool::ThreadPool),
            StrategyKind::Rayon => Box::new(rayon_pool::Rayon),
            StrategyKind::ProcessPerTask => Box::new(process_per_task::ProcessPerTask),
            StrategyKind::ProcessPool => Box::new(process_pool::ProcessPool),
            StrategyKind::Async => Box::new(async_tokio::AsyncTokio),
            StrategyKind::AsyncSingle => Box::new(async_single::AsyncSingle),
            StrategyKind::AsyncRayon => Box::new(async_rayon::AsyncRayon),
            StrategyKind::AsyncProcessPool => Box::new(async_process_pool::AsyncProcessPool),
            StrategyKind::ProcessPoolAsync => Box::new(process_pool_async::ProcessPoolAsync),
        }
    }
}

impl fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for StrategyKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown strategy '{}'; choose from {} or all (see `concbench list`)",
                    s.trim(),
                    names.join(", ")
                )
            })
    }
}

/// Stack size of the threads the blocking strategies start. The default
/// 2 MiB times 10k threads is a trap (design.md); a blocking request, its
/// body (on the heap) and the CPU kernel need far less.
pub(super) const THREAD_STACK_BYTES: usize = 256 * 1024;

/// [`task::run_blocking`], with a panic turned into a failed outcome for
/// that task: the thread survives, and the run still has one outcome per task.
pub(super) fn run_blocking_guarded(client: &task::BlockingClient, spec: &TaskSpec) -> TaskOutcome {
    panic::catch_unwind(AssertUnwindSafe(|| task::run_blocking(client, spec)))
        .unwrap_or_else(|p| plan::failed(spec.id, TaskError::Worker(panic_message(p.as_ref()))))
}

/// What a panic said, for a [`TaskError::Worker`].
pub(super) fn panic_message(payload: &(dyn Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    format!("panicked: {what}")
}

/// Runs `task(spec)` for every spec on the current tokio runtime, at most
/// `limit` at once: a task's slot is held until the task has finished all of
/// its work (fetch *and* CPU), so nothing queues up behind the limit. A
/// panicking task comes back as that task's failed outcome.
///
/// Every wait here is for a spawned task, so it is bounded by the work.
pub(super) async fn run_bounded<F, Fut>(
    specs: &[TaskSpec],
    limit: usize,
    mut task: F,
) -> Vec<TaskOutcome>
where
    F: FnMut(TaskSpec) -> Fut,
    Fut: Future<Output = TaskOutcome> + Send + 'static,
{
    let limit = limit.max(1);
    let mut set = tokio::task::JoinSet::new();
    // Which task each tokio task runs, so a panic still names its task.
    let mut ids = HashMap::with_capacity(limit);
    let mut outcomes = Vec::with_capacity(specs.len());
    for &spec in specs {
        while set.len() >= limit {
            let done = set.join_next_with_id().await.expect("the set is not empty");
            outcomes.push(settle(done, &mut ids));
        }
        let handle = set.spawn(task(spec));
        ids.insert(handle.id(), spec.id);
    }
    while let Some(done) = set.join_next_with_id().await {
        outcomes.push(settle(done, &mut ids));
    }
    outcomes
}

/// The outcome of a finished tokio task: its own, or a failure if it panicked.
fn settle(
    done: Result<(tokio::task::Id, TaskOutcome), tokio::task::JoinError>,
    ids: &mut HashMap<tokio::task::Id, u64>,
) -> TaskOutcome {
    match done {
        Ok((tid, outcome)) => {
            ids.remove(&tid);
            outcome
        }
        Err(e) => {
            let id = ids.remove(&e.id()).unwrap_or(u64::MAX);
            let why = if e.is_panic() {
                panic_message(e.into_panic().as_ref())
            } else {
                e.to_string()
            };
            plan::failed(id, TaskError::Worker(why))
        }
    }
}

/// Strategies chosen on the command line, in the order given, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection(pub Vec<StrategyKind>);

/// Parses `sequential,async` or `all` into a [`Selection`].
pub fn parse_selection(s: &str) -> Result<Selection, String> {
    parse_kinds(s).map(Selection)
}

fn parse_kinds(s: &str) -> Result<Vec<StrategyKind>, String> {
    if s.trim() == "all" {
        return Ok(StrategyKind::ALL.to_vec());
    }
    let mut kinds = Vec::new();
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let k: StrategyKind = part.parse()?;
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    if kinds.is_empty() {
        return Err("no strategy given; name one or more, e.g. sequential,async, or all".into());
    }
    Ok(kinds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::Completed;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for k in StrategyKind::ALL {
            assert_eq!(k.name().parse::<StrategyKind>(), Ok(*k));
            assert_eq!(k.create().kind(), *k);
            assert!(!k.description().is_empty());
        }
    }

    #[test]
    fn selections_accept_lists_and_all_and_name_the_choices_on_error() {
        assert_eq!(parse_selection("all").unwrap().0, StrategyKind::ALL);
        assert_eq!(
            parse_selection("async, sequential,async").unwrap().0,
            vec![StrategyKind::Async, StrategyKind::Sequential]
        );
        let e = parse_selection("sequential,fibers").unwrap_err();
        assert!(
            e.contains("'fibers'") && e.contains("sequential, ") && e.contains(", async,"),
            "{e}"
        );
    }

    #[test]
    fn a_panicking_async_task_becomes_its_own_failed_outcome() {
        let specs: Vec<TaskSpec> = (0..10)
            .map(|id| TaskSpec {
                id,
                latency_us: 0,
                bytes: 0,
                cpu_units: 0,
            })
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let outcomes = rt.block_on(run_bounded(&specs, 3, |spec| {
            let (running, most) = (running.clone(), most.clone());
            async move {
                use std::sync::atomic::Ordering::SeqCst;
                let now = running.fetch_add(1, SeqCst) + 1;
                most.fetch_max(now, SeqCst);
                tokio::task::yield_now().await;
                running.fetch_sub(1, SeqCst);
                assert_ne!(spec.id, 3, "task 3 breaks");
                TaskOutcome {
                    id: spec.id,
                    result: Ok(Completed::from_body(b"", 0)),
                    latency_us: 0,
                    server_lateness_us: None,
                    phases: Default::default(),
                    attempts: 1,
                    unreached: 0,
                }
            }
        }));
        assert_eq!(outcomes.len(), 10);
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 3);
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
    fn a_panic_message_is_kept() {
        let p = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "panicked: boom 7");
    }
}
