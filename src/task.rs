//! One task end to end (request, body, CPU work) for the blocking and the
//! async clients, and what it produces.
//!
//! Strategies differ in how they schedule tasks, never in what a task does:
//! every strategy calls [`run_blocking`] or [`run_async`], so the work compared
//! is the same work. Each outcome also says where its time went ([`Phases`]),
//! on a clock every process shares ([`mono_now_ns`]).

use std::sync::Arc;
use std::time::Duration;

use mock_server::payload;
use serde::{Deserialize, Serialize};

use crate::client::{self, Session};
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
    /// EADDRNOTAVAIL: every ephemeral port is in use or in TIME_WAIT.
    #[error(
        "no free local port to connect from (EADDRNOTAVAIL): new connections came faster than \
         the ephemeral ports (32768-60999, each held 60 s in TIME_WAIT after use, about 470 \
         connections/s sustained) are freed; use --connection reuse, fewer tasks, or a client \
         rate limit such as --rate 400/s ({0})"
    )]
    PortsExhausted(String),
    /// EMFILE/ENFILE: the process may not open another file descriptor.
    #[error(
        "too many open files (EMFILE): every connection in flight holds a file descriptor and \
         this process may open at most {limit} (already raised to the hard limit); lower \
         --concurrency or raise the hard limit (ulimit -Hn) ({0})",
        limit = open_files_limit()
    )]
    FilesExhausted(String),
    #[error("server answered HTTP {0}")]
    Status(u16),
    #[error("reading the response failed: {0}")]
    Body(String),
    #[error("request failed: {0}")]
    Request(String),
    #[error("no answer within the timeout ({0}); raise --timeout if the server is that slow")]
    Timeout(String),
    #[error("{0}")]
    Deadline(String),
    #[error("{0}")]
    Cancelled(String),
    #[error("the worker running it was lost: {0}")]
    Worker(String),
}

impl TaskError {
    /// A stable name for counting failures by cause.
    pub fn cause(&self) -> &'static str {
        match self {
            TaskError::Connect(_) => "connect",
            TaskError::PortsExhausted(_) => "ports_exhausted",
            TaskError::FilesExhausted(_) => "files_exhausted",
            TaskError::Status(429) => "http_429",
            TaskError::Status(500) => "http_500",
            TaskError::Status(502) => "http_502",
            TaskError::Status(503) => "http_503",
            TaskError::Status(504) => "http_504",
            TaskError::Status(_) => "http_status",
            TaskError::Body(_) => "body",
            TaskError::Request(_) => "request",
            TaskError::Timeout(_) => "timeout",
            TaskError::Deadline(_) => "deadline",
            TaskError::Cancelled(_) => "cancelled",
            TaskError::Worker(_) => "worker",
        }
    }

    /// Whether the attempt never reached the server (no connection was made).
    pub fn unreached(&self) -> bool {
        matches!(
            self,
            TaskError::Connect(_) | TaskError::PortsExhausted(_) | TaskError::FilesExhausted(_)
        )
    }

    /// Whether another attempt could succeed: the connection, the wait or the
    /// body failed, or the server said it is throttling or failing (429, 5xx).
    pub fn retryable(&self) -> bool {
        match self {
            TaskError::Connect(_)
            | TaskError::PortsExhausted(_)
            | TaskError::FilesExhausted(_)
            | TaskError::Body(_)
            | TaskError::Request(_)
            | TaskError::Timeout(_) => true,
            TaskError::Status(s) => *s == 429 || (500..600).contains(s),
            TaskError::Deadline(_) | TaskError::Cancelled(_) | TaskError::Worker(_) => false,
        }
    }
}

/// The OS error code of the first I/O error in `e`'s source chain.
fn os_error(e: &(dyn std::error::Error + 'static)) -> Option<i32> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(code) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.raw_os_error())
        {
            return Some(code);
        }
        cur = err.source();
    }
    None
}

