//! A measured run end to end against a real mock server on port 0: every
//! checksum verifies, broken responses fail the run, latencies are honoured,
//! and the report's figures obey their invariants.

use std::time::Duration;

use concbench::bench::run_workload;
use concbench::strategy::StrategyKind;
use concbench::workload::CpuWork;
use mock_server::payload;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::common;

const BOTH: &[StrategyKind] = &[StrategyKind::Sequential, StrategyKind::Async];

#[test]
fn every_checksum_verifies_for_both_strategies() {
    let server = common::server();
    let w = common::small(60, "uniform:1ms..3ms");
    let report =
        run_workload(&w, BOTH, &common::target(&server.url()), &common::options()).unwrap();
    assert_eq!(report.results.len(), 2);
    for r in &report.results {
        assert_eq!(r.status, "ok", "{r:?}");
        assert_eq!((r.tasks_ok, r.tasks_failed), (60, 0), "{}", r.strategy);
        assert!(r.failures.is_empty());
        // Every request reached the server exactly once.
        assert_eq!(r.server.as_ref().unwrap().served, 60, "{}", r.strategy);
    }
}

/// The C of the bound each model must report: 1 for sequential, W for the
/// CPU pool used for I/O, C for everything else.
fn expected_in_flight_limit(kind: StrategyKind, concurrency: usize, cores: usize) -> usize {
    match kind {
        StrategyKind::Sequential => 1,
        // W defaults to one worker per core; each runs one task at a time.
        StrategyKind::Rayon | StrategyKind::ProcessPool => cores,
        // W workers with ⌈C/W⌉ requests each.
        StrategyKind::ProcessPoolAsync => concurrency.div_ceil(cores) * cores,
        _ => concurrency,
    }
}

#[test]
fn every_strategy_verifies_every_checksum() {
    let _cores = common::busy_cores();
    let server = common::server();
    let w = common::small(40, "uniform:1ms..3ms");
    let report = run_workload(
        &w,
        StrategyKind::ALL,
        &common::target(&server.url()),
        &common::options(),
    )
    .unwrap();
    assert_eq!(report.results.len(), StrategyKind::ALL.len());
    for (r, kind) in report.results.iter().zip(StrategyKind::ALL) {
        assert_eq!(r.strategy, kind.name());
        assert_eq!(r.status, "ok", "{r:?}");
        assert_eq!((r.tasks_ok, r.tasks_failed), (40, 0), "{}", r.strategy);
        assert_eq!(r.tasks, 40);
        // Every request reached the server exactly once.
        assert_eq!(r.server.as_ref().unwrap().served, 40, "{}", r.strategy);
        assert!(
            r.efficiency > 0.0 && r.efficiency <= 1.02,
            "{}: efficiency {}",
            r.strategy,
            r.efficiency
        );
        assert_eq!(
            r.in_flight_limit,
            expected_in_flight_limit(*kind, w.concurrency, report.meta.cores),
            "{}",
            r.strategy
        );
    }
}

#[test]
fn no_strategy_has_more_than_its_limit_in_flight() {
    let server = common::server();
    let mut w = common::small(40, "20ms");
    w.concurrency = 4;
    let kinds = StrategyKind::ALL.iter().copied();
    let report = run_workload(
        &w,
        StrategyKind::ALL,
        &common::target(&server.url()),
        &common::options(),
    )
    .unwrap();
    for (r, kind) in report.results.iter().zip(kinds) {
        assert_eq!(r.status, "ok", "{r:?}");
        let limit = expected_in_flight_limit(kind, 4, report.meta.cores);
        assert_eq!(r.in_flight_limit, limit, "{}", r.strategy);
        assert!(
            r.server.as_ref().unwrap().max_in_flight <= limit as u64,
            "{}: {} in flight at the server, limit {limit}",
            r.strategy,
            r.server.as_ref().unwrap().max_in_flight
        );
        // Ten rounds of 20 ms: every model reaches its limit.
        assert!(
            r.server.as_ref().unwrap().max_in_flight == limit as u64,
            "{}: only {} in flight",
            r.strategy,
            r.server.as_ref().unwrap().max_in_flight
        );
    }
}

