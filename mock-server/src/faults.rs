//! Seeded fault injection: which `/work` requests fail, and how.
//!
//! A benchmark of concurrency models must also show how each model copes
//! with a misbehaving API (errors to retry, connections cut mid-body,
//! requests that never answer, slow bodies, rate limits). For the comparison
//! to be fair, every strategy must meet exactly the same faults, whatever the
//! order or the timing of its requests. So every fault decision is a pure
//! function of the request's `(seed, id, attempt)` ([`draw`], [`Faults::decide`]):
//! one independent uniform number per fault kind, compared with that kind's
//! rate. A client retrying task `id` sends `attempt=1, 2, ...` and gets a
//! fresh (still deterministic) draw, so a retry can succeed where the first
//! try failed. The client can call [`Faults::decide`] itself to know in
//! advance which requests will fault.
//!
//! The faults, checked in this order (the first that fires wins):
//! 1. rate limit ([`RateLimit`], not seeded: it depends on time) → `429` at once;
//! 2. stall ([`Fault::Stall`]) → no answer at all;
//! 3. error ([`Fault::Error`]) → an error status after the latency;
//! 4. reset ([`Fault::Reset`]) → the head and half the body, then a connection reset;
//! 5. drip ([`Fault::Drip`]) → the body in ten slices spread over a duration.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::rng::mix64;
use crate::units;

/// The fault kinds that draw a number of their own; the value salts the draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum FaultKind {
    /// Whether the request stalls.
    Stall = 1,
    /// Whether the request is answered with an error status.
    Error = 2,
    /// Which status of the list an error answers with.
    ErrorStatus = 3,
    /// Whether the connection is reset mid-body.
    Reset = 4,
    /// Whether the body drips.
    Drip = 5,
}

/// A uniform number in [0, 1) that depends only on `(seed, id, attempt, kind)`.
///
/// Independent across kinds, ids, attempts and seeds (each is mixed in
/// through the SplitMix64 finaliser), and pinned by a unit test: changing it
/// changes which requests of every committed scenario fault.
#[inline]
pub fn draw(seed: u64, id: u64, attempt: u64, kind: FaultKind) -> f64 {
    let mut h = mix64(seed ^ 0xD1B5_4A32_D192_ED03);
    h = mix64(h ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    h = mix64(h ^ attempt.wrapping_mul(0xC2B2_AE3D_27D4_EB4F));
    h = mix64(h ^ (kind as u64).wrapping_mul(0x1656_67B1_9E37_79F9));
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The seeded faults a `/work` request may meet, as rates (fractions of
/// requests, 0 to 1). The server's defaults live in
/// [`crate::ServerConfig::faults`]; a request's query parameters
/// (`stall_rate`, `error_rate`, `reset_rate`, `drip_us`, `drip_rate`)
/// override them one by one for that request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Faults {
    /// Fraction of requests never answered (held until the client leaves,
    /// the server shuts down or [`crate::ServerConfig::stall_max`] passes):
    /// exercises client timeouts.
    pub stall_rate: f64,
    /// Fraction of requests answered with an error status (drawn from
    /// [`crate::ServerConfig::error_statuses`]) after their latency:
    /// exercises retries.
    pub error_rate: f64,
    /// Fraction of requests whose connection is reset after the head and
    /// about half the body: exercises truncated-body detection.
    pub reset_rate: f64,
    /// How long a dripping body takes to arrive (zero: no drip): exercises
    /// slow readers and read timeouts.
    pub drip: Duration,
    /// Fraction of requests that drip, when `drip` is set (1.0 by default: all of them).
    pub drip_rate: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Self::NONE
    }
}

/// What happens to one `/work` request (besides the rate limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Never answered.
    Stall,
    /// Answered with this error status after the latency.
    Error {
        /// The HTTP status.
        status: u16,
    },
    /// The head (with the full content-length) and about half the body, then a reset.
    Reset,
    /// The head after the latency, then the body in ten slices spread over `over`.
    Drip {
        /// How long the body takes after the head.
        over: Duration,
    },
}

