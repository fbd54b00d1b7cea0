//! Flags of `concbench merge`.

use std::path::PathBuf;

use clap::Args;

/// Flags of `concbench merge`.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// The parts: every shard's results file of one sweep (`sweep --shard K/N --out`) or of
    /// one run (`run --shard K/N --format json --out`), in any order.
    #[arg(required = true, value_name = "PART")]
    pub parts: Vec<PathBuf>,
    /// Where to write the whole (JSON, atomically; a sweep also writes a CSV beside it).
    /// Nothing is written when a part is refused.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
}
