//! How every client behaves toward the server, whatever the strategy: the
//! per-request timeout, retries with exponential backoff and jitter that
//! honour `Retry-After`, an optional rate limiter and a deadline for the run
//! ([`ClientPolicy`]), and what all requests of one run share ([`Session`]).
//!
//! The policy is the same for every strategy, so faults cost every model the
//! same retries: the backoff's jitter is drawn from (seed, task, attempt), not
//! from a clock, and the server's faults are drawn from the same triple
//! (the request carries `attempt=`). Worker processes get the policy as JSON
//! on their command line and measure the deadline on the clock every process
//! shares ([`crate::sys::clock::mono_now_ns`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mock_server::rng::SplitMix64;
use serde::{Deserialize, Serialize};

use crate::interrupt;
use crate::sys::clock::mono_now_ns;
use crate::task::{Completer, TaskError, UserTaskRef, WorkKind};

use super::Endpoint;

/// What a client does when the server is slow, failing or throttling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct ClientPolicy {
    /// Longest wait for the server to accept a connection or send the next
    /// bytes (the response head, or more of the body). An idle timeout, the
    /// same on both clients: ureq's whole-request deadline re-arms the socket
    /// timeout before every read and doubled the blocking client's cost per
    /// request (measured; see the issue notes), while a fixed idle timeout is
    /// set once per connection.
    pub timeout_ms: u64,
    /// Retries after a failed attempt (0: none). Only failures a retry can
    /// fix are retried: connect errors, timeouts, cut bodies, 429 and 5xx.
    pub retries: u32,
    /// First backoff; attempt k waits about `backoff * 2^k`, at most `backoff_max`.
    pub backoff_ms: u64,
    /// Ceiling of one backoff (a `Retry-After` may ask for more and gets it).
    pub backoff_max_ms: u64,
    /// Requests per second this client may start (every attempt counts);
    /// `None`: as fast as the strategy goes.
    pub rate_per_s: Option<f64>,
    /// How long after the run's start no new attempt may begin; tasks not
    /// done by then fail with cause `deadline`. `None`: no deadline.
    pub deadline_ms: Option<u64>,
}

impl Default for ClientPolicy {
    fn default() -> Self {
        Self {
            timeout_ms: 30_000,
            retries: 0,
            backoff_ms: 50,
            backoff_max_ms: 5_000,
            rate_per_s: None,
            deadline_ms: None,
        }
    }
}

impl ClientPolicy {
    /// The idle timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// The same policy for one of `n` processes sharing the client's budget:
    /// the rate is split between them.
    pub fn share(&self, n: usize) -> Self {
        Self {
            rate_per_s: self.rate_per_s.map(|r| r / n.max(1) as f64),
            ..*self
        }
    }

    /// How long to wait before retry number `attempt + 1` of task `id`:
    /// exponential, with "equal jitter" (half fixed, half drawn from
    /// (seed, id, attempt)), and never less than what the server asked for.
    pub fn backoff(
        &self,
        seed: u64,
        id: u64,
        attempt: u32,
        retry_after: Option<Duration>,
    ) -> Duration {
        let exp = self
            .backoff_ms
            .saturating_mul(1u64 << attempt.min(30))
            .min(self.backoff_max_ms);
        let mut rng = SplitMix64::new(
            seed ^ id.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ ((attempt as u64) << 48) ^ 0xbac0ff,
        );
        let jitter = rng.next_f64();
        let ms = exp as f64 * (0.5 + 0.5 * jitter);
        let wait = Duration::from_secs_f64(ms / 1000.0);
        match retry_after {
            Some(server) if server > wait => server,
            _ => wait,
        }
    }
}

/// Spaces request starts `1 / rate` apart (a reservation per request, so a
/// late sleeper does not lower the rate: the next slot is booked from the
/// last one, not from when the sleeper woke). Shared by a process's threads.
#[derive(Debug)]
pub struct RateLimiter {
    interval_ns: u64,
    next_ns: Mutex<u64>,
}

