//! Scenario files: `concbench run --scenario FILE` (and `sweep --scenario FILE`).
//!
//! A scenario is a TOML file whose keys are the long flags of `concbench run`
//! (`cpu-units` or `cpu_units`) and whose values are what the flag would be
//! given on the command line:
//!
//! ```toml
//! # api-pull at C = 100
//! preset = "api-pull"                      # optional
//! strategies = ["thread-pool", "async"]    # an array is joined with commas
//! tasks = "1k"                             # strings, integers, floats, booleans: all become the flag's text
//! concurrency = 100
//! ```
//!
//! Nothing here knows a flag by name: each key is looked up as a long flag in
//! the `run` command clap builds from [`crate::cli::RunArgs`], its value is
//! turned into command-line words (`--tasks=1k`), and those words are parsed by
//! that same command, so every flag the command line has works in a scenario
//! file, with the same value parsers and the same messages. A flag without a
//! value takes `true` (given) or `false` (not given); a repeatable flag takes
//! an array, one occurrence per element.
//!
//! Precedence is command line > scenario > preset > defaults: [`apply`]
//! re-parses the original command line with the scenario's words added for
//! every flag the command line did not give (nor conflicts with), so a key set
//! by the scenario counts as given ([`RunArgs::given`]) and the preset yields to it.
//!
//! Every error is one line that names the file, the 1-based line and column
//! (in characters) and the fix, e.g.
//! `scenario.toml:3:9: tasks: 'ten' is not a count; write a whole number such as 200, 10k or 2M`.

use std::ffi::OsString;

use clap::{Arg, ArgAction, Command, CommandFactory};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::cli::{Cli, RunArgs};
use crate::error::UsageError;

/// A scenario file that cannot be used: where (1-based line and column) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ScenarioError {
    /// The file as the user named it.
    pub file: String,
    pub line: usize,
    /// In characters, not bytes.
    pub column: usize,
    /// What is wrong and how to fix it, on one line.
    pub message: String,
}

impl From<ScenarioError> for UsageError {
    fn from(e: ScenarioError) -> Self {
        UsageError::new(format!("{}:{}:{}", e.file, e.line, e.column), e.message)
    }
}

/// One key of a scenario file, as the flag it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The key as written, e.g. `cpu_units`.
    pub key: String,
    /// The clap id of the flag, e.g. `cpu_units` (what [`RunArgs::given`] takes).
    pub id: String,
    /// The long flag, e.g. `cpu-units`.
    pub flag: String,
    /// Its command-line words, e.g. `["--cpu-units=5k"]` (none for a flag set to `false`).
    pub args: Vec<String>,
    /// Where the key is (1-based line and column).
    pub line: usize,
    pub column: usize,
}

/// The `run` command as clap builds it (every flag complete, help and version included).
pub fn run_command() -> Command {
    let mut cli = Cli::command();
    cli.build();
    cli.find_subcommand("run")
        .expect("concbench has a run subcommand")
        .clone()
}

/// Parses a scenario's text (`file` only names it in errors) into the settings of
/// the `run` command's flags, each value checked by that flag's own parser.
pub fn parse(text: &str, file: &str) -> Result<Vec<Setting>, ScenarioError> {
    parse_for(&run_command(), text, file)
}

/// [`parse`] against any built clap command (its long flags are the keys).
pub fn parse_for(cmd: &Command, text: &str, file: &str) -> Result<Vec<Setting>, ScenarioError> {
    let table = parse_table(text, file)?;
    settings_of(cmd, text, file, table.get_ref())
}

/// A file of sections (`[io]`, `[cpu]`), each a scenario of its own: the
/// sections' names and settings, in file order (the built-in `check` suite).
pub fn parse_sections(
    text: &str,
    file: &str,
) -> Result<Vec<(String, Vec<Setting>)>, ScenarioError> {
    let cmd = run_command();
    let table = parse_table(text, file)?;
    let mut entries: Vec<(&Spanned<_>, &Spanned<DeValue>)> = table.get_ref().iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
        .into_iter()
        .map(|(key, value)| match value.get_ref() {
            DeValue::Table(t) => Ok((key.get_ref().to_string(), settings_of(&cmd, text, file, t)?)),
            _ => Err(error_at(
                text,
                file,
                key.span().start,
                "expected a section such as [io]".into(),
            )),
        })
        .collect()
}

/// The error at byte `offset` of `text`.
fn error_at(text: &str, file: &str, offset: usize, message: String) -> ScenarioError {
    let (line, column) = position(text, offset);
    ScenarioError {
        file: one_line(file),
        line,
        column,
        message: one_line(&message),
    }
}

