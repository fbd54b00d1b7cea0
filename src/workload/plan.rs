//! The deterministic task plan, its lower bound, and the verification of
//! every outcome against it.
//!
//! Latencies are drawn here, by the client, from the workload's seed, and sent
//! with each request: every strategy faces exactly the same latencies, so the
//! bound is known exactly. Expected body checksums and CPU results are
//! computed once per plan (in parallel, outside any measured window), so every
//! strategy's every byte and every CPU result is checked.

use std::collections::BTreeMap;

use mock_server::payload;
use mock_server::rng::SplitMix64;
use rayon::prelude::*;
use serde::Serialize;

use crate::task::{kernel, TaskOutcome, TaskSpec};

use super::{CpuWork, Workload};

/// What a task must return for its work to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expected {
    body_checksum: u64,
    cpu_result: u64,
}

/// The tasks of a run, and what each must produce.
#[derive(Debug, Clone)]
pub struct TaskPlan {
    /// Seed sent with every request: the server derives the body from (seed, id).
    pub seed: u64,
    pub specs: Vec<TaskSpec>,
    /// Calibrated kernel speed, to turn units into CPU seconds for the bound.
    pub units_per_us: f64,
    expected: Vec<Expected>,
}

/// The physical lower bound of a plan's wall time and its terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bound {
    /// Σ latency / C: the I/O term.
    pub io_s: f64,
    /// Σ CPU / P: the CPU term.
    pub cpu_s: f64,
    /// The longest single task (latency + CPU).
    pub longest_task_s: f64,
    /// The largest of the three.
    pub ideal_s: f64,
}

/// The verdict on a strategy's outcomes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Verification {
    pub tasks_ok: u64,
    pub tasks_failed: u64,
    /// Failed tasks by cause (`checksum_mismatch`, `http_status`, `missing`, ...).
    pub failures: BTreeMap<String, u64>,
    /// The first failure in task order, in words, for the error line.
    pub first_failure: Option<String>,
}

impl TaskPlan {
    /// Expands a validated workload into tasks; `units_per_us` comes from
    /// [`kernel::calibrate`].
    pub fn build(workload: &Workload, units_per_us: f64) -> Self {
        let mut rng = SplitMix64::new(workload.seed);
        let cpu_units = match workload.cpu {
            CpuWork::Units(u) => u,
            CpuWork::Time(d) => (d.as_secs_f64() * 1e6 * units_per_us).round() as u64,
        };
        let specs: Vec<TaskSpec> = (0..workload.tasks as u64)
            .map(|id| TaskSpec {
                id,
                latency_us: workload.latency.sample(&mut rng).as_micros() as u64,
                bytes: workload.bytes,
                cpu_units,
            })
            .collect();
        let seed = workload.seed;
        let expected = specs
            .par_iter()
            .map(|s| {
                let body = payload::generate(seed, s.id, s.bytes);
                let body_checksum = payload::checksum(&body);
                Expected {
                    body_checksum,
                    cpu_result: kernel::cpu_work(&body, s.cpu_units, body_checksum),
                }
            })
            .collect();
        Self {
            seed,
            specs,
            units_per_us,
            expected,
        }
    }

    /// The lower bound for a strategy that keeps at most `in_flight` requests
    /// in flight and may use `cores` cores for CPU work.
    pub fn bound(&self, in_flight: usize, cores: usize) -> Bound {
        let cpu_s =
            |s: &TaskSpec| s.cpu_units as f64 / self.units_per_us.max(f64::MIN_POSITIVE) / 1e6;
        let lat_s = |s: &TaskSpec| s.latency_us as f64 / 1e6;
        let io_s = self.specs.iter().map(lat_s).sum::<f64>() / in_flight.max(1) as f64;
        let cpu_total: f64 = self.specs.iter().map(cpu_s).sum();
        let cpu_s_term = cpu_total / cores.max(1) as f64;
        let longest_task_s = self
            .specs
            .iter()
            .map(|s| lat_s(s) + cpu_s(s))
            .fold(0.0, f64::max);
        Bound {
            io_s,
            cpu_s: cpu_s_term,
            longest_task_s,
            ideal_s: io_s.max(cpu_s_term).max(longest_task_s),
        }
    }

