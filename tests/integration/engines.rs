//! The engines in scripts/ that run shards on machines people already have:
//! the Kubernetes Indexed Job and the GitHub Actions matrix parse as YAML
//! and split the work the way `--shard` counts it, and the ssh script runs
//! every shard and merges them (through stand-ins for ssh and scp).

use std::path::Path;
use std::process::Command;

use concbench::report::{file, ResultsFile};
use serde_norway::Value;

use crate::common::{self, fresh_dir, EXE};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every document of a YAML file.
fn documents(rel: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap_or_else(|e| panic!("{rel}: {e}")))
        .collect()
}

/// The N of the first `--shard "…/N"` in `text`.
fn shard_count(text: &str) -> u64 {
    let at = text.find("--shard").expect("a --shard flag");
    let rest = &text[at..];
    let slash = rest.find('/').expect("K/N");
    rest[slash + 1..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("N is a number")
}

#[test]
fn the_kubernetes_job_is_indexed_and_runs_shard_index_plus_one_of_its_completions() {
    let docs = documents("scripts/k8s/concbench-job.yaml");
    let job = docs.iter().find(|d| d["kind"] == "Job").expect("a Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["completions"], spec["parallelism"]);
    let container = &spec["template"]["spec"]["containers"][0];
    let script = container["args"][0].as_str().expect("a shell script");
    assert!(
        script.contains("--shard \"$((JOB_COMPLETION_INDEX + 1))/"),
        "{script}"
    );
    assert_eq!(Some(shard_count(script)), spec["completions"].as_u64());
    // The parts go to the volume the claim in the same file provides.
    let claim = docs
        .iter()
        .find(|d| d["kind"] == "PersistentVolumeClaim")
        .expect("a claim");
    let volume = &spec["template"]["spec"]["volumes"][0];
    assert_eq!(
        volume["persistentVolumeClaim"]["claimName"],
        claim["metadata"]["name"]
    );
    let mount = container["volumeMounts"][0]["mountPath"].as_str().unwrap();
    assert!(
        script.contains(&format!("--out \"{mount}/part-")),
        "{script}"
    );
}

#[test]
fn the_ci_workflow_runs_a_matrix_of_every_shard_then_merges_their_artifacts() {
    let docs = documents("scripts/github/sharded-sweep.yml");
    let jobs = &docs[0]["jobs"];
    let matrix: Vec<u64> = jobs["shard"]["strategy"]["matrix"]["shard"]
        .as_sequence()
        .expect("a matrix of shards")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let steps = serde_norway::to_string(&jobs["shard"]["steps"]).unwrap();
    let n = shard_count(&steps);
    assert_eq!(matrix, (1..=n).collect::<Vec<_>>());
    assert!(steps.contains("upload-artifact"), "{steps}");
    let merge = &jobs["merge"];
    assert_eq!(merge["needs"], "shard");
    let merge_steps = serde_norway::to_string(&merge["steps"]).unwrap();
    assert!(merge_steps.contains("download-artifact") && merge_steps.contains("concbench merge"));
}

#[test]
fn the_ssh_script_runs_every_shard_on_its_host_and_merges_the_parts() {
    let _cores = common::busy_cores();
    let dir = fresh_dir("shard-ssh");
    // ssh HOST 'COMMAND' runs the command here; scp HOST:FILE DEST copies it.
    let fake_ssh = dir.join("ssh");
    std::fs::write(
        &fake_ssh,
        "#!/bin/sh\nwhile [ \"$1\" = -o ]; do shift 2; done\nshift\nexec sh -c \"$1\"\n",
    )
    .unwrap();
    let fake_scp = dir.join("scp");
    std::fs::write(
        &fake_scp,
        "#!/bin/sh\nwhile [ \"$1\" = -o ]; do shift 2; done\nexec cp \"${1#*:}\" \"$2\"\n",
    )
    .unwrap();
    for f in [&fake_ssh, &fake_scp] {
        Command::new("chmod").arg("+x").arg(f).status().unwrap();
    }
    let parts = dir.join("parts");
    let out = dir.join("sweep.json");
    let status = Command::new("bash")
        .arg(root().join("scripts/shard-ssh.sh"))
        .args(["--out", &out.display().to_string(), "a", "b", "c", "--"])
        .args([
            "sweep",
            "-s",
            "sequential",
            "-n",
            "4",
            "-l",
            "1ms",
            "--cpu",
            "0",
        ])
        .args(["--param", "concurrency=1,2,3,4,5"])
        .env("SSH", &fake_ssh)
        .env("SCP", &fake_scp)
        .env("CONCBENCH", EXE)
        .env("PARTS_DIR", &parts)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for k in 1..=3 {
        assert!(parts.join(format!("part-{k}.json")).exists());
    }
    let ResultsFile::Sweep(sweep) = file::load(&out).unwrap() else {
        panic!("not a sweep")
    };
    let values: Vec<&str> = sweep
        .cells
        .iter()
        .map(|c| c.values["concurrency"].as_str())
        .collect();
    assert_eq!(values, ["1", "2", "3", "4", "5"]);
    assert!(sweep
        .cells
        .iter()
        .all(|c| c.report.results[0].tasks_ok == 4));
}