/// The failure an OS error code stands for when it means a client-side
/// limit (out of ports, out of file descriptors), as its constructor.
fn limit_error(code: Option<i32>) -> Option<fn(String) -> TaskError> {
    match code? {
        libc::EADDRNOTAVAIL => Some(TaskError::PortsExhausted),
        libc::EMFILE | libc::ENFILE => Some(TaskError::FilesExhausted),
        _ => None,
    }
}

/// This process's soft limit of open files.
pub fn open_files_limit() -> u64 {
    rlimit::Resource::NOFILE
        .get()
        .map(|(soft, _)| soft)
        .unwrap_or(0)
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
    /// Requests sent for this task: 1, plus one per retry (0 if none was sent).
    pub attempts: u32,
    /// Of those, the attempts that never reached the server (could not connect).
    pub unreached: u32,
}

/// Where one task's time went, in µs, measured on [`mono_now_ns`] (a clock
/// shared by every process, so worker processes measure against the parent's
/// start). Plain integers: it travels over IPC in postcard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phases {
    /// From the start of the strategy's run to sending this task's first
    /// request: waiting for a slot, a thread, a worker process (including
    /// starting it), the rate limiter, or the tasks ahead of it.
    pub queued_us: u64,
    /// From the first request to the last one: failed attempts and the
    /// backoffs between them (0 when the first attempt succeeded).
    pub retry_us: u64,
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

/// The URL of one attempt at a task's request. Retries carry `attempt=`, so
/// the server draws their faults afresh, and the same for every strategy;
/// the first attempt leaves it out (the server's default, 0).
pub fn work_url(base_url: &str, seed: u64, spec: &TaskSpec, attempt: u32) -> String {
    let mut url = format!(
        "{base_url}/work?id={}&latency_us={}&bytes={}&seed={seed}",
        spec.id, spec.latency_us, spec.bytes
    );
    if attempt > 0 {
        url.push_str(&format!("&attempt={attempt}"));
    }
    url
}

/// How long the server asked the client to wait before retrying:
/// `x-retry-after-ms` (the mock server's precise hint), else `Retry-After`
/// in whole seconds (HTTP dates are not supported: treated as absent).
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
    get("x-retry-after-ms")
        .map(Duration::from_millis)
        .or_else(|| get("retry-after").map(Duration::from_secs))
}

/// The server's `x-lateness-us`, if it sent one.
fn lateness(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get("x-lateness-us")
        .and_then(|v| v.to_str().ok()?.parse().ok())
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

    /// The phases up to the body; `response_us + body_us == latency_us()`
    /// exactly. `first_sent` is when the task's first attempt was sent.
    fn phases(&self, run_start_ns: u64, first_sent: u64) -> Phases {
        let response_us = us_between(self.sent, self.head);
        Phases {
            queued_us: us_between(run_start_ns, first_sent),
            retry_us: us_between(first_sent, self.sent),
            response_us,
            body_us: self.latency_us() - response_us.min(self.latency_us()),
            cpu_us: 0,
        }
    }
}

/// A blocking HTTP client for one worker: a ureq agent with `pool` idle
/// keep-alive connections (none under [`ConnectionMode::New`]) and the run's
/// [`Session`]. Cloning shares both.
#[derive(Clone)]
pub struct BlockingClient {
    agent: ureq::Agent,
    session: Arc<Session>,
}

impl BlockingClient {
    pub fn new(pool: usize, mode: ConnectionMode, session: Arc<Session>) -> Self {
        let idle = match mode {
            ConnectionMode::Reuse => pool.max(1),
            ConnectionMode::New => 0,
        };
        let timeout = Some(session.policy.timeout());
        let agent = ureq::Agent::config_builder()
            .max_idle_connections(idle)
            .max_idle_connections_per_host(idle)
            .http_status_as_error(false)
            // An HTTP_PROXY in the environment must not reroute loopback traffic.
            .proxy(None)
            .no_delay(true)
            // Idle timeouts, fixed per connection: set on the socket once,
            // unlike timeout_global, which re-arms it before every read.
            .timeout_connect(timeout)
            .timeout_per_read(timeout)
            .timeout_per_write(timeout)
            .build()
            .into();
        Self { agent, session }
    }
}

