//! The blocking client (ureq): a truly blocking agent for the blocking
//! strategies and the process workers. `reqwest::blocking` runs a hidden
//! runtime thread per client and hops every request through it, so a
//! "thread pool" built on it would not be a thread pool.

use std::sync::Arc;

use super::attempt::{
    lateness, retry_after, work_url, AttemptResult, Attempts, Fetched, Next, Stamps,
};
use super::endpoint::MAX_BODY_BYTES;
use super::{sleep_interruptible, ConnectionMode, Endpoint, Session};
use crate::sys::clock::mono_now_ns;
use crate::task::error::limit_error;
use crate::task::{TaskError, TaskOutcome, TaskSpec};

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

    /// What every request of this client's run shares.
    pub fn session(&self) -> &Session {
        &self.session
    }
}

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
    if let Some(u) = &s.user {
        let input = u.0.fetch_blocking(spec.id);
        t.head = mono_now_ns();
        return input
            .map(|b| (b, None))
            .map_err(|e| (TaskError::User(e), None));
    }
    if let Some(e) = &s.endpoint {
        return attempt_endpoint(client, e, spec, t);
    }
    let url = work_url(&s.base_url, s.seed, spec, attempt, s.work);
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

/// One attempt at a user's endpoint: its method, headers and body, then its checks.
fn attempt_endpoint(
    client: &BlockingClient,
    e: &Endpoint,
    spec: &TaskSpec,
    t: &mut Stamps,
) -> AttemptResult<Vec<u8>> {
    let url = e.url(spec.id);
    let mut req = ureq::http::Request::builder()
        .method(e.method.name())
        .uri(&url);
    for (k, v) in e.headers(spec.id) {
        req = req.header(k, v);
    }
    let body = e.body(spec.id).unwrap_or_default().into_bytes();
    let req = req
        .body(body)
        .map_err(|err| (TaskError::Request(err.to_string()), None))?;
    let mut resp = client
        .agent
        .run(req)
        .map_err(|err| (ureq_error(err, false), None))?;
    t.head = mono_now_ns();
    let status = resp.status().as_u16();
    let wait = retry_after(resp.headers());
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_vec()
        .map_err(|err| (ureq_error(err, true), None))?;
    e.check(status, &body).map_err(|err| (err, wait))?;
    Ok((body, None))
}

/// Fetches one task's body on a blocking client, with the policy's pacing
/// and retries.
pub fn fetch_blocking(client: &BlockingClient, spec: &TaskSpec) -> Fetched<Vec<u8>> {
    let s = &*client.session;
    s.panic_if_asked(spec.id);
    if let Some(wait) = s.until_due(spec.id) {
        sleep_interruptible(wait);
    }
    let mut tries = Attempts::default();
    loop {
        if let Some(wait) = s.pace() {
            sleep_interruptible(wait);
        }
        if let Some(stopped) = tries.stopped(s) {
            return stopped;
        }
        let mut t = tries.start();
        let result = attempt_blocking(client, spec, tries.attempt, &mut t);
        match tries.finish(s, spec.id, t, result) {
            Next::Retry(wait) => sleep_interruptible(wait),
            Next::Done(fetched) => return fetched,
        }
    }
}

/// Runs one task on a blocking client: its attempts (paced by the rate
/// limiter, retried with backoff as the policy says), then the CPU work.
pub fn run_blocking(client: &BlockingClient, spec: &TaskSpec) -> TaskOutcome {
    fetch_blocking(client, spec).complete(spec, client.session())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::error::os_error;

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
        // hyper hides the I/O error deep in its source chain.
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