    /// Checks that every task has exactly one outcome and that its body and
    /// CPU result are exactly what the plan says.
    pub fn verify(&self, outcomes: &[TaskOutcome]) -> Verification {
        let n = self.specs.len();
        let mut seen: Vec<Option<&TaskOutcome>> = vec![None; n];
        let mut v = Verification::default();
        let mut failures: Vec<(u64, &'static str, String)> = Vec::new();
        for o in outcomes {
            match seen.get_mut(o.id as usize) {
                Some(slot @ None) => *slot = Some(o),
                Some(Some(_)) => failures.push((o.id, "duplicate", "reported twice".into())),
                None => failures.push((o.id, "unknown_task", "is not in the plan".into())),
            }
        }
        for (i, slot) in seen.iter().enumerate() {
            let spec = &self.specs[i];
            let exp = &self.expected[i];
            let verdict: Result<(), (&'static str, String)> = match slot {
                None => Err(("missing", "has no outcome".into())),
                Some(o) => match &o.result {
                    Err(e) => Err((e.cause(), e.to_string())),
                    Ok(c) if c.body_len != spec.bytes => Err((
                        "length_mismatch",
                        format!("body was {} bytes, expected {}", c.body_len, spec.bytes),
                    )),
                    Ok(c) if c.body_checksum != exp.body_checksum => Err((
                        "checksum_mismatch",
                        format!(
                            "body checksum {:016x} differs from the expected {:016x}",
                            c.body_checksum, exp.body_checksum
                        ),
                    )),
                    Ok(c) if c.cpu_result != exp.cpu_result => Err((
                        "cpu_mismatch",
                        format!(
                            "CPU result {:016x} differs from the expected {:016x}",
                            c.cpu_result, exp.cpu_result
                        ),
                    )),
                    Ok(_) => Ok(()),
                },
            };
            match verdict {
                Ok(()) => v.tasks_ok += 1,
                Err((cause, msg)) => failures.push((i as u64, cause, msg)),
            }
        }
        failures.sort_by_key(|f| f.0);
        v.tasks_failed = n as u64 - v.tasks_ok;
        for (id, cause, msg) in &failures {
            *v.failures.entry(cause.to_string()).or_default() += 1;
            if v.first_failure.is_none() {
                v.first_failure = Some(format!("task {id}: {msg}"));
            }
        }
        v
    }

    /// Total latency of the plan (Σ l_i), in seconds.
    pub fn total_latency_s(&self) -> f64 {
        self.specs.iter().map(|s| s.latency_us as f64).sum::<f64>() / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::Completed;
    use std::time::Duration;

    fn plan() -> TaskPlan {
        let w = Workload {
            tasks: 10,
            latency: "uniform:1ms..3ms".parse().unwrap(),
            bytes: 100,
            cpu: CpuWork::Units(50),
            concurrency: 2,
            seed: 7,
        };
        TaskPlan::build(&w, 100.0)
    }

    fn honest(plan: &TaskPlan) -> Vec<TaskOutcome> {
        plan.specs
            .iter()
            .map(|s| {
                let body = payload::generate(plan.seed, s.id, s.bytes);
                TaskOutcome {
                    id: s.id,
                    result: Ok(Completed::from_body(&body, s.cpu_units)),
                    latency_us: s.latency_us,
                    server_lateness_us: None,
                    phases: Default::default(),
                    attempts: 1,
                    unreached: 0,
                }
            })
            .collect()
    }

    #[test]
    fn the_same_seed_plans_the_same_latencies() {
        assert_eq!(plan().specs, plan().specs);
        assert!(plan()
            .specs
            .iter()
            .all(|s| (1000..=3000).contains(&s.latency_us)));
    }

    #[test]
    fn honest_outcomes_verify_in_any_order() {
        let p = plan();
        let mut o = honest(&p);
        o.reverse();
        let v = p.verify(&o);
        assert_eq!((v.tasks_ok, v.tasks_failed), (10, 0));
    }

    #[test]
    fn tampered_missing_and_duplicated_outcomes_fail() {
        let p = plan();
        let mut o = honest(&p);
        if let Ok(c) = &mut o[3].result {
            c.body_checksum ^= 1;
        }
        if let Ok(c) = &mut o[4].result {
            c.cpu_result ^= 1;
        }
        o.remove(5);
        o.push(o[0].clone());
        let v = p.verify(&o);
        assert_eq!(v.tasks_ok, 7);
        assert_eq!(v.tasks_failed, 3);
        assert_eq!(v.failures["checksum_mismatch"], 1);
        assert_eq!(v.failures["cpu_mismatch"], 1);
        assert_eq!(v.failures["missing"], 1);
        assert_eq!(v.failures["duplicate"], 1);
        assert!(v
            .first_failure
            .unwrap()
            .starts_with("task 0: reported twice"));
    }

    #[test]
    fn the_bound_is_the_largest_of_its_three_terms() {
        let w = Workload {
            tasks: 100,
            latency: "10ms".parse().unwrap(),
            bytes: 8,
            cpu: CpuWork::Time(Duration::from_millis(2)),
            concurrency: 10,
            seed: 1,
        };
        let p = TaskPlan::build(&w, 10.0);
        let b = p.bound(1, 2);
        assert!((b.io_s - 1.0).abs() < 1e-9);
        assert!((b.cpu_s - 0.1).abs() < 1e-9);
        assert!((b.longest_task_s - 0.012).abs() < 1e-9);
        assert_eq!(b.ideal_s, b.io_s);
        assert_eq!(p.bound(1000, 2).ideal_s, p.bound(1000, 2).cpu_s);
    }
}
