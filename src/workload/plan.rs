//! The deterministic task plan, its lower bound, and the verification of
//! every outcome against it.
//!
//! Latencies are drawn here, by the client, from the workload's seed, and sent
//! with each request: every strategy faces exactly the same latencies, so the
//! bound is known exactly.
//!
//! What is verified, after each strategy's run and outside its measured
//! window (nothing is computed before the first request):
//! - every task has exactly one outcome (none missing, none twice, none
//!   unknown);
//! - every completed task's body has the planned length and checksum (the
//!   body is a deterministic function of (seed, id, bytes); recomputing its
//!   checksum costs a few µs per 16 KiB);
//! - the CPU result of every completed task ([`Verify::All`]) or of a
//!   deterministic sample of the tasks ([`Verify::Sample`]): recomputing a
//!   CPU result costs as much as the task's CPU work, so checking all of
//!   them would double every run. [`Verify::Auto`], the default, checks all
//!   of them while that costs at most [`AUTO_BUDGET_S`] of CPU, and a sample
//!   worth that much beyond. Each expected result is computed once per plan,
//!   in parallel, and shared by every strategy and round. A strategy that
//!   skipped CPU work on tasks outside the sample would still show it: its
//!   measured CPU would fall short of the plan's (the row's
//!   `cpu_below_work` flag).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use mock_server::rng::SplitMix64;
use rayon::prelude::*;
use serde::Serialize;

use crate::task::{TaskOutcome, TaskSpec, UserTaskRef, WorkKind};

use super::{CpuWork, Shard, Workload};

/// How many CPU results are checked.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Verify {
    /// Every completed task's.
    All,
    /// Those of a deterministic sample of this fraction of the tasks (0 < F ≤ 1).
    Sample(f64),
    /// All while that costs at most [`AUTO_BUDGET_S`] of CPU, else a sample
    /// worth that much (at least 100 tasks, or 0.1% of them).
    #[default]
    Auto,
}

/// CPU seconds `--verify auto` may spend recomputing CPU results, per plan.
pub const AUTO_BUDGET_S: f64 = 1.0;

impl Verify {
    /// The fraction of tasks whose CPU result is checked, for a plan of
    /// `tasks` tasks of `cpu_s` CPU each.
    pub fn fraction(self, tasks: usize, cpu_s: f64) -> f64 {
        match self {
            Verify::All => 1.0,
            Verify::Sample(f) => f.clamp(0.0, 1.0),
            Verify::Auto => {
                let total_s = tasks as f64 * cpu_s;
                if total_s <= AUTO_BUDGET_S {
                    1.0
                } else {
                    let floor = (100.0 / tasks.max(1) as f64).clamp(0.001, 1.0);
                    (AUTO_BUDGET_S / total_s).max(floor).min(1.0)
                }
            }
        }
    }

    /// How it is written on the command line and in reports.
    pub fn name(self) -> String {
        match self {
            Verify::All => "all".into(),
            Verify::Sample(f) => format!("sample:{f}"),
            Verify::Auto => "auto".into(),
        }
    }
}

impl std::str::FromStr for Verify {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "all" => Ok(Verify::All),
            "auto" => Ok(Verify::Auto),
            other => {
                let f = other
                    .strip_prefix("sample:")
                    .and_then(|f| f.parse::<f64>().ok())
                    .filter(|f| *f > 0.0 && *f <= 1.0)
                    .ok_or_else(|| {
                        format!(
                            "'{other}' is not a verification; use all, auto or sample:F with \
                             0 < F <= 1 (e.g. sample:0.05)"
                        )
                    })?;
                Ok(Verify::Sample(f))
            }
        }
    }
}

