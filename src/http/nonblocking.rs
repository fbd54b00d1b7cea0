//! The async client: HTTP/1.1 on hyper's connection API, with a keep-alive
//! pool of its own ([`Connections`]) and nothing between a task and the
//! socket but the request itself.
//!
//! Why not reqwest, which the first version used: at 0 ms latency its
//! layers were most of the client's user CPU (measured with perf, 50
//! connections, 16-byte bodies). Each request parsed its URL twice over
//! (once from our string, and once more from the `Uri` for the redirect
//! policy, through `Display`), went through the redirect and retry layers,
//! and armed a boxed timer for the head and another for the body. concbench
//! needs none of that: plain `http://` to one host, no redirects, its own
//! retry loop ([`super::attempt`]). Here a request is a method, an
//! origin-form path, a `Host` header and a body; the pool is a list of idle
//! connections; and a connection can be opened before the measured window
//! ([`Connections::preconnect`], `--preconnect`), which reqwest's pool cannot.
//!
//! A run whose body size is known (the plan's `bytes`) reads each answer
//! in one read where it fits ([`read_size`]): hyper's adaptive buffer
//! starts at 8 KiB, so a 16 KiB answer took two reads, two wake-ups and a
//! copy to join its two pieces. With 10,000 connections answering at once
//! (`-c 10k -l 1s`, 16 KiB) that was 0.42 core-seconds of the client's CPU
//! in the answers' burst; read whole, 0.24–0.29.
//!
//! No TLS and no proxy: an `HTTP_PROXY` in the environment cannot reroute
//! loopback traffic.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

use super::attempt::{
    error_chain, lateness, push_work_query, retry_after, AttemptResult, Attempts, Fetched, Next,
    Stamps,
};
use super::endpoint::{http_parts, MAX_BODY_BYTES};
use super::{sleep_interruptible_async, ConnectionMode, Endpoint, Session};
use crate::sys::clock::mono_now_ns;
use crate::task::error::{limit_error, os_error};
use crate::task::{TaskError, TaskOutcome, TaskSpec};

type Sender = SendRequest<Full<Bytes>>;

/// The keep-alive connections of one client to its one host: idle ones wait
/// in a list, a request takes one (or opens one) and gives it back after
/// the body, so with C requests in flight at most C are open.
#[derive(Debug)]
pub struct Connections {
    /// `host:port`, to connect to.
    authority: Arc<str>,
    /// The same, as every request's `Host` header.
    host: http::HeaderValue,
    idle: Mutex<Vec<Sender>>,
    /// Idle connections kept at most (0 under [`ConnectionMode::New`]:
    /// every request opens one and closes it).
    max_idle: usize,
    /// The idle timeout: for a connect, a response head, each piece of a body.
    timeout: Duration,
    /// Every read's size on a connection ([`read_size`]); `None`: hyper's
    /// adaptive buffer (8 KiB, doubling while reads fill it).
    read_bytes: Option<usize>,
}

/// Room for an answer's head beside its body in one read (the mock
/// server's head is about 150 bytes).
const HEAD_ROOM_BYTES: usize = 1024;

/// The most a read buffer may hold: hyper's own default cap (8 KiB plus
/// 100 × 4 KiB). An answer larger than that is read as hyper would.
const MAX_READ_BYTES: usize = 8192 + 4096 * 100;

/// The read size for answers whose bodies hold at most `body_bytes`: the
/// whole answer (head room included) where it fits [`MAX_READ_BYTES`], at
/// least hyper's 8 KiB minimum; `None` (hyper's adaptive buffer) when the
/// body size is unknown (0) or too large for one read.
fn read_size(body_bytes: usize) -> Option<usize> {
    let whole = body_bytes.checked_add(HEAD_ROOM_BYTES)?;
    (body_bytes > 0 && whole <= MAX_READ_BYTES).then_some(whole.max(8192))
}

impl Connections {
    fn new(
        authority: &str,
        max_idle: usize,
        timeout: Duration,
        read_bytes: Option<usize>,
    ) -> anyhow::Result<Self> {
        let host = http::HeaderValue::from_str(authority)
            .map_err(|_| anyhow::anyhow!("{authority}: not a host:port a header can carry"))?;
        Ok(Self {
            authority: authority.into(),
            host,
            idle: Mutex::new(Vec::with_capacity(max_idle.min(1 << 16))),
            max_idle,
            timeout,
            read_bytes,
        })
    }

