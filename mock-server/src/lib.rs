//! A local mock HTTP API for concurrency benchmarks.
//!
//! `GET /work?id=&latency_us=&bytes=&seed=` answers `bytes` bytes that are a
//! deterministic function of (seed, id) ([`payload`]), after `latency_us`
//! microseconds measured from the moment the request's head was read. The
//! wait is precise below a millisecond (a timer thread of its own) and the server records how
//! late every answer was. `GET /stats` reports counters, lateness and the
//! server's own CPU ([`stats`]); `POST /stats/reset` starts a new lateness
//! window; `GET /health` answers `ok`.
//!
//! # Faults
//! The server can misbehave on purpose ([`faults`]), as a default for every
//! request ([`ServerConfig::faults`], flags `--stall-rate`, `--error-rate`,
//! `--reset-rate`, `--drip`, `--drip-rate`) or per request (query parameters
//! `stall_rate`, `error_rate`, `reset_rate`, `drip_us`, `drip_rate`, which
//! override the default for that request):
//! - **stall**: never answer; the request is held until the client leaves,
//!   the server shuts down or [`ServerConfig::stall_max`] passes;
//! - **error**: answer an error status ([`ServerConfig::error_statuses`],
//!   500 or 503 by default) after the latency; a 503 carries
//!   `Retry-After: 1` and `x-retry-after-ms`;
//! - **reset**: after the latency, send the head (full content-length) and
//!   about half the body, then reset the connection;
//! - **drip**: send the head after the latency, then the body in ten slices
//!   spread over the drip duration;
//! - **rate limit** ([`ServerConfig::rate_limit`], `--rate-limit 500/s`): a
//!   token bucket; a request finding no token is answered `429` at once, with
//!   `Retry-After` (whole seconds) and `x-retry-after-ms`.
//!
//! Every fault but the rate limit is a deterministic function of the
//! request's `(seed, id, attempt)` ([`Faults::decide`]), so every client
//! strategy meets exactly the same faults; a retry sends `attempt=1, 2, ...`
//! for a fresh draw. The rate limit depends on time and is not seeded.
//! `GET /stats` counts `requests` and each fault (`faults`, [`FaultStats`]).
//!
//! # Safety caps
//! A benchmark server must not be a liability on the machine it runs on: it
//! listens on loopback unless told otherwise, refuses (400) bodies, latencies
//! and drips above [`ServerConfig::max_bytes`], [`ServerConfig::max_latency`]
//! and [`ServerConfig::max_drip`], releases a stalled request after
//! [`ServerConfig::stall_max`], answers an oversized request head with 431
//! and closes the connection ([`ServerConfig::max_header_bytes`],
//! [`ServerConfig::max_headers`]), and touches no files.
//!
//! # Layout
//! - [`ServerConfig`], [`MockServer::start`] and [`ServerHandle`]: the library API
//!   (port 0, URL, stats, graceful shutdown).
//! - [`serve`]: the accept loop over a listener until a shutdown future resolves.
//! - [`cli`]: the flags shared by the `mock-server` binary and concbench's embedded server.
//! - [`faults`]: the seeded fault decisions and the rate limit.
//! - [`dist`], [`payload`], [`rng`], [`units`]: shared with the client, which
//!   must draw the same latencies and verify the same bytes.

mod body;
pub mod cli;
pub mod dist;
pub mod faults;
pub mod payload;
pub mod rng;
pub mod stats;
mod timer;
pub mod units;

use std::future::Future;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{oneshot, watch};

pub use dist::LatencyDist;
pub use faults::{Fault, Faults, Rate, RateLimit};
pub use stats::{FaultCounts, FaultStats, LatenessSummary, ServerStats};

use body::{Aborted, Drip, ResponseBody};
use faults::RateLimiter;
use rng::SplitMix64;
use stats::Counters;
use timer::PreciseTimer;

