//! A workload as the user describes it, validated, with units in its types.
//!
//! [`Workload`] is what the flags (and later scenario files and presets) say;
//! [`crate::workload::TaskPlan`] is the deterministic list of tasks it expands to.

pub mod arrival;
pub mod plan;
pub mod shard;

use std::time::Duration;

use mock_server::LatencyDist;
use serde::Serialize;

use crate::error::UsageError;
use crate::task::WorkKind;

pub use arrival::Arrival;
pub use plan::{Bound, TaskPlan, Verification, Verify};
pub use shard::Shard;

/// How much CPU work each task does over its response body.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CpuWork {
    /// A duration of work on this machine, turned into units by calibration.
    Time(#[serde(with = "duration_s")] Duration),
    /// A raw number of kernel units (see [`crate::task::kernel`]), the same on every machine.
    Units(u64),
}

/// Largest payload a task may ask for (the server caps it too).
pub const MAX_BYTES: usize = 64 << 20;
/// Most tasks one run may plan.
pub const MAX_TASKS: usize = 10_000_000;
/// Most requests in flight at once.
pub const MAX_CONCURRENCY: usize = 1_000_000;

/// What to run: N tasks, each a request with a latency and a payload, then CPU work.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// Number of tasks (requests).
    pub tasks: usize,
    /// Distribution the per-task latencies are drawn from.
    #[serde(serialize_with = "display")]
    pub latency: LatencyDist,
    /// Response body bytes per task.
    pub bytes: usize,
    /// CPU work per task over its body.
    pub cpu: CpuWork,
    /// Requests in flight at once (C); sequential ignores it.
    pub concurrency: usize,
    /// Seed of latencies and payloads: the same seed is the same work.
    pub seed: u64,
    /// What each task does over its body: hash bytes, or parse and analyse JSON posts.
    pub work: WorkKind,
    /// When tasks arrive: a closed loop of C slots, or an open loop at a rate.
    #[serde(serialize_with = "display")]
    pub arrival: Arrival,
}

impl Default for Workload {
    fn default() -> Self {
        Self {
            tasks: 200,
            latency: LatencyDist::Fixed(Duration::from_millis(10)),
            bytes: 16 * 1024,
            cpu: CpuWork::Time(Duration::from_millis(1)),
            concurrency: 50,
            seed: 1,
            work: WorkKind::Hash,
            arrival: Default::default(),
        }
    }
}

impl Workload {
    /// Checks every field against what the harness and the server can run.
    pub fn validate(&self) -> Result<(), UsageError> {
        if self.tasks == 0 || self.tasks > MAX_TASKS {
            return Err(UsageError::new(
                "--tasks",
                format!("must be from 1 to {MAX_TASKS}"),
            ));
        }
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            return Err(UsageError::new(
                "--concurrency",
                format!("must be from 1 to {MAX_CONCURRENCY} requests in flight"),
            ));
        }
        if self.bytes > MAX_BYTES {
            return Err(UsageError::new(
                "--bytes",
                format!("must be at most {MAX_BYTES} (64 MiB)"),
            ));
        }
        let min = self.work.work().min_bytes;
        if self.bytes < min {
            return Err(UsageError::new(
                "--bytes",
                format!(
                    "--work {} needs bodies of at least {min} bytes (room for a record); use e.g. --bytes 16KiB",
                    self.work.name()
                ),
            ));
        }
        Ok(())
    }
}

fn display<T: std::fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

mod duration_s {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}
