//! What a worker process is told: one [`WorkerConfig`], serialised once as
//! JSON into the one argument of the hidden `__worker` subcommand and read
//! back by the same type, so the two ends cannot drift apart.

use std::path::PathBuf;

use clap::Args;
use serde::{Deserialize, Serialize};

use crate::http::{ClientPolicy, ConnectionMode, Session};

/// The hidden subcommand that runs a worker.
pub const WORKER_SUBCOMMAND: &str = "__worker";

/// What a worker does with the messages it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerMode {
    /// Runs whole tasks one at a time on a blocking client.
    Tasks,
    /// Runs whole tasks on its own current-thread runtime, `in_flight` at once.
    AsyncTasks,
    /// Runs CPU work over bodies the parent sends.
    Cpu,
}

/// Everything a worker needs to know, from its parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerConfig {
    pub mode: WorkerMode,
    /// Base URL of the mock server (task modes).
    pub base_url: String,
    /// The plan's seed, sent with every request.
    pub seed: u64,
    /// Keep-alive connections of the worker's own pool.
    pub pool: usize,
    pub connection: ConnectionMode,
    /// Requests in flight at once (async-tasks mode).
    pub in_flight: usize,
    /// When the parent's run started, on the clock every process shares
    /// ([`crate::sys::clock::mono_now_ns`]): tasks' queued time is measured from it.
    pub run_start_ns: u64,
    /// This worker's client policy (its share of the rate limit).
    pub policy: ClientPolicy,
    /// Test-only: see [`Session::test_panic_task`].
    #[serde(default)]
    pub test_panic_task: Option<u64>,
    /// The kind of work over each body (`--work`).
    #[serde(default)]
    pub work: crate::task::WorkKind,
    /// The user's endpoint, when the target is not a mock server.
    #[serde(default)]
    pub endpoint: Option<crate::http::Endpoint>,
    /// Run the user's task installed in this binary ([`crate::task::user`])
    /// instead of requests: the worker is the user's own binary re-executed.
    #[serde(default)]
    pub user: bool,
    /// The plan's arrival schedule and size: an open loop's due times are
    /// rebuilt from them here (too many to send on the command line).
    #[serde(default)]
    pub arrival: crate::workload::Arrival,
    #[serde(default)]
    pub tasks: usize,
    /// See [`Session::body_bytes`].
    #[serde(default)]
    pub body_bytes: usize,
}

impl WorkerConfig {
    /// A worker of `mode` with the defaults of a CPU worker (no server, one
    /// connection, one task in flight); task workers set the rest.
    pub fn new(mode: WorkerMode, seed: u64, run_start_ns: u64) -> Self {
        Self {
            mode,
            base_url: String::new(),
            seed,
            pool: 1,
            connection: ConnectionMode::Reuse,
            in_flight: 1,
            run_start_ns,
            policy: ClientPolicy::default(),
            test_panic_task: None,
            work: crate::task::WorkKind::Hash,
            endpoint: None,
            user: false,
            arrival: Default::default(),
            tasks: 0,
            body_bytes: 0,
        }
    }

    /// The session of the worker's requests.
    pub fn session(&self) -> std::sync::Arc<Session> {
        std::sync::Arc::new(
            Session::new(&self.base_url, self.seed, self.run_start_ns, self.policy)
                .with_test_panic_task(self.test_panic_task)
                .with_work(self.work)
                .with_body_bytes(self.body_bytes)
                .with_endpoint(self.endpoint.clone().map(std::sync::Arc::new))
                .with_user(if self.user {
                    crate::task::user::installed()
                } else {
                    None
                })
                // A CPU worker sends no request: it has nothing to wait for.
                .with_due(if self.mode == WorkerMode::Cpu {
                    None
                } else {
                    self.arrival
                        .due_us(self.tasks, self.seed)
                        .map(std::sync::Arc::new)
                }),
        )
    }

    /// The argument the worker is started with.
    pub fn to_arg(&self) -> String {
        serde_json::to_string(self).expect("a worker config always serialises")
    }
}

/// How to start workers: the executable and what to tell each.
#[derive(Debug, Clone)]
pub struct WorkerSpawn {
    /// The concbench executable (see [`crate::sys::process::concbench_exe`]).
    pub exe: PathBuf,
    pub config: WorkerConfig,
}

/// The hidden `__worker` subcommand: its one argument is a [`WorkerConfig`].
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// The worker's configuration, as JSON (written by the parent).
    #[arg(value_parser = parse_config)]
    pub config: WorkerConfig,
}

fn parse_config(s: &str) -> Result<WorkerConfig, String> {
    serde_json::from_str(s).map_err(|e| format!("not a worker configuration: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_survives_its_trip_through_the_command_line() {
        let mut c = WorkerConfig::new(WorkerMode::AsyncTasks, 42, 123_456);
        c.base_url = "http://127.0.0.1:9".into();
        c.in_flight = 7;
        c.connection = ConnectionMode::New;
        c.policy.retries = 3;
        assert_eq!(parse_config(&c.to_arg()), Ok(c));
        assert!(parse_config("{}")
            .unwrap_err()
            .contains("not a worker configuration"));
    }
}