    /// An idle connection that is still open and ready, else a new one.
    async fn checkout(&self) -> Result<Sender, TaskError> {
        loop {
            let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let Some(mut s) = idle else {
                return self.open().await;
            };
            // A connection whose last answer was just read turns ready as
            // soon as its task has seen the end; one the server closed while
            // idle errs here and is dropped for the next.
            if !s.is_closed()
                && matches!(
                    tokio::time::timeout(self.timeout, s.ready()).await,
                    Ok(Ok(()))
                )
            {
                return Ok(s);
            }
        }
    }

    /// Gives a connection back after its response was read to the end.
    fn give_back(&self, s: Sender) {
        if self.max_idle == 0 || s.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.max_idle {
            idle.push(s);
        }
    }

    /// Opens `n` connections (at most the pool's size) and keeps them idle,
    /// at most 256 connects at a time so the server's accept backlog is
    /// never overrun (an overrun SYN is retried after a second). Returns how
    /// many are idle now.
    pub async fn preconnect(&self, n: usize) -> Result<usize, TaskError> {
        const AT_ONCE: usize = 256;
        let want = n.min(self.max_idle);
        let mut opened = Vec::with_capacity(want);
        while opened.len() < want {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..(want - opened.len()).min(AT_ONCE) {
                let (authority, timeout, read) =
                    (self.authority.clone(), self.timeout, self.read_bytes);
                set.spawn(async move { open(&authority, timeout, read).await });
            }
            while let Some(r) = set.join_next().await {
                match r {
                    Ok(Ok(s)) => opened.push(s),
                    Ok(Err(e)) => return Err(e),
                    Err(e) => return Err(TaskError::Worker(e.to_string())),
                }
            }
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.extend(opened);
        Ok(idle.len())
    }

    /// A new connection of this pool's.
    async fn open(&self) -> Result<Sender, TaskError> {
        open(&self.authority, self.timeout, self.read_bytes).await
    }
}

/// Opens one connection to `authority`: TCP (no Nagle), then the HTTP/1.1
/// handshake (reads of `read_bytes`, else hyper's adaptive buffer); the
/// connection's own task runs on the current runtime until its sender is
/// dropped or the server closes it.
async fn open(
    authority: &str,
    timeout: Duration,
    read_bytes: Option<usize>,
) -> Result<Sender, TaskError> {
    let stream =
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(authority)).await {
            Err(_) => {
                return Err(TaskError::Timeout(format!(
                    "no connection to {authority} within {} ms",
                    timeout.as_millis()
                )))
            }
            Ok(Err(e)) => {
                let msg = format!("connecting to {authority}: {e}");
                return Err(match limit_error(e.raw_os_error()) {
                    Some(make) => make(msg),
                    None => TaskError::Connect(msg),
                });
            }
            Ok(Ok(s)) => s,
        };
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = http1::Builder::new()
        .read_buf_exact_size(read_bytes)
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| TaskError::Connect(error_chain(&e)))?;
    tokio::spawn(async move {
        // Its end (the server closed, or the sender was dropped) is seen by
        // the next request on it, through the sender.
        let _ = conn.await;
    });
    sender
        .ready()
        .await
        .map_err(|e| TaskError::Connect(error_chain(&e)))?;
    Ok(sender)
}

/// An async HTTP client for one worker (clone it to share its connections)
/// and the run's [`Session`].
#[derive(Clone)]
pub struct AsyncClient {
    conns: Arc<Connections>,
    session: Arc<Session>,
    /// The path of `/work` on the mock server (after the base URL's own path).
    work_path: Arc<str>,
}

impl AsyncClient {
    /// A client keeping up to `pool` idle connections (none under
    /// [`ConnectionMode::New`]) to the session's target.
    pub fn new(pool: usize, mode: ConnectionMode, session: Arc<Session>) -> anyhow::Result<Self> {
        let conns = Self::connections(pool, mode, &session)?;
        Ok(Self::with_connections(conns, session))
    }

