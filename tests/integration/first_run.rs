//! What a new user meets first: the default run compares the charter's six
//! models, `--out` writes the format its extension names, a plan with no
//! bound says so, and a mistyped flag or value gets clap's tip on the one
//! error line, pointing at the subcommand's help.

use concbench::cli::{self, Command as Sub};

use crate::common::{busy_cores, concbench, fresh_dir, one_line_usage_error};

#[test]
fn the_default_run_compares_the_six_models_of_the_charter() {
    let Sub::Run(args) = cli::parse_from(["concbench", "run"]).unwrap().command else {
        panic!("not a run");
    };
    let names: Vec<&str> = args.strategies.0.iter().map(|k| k.name()).collect();
    assert_eq!(
        names,
        [
            "sequential",
            "thread-per-task",
            "thread-pool",
            "process-pool",
            "async",
            "async-rayon"
        ]
    );
}

#[test]
fn out_takes_its_format_from_the_extension_and_refuses_a_contradiction() {
    let _cores = busy_cores();
    let dir = fresh_dir("first-run-out");
    let json = dir.join("results.json");
    let out = concbench(&[
        "run",
        "-s",
        "async",
        "-n",
        "20",
        "-l",
        "1ms",
        "--cpu",
        "0",
        "--out",
        json.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["results"][0]["strategy"], "async");
    // The table still goes to the terminal.
    assert!(String::from_utf8_lossy(&out.stdout).contains("strategy"));

    let csv = dir.join("results.csv");
    let out = concbench(&[
        "run",
        "-s",
        "async",
        "-n",
        "20",
        "-l",
        "1ms",
        "--cpu",
        "0",
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::read_to_string(&csv)
        .unwrap()
        .starts_with("scenario,params,strategy,"));

    let clash = dir.join("clash.json");
    let line = one_line_usage_error(&[
        "run",
        "-s",
        "async",
        "-n",
        "20",
        "-f",
        "csv",
        "--out",
        clash.to_str().unwrap(),
    ]);
    assert!(
        line.contains("--out") && line.contains("--format csv"),
        "{line}"
    );
    assert!(!clash.exists(), "nothing is written on bad input");
}

#[test]
fn a_plan_without_latency_or_cpu_work_shows_no_bound_instead_of_efficiency_zero() {
    let _cores = busy_cores();
    let out = concbench(&[
        "run",
        "-s",
        "sequential,async",
        "-n",
        "20",
        "-l",
        "0",
        "--cpu",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    let row = table
        .lines()
        .find(|l| l.starts_with("async"))
        .expect("an async row");
    assert!(row.contains(" – "), "{row}");
    assert!(!row.contains(" 0.00 "), "{row}");
}

#[test]
fn a_mistyped_flag_or_value_keeps_clap_s_tip_and_names_the_subcommand_help() {
    let line = one_line_usage_error(&["run", "--strategis", "async"]);
    assert!(
        line.contains("a similar argument exists: '--strategies'"),
        "{line}"
    );
    assert!(line.ends_with("(see concbench run --help)"), "{line}");
    let line = one_line_usage_error(&["run", "--format", "jsn"]);
    assert!(
        line.contains("[possible values: table, json, csv, markdown]"),
        "{line}"
    );
    assert!(line.contains("'json'"), "{line}");
    let line = one_line_usage_error(&["sweep", "--param", "latency=normal:50ms,10ms"]);
    assert!(
        line.contains("latency=normal:50ms,10ms;normal:50ms,20ms"),
        "{line}"
    );
    assert!(line.ends_with("(see concbench sweep --help)"), "{line}");
}

#[test]
fn several_exports_are_written_at_once_each_in_its_format() {
    let _cores = busy_cores();
    let dir = fresh_dir("first-run-exports");
    let (json, csv, md) = (dir.join("r.json"), dir.join("r.csv"), dir.join("r.md"));
    let out = concbench(&[
        "run",
        "-s",
        "async",
        "-n",
        "20",
        "-l",
        "1ms",
        "--cpu",
        "0",
        "--export-json",
        json.to_str().unwrap(),
        "--export-csv",
        csv.to_str().unwrap(),
        "--export-markdown",
        md.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["results"][0]["strategy"], "async");
    assert!(std::fs::read_to_string(&csv)
        .unwrap()
        .starts_with("scenario,params,strategy,"));
    assert!(std::fs::read_to_string(&md)
        .unwrap()
        .contains("| strategy |"));
    let line = one_line_usage_error(&[
        "sweep",
        "--param",
        "concurrency=1,2",
        "--export-csv",
        csv.to_str().unwrap(),
    ]);
    assert!(line.contains("--export-csv"), "{line}");
}