/// One attempt's result: the body and the server's lateness, or why not
/// (with how long the server asked us to wait).
type AttemptResult<B> = Result<(B, Option<u64>), (TaskError, Option<Duration>)>;

fn ureq_error(e: ureq::Error, in_body: bool) -> TaskError {
    let msg = e.to_string();
    match &e {
        ureq::Error::Timeout(which) => TaskError::Timeout(which.to_string()),
        ureq::Error::Io(io) => match limit_error(io.raw_os_error()) {
            Some(make) => make(io.to_string()),
            None if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                TaskError::Connect(io.to_string())
            }
            None if in_body => TaskError::Body(msg),
            None => TaskError::Request(msg),
        },
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => TaskError::Connect(msg),
        _ if in_body => TaskError::Body(msg),
        _ => TaskError::Request(msg),
    }
}

fn attempt_blocking(
    client: &BlockingClient,
    spec: &TaskSpec,
    attempt: u32,
    t: &mut Stamps,
) -> AttemptResult<Vec<u8>> {
    let s = &client.session;
    let url = work_url(&s.base_url, s.seed, spec, attempt);
    let mut resp = client
        .agent
        .get(&url)
        .call()
        .map_err(|e| (ureq_error(e, false), None))?;
    t.head = mono_now_ns();
    let status = resp.status().as_u16();
    if status != 200 {
        return Err((TaskError::Status(status), retry_after(resp.headers())));
    }
    let lateness = lateness(resp.headers());
    // One byte over the plan is enough to show the body is wrong.
    let body = resp
        .body_mut()
        .with_config()
        .limit(spec.bytes as u64 + 1)
        .read_to_vec()
        .map_err(|e| (ureq_error(e, true), None))?;
    Ok((body, lateness))
}

/// Fetches one task's body on a blocking client, with the policy's pacing
/// and retries.
pub fn fetch_blocking(client: &BlockingClient, spec: &TaskSpec) -> Fetched<Vec<u8>> {
    let s = &*client.session;
    let mut tries = Attempts::default();
    loop {
        if let Some(wait) = s.pace() {
            client::sleep_interruptible(wait);
        }
        if let Some(stopped) = tries.stopped(s) {
            return stopped;
        }
        let mut t = tries.start();
        let result = attempt_blocking(client, spec, tries.attempt, &mut t);
        match tries.finish(s, spec.id, t, result) {
            Next::Retry(wait) => client::sleep_interruptible(wait),
            Next::Done(fetched) => return fetched,
        }
    }
}

/// Runs one task on a blocking client: its attempts (paced by the rate
/// limiter, retried with backoff as the policy says), then the CPU work.
pub fn run_blocking(client: &BlockingClient, spec: &TaskSpec) -> TaskOutcome {
    fetch_blocking(client, spec).complete(spec)
}

/// An async HTTP client for one worker (clone it to share the pool) and the
/// run's [`Session`]; under [`ConnectionMode::New`] no connection is kept
/// idle, so each request opens one.
#[derive(Clone)]
pub struct AsyncClient {
    client: reqwest::Client,
    session: Arc<Session>,
}

impl AsyncClient {
    pub fn new(pool: usize, mode: ConnectionMode, session: Arc<Session>) -> anyhow::Result<Self> {
        let idle = match mode {
            ConnectionMode::Reuse => pool.max(1),
            ConnectionMode::New => 0,
        };
        let timeout = session.policy.timeout();
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(idle)
            .tcp_nodelay(true)
            // The same idle timeouts as the blocking client.
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .build()?;
        Ok(Self { client, session })
    }
}