impl RateLimiter {
    pub fn new(rate_per_s: f64) -> Self {
        Self {
            interval_ns: (1e9 / rate_per_s.max(1e-3)) as u64,
            next_ns: Mutex::new(0),
        }
    }

    /// Books the next start slot; returns its time ([`mono_now_ns`]).
    pub fn reserve(&self) -> u64 {
        let now = mono_now_ns();
        let mut next = self.next_ns.lock().unwrap_or_else(|p| p.into_inner());
        let slot = (*next).max(now);
        *next = slot + self.interval_ns;
        slot
    }
}

/// What every request of one strategy's run (in one process) shares.
#[derive(Debug)]
pub struct Session {
    /// Base URL of the mock server, without a trailing slash.
    pub base_url: String,
    /// The plan's seed (payloads, and the backoff's jitter).
    pub seed: u64,
    /// When the strategy's run started ([`mono_now_ns`]).
    pub run_start_ns: u64,
    pub policy: ClientPolicy,
    limiter: Option<RateLimiter>,
    /// `run_start_ns + deadline`, if there is a deadline.
    deadline_ns: Option<u64>,
    /// Test-only: the task whose fetch panics (the hidden `--test-panic-task`
    /// flag), to prove that a panicking task is one failed outcome with its
    /// own id in every strategy. `None` in every real run.
    pub test_panic_task: Option<u64>,
    /// The kind of work over each body (what the server is asked for, and
    /// what turns a body into a result): strategies pass it on unread.
    pub work: WorkKind,
    /// The user's endpoint, when the target is not a mock server: its URL
    /// template, method, headers, body and checks replace `/work`.
    pub endpoint: Option<Arc<Endpoint>>,
    /// The user's own task, when there is no server at all: its I/O part
    /// replaces the request and its CPU part the work over the body.
    pub user: Option<UserTaskRef>,
    /// Under an open loop, when each task is due (µs after `run_start_ns`,
    /// by id): a task's first request waits for it.
    pub due_us: Option<Arc<Vec<u64>>>,
    /// The largest body an answer of this run carries (the plan's `bytes`),
    /// 0 when nobody knows it (a user's endpoint or task): the async client
    /// reads an answer that fits its read buffer in one read
    /// ([`crate::http::AsyncClient`]).
    pub body_bytes: usize,
    /// Under an open loop, the async clients' wait for a due time: tokio's
    /// timer fires on a 1 ms tick (0.5 ms late on average), which would
    /// show in every task's latency from due; this one thread is late by
    /// tens of µs (the mock server's own timer). `None` when it cannot start:
    /// then tokio's timer, and the lateness shows.
    /// Started by the first wait, so a blocking client never starts one.
    timer: std::sync::OnceLock<Option<mock_server::timer::PreciseTimer>>,
}