#[test]
fn phases_account_for_the_latency_and_the_cpu_work() {
    let _cores = common::quiet_cores();
    let server = common::server();
    let mut w = common::small(40, "20ms");
    w.cpu = CpuWork::Time(Duration::from_millis(2));
    w.concurrency = 4;
    let kinds = [
        StrategyKind::Sequential,
        StrategyKind::ThreadPool,
        StrategyKind::Async,
        StrategyKind::AsyncRayon,
        StrategyKind::ProcessPool,
        StrategyKind::AsyncProcessPool,
    ];
    let report = run_workload(
        &w,
        &kinds,
        &common::target(&server.url()),
        &common::options(),
    )
    .unwrap();
    for r in &report.results {
        assert_eq!(r.status, "ok", "{r:?}");
        let p = &r.phases;
        println!("{}: {p:?}", r.strategy);
        // The server holds every answer 20 ms; the head arrives soon after.
        assert!(
            p.response.p50_s >= 0.020 && p.response.p50_s < 0.025,
            "{}: response p50 {}",
            r.strategy,
            p.response.p50_s
        );
        // 2 ms calibrated; a debug build on a shared machine may stray.
        assert!(
            p.cpu.p50_s >= 0.001,
            "{}: cpu p50 {}",
            r.strategy,
            p.cpu.p50_s
        );
        // Response and body split the client's latency between them.
        let fetched = p.response.mean_s + p.body.mean_s;
        assert!(
            (fetched - r.latency_s.mean).abs() < 0.001,
            "{}: response + body {fetched}, latency {}",
            r.strategy,
            r.latency_s.mean
        );
        // Queued time is measured from the run's start on a clock every
        // process shares: a worker on another clock would break this.
        assert!(
            p.queued.p99_s <= r.wall_s,
            "{}: queued p99 {} beyond the wall {}",
            r.strategy,
            p.queued.p99_s,
            r.wall_s
        );
    }
    // One at a time: task i waits for the i tasks before it.
    let seq = &report.results[0];
    assert_eq!(seq.strategy, "sequential");
    assert!(
        seq.phases.queued.p99_s > 10.0 * seq.phases.response.p50_s,
        "{:?}",
        seq.phases
    );
}

#[test]
fn a_small_plan_spreads_over_every_pool_worker() {
    // As many tasks as C: a dispatcher that filled the first worker's window
    // would leave the second idle and halve the requests in flight.
    let server = common::server();
    let mut w = common::small(8, "50ms");
    w.concurrency = 8;
    let mut options = common::options();
    options.strategy.workers = Some(2);
    let report = run_workload(
        &w,
        &[StrategyKind::ProcessPoolAsync],
        &common::target(&server.url()),
        &options,
    )
    .unwrap();
    let r = &report.results[0];
    assert_eq!(r.tasks_ok, 8);
    assert_eq!(r.server.as_ref().unwrap().max_in_flight, 8, "{r:?}");
}

#[test]
fn the_report_obeys_its_invariants() {
    let server = common::server();
    let w = common::small(40, "2ms");
    let report =
        run_workload(&w, BOTH, &common::target(&server.url()), &common::options()).unwrap();
    assert_eq!(report.meta.server_pid, std::process::id());
    let seq = &report.results[0];
    assert_eq!(seq.in_flight_limit, 1);
    assert_eq!(seq.speedup_vs_sequential, Some(1.0));
    for r in &report.results {
        assert!(
            r.efficiency > 0.0 && r.efficiency <= 1.02,
            "{}: efficiency {}",
            r.strategy,
            r.efficiency
        );
        assert!(
            r.wall_s >= r.ideal_s / 1.02,
            "{}: faster than the bound",
            r.strategy
        );
        assert!(
            r.ideal_s >= r.bound_io_s
                && r.ideal_s >= r.bound_cpu_s
                && r.ideal_s >= r.bound_longest_task_s
        );
        let l = r.latency_s;
        assert!(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max, "{l:?}");
        // Each request waits at least its planned 2 ms.
        assert!(l.p50 >= 0.002, "{}: p50 {}", r.strategy, l.p50);
        assert!(r.cpu_user_s + r.cpu_sys_s > 0.0);
        assert!((r.cpu_utilisation - (r.cpu_user_s + r.cpu_sys_s) / r.wall_s).abs() < 1e-9);
        assert!(r.throughput_per_s > 0.0 && r.peak_rss_bytes > 0);
    }
    // With C = 8 the async run overlaps requests: it must beat sequential clearly.
    let asy = &report.results[1];
    assert!(asy.speedup_vs_sequential.unwrap() > 2.0, "{asy:?}");
}

#[test]
fn latencies_of_200us_2ms_and_50ms_are_honoured() {
    let _cores = common::quiet_cores();
    let server = common::server();
    for (latency, tasks, planned_s) in [
        ("200us", 200, 200e-6),
        ("2ms", 100, 2e-3),
        ("50ms", 10, 50e-3),
    ] {
        let mut w = common::small(tasks, latency);
        w.cpu = CpuWork::Units(0);
        let report = run_workload(
            &w,
            &[StrategyKind::Sequential],
            &common::target(&server.url()),
            &common::options(),
        )
        .unwrap();
        let r = &report.results[0];
        assert_eq!(r.tasks_failed, 0);
        println!(
            "latency {latency}: client p50 {:.0} µs, server lateness p50 {:.0} µs p99 {:.0} µs max {:.0} µs",
            r.latency_s.p50 * 1e6,
            r.server.as_ref().unwrap().lateness_p50_s * 1e6,
            r.server.as_ref().unwrap().lateness_p99_s * 1e6,
            r.server.as_ref().unwrap().lateness_max_s * 1e6
        );
        // Never early (the HDR histogram rounds to 3 significant digits).
        assert!(
            r.latency_s.p50 >= planned_s * 0.999,
            "{latency}: p50 {}",
            r.latency_s.p50
        );
        // Late by well under a millisecond at the median, even in a debug build on a busy machine.
        assert!(
            r.server.as_ref().unwrap().lateness_p50_s < 500e-6,
            "{latency}: lateness p50 {}",
            r.server.as_ref().unwrap().lateness_p50_s
        );
        assert!(
            r.latency_s.p50 < planned_s + 2e-3,
            "{latency}: p50 {}",
            r.latency_s.p50
        );
    }
}

