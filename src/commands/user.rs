//! Your own task under every strategy, from your own crate, measured as
//! concbench measures its own: the same rows, results files, report and
//! charts. Re-exported as `concbench::user`.
//!
//! Implement [`UserTask`] (an I/O part in a blocking and an async form, a
//! CPU part, a check of the result), then make [`main`] your binary's whole
//! `main`, or call [`serve_worker_if_asked`] first thing in your own `main`
//! and [`run`] where you like. Process strategies re-execute your binary as
//! their workers (`your-binary __worker CONFIG`); the hook serves them and
//! exits, so your `main` never sees those arguments.
//!
//! ```no_run
//! use concbench::user::{self, UserTask};
//!
//! struct Square;
//!
//! impl UserTask for Square {
//!     fn name(&self) -> String {
//!         "square".into()
//!     }
//!     fn fetch_blocking(&self, id: u64) -> Result<Vec<u8>, String> {
//!         Ok(id.to_le_bytes().to_vec())
//!     }
//!     fn process(&self, _id: u64, input: &[u8]) -> u64 {
//!         let n = u64::from_le_bytes(input.try_into().unwrap());
//!         n * n
//!     }
//!     fn verify(&self, id: u64, result: u64) -> Result<(), String> {
//!         (result == id * id).then_some(()).ok_or_else(|| format!("{result} is not {id}²"))
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     user::main(|| Square)
//! }
//! ```

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

pub use crate::task::user::{installed, FetchFuture, UserTask, UserTaskRef};

use crate::bench::{run_workload, RunOptions, Target};
use crate::report::{Format, RunReport};
use crate::strategy::{self, Selection, StrategyKind, StrategyOptions};
use crate::task::user::install;
use crate::worker::WorkerConfig;
use crate::workload::{CpuWork, Workload};

/// How to run a user's task.
#[derive(Debug, Clone)]
pub struct UserRun {
    /// Tasks, with ids 0 to `tasks` − 1.
    pub tasks: usize,
    /// Tasks in flight at once (C) for the concurrent strategies.
    pub concurrency: usize,
    pub strategies: Vec<StrategyKind>,
    /// Threads or processes of the pools (W); `None`: one per core.
    pub workers: Option<usize>,
    /// Measured rounds per strategy (medians when more than one) and discarded ones before.
    pub repeat: usize,
    pub warmup: usize,
    /// Cores the client may use (P of the bound); `None`: all of them.
    pub cores: Option<usize>,
}

impl Default for UserRun {
    fn default() -> Self {
        Self {
            tasks: 100,
            concurrency: 16,
            strategies: StrategyKind::ALL.to_vec(),
            workers: None,
            repeat: 1,
            warmup: 0,
            cores: None,
        }
    }
}

/// The worker configuration if this process was started as a worker.
fn worker_config() -> Option<Result<WorkerConfig, String>> {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(OsStr::new("__worker")) {
        return None;
    }
    Some(
        args.next()
            .and_then(|a| a.into_string().ok())
            .ok_or_else(|| "__worker needs its configuration (concbench starts workers)".into())
            .and_then(|s| {
                serde_json::from_str(&s).map_err(|e| format!("not a worker configuration: {e}"))
            }),
    )
}

/// Serves as a worker and exits if this process was started as one (by a
/// process strategy re-executing this binary); returns at once otherwise.
/// Call it first thing in `main`, before anything else reads the arguments.
pub fn serve_worker_if_asked<T: UserTask>(make: impl FnOnce() -> T) {
    if let Some(config) = worker_config() {
        serve(config, make)
    }
}

/// Runs the worker loop with the user's task installed, then exits.
fn serve<T: UserTask>(config: Result<WorkerConfig, String>, make: impl FnOnce() -> T) -> ! {
    let code = match config {
        Ok(config) => {
            install(Arc::new(make()));
            match crate::worker::child::run_worker(&config) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("Error: {e:#}");
                    1
                }
            }
        }
        Err(e) => {
            eprintln!("Error: {e}");
            2
        }
    };
    std::process::exit(code)
}

/// Runs `task` under `how.strategies` and returns the report (its results
/// file is `report.render(Format::Json)`; `concbench report` draws it).
/// Process strategies re-execute this binary, so it must call
/// [`serve_worker_if_asked`] (or be [`main`]).
pub fn run(task: Arc<dyn UserTask>, how: &UserRun) -> anyhow::Result<RunReport> {
    // This run's own task, not the process's installed one (that is for
    // the workers, which install theirs before serving).
    let task = UserTaskRef(task);
    let workload = Workload {
        tasks: how.tasks,
        concurrency: how.concurrency,
        latency: mock_server::LatencyDist::Fixed(Duration::ZERO),
        bytes: 0,
        cpu: CpuWork::Units(0),
        seed: 1,
        work: Default::default(),
        arrival: Default::default(),
    };
    let options = RunOptions {
        cores: how.cores,
        strategy: StrategyOptions {
            workers: how.workers,
            worker_exe: Some(std::env::current_exe().context("locating this binary")?),
            user: Some(task.clone()),
            ..StrategyOptions::default()
        },
        repeat: how.repeat,
        warmup: how.warmup,
        scenario: Some(task.0.name()),
        ..RunOptions::default()
    };
    let target = Target {
        url: String::new(),
        label: "none (your own task)".into(),
    };
    run_workload(&workload, &how.strategies, &target, &options)
}

/// The command line of [`main`].
#[derive(Debug, Parser)]
#[command(about = "Runs this task under concbench's concurrency models and compares them.")]
struct UserArgs {
    /// Strategies to compare, comma-separated, or `all`.
    #[arg(long, short = 's', default_value = "all", value_parser = strategy::parse_selection)]
    strategies: Selection,
    /// Number of tasks (ids 0 to N-1).
    #[arg(long, short = 'n', default_value_t = 100)]
    tasks: usize,
    /// Tasks in flight at once (C).
    #[arg(long, short = 'c', default_value_t = 16)]
    concurrency: usize,
    /// Worker threads or processes of the pools (W); default: one per core.
    #[arg(long, short = 'w')]
    workers: Option<usize>,
    /// Measured rounds per strategy (medians when more than one).
    #[arg(long, short = 'r', default_value_t = 1)]
    repeat: usize,
    /// Discarded rounds before the measured ones.
    #[arg(long, default_value_t = 0)]
    warmup: usize,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write the results as JSON to FILE (atomically), for `concbench report`.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
}

/// A whole `main` for a user's binary: the worker hook, a small command
/// line (`--help` lists it), the comparison printed, the results file
/// written with `--out`, and concbench's exit codes (0; 1 when a task
/// failed; 2 for bad input).
pub fn main<T: UserTask>(make: impl FnOnce() -> T) -> ExitCode {
    if let Some(config) = worker_config() {
        serve(config, make)
    }
    let args = match UserArgs::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let how = UserRun {
        tasks: args.tasks,
        concurrency: args.concurrency,
        strategies: args.strategies.0.clone(),
        workers: args.workers,
        repeat: args.repeat,
        warmup: args.warmup,
        cores: None,
    };
    let result = run(Arc::new(make()), &how).and_then(|report| {
        if let Some(path) = &args.out {
            crate::sys::fs::write_atomically(path, report.render(Format::Json))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        print!("{}", report.render(args.format));
        Ok(super::verdict(std::slice::from_ref(&report)))
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", crate::error_line(&e));
            ExitCode::from(crate::exit_code_for(&e))
        }
    }
}
