//! Latency distributions: what `--latency` accepts and how a latency is drawn.
//!
//! The client draws every task's latency from a seeded [`LatencyDist`] and
//! sends it with the request, so every strategy meets the same latencies; the
//! server uses the same type for requests that carry none.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::rng::SplitMix64;
use crate::units::{format_duration, parse_duration};

/// The spellings `--latency` accepts, shown in every parse error.
pub const LATENCY_FORMS: &str =
    "50ms, uniform:200ms..700ms, normal:50ms,10ms, exp:20ms or lognormal:50ms,0.5 (median, sigma)";

/// A distribution of per-request latencies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LatencyDist {
    /// Every request takes the same time.
    Fixed(Duration),
    /// Uniform between `low` and `high` (inclusive of `low`).
    Uniform { low: Duration, high: Duration },
    /// Normal, truncated at zero.
    Normal { mean: Duration, std_dev: Duration },
    /// Exponential with the given mean.
    Exp { mean: Duration },
    /// Log-normal with the given median and shape `sigma` (of the underlying normal).
    LogNormal { median: Duration, sigma: f64 },
}

/// A `--latency` value that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{input}' is not a latency distribution ({why}); use one of {LATENCY_FORMS}")]
pub struct DistError {
    input: String,
    why: String,
}

impl LatencyDist {
    /// Draws one latency, rounded to whole microseconds.
    pub fn sample(&self, rng: &mut SplitMix64) -> Duration {
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let value_us = match *self {
            LatencyDist::Fixed(d) => us(d),
            LatencyDist::Uniform { low, high } => us(low) + (us(high) - us(low)) * rng.next_f64(),
            LatencyDist::Normal { mean, std_dev } => us(mean) + us(std_dev) * rng.next_normal(),
            LatencyDist::Exp { mean } => -us(mean) * rng.next_f64_open().ln(),
            LatencyDist::LogNormal { median, sigma } => {
                us(median) * (sigma * rng.next_normal()).exp()
            }
        };
        Duration::from_micros(value_us.max(0.0).round() as u64)
    }

    /// The distribution's mean (used for defaults and sanity checks, not for the bound,
    /// which sums the latencies actually drawn).
    pub fn mean(&self) -> Duration {
        match *self {
            LatencyDist::Fixed(d) => d,
            LatencyDist::Uniform { low, high } => (low + high) / 2,
            LatencyDist::Normal { mean, .. } => mean,
            LatencyDist::Exp { mean } => mean,
            LatencyDist::LogNormal { median, sigma } => median.mul_f64((sigma * sigma / 2.0).exp()),
        }
    }
}

impl FromStr for LatencyDist {
    type Err = DistError;

    fn from_str(input: &str) -> Result<Self, DistError> {
        let err = |why: String| DistError {
            input: input.to_string(),
            why,
        };
        let dur = |s: &str| {
            parse_duration(s).map_err(|_| err(format!("'{s}' is not a duration such as 50ms")))
        };
        let s = input.trim();
        let (kind, args) = match s.split_once(':') {
            Some((k, a)) => (k.trim(), a.trim()),
            None => ("fixed", s),
        };
        let two = |sep: &str| -> Result<(&str, &str), DistError> {
            args.split_once(sep)
                .map(|(a, b)| (a.trim(), b.trim()))
                .ok_or_else(|| err(format!("'{kind}' takes two values separated by '{sep}'")))
        };
        let dist = match kind {
            "fixed" => LatencyDist::Fixed(dur(args)?),
            "uniform" => {
                let (a, b) = two("..")?;
                let (low, high) = (dur(a)?, dur(b)?);
                if low > high {
                    return Err(err("the low end is above the high end".into()));
                }
                LatencyDist::Uniform { low, high }
            }
            "normal" => {
                let (a, b) = two(",")?;
                LatencyDist::Normal {
                    mean: dur(a)?,
                    std_dev: dur(b)?,
                }
            }
            "exp" => LatencyDist::Exp { mean: dur(args)? },
            "lognormal" => {
                let (a, b) = two(",")?;
                let sigma: f64 = b
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0 && *s <= 10.0)
                    .ok_or_else(|| err(format!("sigma '{b}' must be a number from 0 to 10")))?;
                LatencyDist::LogNormal {
                    median: dur(a)?,
                    sigma,
                }
            }
            other => return Err(err(format!("unknown distribution '{other}'"))),
        };
        Ok(dist)
    }
}

impl fmt::Display for LatencyDist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = |d: Duration| format_duration(d);
        match *self {
            LatencyDist::Fixed(x) => write!(f, "{}", d(x)),
            LatencyDist::Uniform { low, high } => write!(f, "uniform:{}..{}", d(low), d(high)),
            LatencyDist::Normal { mean, std_dev } => write!(f, "normal:{},{}", d(mean), d(std_dev)),
            LatencyDist::Exp { mean } => write!(f, "exp:{}", d(mean)),
            LatencyDist::LogNormal { median, sigma } => {
                write!(f, "lognormal:{},{sigma}", d(median))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> Duration {
        Duration::from_millis(x)
    }

    #[test]
    fn every_documented_form_parses_and_prints_back() {
        for text in [
            "50ms",
            "uniform:200ms..700ms",
            "normal:50ms,10ms",
            "exp:20ms",
            "lognormal:50ms,0.5",
        ] {
            let dist: LatencyDist = text.parse().unwrap();
            assert_eq!(dist.to_string(), text);
        }
        assert_eq!(
            "fixed:5ms".parse::<LatencyDist>().unwrap(),
            LatencyDist::Fixed(ms(5))
        );
    }

    #[test]
    fn malformed_distributions_name_the_accepted_forms() {
        for bad in [
            "abc",
            "uniform:5ms",
            "uniform:9ms..1ms",
            "normal:5ms",
            "lognormal:5ms,x",
            "zipf:3",
        ] {
            let e = bad.parse::<LatencyDist>().unwrap_err().to_string();
            assert!(e.contains("uniform:200ms..700ms"), "{e}");
        }
    }

    #[test]
    fn samples_follow_their_distribution() {
        let mut rng = SplitMix64::new(42);
        let n = 20_000;
        for dist in [
            LatencyDist::Uniform {
                low: ms(200),
                high: ms(700),
            },
            LatencyDist::Normal {
                mean: ms(50),
                std_dev: ms(10),
            },
            LatencyDist::Exp { mean: ms(20) },
            LatencyDist::LogNormal {
                median: ms(50),
                sigma: 0.5,
            },
        ] {
            let total: f64 = (0..n).map(|_| dist.sample(&mut rng).as_secs_f64()).sum();
            let mean = total / n as f64;
            let want = dist.mean().as_secs_f64();
            assert!(
                (mean - want).abs() / want < 0.03,
                "{dist}: mean {mean} vs {want}"
            );
        }
        let u = LatencyDist::Uniform {
            low: ms(200),
            high: ms(700),
        };
        assert!((0..1000).all(|_| (ms(200)..=ms(700)).contains(&u.sample(&mut rng))));
    }
}
