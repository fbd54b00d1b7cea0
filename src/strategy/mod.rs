//! The concurrency models: one [`Strategy`] trait, one file per model, and
//! one registry ([`MODELS`]) that names them.
//!
//! A strategy gets the plan and a [`RunContext`] and returns one
//! [`TaskOutcome`] per task plus whatever it knows about processes it started
//! ([`StrategyRun`]). The trait is synchronous: async strategies own their
//! runtime; process strategies (re-executing the binary as a hidden worker)
//! report their children's resource usage as a [`Usage`]. Per-task
//! failures are outcomes; `Err` is only for a strategy that could not start.
//! Every strategy runs its tasks under [`crate::task::guard`], so a panicking
//! task is exactly one failed outcome with its own id.
//!
//! Adding a model: one file here with its `mod` line, and one row in the
//! `models!` table below (kind, name, type, colour). Nothing else changes:
//! `list`, `--strategies`, the reports and the charts all read the registry.
//!
//! A program given with `--external` ([`external`]) is not in the registry
//! (its name is the user's): the bench runs [`Contender`]s, a registered
//! model or an external program, each one row.

mod async_process_pool;
mod async_rayon;
mod async_single;
mod async_tokio;
mod context;
pub mod external;
mod offload;
mod pool_dispatch;
mod process_per_task;
mod process_pool;
mod process_pool_async;
// The file is named after the model; the module is not, so that it cannot be
// mistaken for the `rayon` crate.
#[path = "rayon.rs"]
mod rayon_pool;
mod sequential;
mod thread_per_core;
mod thread_per_task;
mod thread_pool;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

pub use context::{RunContext, Schedule, StrategyOptions};

use crate::sys::rusage::Usage;
use crate::task::TaskOutcome;
use crate::workload::TaskPlan;

/// What a strategy's run leaves open for its caller to close once the
/// measured window has ended: its client, with its idle keep-alive
/// connections, and the runtime they live on. Closing them is no task's
/// work: at the end of `-c 10k` runs it took 14–27 ms between the last
/// task's end and the end of the run (10,000 connections woken to close,
/// and the server taking their closes), counted as if a task ran. The
/// in-process models keep theirs here; thread-per-core's clients and the
/// process models' workers close with their threads and processes, inside
/// the window. Dropped in the order kept.
#[derive(Default)]
pub struct AfterWindow(Vec<Box<dyn Send>>);

impl AfterWindow {
    /// Keeps `open` until the window has ended.
    pub fn keep(mut self, open: impl Send + 'static) -> Self {
        self.0.push(Box::new(open));
        self
    }

    /// Keeps an async runtime (and every connection task on it) until the
    /// window has ended, then shuts it down, waiting at most 5 s for it.
    pub fn keep_runtime(self, runtime: tokio::runtime::Runtime) -> Self {
        struct ShutDown(Option<tokio::runtime::Runtime>);
        impl Drop for ShutDown {
            fn drop(&mut self) {
                if let Some(r) = self.0.take() {
                    r.shutdown_timeout(std::time::Duration::from_secs(5));
                }
            }
        }
        self.keep(ShutDown(Some(runtime)))
    }
}

impl fmt::Debug for AfterWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AfterWindow({} kept)", self.0.len())
    }
}

