//! The async client (reqwest): one client per worker, cloned to share its
//! pool; no TLS, and no proxy discovery, so an `HTTP_PROXY` in the
//! environment cannot reroute loopback traffic.

use std::sync::Arc;

use super::attempt::{
    error_chain, lateness, retry_after, work_url, AttemptResult, Attempts, Fetched, Next, Stamps,
};
use super::endpoint::MAX_BODY_BYTES;
use super::{sleep_interruptible_async, ConnectionMode, Endpoint, Session};
use crate::sys::clock::mono_now_ns;
use crate::task::error::{limit_error, os_error};
use crate::task::{TaskError, TaskOutcome, TaskSpec};

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

    /// What every request of this client's run shares.
    pub fn session(&self) -> &Session {
        &self.session
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
    if let Some(u) = &s.user {
        let input = u.0.fetch(spec.id).await;
        t.head = mono_now_ns();
        return input
            .map(|b| (bytes::Bytes::from(b), None))
            .map_err(|e| (TaskError::User(e), None));
    }
    if let Some(e) = &s.endpoint {
        return attempt_endpoint(client, e, spec, t).await;
    }
    let url = work_url(&s.base_url, s.seed, spec, attempt, s.work);
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

/// One attempt at a user's endpoint: its method, headers and body, then its checks.
async fn attempt_endpoint(
    client: &AsyncClient,
    e: &Endpoint,
    spec: &TaskSpec,
    t: &mut Stamps,
) -> AttemptResult<bytes::Bytes> {
    let method = reqwest::Method::from_bytes(e.method.name().as_bytes())
        .map_err(|err| (TaskError::Request(err.to_string()), None))?;
    let mut req = client.client.request(method, e.url(spec.id));
    for (k, v) in e.headers(spec.id) {
        req = req.header(k, v);
    }
    if let Some(body) = e.body(spec.id) {
        req = req.body(body);
    }
    let resp = req
        .send()
        .await
        .map_err(|err| (reqwest_error(&err, false), None))?;
    t.head = mono_now_ns();
    let status = resp.status().as_u16();
    let wait = retry_after(resp.headers());
    if resp.content_length().is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err((
            TaskError::Body(format!("the body is over the {MAX_BODY_BYTES}-byte cap")),
            None,
        ));
    }
    let body = resp
        .bytes()
        .await
        .map_err(|err| (reqwest_error(&err, true), None))?;
    e.check(status, &body).map_err(|err| (err, wait))?;
    Ok((body, None))
}

/// Fetches one task's body on an async client, with the policy's pacing and
/// retries; the CPU work is the caller's, so strategies can run it inline or
/// ship it elsewhere.
pub async fn fetch_async(client: &AsyncClient, spec: &TaskSpec) -> Fetched {
    let s = &*client.session;
    s.panic_if_asked(spec.id);
    s.wait_until_due(spec.id).await;
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
            Next::Retry(wait) => sleep_interruptible_async(wait).await,
            Next::Done(fetched) => return fetched,
        }
    }
}

/// Runs one task on an async client with its CPU work inline.
pub async fn run_async(client: &AsyncClient, spec: &TaskSpec) -> TaskOutcome {
    fetch_async(client, spec)
        .await
        .complete(spec, client.session())
}
