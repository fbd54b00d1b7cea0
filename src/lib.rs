//! concbench: which concurrency model wins for this workload, and by how much.
//!
//! It runs interchangeable strategies (sequential, threads, a thread pool,
//! rayon, processes, process pools, async, async with a CPU pool, a process
//! pool with a runtime in each worker) on exactly the same deterministic,
//! verified work against a local mock HTTP server, measures wall time, CPU
//! (every process counted), memory and latency, and holds every run against
//! the physical lower bound `max(Σ latency / C, Σ CPU / P, longest task)`
//! (and, under a client rate limit R, the (N − 1)/R it takes to start N requests)
//! ([`workload::Bound`]).
//!
//! # Using it as a library
//! The root re-exports what a user needs: describe a [`Workload`], pick
//! [`StrategyKind`]s (every model is a row of [`MODELS`]), run them with
//! [`run_workload`] against a [`Target`], and read the [`RunReport`] (or draw
//! it with [`render_run`]). To run your own task instead of requests to
//! the mock server, see [`user`]. Modules marked hidden are the implementation.
//!
//! # Layout
//! The data flow is one straight line: flags or a scenario file → a
//! [`Workload`] → a deterministic [`TaskPlan`] → each [`Strategy`] runs it →
//! measured → a [`RunReport`] → exporters and charts. The modules are layers,
//! leaves first; each imports only from the layers above it in this list
//! (the test `layout::tests` holds the code to this list):
//! 1. [`error`], [`units`], [`sys`], [`colour`]: errors users read, human
//!    units, every syscall (the shared clock, resource usage, live worker
//!    pids, locating the executable, atomic writes), and colour on a terminal.
//! 2. [`interrupt`]: Ctrl-C and SIGTERM: stop promptly, end the workers, keep what finished.
//! 3. [`task`]: what one task is (spec, outcome, failure causes, phases), the
//!    CPU kernel, and the guards tasks run under (panics, at most N at once).
//! 4. [`workload`], [`http`]: the workload and its deterministic plan, bound
//!    and verification; the HTTP clients and the policy they share.
//! 5. [`worker`]: worker processes (the binary re-executed), their one
//!    configuration, their protocol, both ends of the pipe.
//! 6. [`strategy`]: the [`Strategy`] trait, the registry of models, one file per model.
//! 7. [`measure`]: wall time, CPU, memory, the CPU timeline, the machine,
//!    and the embedded server.
//! 8. [`report`]: the JSON contract, saved files, statistics over rounds,
//!    the winner rule and the verdict (ties within noise), exporters (table,
//!    JSON, CSV, Markdown).
//! 9. [`bench`], [`charts`]: running strategies over a plan into rows
//!    (repeats, sweeps, the CI gate); SVG and PNG charts of saved reports.
//! 10. [`html`]: the one-file HTML report (its charts inline, from [`charts`]).
//! 11. [`cli`]: the command line: flags and their parsers (clap), scenario files, presets.
//! 12. [`commands`]: one file per subcommand, and the runner of a user's own
//!     task ([`user`]); the only layer that prints.
//!
//! The mock server is its own crate, `mock-server`, shared for its latency
//! distributions, payload generator and fault flags.

// Linux only, said at compile time rather than as a pile of missing symbols.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "concbench runs on Linux only: it reads /proc (CPU, memory, threads, pressure), sets \
     prctl(PR_SET_PDEATHSIG) so no worker or server outlives it, reaps children with wait4 \
     and stops them with signals"
);

#[doc(hidden)]
pub mod bench;
pub mod charts;
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod colour;
#[doc(hidden)]
pub mod commands;
pub mod error;
pub mod html;
#[doc(hidden)]
pub mod http;
#[doc(hidden)]
pub mod interrupt;
#[doc(hidden)]
pub mod measure;
pub mod report;
pub mod strategy;
#[doc(hidden)]
pub mod sys;
pub mod task;
#[doc(hidden)]
pub mod units;
#[doc(hidden)]
pub mod worker;
pub mod workload;

#[cfg(test)]
mod layout;

pub use bench::{run_workload, RunOptions, Target};
pub use charts::{render_run, render_sweep};
pub use commands::user;
pub use error::UsageError;
pub use http::{ClientPolicy, ConnectionMode};
pub use report::{ResultsFile, RunReport, StrategyResult, SweepReport};
pub use strategy::{
    RunContext, Schedule, Strategy, StrategyKind, StrategyOptions, StrategyRun, MODELS,
};
pub use task::{Completed, TaskError, TaskOutcome, TaskSpec};
pub use workload::{CpuWork, TaskPlan, Workload};

use std::process::ExitCode;

use cli::{Cli, Command};
use error::exit;

/// Runs a parsed command line; the exit code says how it went (see [`error::exit`]).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    colour::set(cli.color);
    match cli.command {
        Command::Run(args) => commands::run(&args),
        Command::Sweep(args) => commands::sweep(&args),
        Command::Report(args) => commands::report(&args),
        Command::Check(args) => commands::check(&args),
        Command::Compare(args) => commands::compare(&args),
        Command::Merge(args) => commands::merge(&args),
        Command::List => {
            commands::list();
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            println!("{}", report::file::schema_json());
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions(args) => commands::completions(&args),
        Command::Man(args) => commands::man(&args),
        Command::MockServer(args) => {
            mock_server::cli::run_as_child(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker(args) => {
            worker::child::run_worker(&args.config)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The exit code for an error that ended the program: usage errors are 2,
/// a Ctrl-C before anything could be kept 130, the rest 1.
pub fn exit_code_for(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<error::UsageError>().is_some() {
        exit::USAGE
    } else if e.downcast_ref::<error::Interrupted>().is_some() {
        exit::INTERRUPTED
    } else {
        exit::FAILED
    }
}

/// The line to print on stderr for an error that ended the program, its
/// first word (`Error:` or `Interrupted`) in red and bold when stderr is
/// coloured (see [`colour`]).
pub fn error_line(e: &anyhow::Error) -> String {
    match e.downcast_ref::<error::Interrupted>() {
        Some(i) => {
            let line = i.to_string();
            match line.strip_prefix("Interrupted") {
                Some(rest) => format!("{}{rest}", colour::interrupted()),
                None => line,
            }
        }
        None => format!("{} {e:#}", colour::error_prefix()),
    }
}
