//! `concbench run`: every chosen strategy over one plan, a table (or the
//! format asked for) on stdout, the results written atomically with `--out`.

use std::process::ExitCode;

use anyhow::Context;

use super::progress::RunProgress;
use super::{gate, options, resolve, target, verdict, warn_if_too_few_files};
use crate::bench;
use crate::cli::RunArgs;
use crate::error::UsageError;
use crate::interrupt;
use crate::report::{Format, ResultsFile};

/// `concbench run`.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    // First of all, so a Ctrl-C at any moment stops the run the same way.
    interrupt::install_parent();
    let args = &crate::cli::scenario::apply(args)?;
    let resolved = resolve(args)?;
    if args.shards.shard.is_some() && args.repeat != crate::cli::Repeat::Rounds(1) {
        return Err(UsageError::new(
            "--shard",
            "a run's shard measures one round (the rounds of shards on different hosts do not              pair up); drop --repeat, or shard a sweep, whose shards are whole cells",
        )
        .into());
    }
    // Before anything runs: a format that contradicts --out is bad input.
    let format = output_format(args)?;
    super::report::check_html_path(args.html.html.as_deref())?;
    if let Some(param) = resolved.preset_sweep.clone() {
        return super::sweep::run_sweep(args, resolved, vec![param], None);
    }
    let baseline = gate::baseline(&args.gate)?;
    let progress = RunProgress::new();
    if args.target.is_none() {
        progress.phase("starting the embedded mock server");
    }
    let (_server, target) = target(args)?;
    warn_if_too_few_files(resolved.workload.concurrency);
    let mut opts = options(args, &resolved);
    opts.on_step = Some(progress.on_step());
    let report = bench::run_workload(&resolved.workload, &resolved.kinds, &target, &opts)?;
    drop(progress);
    if report.meta.interrupted && report.results.is_empty() {
        eprintln!(
            "{} before any strategy finished: nothing was written.",
            crate::colour::interrupted()
        );
        return Ok(ExitCode::from(interrupt::EXIT_INTERRUPTED));
    }
    let results = ResultsFile::Run(report);
    if let (Some(b), false) = (&baseline, results_interrupted(&results)) {
        gate::same_plan(b, &results)?;
    }
    let ResultsFile::Run(report) = &results else {
        unreachable!("a run")
    };
    match &args.out {
        Some(path) => {
            crate::sys::fs::write_atomically(path, report.render(format))
                .with_context(|| format!("cannot write --out {}", path.display()))?;
            if format != Format::Table {
                print!("{}", report.render(Format::Table));
            }
            eprintln!("results written to {}", path.display());
        }
        None => print!("{}", report.render(format)),
    }
    if let Some(auto) = &report.meta.repeat_auto {
        if args.out.is_none() && format != Format::Table {
            eprintln!("{}", auto.describe(report.meta.repeat));
        }
    }
    if let Some(path) = &args.html.html {
        super::report::write_page(&crate::html::render_run(report)?, path)?;
        eprintln!("HTML report written to {}", path.display());
    }
    for (path, f) in exports(args) {
        crate::sys::fs::write_atomically(path, report.render(f))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("{} results written to {}", f.name(), path.display());
    }
    if report.meta.interrupted {
        let names: Vec<&str> = report.results.iter().map(|r| r.strategy.as_str()).collect();
        eprintln!(
            "{}: {} of {} strategies finished ({}); their results are {}.",
            crate::colour::interrupted(),
            names.len(),
            resolved.kinds.len() + args.external.externals.len(),
            names.join(", "),
            match &args.out {
                Some(p) => format!("in {}", p.display()),
                None => "printed above".into(),
            }
        );
        return Ok(ExitCode::from(interrupt::EXIT_INTERRUPTED));
    }
    let stdout_is_table = args.out.is_some() || format == Format::Table;
    let held = gate::after(&args.gate, &results, baseline.as_ref(), stdout_is_table)?;
    Ok(gate::exit_code(verdict(std::slice::from_ref(report)), held))
}

/// Whether Ctrl-C cut the run short (then no baseline or threshold applies).
fn results_interrupted(results: &ResultsFile) -> bool {
    matches!(results, ResultsFile::Run(r) if r.meta.interrupted)
}

/// The format of the results: `--out`'s extension (`.json`, `.csv`, `.md`)
/// says it, else `--format` does; the two may not disagree.
fn output_format(args: &RunArgs) -> Result<Format, UsageError> {
    let by_extension = args.out.as_deref().and_then(Format::of_path);
    match by_extension {
        Some(f) if args.given("format") && f != args.format => {
            Err(UsageError::new(
                "--out",
                format!(
                "{} is {} but --format {} was given; drop --format or name a file that ends in .{}",
                args.out.as_deref().unwrap_or(std::path::Path::new("")).display(),
                f.name(),
                args.format.name(),
                args.format.extension()
            ),
            ))
        }
        Some(f) => Ok(f),
        None => Ok(args.format),
    }
}

/// The `--export-*` files asked for, with their formats.
fn exports(args: &RunArgs) -> Vec<(&std::path::Path, Format)> {
    [
        (&args.export_json, Format::Json),
        (&args.export_csv, Format::Csv),
        (&args.export_markdown, Format::Markdown),
    ]
    .into_iter()
    .filter_map(|(path, f)| path.as_deref().map(|p| (p, f)))
    .collect()
}
