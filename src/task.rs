//! One task end to end (request, body, CPU work) for the blocking and the
//! async clients, and what it produces.
//!
//! Strategies differ in how they schedule tasks, never in what a task does:
//! every strategy calls [`run_blocking`] or [`run_async`], so the work compared
//! is the same work. Each outcome also says where its time went ([`Phases`]),
//! on a clock every process shares ([`mono_now_ns`]).

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
    /// From sending the request to the last byte of the body, in µs
    /// (`phases.response_us + phases.body_us` when the task succeeded).
    pub latency_us: u64,
    /// How late the server said its answer was (`x-lateness-us`).
    pub server_lateness_us: Option<u64>,
    /// Where the task's time went; all zero when the task failed.
    pub phases: Phases,
}

/// Where one task's time went, in µs, measured on [`mono_now_ns`] (a clock
/// shared by every process, so worker processes measure against the parent's
/// start). Plain integers: it travels over IPC in postcard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phases {
    /// From the start of the strategy's run to sending this task's request:
    /// waiting for a slot, a thread, a worker process (including starting
    /// it) or the tasks ahead of it.
    pub queued_us: u64,
    /// From sending the request to receiving the response head. Includes
    /// connecting when there is no idle connection: neither ureq nor reqwest
    /// exposes connect time on its own.
    pub response_us: u64,
    /// From the response head to the last byte of the body.
    pub body_us: u64,
    /// The CPU work over the body (checksum and kernel) where it ran. For
    /// `async-rayon` and `async-process-pool` it is measured by the event
    /// loop from handing the body off to getting the result back, so it also
    /// holds the wait for a pool thread or worker process, and for
    /// `async-process-pool` the IPC both ways.
    pub cpu_us: u64,
}

/// `CLOCK_MONOTONIC` in nanoseconds: one clock for every process on the
/// machine (unlike [`std::time::Instant`], which cannot cross a process
/// boundary), so a worker can measure from its parent's run start.
pub fn mono_now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_MONOTONIC
    // always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Microseconds from `earlier` to `later` (both [`mono_now_ns`]), never negative.
fn us_between(earlier: u64, later: u64) -> u64 {
    later.saturating_sub(earlier) / 1000
}

/// Microseconds from `start_ns` ([`mono_now_ns`]) to now.
pub fn us_since(start_ns: u64) -> u64 {
    us_between(start_ns, mono_now_ns())
}

/// Runs `f` and says how long it took, in µs.
fn timed<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let start = mono_now_ns();
    let r = f();
    (r, us_since(start))
}

