//! A strategy's row of the report, derived from what one run measured
//! ([`RawRun`]) and the plan: a pure function, tested without a server.

use hdrhistogram::Histogram;
use mock_server::{FaultStats, ServerStats};

use super::execute::RawRun;
use super::EFFICIENCY_LIMIT;
use crate::measure::machine::Noise;
use crate::report::{Checks, Percentiles, ServerSide, Status, StrategyResult};
use crate::strategy::Contender;
use crate::task::{TaskError, TaskOutcome};
use crate::workload::TaskPlan;

/// The row of `raw` against `plan`: verification, CPU (the client's own,
/// without an in-process server or the sampler, plus every child process),
/// the bound, the server side and the sanity checks. The speed-up against
/// sequential is the caller's (it needs the round's sequential run).
pub(super) fn build(raw: &RawRun, plan: &TaskPlan) -> StrategyResult {
    let RawRun {
        kind,
        in_flight,
        bound,
        bound_cores: _,
        run,
        measured,
        sampled,
        server_before,
        server_after,
        system_before: sys_before,
        system_after: sys_after,
    } = raw;
    let in_flight = *in_flight;
    let verification = plan.verify(&run.outcomes);
    let wall_s = measured.wall_s;
    // A run cut short by its deadline (or Ctrl-C) did part of the plan: hold
    // it against the bound of the tasks it finished, not of the whole plan
    // (which would read as an efficiency of 200).
    let cut_short = ["deadline", "cancelled"]
        .iter()
        .any(|c| verification.failures.contains_key(*c));
    let bound = if cut_short {
        let done = run
            .outcomes
            .iter()
            .filter(|o| o.result.is_ok())
            .map(|o| o.id);
        plan.bound_of_ids(done, in_flight, raw.bound_cores)
    } else if plan.endpoint {
        plan.bound_measured(&run.outcomes, in_flight, raw.bound_cores)
    } else {
        *bound
    };
    // Without `/stats` (a user's endpoint) the server side is absent, and
    // counted as nothing served, nothing subtracted.
    let absent = (ServerStats::default(), FaultStats::default());
    let server_seen = server_before.is_some() && server_after.is_some();
    let ((before, faults_before), (after, faults_after)) = (
        server_before.as_ref().unwrap_or(&absent),
        server_after.as_ref().unwrap_or(&absent),
    );

    let server_user = (after.cpu_user_s - before.cpu_user_s).max(0.0);
    let server_sys = (after.cpu_sys_s - before.cpu_sys_s).max(0.0);
    // A server in this very process (tests, library users) is not the client;
    // neither is the sampler.
    let in_process = server_seen && after.pid == std::process::id();
    let (sub_user, sub_sys) = if in_process {
        (server_user, server_sys)
    } else {
        (0.0, 0.0)
    };
    let cpu_user_s = (measured.usage.cpu_user_s - sub_user - sampled.sampler_cpu_user_s).max(0.0)
        + run.children.cpu_user_s;
    let cpu_sys_s = (measured.usage.cpu_sys_s - sub_sys - sampled.sampler_cpu_sys_s).max(0.0)
        + run.children.cpu_sys_s;
    let lateness = after.lateness_us;
    let histogram = latency_histogram(&run.outcomes);
    let latency_s = crate::report::merge::percentiles(&histogram);
    let open = plan
        .due_us
        .as_ref()
        .map(|due| open_loop(&run.outcomes, due));
    let efficiency = bound.ideal_s / wall_s;
    let throughput_per_s = verification.tasks_ok as f64 / wall_s;

    let requests_sent: u64 = run
        .outcomes
        .iter()
        .map(|o| o.attempts.saturating_sub(o.unreached) as u64)
        .sum();
    let requests_received = faults_after.requests.saturating_sub(faults_before.requests);
    let served = after.served.saturating_sub(before.served);
    // A server that counts what it receives is held to every request the
    // client sent (faults and retries included); an older one to the whole
    // 200 answers the client saw.
    let counts_received = faults_after.requests > 0;
    let (requests_answered, requests_served) = if counts_received {
        (requests_sent, requests_received)
    } else {
        let answered = run
            .outcomes
            .iter()
            .filter(|o| matches!(o.result, Ok(_) | Err(TaskError::Body(_))))
            .count() as u64;
        (answered, served)
    };
    let d = |a: u64, b: u64| a.saturating_sub(b);
    let (fa, fb) = (faults_after.faults, faults_before.faults);
    let server_faults: std::collections::BTreeMap<String, u64> = [
        ("error", d(fa.error, fb.error)),
        ("reset", d(fa.reset, fb.reset)),
        ("stall", d(fa.stall, fb.stall)),
        ("drip", d(fa.drip, fb.drip)),
        ("rate_limited", d(fa.rate_limited, fb.rate_limited)),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(k, n)| (k.to_string(), n))
    .collect();
    let answered_latency_s: f64 = run
        .outcomes
        .iter()
        .filter(|o| o.result.is_ok())
        .map(|o| o.latency_us as f64 / 1e6)
        .sum();
    let server_busy_s = (after.busy_s - before.busy_s).max(0.0);
    let noise = Noise::between(sys_before, sys_after, wall_s);
    let mut checks = Checks {
        bound_ok: efficiency <= EFFICIENCY_LIMIT,
        requests_answered,
        requests_served,
        // Nothing to compare without the server's counts.
        requests_match: !server_seen || requests_answered == requests_served,
        client_in_flight_mean: answered_latency_s / wall_s,
        server_in_flight_mean: server_busy_s / wall_s,
        flags: Vec::new(),
    };
    if !checks.bound_ok {
        checks.flags.push("bound_violated".into());
    }
    if !checks.requests_match {
        checks.flags.push("requests_mismatch".into());
    }
    // The server cannot hold a request longer than the client waits for it.
    if server_seen && checks.server_in_flight_mean > checks.client_in_flight_mean * 1.05 + 0.05 {
        checks.flags.push("server_busier_than_client".into());
    }
    if noise.noisy {
        checks.flags.push("noisy_machine".into());
    }
    // CPU results outside a `--verify` sample are not recomputed: a strategy
    // that skipped their work would still show it here, as CPU time far
    // below what the tasks it completed needed (calibrated in this run).
    let work_s = verification.tasks_ok as f64 * plan.cpu_per_task_s();
    if work_s > 0.05 && cpu_user_s + cpu_sys_s < 0.5 * work_s {
        checks.flags.push("cpu_below_work".into());
    }

    StrategyResult {
        strategy: kind.name().to_string(),
        external_command: match kind {
            Contender::External(e) => Some(e.command_line()),
            Contender::Model(_) => None,
        },
        status: if verification.tasks_failed == 0 {
            Status::Ok
        } else {
            Status::Failed
        },
        tasks: plan.specs.len(),
        tasks_ok: verification.tasks_ok,
        tasks_failed: verification.tasks_failed,
        failures: verification.failures.clone(),
        requests_sent,
        retries: run
            .outcomes
            .iter()
            .map(|o| o.attempts.saturating_sub(1) as u64)
            .sum(),
        tasks_retried: run.outcomes.iter().filter(|o| o.attempts > 1).count() as u64,
        first_failure: verification.first_failure.clone(),
        tasks_cpu_checked: verification.tasks_cpu_checked,
        in_flight_limit: in_flight,
        threads_started: run.threads_started,
        processes_started: run.children.processes,
        workers_replaced: run.workers_replaced,
        connections_preopened: run.connections_preopened,
        wall_s,
        ideal_s: bound.ideal_s,
        bound_io_s: bound.io_s,
        bound_cpu_s: bound.cpu_s,
        bound_rate_s: bound.rate_s,
        bound_longest_task_s: bound.longest_task_s,
        efficiency,
        speedup_vs_sequential: None,
        cpu_user_s,
        cpu_sys_s,
        cpu_utilisation: (cpu_user_s + cpu_sys_s) / wall_s,
        peak_rss_bytes: measured.peak_rss_bytes + run.children.peak_rss_bytes,
        peak_rss_per_run: measured.peak_rss_is_per_run,
        ctx_switches_voluntary: measured.usage.ctx_switches_voluntary
            + run.children.ctx_switches_voluntary,
        ctx_switches_involuntary: measured.usage.ctx_switches_involuntary
            + run.children.ctx_switches_involuntary,
        throughput_per_s,
        latency_s,
        latency_corrected_s: open.map(|o| o.0),
        start_lateness_s: open.map(|o| o.1),
        late_starts: open.map_or(0, |o| o.2),
        phases: crate::report::phases::summarise(&run.outcomes),
        server: server_seen.then(|| ServerSide {
            served,
            requests: requests_received,
            faults: server_faults,
            cpu_user_s: server_user,
            cpu_sys_s: server_sys,
            max_in_flight: after.max_in_flight,
            lateness_p50_s: lateness.p50 as f64 / 1e6,
            lateness_p99_s: lateness.p99 as f64 / 1e6,
            lateness_max_s: lateness.max as f64 / 1e6,
        }),
        checks,
        noise,
        sampler_cpu_s: sampled.sampler_cpu_user_s + sampled.sampler_cpu_sys_s,
        timeline: sampled.timeline.clone(),
        rounds: 1,
        stats: Default::default(),
        repeats: Vec::new(),
        started_at_unix_s: Some(measured.started_at_unix_s),
        // A shard keeps its histogram for the merge; a whole run needs only the percentiles.
        latency_histogram_us: match plan.shard {
            Some(_) => crate::report::merge::histogram_counts(&histogram),
            None => Vec::new(),
        },
    }
}