/// The TOML of a scenario file, or where its syntax is wrong.
fn parse_table<'a>(text: &'a str, file: &str) -> Result<Spanned<DeTable<'a>>, ScenarioError> {
    DeTable::parse(text).map_err(|e| {
        let message = e.message().trim();
        let fix = if message.contains("duplicate") {
            "set each key once"
        } else {
            "write text in quotes, e.g. latency = \"50ms\""
        };
        error_at(
            text,
            file,
            e.span().map_or(0, |s| s.start),
            format!("{message} (TOML syntax; {fix})"),
        )
    })
}

/// The settings of one table's keys.
fn settings_of(
    cmd: &Command,
    text: &str,
    file: &str,
    table: &DeTable<'_>,
) -> Result<Vec<Setting>, ScenarioError> {
    let at = |offset: usize, message: String| error_at(text, file, offset, message);
    let mut entries: Vec<(&Spanned<_>, &Spanned<DeValue>)> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);

    let mut checker = cmd.clone();
    let mut settings: Vec<Setting> = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let written: &str = key.get_ref();
        let key_at = key.span().start;
        let name = written.replace('_', "-");
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(name.as_str()))
            .filter(|_| name != "scenario");
        let Some(arg) = arg else {
            return Err(at(key_at, unknown_key(cmd, written, &name)));
        };
        if matches!(
            arg.get_action(),
            ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
        ) {
            return Err(at(
                key_at,
                format!("`{written}` cannot be set in a scenario file; remove it"),
            ));
        }
        let id = arg.get_id().as_str();
        if let Some(prior) = settings.iter().find(|s| s.id == id) {
            return Err(at(
                key_at,
                format!(
                    "`{written}` is already set on line {} (as `{}`); keep one",
                    prior.line, prior.key
                ),
            ));
        }
        if let Some(prior) = settings.iter().find(|s| conflict(cmd, id, &s.id)) {
            return Err(at(
                key_at,
                format!(
                    "`{written}` cannot be used with `{}` (line {}); keep one of them",
                    prior.key, prior.line
                ),
            ));
        }
        let (args, value_at) = words(arg, &name, written, value).map_err(|(o, m)| at(o, m))?;
        let argv = std::iter::once("run".to_string()).chain(args.iter().cloned());
        if let Err(e) = checker.try_get_matches_from_mut(argv) {
            let shown = args.first().and_then(|a| a.split_once('=')).map(|(_, v)| v);
            return Err(at(
                value_at,
                format!("{written}: {}", clap_message(&e, shown.unwrap_or(""))),
            ));
        }
        let (line, column) = position(text, key_at);
        settings.push(Setting {
            key: written.to_string(),
            id: id.to_string(),
            flag: name,
            args,
            line,
            column,
        });
    }
    Ok(settings)
}

/// Reads and parses a scenario file; a file that cannot be read names its path and the OS error.
pub fn load(path: &std::path::Path) -> Result<Vec<Setting>, UsageError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError::new("--scenario", format!("cannot read {file}: {e}")))?;
    Ok(parse(&text, &file)?)
}

/// The flags with `--scenario` applied: the command line re-parsed with the
/// scenario's words added for every flag it did not give itself (command line >
/// scenario > preset > defaults). Without `--scenario`, the flags as they are.
/// Nothing is run and nothing is written before this succeeds.
pub fn apply(args: &RunArgs) -> anyhow::Result<RunArgs> {
    let Some(path) = &args.scenario else {
        return Ok(args.clone());
    };
    let settings = load(path)?;
    if args.argv.is_empty() {
        anyhow::bail!("--scenario needs the command line as given: parse it with cli::parse_from");
    }
    let cmd = run_command();
    let extra: Vec<OsString> = settings
        .iter()
        .filter(|s| !args.given(&s.id))
        .filter(|s| !args.explicit.iter().any(|id| conflict(&cmd, &s.id, id)))
        .flat_map(|s| s.args.iter().map(OsString::from))
        .collect();
    let mut argv = args.argv.clone();
    // Before a `--` (after which nothing is a flag), else at the end.
    let at = argv
        .iter()
        .skip(1)
        .position(|a| a == "--")
        .map_or(argv.len(), |i| i + 1);
    argv.splice(at..at, extra);
    let file = path.display().to_string();
    let cli =
        crate::cli::parse_from(argv).map_err(|e| UsageError::new(file, clap_message(&e, "")))?;
    match cli.command {
        crate::cli::Command::Run(run) => Ok(run),
        crate::cli::Command::Sweep(sweep) => Ok(sweep.run),
        _ => anyhow::bail!("--scenario applies to run and sweep only"),
    }
}

