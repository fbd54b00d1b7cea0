//! Request routing and the handlers: `/work` (its query, the caps, the
//! faults, the precise wait and the payload), `/stats`, `/stats/ids`,
//! `/stats/reset` and `/health`, and the answers for errors and the rate limit.

use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};

use crate::body::{self, Aborted, Drip, ResponseBody};
use crate::faults::{self, Fault};
use crate::state::Shared;
use crate::stats::{self, Counters};
use crate::{payload, units};

type Resp = Response<ResponseBody>;

fn text(status: StatusCode, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(ResponseBody::full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Serves one request. An `Err` makes hyper close the connection without an
/// answer (how a stalled request lets go).
pub(crate) async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    fd: RawFd,
) -> Result<Resp, Aborted> {
    let arrived = Instant::now();
    let resp = match (req.method(), req.uri().path()) {
        (&Method::GET, "/work") => {
            return work(req.uri().query().unwrap_or(""), arrived, &shared, fd).await
        }
        (&Method::GET, "/health") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/stats") => {
            let json = stats::StatsJson {
                server: &shared.stats(),
                faults: &shared.counters.fault_stats(),
            };
            let body = serde_json::to_vec(&json).expect("stats serialise");
            let mut r = text(StatusCode::OK, body);
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        (&Method::GET, "/stats/ids") => match parse_ids_query(req.uri().query().unwrap_or("")) {
            Ok((from, below)) => {
                let report = shared.ids.report(from, below);
                let body = serde_json::to_vec(&report).expect("ids serialise");
                let mut r = text(StatusCode::OK, body);
                r.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                r
            }
            Err(msg) => text(StatusCode::BAD_REQUEST, msg + "\n"),
        },
        (&Method::POST, "/stats/reset") => {
            shared.counters.reset();
            shared.ids.reset();
            text(StatusCode::OK, "reset\n")
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try GET /work, /stats, /stats/ids?below=N or /health\n",
        ),
    };
    Ok(resp)
}

/// The `from=A&below=N` of `/stats/ids` (the ids `A..N` to report on; `from` defaults to 0).
fn parse_ids_query(query: &str) -> Result<(u64, u64), String> {
    let get = |key: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(key)?.strip_prefix('='))
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| format!("{key}={v} is not a whole number"))
            })
            .transpose()
    };
    let below = get("below")?
        .ok_or_else(|| "below is required: /stats/ids?below=N[&from=A] (ids A..N)".to_string())?;
    Ok((get("from")?.unwrap_or(0), below))
}

/// The parameters of one `/work` request.
#[derive(Debug, Default, PartialEq)]
struct WorkQuery {
    id: u64,
    latency_us: Option<u64>,
    bytes: Option<usize>,
    seed: u64,
    /// What the body is made of (`kind=json`; bytes when absent).
    kind: payload::Kind,
    /// 0 for the first try of a task, 1, 2, ... for its retries: a fresh fault draw.
    attempt: u64,
    stall_rate: Option<f64>,
    error_rate: Option<f64>,
    reset_rate: Option<f64>,
    drip_us: Option<u64>,
    drip_rate: Option<f64>,
}

fn parse_work_query(query: &str) -> Result<WorkQuery, String> {
    let mut q = WorkQuery::default();
    let mut have_id = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{k}={v} is not a whole number"))
        };
        let fraction = |v: &str| {
            faults::parse_fraction(v)
                .map_err(|_| format!("{k}={v} is not a fraction between 0 and 1"))
        };
        match k {
            "id" => {
                q.id = num(v)?;
                have_id = true;
            }
            "latency_us" => q.latency_us = Some(num(v)?),
            "bytes" => q.bytes = Some(num(v)? as usize),
            "seed" => q.seed = num(v)?,
            "kind" => q.kind = v.parse()?,
            "attempt" => q.attempt = num(v)?,
            "stall_rate" => q.stall_rate = Some(fraction(v)?),
            "error_rate" => q.error_rate = Some(fraction(v)?),
            "reset_rate" => q.reset_rate = Some(fraction(v)?),
            "drip_us" => q.drip_us = Some(num(v)?),
            "drip_rate" => q.drip_rate = Some(fraction(v)?),
            _ => {}
        }
    }
    if !have_id {
        return Err("id is required: /work?id=N[&latency_us=][&bytes=][&seed=]".into());
    }
    Ok(q)
}

