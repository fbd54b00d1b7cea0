//! Fetch on the event loop, hand the CPU work off, build the outcome: the
//! shape shared by `async-rayon` (off to a rayon pool) and
//! `async-process-pool` (off to worker processes).

use std::future::Future;

use crate::http::{self, AsyncClient};
use crate::sys::clock::{mono_now_ns, us_since};
use crate::task::{Completed, TaskError, TaskOutcome, TaskSpec};

/// Fetches `spec`'s body, hands the CPU work over it to `cpu`, and builds
/// the task's outcome. `cpu_us` is measured here, on the event loop: from
/// handing the body off to having the result back, so it also holds the
/// wait for a pool thread or worker (and any IPC both ways).
pub(super) async fn fetch_then_offload<F, Fut>(
    client: &AsyncClient,
    spec: TaskSpec,
    cpu: F,
) -> TaskOutcome
where
    F: FnOnce(bytes::Bytes) -> Fut,
    Fut: Future<Output = Result<Completed, TaskError>>,
{
    let fetched = http::fetch_async(client, &spec).await;
    let handed_off = mono_now_ns();
    let result = match &fetched.body {
        Ok(body) => cpu(body.clone()).await,
        Err(e) => Err(e.clone()),
    };
    fetched.outcome(spec.id, result, us_since(handed_off))
}
