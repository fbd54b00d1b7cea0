//! Everything between a task and the server: how connections are kept
//! ([`ConnectionMode`]), what every client does about slow, failing and
//! throttling servers ([`ClientPolicy`], [`Session`]), the one retry loop
//! both clients share, any endpoint that is not a mock server
//! ([`Endpoint`]: a URL template and the checks of its answers), and the two clients: [`BlockingClient`] (ureq) and
//! [`AsyncClient`] (hyper).

mod attempt;
mod blocking;
pub mod endpoint;
mod nonblocking;
mod policy;

use serde::{Deserialize, Serialize};

pub use attempt::{work_url, Fetched};
pub use blocking::{fetch_blocking, run_blocking, BlockingClient};
pub use endpoint::{Check, Endpoint, Method};
pub use nonblocking::{fetch_async, run_async, AsyncClient, Connections};
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

impl ConnectionMode {
    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            ConnectionMode::Reuse => "reuse",
            ConnectionMode::New => "new",
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn a_connection_mode_has_one_name_on_the_command_line_in_json_and_in_reports() {
        for m in ConnectionMode::value_variants() {
            let flag = m.to_possible_value().unwrap();
            assert_eq!(flag.get_name(), m.name());
            assert_eq!(serde_json::to_value(m).unwrap(), m.name());
        }
    }
}
