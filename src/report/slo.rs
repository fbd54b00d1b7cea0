//! A latency objective (`--slo p99<50ms`) and, over a sweep of offered
//! load (`--param arrival=…`), the highest rate each model sustains under
//! it: every task verified and the quantile of its latency from when tasks
//! were due (the corrected latency; the raw one for a closed loop) below
//! the limit.

use std::fmt;
use std::str::FromStr;

use super::{Percentiles, StrategyResult, SweepReport};

/// Which latency quantile an objective bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantile {
    P50,
    P90,
    P99,
    P999,
}

impl Quantile {
    fn of(self, p: &Percentiles) -> f64 {
        match self {
            Quantile::P50 => p.p50,
            Quantile::P90 => p.p90,
            Quantile::P99 => p.p99,
            Quantile::P999 => p.p999,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Quantile::P50 => "p50",
            Quantile::P90 => "p90",
            Quantile::P99 => "p99",
            Quantile::P999 => "p99.9",
        }
    }
}

/// `p99<50ms`: a quantile of the latency from due, and its limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slo {
    pub quantile: Quantile,
    pub below_s: f64,
}

impl FromStr for Slo {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage =
            "write a latency quantile and its limit, e.g. p99<50ms (p50, p90, p99 or p99.9)";
        let (q, limit) = s
            .split_once('<')
            .ok_or_else(|| format!("'{s}' is not an objective; {usage}"))?;
        let quantile = match q.trim() {
            "p50" => Quantile::P50,
            "p90" => Quantile::P90,
            "p99" => Quantile::P99,
            "p99.9" | "p999" => Quantile::P999,
            other => return Err(format!("'{other}' is not a latency quantile; {usage}")),
        };
        let below =
            crate::units::parse_duration(limit.trim()).map_err(|e| format!("{e}; {usage}"))?;
        if below.is_zero() {
            return Err(format!("a latency limit must be more than 0; {usage}"));
        }
        Ok(Slo {
            quantile,
            below_s: below.as_secs_f64(),
        })
    }
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}<{}",
            self.quantile.name(),
            crate::units::format_seconds(self.below_s)
        )
    }
}

impl Slo {
    /// Whether `r` meets the objective: every task verified, the quantile below the limit.
    pub fn met_by(&self, r: &StrategyResult) -> bool {
        let p = r.latency_corrected_s.unwrap_or(r.latency_s);
        r.tasks_failed == 0 && self.quantile.of(&p) < self.below_s
    }

    /// Per strategy (in the order they first appear), the highest offered
    /// rate of the sweep's `arrival` parameter at which it met the
    /// objective, if any; `None` when `arrival` was not swept.
    pub fn sustained(&self, sweep: &SweepReport) -> Option<Vec<(String, Option<f64>)>> {
        let param = sweep.params.iter().find(|p| *p == "arrival")?;
        let mut out: Vec<(String, Option<f64>)> = Vec::new();
        for cell in &sweep.cells {
            let rate = cell.x.get(param).copied().unwrap_or(0.0);
            for r in &cell.report.results {
                let i = match out.iter().position(|(s, _)| *s == r.strategy) {
                    Some(i) => i,
                    None => {
                        out.push((r.strategy.clone(), None));
                        out.len() - 1
                    }
                };
                if self.met_by(r) && out[i].1.is_none_or(|best| rate > best) {
                    out[i].1 = Some(rate);
                }
            }
        }
        Some(out)
    }

    /// One line: who sustains what under the objective, and who most.
    pub fn line(&self, sweep: &SweepReport) -> Option<String> {
        let rows = self.sustained(sweep)?;
        let parts: Vec<String> = rows
            .iter()
            .map(|(s, r)| match r {
                Some(rate) => format!("{s} {rate}/s"),
                None => format!("{s} none of the rates"),
            })
            .collect();
        let best = rows
            .iter()
            .filter_map(|(_, r)| *r)
            .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))));
        let most: Vec<&str> = rows
            .iter()
            .filter(|(_, r)| r.is_some() && *r == best)
            .map(|(s, _)| s.as_str())
            .collect();
        Some(format!(
            "SLO {self} (latency from due): {}; {}",
            parts.join(", "),
            match (most.len(), best) {
                (0, _) | (_, None) => "no model meets it".into(),
                (1, Some(r)) => format!("{} sustains most ({r}/s)", most[0]),
                (_, Some(r)) => format!("{} sustain most ({r}/s)", most.join(" and ")),
            }
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_parse_print_and_refuse_with_the_spelling() {
        let slo: Slo = "p99<50ms".parse().unwrap();
        assert_eq!((slo.quantile, slo.below_s), (Quantile::P99, 0.05));
        assert_eq!(slo.to_string(), "p99<50.0ms");
        assert_eq!(
            slo.to_string().parse::<Slo>(),
            Ok(slo),
            "kept in a sweep file and read back"
        );
        assert_eq!(
            "p99.9 < 1s".parse::<Slo>().unwrap().quantile,
            Quantile::P999
        );
        for bad in ["p99>50ms", "p42<1ms", "p99<soon", "p99<0ms"] {
            let e = bad.parse::<Slo>().unwrap_err();
            assert!(e.contains("p99<50ms"), "{bad}: {e}");
        }
    }
}
