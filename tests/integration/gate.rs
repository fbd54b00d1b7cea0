//! Regression checks as a user meets them: `--fail-if` thresholds on run,
//! sweep and compare (exit 0 when they hold, 99 when one does not, naming
//! it; 2 for a malformed one, with its column), named baselines, and
//! `concbench compare` telling a server 10% slower from noise.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::{self, EXE};

/// concbench with its baselines kept in `dir`.
fn concbench_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(EXE)
        .args(args)
        .env("CONCBENCH_BASELINE_DIR", dir.join("baselines"))
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .output()
        .expect("concbench runs")
}

/// Whether some line of `out` holds every one of `parts`, in that order.
fn has_line(out: &str, parts: &[&str]) -> bool {
    out.lines().any(|l| {
        let mut rest = l;
        parts.iter().all(|p| match rest.find(p) {
            Some(i) => {
                rest = &rest[i + p.len()..];
                true
            }
            None => false,
        })
    })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A quick plan: a few latency-bound tasks, no CPU work.
const QUICK: [&str; 9] = [
    "run",
    "-s",
    "sequential,async",
    "-n",
    "12",
    "-l",
    "2ms",
    "--cpu",
    "0",
];

#[test]
fn a_threshold_that_holds_exits_0_and_one_that_fails_exits_99_naming_it() {
    let _cores = common::busy_cores();
    let dir = common::fresh_dir("gate-exit");
    let mut args = QUICK.to_vec();
    args.extend([
        "--fail-if",
        "*.tasks_failed==0",
        "--fail-if",
        "async.latency.p99<5s",
    ]);
    let out = concbench_in(&dir, &args);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for line in [
        [
            "ok   *.tasks_failed==0",
            "sequential: tasks_failed = 0 (== 0)",
        ],
        ["ok   *.tasks_failed==0", "async: tasks_failed = 0 (== 0)"],
        ["ok   async.latency.p99<5s", "async: latency.p99 = "],
        ["all 3 threshold checks held", ""],
    ] {
        assert!(has_line(&stdout, &line), "{line:?} missing:\n{stdout}");
    }

    let mut args = QUICK.to_vec();
    args.extend([
        "--fail-if",
        "async.wall_s<1us",
        "--fail-if",
        "*.tasks_failed==0",
    ]);
    let out = concbench_in(&dir, &args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(99), "{stdout}{stderr}");
    assert!(
        has_line(&stdout, &["FAIL async.wall_s<1us", "async: wall_s = "]),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 of 3 threshold checks failed"),
        "{stdout}"
    );
    assert!(
        stderr.contains("a threshold did not hold (exit 99)"),
        "{stderr}"
    );
}

#[test]
fn a_sweep_holds_every_cell_and_names_the_cell_that_fails() {
    let _cores = common::busy_cores();
    let dir = common::fresh_dir("gate-sweep");
    let out_json = dir.join("sweep.json");
    let out = concbench_in(
        &dir,
        &[
            "sweep",
            "-s",
            "sequential",
            "-l",
            "1ms",
            "--cpu",
            "0",
            "--param",
            "tasks=3,6",
            "--out",
            out_json.to_str().unwrap(),
            "--fail-if",
            "sequential.tasks_ok<=3",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(99), "{stdout}{}", text(&out.stderr));
    assert!(
        has_line(
            &stdout,
            &[
                "ok   sequential.tasks_ok<=3",
                "[tasks=3] sequential: tasks_ok = 3"
            ]
        ),
        "{stdout}"
    );
    assert!(
        has_line(
            &stdout,
            &[
                "FAIL sequential.tasks_ok<=3",
                "[tasks=6] sequential: tasks_ok = 6"
            ]
        ),
        "{stdout}"
    );
}

#[test]
fn a_malformed_threshold_is_a_usage_error_that_names_its_column() {
    let line = common::one_line_usage_error(&["run", "--fail-if", "async.wal_s<1s"]);
    assert!(
        line.contains("--fail-if")
            && line.contains("'async.wal_s<1s' at column 7: expected a figure, not `wal_s`"),
        "{line}"
    );
    let line = common::one_line_usage_error(&[
        "compare",
        "a.json",
        "b.json",
        "--fail-if",
        "async.wall_s =< 1s",
    ]);
    assert!(
        line.contains("at column 14: expected an operator"),
        "{line}"
    );
    // In a scenario file: the file's line and column, then the expression's.
    let dir = common::fresh_dir("gate-scenario");
    let scenario = dir.join("s.toml");
    std::fs::write(
        &scenario,
        "tasks = 5\nfail-if = [\"*.tasks_failed==0\", \"async.latency.p99<50 parsecs\"]\n",
    )
    .unwrap();
    let line = common::one_line_usage_error(&["run", "--scenario", scenario.to_str().unwrap()]);
    assert!(
        line.contains("s.toml:2:11")
            && line.contains("at column 19: expected a value, not `50 parsecs`"),
        "{line}"
    );
    // A factor of a baseline without one; a baseline that is a path.
    let line = common::one_line_usage_error(&["run", "--fail-if", "async.wall_s<1.10x"]);
    assert!(
        line.contains("relative to a baseline: add --baseline NAME"),
        "{line}"
    );
    let line = common::one_line_usage_error(&["run", "--baseline", "../main"]);
    assert!(line.contains("not a baseline name"), "{line}");
}

#[test]
fn a_saved_baseline_is_found_by_name_and_holds_relative_thresholds() {
    let _cores = common::busy_cores();
    let dir = common::fresh_dir("gate-baseline");
    // Missing: refused before anything runs, saying how to save one.
    let out = concbench_in(&dir, &["run", "--baseline", "main"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--save-baseline main") && out.stdout.is_empty());

    let mut args = QUICK.to_vec();
    args.extend(["--save-baseline", "main"]);
    let out = concbench_in(&dir, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let saved = dir.join("baselines/main.json");
    assert!(text(&out.stderr).contains(&format!("baseline main saved to {}", saved.display())));
    assert!(std::fs::read_to_string(&saved)
        .unwrap()
        .contains("\"schema_version\""));

    let mut args = QUICK.to_vec();
    args.extend([
        "--baseline",
        "main",
        "--fail-if",
        "sequential.wall_s<5x",
        "--fail-if",
        "async.tasks_ok>=1.0x",
    ]);
    let out = concbench_in(&dir, &args);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("OLD baseline main vs NEW this run"),
        "{stdout}"
    );
    assert!(
        has_line(
            &stdout,
            &[
                "ok   sequential.wall_s<5x",
                "sequential: wall_s = ",
                ", baseline "
            ]
        ),
        "{stdout}"
    );
    assert!(stdout.contains(", baseline "), "{stdout}");

    // Another plan against it: one line naming what differs.
    let out = concbench_in(
        &dir,
        &[
            "run",
            "-s",
            "sequential",
            "-n",
            "7",
            "-l",
            "2ms",
            "--cpu",
            "0",
            "--baseline",
            "main",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("tasks 12 vs 7") && stderr.trim_end().lines().count() == 1,
        "{stderr}"
    );
}

/// One latency-bound plan (sequential, 10 × 50 ms, 5 rounds) written to `path`;
/// `slower` adds 5 ms of body drip per request at the server: 10% slower.
fn latency_bound(dir: &Path, name: &str, slower: bool) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec![
        "run",
        "-s",
        "sequential",
        "-n",
        "10",
        "-l",
        "50ms",
        "--cpu",
        "0",
        "--repeat",
        "5",
        "--out",
    ];
    let p = path.to_str().unwrap().to_string();
    args.push(&p);
    if slower {
        args.extend(["--drip", "5ms"]);
    }
    let out = concbench_in(dir, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    path
}

/// The wall_s row of a JSON compare.
fn wall_row(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    let c: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["figure"] == "wall_s")
        .expect("a wall_s row")
        .clone()
}

#[test]
fn a_server_ten_percent_slower_is_worse_beyond_noise_and_the_same_plan_is_not() {
    let _quiet = common::quiet_cores();
    let dir = common::fresh_dir("gate-compare");
    let a = latency_bound(&dir, "a.json", false);
    let b = latency_bound(&dir, "b.json", false);
    let slow = latency_bound(&dir, "slow.json", true);
    let (a, b, slow) = (
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        slow.to_str().unwrap(),
    );

    let same = wall_row(&concbench_in(&dir, &["compare", a, b, "--format", "json"]));
    eprintln!("same plan: {same}");
    assert_eq!(same["verdict"], "within_noise", "{same}");

    let worse = wall_row(&concbench_in(
        &dir,
        &["compare", a, slow, "--format", "json"],
    ));
    eprintln!("10% slower server: {worse}");
    assert_eq!(
        (&worse["verdict"], &worse["difference"]),
        (&"worse".into(), &"larger".into()),
        "{worse}"
    );
    let change = worse["change"].as_f64().unwrap();
    assert!((0.05..0.2).contains(&change), "{worse}");

    // The table says the same, and names the server's faults as the difference.
    let out = concbench_in(&dir, &["compare", a, slow]);
    let table = text(&out.stdout);
    let line = table.lines().find(|l| l.contains(" wall_s ")).unwrap();
    assert!(line.trim_end().ends_with("worse"), "{table}");
    assert!(
        table.contains("note: server faults differ: none vs --drip"),
        "{table}"
    );
    // A threshold on the compare: NEW within 2% of OLD does not hold.
    let out = concbench_in(
        &dir,
        &["compare", a, slow, "--fail-if", "sequential.wall_s<1.02x"],
    );
    assert_eq!(out.status.code(), Some(99), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("FAIL sequential.wall_s<1.02x"));

    // Another plan is refused with one line.
    let other = dir.join("other.json");
    let out = concbench_in(
        &dir,
        &[
            "run",
            "-s",
            "sequential",
            "-n",
            "4",
            "-l",
            "1ms",
            "--cpu",
            "0",
            "--seed",
            "9",
            "--out",
            other.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let line = common::one_line_usage_error(&["compare", a, other.to_str().unwrap()]);
    assert!(
        line.contains("different plans")
            && line.contains("tasks 10 vs 4")
            && line.contains("seed 1 vs 9"),
        "{line}"
    );
}

/// The workflow for a user's repository, parsed as GitHub parses YAML.
fn workflow() -> serde_norway::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/github/concbench-gate.yml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).expect("valid YAML")
}

#[test]
fn the_ready_workflow_runs_a_scenario_with_thresholds_and_keeps_the_report() {
    let w = workflow();
    let on = &w["on"];
    assert!(
        !on["push"].is_string() && on.get("pull_request").is_some(),
        "{on:?}"
    );
    let steps = w["jobs"]["gate"]["steps"].as_sequence().expect("steps");
    let run_of = |needle: &str| -> String {
        steps
            .iter()
            .filter_map(|s| s["run"].as_str())
            .find(|r| r.contains(needle))
            .unwrap_or_else(|| panic!("no step runs {needle}"))
            .to_string()
    };
    assert!(run_of("cargo install").contains("--locked"));
    let gate = run_of("--scenario");
    for word in [
        "--baseline main",
        "--fail-if",
        "--save-baseline",
        "pipefail",
    ] {
        assert!(gate.contains(word), "{word}: {gate}");
    }
    assert!(run_of("concbench report").contains("concbench compare"));
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
        })
        .expect("an upload step");
    assert_eq!(upload["if"].as_str(), Some("always()"));
    assert_eq!(upload["with"]["path"].as_str(), Some("concbench-out/"));
    // What it hands concbench is concbench's: the flags parse, the thresholds too.
    let env = &w["env"];
    assert_eq!(
        env["CONCBENCH_BASELINE_DIR"].as_str(),
        Some(".concbench/baselines")
    );
    let relative = env["RELATIVE_FAIL_IF"].as_str().unwrap();
    let mut argv = vec![
        "concbench",
        "run",
        "--scenario",
        "s.toml",
        "--out",
        "r.json",
    ];
    argv.extend(["--baseline", "main", "--save-baseline", "next"]);
    for t in relative.split_whitespace() {
        argv.extend(["--fail-if", t]);
        assert!(
            concbench::report::threshold::parse(t)
                .unwrap()
                .is_relative(),
            "{t}"
        );
    }
    concbench::cli::parse_from(argv).expect("the workflow's flags are concbench's");
}
