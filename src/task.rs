//! One task end to end (request, body, CPU work) for the blocking and the
//! async clients, and what it produces.
//!
//! Strategies differ in how they schedule tasks, never in what a task does:
//! every strategy calls [`run_blocking`] or [`run_async`], so the work compared
//! is the same work.

use std::time::{Duration, Instant};

use mock_server::payload;
use serde::{Deserialize, Serialize};

use crate::kernel;
use crate::plan::TaskSpec;
use crate::strategy::ConnectionMode;

/// What a task produced when the request succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completed {
    pub body_len: usize,
    pub body_checksum: u64,
    pub cpu_result: u64,
}

impl Completed {
    /// Checksums `body` and runs the CPU work over it, seeded by the checksum.
    pub fn from_body(body: &[u8], cpu_units: u64) -> Self {
        let body_checksum = payload::checksum(body);
        Self {
            body_len: body.len(),
            body_checksum,
            cpu_result: kernel::cpu_work(body, cpu_units, body_checksum),
        }
    }
}

/// Why a task failed. Counted per cause in the report, never propagated:
/// one bad response must not hide the rest of the run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum TaskError {
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("server answered HTTP {0}")]
    Status(u16),
    #[error("reading the response failed: {0}")]
    Body(String),
    #[error("request failed: {0}")]
    Request(String),
    #[error("the worker running it was lost: {0}")]
    Worker(String),
}

impl TaskError {
    /// A stable name for counting failures by cause.
    pub fn cause(&self) -> &'static str {
        match self {
            TaskError::Connect(_) => "connect",
            TaskError::Status(_) => "http_status",
            TaskError::Body(_) => "body",
            TaskError::Request(_) => "request",
            TaskError::Worker(_) => "worker",
        }
    }
}

/// One task's outcome, as a strategy reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskOutcome {
    pub id: u64,
    pub result: Result<Completed, TaskError>,
    /// From sending the request to the last byte of the body, in µs.
    pub latency_us: u64,
    /// How late the server said its answer was (`x-lateness-us`).
    pub server_lateness_us: Option<u64>,
}

/// The URL of one task's request.
pub fn work_url(base_url: &str, seed: u64, spec: &TaskSpec) -> String {
    format!(
        "{base_url}/work?id={}&latency_us={}&bytes={}&seed={seed}",
        spec.id, spec.latency_us, spec.bytes
    )
}

fn micros(d: Duration) -> u64 {
    d.as_micros().min(u64::MAX as u128) as u64
}

/// A blocking HTTP client for one worker, with `pool` idle keep-alive
/// connections, or none under [`ConnectionMode::New`].
pub fn blocking_agent(pool: usize, mode: ConnectionMode) -> ureq::Agent {
    let idle = match mode {
        ConnectionMode::Reuse => pool.max(1),
        ConnectionMode::New => 0,
    };
    ureq::Agent::config_builder()
        .max_idle_connections(idle)
        .max_idle_connections_per_host(idle)
        .http_status_as_error(false)
        // An HTTP_PROXY in the environment must not reroute loopback traffic.
        .proxy(None)
        .no_delay(true)
        .build()
        .into()
}

/// Runs one task on a blocking client.
pub fn run_blocking(
    agent: &ureq::Agent,
    base_url: &str,
    seed: u64,
    spec: &TaskSpec,
) -> TaskOutcome {
    let url = work_url(base_url, seed, spec);
    let start = Instant::now();
    let fetched = (|| {
        let mut resp = agent.get(&url).call().map_err(|e| match e {
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                TaskError::Connect(io.to_string())
            }
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
                TaskError::Connect(e.to_string())
            }
            other => TaskError::Request(other.to_string()),
        })?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(TaskError::Status(status));
        }
        let lateness = resp
            .headers()
            .get("x-lateness-us")
            .and_then(|v| v.to_str().ok()?.parse().ok());
        // One byte over the plan is enough to show the body is wrong.
        let body = resp
            .body_mut()
            .with_config()
            .limit(spec.bytes as u64 + 1)
            .read_to_vec()
            .map_err(|e| TaskError::Body(e.to_string()))?;
        Ok((body, lateness))
    })();
    let latency_us = micros(start.elapsed());
    match fetched {
        Ok((body, lateness)) => TaskOutcome {
            id: spec.id,
            result: Ok(Completed::from_body(&body, spec.cpu_units)),
            latency_us,
            server_lateness_us: lateness,
        },
        Err(e) => TaskOutcome {
            id: spec.id,
            result: Err(e),
            latency_us,
            server_lateness_us: None,
        },
    }
}

/// An async HTTP client for one worker (clone it to share the pool); under
/// [`ConnectionMode::New`] no connection is kept idle, so each request opens one.
pub fn async_client(pool: usize, mode: ConnectionMode) -> anyhow::Result<reqwest::Client> {
    let idle = match mode {
        ConnectionMode::Reuse => pool.max(1),
        ConnectionMode::New => 0,
    };
    Ok(reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(idle)
        .tcp_nodelay(true)
        .build()?)
}

/// Fetches one task's body on an async client; the CPU work is the caller's,
/// so strategies can run it inline or ship it elsewhere.
pub async fn fetch_async(
    client: &reqwest::Client,
    base_url: &str,
    seed: u64,
    spec: &TaskSpec,
) -> (Result<bytes::Bytes, TaskError>, u64, Option<u64>) {
    let url = work_url(base_url, seed, spec);
    let start = Instant::now();
    let result = async {
        let resp = client.get(&url).send().await.map_err(|e| {
            if e.is_connect() {
                TaskError::Connect(error_chain(&e))
            } else {
                TaskError::Request(error_chain(&e))
            }
        })?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(TaskError::Status(status));
        }
        let lateness = resp
            .headers()
            .get("x-lateness-us")
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let body = resp
            .bytes()
            .await
            .map_err(|e| TaskError::Body(error_chain(&e)))?;
        Ok((body, lateness))
    }
    .await;
    let latency_us = micros(start.elapsed());
    match result {
        Ok((body, lateness)) => (Ok(body), latency_us, lateness),
        Err(e) => (Err(e), latency_us, None),
    }
}

/// Runs one task on an async client with its CPU work inline.
pub async fn run_async(
    client: &reqwest::Client,
    base_url: &str,
    seed: u64,
    spec: &TaskSpec,
) -> TaskOutcome {
    let (body, latency_us, server_lateness_us) = fetch_async(client, base_url, seed, spec).await;
    TaskOutcome {
        id: spec.id,
        result: body.map(|b| Completed::from_body(&b, spec.cpu_units)),
        latency_us,
        server_lateness_us,
    }
}

/// An error and its sources on one line (reqwest hides the cause in `source()`).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    s
}