/// What [`fetch_async`] or [`fetch_blocking`] got: the body, or why there is none.
#[derive(Debug, Clone)]
pub struct Fetched<B = bytes::Bytes> {
    pub body: Result<B, TaskError>,
    /// Send to last body byte of the last attempt, in µs.
    pub latency_us: u64,
    pub server_lateness_us: Option<u64>,
    /// Queued, retry, response and body; `cpu_us` is the caller's to fill
    /// in. All zero when the fetch failed.
    pub phases: Phases,
    /// Requests sent (1 + retries).
    pub attempts: u32,
    /// Of those, the attempts that never reached the server.
    pub unreached: u32,
}

impl<B: AsRef<[u8]>> Fetched<B> {
    /// The task's outcome with its CPU work done here, inline.
    pub fn complete(&self, spec: &TaskSpec) -> TaskOutcome {
        let (result, cpu_us) = timed(|| match &self.body {
            Ok(body) => Ok(Completed::from_body(body.as_ref(), spec.cpu_units)),
            Err(e) => Err(e.clone()),
        });
        self.outcome(spec.id, result, cpu_us)
    }

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
            attempts: self.attempts,
            unreached: self.unreached,
        }
    }
}

fn reqwest_error(e: &reqwest::Error, in_body: bool) -> TaskError {
    if e.is_timeout() {
        TaskError::Timeout(error_chain(e))
    } else if let Some(make) = limit_error(os_error(e)) {
        make(error_chain(e))
    } else if e.is_connect() {
        TaskError::Connect(error_chain(e))
    } else if in_body {
        TaskError::Body(error_chain(e))
    } else {
        TaskError::Request(error_chain(e))
    }
}

async fn attempt_async(
    client: &AsyncClient,
    spec: &TaskSpec,
    attempt: u32,
    t: &mut Stamps,
) -> AttemptResult<bytes::Bytes> {
    let s = &client.session;
    let url = work_url(&s.base_url, s.seed, spec, attempt);
    let resp = client
        .client
        .get(&url)
        .send()
        .await
        .map_err(|e| (reqwest_error(&e, false), None))?;
    t.head = mono_now_ns();
    let status = resp.status().as_u16();
    if status != 200 {
        return Err((TaskError::Status(status), retry_after(resp.headers())));
    }
    let lateness = lateness(resp.headers());
    let body = resp
        .bytes()
        .await
        .map_err(|e| (reqwest_error(&e, true), None))?;
    Ok((body, lateness))
}

/// Fetches one task's body on an async client, with the policy's pacing and
/// retries; the CPU work is the caller's, so strategies can run it inline or
/// ship it elsewhere.
pub async fn fetch_async(client: &AsyncClient, spec: &TaskSpec) -> Fetched {
    let s = &*client.session;
    let mut tries = Attempts::default();
    loop {
        if let Some(wait) = s.pace() {
            tokio::time::sleep(wait).await;
        }
        if let Some(stopped) = tries.stopped(s) {
            return stopped;
        }
        let mut t = tries.start();
        let result = attempt_async(client, spec, tries.attempt, &mut t).await;
        match tries.finish(s, spec.id, t, result) {
            Next::Retry(wait) => client::sleep_interruptible_async(wait).await,
            Next::Done(fetched) => return fetched,
        }
    }
}

/// Runs one task on an async client with its CPU work inline.
pub async fn run_async(client: &AsyncClient, spec: &TaskSpec) -> TaskOutcome {
    fetch_async(client, spec).await.complete(spec)
}

/// The bookkeeping of one task's attempts, the same on both clients: which
/// attempt this is, how many never reached the server, when the first was sent.
#[derive(Debug, Default)]
struct Attempts {
    /// 0-based number of the attempt about to be (or being) made.
    attempt: u32,
    unreached: u32,
    first_sent: Option<u64>,
}