async fn work(
    query: &str,
    arrived: Instant,
    shared: &Arc<Shared>,
    fd: RawFd,
) -> Result<Resp, Aborted> {
    use std::sync::atomic::Ordering::Relaxed;
    let cfg = &shared.config;
    let c = &shared.counters;
    Counters::bump(&c.requests);
    let bad = |msg: String| {
        Counters::bump(&c.bad_requests);
        Ok(text(StatusCode::BAD_REQUEST, msg + "\n"))
    };
    let q = match parse_work_query(query) {
        Ok(q) => q,
        Err(msg) => return bad(msg),
    };
    shared.ids.record(q.id);
    let bytes = q.bytes.unwrap_or(cfg.default_bytes);
    if bytes > cfg.max_bytes {
        return bad(format!(
            "bytes={bytes} is above this server's cap of {}",
            cfg.max_bytes
        ));
    }
    if bytes < q.kind.min_bytes() {
        return bad(format!(
            "bytes={bytes} is too short for kind={}: use at least {}",
            q.kind.name(),
            q.kind.min_bytes()
        ));
    }
    let latency = match q.latency_us {
        Some(us) => Duration::from_micros(us),
        None => cfg
            .default_latency
            .sample(&mut shared.default_rng.lock().expect("rng lock")),
    };
    if latency > cfg.max_latency {
        return bad(format!(
            "latency_us={} is above this server's cap of {}",
            latency.as_micros(),
            units::format_duration(cfg.max_latency)
        ));
    }
    // The server's faults, overridden parameter by parameter by the query.
    let mut faults = cfg.faults;
    if let Some(r) = q.stall_rate {
        faults.stall_rate = r;
    }
    if let Some(r) = q.error_rate {
        faults.error_rate = r;
    }
    if let Some(r) = q.reset_rate {
        faults.reset_rate = r;
    }
    if let Some(us) = q.drip_us {
        faults.drip = Duration::from_micros(us);
    }
    if let Some(r) = q.drip_rate {
        faults.drip_rate = r;
    }
    if faults.drip > cfg.max_drip {
        return bad(format!(
            "drip_us={} is above this server's cap of {}",
            faults.drip.as_micros(),
            units::format_duration(cfg.max_drip)
        ));
    }
    if let Some(limiter) = &shared.limiter {
        if let Err(wait) = limiter.acquire(arrived) {
            Counters::bump(&c.fault_rate_limited);
            return Ok(too_many_requests(wait));
        }
    }
    // No draw at all on the common path of a server without faults.
    let fault = if faults.is_none() {
        None
    } else {
        faults.decide(&cfg.error_statuses, q.seed, q.id, q.attempt)
    };
    let in_flight = c.enter();
    let deadline = arrived + latency;
    match fault {
        None => {}
        Some(Fault::Stall) => {
            Counters::bump(&c.fault_stall);
            // Boxed: keeps the future of every other request small.
            Box::pin(hold_stalled(shared)).await;
            drop(in_flight);
            return Err(Aborted("stall fault: the request was never answered"));
        }
        Some(Fault::Error { status }) => {
            Counters::bump(&c.fault_error);
            shared.timer.sleep_until(deadline).await;
            return Ok(error_response(status));
        }
        Some(Fault::Reset) => Counters::bump(&c.fault_reset),
        Some(Fault::Drip { .. }) => Counters::bump(&c.fault_drip),
    }
    // Built near the end of the wait: ready when the answer is due, yet not
    // held through the whole of it. Built before the wait, 10,000 requests
    // of 16 KiB waiting 1 s held 160 MB of fresh memory, and the server
    // took them in more slowly than the client sent them: 0.21–0.25 s of
    // its CPU for the 10,000, against 0.08–0.10 s built here.
    shared.timer.approach(deadline).await;
    let body = Bytes::from(q.kind.generate(q.seed, q.id, bytes));
    shared.timer.sleep_until(deadline).await;
    let answered = Instant::now();
    let lateness_us = answered.saturating_duration_since(deadline).as_micros() as u64;
    let body = match fault {
        // An empty body cannot be cut short: close before the head instead.
        Some(Fault::Reset) if bytes == 0 => {
            return Err(Aborted("reset fault: connection closed before the head"));
        }
        Some(Fault::Reset) => {
            c.bytes_sent.fetch_add((bytes / 2) as u64, Relaxed);
            ResponseBody::Reset(Box::new(body::Reset::new(body, fd)))
        }
        // An empty body has nothing to drip: it is answered at once.
        Some(Fault::Drip { over }) if bytes > 0 => {
            shared.counters.record_lateness(lateness_us);
            // The body keeps the request in flight and counts it served at its last byte.
            in_flight.hand_over();
            ResponseBody::Drip(Box::new(Drip::start(body, over, shared.clone(), arrived)))
        }
        _ => {
            c.record_lateness(lateness_us);
            c.busy_us.fetch_add(
                answered.saturating_duration_since(arrived).as_micros() as u64,
                Relaxed,
            );
            Counters::bump(&c.served);
            c.bytes_sent.fetch_add(bytes as u64, Relaxed);
            ResponseBody::full(body)
        }
    };
    let mut r = Response::new(body);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(match q.kind {
            payload::Kind::Bytes => "application/octet-stream",
            payload::Kind::Json => "application/json",
        }),
    );
    r.headers_mut()
        .insert("x-lateness-us", HeaderValue::from(lateness_us));
    Ok(r)
}