/// Serves the control endpoints a run needs, and `/work` through `work`.
async fn fake_server(work: impl Respond + 'static) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok\n"))
        .mount(&server)
        .await;
    let stats = serde_json::to_string(&mock_server::ServerStats {
        pid: 0,
        served: 0,
        in_flight: 0,
        max_in_flight: 0,
        bytes_sent: 0,
        bad_requests: 0,
        busy_s: 0.0,
        lateness_us: Default::default(),
        cpu_user_s: 0.0,
        cpu_sys_s: 0.0,
        threads: 1,
        uptime_s: 0.0,
    })
    .unwrap();
    Mock::given(method("GET"))
        .and(path("/stats"))
        .respond_with(ResponseTemplate::new(200).set_body_string(stats))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/stats/reset"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/work"))
        .respond_with(work)
        .mount(&server)
        .await;
    server
}

fn query(req: &Request, key: &str) -> u64 {
    req.url
        .query_pairs()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// Answers the right body, except for task 3, which gets one byte flipped.
struct Tampering;
impl Respond for Tampering {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let (id, bytes, seed) = (query(req, "id"), query(req, "bytes"), query(req, "seed"));
        let mut body = payload::generate(seed, id, bytes as usize);
        if id == 3 {
            body[bytes as usize / 2] ^= 0x40;
        }
        ResponseTemplate::new(200).set_body_bytes(body)
    }
}

/// Answers 404 for task 5, the right body otherwise.
struct Missing;
impl Respond for Missing {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let (id, bytes, seed) = (query(req, "id"), query(req, "bytes"), query(req, "seed"));
        if id == 5 {
            return ResponseTemplate::new(404);
        }
        ResponseTemplate::new(200).set_body_bytes(payload::generate(seed, id, bytes as usize))
    }
}

fn run_against_fake(work: impl Respond + 'static) -> concbench::report::RunReport {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(fake_server(work));
    let w = common::small(10, "0");
    run_workload(
        &w,
        StrategyKind::ALL,
        &common::target(&server.uri()),
        &common::options(),
    )
    .unwrap()
}

#[test]
fn a_tampered_body_fails_the_run_with_a_clear_message() {
    let report = run_against_fake(Tampering);
    assert_eq!(report.results.len(), StrategyKind::ALL.len());
    for r in &report.results {
        assert_eq!(r.status, "failed", "{}", r.strategy);
        assert_eq!((r.tasks_ok, r.tasks_failed), (9, 1));
        assert_eq!(r.failures.get("checksum_mismatch"), Some(&1));
        let msg = r.first_failure.as_deref().unwrap();
        assert!(msg.starts_with("task 3: body checksum"), "{msg}");
    }
}

#[test]
fn a_missing_response_fails_the_run_with_a_clear_message() {
    let report = run_against_fake(Missing);
    assert_eq!(report.results.len(), StrategyKind::ALL.len());
    for r in &report.results {
        assert_eq!((r.tasks_ok, r.tasks_failed), (9, 1), "{}", r.strategy);
        assert_eq!(r.failures.get("http_status"), Some(&1));
        assert_eq!(
            r.first_failure.as_deref(),
            Some("task 5: server answered HTTP 404")
        );
    }
}

#[test]
fn a_truncated_body_fails_the_run_with_a_clear_message() {
    let url = common::hand_rolled_server(common::WorkAnswer::Truncated);
    let w = common::small(6, "0");
    let report = run_workload(
        &w,
        StrategyKind::ALL,
        &common::target(&url),
        &common::options(),
    )
    .unwrap();
    assert_eq!(report.results.len(), StrategyKind::ALL.len());
    for r in &report.results {
        assert_eq!((r.tasks_ok, r.tasks_failed), (0, 6), "{}", r.strategy);
        assert_eq!(
            r.failures.get("body"),
            Some(&6),
            "{}: {:?}",
            r.strategy,
            r.failures
        );
        let msg = r.first_failure.as_deref().unwrap();
        assert!(
            msg.starts_with("task 0: reading the response failed"),
            "{msg}"
        );
    }
}
