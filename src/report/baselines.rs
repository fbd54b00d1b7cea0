//! Named baselines, criterion's habit: `--save-baseline NAME` keeps a run's
//! (or a sweep's) results under a name, `--baseline NAME` reads them back for
//! relative thresholds (`async.wall_s<1.10x`) and a compare.
//!
//! They live in one place: `$CONCBENCH_BASELINE_DIR/NAME.json` when that is
//! set, else `./.concbench/baselines/NAME.json` (relative to the directory
//! concbench runs in, as criterion keeps `target/criterion/<name>`). A
//! baseline is an ordinary results file, written atomically.

use std::path::PathBuf;

use anyhow::Context;

use super::{file, ResultsFile};
use crate::error::UsageError;

/// The variable that moves the baselines' directory.
pub const DIR_ENV: &str = "CONCBENCH_BASELINE_DIR";

/// The directory of the named baselines.
pub fn dir() -> PathBuf {
    match std::env::var_os(DIR_ENV).filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(".concbench").join("baselines"),
    }
}

/// A baseline's name as given, if it is one: letters, digits, `-`, `_` and
/// `.`, not starting with a dot, at most 100 characters (so it is a file
/// name in [`dir`], never a path out of it).
pub fn parse_name(name: &str) -> Result<String, String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(format!(
            "'{name}' is not a baseline name: use letters, digits, '-', '_' and '.' \
             (no '/', not starting with '.'), e.g. main or v1.2"
        ))
    }
}

/// Where baseline `name` is kept.
pub fn path(name: &str) -> PathBuf {
    dir().join(format!("{name}.json"))
}

/// Keeps `results` as baseline `name` (the directory is created); returns its path.
pub fn save(name: &str, results: &ResultsFile) -> anyhow::Result<PathBuf> {
    let path = path(name);
    let d = dir();
    std::fs::create_dir_all(&d)
        .with_context(|| format!("cannot create the baseline directory {}", d.display()))?;
    let text = serde_json::to_string_pretty(results).expect("results serialise") + "\n";
    crate::sys::fs::write_atomically(&path, text)
        .with_context(|| format!("cannot write the baseline {}", path.display()))?;
    Ok(path)
}

/// Reads baseline `name`: a missing one is a usage error that says how to save it.
pub fn load(name: &str) -> anyhow::Result<ResultsFile> {
    let path = path(name);
    if !path.exists() {
        return Err(UsageError::new(
            "--baseline",
            format!(
                "no baseline '{name}' ({} does not exist); save one first with --save-baseline {name} \
                 (baselines live in ${DIR_ENV}, else ./.concbench/baselines)",
                path.display()
            ),
        )
        .into());
    }
    file::load(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_file_names_never_paths() {
        for good in ["main", "v1.2", "pr-17_b"] {
            assert_eq!(parse_name(good).unwrap(), good);
        }
        for bad in [
            "",
            "a/b",
            "../x",
            ".hidden",
            "a b",
            "x\\y",
            &"n".repeat(101),
        ] {
            assert!(parse_name(bad).is_err(), "{bad:?}");
        }
    }
}