/// The tasks of a run, and how their outcomes are checked.
#[derive(Debug, Clone)]
pub struct TaskPlan {
    /// Seed sent with every request: the server derives the body from (seed, id).
    pub seed: u64,
    /// What each task does over its body (the same for every task of a plan).
    pub work: WorkKind,
    /// The bodies come from a user's endpoint, not a mock server: nothing
    /// can regenerate them, so a task verifies by its endpoint's checks
    /// (run at fetch) and its one outcome; latencies are the server's own.
    pub endpoint: bool,
    /// The client's rate limit on request starts (`--rate`), if any: no
    /// model can start N requests sooner than (N − 1)/R after its first,
    /// so the bound holds a fourth term for it.
    pub rate_per_s: Option<f64>,
    /// Under an open loop (`--arrival rate:…|poisson:…`), when each task is
    /// due, in µs after the run's start, by id; `None` for a closed loop.
    pub due_us: Option<Arc<Vec<u64>>>,
    /// The schedule those times come from (worker processes rebuild them from it).
    pub arrival: super::Arrival,
    /// The user's own task, when the plan is of it: its `verify` checks
    /// every result; latencies and CPU are what the tasks took.
    pub user: Option<UserTaskRef>,
    pub specs: Vec<TaskSpec>,
    /// Calibrated kernel speed, to turn units into CPU seconds for the bound.
    pub units_per_us: f64,
    /// The fraction of tasks whose CPU result is checked (see the module docs).
    pub cpu_checked_fraction: f64,
    /// The shard of the whole plan this one is (`run --shard K/N`): its
    /// tasks are the ids `i` with `i mod N == K - 1`, in order, each with the
    /// latency and payload the whole plan gives it.
    pub shard: Option<Shard>,
    /// Expected CPU results of the checked tasks computed so far, by id:
    /// computed when first needed and shared by every strategy and round
    /// (and by clones of the plan).
    cpu_expected: Arc<Mutex<HashMap<u64, u64>>>,
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
    /// The schedule's term: under a client rate limit R (`--rate`), (N − 1)/R
    /// to start the N requests, plus the shortest task, which must still run
    /// after the last start; under an open loop, the last task's due time
    /// plus the shortest task; 0 without either. Retries make it later still: they are
    /// reported beside the bound (`retries`, the `retry` phase), not in it.
    pub rate_s: f64,
    /// The largest of the terms.
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
    /// Of the tasks that verified, those whose CPU result was recomputed and matched.
    pub tasks_cpu_checked: u64,
}

impl TaskPlan {
    /// The largest body a task of this plan asks the server for (0 for a
    /// user's endpoint or task, whose bodies nobody knows beforehand).
    pub fn body_bytes_max(&self) -> usize {
        if self.endpoint || self.user.is_some() {
            return 0;
        }
        self.specs.iter().map(|s| s.bytes).max().unwrap_or(0)
    }

    /// Expands a validated workload into tasks; `units_per_us` comes from
    /// [`crate::task::kernel::calibrate`]. CPU results are checked as [`Verify::Auto`] says.
    pub fn build(workload: &Workload, units_per_us: f64) -> Self {
        Self::build_verified(workload, units_per_us, Verify::Auto)
    }

    /// [`Self::build`], checking CPU results as `verify` says.
    pub fn build_verified(workload: &Workload, units_per_us: f64, verify: Verify) -> Self {
        Self::build_until(workload, units_per_us, verify, || false)
            .expect("a build that is never stopped ends")
    }

    /// [`Self::build_verified`], giving up (`None`) as soon as `stop` says so:
    /// it is asked every 64k tasks, so a plan of millions stops at once.
    pub fn build_until(
        workload: &Workload,
        units_per_us: f64,
        verify: Verify,
        stop: impl Fn() -> bool,
    ) -> Option<Self> {
        let mut rng = SplitMix64::new(workload.seed);
        let cpu_units = match workload.cpu {
            CpuWork::Units(u) => u,
            CpuWork::Time(d) if d.is_zero() => 0,
            // At least one unit when some work was asked for (a JSON pass
            // over a big body can take longer than the time asked).
            CpuWork::Time(d) => ((d.as_secs_f64() * 1e6 * units_per_us).round() as u64).max(1),
        };
        let mut specs: Vec<TaskSpec> = Vec::with_capacity(workload.tasks);
        for id in 0..workload.tasks as u64 {
            if id % (1 << 16) == 0 && stop() {
                return None;
            }
            specs.push(TaskSpec {
                id,
                latency_us: workload.latency.sample(&mut rng).as_micros() as u64,
                bytes: workload.bytes,
                cpu_units,
            });
        }
        let cpu_s = cpu_units as f64 / units_per_us.max(f64::MIN_POSITIVE) / 1e6;
        Some(Self {
            seed: workload.seed,
            work: workload.work,
            endpoint: false,
            rate_per_s: None,
            due_us: workload
                .arrival
                .due_us(workload.tasks, workload.seed)
                .map(Arc::new),
            arrival: workload.arrival,
            user: None,
            cpu_checked_fraction: verify.fraction(specs.len(), cpu_s),
            specs,
            units_per_us,
            shard: None,
            cpu_expected: Default::default(),
        })
    }

