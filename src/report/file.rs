//! Results on disk: loading a saved run or sweep (one clear line on what is
//! wrong with a bad file), writing a sweep (JSON and CSV, atomically, after
//! every cell), and the JSON schema of it all (committed as
//! `reports/schema.json`, checked by a test).

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::export::sweep_csv_rows;
use super::{RunReport, SweepReport, SCHEMA_VERSION};
use crate::error::UsageError;

/// Any results file concbench writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // loaded once per command; boxing would only add noise
pub enum ResultsFile {
    /// `concbench sweep`: a run per cell of a parameter grid.
    Sweep(SweepReport),
    /// `concbench run --format json`: one run.
    Run(RunReport),
}

/// The JSON schema of [`ResultsFile`], pretty-printed.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(ResultsFile);
    serde_json::to_string_pretty(&schema).expect("the schema serialises")
}

/// Loads a results file, with one clear line on what is wrong with it.
pub fn load(path: &Path) -> anyhow::Result<ResultsFile> {
    let what = format!("results file {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| {
        UsageError::new(
            what.clone(),
            format!("cannot be read ({e}); give the path of a results JSON"),
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        UsageError::new(
            what.clone(),
            format!("is not JSON ({e}); was it truncated? Write it again with `concbench run --format json --out FILE`"),
        )
    })?;
    let version = value
        .get("schema_version")
        .or_else(|| value.get("meta").and_then(|m| m.get("schema_version")))
        .and_then(|v| v.as_u64());
    match version {
        Some(v) if v == SCHEMA_VERSION as u64 => {}
        Some(v) => {
            return Err(UsageError::new(
                what,
                format!("has schema version {v}, this concbench reads {SCHEMA_VERSION}; run it again with this version"),
            )
            .into())
        }
        None => {
            return Err(UsageError::new(
                what,
                "is not a concbench results file (no schema_version); give a file written by `run --format json` or `sweep`",
            )
            .into())
        }
    }
    let is_sweep = value.get("kind").and_then(|k| k.as_str()) == Some("sweep");
    let parsed = if is_sweep {
        serde_json::from_value(value).map(ResultsFile::Sweep)
    } else {
        serde_json::from_value(value).map(ResultsFile::Run)
    };
    parsed.map_err(|e| {
        UsageError::new(
            what,
            format!("does not match the results schema ({e}); was it edited by hand?"),
        )
        .into()
    })
}

/// Writes a sweep's JSON and CSV, each atomically.
pub fn write_sweep(json: &Path, csv: &Path, sweep: &SweepReport) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(sweep).expect("the sweep serialises") + "\n";
    crate::sys::fs::write_atomically(json, &text)
        .with_context(|| format!("cannot write {}", json.display()))?;
    crate::sys::fs::write_atomically(csv, sweep_csv_rows(sweep))
        .with_context(|| format!("cannot write {}", csv.display()))?;
    Ok(())
}