/// The command-line words for `value` of flag `arg`, and where the value starts;
/// or where and why it cannot be one.
fn words(
    arg: &Arg,
    name: &str,
    written: &str,
    value: &Spanned<DeValue>,
) -> Result<(Vec<String>, usize), (usize, String)> {
    let at = value.span().start;
    let scalars = |v: &Spanned<DeValue>| -> Result<Vec<String>, (usize, String)> {
        match v.get_ref() {
            DeValue::Array(items) => items.iter().map(|i| scalar(written, i)).collect(),
            _ => Ok(vec![scalar(written, v)?]),
        }
    };
    let words = match arg.get_action() {
        ArgAction::SetTrue | ArgAction::SetFalse => match value.get_ref() {
            DeValue::Boolean(true) => vec![format!("--{name}")],
            DeValue::Boolean(false) => vec![],
            DeValue::String(s) if s.trim() == "true" => vec![format!("--{name}")],
            DeValue::String(s) if s.trim() == "false" => vec![],
            _ => {
                return Err((
                    at,
                    format!("{written}: a flag without a value takes true or false"),
                ))
            }
        },
        ArgAction::Count => {
            let n = match value.get_ref() {
                DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix()).ok(),
                _ => None,
            };
            match n {
                Some(n @ 0..=255) => vec![format!("--{name}"); n as usize],
                _ => return Err((at, format!("{written}: give how many times, e.g. 2"))),
            }
        }
        ArgAction::Append => scalars(value)?
            .into_iter()
            .map(|v| format!("--{name}={v}"))
            .collect(),
        _ => vec![format!("--{name}={}", scalars(value)?.join(","))],
    };
    Ok((words, at))
}

/// A string, number or boolean as flag text.
fn scalar(written: &str, v: &Spanned<DeValue>) -> Result<String, (usize, String)> {
    Ok(match v.get_ref() {
        DeValue::String(s) => s.to_string(),
        DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix())
            .map(|n| n.to_string())
            .unwrap_or_else(|_| i.to_string()),
        DeValue::Float(f) => f
            .as_str()
            .parse::<f64>()
            .map(|x| x.to_string())
            .unwrap_or_else(|_| f.as_str().to_string()),
        DeValue::Boolean(b) => b.to_string(),
        other => {
            return Err((
                v.span().start,
                format!(
                    "{written}: expected a string, number, boolean or an array of them, not {}",
                    match other {
                        DeValue::Array(_) => "an array of arrays",
                        DeValue::Table(_) => "a table",
                        _ => "a date",
                    }
                ),
            ))
        }
    })
}

/// The message for a key that is no flag of `cmd`: the closest flag, if one is close, and every key.
fn unknown_key(cmd: &Command, written: &str, name: &str) -> String {
    let keys: Vec<&str> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(Arg::get_long)
        .filter(|l| !matches!(*l, "help" | "version" | "scenario"))
        .collect();
    let closest = keys
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min();
    let hint = closest.map_or(String::new(), |(_, k)| format!(" (did you mean `{k}`?)"));
    if name == "scenario" {
        return format!("a scenario file cannot name another one; remove `{written}`");
    }
    format!(
        "unknown key `{written}`{hint}; keys are the long flags of `concbench run` \
         (see concbench run --help): {}",
        keys.join(", ")
    )
}

/// Whether clap refuses flags `a` and `b` together (in either direction).
fn conflict(cmd: &Command, a: &str, b: &str) -> bool {
    let find = |id: &str| cmd.get_arguments().find(|x| x.get_id() == id);
    let (Some(x), Some(y)) = (find(a), find(b)) else {
        return false;
    };
    if a == b {
        return false;
    }
    let names = |arg: &Arg| -> Vec<String> {
        cmd.get_arg_conflicts_with(arg)
            .iter()
            .map(|c| c.get_id().to_string())
            .collect()
    };
    x.is_exclusive_set()
        || y.is_exclusive_set()
        || names(x).iter().any(|n| n == b)
        || names(y).iter().any(|n| n == a)
}

