//! What each subcommand does: `run`, `sweep`, `report` and `list`, between
//! the parsed flags and the library (presets applied, the embedded server
//! started, results written atomically, exit codes decided).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::bench::check;
use crate::bench::sweep::{self, SweepParam};
use crate::bench::{self, RunOptions, Target, Window};
use crate::cli::presets;
use crate::cli::{CheckArgs, ReportArgs, RunArgs, SweepArgs};
use crate::error::{exit, UsageError};
use crate::interrupt;
use crate::measure::server::EmbeddedServer;
use crate::report::file::{self, ResultsFile};
use crate::report::{Format, RunReport, SCHEMA_VERSION};
use crate::report::{SweepCell, SweepReport};
use crate::strategy::StrategyKind;
use crate::workload::{CpuWork, Workload};

/// A run as the flags and the preset together describe it.
struct Resolved {
    workload: Workload,
    kinds: Vec<StrategyKind>,
    scenario: String,
    /// The preset's own sweep, if it has one.
    preset_sweep: Option<SweepParam>,
}

fn resolve(args: &RunArgs) -> anyhow::Result<Resolved> {
    let mut workload = args.workload();
    let mut kinds = args.strategies.0.clone();
    let mut scenario = "custom".to_string();
    let mut preset_sweep = None;
    if let Some(name) = &args.preset {
        let p = presets::find(name).map_err(|e| UsageError::new("--preset", e))?;
        let w = &p.workload;
        if !args.given("tasks") {
            workload.tasks = w.tasks;
        }
        if !args.given("latency") {
            workload.latency = w.latency;
        }
        if !args.given("bytes") {
            workload.bytes = w.bytes;
        }
        if !args.given("cpu") && !args.given("cpu_units") {
            workload.cpu = w.cpu;
        }
        if !args.given("concurrency") {
            workload.concurrency = w.concurrency;
        }
        if !args.given("seed") {
            workload.seed = w.seed;
        }
        if !args.given("strategies") {
            kinds = p.strategies.to_vec();
        }
        if let Some((name, values)) = p.sweep {
            preset_sweep =
                Some(sweep::parse_param(&format!("{name}={values}")).map_err(anyhow::Error::msg)?);
        }
        scenario = p.name.to_string();
    }
    if matches!(workload.cpu, CpuWork::Time(_)) && args.cpu_units.is_some() {
        workload.cpu = CpuWork::Units(args.cpu_units.unwrap_or(0));
    }
    workload.validate()?;
    Ok(Resolved {
        workload,
        kinds,
        scenario,
        preset_sweep,
    })
}

fn options(args: &RunArgs, scenario: &str) -> RunOptions {
    RunOptions {
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
        scenario: Some(scenario.to_string()),
        policy: args.policy(),
        server_faults: args.faults.server_args().join(" "),
        test_panic_after: args.test_panic_after,
    }
}

/// The server a command drives: `--target`, or the embedded one (kept alive by the guard).
fn target(args: &RunArgs) -> anyhow::Result<(Option<EmbeddedServer>, Target)> {
    mock_server::raise_fd_limit();
    let fault_args = args.faults.server_args();
    if args.target.is_some() && !fault_args.is_empty() {
        return Err(UsageError::new(
            fault_args[0].clone(),
            "server faults configure the embedded server; with --target, give them to that \
             mock-server (e.g. mock-server --error-rate 0.1)",
        )
        .into());
    }
    Ok(match &args.target {
        Some(url) => (
            None,
            Target {
                url: url.clone(),
                label: "external".into(),
            },
        ),
        None => {
            let server = EmbeddedServer::start(&fault_args)?;
            let target = Target {
                url: server.url().to_string(),
                label: "embedded".into(),
            };
            (Some(server), target)
        }
    })
}

/// Warns when C connections cannot all be open at once in one process
/// (the soft limit was just raised to the hard one).
fn warn_if_too_few_files(concurrency: usize) {
    let limit = crate::sys::process::open_files_limit();
    if limit > 0 && concurrency as u64 + 64 > limit {
        eprintln!(
            "warning: --concurrency {concurrency} needs about {concurrency} open files in one \
             process, more than the {limit} this process may open: expect failures with cause \
             files_exhausted; lower --concurrency or raise the hard limit (ulimit -Hn)"
        );
    }
}

