//! Colour on a terminal, and nowhere else: `--color auto|always|never` and
//! [NO_COLOR](https://no-color.org/).
//!
//! One choice for the whole process, shared with clap's help and errors (both
//! read anstream's global choice): `always` colours even through a pipe and
//! wins over `NO_COLOR`; `never` never colours; `auto`, the default, colours a
//! stream only if it is a terminal and `NO_COLOR` is unset or empty (and, as
//! anstream reads it, `TERM` is not `dumb`, `CLICOLOR` is not `0`;
//! `CLICOLOR_FORCE` forces colour).
//!
//! Only what people read is coloured: the `Error:` and `Interrupted` of the
//! lines that end a command, the `warning:` prefix. Machine-readable output
//! (JSON, CSV, Markdown, files written with `--out`) never is.

use std::fmt;
use std::str::FromStr;

use anstyle::{AnsiColor, Color, Style};

/// When to colour (`--color`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum When {
    /// On a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always, even through a pipe or with `NO_COLOR` set.
    Always,
    /// Never.
    Never,
}

impl When {
    /// The values of `--color`, as written.
    pub const NAMES: [&'static str; 3] = ["auto", "always", "never"];

    /// The `--color` among program arguments (without the program's name):
    /// the last `--color WHEN` or `--color=WHEN` before a `--`, `auto` if none
    /// is valid. Read before clap parses them, so that clap's own errors
    /// follow it; clap then checks the flag as it checks any other.
    pub fn from_args<I, T>(args: I) -> When
    where
        I: IntoIterator<Item = T>,
        T: AsRef<std::ffi::OsStr>,
    {
        let mut when = When::Auto;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(arg) = arg.as_ref().to_str() else {
                continue;
            };
            let value = match arg {
                "--" => break,
                "--color" => args
                    .next()
                    .and_then(|v| v.as_ref().to_str().map(str::to_owned)),
                _ => arg.strip_prefix("--color=").map(str::to_owned),
            };
            if let Some(w) = value.and_then(|v| v.parse().ok()) {
                when = w;
            }
        }
        when
    }
}

impl FromStr for When {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(When::Auto),
            "always" => Ok(When::Always),
            "never" => Ok(When::Never),
            _ => Err(format!("'{s}' is not one of {}", When::NAMES.join(", "))),
        }
    }
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            When::Auto => "auto",
            When::Always => "always",
            When::Never => "never",
        })
    }
}

/// Sets when to colour, here and in clap's help and errors.
pub fn set(when: When) {
    anstream::ColorChoice::write_global(match when {
        When::Auto => anstream::ColorChoice::Auto,
        When::Always => anstream::ColorChoice::Always,
        When::Never => anstream::ColorChoice::Never,
    });
}

/// Whether what this process writes to stderr is coloured.
pub fn on_stderr() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
}

/// Whether what this process writes to stdout is coloured (for text people
/// read on stdout, never for machine-readable output).
pub fn on_stdout() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

/// Errors and interruptions: red and bold.
pub const ERROR: Style = Style::new()
    .bold()
    .fg_color(Some(Color::Ansi(AnsiColor::Red)));
/// Warnings: yellow.
pub const WARNING: Style = Style::new().fg_color(Some(Color::Ansi(AnsiColor::Yellow)));

/// `text` in `style` if `on`, else as it is.
pub fn paint(on: bool, style: Style, text: &str) -> String {
    if on {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

/// `text` in `style` if stderr is coloured.
pub fn for_stderr(style: Style, text: &str) -> String {
    paint(on_stderr(), style, text)
}

/// `Error:`, for the start of an error line on stderr.
pub fn error_prefix() -> String {
    for_stderr(ERROR, "Error:")
}

/// `Interrupted`, for the start of a line on stderr after Ctrl-C or SIGTERM.
pub fn interrupted() -> String {
    for_stderr(ERROR, "Interrupted")
}

/// `warning:`, for the start of a warning on stderr.
pub fn warning_prefix() -> String {
    for_stderr(WARNING, "warning:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_color_flag_before_a_double_dash_counts() {
        let from = |args: &[&str]| When::from_args(args);
        assert_eq!(from(&["run", "-n", "5"]), When::Auto);
        assert_eq!(from(&["--color", "never", "run"]), When::Never);
        assert_eq!(from(&["run", "--color=always"]), When::Always);
        assert_eq!(
            from(&["--color", "never", "run", "--color", "always"]),
            When::Always
        );
        // Invalid values are clap's to report; they change nothing here.
        assert_eq!(
            from(&["--color=never", "--color", "sometimes"]),
            When::Never
        );
        assert_eq!(from(&["--color"]), When::Auto);
        assert_eq!(from(&["run", "--", "--color=never"]), When::Auto);
    }

    #[test]
    fn names_parse_and_print_back() {
        for name in When::NAMES {
            assert_eq!(name.parse::<When>().unwrap().to_string(), name);
        }
        assert!("yes"
            .parse::<When>()
            .unwrap_err()
            .contains("auto, always, never"));
    }

    #[test]
    fn painting_wraps_the_text_in_an_escape_and_a_reset_only_when_on() {
        assert_eq!(paint(false, ERROR, "Error:"), "Error:");
        assert_eq!(paint(true, ERROR, "Error:"), "\x1b[1m\x1b[31mError:\x1b[0m");
        assert_eq!(paint(true, WARNING, "warning:"), "\x1b[33mwarning:\x1b[0m");
    }
}
