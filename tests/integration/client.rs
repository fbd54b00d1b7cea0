//! The client policy holds for a strategy of every family (threads, processes,
//! async): the rate limiter spaces requests, the deadline ends a run on time
//! with the rest counted as `deadline`, and the timeout turns a server that
//! never answers into failures with cause `timeout` instead of a hung run.

use std::time::{Duration, Instant};

use concbench::bench::{run_workload, RunOptions};
use concbench::http::ClientPolicy;
use concbench::strategy::StrategyKind;
use mock_server::{Faults, MockServer, ServerConfig};

use crate::common;

/// One strategy of each family.
const FAMILIES: &[StrategyKind] = &[
    StrategyKind::ThreadPool,
    StrategyKind::ProcessPool,
    StrategyKind::Async,
];

fn with_policy(policy: ClientPolicy) -> RunOptions {
    let mut options = common::options();
    options.strategy.policy = policy;
    options
}

#[test]
fn the_rate_limiter_spaces_requests_for_every_family() {
    let _cores = common::quiet_cores();
    let server = common::server();
    let mut w = common::small(60, "0");
    w.concurrency = 8;
    let options = with_policy(ClientPolicy {
        rate_per_s: Some(100.0),
        ..ClientPolicy::default()
    });
    let report = run_workload(&w, FAMILIES, &common::target(&server.url()), &options).unwrap();
    for r in &report.results {
        assert_eq!((r.tasks_ok, r.tasks_failed), (60, 0), "{}", r.strategy);
        // 60 requests at 100/s: the last starts 0.59 s after the first; no
        // faster, and not throttled to a crawl either.
        assert!(
            (0.5..2.0).contains(&r.wall_s),
            "{}: {} s for 60 requests at 100/s",
            r.strategy,
            r.wall_s
        );
    }
}

#[test]
fn a_deadline_ends_the_run_on_time_and_counts_what_was_left() {
    let _cores = common::quiet_cores();
    let server = common::server();
    // 2 in flight × 20 ms: 200 tasks would take 2 s; the deadline is 0.4 s.
    let mut w = common::small(200, "20ms");
    w.concurrency = 2;
    let mut options = with_policy(ClientPolicy {
        deadline_ms: Some(400),
        ..ClientPolicy::default()
    });
    options.strategy.workers = Some(2);
    let report = run_workload(&w, FAMILIES, &common::target(&server.url()), &options).unwrap();
    for r in &report.results {
        assert!(r.wall_s < 1.2, "{}: {} s", r.strategy, r.wall_s);
        assert!(r.tasks_ok >= 10, "{}: {} ok", r.strategy, r.tasks_ok);
        assert_eq!(r.tasks_ok + r.tasks_failed, 200, "{}", r.strategy);
        assert_eq!(
            r.failures.get("deadline"),
            Some(&r.tasks_failed),
            "{}: {:?}",
            r.strategy,
            r.failures
        );
        // Every request the client sent reached the server and was served.
        assert_eq!(r.requests_sent, r.tasks_ok, "{}", r.strategy);
    }
}

#[test]
fn a_server_that_never_answers_fails_requests_with_timeout_instead_of_hanging() {
    // Every request stalls: never answered until the client leaves.
    let server = MockServer::start(ServerConfig {
        faults: Faults {
            stall_rate: 1.0,
            ..Faults::NONE
        },
        ..ServerConfig::default()
    })
    .expect("mock server starts");
    let url = server.url();
    let mut w = common::small(4, "1ms");
    w.concurrency = 4;
    let options = with_policy(ClientPolicy {
        timeout_ms: 300,
        ..ClientPolicy::default()
    });
    let kinds = [
        StrategyKind::Sequential,
        StrategyKind::ThreadPool,
        StrategyKind::ProcessPool,
        StrategyKind::Async,
    ];
    let started = Instant::now();
    let report = run_workload(&w, &kinds, &common::target(&url), &options).unwrap();
    // Sequential alone waits 4 × 0.3 s; nothing may wait for the server's 10-minute stall cap.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    for r in &report.results {
        assert_eq!((r.tasks_ok, r.tasks_failed), (0, 4), "{}", r.strategy);
        assert_eq!(
            r.failures.get("timeout"),
            Some(&4),
            "{}: {:?}",
            r.strategy,
            r.failures
        );
        let msg = r.first_failure.as_deref().unwrap();
        assert!(msg.contains("--timeout"), "{}: {msg}", r.strategy);
    }
}

#[test]
fn the_async_client_verifies_bodies_read_whole_and_bodies_too_large_for_one_read() {
    // 16 B and 64 KiB answers are each read in one read of their own size;
    // 600 KiB is over the one-read cap and comes in pieces, as hyper reads.
    // The worker processes get the size through their config.
    let server = common::server();
    let kinds = [StrategyKind::Async, StrategyKind::ProcessPoolAsync];
    for bytes in [16, 64 * 1024, 600 * 1024] {
        let mut w = common::small(12, "0");
        (w.bytes, w.concurrency) = (bytes, 4);
        let report = run_workload(
            &w,
            &kinds,
            &common::target(&server.url()),
            &common::options(),
        )
        .unwrap();
        for r in &report.results {
            assert_eq!(
                (r.tasks_ok, r.tasks_failed),
                (12, 0),
                "{} at {bytes} bytes: {:?}",
                r.strategy,
                r.first_failure
            );
        }
    }
}

#[test]
fn preconnect_opens_the_c_connections_before_the_window_on_the_async_models_only() {
    let _cores = common::busy_cores();
    let server = common::server();
    let mut w = common::small(40, "10ms");
    w.concurrency = 8;
    let mut options = common::options();
    options.strategy.preconnect = true;
    let kinds = [
        StrategyKind::Async,
        StrategyKind::AsyncSingle,
        StrategyKind::ThreadPool,
    ];
    let report = run_workload(&w, &kinds, &common::target(&server.url()), &options).unwrap();
    assert!(report.meta.preconnect);
    for r in &report.results {
        assert_eq!((r.tasks_ok, r.tasks_failed), (40, 0), "{}", r.strategy);
        let expected = if r.strategy == "thread-pool" { 0 } else { 8 };
        assert_eq!(r.connections_preopened, expected, "{}", r.strategy);
        // 40 tasks of 10 ms, 8 at a time: 5 waves, whatever the connects cost.
        assert!(r.wall_s >= 0.05, "{}: {} s", r.strategy, r.wall_s);
    }
    // Without the flag nothing is opened ahead.
    options.strategy.preconnect = false;
    let plain = run_workload(&w, &kinds[..1], &common::target(&server.url()), &options).unwrap();
    assert!(!plain.meta.preconnect);
    assert_eq!(plain.results[0].connections_preopened, 0);
}
