//! A local mock HTTP API for concurrency benchmarks.
//!
//! `GET /work?id=&latency_us=&bytes=&seed=` answers `bytes` bytes that are a
//! deterministic function of (seed, id) ([`payload`]), after `latency_us`
//! microseconds measured from the moment the request's head was read. The
//! wait is precise below a millisecond ([`timer`]) and the server records how
//! late every answer was. `GET /stats` reports counters, lateness and the
//! server's own CPU ([`stats`]); `POST /stats/reset` starts a new lateness
//! window; `GET /health` answers `ok`.
//!
//! # Layout
//! - [`ServerConfig`], [`MockServer::start`] and [`ServerHandle`]: the library API
//!   (port 0, URL, stats, graceful shutdown).
//! - [`serve`]: the accept loop over a listener until a shutdown future resolves.
//! - [`cli`]: the flags shared by the `mock-server` binary and concbench's embedded server.
//! - [`dist`], [`payload`], [`rng`], [`units`]: shared with the client, which
//!   must draw the same latencies and verify the same bytes.

pub mod cli;
pub mod dist;
pub mod payload;
pub mod rng;
pub mod stats;
mod timer;
pub mod units;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;

pub use dist::LatencyDist;
pub use stats::{LatenessSummary, ServerStats};

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
    pub max_bytes: usize,
    /// Longest latency a request may ask for; longer asks are answered 400.
    pub max_latency: Duration,
    /// Listen backlog: a burst of thousands of connects must not overflow it
    /// (tokio's default of 128 does, with 1 s SYN retries).
    pub backlog: u32,
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
        }
    }
}

/// What every connection's handler shares.
struct Shared {
    config: ServerConfig,
    counters: Counters,
    timer: PreciseTimer,
    /// Draws latencies for requests that carry none.
    default_rng: Mutex<SplitMix64>,
    /// Kernel thread ids of the server's threads, for its CPU accounting.
    tids: Arc<Mutex<Vec<i32>>>,
    started: Instant,
}

impl Shared {
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
        let shared = Arc::new(Shared {
            default_rng: Mutex::new(SplitMix64::new(config.seed)),
            config,
            counters: Counters::new(),
            timer,
            tids,
            started: Instant::now(),
        });
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
    let shared = Arc::new(Shared {
        default_rng: Mutex::new(SplitMix64::new(config.seed)),
        config,
        counters: Counters::new(),
        timer,
        tids,
        started: Instant::now(),
    });
    serve_shared(listener, shared, shutdown).await;
    Ok(())
}

async fn serve_shared(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // Bounds the request head: a benchmark client never needs more.
    http.max_buf_size(64 * 1024).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    let service = service_fn(move |req| handle(req, shared.clone()));
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
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
}

type Resp = Response<Full<Bytes>>;

fn text(status: StatusCode, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn handle(req: Request<Incoming>, shared: Arc<Shared>) -> Result<Resp, Infallible> {
    let arrived = Instant::now();
    let resp = match (req.method(), req.uri().path()) {
        (&Method::GET, "/work") => work(req.uri().query().unwrap_or(""), arrived, &shared).await,
        (&Method::GET, "/health") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/stats") => {
            let body = serde_json::to_vec(&shared.stats()).expect("stats serialise");
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
#[derive(Debug, PartialEq)]
struct WorkQuery {
    id: u64,
    latency_us: Option<u64>,
    bytes: Option<usize>,
    seed: u64,
}

fn parse_work_query(query: &str) -> Result<WorkQuery, String> {
    let mut q = WorkQuery {
        id: 0,
        latency_us: None,
        bytes: None,
        seed: 0,
    };
    let mut have_id = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{k}={v} is not a whole number"))
        };
        match k {
            "id" => {
                q.id = num(v)?;
                have_id = true;
            }
            "latency_us" => q.latency_us = Some(num(v)?),
            "bytes" => q.bytes = Some(num(v)? as usize),
            "seed" => q.seed = num(v)?,
            _ => {}
        }
    }
    if !have_id {
        return Err("id is required: /work?id=N[&latency_us=][&bytes=][&seed=]".into());
    }
    Ok(q)
}

async fn work(query: &str, arrived: Instant, shared: &Shared) -> Resp {
    let cfg = &shared.config;
    let bad = |msg: String| {
        shared
            .counters
            .bad_requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        text(StatusCode::BAD_REQUEST, msg + "\n")
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
    let _in_flight = shared.counters.enter();
    // Built before the wait so the answer leaves right at the deadline.
    let body = Bytes::from(payload::generate(q.seed, q.id, bytes));
    let deadline = arrived + latency;
    shared.timer.sleep_until(deadline).await;
    let answered = Instant::now();
    let lateness_us = answered.saturating_duration_since(deadline).as_micros() as u64;
    shared.counters.record_lateness(lateness_us);
    shared.counters.busy_us.fetch_add(
        answered.saturating_duration_since(arrived).as_micros() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    shared
        .counters
        .served
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    shared
        .counters
        .bytes_sent
        .fetch_add(bytes as u64, std::sync::atomic::Ordering::Relaxed);
    let mut r = Response::new(Full::new(body));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    r.headers_mut()
        .insert("x-lateness-us", HeaderValue::from(lateness_us));
    r
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
                seed: 9
            }
        );
        assert!(parse_work_query("latency_us=5")
            .unwrap_err()
            .contains("id is required"));
        assert!(parse_work_query("id=x").unwrap_err().contains("id=x"));
    }
}