/// How the server behaves. Every field has a safe default ([`Default`]).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on; loopback and port 0 (any free port) by default,
    /// because a benchmark server must not be reachable from the network by accident.
    pub bind: SocketAddr,
    /// Latency for `/work` requests that carry no `latency_us`.
    pub default_latency: LatencyDist,
    /// Body length for `/work` requests that carry no `bytes`.
    pub default_bytes: usize,
    /// Runtime threads. One current-thread runtime is the default: on 2 cores
    /// a second server thread only takes CPU from the client (design.md).
    pub threads: usize,
    /// Seed for the latencies the server draws itself (requests without `latency_us`).
    pub seed: u64,
    /// Largest body a request may ask for; larger asks are answered 400.
    /// Bounds the memory one request can make the server allocate.
    pub max_bytes: usize,
    /// Longest latency a request may ask for; longer asks are answered 400.
    /// Bounds how long one request can hold a connection and a task.
    pub max_latency: Duration,
    /// Listen backlog: a burst of thousands of connects must not overflow it
    /// (tokio's default of 128 does, with 1 s SYN retries).
    pub backlog: u32,
    /// Faults every `/work` request may meet unless its query overrides them
    /// (none by default): lets a benchmark show how each concurrency model
    /// copes with errors, resets, stalls and slow bodies, seeded so that every
    /// strategy meets the same ones.
    pub faults: Faults,
    /// Statuses an error fault answers with, one drawn per request from
    /// `(seed, id, attempt)`; 500 and 503 by default (a 503 tells the client
    /// when to retry, a 500 does not). Empty means 500.
    pub error_statuses: Vec<u16>,
    /// The token bucket in front of `/work` (none by default): exercises
    /// client back-off on 429. Time-based, hence the one fault not seeded.
    pub rate_limit: Option<RateLimit>,
    /// Longest a stalled request is held before its connection is closed
    /// (10 min by default): a stall must not hold a socket and a task forever
    /// when the client has no timeout.
    pub stall_max: Duration,
    /// Longest drip a request may ask for (`drip_us`, or the default drip);
    /// longer asks are answered 400. Bounds how long one body can hold a connection.
    pub max_drip: Duration,
    /// Largest request head (request line and headers) in bytes; a larger one
    /// is answered 431 and the connection closed. A benchmark client never
    /// needs more than a few hundred bytes; the bound keeps a runaway client
    /// from making the server buffer without limit.
    pub max_header_bytes: usize,
    /// Most headers a request may carry; more is answered 431 and the
    /// connection closed, so a client cannot make the server parse without
    /// limit. 100 by default: hyper's own bound, which costs nothing per
    /// request; any other value makes hyper size its header buffers per
    /// request (on the heap above 100), a few per cent of a request's CPU.
    pub max_headers: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            default_latency: LatencyDist::Fixed(Duration::ZERO),
            default_bytes: 4096,
            threads: 1,
            seed: 0,
            max_bytes: 64 << 20,
            max_latency: Duration::from_secs(600),
            backlog: 4096,
            faults: Faults::NONE,
            error_statuses: vec![500, 503],
            rate_limit: None,
            stall_max: Duration::from_secs(600),
            max_drip: Duration::from_secs(600),
            max_header_bytes: 16 * 1024,
            max_headers: HYPER_MAX_HEADERS,
        }
    }
}

/// hyper's default bound on request headers, kept on the stack.
const HYPER_MAX_HEADERS: usize = 100;

/// What every connection's handler shares.
struct Shared {
    config: ServerConfig,
    counters: Counters,
    timer: PreciseTimer,
    /// Draws latencies for requests that carry none.
    default_rng: Mutex<SplitMix64>,
    /// The token bucket, when [`ServerConfig::rate_limit`] is set.
    limiter: Option<RateLimiter>,
    /// Turns `true` when the server starts shutting down: stalled requests
    /// let go of their connections so they cannot hold the shutdown.
    shutting_down: watch::Sender<bool>,
    /// Kernel thread ids of the server's threads, for its CPU accounting.
    tids: Arc<Mutex<Vec<i32>>>,
    started: Instant,
}

impl Shared {
    fn new(config: ServerConfig, timer: PreciseTimer, tids: Arc<Mutex<Vec<i32>>>) -> Self {
        Self {
            default_rng: Mutex::new(SplitMix64::new(config.seed)),
            limiter: config.rate_limit.map(RateLimiter::new),
            shutting_down: watch::Sender::new(false),
            config,
            counters: Counters::new(),
            timer,
            tids,
            started: Instant::now(),
        }
    }

