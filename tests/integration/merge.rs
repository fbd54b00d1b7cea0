//! Shards (`--shard K/N`) and `concbench merge`: the parts of a sweep are
//! exactly its cells, the shards of a run exactly its tasks, and bad parts
//! are refused in one line with nothing written.

use std::path::{Path, PathBuf};
use std::process::Child;

use concbench::report::{file, ResultsFile, RunReport, SweepReport};

use crate::common::{self, concbench, fresh_dir, one_line_usage_error, EXE};

const SWEEP: &[&str] = &[
    "sweep",
    "-s",
    "sequential,async",
    "-n",
    "6",
    "-l",
    "1ms",
    "--cpu",
    "0",
    "--param",
    "concurrency=1,2,3,4",
    "--format",
    "json",
];

const RUN: &[&str] = &[
    "run",
    "-s",
    "sequential,thread-pool,async",
    "-n",
    "31",
    "-l",
    "uniform:1ms..3ms",
    "--cpu-units",
    "20",
    "-c",
    "4",
    "--format",
    "json",
];

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// Runs `base` with `extra` to the end; panics with its stderr unless it succeeded.
fn run_ok(base: &[&str], extra: &[&str]) {
    let args: Vec<&str> = base.iter().chain(extra).copied().collect();
    let out = concbench(&args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sweep_of(p: &str) -> SweepReport {
    match file::load(Path::new(p)).unwrap() {
        ResultsFile::Sweep(s) => s,
        ResultsFile::Run(_) => panic!("{p} is a run"),
    }
}

fn run_of(p: &str) -> RunReport {
    match file::load(Path::new(p)).unwrap() {
        ResultsFile::Run(r) => r,
        ResultsFile::Sweep(_) => panic!("{p} is a sweep"),
    }
}

/// The three parts of [`SWEEP`], each written by a process of its own.
fn sweep_parts(dir: &Path) -> Vec<String> {
    (1..=3)
        .map(|k| {
            let out = path(dir, &format!("part{k}.json"));
            run_ok(SWEEP, &["--shard", &format!("{k}/3"), "--out", &out]);
            out
        })
        .collect()
}

#[test]
fn a_sweep_in_three_shards_merges_into_exactly_the_unsharded_sweeps_cells() {
    let _cores = common::busy_cores();
    let dir = fresh_dir("merge-sweep");
    let parts = sweep_parts(&dir);
    let first = sweep_of(&parts[0]);
    let shard = first.shard.as_ref().expect("a part says which shard it is");
    assert_eq!((shard.index, shard.count, shard.total), (1, 3, 4));
    assert_eq!(first.cells.len(), 2, "cells 0 and 3 of 4");
    let (merged, whole) = (path(&dir, "merged.json"), path(&dir, "whole.json"));
    // In any order.
    let out = concbench(&["merge", &parts[2], &parts[0], &parts[1], "--out", &merged]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.join("merged.csv").exists(),
        "a CSV beside it, as a sweep writes"
    );
    run_ok(SWEEP, &["--out", &whole]);
    let (merged, whole) = (sweep_of(&merged), sweep_of(&whole));
    assert_eq!(merged.shard, None);
    assert_eq!((&merged.params, &merged.kind), (&whole.params, &whole.kind));
    let values = |s: &SweepReport| s.cells.iter().map(|c| c.values.clone()).collect::<Vec<_>>();
    assert_eq!(values(&merged), values(&whole));
    for cell in &merged.cells {
        let names: Vec<&str> = cell
            .report
            .results
            .iter()
            .map(|r| r.strategy.as_str())
            .collect();
        assert_eq!(names, ["sequential", "async"]);
        for r in &cell.report.results {
            assert_eq!((r.tasks_ok, r.tasks_failed), (6, 0), "{:?}", cell.values);
        }
    }
}

#[test]
fn bad_parts_are_refused_in_one_line_and_nothing_is_written() {
    let _cores = common::busy_cores();
    let dir = fresh_dir("merge-refused");
    let parts = sweep_parts(&dir);
    let other_plan = path(&dir, "seed2.json");
    run_ok(
        SWEEP,
        &["--shard", "3/3", "--seed", "2", "--out", &other_plan],
    );
    let other_split = path(&dir, "of4.json");
    run_ok(SWEEP, &["--shard", "3/4", "--out", &other_split]);
    let whole = path(&dir, "whole.json");
    run_ok(SWEEP, &["--param", "latency=1ms", "--out", &whole]);
    let corrupted = path(&dir, "cut.json");
    let text = std::fs::read_to_string(&parts[2]).unwrap();
    std::fs::write(&corrupted, &text[..text.len() / 2]).unwrap();
    let out = dir.join("merged.json");
    let merged = out.display().to_string();
    let cases: [(&str, Vec<&str>, &[&str]); 6] = [
        (
            "a missing shard",
            vec![&parts[0], &parts[1]],
            &["shard 3/3 is missing"],
        ),
        (
            "mixed plans",
            vec![&parts[0], &parts[1], &other_plan],
            &["another plan", "seed 2 against seed 1"],
        ),
        (
            "a corrupted file",
            vec![&parts[0], &parts[1], &corrupted],
            &["cut.json", "not JSON"],
        ),
        (
            "a shard twice",
            vec![&parts[0], &parts[1], &parts[1]],
            &["shard 2/3 again"],
        ),
        (
            "different splits",
            vec![&parts[0], &parts[1], &other_split],
            &["3/4", "different splits"],
        ),
        (
            "a whole sweep",
            vec![&parts[0], &whole],
            &["whole.json", "is not a shard"],
        ),
    ];
    for (what, files, words) in cases {
        let args: Vec<&str> = ["merge"]
            .into_iter()
            .chain(files)
            .chain(["--out", &merged])
            .collect();
        let line = one_line_usage_error(&args);
        for w in words {
            assert!(line.contains(w), "{what}: {line}");
        }
        assert!(
            !out.exists() && !dir.join("merged.csv").exists(),
            "{what}: something was written"
        );
    }
}

fn spawn(args: &[&str]) -> Child {
    std::process::Command::new(EXE)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("concbench starts")
}

/// Runs the shards of [`RUN`] at once against `url`, starting together, and merges them.
pub fn run_shards(dir: &Path, url: &str, n: usize, start_in_s: f64) -> (PathBuf, Vec<String>) {
    let at = format!(
        "{:.3}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            + start_in_s
    );
    let parts: Vec<String> = (1..=n)
        .map(|k| path(dir, &format!("shard{k}.json")))
        .collect();
    let children: Vec<Child> = parts
        .iter()
        .enumerate()
        .map(|(k, out)| {
            let shard = format!("{}/{n}", k + 1);
            let extra = [
                "--target",
                url,
                "--shard",
                &shard,
                "--start-at",
                &at,
                "--out",
                out,
            ];
            spawn(&RUN.iter().chain(&extra).copied().collect::<Vec<_>>())
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let merged = dir.join("merged.json");
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    let m = merged.display().to_string();
    args.extend(["--out", &m]);
    let out = concbench(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (merged, parts)
}

#[test]
fn two_run_shards_against_one_server_merge_into_the_whole_plans_tasks_and_requests() {
    let _cores = common::busy_cores();
    let dir = fresh_dir("merge-run");
    let shared = common::server();
    let (merged, parts) = run_shards(&dir, &shared.url(), 2, 1.0);
    let counted_by_shards = shared.fault_stats().requests;
    let one = common::server();
    let whole = path(&dir, "whole.json");
    run_ok(RUN, &["--target", &one.url(), "--out", &whole]);
    let counted_by_one = one.fault_stats().requests;
    assert_eq!(
        counted_by_shards, counted_by_one,
        "requests the server counted"
    );
    let (merged, whole) = (run_of(&merged.display().to_string()), run_of(&whole));
    let first = run_of(&parts[0]);
    let shard = first.meta.shard.as_ref().unwrap();
    assert_eq!(
        (shard.index, shard.total, first.meta.workload.tasks),
        (1, 31, 16)
    );
    let start_at = first.meta.start_at_unix_s.unwrap();
    assert!(first
        .results
        .iter()
        .all(|r| r.started_at_unix_s.unwrap() >= start_at));
    assert_eq!(merged.meta.workload.tasks, 31);
    assert_eq!(merged.meta.merged.as_ref().unwrap().parts.len(), 2);
    assert_eq!(merged.results.len(), whole.results.len());
    for (m, w) in merged.results.iter().zip(&whole.results) {
        assert_eq!(m.strategy, w.strategy);
        assert_eq!(
            (m.tasks, m.tasks_ok, m.tasks_failed),
            (31, 31, 0),
            "{}",
            m.strategy
        );
        assert_eq!(m.requests_sent, w.requests_sent);
        assert_eq!(m.tasks_cpu_checked, w.tasks_cpu_checked);
        // The bound over the hosts' total C: Σ latency is the whole plan's, over ΣC.
        let latency_sum_s = |r: &concbench::StrategyResult| r.bound_io_s * r.in_flight_limit as f64;
        assert!((latency_sum_s(m) - latency_sum_s(w)).abs() < 1e-9 * latency_sum_s(w));
        assert_eq!(m.in_flight_limit, 2 * w.in_flight_limit, "{}", m.strategy);
        // One server behind both shards: its per-shard windows overlap, so no server side.
        assert!(m.server.is_none() && w.server.is_some());
        assert!(
            m.efficiency > 0.0 && m.efficiency <= 1.02,
            "{}: {}",
            m.strategy,
            m.efficiency
        );
        // The latencies of both shards, from their histograms: within the plan's range.
        assert!(m.latency_s.p50 >= 0.001 && m.latency_s.max >= m.latency_s.p99);
    }
    let rows: usize = run_of(&parts[1]).results.iter().map(|r| r.tasks).sum();
    assert_eq!(rows, 15 * 3, "shard 2 of 2 holds the odd ids");
}

#[test]
fn a_run_shard_of_several_rounds_and_bad_start_times_are_usage_errors() {
    let line = one_line_usage_error(&["run", "--shard", "1/2", "--repeat", "3"]);
    assert!(
        line.contains("--shard") && line.contains("one round"),
        "{line}"
    );
    let line = one_line_usage_error(&["run", "--shard", "3/2"]);
    assert!(line.contains("K/N"), "{line}");
    let line = one_line_usage_error(&["run", "--shard", "1/2", "--start-at", "1000"]);
    assert!(line.contains("in the past"), "{line}");
    let line = one_line_usage_error(&["run", "--start-at", "2999-01-01T00:00:00Z"]);
    assert!(line.contains("24 h"), "{line}");
}