impl Session {
    pub fn new(base_url: &str, seed: u64, run_start_ns: u64, policy: ClientPolicy) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            seed,
            run_start_ns,
            policy,
            limiter: policy.rate_per_s.map(RateLimiter::new),
            deadline_ns: policy
                .deadline_ms
                .map(|ms| run_start_ns.saturating_add(ms.saturating_mul(1_000_000))),
            test_panic_task: None,
            work: WorkKind::Hash,
            endpoint: None,
            user: None,
            due_us: None,
            body_bytes: 0,
            timer: std::sync::OnceLock::new(),
        }
    }

    /// The session, calling `endpoint` instead of a mock server's `/work`.
    pub fn with_endpoint(self, endpoint: Option<Arc<Endpoint>>) -> Self {
        Self { endpoint, ..self }
    }

    /// The session, running the user's task instead of a request.
    pub fn with_user(self, user: Option<UserTaskRef>) -> Self {
        Self { user, ..self }
    }

    /// The session, waiting for each task's due time (an open loop).
    pub fn with_due(self, due_us: Option<Arc<Vec<u64>>>) -> Self {
        Self { due_us, ..self }
    }

    /// Waits on the async runtime until task `id` is due (an open loop),
    /// waking early if the run is interrupted.
    pub async fn wait_until_due(&self, id: u64) {
        let Some(wait) = self.until_due(id) else {
            return;
        };
        // Long waits in interruptible steps; the last 20 ms on the precise timer.
        const PRECISE: Duration = Duration::from_millis(20);
        if wait > PRECISE {
            sleep_interruptible_async(wait - PRECISE).await;
        }
        let timer = self
            .timer
            .get_or_init(|| mock_server::timer::PreciseTimer::start(|| {}).ok());
        match (timer, self.until_due(id)) {
            (_, None) => {}
            (Some(t), Some(rest)) if !interrupt::requested() => {
                t.sleep_until(std::time::Instant::now() + rest).await
            }
            (_, Some(rest)) => sleep_interruptible_async(rest).await,
        }
    }

    /// Under an open loop, how long task `id` must still wait until it is due.
    pub fn until_due(&self, id: u64) -> Option<Duration> {
        let due = *self.due_us.as_ref()?.get(id as usize)?;
        let at = self.run_start_ns.saturating_add(due.saturating_mul(1_000));
        let now = mono_now_ns();
        (at > now).then(|| Duration::from_nanos(at - now))
    }

    /// Task `id`'s result over `body`, done here: the user's CPU part or the
    /// run's kind of work (what [`Self::completer`] carries elsewhere).
    pub fn complete(&self, id: u64, body: &[u8], units: u64) -> crate::task::Completed {
        match &self.user {
            Some(u) => crate::task::work::complete_user(u, id, body),
            None => self.work.complete(body, units),
        }
    }

    /// What turns a body into a result in this session.
    pub fn completer(&self) -> Completer {
        match &self.user {
            Some(u) => Completer::User(u.clone()),
            None => Completer::Work(self.work),
        }
    }

    /// The session, doing `work` over each body.
    pub fn with_work(self, work: WorkKind) -> Self {
        Self { work, ..self }
    }

    /// The session, whose answers carry bodies of at most `body_bytes`.
    pub fn with_body_bytes(self, body_bytes: usize) -> Self {
        Self { body_bytes, ..self }
    }

    /// The session, with task `id` made to panic (test-only, see the field).
    pub fn with_test_panic_task(self, id: Option<u64>) -> Self {
        Self {
            test_panic_task: id,
            ..self
        }
    }

    /// Panics if task `id` is the one the tests asked to panic.
    pub(super) fn panic_if_asked(&self, id: u64) {
        if self.test_panic_task == Some(id) {
            panic!("--test-panic-task {id}: panicking as asked");
        }
    }

    /// Why no new attempt may start now: the run was interrupted or its
    /// deadline passed.
    pub fn stopped(&self) -> Option<TaskError> {
        if interrupt::requested() {
            return Some(TaskError::Cancelled(
                "the run was interrupted before this task was done".into(),
            ));
        }
        match self.deadline_ns {
            Some(d) if mono_now_ns() >= d => Some(TaskError::Deadline(format!(
                "the run's deadline ({} ms) passed before this task was done",
                self.policy.deadline_ms.unwrap_or(0)
            ))),
            _ => None,
        }
    }

    /// With a rate limit, how long to wait before the next request may start.
    pub fn pace(&self) -> Option<Duration> {
        let slot = self.limiter.as_ref()?.reserve();
        let now = mono_now_ns();
        (slot > now).then(|| Duration::from_nanos(slot - now))
    }

    /// The wait before the next attempt, or `None` if `err` after `attempt`
    /// (0-based) is final: not retryable, out of retries, or the wait would
    /// pass the deadline.
    pub fn retry_wait(
        &self,
        id: u64,
        attempt: u32,
        err: &TaskError,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if attempt >= self.policy.retries || !err.retryable() {
            return None;
        }
        let wait = self.policy.backoff(self.seed, id, attempt, retry_after);
        let passes_deadline = self
            .deadline_ns
            .is_some_and(|d| mono_now_ns().saturating_add(wait.as_nanos() as u64) >= d);
        (!passes_deadline).then_some(wait)
    }
}