/// `concbench run`.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let args = &crate::cli::scenario::apply(args)?;
    let resolved = resolve(args)?;
    if let Some(param) = resolved.preset_sweep.clone() {
        return run_sweep(args, resolved, vec![param]);
    }
    let (_server, target) = target(args)?;
    warn_if_too_few_files(resolved.workload.concurrency);
    crate::interrupt::install_parent();
    let report = bench::run_workload(
        &resolved.workload,
        &resolved.kinds,
        &target,
        &options(args, &resolved.scenario),
    )?;
    if report.meta.interrupted && report.results.is_empty() {
        eprintln!("Interrupted before any strategy finished: nothing was written.");
        return Ok(ExitCode::from(interrupt::EXIT_INTERRUPTED));
    }
    match &args.out {
        Some(path) => {
            crate::sys::fs::write_atomically(path, report.render(args.format))
                .with_context(|| format!("cannot write --out {}", path.display()))?;
            if args.format != Format::Table {
                print!("{}", report.render(Format::Table));
            }
            eprintln!("results written to {}", path.display());
        }
        None => print!("{}", report.render(args.format)),
    }
    if report.meta.interrupted {
        let names: Vec<&str> = report.results.iter().map(|r| r.strategy.as_str()).collect();
        eprintln!(
            "Interrupted: {} of {} strategies finished ({}); their results are {}.",
            names.len(),
            resolved.kinds.len(),
            names.join(", "),
            match &args.out {
                Some(p) => format!("in {}", p.display()),
                None => "printed above".into(),
            }
        );
        return Ok(ExitCode::from(interrupt::EXIT_INTERRUPTED));
    }
    Ok(verdict(std::slice::from_ref(&report)))
}

/// Exit code for finished reports: 1 (with a line per failure) if any task failed anywhere.
fn verdict(reports: &[RunReport]) -> ExitCode {
    let mut failed = false;
    for r in reports
        .iter()
        .flat_map(|rep| &rep.results)
        .filter(|r| r.tasks_failed > 0)
    {
        failed = true;
        let causes: Vec<String> = r
            .failures
            .iter()
            .map(|(c, n)| format!("{c}: {n}"))
            .collect();
        eprintln!(
            "Error: {}: {} of {} tasks failed ({}); first: {}",
            r.strategy,
            r.tasks_failed,
            r.tasks,
            causes.join(", "),
            r.first_failure.as_deref().unwrap_or("?")
        );
    }
    if failed {
        ExitCode::from(exit::FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// `concbench sweep`.
pub fn sweep(args: &SweepArgs) -> anyhow::Result<ExitCode> {
    let run = crate::cli::scenario::apply(&args.run)?;
    let args = &SweepArgs {
        run,
        ..args.clone()
    };
    let resolved = resolve(&args.run)?;
    let params = if !args.params.is_empty() {
        args.params.clone()
    } else if let Some(p) = resolved.preset_sweep.clone() {
        vec![p]
    } else {
        return Err(UsageError::new(
            "--param",
            "name at least one parameter to sweep, e.g. --param concurrency=1,10,100",
        )
        .into());
    };
    if params.len() > 2 {
        return Err(UsageError::new("--param", "sweep one or two parameters, not more").into());
    }
    if params.len() == 2 && params[0].name == params[1].name {
        return Err(UsageError::new("--param", "the two swept parameters must differ").into());
    }
    run_sweep(&args.run, resolved, params)
}

fn run_sweep(
    args: &RunArgs,
    resolved: Resolved,
    params: Vec<SweepParam>,
) -> anyhow::Result<ExitCode> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(format!("{}-sweep.json", resolved.scenario)));
    let csv_out = out.with_extension("csv");
    let (_server, target) = target(args)?;
    crate::interrupt::install_parent();
    let cells = sweep::grid(&params);
    let total_cells = cells.len();
    let rounds = (args.repeat.max(1) + args.warmup) as u64;
    let bar = ProgressBar::new(cells.len() as u64 * resolved.kinds.len() as u64 * rounds);
    if std::io::stderr().is_terminal() {
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} runs, {elapsed} elapsed, ~{eta} left  {msg}",
            )
            .expect("valid template"),
        );
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let mut report = SweepReport {
        schema_version: SCHEMA_VERSION,
        kind: "sweep".into(),
        scenario: resolved.scenario.clone(),
        params: params.iter().map(|p| p.name.clone()).collect(),
        cells: Vec::with_capacity(cells.len()),
    };
    for cell in cells {
        let mut workload = resolved.workload.clone();
        let mut opts = options(args, &resolved.scenario);
        opts.progress = false;
        let tick = bar.clone();
        opts.observer = Some(Arc::new(move |w| {
            if let Window::End(_) = w {
                tick.inc(1);
            }
        }));
        let mut values = BTreeMap::new();
        let mut x = BTreeMap::new();
        for (name, value) in &cell {
            let v = sweep::apply(name, value, &mut workload, &mut opts)
                .map_err(|e| UsageError::new("--param", e))?;
            values.insert(name.clone(), value.clone());
            x.insert(name.clone(), v);
        }
        let label: Vec<String> = cell.iter().map(|(n, v)| format!("{n}={v}")).collect();
        bar.set_message(label.join(" "));
        let run = bench::run_workload(&workload, &resolved.kinds, &target, &opts)?;
        if run.meta.interrupted {
            // The cell was cut short: keep only the cells that finished.
            bar.finish_and_clear();
            if report.cells.is_empty() {
                eprintln!("Interrupted before any cell finished: nothing was written.");
            } else {
                eprintln!(
                    "Interrupted: {} of {} cells finished; they are in {} and {}.",
                    report.cells.len(),
                    total_cells,
                    out.display(),
                    csv_out.display()
                );
            }
            return Ok(ExitCode::from(interrupt::EXIT_INTERRUPTED));
        }
        bar.suspend(|| {
            if args.format == Format::Table {
                println!("== {}", label.join(", "));
                print!("{}", run.render(Format::Table));
                println!();
            }
        });
        report.cells.push(SweepCell {
            values,
            x,
            report: run,
        });
        // After every cell, so an interrupted sweep keeps what finished.
        file::write_sweep(&out, &csv_out, &report)?;
    }
    bar.finish_and_clear();
    eprintln!(
        "{} cells written to {} and {}",
        report.cells.len(),
        out.display(),
        csv_out.display()
    );
    let reports: Vec<RunReport> = report.cells.into_iter().map(|c| c.report).collect();
    Ok(verdict(&reports))
}

