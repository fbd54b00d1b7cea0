//! Regression checks around a run or a sweep: the named baseline read before
//! anything runs, the compare with it and the thresholds' verdicts printed
//! after the results, the baseline saved, and the exit code (99 when a
//! threshold did not hold, unless a task failed: that is 1).

use std::process::ExitCode;

use crate::cli::GateArgs;
use crate::error::{exit, UsageError};
use crate::report::compare::{self, CompareFormat};
use crate::report::threshold::{self, Outcome, Threshold};
use crate::report::{baselines, ResultsFile};

/// The baseline `--baseline` names, read before anything runs; a relative
/// threshold without one is a usage error.
pub(super) fn baseline(args: &GateArgs) -> anyhow::Result<Option<ResultsFile>> {
    if args.baseline.is_none() {
        if let Some(t) = args.fail_if.iter().find(|t| t.is_relative()) {
            return Err(UsageError::new(
                "--fail-if",
                format!(
                    "'{}' is relative to a baseline: add --baseline NAME (saved earlier with --save-baseline NAME)",
                    t.text
                ),
            )
            .into());
        }
    }
    args.baseline.as_deref().map(baselines::load).transpose()
}

/// Refuses a baseline of another plan (one line naming what differs).
pub(super) fn same_plan(baseline: &ResultsFile, results: &ResultsFile) -> anyhow::Result<()> {
    compare::compare(baseline, results, "the baseline", "this run")
        .map(|_| ())
        .map_err(|e| {
            UsageError::new(
                "--baseline",
                e.fix
                    .replace("OLD", "the baseline")
                    .replace("NEW", "this run"),
            )
            .into()
        })
}

/// Every threshold on every run of `results` (each sweep cell), relative
/// ones against the same run of `baseline`.
pub(super) fn evaluate(
    thresholds: &[Threshold],
    results: &ResultsFile,
    baseline: Option<&ResultsFile>,
) -> Vec<Outcome> {
    let base = |cell: Option<&str>| baseline.and_then(|b| compare::counterpart(b, cell));
    match results {
        ResultsFile::Run(r) => threshold::evaluate(thresholds, r, base(None), None),
        ResultsFile::Sweep(s) => s
            .cells
            .iter()
            .flat_map(|c| {
                let label = compare::cell_label(&c.values);
                threshold::evaluate(thresholds, &c.report, base(Some(&label)), Some(&label))
            })
            .collect(),
    }
}

/// After the results: the compare with the baseline, the thresholds'
/// verdicts (on stdout, or on stderr when stdout carries JSON, CSV or
/// Markdown), and the baseline saved. Returns whether every threshold held.
pub(super) fn after(
    args: &GateArgs,
    results: &ResultsFile,
    baseline: Option<&ResultsFile>,
    stdout_is_table: bool,
) -> anyhow::Result<bool> {
    let say = |text: &str| {
        if stdout_is_table {
            print!("{text}");
        } else {
            eprint!("{text}");
        }
    };
    if let (Some(b), Some(name)) = (baseline, &args.baseline) {
        let c = compare::compare(b, results, &format!("baseline {name}"), "this run")?;
        say(&format!("\n{}", c.render(CompareFormat::Table)));
    }
    let mut held = true;
    if !args.fail_if.is_empty() {
        let outcomes = evaluate(&args.fail_if, results, baseline);
        held = outcomes.iter().all(|o| o.passed);
        let symbols = if stdout_is_table {
            crate::colour::on_stdout()
        } else {
            crate::colour::on_stderr()
        };
        say(&format!(
            "\n{}",
            threshold::render(&outcomes, &args.fail_if, symbols)
        ));
    }
    if let Some(name) = &args.save_baseline {
        let path = baselines::save(name, results)?;
        eprintln!("baseline {name} saved to {}", path.display());
    }
    Ok(held)
}

/// The exit code: a failed task's (1) wins over a failed threshold's (99).
pub(super) fn exit_code(tasks: ExitCode, held: bool) -> ExitCode {
    if tasks != ExitCode::SUCCESS || held {
        tasks
    } else {
        eprintln!(
            "{} a threshold did not hold (exit {})",
            crate::colour::error_prefix(),
            exit::THRESHOLD
        );
        ExitCode::from(exit::THRESHOLD)
    }
}
