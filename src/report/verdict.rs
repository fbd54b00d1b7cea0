//! The verdict of a run: which verified strategy is fastest, and whether
//! its lead over each other one is beyond noise or a tie.
//!
//! One rule, read by the table (the line under it), `summary.md`, the HTML
//! report, the crossover map and `--repeat auto`: the fastest is the first
//! of [`ranking`] (the lowest median wall time among strategies whose every
//! task verified); every other verified strategy is held against it with
//! [`ratio_ci`] over the rounds' wall times: its median wall over the
//! fastest's, with a percentile-bootstrap 95% interval. An interval above 1
//! is a lead beyond noise; one that includes 1 is a tie; one round on either
//! side leaves the verdict untested (no interval).

use std::fmt::Write as _;

use super::stats::{ratio_ci, round_values, Difference, RatioCi};
use super::winner::{median_wall, ranking};
use super::{RunReport, StrategyResult};

/// Seed of the bootstrap, so the same rounds always give the same verdict.
const SEED: u64 = 0x5EED_7E5D;

/// A run's verdict (see the module's doc).
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The fastest verified strategy and its median wall time; `None` when
    /// no strategy verified every task.
    pub fastest: Option<(String, f64)>,
    /// Every other verified strategy held against the fastest, fastest first.
    pub others: Vec<Versus>,
}

/// One strategy held against the fastest.
#[derive(Debug, Clone, PartialEq)]
pub struct Versus {
    pub strategy: String,
    /// Its median wall time.
    pub wall_s: f64,
    /// Its median wall over the fastest's (how many times faster the
    /// fastest is), with the 95% interval when both ran more than once.
    pub ratio: RatioCi,
}

/// Where one strategy stands against the fastest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Slower beyond noise: the ratio's interval lies above 1.
    Slower,
    /// Within noise: the interval includes 1 (or, against the ranking,
    /// lies below it: still no lead for either).
    Tied,
    /// One round on either side: no interval.
    Untested,
}

impl Versus {
    pub fn standing(&self) -> Standing {
        match self.ratio.difference() {
            Difference::Smaller => Standing::Slower,
            Difference::Tied | Difference::Larger => Standing::Tied,
            Difference::Untested => Standing::Untested,
        }
    }

    /// `1.16× async (95% CI 1.10–1.22)`, or without the interval when untested.
    fn phrase(&self) -> String {
        let r = self.ratio.ratio;
        match self.ratio.ci95 {
            Some((lo, hi)) => format!(
                "{} {} (95% CI {}–{})",
                times(r),
                self.strategy,
                like(r, lo),
                like(r, hi)
            ),
            None => format!("{} {}", times(self.ratio.ratio), self.strategy),
        }
    }
}

/// The verdict of `report`.
pub fn verdict(report: &RunReport) -> Verdict {
    of_results(&report.results)
}

/// The verdict of a run's rows (also asked of the rounds so far by `--repeat auto`).
pub fn of_results(results: &[StrategyResult]) -> Verdict {
    let ranked = ranking(results);
    let Some(first) = ranked.first() else {
        return Verdict {
            fastest: None,
            others: Vec::new(),
        };
    };
    let walls = |r: &StrategyResult| round_values(r, |r| Some(r.wall_s));
    let fastest_walls = walls(first);
    let others = ranked[1..]
        .iter()
        .enumerate()
        .map(|(i, r)| Versus {
            strategy: r.strategy.clone(),
            wall_s: median_wall(r),
            ratio: ratio_ci(&fastest_walls, &walls(r), SEED ^ i as u64),
        })
        .collect();
    Verdict {
        fastest: Some((first.strategy.clone(), median_wall(first))),
        others,
    }
}

impl Verdict {
    /// The strategies tied with the fastest.
    pub fn tied(&self) -> Vec<&Versus> {
        self.others
            .iter()
            .filter(|v| v.standing() == Standing::Tied)
            .collect()
    }

    /// The fastest strategy that is not tied with the fastest (slower beyond
    /// noise, or untested).
    pub fn next(&self) -> Option<&Versus> {
        self.others.iter().find(|v| v.standing() != Standing::Tied)
    }

