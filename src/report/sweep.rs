//! The saved form of a sweep: one [`RunReport`] per cell of a grid of one
//! or two swept parameters. Charts draw wall time, throughput and efficiency
//! against a one-parameter sweep, and a crossover map (which strategy wins
//! each cell, by how much) for a two-parameter one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::RunReport;

/// Every cell of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SweepReport {
    pub schema_version: u32,
    /// Always `sweep`: tells a sweep file from a single run's report.
    pub kind: String,
    /// The preset it came from, or `custom`.
    pub scenario: String,
    /// Names of the swept parameters, in the order given (one or two).
    pub params: Vec<String>,
    /// The cells, in grid order (the last parameter varies fastest).
    pub cells: Vec<SweepCell>,
    /// Which shard of which sweep this file is (`sweep --shard K/N`; then
    /// `cells` are that shard's alone); absent in a whole sweep (merged ones included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<super::ShardMeta>,
    /// The latency objective of `--slo` (e.g. `p99<50.0ms`), when one was
    /// given: the charts of latency against offered load mark it and each
    /// model's highest rate under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<String>,
}

/// One point of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SweepCell {
    /// The swept parameters' values as given on the command line (`20ms`, `100`).
    pub values: BTreeMap<String, String>,
    /// The same values as numbers for the axes (seconds for durations, bytes for sizes).
    pub x: BTreeMap<String, f64>,
    pub report: RunReport,
}

impl SweepCell {
    /// The cell in words, e.g. `latency = 10ms, cpu = 1ms` (the values as given).
    pub fn label(&self, params: &[String]) -> String {
        params
            .iter()
            .map(|p| {
                format!(
                    "{p} = {}",
                    self.values.get(p).map(String::as_str).unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}
