//! concbench: which concurrency model wins for this workload, and by how much.
//!
//! It runs interchangeable strategies (sequential, async, and the models that
//! follow) on exactly the same deterministic, verified work against a local
//! mock HTTP server, measures wall time, CPU, memory and latency, and holds
//! every run against the physical lower bound (`../shared/design.md`).
//!
//! # Layout
//! The data flow is one straight line, one module per step:
//! - [`cli`]: flags (clap) → [`workload::Workload`], validated, units in types.
//! - [`plan`]: Workload → [`plan::TaskPlan`] (deterministic from the seed), its
//!   lower bound, and the verification of every outcome.
//! - [`kernel`]: the CPU work over each body and its calibration.
//! - [`task`]: one task end to end on the blocking or the async client.
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
//! - [`report`]: the JSON contract and the table/CSV/Markdown exporters.
//! - [`units`], [`error`]: human units and the errors users read.
//!
//! The mock server is its own crate, `mock-server`, shared for its latency
//! distributions and payload generator.

pub mod cli;
pub mod error;
pub mod ipc;
pub mod kernel;
pub mod machine;
pub mod measure;
pub mod phases;
pub mod plan;
pub mod report;
pub mod runner;
pub mod sampler;
pub mod server;
pub mod strategy;
pub mod summary;
pub mod sweep;
pub mod task;
pub mod units;
pub mod worker;
pub mod workload;

use std::process::ExitCode;

use anyhow::Context;

use cli::{Cli, Command, RunArgs};
use error::exit;
use report::Format;
use runner::{RunOptions, Target};
use server::EmbeddedServer;
use strategy::StrategyKind;

/// Runs a parsed command line; the exit code says how it went (see [`error::exit`]).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run_command(&args),
        Command::List => {
            let width = StrategyKind::ALL
                .iter()
                .map(|k| k.name().len())
                .max()
                .unwrap_or(0);
            for k in StrategyKind::ALL {
                println!("{:width$}  {}", k.name(), k.description());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::MockServer(args) => {
            mock_server::cli::run_as_child(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker(args) => {
            worker::run_worker(&args)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_command(args: &RunArgs) -> anyhow::Result<ExitCode> {
    mock_server::raise_fd_limit();
    let workload = args.workload();
    workload.validate()?;
    // Held for the whole run; dropping it ends the server process.
    let embedded;
    let target = match &args.target {
        Some(url) => Target {
            url: url.clone(),
            label: "external".into(),
        },
        None => {
            embedded = EmbeddedServer::start(&[])?;
            Target {
                url: embedded.url().to_string(),
                label: "embedded".into(),
            }
        }
    };
    let options = RunOptions {
        cores: args.cores,
        workers: args.workers,
        connection: args.connection,
        schedule: args.schedule,
        batch: args.batch,
        worker_exe: None,
        repeat: args.repeat,
        warmup: args.warmup,
        sample_interval: Some(args.sample_interval),
        progress: true,
        observer: None,
        scenario: None,
    };
    let report = runner::run_workload(&workload, &args.strategies.0, &target, &options)?;
    match &args.out {
        Some(path) => {
            report::write_atomically(path, &report.render(args.format))
                .with_context(|| format!("cannot write --out {}", path.display()))?;
            if args.format != Format::Table {
                print!("{}", report.render(Format::Table));
            }
            eprintln!("results written to {}", path.display());
        }
        None => print!("{}", report.render(args.format)),
    }
    let failed: Vec<String> = report
        .results
        .iter()
        .filter(|r| r.tasks_failed > 0)
        .map(|r| {
            let causes: Vec<String> = r
                .failures
                .iter()
                .map(|(c, n)| format!("{c}: {n}"))
                .collect();
            format!(
                "{}: {} of {} tasks failed ({}); first: {}",
                r.strategy,
                r.tasks_failed,
                r.tasks,
                causes.join(", "),
                r.first_failure.as_deref().unwrap_or("?")
            )
        })
        .collect();
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for line in failed {
            eprintln!("Error: run failed verification: {line}");
        }
        Ok(ExitCode::from(exit::FAILED))
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