/// Holds a stalled request until the server shuts down or `stall_max`
/// passes; if the client leaves first, hyper drops this future.
async fn hold_stalled(shared: &Shared) {
    let mut shutting_down = shared.shutting_down.subscribe();
    tokio::select! {
        _ = shutting_down.wait_for(|down| *down) => {}
        () = tokio::time::sleep(shared.config.stall_max) => {}
    }
}

/// The suggested wait of a 503 from the error fault, in milliseconds.
const ERROR_RETRY_AFTER_MS: u64 = 10;

/// The answer of the error fault. 503 and 429 say when to retry: `Retry-After`
/// in whole seconds (HTTP's unit) and `x-retry-after-ms`, fine enough for a benchmark.
fn error_response(status: u16) -> Resp {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = text(status, "injected fault: error (error_rate)\n");
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        set_retry_after(&mut r, Duration::from_millis(ERROR_RETRY_AFTER_MS));
    }
    r
}

/// The rate limit's answer: 429 with when a token will be available.
fn too_many_requests(wait: Duration) -> Resp {
    let mut r = text(
        StatusCode::TOO_MANY_REQUESTS,
        "rate limited: see x-retry-after-ms\n",
    );
    set_retry_after(&mut r, wait);
    r
}

/// `Retry-After` in whole seconds, rounded up and at least 1, and
/// `x-retry-after-ms` in milliseconds, rounded up and at least 1.
fn set_retry_after(r: &mut Resp, wait: Duration) {
    let ms = wait.as_nanos().div_ceil(1_000_000).max(1) as u64;
    let secs = ms.div_ceil(1_000).max(1);
    r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
    r.headers_mut()
        .insert("x-retry-after-ms", HeaderValue::from(ms));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_queries_parse_and_id_is_required() {
        assert_eq!(
            parse_work_query("id=3&latency_us=200&bytes=10&seed=9").unwrap(),
            WorkQuery {
                id: 3,
                latency_us: Some(200),
                bytes: Some(10),
                seed: 9,
                ..Default::default()
            }
        );
        assert!(parse_work_query("latency_us=5")
            .unwrap_err()
            .contains("id is required"));
        assert!(parse_work_query("id=x").unwrap_err().contains("id=x"));
    }

    #[test]
    fn fault_parameters_parse_and_bad_ones_are_named() {
        assert_eq!(
            parse_work_query(
                "id=1&attempt=2&stall_rate=0&error_rate=0.5&reset_rate=1&drip_us=300&drip_rate=0.25"
            )
            .unwrap(),
            WorkQuery {
                id: 1,
                attempt: 2,
                stall_rate: Some(0.0),
                error_rate: Some(0.5),
                reset_rate: Some(1.0),
                drip_us: Some(300),
                drip_rate: Some(0.25),
                ..Default::default()
            }
        );
        for (query, named) in [
            ("id=1&error_rate=2", "error_rate=2"),
            ("id=1&reset_rate=x", "reset_rate=x"),
            ("id=1&stall_rate=-1", "stall_rate=-1"),
            ("id=1&drip_rate=", "drip_rate="),
            ("id=1&drip_us=1ms", "drip_us=1ms"),
            ("id=1&attempt=-1", "attempt=-1"),
        ] {
            let err = parse_work_query(query).unwrap_err();
            assert!(err.contains(named), "{query}: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_milliseconds() {
        let headers = |wait| {
            let mut r = text(StatusCode::TOO_MANY_REQUESTS, "");
            set_retry_after(&mut r, wait);
            let h = |n: &str| r.headers()[n].to_str().unwrap().to_string();
            (h("retry-after"), h("x-retry-after-ms"))
        };
        assert_eq!(headers(Duration::from_micros(1)), ("1".into(), "1".into()));
        assert_eq!(
            headers(Duration::from_micros(2_001)),
            ("1".into(), "3".into())
        );
        assert_eq!(
            headers(Duration::from_millis(1_000)),
            ("1".into(), "1000".into())
        );
        assert_eq!(
            headers(Duration::from_millis(1_001)),
            ("2".into(), "1001".into())
        );
    }
}