/// Client-side latencies of the requests that got an answer, in µs.
fn latency_histogram(outcomes: &[TaskOutcome]) -> Histogram<u64> {
    let mut h = crate::report::merge::latency_histogram();
    for o in outcomes.iter().filter(|o| o.result.is_ok()) {
        h.saturating_record(o.latency_us.max(1));
    }
    h
}

/// Under an open loop: the corrected latency (from due to last byte) and
/// the start lateness (from due to first send) of the answered tasks, and
/// how many started more than 1 ms late.
fn open_loop(outcomes: &[TaskOutcome], due_us: &[u64]) -> (Percentiles, Percentiles, u64) {
    let late_us = |o: &TaskOutcome| {
        let due = due_us.get(o.id as usize).copied().unwrap_or(0);
        o.phases.queued_us.saturating_sub(due)
    };
    let ok: Vec<&TaskOutcome> = outcomes.iter().filter(|o| o.result.is_ok()).collect();
    let corrected = percentiles_of(
        ok.iter()
            .map(|o| late_us(o) + o.phases.retry_us + o.latency_us),
    );
    let lateness = percentiles_of(ok.iter().map(|o| late_us(o)));
    let late = ok.iter().filter(|o| late_us(o) > 1_000).count() as u64;
    (corrected, lateness, late)
}