/// What a clap error says about a value, on one line, without clap's own decoration.
fn clap_message(e: &clap::Error, value: &str) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if let Some(source) = std::error::Error::source(e) {
        return source.to_string();
    }
    if e.kind() == ErrorKind::InvalidValue {
        if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue) {
            return format!("'{value}' is not one of {}", valid.join(", "));
        }
    }
    let rendered = e.render().to_string();
    let first = rendered
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("invalid value");
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// `s` with control characters escaped, so an error stays one line.
fn one_line(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{parse_from, Command as Sub};

    fn words_of(text: &str) -> Vec<String> {
        parse(text, "s.toml")
            .unwrap()
            .into_iter()
            .flat_map(|s| s.args)
            .collect()
    }

    fn error_of(text: &str) -> ScenarioError {
        parse(text, "s.toml").unwrap_err()
    }

    /// A scenario file written to a fresh temporary path.
    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("concbench-scenario-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn run_args(argv: &[&str]) -> RunArgs {
        let cli = parse_from(argv.iter().copied()).unwrap();
        match cli.command {
            Sub::Run(a) => apply(&a).unwrap(),
            Sub::Sweep(s) => apply(&s.run).unwrap(),
            _ => panic!("not run or sweep"),
        }
    }

    #[test]
    fn values_of_every_toml_type_become_the_flags_text() {
        let w = words_of(
            "# a comment\n\
             strategies = [\"sequential\", \"async\"]\n\
             tasks = \"1k\"\n\
             concurrency = 100\n\
             seed = 0x10\n\
             repeat = 1_0\n\
             latency = 'uniform:200ms..700ms'\n",
        );
        assert_eq!(
            w,
            [
                "--strategies=sequential,async",
                "--tasks=1k",
                "--concurrency=100",
                "--seed=16",
                "--repeat=10",
                "--latency=uniform:200ms..700ms",
            ]
        );
        // A float is its number: 1.5k tasks is refused by the flag, not by the file.
        assert_eq!(error_of("workers = 2.5\n").line, 1);
        assert_eq!(words_of("tasks = 1e3\n"), ["--tasks=1000"]);
    }

    #[test]
    fn both_spellings_of_a_key_are_accepted_but_not_both_at_once() {
        assert_eq!(words_of("cpu-units = 5\n"), ["--cpu-units=5"]);
        assert_eq!(words_of("cpu_units = 5\n"), ["--cpu-units=5"]);
        let e = error_of("cpu-units = 5\n\ncpu_units = 6\n");
        assert_eq!((e.line, e.column), (3, 1));
        assert!(e.message.contains("already set on line 1"), "{e}");
    }

    #[test]
    fn a_scenario_key_with_a_bad_value_names_its_line_and_column() {
        let e = error_of("preset = \"api-pull\"\n\ntasks = \"ten\"\n");
        assert_eq!(
            e.to_string(),
            "s.toml:3:9: tasks: 'ten' is not a count; write a whole number such as 200, 10k or 2M"
        );
        // Columns count characters, not bytes.
        let e = error_of("# é\n  \"bytes\" = \"4 parsecs\" # ü\n");
        assert_eq!((e.line, e.column), (2, 13), "{e}");
        let e = error_of("connection = \"old\"\n");
        assert!(e.message.contains("reuse, new"), "{e}");
    }

    #[test]
    fn an_unknown_key_is_rejected_with_the_list_of_keys() {
        let e = error_of("tasks = 5\ntaks = 5\n");
        assert_eq!((e.line, e.column), (2, 1));
        assert!(
            e.message
                .starts_with("unknown key `taks` (did you mean `tasks`?)"),
            "{e}"
        );
        for key in ["preset", "tasks", "latency", "cpu-units", "sample-interval"] {
            assert!(e.message.contains(key), "{key} missing: {e}");
        }
        let (_, list) = e.message.split_once("--help): ").unwrap();
        let list: Vec<&str> = list.split(", ").collect();
        assert!(
            list.contains(&"cores") && list.contains(&"strategies"),
            "{e}"
        );
        for refused in ["help", "version", "scenario"] {
            assert!(!list.contains(&refused), "{refused} listed: {e}");
        }
        assert!(!error_of("zzzzzzzz = 1\n").message.contains("did you mean"));
    }

    #[test]
    fn help_version_and_a_nested_scenario_are_refused() {
        for (text, says) in [
            ("help = true\n", "cannot be set"),
            ("version = true\n", "cannot be set"),
            ("scenario = \"x.toml\"\n", "cannot name another"),
        ] {
            let e = error_of(text);
            assert!(e.message.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn tables_dates_and_nested_arrays_are_not_values() {
        for text in [
            "tasks.x = 5\n",
            "[tasks]\nx = 1\n",
            "seed = 1979-05-27\n",
            "strategies = [[\"a\"]]\n",
            "strategies = [{ a = 1 }]\n",
        ] {
            let e = error_of(text);
            assert!(
                e.message.contains("expected a string, number, boolean"),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn flags_that_conflict_cannot_both_be_set() {
        let e = error_of("cpu = \"1ms\"\ncpu-units = 5\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("cannot be used with `cpu`"), "{e}");
    }

    #[test]
    fn a_truncated_or_malformed_file_names_the_place_of_the_syntax_error() {
        let e = error_of("tasks = 5\nstrategies = [\"seq");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("TOML syntax"), "{e}");
        let e = error_of("latency = 50ms\n");
        assert_eq!((e.line, e.column), (1, 11));
        assert!(e.message.contains("quote"), "{e}");
        // A value with a newline in it still gives a one-line error.
        let e = error_of("tasks = \"a\\nb\"\n");
        assert!(!e.to_string().contains('\n'), "{e}");
    }

    #[test]
    fn boolean_counted_and_repeated_flags_follow_their_action() {
        let cmd = Command::new("run")
            .arg(Arg::new("dry").long("dry-run").action(ArgAction::SetTrue))
            .arg(Arg::new("verbose").long("verbose").action(ArgAction::Count))
            .arg(Arg::new("header").long("header").action(ArgAction::Append))
            .arg(
                Arg::new("rate")
                    .long("rate")
                    .value_parser(clap::value_parser!(u32)),
            );
        let args = |text: &str| -> Result<Vec<String>, ScenarioError> {
            Ok(parse_for(&cmd, text, "t.toml")?
                .into_iter()
                .flat_map(|s| s.args)
                .collect())
        };
        assert_eq!(args("dry_run = true\n").unwrap(), ["--dry-run"]);
        assert!(args("dry_run = false\n").unwrap().is_empty());
        assert!(args("dry_run = 1\n")
            .unwrap_err()
            .message
            .contains("true or false"));
        assert_eq!(args("verbose = 2\n").unwrap(), ["--verbose", "--verbose"]);
        assert_eq!(
            args("header = [\"a: 1\", \"b: 2\"]\n").unwrap(),
            ["--header=a: 1", "--header=b: 2"]
        );
        assert_eq!(args("rate = 7\n").unwrap(), ["--rate=7"]);
        let e = args("rate = \"fast\"\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 8));
        assert!(e.message.starts_with("rate: "), "{e}");
    }

    #[test]
    fn the_command_line_overrides_the_scenario_which_counts_as_given() {
        let path = file(
            "precedence.toml",
            "preset = \"api-pull\"\ntasks = 30\nlatency = \"2ms\"\nconcurrency = 7\n",
        );
        let p = path.to_str().unwrap();
        let a = run_args(&["concbench", "run", "--scenario", p, "-n", "5"]);
        assert_eq!(a.preset.as_deref(), Some("api-pull"));
        assert_eq!((a.tasks, a.concurrency), (5, 7));
        assert_eq!(a.latency.to_string(), "2ms");
        // Keys of the scenario count as given, so the preset yields to them.
        for id in ["tasks", "latency", "concurrency", "preset", "scenario"] {
            assert!(a.given(id), "{id}");
        }
        assert!(!a.given("bytes") && !a.given("strategies"));
        // The same through sweep, whose own flags stay.
        let s = run_args(&[
            "concbench",
            "sweep",
            "--param",
            "tasks=1,2",
            "--scenario",
            p,
        ]);
        assert_eq!((s.tasks, s.concurrency), (30, 7));
        // Applying twice changes nothing.
        let again = apply(&a).unwrap();
        assert_eq!((again.tasks, again.concurrency), (5, 7));
    }

    #[test]
    fn a_flag_on_the_command_line_wins_over_a_conflicting_scenario_key() {
        let path = file("conflict.toml", "cpu = \"1ms\"\n");
        let a = run_args(&[
            "concbench",
            "run",
            "--scenario",
            path.to_str().unwrap(),
            "--cpu-units",
            "5",
        ]);
        assert_eq!(a.cpu_units, Some(5));
        assert!(!a.given("cpu"));
    }

    #[test]
    fn a_missing_file_names_the_path_and_the_os_error() {
        let e = load(std::path::Path::new("/nonexistent/s.toml")).unwrap_err();
        assert_eq!(e.what, "--scenario");
        assert!(
            e.fix.contains("/nonexistent/s.toml") && e.fix.contains("No such file"),
            "{e}"
        );
    }

    #[test]
    fn positions_are_one_based_and_clamped() {
        assert_eq!(position("", 0), (1, 1));
        assert_eq!(position("ab\ncd", 4), (2, 2));
        assert_eq!(position("é", 1), (1, 1));
        assert_eq!(position("ab", 99), (1, 3));
    }
}
