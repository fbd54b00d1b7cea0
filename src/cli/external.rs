//! `--external NAME='COMMAND ARGS…'`: a program run as a model beside the
//! built-in ones (see [`crate::strategy::external`] for the contract). The
//! command is split into words the way a shell would split it (quotes and
//! backslashes), but no shell runs it.

use clap::Args;

use crate::strategy::external::ExternalModel;
use crate::strategy::StrategyKind;

/// The `--external` flags of `run` and `sweep`.
#[derive(Debug, Clone, Default, Args)]
pub struct ExternalArgs {
    /// Run a program of your own as a model, a row named NAME beside the built-in ones
    /// (repeatable). It gets the server's URL and the plan in its environment, must request
    /// every task once and write its results (see the README, "Your own program as a
    /// model"), e.g. --external py-async='.venv-python/bin/python scripts/python/asyncio_aiohttp.py'.
    #[arg(long = "external", value_name = "NAME='COMMAND ARGS…'", value_parser = parse_external)]
    pub externals: Vec<ExternalModel>,
}

impl ExternalArgs {
    /// The externals, or one line if two share a name.
    pub fn models(&self) -> Result<Vec<ExternalModel>, String> {
        for (i, e) in self.externals.iter().enumerate() {
            if self.externals[..i].iter().any(|o| o.name == e.name) {
                return Err(format!(
                    "two programs are named '{}'; give each its own name",
                    e.name
                ));
            }
        }
        Ok(self.externals.clone())
    }
}

/// Parses `NAME=COMMAND ARGS…`.
pub(crate) fn parse_external(s: &str) -> Result<ExternalModel, String> {
    let (name, command) = s
        .split_once('=')
        .ok_or("expected NAME='COMMAND ARGS…', e.g. py='python3 my_model.py'")?;
    let name = name.trim();
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(format!(
            "'{name}' is not a usable name: use letters, digits, '-', '_' or '.'"
        ));
    }
    if name.parse::<StrategyKind>().is_ok() || name == "all" {
        return Err(format!(
            "'{name}' is a built-in model's name; give the program another, e.g. py-{name}"
        ));
    }
    let argv = split_words(command)?;
    if argv.is_empty() {
        return Err(format!("no command after '{name}='"));
    }
    Ok(ExternalModel {
        name: name.to_string(),
        argv,
    })
}

/// Splits a command line into words as a POSIX shell would (no expansion):
/// whitespace separates, `'…'` is literal, `"…"` is literal but for `\"`,
/// `\\`, `\$` and `` \` ``, and a backslash outside quotes escapes the next character.
pub(crate) fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(format!("unclosed ' in {s}")),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err(format!("unclosed \" in {s}")),
                        },
                        Some(c) => w.push(c),
                        None => return Err(format!("unclosed \" in {s}")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err(format!("a trailing \\ in {s}")),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        split_words(s).unwrap()
    }

    #[test]
    fn words_split_on_whitespace_and_quotes_keep_them_together() {
        assert_eq!(words("python3  -u x.py"), ["python3", "-u", "x.py"]);
        assert_eq!(words("sh -c 'echo a  b'"), ["sh", "-c", "echo a  b"]);
        assert_eq!(words(r#"a "b \"c\" \n" d\ e"#), ["a", r#"b "c" \n"#, "d e"]);
        assert_eq!(words("x '' y"), ["x", "", "y"]);
        assert_eq!(words("  "), Vec::<String>::new());
        assert!(split_words("a 'b").unwrap_err().contains("unclosed '"));
        assert!(split_words("a \"b").unwrap_err().contains("unclosed \""));
        assert!(split_words("a\\").unwrap_err().contains("trailing"));
    }

    #[test]
    fn an_external_needs_a_name_of_its_own_and_a_command() {
        let e = parse_external("py-seq=python3 'my model.py' --fast").unwrap();
        assert_eq!(e.name, "py-seq");
        assert_eq!(e.argv, ["python3", "my model.py", "--fast"]);
        assert_eq!(e.command_line(), "python3 'my model.py' --fast");
        let odd = parse_external(r#"x=a "it's" ''"#).unwrap();
        assert_eq!(
            split_words(&odd.command_line()).unwrap(),
            odd.argv,
            "it splits back"
        );
        assert!(parse_external("async=python3 x.py")
            .unwrap_err()
            .contains("built-in model's name"));
        assert!(parse_external("python3 x.py")
            .unwrap_err()
            .contains("NAME="));
        assert!(parse_external("a b=x").unwrap_err().contains("usable name"));
        assert!(parse_external("py=  ").unwrap_err().contains("no command"));
        let twice = ExternalArgs {
            externals: vec![
                parse_external("py=a").unwrap(),
                parse_external("py=b").unwrap(),
            ],
        };
        assert!(twice
            .models()
            .unwrap_err()
            .contains("two programs are named 'py'"));
    }
}
