//! Kinds of work (`--work`): the JSON work end to end against a real mock
//! server, verified under every strategy like the hash work, and refused
//! with one line when its bodies are too short to hold a post.

use concbench::bench::run_workload;
use concbench::strategy::StrategyKind;
use concbench::task::WorkKind;

use crate::common;

#[test]
fn every_strategy_parses_and_verifies_the_json_work() {
    let _cores = common::busy_cores();
    let server = common::server();
    let w = concbench::workload::Workload {
        work: WorkKind::Json,
        bytes: 4096,
        ..common::small(24, "1ms")
    };
    let report = run_workload(
        &w,
        StrategyKind::ALL,
        &common::target(&server.url()),
        &common::options(),
    )
    .unwrap();
    assert_eq!(report.meta.workload.work, WorkKind::Json);
    assert!(
        report.meta.workload.cpu_units_per_task >= 1,
        "200µs of JSON work is at least one pass"
    );
    for r in &report.results {
        assert_eq!((r.tasks_ok, r.tasks_failed), (24, 0), "{r:?}");
        assert_eq!(
            r.tasks_cpu_checked, 24,
            "{}: every pass's result recomputed and matched",
            r.strategy
        );
    }
}

#[test]
fn the_cli_runs_the_json_work_and_says_so_in_the_header() {
    let _cores = common::busy_cores();
    let out = common::concbench(&[
        "run",
        "-s",
        "sequential,async",
        "-n",
        "10",
        "-l",
        "1ms",
        "--cpu",
        "100us",
        "--work",
        "json",
        "-b",
        "2KiB",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("--work json"), "{stdout}");
}

#[test]
fn json_work_with_bodies_too_short_for_a_post_is_refused() {
    let line = common::one_line_usage_error(&["run", "--work", "json", "-b", "100", "-n", "1"]);
    assert!(
        line.contains("--bytes") && line.contains("at least 256"),
        "{line}"
    );
}