    fn stats(&self) -> ServerStats {
        use std::sync::atomic::Ordering::Relaxed;
        let tids = self.tids.lock().expect("tids lock").clone();
        let (cpu_user_s, cpu_sys_s) = stats::threads_cpu_s(&tids);
        let c = &self.counters;
        ServerStats {
            pid: std::process::id(),
            served: c.served.load(Relaxed),
            in_flight: c.in_flight.load(Relaxed),
            max_in_flight: c.max_in_flight.load(Relaxed),
            bytes_sent: c.bytes_sent.load(Relaxed),
            bad_requests: c.bad_requests.load(Relaxed),
            busy_s: c.busy_us.load(Relaxed) as f64 / 1e6,
            lateness_us: c.lateness(),
            cpu_user_s,
            cpu_sys_s,
            threads: tids.len(),
            uptime_s: self.started.elapsed().as_secs_f64(),
        }
    }
}

/// Starts servers; see [`MockServer::start`].
pub struct MockServer;

impl MockServer {
    /// Starts a server on its own thread(s) and returns once it is listening.
    pub fn start(config: ServerConfig) -> std::io::Result<ServerHandle> {
        raise_fd_limit();
        let tids = Arc::new(Mutex::new(Vec::new()));
        let timer_tids = tids.clone();
        let timer = PreciseTimer::start(move || {
            timer_tids.lock().expect("tids lock").push(stats::gettid());
        })?;
        let shared = Arc::new(Shared::new(config, timer, tids));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("mock-server".into())
            .spawn(move || {
                let shared = thread_shared;
                shared.tids.lock().expect("tids lock").push(stats::gettid());
                let runtime = match build_runtime(&shared) {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match bind(shared.config.bind, shared.config.backlog) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(listener.local_addr());
                    serve_shared(listener, shared, async {
                        let _ = shutdown_rx.await;
                    })
                    .await;
                });
            })?;
        let addr = ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("mock server thread died while starting"))??;
        Ok(ServerHandle {
            addr,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }
}

/// A running server. Dropping it shuts the server down (gracefully, bounded).
pub struct ServerHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The address it listens on (the real port when started on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://addr`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The same snapshot `GET /stats` serves.
    pub fn stats(&self) -> ServerStats {
        self.shared.stats()
    }

    /// Requests received and faults met, as served in `GET /stats` next to [`Self::stats`].
    pub fn fault_stats(&self) -> FaultStats {
        self.shared.counters.fault_stats()
    }

    /// Starts a new lateness and max-in-flight window (as `POST /stats/reset`).
    pub fn reset_stats(&self) {
        self.shared.counters.reset();
    }

    /// Stops accepting, lets requests in flight finish (at most 5 s), and joins the server thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

fn build_runtime(shared: &Arc<Shared>) -> std::io::Result<tokio::runtime::Runtime> {
    if shared.config.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        let tids = shared.tids.clone();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(shared.config.threads)
            .thread_name("mock-server-worker")
            .on_thread_start(move || tids.lock().expect("tids lock").push(stats::gettid()))
            .enable_all()
            .build()
    }
}

/// Binds with an explicit backlog and address reuse (tokio's `bind` uses 128).
fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Raises the soft open-file limit to the hard limit: thousands of
/// connections need more than the usual 1024.
pub fn raise_fd_limit() {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
}

/// Serves `listener` with `config` until `shutdown` resolves, then drains
/// connections (at most 5 s). For callers that own their runtime and listener.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let tids = Arc::new(Mutex::new(vec![stats::gettid()]));
    let timer_tids = tids.clone();
    let timer =
        PreciseTimer::start(move || timer_tids.lock().expect("tids lock").push(stats::gettid()))?;
    let shared = Arc::new(Shared::new(config, timer, tids));
    serve_shared(listener, shared, shutdown).await;
    Ok(())
}

