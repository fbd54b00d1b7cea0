//! clap's errors as concbench prints them: help and version in full, every
//! other error one line that keeps clap's tips and names the subcommand's --help.

use super::Cli;

/// Turns a clap error into its exit code, printing help and version in full
/// and every other error as one line that names the flag, keeps clap's
/// possible values and tips, and points at the subcommand's --help.
pub fn report_clap_error(e: clap::Error) -> u8 {
    let args: Vec<String> = std::env::args().collect();
    report_clap_error_for(e, &args)
}

/// [`report_clap_error`] for the command line `args` (the program first).
pub fn report_clap_error_for(e: clap::Error, args: &[String]) -> u8 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                crate::error::exit::USAGE
            } else {
                crate::error::exit::OK
            }
        }
        _ => {
            let rendered = e.render().to_string();
            let first = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("error: invalid arguments")
                .trim();
            let first = first.strip_prefix("error: ").unwrap_or(first);
            // "required arguments were not provided:" lists them on the
            // indented lines that follow: keep them on the one line.
            let listed: Vec<&str> = rendered
                .lines()
                .skip_while(|l| l.trim().is_empty())
                .skip(1)
                .take_while(|l| l.starts_with("  ") && !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let mut line = if first.ends_with(':') && !listed.is_empty() {
                format!("{first} {}", listed.join(", "))
            } else {
                first.to_string()
            };
            // clap's possible values and did-you-mean tips, on the same line.
            for extra in rendered.lines().map(str::trim) {
                if extra.starts_with("[possible values") {
                    line = format!("{line} {extra}");
                } else if let Some(tip) = extra.strip_prefix("tip: ") {
                    line = format!("{line}; {tip}");
                }
            }
            eprintln!(
                "{} {line} (see {})",
                crate::colour::error_prefix(),
                help_of(args)
            );
            crate::error::exit::USAGE
        }
    }
}

/// `concbench run --help` when `args` name a subcommand, else `concbench --help`.
fn help_of(args: &[String]) -> String {
    use clap::CommandFactory;
    let cmd = Cli::command();
    // The first word that names a subcommand (global flags such as
    // `--color always` may come before it).
    let sub = args.iter().skip(1).find_map(|a| {
        cmd.get_subcommands()
            .find(|s| !s.is_hide_set() && s.get_name() == a.as_str())
            .map(|s| s.get_name().to_string())
    });
    match sub {
        Some(s) => format!("concbench {s} --help"),
        None => "concbench --help".into(),
    }
}
