//! Open-loop arrivals (`--arrival`): tasks are due at their own times; a
//! model that cannot keep up starts them late, and its corrected latency
//! (from when each was due) shows it while its raw latency does not.

use concbench::bench::run_workload;
use concbench::strategy::StrategyKind;
use concbench::workload::Arrival;

use crate::common;

#[test]
fn a_model_that_falls_behind_shows_it_in_the_corrected_latency_and_one_that_keeps_up_does_not() {
    let _cores = common::quiet_cores();
    let server = common::server();
    // 80 tasks due at 200/s (every 5 ms), each waiting 10 ms on the server:
    // sequential can do one per 10 ms, async keeps all in flight.
    let w = concbench::workload::Workload {
        arrival: Arrival::Rate { per_s: 200.0 },
        cpu: concbench::workload::CpuWork::Units(0),
        concurrency: 50,
        ..common::small(80, "10ms")
    };
    let report = run_workload(
        &w,
        &[StrategyKind::Sequential, StrategyKind::Async],
        &common::target(&server.url()),
        &common::options(),
    )
    .unwrap();
    assert_eq!(report.meta.workload.arrival, "rate:200/s");
    let (seq, asy) = (&report.results[0], &report.results[1]);
    for r in [seq, asy] {
        assert_eq!(r.tasks_ok, 80, "{}", r.strategy);
        // The last task is due at 395 ms: nobody finishes before it.
        assert!(
            r.wall_s >= 0.395 && r.ideal_s >= 0.395,
            "{}: {}",
            r.strategy,
            r.wall_s
        );
    }
    let corrected = |r: &concbench::StrategyResult| r.latency_corrected_s.unwrap();
    // Sequential is 5 ms further behind with every task: ~400 ms by the end.
    assert!(corrected(seq).p99 > 0.2, "{:?}", seq.latency_corrected_s);
    assert!(
        seq.latency_s.p99 < 0.05,
        "raw latency hides it: {:?}",
        seq.latency_s
    );
    assert!(seq.late_starts > 60, "{}", seq.late_starts);
    // Async keeps up: its corrected latency is about its raw one.
    assert!(corrected(asy).p99 < 0.1, "{:?}", asy.latency_corrected_s);
}

#[test]
fn duration_sets_the_tasks_of_an_open_loop_and_needs_one() {
    let _cores = common::busy_cores();
    let out = common::concbench(&[
        "run",
        "-s",
        "async",
        "--arrival",
        "rate:100/s",
        "--duration",
        "300ms",
        "-l",
        "1ms",
        "--cpu",
        "0",
        "-f",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["meta"]["workload"]["tasks"], 30);
    let line = common::one_line_usage_error(&["run", "--duration", "1s"]);
    assert!(
        line.contains("--duration needs an open-loop --arrival"),
        "{line}"
    );
    let line = common::one_line_usage_error(&["run", "--arrival", "burst:5/s"]);
    assert!(line.contains("not an arrival schedule"), "{line}");
}

#[test]
fn a_sweep_of_offered_load_names_the_highest_rate_each_model_sustains() {
    let _cores = common::quiet_cores();
    let dir = common::fresh_dir("arrival-knee");
    let out = common::concbench(&[
        "sweep",
        "-s",
        "sequential,async",
        "--param",
        "arrival=rate:50/s,rate:400/s",
        "-n",
        "60",
        "-l",
        "10ms",
        "--cpu",
        "0",
        "--slo",
        "p99<60ms",
        "--out",
        dir.join("knee.json").to_str().unwrap(),
        "-f",
        "json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Sequential does one task per 10 ms (100/s): at 400/s it falls ~110 ms behind.
    assert!(
        stdout.contains("SLO p99<60.0ms (latency from due): sequential 50/s, async 400/s; async sustains most (400/s)"),
        "{stdout}"
    );
    let line =
        common::one_line_usage_error(&["sweep", "--param", "concurrency=1,2", "--slo", "p99<50ms"]);
    assert!(line.contains("--param arrival="), "{line}");
}

/// A mock server whose answers now and then take 150 ms instead of 5 ms
/// (3% of them drip their body over 150 ms).
fn stalling_server() -> mock_server::ServerHandle {
    mock_server::MockServer::start(mock_server::ServerConfig {
        faults: mock_server::faults::Faults {
            drip: std::time::Duration::from_millis(150),
            drip_rate: 0.03,
            ..Default::default()
        },
        ..Default::default()
    })
    .expect("mock server starts")
}

#[test]
fn a_server_that_stalls_now_and_then_is_hidden_by_the_closed_loop_and_shown_by_the_open_one() {
    let _cores = common::quiet_cores();
    let server = stalling_server();
    let run = |arrival: Arrival| {
        let w = concbench::workload::Workload {
            arrival,
            cpu: concbench::workload::CpuWork::Units(0),
            ..common::small(200, "5ms")
        };
        let report = run_workload(
            &w,
            &[StrategyKind::Sequential],
            &common::target(&server.url()),
            &common::options(),
        )
        .unwrap();
        report.results[0].clone()
    };
    // One request at a time: the closed loop waits out each stall and
    // simply sends the next request later, so 97% of its latencies are 5 ms.
    let closed = run(Arrival::Closed);
    // At 100/s (a gap of 10 ms, ~4 ms of slack) the same loop falls ~145 ms
    // behind at every stall and takes dozens of tasks to catch up: they
    // were late, which only the latency from due shows.
    let open = run(Arrival::Rate { per_s: 100.0 });
    assert_eq!((closed.tasks_ok, open.tasks_ok), (200, 200));
    let from_due = open.latency_corrected_s.unwrap();
    assert!(
        closed.latency_s.p90 < 0.02,
        "closed p90 {:?}",
        closed.latency_s
    );
    assert!(
        from_due.p90 > 5.0 * closed.latency_s.p90,
        "open p90 from due {:?} against closed {:?}",
        from_due,
        closed.latency_s
    );
    assert!(open.late_starts > 20, "{}", open.late_starts);
    println!(
        "closed p50 {:.1} ms p90 {:.1} ms p99 {:.1} ms; open (100/s) from due p50 {:.1} ms p90 {:.1} ms p99 {:.1} ms, raw p90 {:.1} ms, {} late",
        closed.latency_s.p50 * 1e3,
        closed.latency_s.p90 * 1e3,
        closed.latency_s.p99 * 1e3,
        from_due.p50 * 1e3,
        from_due.p90 * 1e3,
        from_due.p99 * 1e3,
        open.latency_s.p90 * 1e3,
        open.late_starts
    );
}

#[test]
fn bad_arrival_input_is_one_line() {
    for (args, says) in [
        (vec!["--arrival", "rate:0/s"], "is not a rate"),
        (
            vec!["--arrival", "rate:10/s", "--duration", "1s", "--tasks", "5"],
            "cannot be used with",
        ),
    ] {
        let mut argv = vec!["run"];
        argv.extend(args);
        let line = common::one_line_usage_error(&argv);
        assert!(line.contains(says), "{argv:?}: {line}");
    }
    let line = common::one_line_usage_error(&[
        "sweep",
        "--param",
        "arrival=rate:10/s",
        "--slo",
        "p99>5ms",
    ]);
    assert!(line.contains("p99<50ms"), "{line}");
}