/// The URL of one task's request.
pub fn work_url(base_url: &str, seed: u64, spec: &TaskSpec) -> String {
    format!(
        "{base_url}/work?id={}&latency_us={}&bytes={}&seed={seed}",
        spec.id, spec.latency_us, spec.bytes
    )
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

/// The send, head and last-byte times of one request, in [`mono_now_ns`].
#[derive(Debug, Clone, Copy)]
struct Stamps {
    sent: u64,
    head: u64,
    done: u64,
}

impl Stamps {
    fn new() -> Self {
        let sent = mono_now_ns();
        Self {
            sent,
            head: sent,
            done: sent,
        }
    }

    /// Send to last byte, in µs.
    fn latency_us(&self) -> u64 {
        us_between(self.sent, self.done)
    }

    /// The phases up to the body; `response_us + body_us == latency_us()` exactly.
    fn phases(&self, run_start_ns: u64) -> Phases {
        let response_us = us_between(self.sent, self.head);
        Phases {
            queued_us: us_between(run_start_ns, self.sent),
            response_us,
            body_us: self.latency_us() - response_us.min(self.latency_us()),
            cpu_us: 0,
        }
    }
}

/// Runs one task on a blocking client; `run_start_ns` is when the
/// strategy's run started ([`mono_now_ns`]), for [`Phases::queued_us`].
pub fn run_blocking(
    agent: &ureq::Agent,
    base_url: &str,
    seed: u64,
    spec: &TaskSpec,
    run_start_ns: u64,
) -> TaskOutcome {
    let url = work_url(base_url, seed, spec);
    let mut t = Stamps::new();
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
        t.head = mono_now_ns();
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
    t.done = mono_now_ns();
    let latency_us = t.latency_us();
    match fetched {
        Ok((body, lateness)) => {
            let (completed, cpu_us) = timed(|| Completed::from_body(&body, spec.cpu_units));
            TaskOutcome {
                id: spec.id,
                result: Ok(completed),
                latency_us,
                server_lateness_us: lateness,
                phases: Phases {
                    cpu_us,
                    ..t.phases(run_start_ns)
                },
            }
        }
        Err(e) => TaskOutcome {
            id: spec.id,
            result: Err(e),
            latency_us,
            server_lateness_us: None,
            phases: Phases::default(),
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

/// What [`fetch_async`] got: the body, or why there is none.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub body: Result<bytes::Bytes, TaskError>,
    /// Send to last body byte, in µs.
    pub latency_us: u64,
    pub server_lateness_us: Option<u64>,
    /// Queued, response and body; `cpu_us` is the caller's to fill in. All
    /// zero when the fetch failed.
    pub phases: Phases,
}

impl Fetched {
    /// The task's outcome, given the result of its CPU work and how long that took.
    pub fn outcome(
        &self,
        id: u64,
        result: Result<Completed, TaskError>,
        cpu_us: u64,
    ) -> TaskOutcome {
        let phases = if result.is_ok() {
            Phases {
                cpu_us,
                ..self.phases
            }
        } else {
            Phases::default()
        };
        TaskOutcome {
            id,
            result,
            latency_us: self.latency_us,
            server_lateness_us: self.server_lateness_us,
            phases,
        }
    }
}

/// Fetches one task's body on an async client; the CPU work is the caller's,
/// so strategies can run it inline or ship it elsewhere. `run_start_ns` is
/// when the strategy's run started ([`mono_now_ns`]).
pub async fn fetch_async(
    client: &reqwest::Client,
    base_url: &str,
    seed: u64,
    spec: &TaskSpec,
    run_start_ns: u64,
) -> Fetched {
    let url = work_url(base_url, seed, spec);
    let mut t = Stamps::new();
    let result = async {
        let resp = client.get(&url).send().await.map_err(|e| {
            if e.is_connect() {
                TaskError::Connect(error_chain(&e))
            } else {
                TaskError::Request(error_chain(&e))
            }
        })?;
        t.head = mono_now_ns();
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
    t.done = mono_now_ns();
    let latency_us = t.latency_us();
    match result {
        Ok((body, lateness)) => Fetched {
            body: Ok(body),
            latency_us,
            server_lateness_us: lateness,
            phases: t.phases(run_start_ns),
        },
        Err(e) => Fetched {
            body: Err(e),
            latency_us,
            server_lateness_us: None,
            phases: Phases::default(),
        },
    }
}

/// Runs one task on an async client with its CPU work inline; `run_start_ns`
/// as for [`fetch_async`].
pub async fn run_async(
    client: &reqwest::Client,
    base_url: &str,
    seed: u64,
    spec: &TaskSpec,
    run_start_ns: u64,
) -> TaskOutcome {
    let fetched = fetch_async(client, base_url, seed, spec, run_start_ns).await;
    let (result, cpu_us) = timed(|| match &fetched.body {
        Ok(body) => Ok(Completed::from_body(body, spec.cpu_units)),
        Err(e) => Err(e.clone()),
    });
    fetched.outcome(spec.id, result, cpu_us)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_clock_moves_forward_with_time() {
        let t0 = mono_now_ns();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let us = us_since(t0);
        assert!((5_000..1_000_000).contains(&us), "{us} µs");
        // Never negative: a start in the future reads as zero.
        assert_eq!(us_since(u64::MAX), 0);
    }

    #[test]
    fn response_and_body_add_up_to_the_latency_exactly() {
        // Nanosecond stamps whose microsecond parts would not add up if each
        // phase were rounded on its own.
        let t = Stamps {
            sent: 10_000_900,
            head: 10_021_899,
            done: 10_022_000,
        };
        let p = t.phases(1_000_000);
        assert_eq!(p.queued_us, 9_000);
        assert_eq!(p.response_us, 20);
        assert_eq!(p.response_us + p.body_us, t.latency_us());
        assert_eq!(t.latency_us(), 21);
        // A start after the send (a clock mix-up) reads as zero, never wraps.
        assert_eq!(t.phases(u64::MAX).queued_us, 0);
    }
}