impl Faults {
    /// No faults at all.
    pub const NONE: Faults = Faults {
        stall_rate: 0.0,
        error_rate: 0.0,
        reset_rate: 0.0,
        drip: Duration::ZERO,
        drip_rate: 1.0,
    };

    /// True when no request can fault: the server then skips every draw.
    #[inline]
    pub fn is_none(&self) -> bool {
        self.stall_rate <= 0.0
            && self.error_rate <= 0.0
            && self.reset_rate <= 0.0
            && (self.drip.is_zero() || self.drip_rate <= 0.0)
    }

    /// The fault of request `(seed, id, attempt)`, if any: stall, error,
    /// reset, drip, each from an independent draw, the first that fires
    /// winning. `error_statuses` is the list an error status is drawn from
    /// (500 when it is empty).
    pub fn decide(
        &self,
        error_statuses: &[u16],
        seed: u64,
        id: u64,
        attempt: u64,
    ) -> Option<Fault> {
        let fires = |rate: f64, kind| rate > 0.0 && draw(seed, id, attempt, kind) < rate;
        if fires(self.stall_rate, FaultKind::Stall) {
            return Some(Fault::Stall);
        }
        if fires(self.error_rate, FaultKind::Error) {
            let status = match error_statuses.len() {
                0 => 500,
                n => {
                    let u = draw(seed, id, attempt, FaultKind::ErrorStatus);
                    error_statuses[((u * n as f64) as usize).min(n - 1)]
                }
            };
            return Some(Fault::Error { status });
        }
        if fires(self.reset_rate, FaultKind::Reset) {
            return Some(Fault::Reset);
        }
        if !self.drip.is_zero() && fires(self.drip_rate, FaultKind::Drip) {
            return Some(Fault::Drip { over: self.drip });
        }
        None
    }
}

/// Parses a fault rate: a fraction from 0 to 1 (`0`, `0.05`, `1`).
pub fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!(
            "'{s}' is not a fraction between 0 and 1 (e.g. 0.05)"
        )),
    }
}

/// Parses one error status: 400 to 599.
pub fn parse_error_status(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u16>() {
        Ok(code) if (400..=599).contains(&code) => Ok(code),
        _ => Err(format!(
            "'{s}' is not an error status: write codes from 400 to 599, e.g. 500,503"
        )),
    }
}

/// A request rate: `count` requests per `per` (`500/s`, `20/ms`, `5/100ms`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    count: f64,
    per: Duration,
}

impl Rate {
    /// `count` requests per `per`; `None` unless both are positive and finite.
    pub fn new(count: f64, per: Duration) -> Option<Self> {
        (count.is_finite() && count > 0.0 && !per.is_zero()).then_some(Self { count, per })
    }

    /// Requests per second.
    pub fn per_second(&self) -> f64 {
        self.count / self.per.as_secs_f64()
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.per == Duration::from_secs(1) {
            write!(f, "{}/s", self.count)
        } else {
            write!(f, "{}/{}", self.count, units::format_duration(self.per))
        }
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || {
            format!("'{s}' is not a rate: write requests per time, e.g. 500/s, 20/ms or 5/100ms")
        };
        let (count, per) = s.trim().split_once('/').ok_or_else(err)?;
        let count: f64 = count.trim().parse().map_err(|_| err())?;
        let per = per.trim();
        // `500/s` means `500/1s`.
        let per = if per.starts_with(|c: char| c.is_ascii_digit()) {
            units::parse_duration(per)
        } else {
            units::parse_duration(&format!("1{per}"))
        }
        .map_err(|_| err())?;
        let rate = Rate::new(count, per).ok_or_else(err)?;
        if rate.per_second() > 1e9 {
            return Err(format!("'{s}' is above 1e9 requests per second"));
        }
        Ok(rate)
    }
}

