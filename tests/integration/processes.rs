//! The process strategies are real and clean: their work verifies, no worker
//! outlives a run however the run ends, and a worker that dies mid-run fails
//! its tasks instead of hanging the run.
//!
//! Each CLI run here carries a unique environment tag; its workers and its
//! embedded server inherit it, so `/proc/*/environ` finds every process the
//! run started, even after the parent is gone and they were re-parented.

use std::time::{Duration, Instant};

use concbench::bench::run_workload;
use concbench::strategy::{Schedule, StrategyKind};

use crate::common::{
    self, assert_nothing_left, assert_nothing_left_within, spawn_tagged, tag, wait_for_workers,
};

const PROCESS_KINDS: &[StrategyKind] = &[
    StrategyKind::ProcessPerTask,
    StrategyKind::ProcessPool,
    StrategyKind::AsyncProcessPool,
    StrategyKind::ProcessPoolAsync,
];

#[test]
fn process_strategies_verify_every_checksum_and_count_their_children() {
    let _cores = common::busy_cores();
    let server = common::server();
    let w = common::small(30, "uniform:1ms..3ms");
    for schedule in [Schedule::Dynamic, Schedule::Static] {
        let mut options = common::options();
        options.strategy.schedule = schedule;
        options.strategy.batch = 2;
        let report =
            run_workload(&w, PROCESS_KINDS, &common::target(&server.url()), &options).unwrap();
        for r in &report.results {
            assert_eq!(
                (r.tasks_ok, r.tasks_failed),
                (30, 0),
                "{} {schedule:?}: {:?}",
                r.strategy,
                r.first_failure
            );
            assert_eq!(r.server.as_ref().unwrap().served, 30, "{}", r.strategy);
            assert!(r.processes_started >= 1, "{}", r.strategy);
            assert!(r.efficiency <= 1.02, "{}: {}", r.strategy, r.efficiency);
            // The children's CPU is counted: every body was checksummed and worked on somewhere.
            assert!(r.cpu_user_s + r.cpu_sys_s > 0.0);
        }
        let ppt = &report.results[0];
        assert_eq!(ppt.processes_started, 30, "one process per task");
    }
}

/// A process-pool run long enough to be interrupted: 400 tasks of 20 ms on 2 workers ≈ 4 s.
const LONG_POOL: &[&str] = &[
    "run",
    "-s",
    "process-pool",
    "-n",
    "400",
    "-l",
    "20ms",
    "--cpu",
    "0",
    "-w",
    "2",
];

#[test]
fn process_pool_leaves_no_worker_after_a_normal_end() {
    let tag = tag();
    let child = spawn_tagged(
        &tag,
        &[
            "run",
            "-s",
            "process-pool,process-pool-async,async-process-pool",
            "-n",
            "20",
            "-l",
            "1ms",
        ],
        &[],
    );
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_nothing_left(&tag, "normal end");
}

#[test]
fn process_pool_leaves_no_worker_after_a_panic_in_the_parent() {
    let tag = tag();
    let args: Vec<&str> = LONG_POOL
        .iter()
        .copied()
        .chain(["--test-panic-after", "10"])
        .collect();
    let child = spawn_tagged(&tag, &args, &[]);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(101),
        "the parent should have panicked"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("panicking mid-run as asked"));
    assert_nothing_left(&tag, "panic");
}

#[test]
fn process_pool_leaves_no_worker_after_sigkill() {
    let tag = tag();
    let mut child = spawn_tagged(&tag, LONG_POOL, &[]);
    wait_for_workers(&tag, 2);
    child.kill().unwrap();
    child.wait().unwrap();
    // A SIGKILLed parent cannot end its workers: the kernel's parent-death
    // signal does, a moment later.
    assert_nothing_left_within(Duration::from_secs(3), &tag, "SIGKILL");
}

#[test]
fn process_pool_leaves_no_worker_after_ctrl_c() {
    let _cores = common::quiet_cores();
    let tag = tag();
    let child = spawn_tagged(&tag, LONG_POOL, &[]);
    wait_for_workers(&tag, 2);
    let interrupted = Instant::now();
    // SAFETY: kill(2) on a child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let status = out.status;
    // Stops within a second (20 ms requests in flight finish; no new ones start).
    assert!(
        interrupted.elapsed() < Duration::from_secs(1),
        "took {:?} to stop",
        interrupted.elapsed()
    );
    assert_eq!(
        status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_nothing_left(&tag, "Ctrl-C");
}

#[test]
fn a_worker_killed_mid_run_fails_its_tasks_and_the_run_ends() {
    let _cores = common::busy_cores();
    // CPU workers of async-process-pool only hold jobs while they compute: give
    // them enough CPU work that the killed one surely holds some.
    for (strategy, cpu) in [
        ("process-pool", "1ms"),
        ("process-pool-async", "1ms"),
        ("async-process-pool", "20ms"),
    ] {
        let tag = tag();
        let args = [
            "run", "-s", strategy, "-n", "300", "-l", "20ms", "--cpu", cpu, "-w", "2", "-c", "4",
            "-f", "json",
        ];
        let started = Instant::now();
        let child = spawn_tagged(&tag, &args, &[]);
        let workers = wait_for_workers(&tag, 2);
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: kill(2) on a worker of our own child.
        unsafe { libc::kill(workers[0] as i32, libc::SIGKILL) };
        let out = child.wait_with_output().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{strategy}: the run took too long"
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{strategy}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("worker") && stderr.contains("killed by signal 9"),
            "{strategy}: {stderr}"
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let r = &json["results"][0];
        let failed = r["tasks_failed"].as_u64().unwrap();
        let ok = r["tasks_ok"].as_u64().unwrap();
        assert!(failed >= 1, "{strategy}: {r}");
        assert_eq!(ok + failed, 300);
        assert_eq!(
            r["failures"]["worker"].as_u64(),
            Some(failed),
            "{strategy}: {r}"
        );
        // The survivor carried on.
        assert!(ok > 0, "{strategy}: {r}");
        assert_nothing_left(&tag, strategy);
    }
}

#[test]
fn a_worker_that_did_its_max_tasks_is_replaced_and_no_task_is_lost_or_run_twice() {
    let _cores = common::busy_cores();
    let server = common::server();
    let w = common::small(30, "1ms");
    for schedule in [Schedule::Dynamic, Schedule::Static] {
        let mut options = common::options();
        options.strategy.workers = Some(2);
        options.strategy.schedule = schedule;
        options.strategy.max_tasks_per_child = Some(5);
        let kinds = [StrategyKind::ProcessPool, StrategyKind::ProcessPoolAsync];
        let report = run_workload(&w, &kinds, &common::target(&server.url()), &options).unwrap();
        for r in &report.results {
            let what = format!("{} {schedule:?}", r.strategy);
            // Every task verified once: none missing, none twice.
            assert_eq!(
                (r.tasks_ok, r.tasks_failed),
                (30, 0),
                "{what}: {:?}",
                r.failures
            );
            // 30 tasks, at most 5 per process: at least 6 processes, 2 of them the first.
            assert!(
                r.workers_replaced >= 4,
                "{what}: {} replaced",
                r.workers_replaced
            );
            assert_eq!(r.processes_started, 2 + r.workers_replaced, "{what}");
        }
        // The server answered each task exactly once.
        assert!(report.results.iter().all(|r| r.checks.requests_match));
    }
}