/// Percentiles of µs values, in seconds.
fn percentiles_of(values: impl Iterator<Item = u64>) -> Percentiles {
    let mut h = crate::report::merge::latency_histogram();
    for us in values {
        h.saturating_record(us.max(1));
    }
    crate::report::merge::percentiles(&h)
}

#[cfg(test)]
mod tests {
    use mock_server::{FaultStats, LatenessSummary, ServerStats};

    use super::*;
    use crate::measure::Measured;
    use crate::strategy::{StrategyKind, StrategyRun};
    use crate::sys::rusage::Usage;
    use crate::task::{Completed, TaskError};
    use crate::workload::{CpuWork, Workload};

    fn plan(tasks: usize) -> TaskPlan {
        let w = Workload {
            tasks,
            latency: "10ms".parse().unwrap(),
            bytes: 512,
            cpu: CpuWork::Units(100),
            concurrency: 4,
            seed: 9,
            work: Default::default(),
            arrival: Default::default(),
        };
        TaskPlan::build(&w, 10.0)
    }

    /// The outcome a correct strategy reports for every task of `plan`.
    fn verified(plan: &TaskPlan) -> Vec<TaskOutcome> {
        plan.honest_outcomes()
    }

    fn server(served: u64, cpu_s: f64) -> (ServerStats, FaultStats) {
        let stats = ServerStats {
            // Not this process: the server's CPU is not subtracted.
            pid: u32::MAX,
            served,
            in_flight: 0,
            max_in_flight: 4,
            bytes_sent: 0,
            bad_requests: 0,
            busy_s: served as f64 * 0.01,
            lateness_us: LatenessSummary::default(),
            cpu_user_s: cpu_s,
            cpu_sys_s: 0.0,
            threads: 1,
            uptime_s: 1.0,
        };
        let faults = FaultStats {
            requests: served,
            ..FaultStats::default()
        };
        (stats, faults)
    }

    fn raw(plan: &TaskPlan, outcomes: Vec<TaskOutcome>, served_after: u64) -> RawRun {
        let wall_s = 0.05;
        RawRun {
            kind: StrategyKind::ProcessPool.into(),
            in_flight: 4,
            bound: plan.bound(4, 2),
            bound_cores: 2,
            run: StrategyRun {
                outcomes,
                children: Usage {
                    cpu_user_s: 0.2,
                    cpu_sys_s: 0.1,
                    peak_rss_bytes: 1000,
                    processes: 2,
                    ..Usage::default()
                },
                threads_started: 3,
                workers_replaced: 0,
                ..StrategyRun::default()
            },
            measured: Measured {
                wall_s,
                started_at_unix_s: 1.0e9,
                usage: Usage {
                    cpu_user_s: 0.03,
                    cpu_sys_s: 0.02,
                    ..Usage::default()
                },
                peak_rss_bytes: 5000,
                peak_rss_is_per_run: true,
            },
            sampled: Default::default(),
            server_before: Some(server(0, 1.0)),
            server_after: Some(server(served_after, 1.5)),
            system_before: Default::default(),
            system_after: Default::default(),
        }
    }

