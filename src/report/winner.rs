//! The one rule for "which strategy won", used by the charts and by
//! `summary.md` alike: the lowest median wall time among the strategies
//! whose every task verified. Whether that lead is beyond noise is the
//! verdict's question ([`mod@super::verdict`]), asked of this same ranking.

use super::{RunReport, Status, StrategyResult};

/// The fastest strategy of a run among those whose every task verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Winner {
    pub strategy: String,
    /// Its median wall time.
    pub wall_s: f64,
    /// The next fastest verified strategy and its median wall time.
    pub runner_up: Option<(String, f64)>,
}

impl Winner {
    /// The runner-up's wall time over the winner's (how many times faster it won).
    pub fn margin(&self) -> Option<f64> {
        self.runner_up
            .as_ref()
            .map(|(_, w)| w / self.wall_s.max(f64::MIN_POSITIVE))
    }
}

/// Which strategy of `report` won: lowest median wall time among the
/// strategies whose tasks all verified; `None` when none did.
pub fn winner(report: &RunReport) -> Option<Winner> {
    let ok = ranking(&report.results);
    let first = ok.first()?;
    Some(Winner {
        strategy: first.strategy.clone(),
        wall_s: median_wall(first),
        runner_up: ok.get(1).map(|r| (r.strategy.clone(), median_wall(r))),
    })
}

/// The strategies of `results` whose every task verified (and that took
/// some time), fastest first by median wall time: the order [`winner`] and
/// the verdicts ([`mod@super::verdict`]) read.
pub fn ranking(results: &[StrategyResult]) -> Vec<&StrategyResult> {
    let mut ok: Vec<&StrategyResult> = results
        .iter()
        .filter(|r| verified(r))
        .filter(|r| median_wall(r).is_finite() && median_wall(r) > 0.0)
        .collect();
    ok.sort_by(|a, b| median_wall(a).total_cmp(&median_wall(b)));
    ok
}

/// Whether every task of `r` verified.
pub fn verified(r: &StrategyResult) -> bool {
    r.status == Status::Ok && r.tasks_failed == 0
}

/// `r`'s median wall time over its rounds (its wall time when it ran once).
pub fn median_wall(r: &StrategyResult) -> f64 {
    r.stats.get("wall_s").map(|s| s.median).unwrap_or(r.wall_s)
}
