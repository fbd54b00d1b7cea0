//! concbench: which concurrency model wins for this workload, and by how much.
//!
//! It runs interchangeable strategies (sequential, async, and the models that
//! follow) on exactly the same deterministic, verified work against a local
//! mock HTTP server, measures wall time, CPU, memory and latency, and holds
//! every run against the physical lower bound (`../shared/design.md`).
//!
//! # Layout
//! The data flow is one straight line, one module per step:
//! - [`cli`]: flags (clap) → [`workload::Workload`], validated, units in types;
//!   [`commands`] carries out `run`, `sweep`, `report` and `list`; [`presets`]
//!   are the source articles' experiments by name; [`check`] is the CI
//!   performance gate.
//! - [`scenario`]: scenario files (TOML keyed by `run`'s long flags), between the command line and the preset.
//! - [`plan`]: Workload → [`plan::TaskPlan`] (deterministic from the seed), its
//!   lower bound, and the verification of every outcome.
//! - [`kernel`]: the CPU work over each body and its calibration.
//! - [`task`]: one task end to end on the blocking or the async client;
//!   [`client`] is what every client does about slow, failing and throttling
//!   servers (timeout, retries with backoff, rate limit, deadline).
//! - [`interrupt`]: Ctrl-C and SIGTERM: stop promptly, end the workers, keep what finished.
//! - [`strategy`]: the [`strategy::Strategy`] trait, [`strategy::StrategyKind`]
//!   and one file per concurrency model.
//! - [`measure`]: wall time, CPU, context switches and peak RSS of a run.
//! - [`sampler`]: the CPU-utilisation timeline of client and server during a run.
//! - [`machine`]: the machine's context (CPU, kernel) and how noisy it was (steal, pressure).
//! - [`phases`]: where the time went (queued, response, body, CPU), per
//!   strategy, from each task's [`task::Phases`].
//! - [`server`]: the embedded mock server (a child process) and server stats.
//! - [`worker`], [`ipc`]: worker processes (the binary re-executed) and the
//!   framed protocol the process strategies speak with them.
//! - [`runner`]: runs strategies over a plan (repeated, shuffled) into a [`report::RunReport`].
//! - [`summary`]: medians, ranges, confidence intervals and CVs over repeated rounds.
//! - [`sweep`]: a workload over a grid of one or two swept parameters.
//! - [`report`]: the JSON contract and the table/CSV/Markdown exporters;
//!   [`results`] loads saved results and holds their JSON schema.
//! - [`charts`]: SVG and PNG charts of a run or a sweep (plotters, font compiled in).
//! - [`units`], [`error`]: human units and the errors users read.
//!
//! The mock server is its own crate, `mock-server`, shared for its latency
//! distributions and payload generator.

pub mod bench;
pub mod charts;
pub mod cli;
pub mod commands;
pub mod error;
pub mod http;
pub mod interrupt;
pub mod measure;
pub mod report;
pub mod strategy;
pub mod sys;
pub mod task;
pub mod units;
pub mod worker;
pub mod workload;

use std::process::ExitCode;

use cli::{Cli, Command};
use error::exit;

/// Runs a parsed command line; the exit code says how it went (see [`error::exit`]).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => commands::run(&args),
        Command::Sweep(args) => commands::sweep(&args),
        Command::Report(args) => commands::report(&args),
        Command::Check(args) => commands::check(&args),
        Command::List => {
            commands::list();
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            println!("{}", report::file::schema_json());
            Ok(ExitCode::SUCCESS)
        }
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

/// The exit code for an error that ended the program: usage errors are 2, the rest 1.
pub fn exit_code_for(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<error::UsageError>().is_some() {
        exit::USAGE
    } else {
        exit::FAILED
    }
}