    /// The connections a client for `session` would use, before there is a
    /// client: [`Connections::preconnect`] fills them before the measured
    /// window and its session exist.
    pub fn connections(
        pool: usize,
        mode: ConnectionMode,
        session: &Session,
    ) -> anyhow::Result<Arc<Connections>> {
        let max_idle = match mode {
            ConnectionMode::Reuse => pool.max(1),
            ConnectionMode::New => 0,
        };
        let authority = match (&session.endpoint, &session.user) {
            (Some(e), _) => e.authority(),
            // The user's own task makes no request: no host to connect to.
            (None, Some(_)) => String::new(),
            (None, None) => split_base(&session.base_url)?.0,
        };
        Ok(Arc::new(Connections::new(
            &authority,
            max_idle,
            session.policy.timeout(),
            read_size(session.body_bytes),
        )?))
    }

    /// A client on `conns` (opened for this session's target).
    pub fn with_connections(conns: Arc<Connections>, session: Arc<Session>) -> Self {
        let prefix = split_base(&session.base_url)
            .map(|(_, p)| p)
            .unwrap_or_default();
        Self {
            conns,
            work_path: format!("{prefix}/work").into(),
            session,
        }
    }

    /// What every request of this client's run shares.
    pub fn session(&self) -> &Session {
        &self.session
    }
}

/// `http://host:port/prefix` → (`host:port`, `/prefix`), port 80 if none.
fn split_base(base_url: &str) -> anyhow::Result<(String, String)> {
    let (authority, path) = http_parts(base_url)
        .ok_or_else(|| anyhow::anyhow!("{base_url}: only http:// targets are supported"))?;
    anyhow::ensure!(!authority.starts_with(':'), "{base_url}: no host");
    Ok((authority, path.trim_end_matches('/').to_string()))
}

fn request_error(e: &hyper::Error) -> TaskError {
    match limit_error(os_error(e)) {
        Some(make) => make(error_chain(e)),
        None => TaskError::Request(error_chain(e)),
    }
}

/// Sends `req` on an idle (or new) connection and reads the whole answer:
/// status, headers and body, the head stamped in `t`. A request that never
/// left because its idle connection had just been closed is sent again once
/// on a new one (as every keep-alive client does).
async fn exchange(
    client: &AsyncClient,
    mut req: http::Request<Full<Bytes>>,
    t: &mut Stamps,
) -> Result<(http::StatusCode, http::HeaderMap, Bytes), TaskError> {
    let c = &*client.conns;
    let timeout = c.timeout;
    let stalled = |what: &str| {
        TaskError::Timeout(format!(
            "the server sent no {what} within {} ms",
            timeout.as_millis()
        ))
    };
    if !req.headers().contains_key(http::header::HOST) {
        req.headers_mut().insert(http::header::HOST, c.host.clone());
    }
    let mut sender = c.checkout().await?;
    let sent = match tokio::time::timeout(timeout, sender.try_send_request(req)).await {
        Err(_) => return Err(stalled("response head")),
        Ok(Ok(resp)) => Ok(resp),
        Ok(Err(mut e)) => match e.take_message() {
            Some(again) => {
                sender = c.open().await?;
                match tokio::time::timeout(timeout, sender.send_request(again)).await {
                    Err(_) => return Err(stalled("response head")),
                    Ok(r) => r.map_err(|e| request_error(&e)),
                }
            }
            None => Err(request_error(e.error())),
        },
    };
    let resp = sent?;
    t.head = mono_now_ns();
    let (parts, mut body) = resp.into_parts();
    let over_cap = || TaskError::Body(format!("the body is over the {MAX_BODY_BYTES}-byte cap"));
    // What the server says the body holds: a body in pieces is gathered in
    // one buffer of that size, grown only if the server said too little.
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(over_cap());
    }
    let mut whole: Option<Bytes> = None;
    let mut more: Option<BytesMut> = None;
    loop {
        let frame = match tokio::time::timeout(timeout, body.frame()).await {
            Err(_) => return Err(stalled("more of the body")),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(TaskError::Body(error_chain(&e))),
            Ok(Some(Ok(f))) => f,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        // One piece (the usual case) is kept as it came, without a copy.
        match (&mut whole, &mut more) {
            (None, None) => whole = Some(data),
            (Some(first), None) => {
                let so_far = first.len() + data.len();
                let size = declared.map_or(so_far, |n| (n as usize).max(so_far));
                let mut m = BytesMut::with_capacity(size);
                m.extend_from_slice(first);
                m.extend_from_slice(&data);
                (whole, more) = (None, Some(m));
            }
            (_, Some(m)) => m.extend_from_slice(&data),
        }
        let len = whole.as_ref().map_or(0, Bytes::len) + more.as_ref().map_or(0, BytesMut::len);
        if len as u64 > MAX_BODY_BYTES {
            return Err(over_cap());
        }
    }
    c.give_back(sender);
    let body = match more {
        Some(m) => m.freeze(),
        None => whole.unwrap_or_default(),
    };
    Ok((parts.status, parts.headers, body))
}

