//! `concbench sweep`: one run per cell of a grid of one or two parameters,
//! a progress bar on a terminal, the sweep's JSON and CSV rewritten after
//! every cell so an interrupted sweep keeps what finished.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{gate, options, resolve, target, verdict, Resolved};
use crate::bench::sweep::{grid, run_sweep as run_cells, Sweep, SweepParam};
use crate::bench::Window;
use crate::cli::{RunArgs, SweepArgs};
use crate::error::UsageError;
use crate::interrupt;
use crate::report::file;
use crate::report::{Format, ResultsFile, RunReport};

/// `concbench sweep`.
pub fn sweep(args: &SweepArgs) -> anyhow::Result<ExitCode> {
    // First of all, so a Ctrl-C at any moment stops the sweep the same way.
    interrupt::install_parent();
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
    if params.len() == 2 && params[0].param == params[1].param {
        return Err(UsageError::new("--param", "the two swept parameters must differ").into());
    }
    if args.slo.is_some() && !params.iter().any(|p| p.param.name() == "arrival") {
        return Err(UsageError::new(
            "--slo",
            "needs a sweep of offered load: add --param arrival=rate:100/s,rate:200/s,...",
        )
        .into());
    }
    run_sweep(&args.run, resolved, params, args.slo)
}

/// Runs the sweep of `resolved` over `params` and reports it.
pub(super) fn run_sweep(
    args: &RunArgs,
    resolved: Resolved,
    params: Vec<SweepParam>,
    slo: Option<crate::report::slo::Slo>,
) -> anyhow::Result<ExitCode> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(format!("{}-sweep.json", resolved.scenario)));
    if let Some(flag) = [
        ("--export-json", &args.export_json),
        ("--export-csv", &args.export_csv),
        ("--export-markdown", &args.export_markdown),
    ]
    .iter()
    .find_map(|(flag, path)| path.as_ref().map(|_| *flag))
    {
        return Err(UsageError::new(
            flag,
            "is for run: a sweep writes --out (JSON) and a CSV beside it",
        )
        .into());
    }
    if let Some(f) = crate::report::Format::of_path(&out).filter(|f| *f != Format::Json) {
        return Err(UsageError::new(
            "--out",
            format!(
                "a sweep writes JSON (and a CSV beside it), not {}: name a .json file",
                f.name()
            ),
        )
        .into());
    }
    let csv_out = out.with_extension("csv");
    super::report::check_html_path(args.html.html.as_deref())?;
    let baseline = gate::baseline(&args.gate)?;
    let (_server, target) = target(args)?;
    let total_cells = match args.shards.shard {
        Some(s) => s.len_of(grid(&params).len()),
        None => grid(&params).len(),
    };
    let rounds = (args.repeat.max_rounds(&args.repeat_caps) + args.warmup) as u64;
    let rows = (resolved.kinds.len() + args.external.externals.len()) as u64;
    let bar = ProgressBar::new(total_cells as u64 * rows * rounds);
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
    let mut opts = options(args, &resolved);
    // A sweep's shard is a part of its cells; each cell runs its whole plan.
    opts.shard = None;
    let tick = bar.clone();
    opts.observer = Some(Arc::new(move |w| {
        if let Window::End(_) = w {
            tick.inc(1);
        }
    }));
    let sweep = Sweep {
        workload: &resolved.workload,
        kinds: &resolved.kinds,
        scenario: &resolved.scenario,
        params: &params,
        options: &opts,
        shard: args.shards.shard,
    };
    // The cell running now, for the table printed after it.
    let label = std::cell::RefCell::new(String::new());
    let (report, interrupted) = run_cells(
        &sweep,
        &target,
        |cell| {
            let words: Vec<String> = cell.iter().map(|(p, v)| format!("{p}={v}")).collect();
            *label.borrow_mut() = words.join(", ");
            bar.set_message(words.join(" "));
        },
        |so_far| {
            let run = &so_far.cells.last().expect("a cell just finished").report;
            bar.suspend(|| {
                if args.format == Format::Table {
                    println!("== {}", label.borrow());
                    print!("{}", run.render(Format::Table));
                    println!();
                }
            });
            // After every cell, so an interrupted sweep keeps what finished.
            file::write_sweep(&out, &csv_out, so_far)
        },
    )?;
    bar.finish_and_clear();
    if let (Some(path), false) = (&args.html.html, report.cells.is_empty()) {
        super::report::write_page(&crate::html::render_sweep(&report)?, path)?;
        eprintln!("HTML report written to {}", path.display());
    }
    if interrupted {
        if report.cells.is_empty() {
            eprintln!(
                "{} before any cell finished: nothing was written.",
                crate::colour::interrupted()
            );
        } else {
            eprintln!(
                "{}: {} of {} cells finished; they are in {} and {}.",
                crate::colour::interrupted(),
                report.cells.len(),
                total_cells,
                out.display(),
                csv_out.display()
            );
        }
        return Ok(ExitCode::from(interrupt::EXIT_INTERRUPTED));
    }
    eprintln!(
        "{} cells written to {} and {}",
        report.cells.len(),
        out.display(),
        csv_out.display()
    );
    let mut report = report;
    if let Some(s) = slo {
        if let Some(line) = s.line(&report) {
            println!("{line}");
        }
        // Kept with the results, so the charts can mark it.
        report.slo = Some(s.to_string());
        file::write_sweep(&out, &csv_out, &report)?;
    }
    let results = ResultsFile::Sweep(report);
    if let Some(b) = &baseline {
        gate::same_plan(b, &results)?;
    }
    let held = gate::after(
        &args.gate,
        &results,
        baseline.as_ref(),
        args.format == Format::Table,
    )?;
    let ResultsFile::Sweep(report) = results else {
        unreachable!("a sweep")
    };
    let reports: Vec<RunReport> = report.cells.into_iter().map(|c| c.report).collect();
    Ok(gate::exit_code(verdict(&reports), held))
}