/// Sleeps `d` on this thread, waking early if the run is interrupted
/// (backoffs can be long; Ctrl-C must not wait for them).
pub fn sleep_interruptible(d: Duration) {
    let end = mono_now_ns().saturating_add(d.as_nanos() as u64);
    loop {
        let now = mono_now_ns();
        if now >= end || interrupt::requested() {
            return;
        }
        std::thread::sleep(Duration::from_nanos((end - now).min(50_000_000)));
    }
}

/// Sleeps `d` on the async runtime, waking early if the run is interrupted.
pub async fn sleep_interruptible_async(d: Duration) {
    let end = tokio::time::Instant::now() + d;
    loop {
        let now = tokio::time::Instant::now();
        if now >= end || interrupt::requested() {
            return;
        }
        tokio::time::sleep((end - now).min(Duration::from_millis(50))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_ceiling() {
        let p = ClientPolicy {
            backoff_ms: 100,
            backoff_max_ms: 1_000,
            ..ClientPolicy::default()
        };
        for attempt in 0..8 {
            let exp = (100u64 << attempt).min(1_000) as f64 / 1000.0;
            let w = p.backoff(1, 7, attempt, None).as_secs_f64();
            assert!(
                w >= exp * 0.5 - 1e-9 && w <= exp + 1e-9,
                "attempt {attempt}: {w}"
            );
        }
        // Deterministic: the same (seed, id, attempt) waits the same.
        assert_eq!(p.backoff(3, 9, 2, None), p.backoff(3, 9, 2, None));
        // Jittered: different tasks do not retry in lock-step.
        let waits: std::collections::BTreeSet<_> =
            (0..20).map(|id| p.backoff(3, id, 2, None)).collect();
        assert!(waits.len() > 10);
    }

    #[test]
    fn a_retry_after_longer_than_the_backoff_is_honoured() {
        let p = ClientPolicy::default();
        let asked = Duration::from_secs(2);
        assert_eq!(p.backoff(1, 1, 0, Some(asked)), asked);
        assert!(p.backoff(1, 1, 0, Some(Duration::from_millis(1))) >= Duration::from_millis(25));
    }

    #[test]
    fn the_rate_limiter_books_evenly_spaced_slots() {
        let l = RateLimiter::new(1000.0);
        let slots: Vec<u64> = (0..5).map(|_| l.reserve()).collect();
        for w in slots.windows(2) {
            assert_eq!(w[1] - w[0], 1_000_000);
        }
    }

    #[test]
    fn only_retryable_failures_within_the_budget_are_retried() {
        let policy = ClientPolicy {
            retries: 2,
            ..ClientPolicy::default()
        };
        let s = Session::new("http://x", 1, mono_now_ns(), policy);
        assert!(s.retry_wait(1, 0, &TaskError::Status(503), None).is_some());
        assert!(s
            .retry_wait(1, 1, &TaskError::Timeout("t".into()), None)
            .is_some());
        assert!(s.retry_wait(1, 2, &TaskError::Status(503), None).is_none());
        assert!(s.retry_wait(1, 0, &TaskError::Status(404), None).is_none());
        assert!(s
            .retry_wait(1, 0, &TaskError::Worker("w".into()), None)
            .is_none());
    }

    #[test]
    fn a_passed_deadline_stops_new_attempts_and_long_waits() {
        let policy = ClientPolicy {
            retries: 5,
            deadline_ms: Some(0),
            ..ClientPolicy::default()
        };
        let s = Session::new("http://x", 1, mono_now_ns(), policy);
        assert!(matches!(s.stopped(), Some(TaskError::Deadline(_))));
        assert!(s.retry_wait(1, 0, &TaskError::Status(503), None).is_none());
    }

    #[test]
    fn a_split_rate_adds_up_to_the_whole() {
        let p = ClientPolicy {
            rate_per_s: Some(300.0),
            ..ClientPolicy::default()
        };
        assert_eq!(p.share(3).rate_per_s, Some(100.0));
        assert_eq!(ClientPolicy::default().share(3).rate_per_s, None);
    }
}