    /// This plan's shard `shard`: the tasks it holds, ids and latencies
    /// unchanged, so the shards of a plan together are exactly the plan.
    /// The CPU sample is drawn per id, so it is the whole plan's sample too.
    pub fn shard(mut self, shard: Shard) -> Self {
        self.specs.retain(|s| shard.holds(s.id));
        self.shard = Some(shard);
        self
    }

    /// Where task `id` is in `specs`, if it is in this plan.
    fn position(&self, id: u64) -> Option<usize> {
        let j = match self.shard {
            None => id,
            Some(s) if s.holds(id) => id / s.count() as u64,
            Some(_) => return None,
        };
        usize::try_from(j).ok().filter(|&j| j < self.specs.len())
    }

    /// This plan for a user's endpoint: no planned latency (the server takes
    /// what it takes) and no body to regenerate, so no CPU result is checked.
    pub fn for_endpoint(mut self) -> Self {
        for s in &mut self.specs {
            s.latency_us = 0;
        }
        self.endpoint = true;
        self.cpu_checked_fraction = 0.0;
        self
    }

    /// This plan for the user's own task: no server, every result held to
    /// the task's own `verify`, and for the bound each task's I/O and CPU
    /// time as a sequential sample of the task measured them
    /// ([`crate::task::user::sample`]), CPU in units of 1 µs.
    pub fn for_user(mut self, task: UserTaskRef, latency_us: u64, cpu_us: u64) -> Self {
        for s in &mut self.specs {
            (s.latency_us, s.cpu_units, s.bytes) = (latency_us, cpu_us, 0);
        }
        self.units_per_us = 1.0;
        self.cpu_checked_fraction = 1.0;
        self.user = Some(task);
        self
    }

    /// The bound of an endpoint's run, from the service times its tasks
    /// met (send to last byte of each task's last attempt): no model could
    /// have finished sooner given the latencies the server gave it. Failed
    /// tasks count with the CPU they did not do and no latency.
    pub fn bound_measured(
        &self,
        outcomes: &[TaskOutcome],
        in_flight: usize,
        cores: usize,
    ) -> Bound {
        let specs: Vec<TaskSpec> = outcomes
            .iter()
            .filter_map(|o| {
                let s = self.specs.get(self.position(o.id)?)?;
                Some(TaskSpec {
                    latency_us: if o.result.is_ok() { o.latency_us } else { 0 },
                    ..*s
                })
            })
            .collect();
        self.bound_of(specs.iter(), in_flight, cores)
    }

    /// Whether task `id`'s CPU result is checked: a draw from (seed, id), so
    /// the sample is the same for every strategy and every run of the plan.
    pub fn cpu_checked(&self, id: u64) -> bool {
        if self.cpu_checked_fraction >= 1.0 {
            return true;
        }
        let draw = SplitMix64::new(self.seed ^ id.wrapping_mul(0xD1B5_4A32_D192_ED03)).next_u64();
        (draw as f64) < self.cpu_checked_fraction * u64::MAX as f64
    }

    /// The expected CPU results of the checked tasks among `ids`, computing
    /// (in parallel) those not known yet.
    fn expected_cpu(&self, ids: &[u64]) -> HashMap<u64, u64> {
        if self.endpoint || self.user.is_some() {
            // No body to regenerate: checked by the endpoint or the task itself.
            return HashMap::new();
        }
        let todo: Vec<u64> = {
            let known = self.cpu_expected.lock().expect("expected results");
            ids.iter()
                .copied()
                .filter(|id| !known.contains_key(id) && self.cpu_checked(*id))
                .collect()
        };
        let fresh: Vec<(u64, u64)> = todo
            .par_iter()
            .filter_map(|&id| {
                let s = self.specs.get(self.position(id)?)?;
                let body = self.work.body(self.seed, s.id, s.bytes);
                Some((id, self.work.complete(&body, s.cpu_units).cpu_result))
            })
            .collect();
        let mut all = self.cpu_expected.lock().expect("expected results");
        all.extend(fresh);
        all.clone()
    }

