//! The `concbench` binary: parse, run, turn errors into one line and an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before parsing, so that clap's help and errors follow --color too.
    concbench::colour::set(concbench::colour::When::from_args(
        std::env::args_os().skip(1),
    ));
    let cli = match concbench::cli::parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(concbench::cli::report_clap_error(e)),
    };
    match concbench::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", concbench::error_line(&e));
            ExitCode::from(concbench::exit_code_for(&e))
        }
    }
}
