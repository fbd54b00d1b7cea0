//! Ctrl-C during a run or a sweep: the program stops within a second, ends
//! every worker and server it started, keeps what finished on disk, says
//! where, and exits 130.

mod common;

use std::time::{Duration, Instant};

use common::{assert_nothing_left, spawn_tagged, tag};

/// Sends SIGINT to `child` after `after`,
/// then waits for it; returns the output and how long it took to stop.
fn interrupt(child: std::process::Child, after: Duration) -> (std::process::Output, Duration) {
    std::thread::sleep(after);
    let sent = Instant::now();
    // SAFETY: kill(2) on a child we spawned and have not waited for.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    (out, sent.elapsed())
}

#[test]
fn ctrl_c_during_a_run_keeps_the_finished_strategies_on_disk() {
    let dir = tempdir();
    let out_path = dir.join("run.json");
    let tag = tag();
    // async finishes in ~0.1 s; a one-worker process pool then needs 200 × 20 ms = 4 s.
    let child = spawn_tagged(
        &tag,
        &[
            "run",
            "-s",
            "async,process-pool",
            "-n",
            "200",
            "-l",
            "20ms",
            "--cpu",
            "0",
            "-w",
            "1",
            "-f",
            "json",
            "-o",
            out_path.to_str().unwrap(),
        ],
        &[],
    );
    let (out, took) = interrupt(child, Duration::from_millis(2000));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(took < Duration::from_secs(1), "took {took:?} to stop");
    assert!(
        stderr.contains("Interrupted: 1 of 2 strategies finished (async)")
            && stderr.contains(out_path.to_str().unwrap()),
        "{stderr}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(json["meta"]["interrupted"], true);
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "only the finished strategy is kept");
    assert_eq!(results[0]["strategy"], "async");
    assert_eq!(results[0]["tasks_ok"], 200);
    assert_nothing_left(&tag, "Ctrl-C during a run");
}

#[test]
fn ctrl_c_during_a_sweep_keeps_the_finished_cells() {
    let dir = tempdir();
    let out_path = dir.join("sweep.json");
    let tag = tag();
    // Cells of C = 100 take ~0.05 s each; the C = 1 cell takes 100 × 20 ms = 2 s.
    let child = spawn_tagged(
        &tag,
        &[
            "sweep",
            "--param",
            "concurrency=100,50,1",
            "-s",
            "thread-pool",
            "-n",
            "100",
            "-l",
            "20ms",
            "--cpu",
            "0",
            "-f",
            "json",
            "-o",
            out_path.to_str().unwrap(),
        ],
        &[],
    );
    let (out, took) = interrupt(child, Duration::from_millis(1500));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(took < Duration::from_secs(1), "took {took:?} to stop");
    assert!(
        stderr.contains("Interrupted: 2 of 3 cells finished"),
        "{stderr}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(json["cells"].as_array().unwrap().len(), 2);
    assert!(out_path.with_extension("csv").exists());
    assert_nothing_left(&tag, "Ctrl-C during a sweep");
}

#[test]
fn ctrl_c_before_anything_finished_writes_nothing() {
    let dir = tempdir();
    let out_path = dir.join("never.json");
    let tag = tag();
    let child = spawn_tagged(
        &tag,
        &[
            "run",
            "-s",
            "sequential",
            "-n",
            "200",
            "-l",
            "20ms",
            "--cpu",
            "0",
            "-o",
            out_path.to_str().unwrap(),
        ],
        &[],
    );
    let (out, took) = interrupt(child, Duration::from_millis(1000));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(took < Duration::from_secs(1), "took {took:?} to stop");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!out_path.exists());
    assert_nothing_left(&tag, "Ctrl-C before anything finished");
}

/// A fresh directory under the target dir's tmp (removed by nothing: it is tiny).
fn tempdir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "signals-{}-{}",
        std::process::id(),
        tag()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
