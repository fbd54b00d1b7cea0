//! Every server fault against a strategy of each family (threads, processes,
//! async): the run completes in bounded time and its counts are exactly what
//! the seeded faults predict. The mock server draws each fault from
//! (seed, task, attempt), so [`Faults::decide`] tells in advance which
//! attempt of which task meets which fault.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use concbench::bench::run_workload;
use concbench::http::ClientPolicy;
use concbench::report::StrategyResult;
use concbench::strategy::StrategyKind;
use concbench::workload::Workload;
use mock_server::{Fault, Faults, MockServer, Rate, RateLimit, ServerConfig, ServerHandle};

use crate::common;

/// One strategy of each family.
const FAMILIES: &[StrategyKind] = &[
    StrategyKind::ThreadPool,
    StrategyKind::ProcessPool,
    StrategyKind::Async,
];

const STATUSES: &[u16] = &[500, 503];

fn server_with(faults: Faults, rate_limit: Option<RateLimit>) -> ServerHandle {
    MockServer::start(ServerConfig {
        faults,
        error_statuses: STATUSES.to_vec(),
        rate_limit,
        ..ServerConfig::default()
    })
    .expect("mock server starts")
}

fn workload(tasks: usize, latency: &str) -> Workload {
    let mut w = common::small(tasks, latency);
    w.cpu = concbench::workload::CpuWork::Units(0);
    w.concurrency = 8;
    w
}

fn run(server: &ServerHandle, w: &Workload, policy: ClientPolicy) -> Vec<StrategyResult> {
    let mut options = common::options();
    options.strategy.policy = policy;
    options.strategy.workers = Some(2);
    let started = Instant::now();
    let report = run_workload(w, FAMILIES, &common::target(&server.url()), &options).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the runs took {:?}",
        started.elapsed()
    );
    report.results
}

/// What the seeded faults predict for a plan: per task, the attempts until
/// one meets no fault that fails it (a drip does not), within `1 + retries`.
struct Prediction {
    ok: u64,
    attempts: u64,
    retried_tasks: u64,
    /// Failed tasks by the cause of their last attempt.
    failures: BTreeMap<String, u64>,
    /// Attempts that met each fault, as the server counts them.
    faults: BTreeMap<String, u64>,
}

fn predict(faults: &Faults, w: &Workload, retries: u32) -> Prediction {
    let mut p = Prediction {
        ok: 0,
        attempts: 0,
        retried_tasks: 0,
        failures: BTreeMap::new(),
        faults: BTreeMap::new(),
    };
    for id in 0..w.tasks as u64 {
        let mut last = None;
        let mut attempts = 0;
        for attempt in 0..=retries {
            attempts += 1;
            let fault = faults.decide(STATUSES, w.seed, id, attempt as u64);
            let (kind, cause) = match fault {
                None => (None, None),
                Some(Fault::Drip { .. }) => (Some("drip"), None),
                Some(Fault::Stall) => (Some("stall"), Some("timeout".to_string())),
                Some(Fault::Reset) => (Some("reset"), Some("body".to_string())),
                Some(Fault::Error { status }) => (Some("error"), Some(format!("http_{status}"))),
            };
            if let Some(k) = kind {
                *p.faults.entry(k.to_string()).or_default() += 1;
            }
            last = cause;
            if last.is_none() {
                break;
            }
        }
        p.attempts += attempts;
        p.retried_tasks += (attempts > 1) as u64;
        match last {
            None => p.ok += 1,
            Some(cause) => *p.failures.entry(cause).or_default() += 1,
        }
    }
    p
}

fn assert_as_predicted(r: &StrategyResult, p: &Prediction, w: &Workload) {
    let who = &r.strategy;
    assert_eq!(r.tasks_ok, p.ok, "{who}: ok; failures {:?}", r.failures);
    assert_eq!(r.tasks_ok + r.tasks_failed, w.tasks as u64, "{who}");
    assert_eq!(r.failures, p.failures, "{who}: failures by cause");
    assert_eq!(r.requests_sent, p.attempts, "{who}: requests sent");
    assert_eq!(r.retries, p.attempts - w.tasks as u64, "{who}: retries");
    assert_eq!(r.tasks_retried, p.retried_tasks, "{who}: tasks retried");
    assert_eq!(
        r.server.as_ref().unwrap().faults,
        p.faults,
        "{who}: faults the server counted"
    );
    assert_eq!(
        r.server.as_ref().unwrap().requests,
        p.attempts,
        "{who}: requests received"
    );
    assert!(r.checks.requests_match, "{who}: {:?}", r.checks);
}