/// `concbench report`.
pub fn report(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let loaded = file::load(&args.results)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create --out {}", args.out.display()))?;
    let written = write_report(&loaded, &args.out)?;
    for p in &written {
        println!("{}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes every chart (SVG and PNG) and summary.md for `results` into `dir`;
/// returns the files written.
pub fn write_report(results: &ResultsFile, dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut written = match results {
        ResultsFile::Run(run) => crate::charts::render_run(run, dir)?,
        ResultsFile::Sweep(sweep) => crate::charts::render_sweep(sweep, dir)?,
    };
    // The summary embeds the PNGs, by name relative to itself.
    let pngs: Vec<std::path::PathBuf> = written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .filter_map(|p| p.file_name().map(std::path::PathBuf::from))
        .collect();
    let summary = dir.join("summary.md");
    let text = crate::report::export::summary_markdown(results, &pngs);
    crate::sys::fs::write_atomically(&summary, &text)
        .with_context(|| format!("cannot write {}", summary.display()))?;
    written.push(summary);
    Ok(written)
}

/// `concbench list`.
pub fn list() {
    let width = StrategyKind::ALL
        .iter()
        .map(|k| k.name().len())
        .chain(presets::all().iter().map(|p| p.name.len()))
        .max()
        .unwrap_or(0);
    println!("strategies (--strategies):");
    for k in StrategyKind::ALL {
        println!("  {:width$}  {}", k.name(), k.description());
    }
    println!("\npresets (--preset):");
    for p in presets::all() {
        println!("  {:width$}  {}", p.name, p.description);
    }
}

/// `concbench check`.
pub fn check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    if !(args.scale > 0.0 && args.scale <= 10.0) {
        return Err(UsageError::new("--scale", "use a factor above 0 and at most 10").into());
    }
    // Read the baseline first: a bad one is a usage error before anything runs.
    let baseline = if args.update_baseline {
        None
    } else {
        Some(check::load_baseline(&args.baseline)?)
    };
    let run_args_target = args.target.clone();
    mock_server::raise_fd_limit();
    let (_server, target) = match run_args_target {
        Some(url) => (
            None,
            Target {
                url,
                label: "external".into(),
            },
        ),
        None => {
            let server = EmbeddedServer::start(&[])?;
            let t = Target {
                url: server.url().to_string(),
                label: "embedded".into(),
            };
            (Some(server), t)
        }
    };
    let opts = check::CheckOptions {
        repeat: args.repeat,
        scale: args.scale,
        worker_exe: None,
    };
    eprintln!(
        "running the check suite ({} rounds per scenario) ...",
        opts.repeat
    );
    let mut now = check::measure_suite(&target, &opts, None)?;
    let Some(baseline) = baseline else {
        check::save_baseline(&args.baseline, now.clone())?;
        for (name, m) in &now {
            println!("{name:<40} {:>12.4}", m.value);
        }
        eprintln!("baseline written to {}", args.baseline.display());
        return Ok(ExitCode::SUCCESS);
    };
    let first = check::compare(&baseline, &now);
    let suspects: Vec<String> = first
        .iter()
        .filter(|v| v.regressed)
        .map(|v| v.metric.clone())
        .collect();
    if !suspects.is_empty() {
        // Measure again before anything counts; keep the better of the two readings.
        eprintln!(
            "suspected regression in {}: measuring again",
            suspects.join(", ")
        );
        let again = check::measure_suite(&target, &opts, Some(&suspects))?;
        for name in &suspects {
            if let (Some(a), Some(b)) = (now.get(name).copied(), again.get(name).copied()) {
                let better = match a.better {
                    check::Better::Higher => a.value.max(b.value),
                    check::Better::Lower => a.value.min(b.value),
                };
                now.insert(name.clone(), check::BaselineMetric { value: better, ..a });
            }
        }
    }
    let verdicts = check::compare(&baseline, &now);
    print!("{}", check::render(&verdicts));
    let confirmed: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.regressed)
        .map(|v| v.metric.as_str())
        .collect();
    if confirmed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "Error: confirmed performance regression in {}",
            confirmed.join(", ")
        );
        Ok(ExitCode::from(exit::FAILED))
    }
}
