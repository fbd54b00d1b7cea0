//! The value parsers of the command line's flags: human units in, a typed
//! value or one line that says what range or spelling is expected.

use std::time::Duration;

use mock_server::LatencyDist;

use crate::units;
use crate::workload::Verify;

pub(crate) fn parse_drip(s: &str) -> Result<Duration, String> {
    duration_within(
        s,
        Duration::ZERO..=Duration::from_secs(600),
        "a drip must be at most 10min (the server's cap)",
    )
}

pub(crate) fn parse_preset(s: &str) -> Result<String, String> {
    crate::cli::presets::find(s).map(|p| p.name.to_string())
}

pub(crate) fn parse_latency(s: &str) -> Result<LatencyDist, String> {
    s.parse()
        .map_err(|e: mock_server::dist::DistError| e.to_string())
}

pub(crate) fn parse_tasks(s: &str) -> Result<usize, String> {
    let n = units::parse_count(s)?;
    if n == 0 || n > crate::workload::MAX_TASKS as u64 {
        return Err(format!(
            "use from 1 to {} tasks",
            crate::workload::MAX_TASKS
        ));
    }
    Ok(n as usize)
}

pub(crate) fn parse_concurrency(s: &str) -> Result<usize, String> {
    let n = units::parse_count(s)?;
    if n == 0 || n > crate::workload::MAX_CONCURRENCY as u64 {
        return Err(format!(
            "the number of requests in flight must be from 1 to {}, e.g. 50",
            crate::workload::MAX_CONCURRENCY
        ));
    }
    Ok(n as usize)
}

pub(crate) fn parse_workers(s: &str) -> Result<usize, String> {
    match units::parse_count(s)? {
        0 => Err("use at least 1 worker".into()),
        n if n > 4096 => Err("use at most 4096 workers".into()),
        n => Ok(n as usize),
    }
}

pub(crate) fn parse_batch(s: &str) -> Result<usize, String> {
    match units::parse_count(s)? {
        0 => Err("a batch holds at least 1 task".into()),
        n if n > 1_000_000 => Err("use at most 1000000 tasks per batch".into()),
        n => Ok(n as usize),
    }
}

pub(crate) fn parse_repeat(s: &str) -> Result<usize, String> {
    match units::parse_count(s)? {
        0 => Err("use at least 1 round".into()),
        n if n > 1000 => Err("use at most 1000 rounds".into()),
        n => Ok(n as usize),
    }
}

pub(crate) fn parse_warmup(s: &str) -> Result<usize, String> {
    match units::parse_count(s)? {
        n if n > 100 => Err("use at most 100 warm-up rounds".into()),
        n => Ok(n as usize),
    }
}

/// A duration in human units within `range`; `out_of_range` says the range
/// (and an example) when it is not.
pub(crate) fn duration_within(
    s: &str,
    range: std::ops::RangeInclusive<Duration>,
    out_of_range: &str,
) -> Result<Duration, String> {
    let d = units::parse_duration(s).map_err(|e| e.to_string())?;
    if !range.contains(&d) {
        return Err(out_of_range.into());
    }
    Ok(d)
}

pub(crate) fn parse_max_tasks_per_child(s: &str) -> Result<usize, String> {
    match units::parse_count(s)? {
        0 => Err("give at least 1 task per worker process".into()),
        n => Ok(n as usize),
    }
}

pub(crate) fn parse_verify(s: &str) -> Result<Verify, String> {
    s.parse()
}

pub(crate) fn parse_interval(s: &str) -> Result<Duration, String> {
    duration_within(
        s,
        Duration::from_millis(10)..=Duration::from_secs(1),
        "the sampling interval must be from 10ms to 1s",
    )
}

pub(crate) fn parse_timeout(s: &str) -> Result<Duration, String> {
    duration_within(
        s,
        Duration::from_millis(1)..=Duration::from_secs(3600),
        "the timeout must be from 1ms to 1h, e.g. 2s",
    )
}

pub(crate) fn parse_retries(s: &str) -> Result<u32, String> {
    match units::parse_count(s)? {
        n if n > 100 => Err("use at most 100 retries".into()),
        n => Ok(n as u32),
    }
}

pub(crate) fn parse_backoff(s: &str) -> Result<Duration, String> {
    duration_within(
        s,
        Duration::ZERO..=Duration::from_secs(600),
        "a backoff must be at most 10min",
    )
}

pub(crate) fn parse_rate(s: &str) -> Result<f64, String> {
    // The same spelling as the mock server's --rate-limit.
    let r = s.parse::<mock_server::Rate>()?.per_second();
    if !(0.01..=10_000_000.0).contains(&r) {
        return Err("the rate must be from 0.01/s to 10M/s, e.g. 400/s".into());
    }
    Ok(r)
}

pub(crate) fn parse_deadline(s: &str) -> Result<Duration, String> {
    duration_within(
        s,
        Duration::from_nanos(1)..=Duration::from_secs(7 * 24 * 3600),
        "the deadline must be more than 0 and at most 7 days, e.g. 60s",
    )
}

pub(crate) fn parse_cores(s: &str) -> Result<usize, String> {
    match units::parse_count(s)? {
        0 => Err("use at least 1 core".into()),
        n => Ok(n as usize),
    }
}

pub(crate) fn parse_body_bytes(s: &str) -> Result<usize, String> {
    let n = units::parse_bytes(s)?;
    if n > crate::workload::MAX_BYTES as u64 {
        return Err("bodies are capped at 64MiB; use a smaller size".into());
    }
    Ok(n as usize)
}

pub(crate) fn parse_cpu(s: &str) -> Result<Duration, String> {
    duration_within(
        s,
        Duration::ZERO..=Duration::from_secs(60),
        "CPU work per task is capped at 60s",
    )
}

pub(crate) fn parse_units(s: &str) -> Result<u64, String> {
    units::parse_count(s)
}

pub(crate) fn parse_target(s: &str) -> Result<String, String> {
    let url = s.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("'{s}' is not an http:// URL; write e.g. http://127.0.0.1:8080"))?;
    if rest.is_empty() || rest.contains('/') {
        return Err(format!(
            "'{s}' must be a server's base URL such as http://127.0.0.1:8080, without a path"
        ));
    }
    Ok(url.to_string())
}
