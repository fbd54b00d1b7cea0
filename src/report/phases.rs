//! Where the time went, per strategy: each task's [`Phases`] (queued,
//! response, body, CPU) summarised over a strategy's successful tasks into a
//! [`PhaseSummary`] for its report row.
//!
//! The phases of one task are measured where it ran (see [`Phases`] for what
//! each one holds and where it is only an upper bound). Failed tasks are left
//! out: their phases are zero, and half a request says nothing about where a
//! whole one's time goes. Percentiles are exact (nearest rank over the sorted
//! values), not histogram buckets.

use serde::{Deserialize, Serialize};

use crate::task::{Phases, TaskOutcome};

/// Mean and percentiles of one phase, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PhaseStats {
    pub mean_s: f64,
    pub p50_s: f64,
    pub p99_s: f64,
}

/// Where a strategy's tasks spent their time (successful tasks only; all
/// zero when none succeeded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PhaseSummary {
    /// Run start to request sent: waiting for a slot, thread or worker.
    pub queued: PhaseStats,
    /// First request to last: failed attempts and backoffs (zero without retries).
    #[serde(default)]
    pub retry: PhaseStats,
    /// Request sent to response head (connecting included).
    pub response: PhaseStats,
    /// Response head to last body byte.
    pub body: PhaseStats,
    /// The CPU work over the body; for `async-rayon` and `async-process-pool`
    /// also the wait for the pool and the hand-off (see [`Phases::cpu_us`]).
    pub cpu: PhaseStats,
}

/// Summarises the phases of the outcomes that succeeded.
pub fn summarise(outcomes: &[TaskOutcome]) -> PhaseSummary {
    let ok: Vec<&Phases> = outcomes
        .iter()
        .filter(|o| o.result.is_ok())
        .map(|o| &o.phases)
        .collect();
    let stats = |phase: fn(&Phases) -> u64| stats_of(ok.iter().map(|p| phase(p)).collect());
    PhaseSummary {
        queued: stats(|p| p.queued_us),
        retry: stats(|p| p.retry_us),
        response: stats(|p| p.response_us),
        body: stats(|p| p.body_us),
        cpu: stats(|p| p.cpu_us),
    }
}

/// Mean, p50 and p99 of values in µs, in seconds.
fn stats_of(mut us: Vec<u64>) -> PhaseStats {
    if us.is_empty() {
        return PhaseStats::default();
    }
    us.sort_unstable();
    let n = us.len();
    // Nearest rank: the smallest value with at least q·n values at or below it.
    let at = |q: f64| us[((q * n as f64).ceil() as usize).clamp(1, n) - 1] as f64 / 1e6;
    let sum: u128 = us.iter().map(|&v| v as u128).sum();
    PhaseStats {
        mean_s: sum as f64 / n as f64 / 1e6,
        p50_s: at(0.5),
        p99_s: at(0.99),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{Completed, TaskError};

    fn ok(id: u64, phases: Phases) -> TaskOutcome {
        TaskOutcome {
            id,
            result: Ok(Completed::from_body(b"x", 0)),
            latency_us: phases.response_us + phases.body_us,
            server_lateness_us: None,
            phases,
            attempts: 1,
            unreached: 0,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn each_phase_gets_its_own_mean_and_exact_percentiles() {
        // Task i (1..=100): queued i ms, response 20 ms, body i µs, CPU 2 ms,
        // in reverse order to show the input order does not matter.
        let outcomes: Vec<TaskOutcome> = (1..=100u64)
            .rev()
            .map(|i| {
                ok(
                    i,
                    Phases {
                        queued_us: i * 1000,
                        retry_us: 0,
                        response_us: 20_000,
                        body_us: i,
                        cpu_us: 2_000,
                    },
                )
            })
            .collect();
        let s = summarise(&outcomes);
        assert!(close(s.queued.mean_s, 0.0505), "{s:?}");
        assert!(close(s.queued.p50_s, 0.050), "{s:?}");
        assert!(close(s.queued.p99_s, 0.099), "{s:?}");
        assert!(close(s.body.p50_s, 50e-6) && close(s.body.p99_s, 99e-6));
        for constant in [s.response, s.cpu] {
            assert!(
                close(constant.mean_s, constant.p50_s) && close(constant.p50_s, constant.p99_s)
            );
        }
        assert!(close(s.response.p50_s, 0.020) && close(s.cpu.p50_s, 0.002));
    }

    #[test]
    fn failed_tasks_are_left_out() {
        let good = Phases {
            queued_us: 10,
            retry_us: 0,
            response_us: 20,
            body_us: 30,
            cpu_us: 40,
        };
        // A failed task that somehow carried phases must not count either.
        let mut broken = TaskOutcome::failed(1, TaskError::Status(503));
        broken.phases = Phases {
            queued_us: 1_000_000,
            retry_us: 0,
            ..good
        };
        let s = summarise(&[
            ok(0, good),
            broken,
            TaskOutcome::failed(2, TaskError::Status(500)),
        ]);
        assert!(close(s.queued.mean_s, 10e-6) && close(s.queued.p99_s, 10e-6));
        assert!(close(s.cpu.p50_s, 40e-6));
    }

    #[test]
    fn no_successes_is_all_zero_and_one_success_is_every_percentile() {
        assert_eq!(summarise(&[]), PhaseSummary::default());
        assert_eq!(
            summarise(&[TaskOutcome::failed(0, TaskError::Status(500))]),
            PhaseSummary::default()
        );
        let s = summarise(&[ok(
            0,
            Phases {
                queued_us: 7,
                retry_us: 0,
                ..Phases::default()
            },
        )]);
        assert!(close(s.queued.p50_s, 7e-6) && close(s.queued.p99_s, 7e-6));
        assert!(close(s.queued.mean_s, 7e-6));
    }
}