    /// Whether the top of the ranking is settled: the fastest leads the
    /// runner-up beyond noise, or nothing else verified to be ranked against it.
    pub fn decided(&self) -> bool {
        self.fastest.is_some()
            && self
                .others
                .first()
                .is_none_or(|v| v.standing() == Standing::Slower)
    }

    /// Whether the verdict rests on a single round (no interval to test with).
    pub fn untested(&self) -> bool {
        self.others
            .first()
            .is_some_and(|v| v.standing() == Standing::Untested)
    }

    /// The verdict in one line, e.g. `async-rayon is fastest: 1.16× async
    /// (95% CI 1.10–1.22)` or `tie for fastest: thread-pool ≈ async (...)`.
    pub fn line(&self) -> String {
        let Some((fastest, _)) = &self.fastest else {
            return "no verdict: no strategy verified every task".into();
        };
        let Some(runner_up) = self.others.first() else {
            return format!("{fastest} is the only strategy whose every task verified");
        };
        if self.untested() {
            return format!(
                "{fastest} is fastest: {}; untested: one round, no confidence interval \
                 (use --repeat 3 or more, or --repeat auto)",
                runner_up.phrase()
            );
        }
        let tied = self.tied();
        let mut out = if tied.is_empty() {
            format!("{fastest} is fastest: {}", runner_up.phrase())
        } else {
            let names: Vec<&str> = std::iter::once(fastest.as_str())
                .chain(tied.iter().map(|v| v.strategy.as_str()))
                .collect();
            let ratios: Vec<String> = tied.iter().map(|v| v.phrase()).collect();
            let mut s = format!(
                "tie for fastest: {} (within noise: {fastest} is {})",
                names.join(" ≈ "),
                ratios.join(", ")
            );
            if let Some(next) = self.next() {
                let _ = write!(s, "; {fastest} is {}", next.phrase());
            }
            s
        };
        if !tied.is_empty() || self.others.len() == 1 {
            return out;
        }
        // Ties further down, said after the lead.
        let later: Vec<&str> = self.others[1..]
            .iter()
            .filter(|v| v.standing() == Standing::Tied)
            .map(|v| v.strategy.as_str())
            .collect();
        if !later.is_empty() {
            let _ = write!(out, "; {} tied with {fastest}", later.join(" and "));
        }
        out
    }

    /// The two lines of a crossover-map cell and the strategies whose
    /// colours fill it (several when tied): the lead's, or `tie: a ≈ b`.
    pub fn cell(&self) -> Cell {
        let Some((fastest, _)) = &self.fastest else {
            return Cell {
                title: "none verified".into(),
                detail: String::new(),
                short: String::new(),
                strategies: Vec::new(),
            };
        };
        let Some(runner_up) = self.others.first() else {
            return Cell {
                title: fastest.clone(),
                detail: "only one verified".into(),
                short: "only one verified".into(),
                strategies: vec![fastest.clone()],
            };
        };
        let tied = self.tied();
        if !tied.is_empty() {
            let mut names: Vec<&str> = vec![fastest.as_str(), tied[0].strategy.as_str()];
            let more = tied.len() - 1;
            let title = if more > 0 {
                format!("tie: {} +{more}", names.join(" ≈ "))
            } else {
                format!("tie: {}", names.join(" ≈ "))
            };
            names.extend(tied[1..].iter().map(|v| v.strategy.as_str()));
            let r = tied[0].ratio.ratio;
            let detail = match tied[0].ratio.ci95 {
                Some((lo, hi)) => format!(
                    "within noise: {} (CI {}–{})",
                    times(r),
                    like(r, lo),
                    like(r, hi)
                ),
                None => "within noise".into(),
            };
            return Cell {
                title,
                detail,
                short: "within noise".into(),
                strategies: names.into_iter().map(str::to_string).collect(),
            };
        }
        let m = times(runner_up.ratio.ratio);
        let (detail, short) = match runner_up.standing() {
            Standing::Untested => (
                format!("{m} vs {}, untested", runner_up.strategy),
                format!("{m}?"),
            ),
            _ => (format!("{m} vs {}", runner_up.strategy), m),
        };
        Cell {
            title: fastest.clone(),
            detail,
            short,
            strategies: vec![fastest.clone()],
        }
    }
}