async fn serve_shared(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let cfg = &shared.config;
    let mut http = hyper::server::conn::http1::Builder::new();
    // Bounds the request head (431 and close beyond it); the buffer bound
    // (hyper's minimum is 8 KiB) catches a head that never ends.
    http.max_buf_size(cfg.max_header_bytes.max(64 * 1024))
        .max_header_size(cfg.max_header_bytes)
        .keep_alive(true);
    if cfg.max_headers != HYPER_MAX_HEADERS {
        // Costs a per-request buffer in hyper: only when asked for.
        http.max_headers(cfg.max_headers);
    }
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    // For the reset fault, which needs to set SO_LINGER on the socket.
                    let fd = stream.as_raw_fd();
                    let service = service_fn(move |req| handle(req, shared.clone(), fd));
                    let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                Err(_) => {
                    // EMFILE, ECONNABORTED, ...: back off briefly instead of spinning or dying.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    // Stalled requests close their connections now instead of holding the drain.
    shared.shutting_down.send_replace(true);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
}

type Resp = Response<ResponseBody>;

fn text(status: StatusCode, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(ResponseBody::full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Serves one request. An `Err` makes hyper close the connection without an
/// answer (how a stalled request lets go).
async fn handle(req: Request<Incoming>, shared: Arc<Shared>, fd: RawFd) -> Result<Resp, Aborted> {
    let arrived = Instant::now();
    let resp = match (req.method(), req.uri().path()) {
        (&Method::GET, "/work") => {
            return work(req.uri().query().unwrap_or(""), arrived, &shared, fd).await
        }
        (&Method::GET, "/health") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/stats") => {
            let json = stats::StatsJson {
                server: &shared.stats(),
                faults: &shared.counters.fault_stats(),
            };
            let body = serde_json::to_vec(&json).expect("stats serialise");
            let mut r = text(StatusCode::OK, body);
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        (&Method::POST, "/stats/reset") => {
            shared.counters.reset();
            text(StatusCode::OK, "reset\n")
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try GET /work, /stats or /health\n",
        ),
    };
    Ok(resp)
}

/// The parameters of one `/work` request.
#[derive(Debug, Default, PartialEq)]
struct WorkQuery {
    id: u64,
    latency_us: Option<u64>,
    bytes: Option<usize>,
    seed: u64,
    /// 0 for the first try of a task, 1, 2, ... for its retries: a fresh fault draw.
    attempt: u64,
    stall_rate: Option<f64>,
    error_rate: Option<f64>,
    reset_rate: Option<f64>,
    drip_us: Option<u64>,
    drip_rate: Option<f64>,
}

fn parse_work_query(query: &str) -> Result<WorkQuery, String> {
    let mut q = WorkQuery::default();
    let mut have_id = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{k}={v} is not a whole number"))
        };
        let fraction = |v: &str| {
            faults::parse_fraction(v)
                .map_err(|_| format!("{k}={v} is not a fraction between 0 and 1"))
        };
        match k {
            "id" => {
                q.id = num(v)?;
                have_id = true;
            }
            "latency_us" => q.latency_us = Some(num(v)?),
            "bytes" => q.bytes = Some(num(v)? as usize),
            "seed" => q.seed = num(v)?,
            "attempt" => q.attempt = num(v)?,
            "stall_rate" => q.stall_rate = Some(fraction(v)?),
            "error_rate" => q.error_rate = Some(fraction(v)?),
            "reset_rate" => q.reset_rate = Some(fraction(v)?),
            "drip_us" => q.drip_us = Some(num(v)?),
            "drip_rate" => q.drip_rate = Some(fraction(v)?),
            _ => {}
        }
    }
    if !have_id {
        return Err("id is required: /work?id=N[&latency_us=][&bytes=][&seed=]".into());
    }
    Ok(q)
}

async fn work(
    query: &str,
    arrived: Instant,
    shared: &Arc<Shared>,
    fd: RawFd,
) -> Result<Resp, Aborted> {
    use std::sync::atomic::Ordering::Relaxed;
    let cfg = &shared.config;
    let c = &shared.counters;
    Counters::bump(&c.requests);
    let bad = |msg: String| {
        Counters::bump(&c.bad_requests);
        Ok(text(StatusCode::BAD_REQUEST, msg + "\n"))
    };
    let q = match parse_work_query(query) {
        Ok(q) => q,
        Err(msg) => return bad(msg),
    };
    let bytes = q.bytes.unwrap_or(cfg.default_bytes);
    if bytes > cfg.max_bytes {
        return bad(format!(
            "bytes={bytes} is above this server's cap of {}",
            cfg.max_bytes
        ));
    }
    let latency = match q.latency_us {
        Some(us) => Duration::from_micros(us),
        None => cfg
            .default_latency
            .sample(&mut shared.default_rng.lock().expect("rng lock")),
    };
    if latency > cfg.max_latency {
        return bad(format!(
            "latency_us={} is above this server's cap of {}",
            latency.as_micros(),
            units::format_duration(cfg.max_latency)
        ));
    }
    // The server's faults, overridden parameter by parameter by the query.
    let mut faults = cfg.faults;
    if let Some(r) = q.stall_rate {
        faults.stall_rate = r;
    }
    if let Some(r) = q.error_rate {
        faults.error_rate = r;
    }
    if let Some(r) = q.reset_rate {
        faults.reset_rate = r;
    }
    if let Some(us) = q.drip_us {
        faults.drip = Duration::from_micros(us);
    }
    if let Some(r) = q.drip_rate {
        faults.drip_rate = r;
    }
    if faults.drip > cfg.max_drip {
        return bad(format!(
            "drip_us={} is above this server's cap of {}",
            faults.drip.as_micros(),
            units::format_duration(cfg.max_drip)
        ));
    }
    if let Some(limiter) = &shared.limiter {
        if let Err(wait) = limiter.acquire(arrived) {
            Counters::bump(&c.fault_rate_limited);
            return Ok(too_many_requests(wait));
        }
    }
    // No draw at all on the common path of a server without faults.
    let fault = if faults.is_none() {
        None
    } else {
        faults.decide(&cfg.error_statuses, q.seed, q.id, q.attempt)
    };
    let in_flight = c.enter();
    let deadline = arrived + latency;
    match fault {
        None => {}
        Some(Fault::Stall) => {
            Counters::bump(&c.fault_stall);
            // Boxed: keeps the future of every other request small.
            Box::pin(hold_stalled(shared)).await;
            drop(in_flight);
            return Err(Aborted("stall fault: the request was never answered"));
        }
        Some(Fault::Error { status }) => {
            Counters::bump(&c.fault_error);
            shared.timer.sleep_until(deadline).await;
            return Ok(error_response(status));
        }
        Some(Fault::Reset) => Counters::bump(&c.fault_reset),
        Some(Fault::Drip { .. }) => Counters::bump(&c.fault_drip),
    }
    // Built before the wait so the answer leaves right at the deadline.
    let body = Bytes::from(payload::generate(q.seed, q.id, bytes));
    shared.timer.sleep_until(deadline).await;
    let answered = Instant::now();
    let lateness_us = answered.saturating_duration_since(deadline).as_micros() as u64;
    let body = match fault {
        // An empty body cannot be cut short: close before the head instead.
        Some(Fault::Reset) if bytes == 0 => {
            return Err(Aborted("reset fault: connection closed before the head"));
        }
        Some(Fault::Reset) => {
            c.bytes_sent.fetch_add((bytes / 2) as u64, Relaxed);
            ResponseBody::Reset(Box::new(body::Reset::new(body, fd)))
        }
        // An empty body has nothing to drip: it is answered at once.
        Some(Fault::Drip { over }) if bytes > 0 => {
            shared.counters.record_lateness(lateness_us);
            // The body keeps the request in flight and counts it served at its last byte.
            in_flight.hand_over();
            ResponseBody::Drip(Box::new(Drip::start(body, over, shared.clone(), arrived)))
        }
        _ => {
            c.record_lateness(lateness_us);
            c.busy_us.fetch_add(
                answered.saturating_duration_since(arrived).as_micros() as u64,
                Relaxed,
            );
            Counters::bump(&c.served);
            c.bytes_sent.fetch_add(bytes as u64, Relaxed);
            ResponseBody::full(body)
        }
    };
    let mut r = Response::new(body);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    r.headers_mut()
        .insert("x-lateness-us", HeaderValue::from(lateness_us));
    Ok(r)
}

/// Holds a stalled request until the server shuts down or `stall_max`
/// passes; if the client leaves first, hyper drops this future.
async fn hold_stalled(shared: &Shared) {
    let mut shutting_down = shared.shutting_down.subscribe();
    tokio::select! {
        _ = shutting_down.wait_for(|down| *down) => {}
        () = tokio::time::sleep(shared.config.stall_max) => {}
    }
}

/// The suggested wait of a 503 from the error fault, in milliseconds.
const ERROR_RETRY_AFTER_MS: u64 = 10;

/// The answer of the error fault. 503 and 429 say when to retry: `Retry-After`
/// in whole seconds (HTTP's unit) and `x-retry-after-ms`, fine enough for a benchmark.
fn error_response(status: u16) -> Resp {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = text(status, "injected fault: error (error_rate)\n");
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        set_retry_after(&mut r, Duration::from_millis(ERROR_RETRY_AFTER_MS));
    }
    r
}

