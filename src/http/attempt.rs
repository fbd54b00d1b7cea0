//! One task's attempts, the same on both clients: the URL of each attempt,
//! the stamps of its send, head and last byte, the bookkeeping of retries
//! ([`Attempts`]), and what a fetch got ([`Fetched`]). The clients in
//! [`super::blocking`] and [`super::nonblocking`] differ only in how they
//! make one attempt.

use std::time::Duration;

use super::Session;
use crate::sys::clock::{mono_now_ns, timed, us_between};
use crate::task::{Completed, Phases, TaskError, TaskOutcome, TaskSpec, WorkKind};

/// One attempt's result: the body and the server's lateness, or why not
/// (with how long the server asked us to wait).
pub(super) type AttemptResult<B> = Result<(B, Option<u64>), (TaskError, Option<Duration>)>;

/// What [`super::fetch_async`] or [`super::fetch_blocking`] got: the body, or why there is none.
#[derive(Debug, Clone)]
pub struct Fetched<B = bytes::Bytes> {
    pub body: Result<B, TaskError>,
    /// Send to last body byte of the last attempt, in µs.
    pub latency_us: u64,
    pub server_lateness_us: Option<u64>,
    /// Queued, retry, response and body; `cpu_us` is the caller's to fill
    /// in. All zero when the fetch failed.
    pub phases: Phases,
    /// Requests sent (1 + retries).
    pub attempts: u32,
    /// Of those, the attempts that never reached the server.
    pub unreached: u32,
}

impl<B: AsRef<[u8]>> Fetched<B> {
    /// The task's outcome with its CPU work done here, inline.
    pub fn complete(&self, spec: &TaskSpec, session: &Session) -> TaskOutcome {
        let (result, cpu_us) = timed(|| match &self.body {
            Ok(body) => Ok(session.complete(spec.id, body.as_ref(), spec.cpu_units)),
            Err(e) => Err(e.clone()),
        });
        self.outcome(spec.id, result, cpu_us)
    }

    /// The task's outcome, given the result of its CPU work and how long that took.
    pub fn outcome(
        &self,
        id: u64,
        result: Result<Completed, TaskError>,
        cpu_us: u64,
    ) -> TaskOutcome {
        let phases = if result.is_ok() {
            Phases {
                cpu_us,
                ..self.phases
            }
        } else {
            Phases::default()
        };
        TaskOutcome {
            id,
            result,
            latency_us: self.latency_us,
            server_lateness_us: self.server_lateness_us,
            phases,
            attempts: self.attempts,
            unreached: self.unreached,
        }
    }
}

/// The URL of one attempt at a task's request. Retries carry `attempt=`, so
/// the server draws their faults afresh, and the same for every strategy;
/// the first attempt leaves it out (the server's default, 0). A body other
/// than bytes is asked for with `kind=`.
pub fn work_url(
    base_url: &str,
    seed: u64,
    spec: &TaskSpec,
    attempt: u32,
    work: WorkKind,
) -> String {
    let mut url = String::with_capacity(base_url.len() + 96);
    url.push_str(base_url);
    url.push_str("/work?");
    push_work_query(&mut url, seed, spec, attempt, work);
    url
}

/// Appends the query of [`work_url`] (no `?`) to `out`: one buffer, no
/// formatting machinery (the per-request path at 0 ms latency is a few µs,
/// and `format!` with its intermediate strings was a visible part of it).
pub(super) fn push_work_query(
    out: &mut String,
    seed: u64,
    spec: &TaskSpec,
    attempt: u32,
    work: WorkKind,
) {
    let mut num = itoa::Buffer::new();
    let mut pair = |out: &mut String, key: &str, v: u64| {
        out.push_str(key);
        out.push_str(num.format(v));
    };
    pair(out, "id=", spec.id);
    pair(out, "&latency_us=", spec.latency_us);
    pair(out, "&bytes=", spec.bytes as u64);
    pair(out, "&seed=", seed);
    let body = work.work().body;
    if body != mock_server::payload::Kind::Bytes {
        out.push_str("&kind=");
        out.push_str(body.name());
    }
    if attempt > 0 {
        pair(out, "&attempt=", attempt as u64);
    }
}

/// How long the server asked the client to wait before retrying:
/// `x-retry-after-ms` (the mock server's precise hint), else `Retry-After`
/// in whole seconds (HTTP dates are not supported: treated as absent).
pub(super) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
    get("x-retry-after-ms")
        .map(Duration::from_millis)
        .or_else(|| get("retry-after").map(Duration::from_secs))
}