#[test]
fn error_statuses_fail_exactly_the_predicted_tasks_without_retries() {
    let faults = Faults {
        error_rate: 0.2,
        ..Faults::NONE
    };
    let server = server_with(faults, None);
    let w = workload(100, "1ms");
    let p = predict(&faults, &w, 0);
    assert!(p.ok > 60 && p.ok < 95, "the draw: {} ok", p.ok);
    for r in run(&server, &w, ClientPolicy::default()) {
        assert_as_predicted(&r, &p, &w);
        assert_eq!(r.status, "failed");
    }
}

#[test]
fn retries_recover_from_errors_and_resets_exactly_as_predicted() {
    let faults = Faults {
        error_rate: 0.2,
        reset_rate: 0.1,
        ..Faults::NONE
    };
    let server = server_with(faults, None);
    let w = workload(100, "1ms");
    let policy = ClientPolicy {
        retries: 3,
        backoff_ms: 1,
        ..ClientPolicy::default()
    };
    let p = predict(&faults, &w, policy.retries);
    assert!(p.attempts > 120, "the draw: {} attempts", p.attempts);
    for r in run(&server, &w, policy) {
        assert_as_predicted(&r, &p, &w);
    }
}

#[test]
fn stalled_requests_end_in_timeouts_and_are_retried() {
    let faults = Faults {
        stall_rate: 0.15,
        ..Faults::NONE
    };
    let server = server_with(faults, None);
    let w = workload(40, "1ms");
    let policy = ClientPolicy {
        timeout_ms: 300,
        retries: 1,
        backoff_ms: 1,
        ..ClientPolicy::default()
    };
    let p = predict(&faults, &w, policy.retries);
    assert!(p.faults["stall"] >= 3, "the draw: {:?}", p.faults);
    for r in run(&server, &w, policy) {
        assert_as_predicted(&r, &p, &w);
        // Bounded by the timeouts, not by the server's 10-minute stall cap.
        assert!(r.wall_s < 5.0, "{}: {} s", r.strategy, r.wall_s);
    }
}

#[test]
fn dripping_bodies_are_slow_but_every_task_verifies() {
    let faults = Faults {
        drip: Duration::from_millis(50),
        drip_rate: 1.0,
        ..Faults::NONE
    };
    let server = server_with(faults, None);
    let w = workload(24, "1ms");
    let p = predict(&faults, &w, 0);
    for r in run(&server, &w, ClientPolicy::default()) {
        assert_as_predicted(&r, &p, &w);
        assert_eq!(r.status, "ok");
        // The body took the drip's time to arrive.
        assert!(
            r.phases.body.p50_s >= 0.040,
            "{}: body p50 {} s",
            r.strategy,
            r.phases.body.p50_s
        );
    }
}

#[test]
fn a_rate_limited_server_is_survived_by_honouring_retry_after() {
    let limit = RateLimit {
        rate: "200/s".parse::<Rate>().unwrap(),
        burst: 5,
    };
    let server = server_with(Faults::NONE, Some(limit));
    let w = workload(60, "0");
    let policy = ClientPolicy {
        retries: 30,
        backoff_ms: 1,
        ..ClientPolicy::default()
    };
    for r in run(&server, &w, policy) {
        let who = &r.strategy;
        assert_eq!(
            (r.tasks_ok, r.tasks_failed),
            (60, 0),
            "{who}: {:?}",
            r.failures
        );
        let limited = r
            .server
            .as_ref()
            .unwrap()
            .faults
            .get("rate_limited")
            .copied()
            .unwrap_or(0);
        assert!(limited > 0, "{who}: the burst must have been limited");
        assert_eq!(r.retries, limited, "{who}: one retry per 429");
        assert_eq!(
            r.server.as_ref().unwrap().requests,
            r.requests_sent,
            "{who}"
        );
        // 55 requests beyond the burst at 200/s take at least ~0.27 s.
        assert!(r.wall_s >= 0.2, "{who}: {} s", r.wall_s);
    }
}

#[test]
fn a_client_rate_under_the_server_limit_meets_no_429() {
    let _cores = common::quiet_cores();
    let limit = RateLimit {
        rate: "200/s".parse::<Rate>().unwrap(),
        burst: 10,
    };
    let server = server_with(Faults::NONE, Some(limit));
    let w = workload(40, "0");
    let policy = ClientPolicy {
        rate_per_s: Some(120.0),
        ..ClientPolicy::default()
    };
    for r in run(&server, &w, policy) {
        assert_eq!((r.tasks_ok, r.retries), (40, 0), "{}", r.strategy);
        assert!(
            r.server.as_ref().unwrap().faults.is_empty(),
            "{}: {:?}",
            r.strategy,
            r.server.as_ref().unwrap().faults
        );
    }
}
