//! Ctrl-C during a run or a sweep, at any moment (server start-up,
//! calibration, plan building, mid-run, a second Ctrl-C): the program stops
//! within a second, has ended and reaped every worker and server it started
//! by the time it exits, keeps what finished on disk, says where, and exits
//! 130.

use std::time::{Duration, Instant};

use crate::common::{assert_nothing_left, fresh_dir, quiet_cores, spawn_tagged, tag};

/// Starts concbench with `args`, sends it SIGINT after `after`, and asserts
/// what every interrupted run owes: exit 130 within a second of the signal,
/// and no worker or server process left behind. Returns its stderr.
fn interrupted(args: &[&str], after: Duration) -> String {
    let _cores = quiet_cores();
    let tag = tag();
    let child = spawn_tagged(&tag, args, &[]);
    std::thread::sleep(after);
    let sent = Instant::now();
    // SAFETY: kill(2) on a child we spawned and have not waited for.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(130), "{args:?}: {stderr}");
    assert!(took < Duration::from_secs(1), "took {took:?} to stop");
    assert_nothing_left(&tag, &format!("Ctrl-C during {args:?}"));
    stderr
}

/// Flags of a pure-I/O plan: `tasks` requests of 20 ms, no CPU work.
fn io_plan(tasks: &str) -> [&str; 6] {
    ["-n", tasks, "-l", "20ms", "--cpu", "0"]
}

#[test]
fn ctrl_c_during_a_run_keeps_the_finished_strategies_on_disk() {
    let out_path = fresh_dir("signals-run").join("run.json");
    let out = out_path.to_str().unwrap();
    // async finishes in ~0.1 s; a one-worker process pool then needs 200 × 20 ms = 4 s.
    let mut args = vec![
        "run",
        "-s",
        "async,process-pool",
        "-w",
        "1",
        "-f",
        "json",
        "-o",
        out,
    ];
    args.extend(io_plan("200"));
    let stderr = interrupted(&args, Duration::from_millis(2000));
    assert!(
        stderr.contains("Interrupted: 1 of 2 strategies finished (async)") && stderr.contains(out),
        "{stderr}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(json["meta"]["interrupted"], true);
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "only the finished strategy is kept");
    assert_eq!(results[0]["strategy"], "async");
    assert_eq!(results[0]["tasks_ok"], 200);
}

#[test]
fn ctrl_c_during_a_sweep_keeps_the_finished_cells() {
    let out_path = fresh_dir("signals-sweep").join("sweep.json");
    // Cells of C = 100 take ~0.05 s each; the C = 1 cell takes 100 × 20 ms = 2 s.
    let mut args = vec![
        "sweep",
        "--param",
        "concurrency=100,50,1",
        "-s",
        "thread-pool",
        "-f",
        "json",
        "-o",
        out_path.to_str().unwrap(),
    ];
    args.extend(io_plan("100"));
    let stderr = interrupted(&args, Duration::from_millis(1500));
    assert!(
        stderr.contains("Interrupted: 2 of 3 cells finished"),
        "{stderr}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(json["cells"].as_array().unwrap().len(), 2);
    assert!(out_path.with_extension("csv").exists());
}

#[test]
fn ctrl_c_before_anything_finished_writes_nothing() {
    let out_path = fresh_dir("signals-nothing").join("never.json");
    let mut args = vec!["run", "-s", "sequential", "-o", out_path.to_str().unwrap()];
    args.extend(io_plan("200"));
    let stderr = interrupted(&args, Duration::from_millis(1000));
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!out_path.exists());
}

#[test]
fn ctrl_c_at_any_moment_stops_a_strategy_of_each_family_within_a_second() {
    // 100k tasks of 10 ms: minutes of work, so every signal lands mid-way:
    // while the server starts, while the plan is built, while workers start,
    // mid-run.
    for strategy in ["thread-pool", "process-pool", "async", "process-pool-async"] {
        for after_ms in [50, 250, 700] {
            let args = [
                "run", "-s", strategy, "-n", "100000", "-l", "10ms", "-c", "50",
            ];
            let stderr = interrupted(&args, Duration::from_millis(after_ms));
            assert!(
                stderr.contains("nothing was written"),
                "{strategy} at {after_ms} ms: {stderr}"
            );
        }
    }
}

#[test]
fn ctrl_c_while_a_plan_of_millions_is_built_stops_at_once() {
    // Building 10M tasks takes long enough that one of these signals lands in
    // it; each of them must stop the run within a second either way.
    let args = [
        "run",
        "-s",
        "sequential",
        "-n",
        "10000000",
        "-l",
        "10ms",
        "--cpu",
        "0",
    ];
    let during: Vec<String> = [200, 350, 500]
        .iter()
        .map(|&ms| interrupted(&args, Duration::from_millis(ms)))
        .collect();
    assert!(
        during
            .iter()
            .any(|e| e.contains("Interrupted while building the plan")),
        "{during:?}"
    );
}

#[test]
fn a_second_ctrl_c_stops_at_once_and_leaves_no_process() {
    let _cores = quiet_cores();
    let tag = tag();
    let args = [
        "run",
        "-s",
        "process-pool",
        "-n",
        "100000",
        "-l",
        "10ms",
        "-w",
        "2",
    ];
    let child = spawn_tagged(&tag, &args, &[]);
    std::thread::sleep(Duration::from_millis(800));
    for _ in 0..2 {
        // SAFETY: kill(2) on a child we spawned and have not waited for.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Instant::now();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "{:?}",
        sent.elapsed()
    );
    assert!(stderr.contains("Interrupted twice"), "{stderr}");
    assert_nothing_left(&tag, "a second Ctrl-C");
}
