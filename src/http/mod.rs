//! Everything between a task and the server: how connections are kept
//! ([`ConnectionMode`]), what every client does about slow, failing and
//! throttling servers ([`ClientPolicy`], [`Session`]), the one retry loop
//! both clients share, and the two clients: [`BlockingClient`] (ureq) and
//! [`AsyncClient`] (reqwest).

mod attempt;
mod blocking;
mod nonblocking;
mod policy;

use serde::{Deserialize, Serialize};

pub use attempt::{work_url, Fetched};
pub use blocking::{fetch_blocking, run_blocking, BlockingClient};
pub use nonblocking::{fetch_async, run_async, AsyncClient};
pub use policy::{
    sleep_interruptible, sleep_interruptible_async, ClientPolicy, RateLimiter, Session,
};

/// Whether requests reuse keep-alive connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionMode {
    /// One keep-alive pool per worker (thread-based strategies share their process's pool).
    #[default]
    Reuse,
    /// A new TCP connection for every request: each one costs a connect and,
    /// after it closes, an ephemeral port held 60 s in TIME_WAIT.
    New,
}
