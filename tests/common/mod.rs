//! Shared set-up for the integration tests: a real mock server on port 0 and
//! small workloads.
#![allow(dead_code)]

use std::time::Duration;

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