/// What follows an attempt.
enum Next<B> {
    /// Wait this long, then try again.
    Retry(Duration),
    /// The fetch is over, with a body or for good.
    Done(Fetched<B>),
}

impl Attempts {
    /// The fetch's end if no attempt may start now (interrupted, or past the deadline).
    fn stopped<B>(&self, s: &Session) -> Option<Fetched<B>> {
        let e = s.stopped()?;
        Some(self.failed(e, self.attempt, 0))
    }

    /// Stamps the start of an attempt.
    fn start(&mut self) -> Stamps {
        let t = Stamps::new();
        self.first_sent.get_or_insert(t.sent);
        t
    }

    /// Settles an attempt: done with its body, done for good, or retry after a wait.
    fn finish<B>(
        &mut self,
        s: &Session,
        id: u64,
        mut t: Stamps,
        result: AttemptResult<B>,
    ) -> Next<B> {
        t.done = mono_now_ns();
        let attempts = self.attempt + 1;
        match result {
            Ok((body, lateness)) => Next::Done(Fetched {
                body: Ok(body),
                latency_us: t.latency_us(),
                server_lateness_us: lateness,
                phases: t.phases(s.run_start_ns, self.first_sent.unwrap_or(t.sent)),
                attempts,
                unreached: self.unreached,
            }),
            Err((e, asked)) => {
                self.unreached += e.unreached() as u32;
                match s.retry_wait(id, self.attempt, &e, asked) {
                    Some(wait) => {
                        self.attempt = attempts;
                        Next::Retry(wait)
                    }
                    None => Next::Done(self.failed(e, attempts, t.latency_us())),
                }
            }
        }
    }

    /// A failed fetch after `attempts` requests, the last taking `latency_us`.
    fn failed<B>(&self, e: TaskError, attempts: u32, latency_us: u64) -> Fetched<B> {
        Fetched {
            body: Err(e),
            latency_us,
            server_lateness_us: None,
            phases: Phases::default(),
            attempts,
            unreached: self.unreached,
        }
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
        let p = t.phases(1_000_000, 10_000_900);
        assert_eq!(p.queued_us, 9_000);
        assert_eq!(p.retry_us, 0);
        assert_eq!(p.response_us, 20);
        assert_eq!(p.response_us + p.body_us, t.latency_us());
        assert_eq!(t.latency_us(), 21);
        // A start after the send (a clock mix-up) reads as zero, never wraps.
        assert_eq!(t.phases(u64::MAX, 10_000_900).queued_us, 0);
    }

    #[test]
    fn running_out_of_ephemeral_ports_is_named_as_such_on_both_clients() {
        let io = || std::io::Error::from_raw_os_error(libc::EADDRNOTAVAIL);
        let e = ureq_error(ureq::Error::Io(io()), false);
        assert_eq!(e.cause(), "ports_exhausted");
        let msg = e.to_string();
        assert!(
            msg.contains("EADDRNOTAVAIL")
                && msg.contains("ephemeral ports")
                && msg.contains("--connection reuse"),
            "{msg}"
        );
        // reqwest hides the I/O error deep in its source chain.
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(os_error(&Outer(io())), Some(libc::EADDRNOTAVAIL));
        let emfile = std::io::Error::from_raw_os_error(libc::EMFILE);
        let e = ureq_error(ureq::Error::Io(emfile), false);
        assert_eq!(e.cause(), "files_exhausted");
        assert!(e.to_string().contains("--concurrency"), "{e}");
        assert_eq!(
            os_error(&Outer(std::io::Error::from_raw_os_error(
                libc::ECONNREFUSED
            ))),
            Some(libc::ECONNREFUSED)
        );
        // Refused connections stay `connect`, timeouts `timeout`.
        let refused = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(
            ureq_error(ureq::Error::Io(refused), false).cause(),
            "connect"
        );
    }
}