async fn attempt_async(
    client: &AsyncClient,
    spec: &TaskSpec,
    attempt: u32,
    t: &mut Stamps,
) -> AttemptResult<Bytes> {
    let s = &client.session;
    if let Some(u) = &s.user {
        let input = u.0.fetch(spec.id).await;
        t.head = mono_now_ns();
        return input
            .map(|b| (Bytes::from(b), None))
            .map_err(|e| (TaskError::User(e), None));
    }
    if let Some(e) = &s.endpoint {
        return attempt_endpoint(client, e, spec, t).await;
    }
    let mut path = String::with_capacity(client.work_path.len() + 100);
    path.push_str(&client.work_path);
    path.push('?');
    push_work_query(&mut path, s.seed, spec, attempt, s.work);
    let req = http::Request::get(path)
        .body(Full::new(Bytes::new()))
        .map_err(|e| (TaskError::Request(e.to_string()), None))?;
    let (status, headers, body) = exchange(client, req, t).await.map_err(|e| (e, None))?;
    if status != http::StatusCode::OK {
        return Err((TaskError::Status(status.as_u16()), retry_after(&headers)));
    }
    Ok((body, lateness(&headers)))
}

/// One attempt at a user's endpoint: its method, headers and body, then its checks.
async fn attempt_endpoint(
    client: &AsyncClient,
    e: &Endpoint,
    spec: &TaskSpec,
    t: &mut Stamps,
) -> AttemptResult<Bytes> {
    let bad = |err: String| (TaskError::Request(err), None);
    let url = e.url(spec.id);
    let origin = origin_form(&url);
    let mut req = http::Request::builder()
        .method(e.method.name())
        .uri(origin.as_ref());
    for (k, v) in e.headers(spec.id) {
        req = req.header(k, v);
    }
    let body = e.body(spec.id).map(Bytes::from).unwrap_or_default();
    let req = req
        .body(Full::new(body))
        .map_err(|err| bad(format!("{url}: {err}")))?;
    let (status, headers, body) = exchange(client, req, t).await.map_err(|err| (err, None))?;
    let wait = retry_after(&headers);
    e.check(status.as_u16(), &body).map_err(|err| (err, wait))?;
    Ok((body, None))
}

/// The path and query of an `http://host/…` URL (`/` when there is none).
fn origin_form(url: &str) -> std::borrow::Cow<'_, str> {
    match http_parts(url).map_or("", |(_, rest)| rest) {
        "" => "/".into(),
        rest if rest.starts_with('?') => format!("/{rest}").into(),
        rest => rest.into(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_splits_into_where_to_connect_and_a_path_prefix() {
        let (a, p) = split_base("http://127.0.0.1:8080").unwrap();
        assert_eq!((a.as_str(), p.as_str()), ("127.0.0.1:8080", ""));
        let (a, p) = split_base("http://mock/api/").unwrap();
        assert_eq!((a.as_str(), p.as_str()), ("mock:80", "/api"));
        assert!(split_base("https://h").is_err());
        assert!(split_base("http://").is_err());
    }

    #[test]
    fn an_answer_of_known_size_is_read_whole_where_it_fits_one_read() {
        assert_eq!(read_size(16 * 1024), Some(16 * 1024 + HEAD_ROOM_BYTES));
        // Small answers keep hyper's minimum buffer.
        assert_eq!(read_size(16), Some(8192));
        // Unknown, or too large for one read: hyper's adaptive buffer.
        assert_eq!(read_size(0), None);
        assert_eq!(read_size(MAX_READ_BYTES), None);
        assert_eq!(read_size(usize::MAX), None);
        assert_eq!(
            read_size(MAX_READ_BYTES - HEAD_ROOM_BYTES),
            Some(MAX_READ_BYTES)
        );
    }

    #[test]
    fn a_request_line_carries_the_path_and_query_only() {
        assert_eq!(origin_form("http://h:1/a/7?x=1"), "/a/7?x=1");
        assert_eq!(origin_form("http://h:1"), "/");
        assert_eq!(origin_form("http://h:1?x=1"), "/?x=1");
    }
}
