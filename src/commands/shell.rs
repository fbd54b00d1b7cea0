//! `concbench completions SHELL` and `concbench man [COMMAND]`: what a shell
//! and `man` need, generated from the command line's own definition (so they
//! never drift from it), without the hidden commands and flags.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};

/// `concbench completions SHELL`: the script on stdout.
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = visible(&Cli::command());
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "concbench", &mut script);
    print(&script)
}

/// `concbench man [COMMAND]`: the page in roff on stdout.
pub fn man(args: &ManArgs) -> anyhow::Result<ExitCode> {
    let mut page = Vec::new();
    clap_mangen::Man::new(page_of(args.command.as_deref()))
        // No date (the page is the same whenever it is built), written as an
        // empty quoted argument of .TH: left out, the source and the manual
        // would move into its place.
        .date("\"\"")
        .source(format!("concbench {}", env!("CARGO_PKG_VERSION")))
        .manual("concbench manual")
        .render(&mut page)?;
    print(&page)
}

/// The command (built, so that subcommands carry their full names) whose page
/// `man` prints: concbench, or one of its commands.
fn page_of(command: Option<&str>) -> clap::Command {
    let mut cmd = visible(&Cli::command()).disable_help_subcommand(true);
    cmd.build();
    match command {
        None => cmd,
        Some(name) => cmd
            .find_subcommand(name)
            .cloned()
            .unwrap_or_else(|| panic!("no command {name} (cli::MAN_PAGES lists it)")),
    }
}

/// `cmd` without its hidden subcommands and arguments, at every level:
/// clap_complete's scripts would offer them, and clap cannot remove them from
/// a command, so this rebuilds the tree from what users see.
fn visible(cmd: &clap::Command) -> clap::Command {
    let shown = |a: &&clap::Arg| !a.is_hide_set();
    let mut out = clap::Command::new(cmd.get_name().to_string())
        .propagate_version(cmd.is_propagate_version_set())
        .subcommand_required(cmd.is_subcommand_required_set())
        .arg_required_else_help(cmd.is_arg_required_else_help_set())
        .visible_aliases(cmd.get_visible_aliases().map(str::to_string))
        .args(cmd.get_arguments().filter(shown).cloned())
        .subcommands(
            cmd.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(visible),
        );
    let texts = [
        (
            cmd.get_about(),
            clap::Command::about as fn(_, clap::builder::StyledStr) -> _,
        ),
        (cmd.get_long_about(), clap::Command::long_about),
        (cmd.get_before_help(), clap::Command::before_help),
        (cmd.get_before_long_help(), clap::Command::before_long_help),
        (cmd.get_after_help(), clap::Command::after_help),
        (cmd.get_after_long_help(), clap::Command::after_long_help),
    ];
    for (text, set) in texts {
        if let Some(text) = text {
            out = set(out, text.clone());
        }
    }
    if let Some(v) = cmd.get_version() {
        out = out.version(v.to_string());
    }
    if let Some(v) = cmd.get_long_version() {
        out = out.long_version(v.to_string());
    }
    if let Some(a) = cmd.get_author() {
        out = out.author(a.to_string());
    }
    let hidden: Vec<&clap::Id> = cmd
        .get_arguments()
        .filter(|a| a.is_hide_set())
        .map(clap::Arg::get_id)
        .collect();
    for group in cmd.get_groups() {
        let mut group = group.clone();
        let rebuilt = clap::ArgGroup::new(group.get_id().clone())
            .args(group.get_args().filter(|id| !hidden.contains(id)).cloned())
            .required(group.is_required_set())
            .multiple(group.is_multiple());
        out = out.group(rebuilt);
    }
    out
}

/// Writes `bytes` to stdout; a reader that went away (`| head`) is no error.
fn print(bytes: &[u8]) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What users see of a command, at every level: names, texts, flags.
    fn seen(cmd: &clap::Command, out: &mut Vec<String>) {
        let path = cmd.get_bin_name().unwrap_or(cmd.get_name()).to_string();
        out.push(format!(
            "{path}: {:?} {:?}",
            cmd.get_about(),
            cmd.get_long_about()
        ));
        for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            out.push(format!(
                "{path} {}: {:?} {:?} {:?} {:?} {:?}",
                a.get_id(),
                a.get_long(),
                a.get_short(),
                a.get_help(),
                a.get_default_values(),
                a.get_help_heading()
            ));
        }
        for s in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            seen(s, out);
        }
    }

    fn built(mut cmd: clap::Command) -> clap::Command {
        cmd.build();
        cmd
    }

    #[test]
    fn the_visible_tree_is_what_users_see_and_nothing_hidden() {
        let (mut all, mut shown) = (Vec::new(), Vec::new());
        seen(&built(Cli::command()), &mut all);
        let visible = built(visible(&Cli::command()));
        seen(&visible, &mut shown);
        assert_eq!(shown, all);
        fn nothing_hidden(cmd: &clap::Command) {
            assert!(!cmd.get_name().starts_with("__"), "{}", cmd.get_name());
            assert!(
                cmd.get_arguments().all(|a| !a.is_hide_set()),
                "{}",
                cmd.get_name()
            );
            cmd.get_subcommands().for_each(nothing_hidden);
        }
        nothing_hidden(&visible);
        visible.debug_assert();
    }

    #[test]
    fn man_has_a_page_of_every_visible_command() {
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.get_name().to_string())
            .collect();
        assert_eq!(names, crate::cli::MAN_PAGES);
        for name in [None]
            .into_iter()
            .chain(names.iter().map(|n| Some(n.as_str())))
        {
            let mut page = Vec::new();
            clap_mangen::Man::new(page_of(name))
                .render(&mut page)
                .unwrap();
            let page = String::from_utf8(page).unwrap();
            assert!(page.contains(".SH OPTIONS"), "{name:?}:\n{page}");
            assert!(
                !page.contains("test\\-panic") && !page.contains("__"),
                "{name:?}"
            );
        }
    }
}
