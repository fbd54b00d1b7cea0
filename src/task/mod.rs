//! What one task is, whatever runs it: its input ([`TaskSpec`]), what it
//! produced ([`Completed`]), why it failed ([`TaskError`]), where its time
//! went ([`Phases`]) and its outcome ([`TaskOutcome`]); the work over a
//! body ([`work`]: the hash [`kernel`] or the JSON [`posts`]); and the
//! guards every strategy runs tasks under ([`guard`]: a panic is that task's failed outcome, at most N at once).
//!
//! Strategies differ in how they schedule tasks, never in what a task does.

pub(crate) mod error;
pub mod guard;
pub mod kernel;
pub mod posts;
pub mod user;
pub mod work;

use mock_server::payload;
use serde::{Deserialize, Serialize};

pub use error::{ExternalCause, TaskError};
pub use user::{UserTask, UserTaskRef};
pub use work::{Completer, WorkKind, WORKS};

/// One task: a request for `bytes` bytes answered after `latency_us`, then
/// `cpu_units` of work over the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    pub id: u64,
    pub latency_us: u64,
    pub bytes: usize,
    pub cpu_units: u64,
}

/// What a task produced when the request succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completed {
    pub body_len: usize,
    pub body_checksum: u64,
    pub cpu_result: u64,
}

impl Completed {
    /// Checksums `body` and runs the CPU work over it, seeded by the checksum.
    pub fn from_body(body: &[u8], cpu_units: u64) -> Self {
        let body_checksum = payload::checksum(body);
        Self {
            body_len: body.len(),
            body_checksum,
            cpu_result: kernel::cpu_work(body, cpu_units, body_checksum),
        }
    }
}

/// One task's outcome, as a strategy reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskOutcome {
    pub id: u64,
    pub result: Result<Completed, TaskError>,
    /// From sending the request to the last byte of the body, in µs
    /// (`phases.response_us + phases.body_us` when the task succeeded).
    pub latency_us: u64,
    /// How late the server said its answer was (`x-lateness-us`).
    pub server_lateness_us: Option<u64>,
    /// Where the task's time went; all zero when the task failed.
    pub phases: Phases,
    /// Requests sent for this task: 1, plus one per retry (0 if none was sent).
    pub attempts: u32,
    /// Of those, the attempts that never reached the server (could not connect).
    pub unreached: u32,
}

/// Where one task's time went, in µs, measured on [`crate::sys::clock::mono_now_ns`] (a clock
/// shared by every process, so worker processes measure against the parent's
/// start). Plain integers: it travels over IPC in postcard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phases {
    /// From the start of the strategy's run to sending this task's first
    /// request: waiting for a slot, a thread, a worker process (including
    /// starting it), the rate limiter, or the tasks ahead of it.
    pub queued_us: u64,
    /// From the first request to the last one: failed attempts and the
    /// backoffs between them (0 when the first attempt succeeded).
    pub retry_us: u64,
    /// From sending the request to receiving the response head. Includes
    /// connecting when there is no idle connection: neither client times the
    /// connect apart from the rest.
    pub response_us: u64,
    /// From the response head to the last byte of the body.
    pub body_us: u64,
    /// The CPU work over the body (checksum and kernel) where it ran. For
    /// `async-rayon` and `async-process-pool` it is measured by the event
    /// loop from handing the body off to getting the result back, so it also
    /// holds the wait for a pool thread or worker process, and for
    /// `async-process-pool` the IPC both ways.
    pub cpu_us: u64,
}

impl TaskOutcome {
    /// A task that failed before it produced anything (never sent, lost
    /// with its worker, or panicked).
    pub fn failed(id: u64, err: TaskError) -> Self {
        TaskOutcome {
            id,
            result: Err(err),
            latency_us: 0,
            server_lateness_us: None,
            phases: Default::default(),
            attempts: 0,
            unreached: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_and_its_outcome_stay_small_enough_for_plans_of_millions() {
        assert_eq!(std::mem::size_of::<TaskSpec>(), 32);
        assert!(std::mem::size_of::<TaskOutcome>() <= 128);
    }
}
