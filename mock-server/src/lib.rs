//! A local mock HTTP API for concurrency benchmarks.
//!
//! `GET /work?id=&latency_us=&bytes=&seed=` answers `bytes` bytes that are a
//! deterministic function of (seed, id) ([`payload`]), after `latency_us`
//! microseconds measured from the moment the request's head was read. The
//! wait is precise below a millisecond (a timer thread of its own) and the server records how
//! late every answer was. `GET /stats` reports counters, lateness and the
//! server's own CPU ([`stats`]); `GET /stats/ids?below=N` says which ids
//! `0..N` were requested other than exactly once ([`ids`]); `POST
//! /stats/reset` starts a new lateness window and zeroes the id counts;
//! `GET /health` answers `ok`.
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
//! - [`ServerConfig`] (`config.rs`): how the server behaves, with safe defaults.
//! - [`MockServer::start`], [`ServerHandle`] and [`serve()`] (`serve.rs`): the
//!   lifecycle (port 0, URL, stats, graceful shutdown) and the accept loop over
//!   a listener until a shutdown future resolves.
//! - `routes.rs`: the request routing and the handlers of `/work`, `/stats`
//!   and `/health`; `body.rs`: the whole, dripping and reset response bodies;
//!   `state.rs`: what every connection's handler shares; `timer.rs`: the
//!   precise timer.
//! - [`cli`]: the flags shared by the `mock-server` binary and concbench's embedded
//!   server, the fault flags ([`cli::FaultArgs`]) shared with `concbench run` too.
//! - [`faults`]: the seeded fault decisions and the rate limit.
//! - [`stats`]: the counters and what `GET /stats` serves.
//! - [`dist`], [`payload`], [`rng`], [`units`]: shared with the client, which
//!   must draw the same latencies and verify the same bytes.

// Linux only, said at compile time rather than as a pile of missing symbols.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "mock-server runs on Linux only: it reads its own CPU from /proc, tightens its timer with \
     prctl(PR_SET_TIMERSLACK) and, as a child, dies with its parent through \
     prctl(PR_SET_PDEATHSIG)"
);

mod body;
pub mod cli;
mod config;
pub mod dist;
pub mod faults;
pub mod ids;
pub mod payload;
pub mod posts;
pub mod rng;
mod routes;
mod serve;
mod state;
pub mod stats;
pub mod timer;
pub mod units;

pub use config::ServerConfig;
pub use dist::LatencyDist;
pub use faults::{Fault, Faults, Rate, RateLimit};
pub use ids::IdsReport;
pub use serve::{raise_fd_limit, serve, MockServer, ServerHandle};
pub use stats::{FaultCounts, FaultStats, LatenessSummary, ServerStats};