/// The server's token bucket: at most `rate` requests on average, `burst` at once.
///
/// Time-based, so it is the one fault that is not seeded: which requests get
/// a 429 depends on when they arrive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Tokens added per unit of time.
    pub rate: Rate,
    /// Bucket size: requests that may arrive at once after a quiet spell.
    pub burst: u32,
}

impl RateLimit {
    /// `rate` with the default burst: a tenth of a second's worth of
    /// requests (at least 1), so short bursts pass and sustained excess does not.
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            burst: Self::default_burst(rate),
        }
    }

    /// A tenth of a second's worth of requests at `rate`, at least 1.
    pub fn default_burst(rate: Rate) -> u32 {
        (rate.per_second() / 10.0)
            .ceil()
            .clamp(1.0, u32::MAX as f64) as u32
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (burst {})", self.rate, self.burst)
    }
}

/// A lock-free token bucket (GCRA: one atomic "theoretical arrival time").
#[derive(Debug)]
pub(crate) struct RateLimiter {
    origin: Instant,
    /// Nanoseconds between tokens.
    interval_ns: u64,
    /// How far ahead of now the theoretical arrival time may run: (burst − 1) intervals.
    tolerance_ns: u64,
    /// Theoretical arrival time of the next request, in ns since `origin`.
    tat_ns: AtomicU64,
}

