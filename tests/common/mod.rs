//! Shared set-up for the integration tests: a real mock server on port 0 and
//! small workloads.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use concbench::runner::{RunOptions, Target};
use concbench::workload::{CpuWork, Workload};
use mock_server::{MockServer, ServerConfig, ServerHandle};

/// A real mock server in this process, on a free loopback port.
pub fn server() -> ServerHandle {
    MockServer::start(ServerConfig::default()).expect("mock server starts")
}

pub fn target(url: &str) -> Target {
    Target {
        url: url.to_string(),
        label: "in-process".into(),
    }
}

/// Run options for tests: worker processes are the concbench binary Cargo
/// built (inside a test, `current_exe()` is the test binary).
pub fn options() -> RunOptions {
    RunOptions {
        worker_exe: Some(env!("CARGO_BIN_EXE_concbench").into()),
        ..RunOptions::default()
    }
}

/// A small mixed workload: requests with latency and a little CPU work.
pub fn small(tasks: usize, latency: &str) -> Workload {
    Workload {
        tasks,
        latency: latency.parse().expect("latency"),
        bytes: 3000,
        cpu: CpuWork::Time(Duration::from_micros(200)),
        concurrency: 8,
        seed: 11,
    }
}

/// The concbench binary Cargo built for these tests.
pub const EXE: &str = env!("CARGO_BIN_EXE_concbench");

/// A tag unique to one CLI run: its processes (workers, embedded server)
/// inherit it as `CONCBENCH_TEST_TAG`, so `/proc` finds every one of them.
pub fn tag() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// Live processes (not zombies) whose environment carries `CONCBENCH_TEST_TAG=tag`.
pub fn tagged(tag: &str) -> Vec<(u32, String)> {
    let needle = format!("CONCBENCH_TEST_TAG={tag}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if !env.split(|&b| b == 0).any(|kv| kv == needle.as_bytes()) {
            continue;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        {
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        found.push((pid, String::from_utf8_lossy(&cmd).replace('\0', " ")));
    }
    found
}

pub fn spawn_tagged(tag: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(EXE);
    cmd.args(args)
        .env("CONCBENCH_TEST_TAG", tag)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Waits until at least `n` tagged workers run.
pub fn wait_for_workers(tag: &str, n: usize) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let workers: Vec<u32> = tagged(tag)
            .into_iter()
            .filter(|(_, cmd)| cmd.contains("__worker"))
            .map(|(pid, _)| pid)
            .collect();
        if workers.len() >= n {
            return workers;
        }
        assert!(Instant::now() < deadline, "workers never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn assert_nothing_left(tag: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left = tagged(tag);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: processes outlived the run: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