/// The server's `x-lateness-us`, if it sent one.
pub(super) fn lateness(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get("x-lateness-us")
        .and_then(|v| v.to_str().ok()?.parse().ok())
}

/// The send, head and last-byte times of one request, in [`mono_now_ns`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Stamps {
    pub(super) sent: u64,
    pub(super) head: u64,
    pub(super) done: u64,
}

impl Stamps {
    fn new() -> Self {
        let sent = mono_now_ns();
        Self {
            sent,
            head: sent,
            done: sent,
        }
    }

    /// Send to last byte, in µs.
    fn latency_us(&self) -> u64 {
        us_between(self.sent, self.done)
    }

    /// The phases up to the body; `response_us + body_us == latency_us()`
    /// exactly. `first_sent` is when the task's first attempt was sent.
    fn phases(&self, run_start_ns: u64, first_sent: u64) -> Phases {
        let response_us = us_between(self.sent, self.head);
        Phases {
            queued_us: us_between(run_start_ns, first_sent),
            retry_us: us_between(first_sent, self.sent),
            response_us,
            body_us: self.latency_us() - response_us.min(self.latency_us()),
            cpu_us: 0,
        }
    }
}

/// The bookkeeping of one task's attempts, the same on both clients: which
/// attempt this is, how many never reached the server, when the first was sent.
#[derive(Debug, Default)]
pub(super) struct Attempts {
    /// 0-based number of the attempt about to be (or being) made.
    pub(super) attempt: u32,
    unreached: u32,
    first_sent: Option<u64>,
}

/// What follows an attempt.
pub(super) enum Next<B> {
    /// Wait this long, then try again.
    Retry(Duration),
    /// The fetch is over, with a body or for good.
    Done(Fetched<B>),
}

impl Attempts {
    /// The fetch's end if no attempt may start now (interrupted, or past the deadline).
    pub(super) fn stopped<B>(&self, s: &Session) -> Option<Fetched<B>> {
        let e = s.stopped()?;
        Some(self.failed(e, self.attempt, 0))
    }

    /// Stamps the start of an attempt.
    pub(super) fn start(&mut self) -> Stamps {
        let t = Stamps::new();
        self.first_sent.get_or_insert(t.sent);
        t
    }

    /// Settles an attempt: done with its body, done for good, or retry after a wait.
    pub(super) fn finish<B>(
        &mut self,
        s: &Session,
        id: u64,
        mut t: Stamps,
        result: AttemptResult<B>,
    ) -> Next<B> {
        t.done = mono_now_ns();
        let attempts = self.attempt + 1;
        match result {
            Ok((body, lateness)) => Next::Done(Fetched {
                body: Ok(body),
                latency_us: t.latency_us(),
                server_lateness_us: lateness,
                phases: t.phases(s.run_start_ns, self.first_sent.unwrap_or(t.sent)),
                attempts,
                unreached: self.unreached,
            }),
            Err((e, asked)) => {
                self.unreached += e.unreached() as u32;
                match s.retry_wait(id, self.attempt, &e, asked) {
                    Some(wait) => {
                        self.attempt = attempts;
                        Next::Retry(wait)
                    }
                    None => Next::Done(self.failed(e, attempts, t.latency_us())),
                }
            }
        }
    }

    /// A failed fetch after `attempts` requests, the last taking `latency_us`.
    fn failed<B>(&self, e: TaskError, attempts: u32, latency_us: u64) -> Fetched<B> {
        Fetched {
            body: Err(e),
            latency_us,
            server_lateness_us: None,
            phases: Phases::default(),
            attempts,
            unreached: self.unreached,
        }
    }
}

/// An error and its sources on one line (hyper hides the cause in `source()`).
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_and_body_add_up_to_the_latency_exactly() {
        // Nanosecond stamps whose microsecond parts would not add up if each
        // phase were rounded on its own.
        let t = Stamps {
            sent: 10_000_900,
            head: 10_021_899,
            done: 10_022_000,
        };
        let p = t.phases(1_000_000, 10_000_900);
        assert_eq!(p.queued_us, 9_000);
        assert_eq!(p.retry_us, 0);
        assert_eq!(p.response_us, 20);
        assert_eq!(p.response_us + p.body_us, t.latency_us());
        assert_eq!(t.latency_us(), 21);
        // A start after the send (a clock mix-up) reads as zero, never wraps.
        assert_eq!(t.phases(u64::MAX, 10_000_900).queued_us, 0);
    }
}
