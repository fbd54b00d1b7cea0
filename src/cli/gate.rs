//! The flags of regression checks: thresholds (`--fail-if`) and named
//! baselines (`--baseline`, `--save-baseline`) on `run` and `sweep`, and
//! `concbench compare OLD NEW`.

use std::path::PathBuf;

use clap::Args;

use crate::report::baselines;
use crate::report::compare::CompareFormat;
use crate::report::threshold::{self, Threshold};

/// Flags of `run` and `sweep` that turn a run into a regression check.
#[derive(Debug, Clone, Default, Args)]
pub struct GateArgs {
    /// Fail with exit code 99 unless EXPR holds after the run, e.g. 'async.latency.p99<50ms',
    /// 'thread-pool.efficiency>0.8', '*.tasks_failed==0', or against --baseline
    /// 'async.wall_s<1.10x'; repeatable. EXPR is STRATEGY.FIGURE OP VALUE (STRATEGY or `*`, OP
    /// one of < <= > >= ==); a sweep holds every cell to it.
    #[arg(long = "fail-if", value_name = "EXPR", value_parser = threshold::parse, help_heading = "Thresholds and baselines")]
    pub fail_if: Vec<Threshold>,
    /// Compare with the baseline saved as NAME (printed after the results) and hold relative
    /// thresholds (1.10x) to it. Baselines live in $CONCBENCH_BASELINE_DIR, else ./.concbench/baselines.
    #[arg(long, value_name = "NAME", value_parser = baselines::parse_name, help_heading = "Thresholds and baselines")]
    pub baseline: Option<String>,
    /// Save these results as baseline NAME (NAME.json in the baselines' directory), atomically.
    #[arg(long, value_name = "NAME", value_parser = baselines::parse_name, help_heading = "Thresholds and baselines")]
    pub save_baseline: Option<String>,
}

/// Flags of `concbench compare`.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// The earlier results file (`run --format json --out`, a sweep's JSON, or a saved
    /// baseline: .concbench/baselines/NAME.json).
    pub old: PathBuf,
    /// The later results file, of the same plan.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = CompareFormat::Table)]
    pub format: CompareFormat,
    /// Fail with exit code 99 unless EXPR holds for NEW; a factor (1.10x) is of OLD's figure.
    /// Repeatable; see `concbench run --help`.
    #[arg(long = "fail-if", value_name = "EXPR", value_parser = threshold::parse)]
    pub fail_if: Vec<Threshold>,
}