/// What a strategy returns.
#[derive(Debug, Default)]
pub struct StrategyRun {
    /// One per task, in any order.
    pub outcomes: Vec<TaskOutcome>,
    /// Usage of child processes (zero for in-process strategies).
    pub children: Usage,
    /// Threads the strategy started (runtime workers, pool threads), for the report.
    pub threads_started: usize,
    /// Worker processes replaced by fresh ones (`--max-tasks-per-child`).
    pub workers_replaced: u64,
    /// Connections opened before the measured window (`--preconnect`; 0
    /// for a strategy that opens them as its tasks go).
    pub connections_preopened: u64,
    /// Where the measured window began, when the strategy opened its
    /// connections first; `None`: at the start of its run.
    pub window_start: Option<crate::sys::rusage::WindowStart>,
    /// What the caller closes after the window (see [`AfterWindow`]).
    pub after_window: AfterWindow,
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

/// One registered model.
#[derive(Debug, Clone, Copy)]
pub struct Model {
    pub kind: StrategyKind,
    /// The name on the command line and in reports.
    pub name: &'static str,
    /// One line on the model, for `concbench list`.
    pub about: &'static str,
    /// Its colour in every chart (RGB), its own: a test holds every row to that.
    pub colour: (u8, u8, u8),
    /// The factory.
    pub new: fn() -> Box<dyn Strategy>,
}

/// Declares the registry: the [`StrategyKind`] enum, [`StrategyKind::ALL`]
/// and [`MODELS`], all from one row per model, so they cannot disagree.
macro_rules! models {
    ($($kind:ident => $name:literal, $module:ident::$ty:ident, $colour:expr;)*) => {
        /// Every model concbench knows, by its command-line name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum StrategyKind {
            $($kind,)*
        }

        impl StrategyKind {
            /// Every kind, in report order.
            pub const ALL: &'static [StrategyKind] = &[$(StrategyKind::$kind,)*];
        }

        /// Every registered model, in report order (the order of [`StrategyKind`]).
        pub static MODELS: &[Model] = &[$(Model {
            kind: StrategyKind::$kind,
            name: $name,
            about: $module::DESCRIPTION,
            colour: $colour,
            new: || Box::new($module::$ty),
        },)*];
    };
}

// Colours: Tableau 10 without its grey, then olive and cyan.
models! {
    Sequential       => "sequential",         sequential::Sequential,                 (0x4E, 0x79, 0xA7);
    ThreadPerTask    => "thread-per-task",    thread_per_task::ThreadPerTask,         (0xF2, 0x8E, 0x2B);
    ThreadPool       => "thread-pool",        thread_pool::ThreadPool,                (0xE1, 0x57, 0x59);
    Rayon            => "rayon",              rayon_pool::Rayon,                      (0x76, 0xB7, 0xB2);
    ProcessPerTask   => "process-per-task",   process_per_task::ProcessPerTask,       (0x59, 0xA1, 0x4F);
    ProcessPool      => "process-pool",       process_pool::ProcessPool,              (0xED, 0xC9, 0x48);
    Async            => "async",              async_tokio::AsyncTokio,                (0xB0, 0x7A, 0xA1);
    AsyncSingle      => "async-single",       async_single::AsyncSingle,              (0xFF, 0x9D, 0xA7);
    AsyncRayon       => "async-rayon",        async_rayon::AsyncRayon,                (0x9C, 0x75, 0x5F);
    AsyncProcessPool => "async-process-pool", async_process_pool::AsyncProcessPool,   (0xBC, 0xBD, 0x22);
    ProcessPoolAsync => "process-pool-async", process_pool_async::ProcessPoolAsync,   (0x17, 0xBE, 0xCF);
    ThreadPerCore    => "thread-per-core",    thread_per_core::ThreadPerCore,         (0x2F, 0x2F, 0x6F);
}

impl StrategyKind {
    /// This kind's row of the registry.
    pub fn model(self) -> &'static Model {
        &MODELS[self as usize]
    }

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        self.model().name
    }

    /// One line on the model, for `concbench list`.
    pub fn description(self) -> &'static str {
        self.model().about
    }

    /// Its colour in every chart.
    pub fn colour(self) -> (u8, u8, u8) {
        self.model().colour
    }

    /// The factory.
    pub fn create(self) -> Box<dyn Strategy> {
        (self.model().new)()
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

/// What runs as one row of a report: a registered model, or a program given
/// with `--external` (its name is not a [`StrategyKind`], so it cannot be one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contender {
    Model(StrategyKind),
    External(std::sync::Arc<external::ExternalModel>),
}

impl Contender {
    /// The row's name.
    pub fn name(&self) -> &str {
        match self {
            Contender::Model(k) => k.name(),
            Contender::External(e) => &e.name,
        }
    }

    /// Most requests in flight at once: the C of the bound (an external
    /// program is told C and trusted to keep to it; the server's
    /// `max_in_flight` shows whether it did).
    pub fn in_flight_limit(&self, ctx: &RunContext) -> usize {
        match self {
            Contender::Model(k) => k.create().in_flight_limit(ctx),
            Contender::External(_) => ctx.concurrency,
        }
    }