    #[test]
    fn a_run_that_did_every_task_right_is_ok_and_its_figures_follow_from_what_was_measured() {
        let plan = plan(20);
        let raw = raw(&plan, verified(&plan), 20);
        let row = build(&raw, &plan);
        assert_eq!(row.status, Status::Ok);
        assert_eq!((row.tasks, row.tasks_ok, row.tasks_failed), (20, 20, 0));
        // The client's own CPU plus its children's.
        assert!((row.cpu_user_s - 0.23).abs() < 1e-9, "{}", row.cpu_user_s);
        assert!((row.cpu_sys_s - 0.12).abs() < 1e-9, "{}", row.cpu_sys_s);
        assert_eq!(row.peak_rss_bytes, 6000);
        assert_eq!(row.processes_started, 2);
        // 20 × 10 ms over 4 in flight: 50 ms, the wall time: efficiency 1.
        assert!((row.ideal_s - 0.05).abs() < 1e-9, "{}", row.ideal_s);
        assert!((row.efficiency - 1.0).abs() < 1e-9, "{}", row.efficiency);
        assert!((row.throughput_per_s - 400.0).abs() < 1e-6);
        assert!((row.server.as_ref().unwrap().cpu_user_s - 0.5).abs() < 1e-9);
        assert_eq!(row.server.as_ref().unwrap().served, 20);
        assert!(
            row.checks.requests_match && row.checks.bound_ok,
            "{:?}",
            row.checks
        );
        assert!(row.checks.flags.is_empty(), "{:?}", row.checks.flags);
        // HDR histograms keep 3 significant digits.
        assert!(
            (row.latency_s.p50 - 0.01).abs() < 0.01 * 1e-3,
            "{}",
            row.latency_s.p50
        );
    }

    #[test]
    fn a_lost_task_and_a_wrong_body_fail_the_row_by_cause() {
        let plan = plan(10);
        let mut outcomes = verified(&plan);
        outcomes.pop();
        outcomes[0].result = Ok(Completed {
            body_checksum: 1,
            ..outcomes[0].result.clone().unwrap()
        });
        outcomes[1] = TaskOutcome::failed(1, TaskError::Status(503));
        let row = build(&raw(&plan, outcomes, 8), &plan);
        assert_eq!(row.status, Status::Failed);
        assert_eq!((row.tasks_ok, row.tasks_failed), (7, 3));
        assert_eq!(row.failures.get("missing"), Some(&1));
        assert_eq!(row.failures.get("checksum_mismatch"), Some(&1));
        assert_eq!(row.failures.get("http_503"), Some(&1));
        assert!(row.first_failure.unwrap().starts_with("task 0:"));
    }

    #[test]
    fn a_run_cut_short_by_its_deadline_is_held_against_the_tasks_it_finished() {
        let plan = plan(20);
        let mut outcomes = verified(&plan);
        for o in &mut outcomes[5..] {
            *o = TaskOutcome::failed(o.id, TaskError::Deadline("past it".into()));
        }
        let raw = raw(&plan, outcomes, 5);
        // 5 tasks of 10 ms over 4 in flight: 12.5 ms of bound in 50 ms.
        let row = build(&raw, &plan);
        assert!((row.ideal_s - 0.0125).abs() < 1e-9, "{}", row.ideal_s);
        assert!(row.checks.bound_ok, "{:?}", row.checks.flags);
        assert_eq!(row.failures.get("deadline"), Some(&15));
    }

    #[test]
    fn requests_the_server_never_saw_and_an_impossible_efficiency_are_flagged() {
        let plan = plan(20);
        let mut raw = raw(&plan, verified(&plan), 15);
        raw.measured.wall_s = 0.01;
        let row = build(&raw, &plan);
        assert!(!row.checks.requests_match);
        assert!(row.checks.flags.contains(&"requests_mismatch".to_string()));
        assert!(!row.checks.bound_ok);
        assert!(row.checks.flags.contains(&"bound_violated".to_string()));
    }
}