/// The rate limit's answer: 429 with when a token will be available.
fn too_many_requests(wait: Duration) -> Resp {
    let mut r = text(
        StatusCode::TOO_MANY_REQUESTS,
        "rate limited: see x-retry-after-ms\n",
    );
    set_retry_after(&mut r, wait);
    r
}

/// `Retry-After` in whole seconds, rounded up and at least 1, and
/// `x-retry-after-ms` in milliseconds, rounded up and at least 1.
fn set_retry_after(r: &mut Resp, wait: Duration) {
    let ms = wait.as_nanos().div_ceil(1_000_000).max(1) as u64;
    let secs = ms.div_ceil(1_000).max(1);
    r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
    r.headers_mut()
        .insert("x-retry-after-ms", HeaderValue::from(ms));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_queries_parse_and_id_is_required() {
        assert_eq!(
            parse_work_query("id=3&latency_us=200&bytes=10&seed=9").unwrap(),
            WorkQuery {
                id: 3,
                latency_us: Some(200),
                bytes: Some(10),
                seed: 9,
                ..Default::default()
            }
        );
        assert!(parse_work_query("latency_us=5")
            .unwrap_err()
            .contains("id is required"));
        assert!(parse_work_query("id=x").unwrap_err().contains("id=x"));
    }

    #[test]
    fn fault_parameters_parse_and_bad_ones_are_named() {
        assert_eq!(
            parse_work_query(
                "id=1&attempt=2&stall_rate=0&error_rate=0.5&reset_rate=1&drip_us=300&drip_rate=0.25"
            )
            .unwrap(),
            WorkQuery {
                id: 1,
                attempt: 2,
                stall_rate: Some(0.0),
                error_rate: Some(0.5),
                reset_rate: Some(1.0),
                drip_us: Some(300),
                drip_rate: Some(0.25),
                ..Default::default()
            }
        );
        for (query, named) in [
            ("id=1&error_rate=2", "error_rate=2"),
            ("id=1&reset_rate=x", "reset_rate=x"),
            ("id=1&stall_rate=-1", "stall_rate=-1"),
            ("id=1&drip_rate=", "drip_rate="),
            ("id=1&drip_us=1ms", "drip_us=1ms"),
            ("id=1&attempt=-1", "attempt=-1"),
        ] {
            let err = parse_work_query(query).unwrap_err();
            assert!(err.contains(named), "{query}: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_milliseconds() {
        let headers = |wait| {
            let mut r = text(StatusCode::TOO_MANY_REQUESTS, "");
            set_retry_after(&mut r, wait);
            let h = |n: &str| r.headers()[n].to_str().unwrap().to_string();
            (h("retry-after"), h("x-retry-after-ms"))
        };
        assert_eq!(headers(Duration::from_micros(1)), ("1".into(), "1".into()));
        assert_eq!(
            headers(Duration::from_micros(2_001)),
            ("1".into(), "3".into())
        );
        assert_eq!(
            headers(Duration::from_millis(1_000)),
            ("1".into(), "1000".into())
        );
        assert_eq!(
            headers(Duration::from_millis(1_001)),
            ("2".into(), "1001".into())
        );
    }
}
