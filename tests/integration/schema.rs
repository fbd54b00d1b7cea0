//! The results files keep their contract: `reports/schema.json` is the schema
//! the code produces, and real results (a run and a sweep) validate against it.

use std::collections::BTreeMap;

use concbench::bench::run_workload;
use concbench::report::file::{self as results};
use concbench::report::ResultsFile;
use concbench::report::{SweepCell, SweepReport};
use concbench::strategy::StrategyKind;

use crate::common;

fn committed_schema() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/reports/schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("reports/schema.json exists"))
        .unwrap()
}

#[test]
fn the_committed_schema_is_the_one_the_code_produces() {
    let produced: serde_json::Value = serde_json::from_str(&results::schema_json()).unwrap();
    assert!(
        produced == committed_schema(),
        "reports/schema.json is stale: regenerate it with `cargo run -- schema > reports/schema.json`"
    );
}

#[test]
fn a_real_run_and_a_sweep_validate_against_the_schema() {
    let schema = committed_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON schema");
    let server = common::server();
    let w = common::small(10, "1ms");
    let options = concbench::bench::RunOptions {
        repeat: 2,
        ..common::options()
    };
    let run = run_workload(
        &w,
        &[StrategyKind::Sequential, StrategyKind::ProcessPool],
        &common::target(&server.url()),
        &options,
    )
    .unwrap();
    let run_json = serde_json::to_value(ResultsFile::Run(run.clone())).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&run_json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    for key in [
        "strategy",
        "wall_s",
        "efficiency",
        "latency_s",
        "checks",
        "timeline",
        "phases",
        "stats",
    ] {
        assert!(run_json["results"][0].get(key).is_some(), "{key} missing");
    }

    let sweep = SweepReport {
        schema_version: concbench::report::SCHEMA_VERSION,
        kind: "sweep".into(),
        scenario: "custom".into(),
        params: vec!["concurrency".into()],
        cells: vec![SweepCell {
            values: BTreeMap::from([("concurrency".into(), "4".into())]),
            x: BTreeMap::from([("concurrency".into(), 4.0)]),
            report: run,
        }],
        shard: None,
        slo: None,
    };
    let sweep_json = serde_json::to_value(ResultsFile::Sweep(sweep.clone())).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sweep_json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    // What is written reads back the same, by kind.
    let dir = std::env::temp_dir().join(format!("concbench-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json, csv) = (dir.join("s.json"), dir.join("s.csv"));
    results::write_sweep(&json, &csv, &sweep).unwrap();
    assert_eq!(results::load(&json).unwrap(), ResultsFile::Sweep(sweep));
    // One CSV row per strategy and repeat: 2 strategies × 2 rounds.
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap().lines().count(),
        1 + 4
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn broken_results_files_get_one_clear_line() {
    let dir = std::env::temp_dir().join(format!("concbench-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "truncated.json",
            r#"{"meta": {"schema_version": 1"#,
            "is not JSON",
        ),
        (
            "old.json",
            r#"{"meta": {"schema_version": 0}, "results": []}"#,
            "schema version 0",
        ),
        (
            "other.json",
            r#"{"hello": "world"}"#,
            "not a concbench results file",
        ),
        (
            "edited.json",
            r#"{"meta": {"schema_version": 2}, "results": "many"}"#,
            "does not match the results schema",
        ),
    ];
    for (name, text, expect) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let err = format!("{:#}", results::load(&path).unwrap_err());
        assert!(err.contains(expect), "{name}: {err}");
        assert!(!err.contains('\n'), "{name}: more than one line: {err}");
    }
    let missing = format!("{:#}", results::load(&dir.join("nope.json")).unwrap_err());
    assert!(missing.contains("cannot be read"), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}
