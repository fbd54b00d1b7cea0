//! `concbench compare OLD NEW`: the comparison of two results files of one
//! plan as a table, Markdown or JSON on stdout; `--fail-if` held to NEW
//! (factors of OLD's figures); exit 2 for files of different plans, 99 for a
//! threshold that did not hold.

use std::process::ExitCode;

use super::gate;
use crate::cli::CompareArgs;
use crate::report::compare::{self, CompareFormat};
use crate::report::{file, threshold};

/// `concbench compare`.
pub fn compare(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let old = file::load(&args.old)?;
    let new = file::load(&args.new)?;
    let c = compare::compare(
        &old,
        &new,
        &args.old.display().to_string(),
        &args.new.display().to_string(),
    )?;
    print!("{}", c.render(args.format));
    if args.fail_if.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let outcomes = gate::evaluate(&args.fail_if, &new, Some(&old));
    let held = outcomes.iter().all(|o| o.passed);
    let text = threshold::render(&outcomes, &args.fail_if, crate::colour::on_stdout());
    if args.format == CompareFormat::Table {
        print!("\n{text}");
    } else {
        eprint!("\n{text}");
    }
    Ok(gate::exit_code(ExitCode::SUCCESS, held))
}