    /// The lower bound for a strategy that keeps at most `in_flight` requests
    /// in flight and may use `cores` cores for CPU work.
    pub fn bound(&self, in_flight: usize, cores: usize) -> Bound {
        self.bound_of(self.specs.iter(), in_flight, cores)
    }

    /// The lower bound of the tasks among `ids` alone: for a run cut short
    /// (a deadline, Ctrl-C), the work it did, not the plan it was given.
    pub fn bound_of_ids(
        &self,
        ids: impl Iterator<Item = u64>,
        in_flight: usize,
        cores: usize,
    ) -> Bound {
        let specs: Vec<&TaskSpec> = ids
            .filter_map(|id| self.specs.get(self.position(id)?))
            .collect();
        self.bound_of(specs.into_iter(), in_flight, cores)
    }

    fn bound_of<'a>(
        &self,
        specs: impl Iterator<Item = &'a TaskSpec> + Clone,
        in_flight: usize,
        cores: usize,
    ) -> Bound {
        let cpu_s =
            |s: &TaskSpec| s.cpu_units as f64 / self.units_per_us.max(f64::MIN_POSITIVE) / 1e6;
        let lat_s = |s: &TaskSpec| s.latency_us as f64 / 1e6;
        let io_s = specs.clone().map(lat_s).sum::<f64>() / in_flight.max(1) as f64;
        let cpu_total: f64 = specs.clone().map(cpu_s).sum();
        let cpu_s_term = cpu_total / cores.max(1) as f64;
        let longest_task_s = specs
            .clone()
            .map(|s| lat_s(s) + cpu_s(s))
            .fold(0.0, f64::max);
        // An open loop cannot end before its last task is due and has run.
        let due_s = match &self.due_us {
            Some(due) => {
                let last = specs
                    .clone()
                    .filter_map(|s| due.get(s.id as usize))
                    .max()
                    .copied()
                    .unwrap_or(0);
                let shortest = specs
                    .clone()
                    .map(|s| lat_s(s) + cpu_s(s))
                    .fold(f64::INFINITY, f64::min);
                if shortest.is_finite() {
                    last as f64 / 1e6 + shortest
                } else {
                    0.0
                }
            }
            None => 0.0,
        };
        let rate_s = match self.rate_per_s {
            Some(r) if r > 0.0 => {
                let n = specs.clone().count();
                let shortest = specs
                    .map(|s| lat_s(s) + cpu_s(s))
                    .fold(f64::INFINITY, f64::min);
                if n == 0 {
                    0.0
                } else {
                    (n - 1) as f64 / r + shortest
                }
            }
            _ => 0.0,
        }
        .max(due_s);
        Bound {
            io_s,
            cpu_s: cpu_s_term,
            longest_task_s,
            rate_s,
            ideal_s: io_s.max(cpu_s_term).max(longest_task_s).max(rate_s),
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
            match self.position(o.id).and_then(|i| seen.get_mut(i)) {
                Some(slot @ None) => *slot = Some(o),
                Some(Some(_)) => failures.push((o.id, "duplicate", "reported twice".into())),
                None => failures.push((o.id, "unknown_task", "is not in the plan".into())),
            }
        }
        let completed: Vec<u64> = seen
            .iter()
            .flatten()
            .filter(|o| o.result.is_ok())
            .map(|o| o.id)
            .collect();
        let cpu = self.expected_cpu(&completed);
        let verdicts: Vec<Result<bool, (&'static str, String)>> = seen
            .par_iter()
            .enumerate()
            .map(|(i, slot)| {
                let spec = &self.specs[i];
                self.verdict(spec, *slot, cpu.get(&spec.id).copied())
            })
            .collect();
        for (i, verdict) in verdicts.into_iter().enumerate() {
            match verdict {
                Ok(cpu_checked) => {
                    v.tasks_ok += 1;
                    v.tasks_cpu_checked += cpu_checked as u64;
                }
                Err((cause, msg)) => failures.push((self.specs[i].id, cause, msg)),
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

    /// One task's verdict: Ok(whether its CPU result was checked), or why it failed.
    fn verdict(
        &self,
        spec: &TaskSpec,
        outcome: Option<&TaskOutcome>,
        cpu_expected: Option<u64>,
    ) -> Result<bool, (&'static str, String)> {
        let o = outcome.ok_or(("missing", "has no outcome".to_string()))?;
        let c = o.result.as_ref().map_err(|e| (e.cause(), e.to_string()))?;
        if self.endpoint {
            // Checked at fetch by the endpoint's checks; nothing to regenerate.
            return Ok(false);
        }
        if let Some(u) = &self.user {
            return u
                .0
                .verify(spec.id, c.cpu_result)
                .map(|()| true)
                .map_err(|why| ("verify", format!("verify refused its result: {why}")));
        }
        if c.body_len != spec.bytes {
            return Err((
                "length_mismatch",
                format!("body was {} bytes, expected {}", c.body_len, spec.bytes),
            ));
        }
        let body_checksum = self
            .work
            .work()
            .body
            .expected_checksum(self.seed, spec.id, spec.bytes);
        if c.body_checksum != body_checksum {
            return Err((
                "checksum_mismatch",
                format!(
                    "body checksum {:016x} differs from the expected {body_checksum:016x}",
                    c.body_checksum
                ),
            ));
        }
        match cpu_expected {
            Some(cpu) if c.cpu_result != cpu => Err((
                "cpu_mismatch",
                format!(
                    "CPU result {:016x} differs from the expected {cpu:016x}",
                    c.cpu_result
                ),
            )),
            Some(_) => Ok(true),
            None => Ok(false),
        }
    }

    /// CPU work of one task (the first; every task does the same), in seconds.
    pub fn cpu_per_task_s(&self) -> f64 {
        let units = self.specs.first().map(|s| s.cpu_units).unwrap_or(0);
        units as f64 / self.units_per_us.max(f64::MIN_POSITIVE) / 1e6
    }

    /// Total latency of the plan (Σ l_i), in seconds.
    pub fn total_latency_s(&self) -> f64 {
        self.specs.iter().map(|s| s.latency_us as f64).sum::<f64>() / 1e6
    }
}

#[cfg(test)]
impl TaskPlan {
    /// What a strategy that did every task right reports (for tests).
    pub(crate) fn honest_outcomes(&self) -> Vec<TaskOutcome> {
        self.specs
            .iter()
            .map(|s| TaskOutcome {
                id: s.id,
                result: Ok(self
                    .work
                    .complete(&self.work.body(self.seed, s.id, s.bytes), s.cpu_units)),
                latency_us: s.latency_us,
                server_lateness_us: None,
                phases: Default::default(),
                attempts: 1,
                unreached: 0,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn plan() -> TaskPlan {
        let w = Workload {
            tasks: 10,
            latency: "uniform:1ms..3ms".parse().unwrap(),
            bytes: 100,
            cpu: CpuWork::Units(50),
            concurrency: 2,
            seed: 7,
            work: WorkKind::Hash,
            arrival: Default::default(),
        };
        TaskPlan::build(&w, 100.0)
    }

    #[test]
    fn a_json_plan_verifies_honest_json_work_and_catches_hash_work_in_its_place() {
        let w = Workload {
            work: WorkKind::Json,
            bytes: 2048,
            cpu: CpuWork::Units(2),
            ..Workload::default()
        };
        let p = TaskPlan::build(&Workload { tasks: 5, ..w }, 1.0);
        let v = p.verify(&p.honest_outcomes());
        assert_eq!((v.tasks_ok, v.tasks_cpu_checked), (5, 5), "{v:?}");
        // The same bodies hashed instead of parsed: right checksums, wrong results.
        let hashed: Vec<TaskOutcome> = p
            .honest_outcomes()
            .into_iter()
            .map(|mut o| {
                let body = WorkKind::Json.body(p.seed, o.id, 2048);
                o.result = Ok(WorkKind::Hash.complete(&body, 2));
                o
            })
            .collect();
        assert_eq!(p.verify(&hashed).failures.get("cpu_mismatch"), Some(&5));
    }

    fn honest(plan: &TaskPlan) -> Vec<TaskOutcome> {
        plan.honest_outcomes()
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
    fn the_shards_of_a_plan_are_the_plan_and_each_verifies_its_own_tasks_only() {
        let whole = plan();
        let shards: Vec<TaskPlan> = (1..=3)
            .map(|k| plan().shard(Shard::new(k, 3).unwrap()))
            .collect();
        let mut specs: Vec<TaskSpec> = shards.iter().flat_map(|s| s.specs.clone()).collect();
        specs.sort_by_key(|s| s.id);
        assert_eq!(specs, whole.specs);
        let (second, third) = (&shards[1], &shards[2]);
        let v = second.verify(&honest(second));
        assert_eq!((v.tasks_ok, v.tasks_failed), (3, 0));
        // Another shard's task is not this one's, and this one's are missing.
        let v = second.verify(&honest(third));
        assert_eq!(v.failures["unknown_task"], 3);
        assert_eq!(v.failures["missing"], 3);
        assert!(v.first_failure.unwrap().starts_with("task 1:"));
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
    fn a_client_rate_limit_is_a_term_of_the_bound() {
        let mut p = plan();
        let free = p.bound(100, 4);
        p.rate_per_s = Some(10.0);
        let limited = p.bound(100, 4);
        // 10 tasks at 10/s: the last starts 0.9 s after the first.
        assert!(
            limited.rate_s > 0.9 && limited.rate_s < 0.9 + 0.004,
            "{limited:?}"
        );
        assert_eq!(limited.ideal_s, limited.rate_s);
        assert_eq!(free.rate_s, 0.0);
        assert!(free.ideal_s < 0.01, "{free:?}");
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
            work: WorkKind::Hash,
            arrival: Default::default(),
        };
        let p = TaskPlan::build(&w, 10.0);
        let b = p.bound(1, 2);
        assert!((b.io_s - 1.0).abs() < 1e-9);
        assert!((b.cpu_s - 0.1).abs() < 1e-9);
        assert!((b.longest_task_s - 0.012).abs() < 1e-9);
        assert_eq!(b.ideal_s, b.io_s);
        assert_eq!(p.bound(1000, 2).ideal_s, p.bound(1000, 2).cpu_s);
    }

    #[test]
    fn a_sampled_plan_checks_the_cpu_results_of_its_sample_only_and_every_body() {
        let w = Workload {
            tasks: 2000,
            latency: "0".parse().unwrap(),
            bytes: 64,
            cpu: CpuWork::Units(10),
            concurrency: 2,
            seed: 3,
            work: WorkKind::Hash,
            arrival: Default::default(),
        };
        let p = TaskPlan::build_verified(&w, 100.0, Verify::Sample(0.1));
        let sampled: Vec<u64> = (0..2000).filter(|&id| p.cpu_checked(id)).collect();
        // About a tenth, the same draw every time.
        assert!((150..250).contains(&sampled.len()), "{}", sampled.len());
        let again = TaskPlan::build_verified(&w, 100.0, Verify::Sample(0.1));
        assert!((0..2000).all(|id| p.cpu_checked(id) == again.cpu_checked(id)));
        let mut o = honest(&p);
        let v = p.verify(&o);
        assert_eq!(
            (v.tasks_ok, v.tasks_cpu_checked),
            (2000, sampled.len() as u64)
        );
        // A wrong CPU result outside the sample is not seen; inside it is.
        let outside = (0..2000).find(|id| !p.cpu_checked(*id)).unwrap() as usize;
        let inside = sampled[0] as usize;
        for i in [outside, inside] {
            if let Ok(c) = &mut o[i].result {
                c.cpu_result ^= 1;
            }
        }
        // A wrong body is seen wherever it is.
        if let Ok(c) = &mut o[outside + 1].result {
            c.body_checksum ^= 1;
        }
        let v = p.verify(&o);
        assert_eq!(v.failures.get("cpu_mismatch"), Some(&1));
        assert_eq!(v.failures.get("checksum_mismatch"), Some(&1));
    }

    #[test]
    fn auto_checks_every_cpu_result_of_a_small_plan_and_a_sample_of_a_big_one() {
        assert_eq!(Verify::Auto.fraction(200, 0.001), 1.0);
        // 20k tasks of 1 ms: 20 s of CPU; 1 s of checks is 5% of them.
        assert!((Verify::Auto.fraction(20_000, 0.001) - 0.05).abs() < 1e-9);
        // Never fewer than 0.1% of the tasks.
        assert_eq!(Verify::Auto.fraction(1_000_000, 0.001), 0.001);
        assert_eq!(Verify::All.fraction(1_000_000, 1.0), 1.0);
        assert_eq!("sample:0.25".parse::<Verify>(), Ok(Verify::Sample(0.25)));
        assert!("sample:0"
            .parse::<Verify>()
            .unwrap_err()
            .contains("sample:F"));
        assert!("most".parse::<Verify>().is_err());
    }
}