impl RateLimiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        let interval_ns = (1e9 / limit.rate.per_second()).round().max(1.0) as u64;
        Self {
            origin: Instant::now(),
            interval_ns,
            tolerance_ns: interval_ns.saturating_mul(u64::from(limit.burst.max(1) - 1)),
            tat_ns: AtomicU64::new(0),
        }
    }

    /// Takes a token at `now`, or says how long until one is available.
    pub(crate) fn acquire(&self, now: Instant) -> Result<(), Duration> {
        let now_ns = now.saturating_duration_since(self.origin).as_nanos() as u64;
        let mut tat = self.tat_ns.load(Ordering::Relaxed);
        loop {
            let base = tat.max(now_ns);
            let ahead = base - now_ns;
            if ahead > self.tolerance_ns {
                return Err(Duration::from_nanos(ahead - self.tolerance_ns));
            }
            match self.tat_ns.compare_exchange_weak(
                tat,
                base + self.interval_ns,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => tat = actual,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_pinned_uniform_and_independent_per_kind() {
        // Pinned: a change here changes which requests of every scenario fault.
        let pinned = draw(0, 0, 0, FaultKind::Error);
        assert_eq!(pinned, draw(0, 0, 0, FaultKind::Error));
        assert_eq!(pinned.to_bits(), 0x3FEA_C9B0_4D52_7279, "{pinned}");
        let n = 20_000u64;
        let mut sum = 0.0;
        let mut both = 0;
        for id in 0..n {
            let a = draw(7, id, 0, FaultKind::Error);
            let b = draw(7, id, 0, FaultKind::Reset);
            assert!((0.0..1.0).contains(&a));
            sum += a;
            if a < 0.5 && b < 0.5 {
                both += 1;
            }
        }
        let mean = sum / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
        let joint = both as f64 / n as f64;
        assert!((joint - 0.25).abs() < 0.015, "joint {joint}");
        assert_ne!(
            draw(7, 1, 0, FaultKind::Stall),
            draw(7, 1, 1, FaultKind::Stall)
        );
        assert_ne!(
            draw(7, 1, 0, FaultKind::Stall),
            draw(8, 1, 0, FaultKind::Stall)
        );
    }

    #[test]
    fn decisions_follow_the_order_and_the_rates() {
        let statuses = [500, 503];
        assert_eq!(Faults::NONE.decide(&statuses, 1, 2, 3), None);
        assert!(Faults::NONE.is_none());
        let all = Faults {
            stall_rate: 1.0,
            error_rate: 1.0,
            reset_rate: 1.0,
            drip: Duration::from_millis(5),
            drip_rate: 1.0,
        };
        assert_eq!(all.decide(&statuses, 1, 2, 3), Some(Fault::Stall));
        let errors = Faults {
            stall_rate: 0.0,
            ..all
        };
        assert!(matches!(
            errors.decide(&statuses, 1, 2, 3),
            Some(Fault::Error { status: 500 | 503 })
        ));
        assert_eq!(
            errors.decide(&[], 1, 2, 3),
            Some(Fault::Error { status: 500 })
        );
        let resets = Faults {
            error_rate: 0.0,
            ..errors
        };
        assert_eq!(resets.decide(&statuses, 1, 2, 3), Some(Fault::Reset));
        let drips = Faults {
            reset_rate: 0.0,
            ..resets
        };
        assert_eq!(
            drips.decide(&statuses, 1, 2, 3),
            Some(Fault::Drip {
                over: Duration::from_millis(5)
            })
        );
        // A drip rate without a drip duration is no fault.
        let no_drip = Faults {
            drip: Duration::ZERO,
            ..drips
        };
        assert!(no_drip.is_none());
        assert_eq!(no_drip.decide(&statuses, 1, 2, 3), None);

        // Both statuses of the list come up.
        let mut seen = std::collections::BTreeSet::new();
        for id in 0..100 {
            if let Some(Fault::Error { status }) = errors.decide(&statuses, 0, id, 0) {
                seen.insert(status);
            }
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![500, 503]);
    }

    #[test]
    fn fractions_and_statuses_are_validated() {
        assert_eq!(parse_fraction("0.25"), Ok(0.25));
        assert_eq!(parse_fraction("1"), Ok(1.0));
        for bad in ["-0.1", "1.5", "x", "", "NaN"] {
            assert!(parse_fraction(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_error_status("503"), Ok(503));
        for bad in ["200", "600", "abc"] {
            assert!(parse_error_status(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_parse_in_several_spellings() {
        let r: Rate = "500/s".parse().unwrap();
        assert_eq!(r.per_second(), 500.0);
        assert_eq!(r.to_string(), "500/s");
        assert_eq!("20/ms".parse::<Rate>().unwrap().per_second(), 20_000.0);
        assert_eq!("5/100ms".parse::<Rate>().unwrap().per_second(), 50.0);
        assert_eq!("2.5/1s".parse::<Rate>().unwrap().per_second(), 2.5);
        let back: Rate = "5/100ms"
            .parse::<Rate>()
            .unwrap()
            .to_string()
            .parse()
            .unwrap();
        assert_eq!(back.per_second(), 50.0);
        for bad in ["500", "0/s", "-1/s", "x/s", "5/parsec", "5/0s", "1e12/s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
        assert_eq!(RateLimit::new("500/s".parse().unwrap()).burst, 50);
        assert_eq!(RateLimit::new("3/s".parse().unwrap()).burst, 1);
    }

    #[test]
    fn the_token_bucket_allows_the_burst_then_says_when_the_next_token_comes() {
        let limiter = RateLimiter::new(RateLimit {
            rate: "10/s".parse().unwrap(),
            burst: 3,
        });
        let t0 = limiter.origin + Duration::from_secs(5);
        for _ in 0..3 {
            assert_eq!(limiter.acquire(t0), Ok(()));
        }
        assert_eq!(limiter.acquire(t0), Err(Duration::from_millis(100)));
        let t1 = t0 + Duration::from_millis(40);
        assert_eq!(limiter.acquire(t1), Err(Duration::from_millis(60)));
        let t2 = t0 + Duration::from_millis(100);
        assert_eq!(limiter.acquire(t2), Ok(()));
        assert!(limiter.acquire(t2).is_err());
        // After a quiet second the whole burst is back, and no more.
        let t3 = t2 + Duration::from_secs(1);
        for _ in 0..3 {
            assert_eq!(limiter.acquire(t3), Ok(()));
        }
        assert!(limiter.acquire(t3).is_err());
    }
}
