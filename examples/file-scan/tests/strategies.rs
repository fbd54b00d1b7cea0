//! The example binary end to end: its task runs under every strategy,
//! process strategies included (they re-execute the binary), every result
//! verified by the task's own check, and its results file is concbench's.

use std::process::Command;

#[test]
fn the_example_task_verifies_under_every_strategy() {
    let dir = std::env::temp_dir().join(format!("file-scan-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_file = dir.join("results.json");
    let out = Command::new(env!("CARGO_BIN_EXE_file-scan"))
        .args(["-s", "all", "-n", "24", "-c", "4", "-f", "json", "--out"])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = report["results"].as_array().unwrap();
    assert_eq!(rows.len(), concbench::strategy::StrategyKind::ALL.len());
    for r in rows {
        assert_eq!(r["tasks_ok"], 24, "{r}");
        assert_eq!(r["tasks_cpu_checked"], 24, "every result verified: {r}");
        assert!(r.get("server").is_none(), "no server: {r}");
    }
    assert!(report["meta"]["user_task"]
        .as_str()
        .unwrap()
        .starts_with("file-scan"));
    // The file it wrote is a results file concbench loads.
    concbench::report::file::load(&out_file).expect("a concbench results file");
    std::fs::remove_dir_all(&dir).ok();
}