    /// Runs every task of `plan` once.
    pub fn run(&self, plan: &TaskPlan, ctx: &RunContext) -> anyhow::Result<StrategyRun> {
        let mut staged = self.prepare(plan)?;
        let run = self.launch(&mut staged, plan, ctx);
        self.settle(staged, run, plan, ctx)
    }

    /// What comes before the measured window (an external program's plan
    /// file); nothing for a model.
    pub fn prepare(&self, plan: &TaskPlan) -> anyhow::Result<Staged> {
        Ok(match self {
            Contender::Model(_) => Staged::Model,
            Contender::External(e) => Staged::External(e.prepare(plan)?),
        })
    }

    /// The measured window: the whole run of a model, an external program
    /// from its start to its end.
    pub fn launch(
        &self,
        staged: &mut Staged,
        plan: &TaskPlan,
        ctx: &RunContext,
    ) -> anyhow::Result<StrategyRun> {
        match (self, staged) {
            (Contender::External(e), Staged::External(s)) => Ok(e.launch(s, ctx)),
            (Contender::Model(k), _) => k.create().run(plan, ctx),
            (Contender::External(_), Staged::Model) => {
                anyhow::bail!("an external program launched without its plan file")
            }
        }
    }

    /// What comes after the measured window (an external program's results
    /// read and held to the server's counts); nothing for a model.
    pub fn settle(
        &self,
        staged: Staged,
        run: anyhow::Result<StrategyRun>,
        plan: &TaskPlan,
        ctx: &RunContext,
    ) -> anyhow::Result<StrategyRun> {
        match (self, staged) {
            (Contender::External(e), Staged::External(s)) => e.settle(s, run?, plan, ctx),
            _ => run,
        }
    }
}

/// A [`Contender`]'s run between its steps.
pub enum Staged {
    Model,
    External(external::Staged),
}

impl From<StrategyKind> for Contender {
    fn from(k: StrategyKind) -> Self {
        Contender::Model(k)
    }
}

impl fmt::Display for Contender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Stack size of the threads the blocking strategies start. The default
/// 2 MiB times 10k threads is a trap (10k threads take 0.4-0.5 s to start
/// even with small stacks); a blocking request, its body (on the heap) and
/// the CPU kernel need far less.
pub(super) const THREAD_STACK_BYTES: usize = 256 * 1024;

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

    #[test]
    fn what_is_kept_after_the_window_stays_open_until_closed_and_closes_in_order() {
        use std::sync::{Arc, Mutex};
        struct Open(&'static str, Arc<Mutex<Vec<&'static str>>>);
        impl Drop for Open {
            fn drop(&mut self) {
                self.1.lock().unwrap().push(self.0);
            }
        }
        let closed = Arc::new(Mutex::new(Vec::new()));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        // A connection's task on the runtime, idle until the runtime goes.
        let conn = Open("connection task", closed.clone());
        runtime.spawn(async move {
            let _conn = conn;
            std::future::pending::<()>().await
        });
        let kept = AfterWindow::default()
            .keep_runtime(runtime)
            .keep(Open("client", closed.clone()));
        assert!(closed.lock().unwrap().is_empty(), "nothing closes before");
        drop(kept);
        assert_eq!(*closed.lock().unwrap(), ["connection task", "client"]);
    }

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for k in StrategyKind::ALL {
            assert_eq!(k.name().parse::<StrategyKind>(), Ok(*k));
            assert_eq!(k.create().kind(), *k);
            assert!(!k.description().is_empty());
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                k.name(),
                "the JSON name is the CLI name"
            );
        }
    }

    #[test]
    fn every_registered_model_has_a_colour_of_its_own() {
        assert_eq!(MODELS.len(), StrategyKind::ALL.len());
        for (i, m) in MODELS.iter().enumerate() {
            assert_eq!(m.kind as usize, i, "{} is out of order", m.name);
            for other in &MODELS[..i] {
                assert_ne!(
                    m.colour, other.colour,
                    "{} and {} share a colour",
                    m.name, other.name
                );
                assert_ne!(m.name, other.name);
            }
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
}
