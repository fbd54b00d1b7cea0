//! The server's configuration: [`ServerConfig`], what every field means and
//! its safe default.

use std::net::SocketAddr;
use std::time::Duration;

use crate::dist::LatencyDist;
use crate::faults::{Faults, RateLimit};

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
    /// a second server thread only takes CPU from the client, which runs on
    /// the same machine.
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
pub(crate) const HYPER_MAX_HEADERS: usize = 100;