/// What a crossover-map cell shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The first line: the fastest, or `tie: a ≈ b`.
    pub title: String,
    /// The second line, long form (`1.16× vs async`).
    pub detail: String,
    /// The second line when the long one does not fit (`1.16×`).
    pub short: String,
    /// The strategies whose colours fill the cell (none: none verified).
    pub strategies: Vec<String>,
}

/// A ratio as the verdict prints it: `1.16×`, `15.2×`.
fn times(r: f64) -> String {
    format!("{}×", like(r, r))
}

/// `v` with as many decimals as a ratio of `r` is printed with: three
/// within 1% of 1 (where a lead beyond noise can be that small), two below
/// 10, one above (an interval reads in the same digits as its ratio).
fn like(r: f64, v: f64) -> String {
    if r < 1.01 {
        format!("{v:.3}")
    } else if r < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    /// A verified row whose rounds took `walls` seconds.
    fn row(name: &str, walls: &[f64]) -> StrategyResult {
        let mut r: StrategyResult =
            serde_json::from_str(include_str!("testdata/row.json")).expect("a row");
        r.strategy = name.into();
        r.status = Status::Ok;
        r.tasks_failed = 0;
        let rounds: Vec<StrategyResult> = walls
            .iter()
            .map(|&w| StrategyResult {
                wall_s: w,
                ..r.clone()
            })
            .collect();
        super::super::stats::combine(rounds, 1)
    }

    const FAST: [f64; 5] = [1.00, 1.02, 0.98, 1.01, 0.99];
    const SAME: [f64; 5] = [1.01, 0.99, 1.00, 1.02, 0.98];
    const SLOW: [f64; 5] = [1.50, 1.52, 1.48, 1.51, 1.49];

    #[test]
    fn two_equal_samples_are_tied() {
        let v = of_results(&[row("a", &FAST), row("b", &SAME)]);
        assert_eq!(v.others[0].standing(), Standing::Tied);
        assert!(!v.decided());
        assert!(v.line().starts_with("tie for fastest: "), "{}", v.line());
        assert!(v.cell().title.starts_with("tie: "), "{:?}", v.cell());
        assert_eq!(v.cell().strategies.len(), 2);
    }

    #[test]
    fn a_clearly_faster_strategy_is_fastest_beyond_noise() {
        let v = of_results(&[row("slow", &SLOW), row("fast", &FAST)]);
        assert_eq!(v.fastest.as_ref().map(|f| f.0.as_str()), Some("fast"));
        assert_eq!(v.others[0].standing(), Standing::Slower);
        assert!(v.decided());
        let line = v.line();
        assert!(
            line.starts_with("fast is fastest: 1.50× slow (95% CI "),
            "{line}"
        );
        assert_eq!(v.cell().detail, "1.50× vs slow");
    }

    #[test]
    fn one_round_leaves_the_verdict_untested() {
        let v = of_results(&[row("a", &[1.0]), row("b", &[1.5])]);
        assert_eq!(v.others[0].standing(), Standing::Untested);
        assert!(v.untested() && !v.decided());
        assert!(v.line().contains("untested"), "{}", v.line());
        assert!(!v.line().contains("CI 1"), "{}", v.line());
    }

    #[test]
    fn a_lead_with_a_tie_below_it_says_both() {
        let v = of_results(&[row("a", &FAST), row("b", &SLOW), row("c", &SLOW)]);
        let line = v.line();
        assert!(line.starts_with("a is fastest: 1.50× b"), "{line}");
        // b and c are both beyond noise behind a: no tie with a.
        assert!(!line.contains("tied"), "{line}");
        let v = of_results(&[row("a", &FAST), row("b", &SAME), row("c", &SLOW)]);
        let line = v.line();
        assert!(line.starts_with("tie for fastest: a ≈ b"), "{line}");
        assert!(line.contains("; a is 1.50× c (95% CI"), "{line}");
    }

    #[test]
    fn no_verified_strategy_has_no_fastest() {
        let mut failed = row("a", &FAST);
        failed.tasks_failed = 1;
        let v = of_results(&[failed]);
        assert_eq!(v.fastest, None);
        assert!(!v.decided());
        assert_eq!(v.cell().title, "none verified");
    }
}
