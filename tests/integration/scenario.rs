//! `concbench run --scenario FILE` and `sweep --scenario FILE` as a user meets
//! them: a bad file gets one line naming the file, line and column, exit 2,
//! and nothing run or written; a good one sits between the command line and
//! the preset; every committed file under scenarios/ parses.

use std::path::{Path, PathBuf};

use concbench::cli::scenario;
use concbench::cli::{self, Command as Sub};

use crate::common::{self, concbench, one_line_usage_error};

/// A fresh directory for one test.
fn dir(name: &str) -> PathBuf {
    common::fresh_dir(&format!("concbench-scenario-{name}"))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn a_scenario_key_with_a_bad_value_names_its_line_and_column() {
    let d = dir("bad-value");
    let f = write(
        &d,
        "scenario.toml",
        "# api-pull with a typo\npreset = \"api-pull\"\ntasks = \"ten\"\n",
    );
    let line = one_line_usage_error(&["run", "--scenario", &f]);
    assert_eq!(
        line,
        format!("Error: {f}:3:9: tasks: 'ten' is not a count; write a whole number such as 200, 10k or 2M")
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn an_unknown_key_is_rejected_with_the_list_of_keys() {
    let d = dir("unknown");
    let f = write(&d, "scenario.toml", "tasks = 5\ntaks = 5\n");
    let line = one_line_usage_error(&["run", "--scenario", &f]);
    assert!(
        line.starts_with(&format!(
            "Error: {f}:2:1: unknown key `taks` (did you mean `tasks`?)"
        )),
        "{line}"
    );
    for key in ["strategies", "latency", "cpu-units", "concurrency"] {
        assert!(line.contains(key), "{key} missing: {line}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_truncated_scenario_file_fails_with_one_line() {
    let d = dir("truncated");
    let f = write(&d, "scenario.toml", "tasks = 5\nstrategies = [\"sequen");
    let line = one_line_usage_error(&["run", "--scenario", &f]);
    assert!(line.starts_with(&format!("Error: {f}:2:")), "{line}");
    assert!(line.contains("TOML syntax"), "{line}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_missing_scenario_file_names_the_path_and_the_os_error() {
    let line = one_line_usage_error(&["sweep", "--scenario", "/nonexistent/scenario.toml"]);
    assert!(
        line.contains("/nonexistent/scenario.toml") && line.contains("No such file"),
        "{line}"
    );
}

#[test]
fn a_bad_scenario_runs_nothing_and_writes_nothing() {
    let d = dir("nothing-written");
    let out = d.join("results.json");
    let f = write(
        &d,
        "scenario.toml",
        &format!(
            "out = {:?}\nformat = \"json\"\ntasks = 3\nconnection = \"sometimes\"\n",
            out.to_str().unwrap()
        ),
    );
    let line = one_line_usage_error(&["run", "--scenario", &f]);
    assert!(
        line.contains(":4:14: connection: 'sometimes' is not one of reuse, new"),
        "{line}"
    );
    // A sweep fails the same way before its first cell.
    one_line_usage_error(&["sweep", "--scenario", &f, "--param", "tasks=1,2"]);
    assert!(!out.exists());
    assert!(!out.with_extension("csv").exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn the_command_line_overrides_the_scenario_which_overrides_the_preset() {
    let d = dir("precedence");
    // The preset (api-pull) says 100 tasks, normal:50ms,5ms, 4096 bytes, 200us CPU, C = 20.
    let f = write(
        &d,
        "scenario.toml",
        "preset = \"api-pull\"\nstrategies = [\"sequential\"]\ntasks = 30\nlatency = 0\ncpu = 0\n",
    );
    let out = concbench(&["run", "--scenario", &f, "--tasks", "3", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let meta = &json["meta"];
    assert_eq!(meta["scenario"], "api-pull", "{meta}");
    let w = &meta["workload"];
    assert_eq!(w["tasks"], 3, "command line over scenario: {w}");
    assert_eq!(w["latency"], "0", "scenario over preset: {w}");
    assert_eq!(w["bytes"], 4096, "preset over default: {w}");
    assert_eq!(w["concurrency"], 20, "preset over default: {w}");
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["strategy"], "sequential");
    assert_eq!(results[0]["tasks_ok"], 3);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn sweep_takes_a_scenario_and_keeps_its_own_flags() {
    let d = dir("sweep");
    let f = write(&d, "scenario.toml", "tasks = \"2k\"\nconcurrency = 64\n");
    let cli = cli::parse_from([
        "concbench",
        "sweep",
        "--param",
        "concurrency=1,2",
        "--scenario",
        &f,
        "-c",
        "8",
    ])
    .unwrap();
    let Sub::Sweep(sweep) = cli.command else {
        panic!("not sweep")
    };
    let run = scenario::apply(&sweep.run).unwrap();
    assert_eq!((run.tasks, run.concurrency), (2000, 8));
    assert_eq!(sweep.params.len(), 1);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn every_committed_scenario_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut seen = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if text.lines().any(|l| l.starts_with('[')) {
            // A file of sections, each a scenario (the built-in check suite).
            let suite = cli::suite::suite_of(&text, &path.display().to_string(), 1.0)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for s in &suite {
                s.workload
                    .validate()
                    .unwrap_or_else(|e| panic!("{} [{}]: {e}", path.display(), s.name));
            }
            assert!(!suite.is_empty(), "{} has no section", path.display());
            seen += 1;
            continue;
        }
        let settings = scenario::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!settings.is_empty(), "{} sets nothing", path.display());
        let cli =
            cli::parse_from(["concbench", "run", "--scenario", path.to_str().unwrap()]).unwrap();
        let Sub::Run(args) = cli.command else {
            panic!("not run")
        };
        let args = scenario::apply(&args).unwrap();
        args.workload()
            .validate()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        seen += 1;
    }
    assert!(seen >= 1, "no scenario under {}", root.display());
}
