//! The mock server's integration tests, in one test binary: each test starts
//! a real server in-process on 127.0.0.1 port 0 and talks real HTTP to it,
//! with ureq where a well-behaved client will do and with a raw `TcpStream`
//! ([`raw`]) where the test must see exactly how a response ends. Every wait
//! is bounded by a read timeout or a deadline.
//!
//! - [`server`]: routes, payloads, latency, stats, in-flight counts, shutdown.
//! - [`faults`]: the injected faults (error, reset, stall, drip, rate limit)
//!   and their counters.
//! - [`caps`]: the safety caps (431 for oversized heads, 400 beyond the caps).

mod caps;
mod common;
mod faults;
mod raw;
mod server;
