//! When tasks arrive (`--arrival`): a closed loop, where each of C slots
//! starts its next task when its last one ends (a batch job; the default),
//! or an open loop, where task i is due at its own time whether or not the
//! ones before it are done (a service's clients): at a constant rate, or
//! as a Poisson process (seeded, so every strategy meets the same
//! arrivals). Under an open loop a model that falls behind starts its
//! tasks late, and its latency is measured from when each task was due
//! (corrected: no coordinated omission) as well as from when it was sent.
//!
//! Strategies never generate arrivals: the plan holds each task's due
//! time, and the clients wait for it before a task's first request.

use std::fmt;
use std::str::FromStr;

use mock_server::rng::SplitMix64;
use serde::{Deserialize, Serialize};

/// How tasks arrive.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    /// C slots, each starting its next task when its last one ends.
    #[default]
    Closed,
    /// Task i is due at i / R seconds.
    Rate { per_s: f64 },
    /// Gaps between due times drawn from an exponential distribution of mean 1/R (seeded).
    Poisson { per_s: f64 },
}

impl Arrival {
    /// The offered rate, for an open loop.
    pub fn per_s(self) -> Option<f64> {
        match self {
            Arrival::Closed => None,
            Arrival::Rate { per_s } | Arrival::Poisson { per_s } => Some(per_s),
        }
    }

    /// When each of `tasks` tasks is due, in µs after the run's start; `None` for a closed loop.
    pub fn due_us(self, tasks: usize, seed: u64) -> Option<Vec<u64>> {
        match self {
            Arrival::Closed => None,
            Arrival::Rate { per_s } => Some(
                (0..tasks as u64)
                    .map(|i| (i as f64 * 1e6 / per_s).round() as u64)
                    .collect(),
            ),
            Arrival::Poisson { per_s } => {
                let mut rng = SplitMix64::new(seed ^ 0xA771_7A15_0F00_D5ED);
                let mut t = 0.0f64;
                Some(
                    (0..tasks)
                        .map(|i| {
                            if i > 0 {
                                // Inverse CDF of the exponential; never ln(0).
                                let u = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
                                t += -u.ln() * 1e6 / per_s;
                            }
                            t.round() as u64
                        })
                        .collect(),
                )
            }
        }
    }
}

impl fmt::Display for Arrival {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arrival::Closed => f.write_str("closed"),
            Arrival::Rate { per_s } => write!(f, "rate:{per_s}/s"),
            Arrival::Poisson { per_s } => write!(f, "poisson:{per_s}/s"),
        }
    }
}

impl FromStr for Arrival {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage = "write closed, rate:500/s or poisson:500/s";
        if s == "closed" {
            return Ok(Arrival::Closed);
        }
        let (kind, rate) = s
            .split_once(':')
            .ok_or_else(|| format!("'{s}' is not an arrival schedule; {usage}"))?;
        let per_s = rate
            .parse::<mock_server::Rate>()
            .map_err(|e| format!("{e}; {usage}"))?
            .per_second();
        if !(0.01..=10_000_000.0).contains(&per_s) {
            return Err(format!(
                "an arrival rate must be from 0.01/s to 10M/s, not {rate}"
            ));
        }
        match kind {
            "rate" => Ok(Arrival::Rate { per_s }),
            "poisson" => Ok(Arrival::Poisson { per_s }),
            other => Err(format!("'{other}' is not an arrival schedule; {usage}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_and_print_back() {
        for s in ["closed", "rate:500/s", "poisson:20/s"] {
            assert_eq!(s.parse::<Arrival>().unwrap().to_string(), s);
        }
        assert_eq!(
            "rate:2/ms".parse::<Arrival>().unwrap(),
            Arrival::Rate { per_s: 2000.0 }
        );
        for bad in ["open", "rate:fast", "burst:5/s", "rate:0/s"] {
            assert!(bad.parse::<Arrival>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_constant_rate_is_evenly_spaced_and_poisson_averages_to_its_rate() {
        let even = Arrival::Rate { per_s: 100.0 }.due_us(5, 1).unwrap();
        assert_eq!(even, [0, 10_000, 20_000, 30_000, 40_000]);
        let p = Arrival::Poisson { per_s: 1000.0 }
            .due_us(20_000, 7)
            .unwrap();
        assert!(
            p.windows(2).all(|w| w[0] <= w[1]),
            "due times never go back"
        );
        let mean_gap_us = *p.last().unwrap() as f64 / 19_999.0;
        assert!((mean_gap_us - 1000.0).abs() < 30.0, "{mean_gap_us}");
        assert_eq!(
            p,
            Arrival::Poisson { per_s: 1000.0 }
                .due_us(20_000, 7)
                .unwrap()
        );
        assert_eq!(Arrival::Closed.due_us(3, 1), None);
    }
}
