//! Repetition statistics: the median of each key figure over the rounds,
//! its range, a 95% confidence interval and the coefficient of variation.
//!
//! The interval is a percentile bootstrap of the median (2,000 resamples,
//! seeded, so the same rounds give the same interval). With few rounds it is
//! as wide as the data: five rounds cannot promise more.

use std::collections::BTreeMap;

use mock_server::rng::SplitMix64;

use crate::report::{FigureStats, StrategyResult};

/// A coefficient of variation above this flags a figure as unstable.
pub const HIGH_CV: f64 = 0.05;

type Get = fn(&StrategyResult) -> Option<f64>;
type Set = fn(&mut StrategyResult, f64);

/// The figures summarised over rounds: name, read, write.
fn figures() -> Vec<(&'static str, Get, Set)> {
    vec![
        ("wall_s", |r| Some(r.wall_s), |r, v| r.wall_s = v),
        (
            "efficiency",
            |r| Some(r.efficiency),
            |r, v| r.efficiency = v,
        ),
        (
            "speedup_vs_sequential",
            |r| r.speedup_vs_sequential,
            |r, v| r.speedup_vs_sequential = Some(v),
        ),
        (
            "cpu_user_s",
            |r| Some(r.cpu_user_s),
            |r, v| r.cpu_user_s = v,
        ),
        ("cpu_sys_s", |r| Some(r.cpu_sys_s), |r, v| r.cpu_sys_s = v),
        (
            "cpu_utilisation",
            |r| Some(r.cpu_utilisation),
            |r, v| r.cpu_utilisation = v,
        ),
        (
            "peak_rss_bytes",
            |r| Some(r.peak_rss_bytes as f64),
            |r, v| r.peak_rss_bytes = v.round() as u64,
        ),
        (
            "ctx_switches_voluntary",
            |r| Some(r.ctx_switches_voluntary as f64),
            |r, v| r.ctx_switches_voluntary = v.round() as u64,
        ),
        (
            "ctx_switches_involuntary",
            |r| Some(r.ctx_switches_involuntary as f64),
            |r, v| r.ctx_switches_involuntary = v.round() as u64,
        ),
        (
            "throughput_per_s",
            |r| Some(r.throughput_per_s),
            |r, v| r.throughput_per_s = v,
        ),
        (
            "latency_p50_s",
            |r| Some(r.latency_s.p50),
            |r, v| r.latency_s.p50 = v,
        ),
        (
            "latency_p90_s",
            |r| Some(r.latency_s.p90),
            |r, v| r.latency_s.p90 = v,
        ),
        (
            "latency_p99_s",
            |r| Some(r.latency_s.p99),
            |r, v| r.latency_s.p99 = v,
        ),
        (
            "latency_max_s",
            |r| Some(r.latency_s.max),
            |r, v| r.latency_s.max = v,
        ),
        (
            "server_cpu_s",
            |r| r.server.as_ref().map(|v| v.cpu_user_s + v.cpu_sys_s),
            |_, _| {},
        ),
    ]
}

/// Median of a non-empty slice.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Median, range, bootstrap 95% interval of the median, and CV of `values`.
pub fn figure_stats(values: &[f64], seed: u64) -> FigureStats {
    let n = values.len();
    if n == 0 {
        return FigureStats::default();
    }
    let med = median(values);
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = values.iter().sum::<f64>() / n as f64;
    let var = if n > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    let cv = if mean.abs() > 0.0 {
        var.sqrt() / mean.abs()
    } else {
        0.0
    };
    let (ci95_low, ci95_high) = if n == 1 {
        (med, med)
    } else {
        let mut rng = SplitMix64::new(seed);
        let mut meds: Vec<f64> = (0..2000)
            .map(|_| {
                let sample: Vec<f64> = (0..n)
                    .map(|_| values[(rng.next_u64() % n as u64) as usize])
                    .collect();
                median(&sample)
            })
            .collect();
        meds.sort_by(f64::total_cmp);
        (meds[49], meds[1949])
    };
    FigureStats {
        median: med,
        min,
        max,
        ci95_low,
        ci95_high,
        cv,
    }
}

/// How two samples of one figure compare, beyond noise or not.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioCi {
    /// median(b) / median(a): above 1 when `a`'s figure is the smaller one
    /// (for wall time: how many times faster `a` is).
    pub ratio: f64,
    /// The 95% interval of that ratio (percentile bootstrap, each sample
    /// resampled on its own); `None` when either sample has fewer than two
    /// values, so noise cannot be told from a difference.
    pub ci95: Option<(f64, f64)>,
}

/// The verdict of a [`RatioCi`]: one of three, never a coin toss called a win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Difference {
    /// `a`'s figure is smaller beyond noise: the whole interval lies above 1.
    Smaller,
    /// `a`'s figure is larger beyond noise: the whole interval lies below 1.
    Larger,
    /// The interval includes 1: within noise.
    Tied,
    /// One round on either side: no interval, so no verdict on noise.
    Untested,
}

impl RatioCi {
    pub fn difference(&self) -> Difference {
        match self.ci95 {
            None => Difference::Untested,
            Some((lo, _)) if lo > 1.0 => Difference::Smaller,
            Some((_, hi)) if hi < 1.0 => Difference::Larger,
            Some(_) => Difference::Tied,
        }
    }
}

/// median(b) / median(a) and its 95% bootstrap interval: 2,000 resamples of
/// each sample independently (the rounds of two strategies are independent
/// runs), seeded, so the same values give the same interval. The percentile
/// bootstrap of a ratio of medians was chosen over Mann–Whitney U because it
/// answers the question the table asks, "by how much, give or take", not
/// only "which"; with three rounds a side it is as wide as the data allow.
pub fn ratio_ci(a: &[f64], b: &[f64], seed: u64) -> RatioCi {
    let ratio = median(b) / median(a);
    if a.len() < 2 || b.len() < 2 {
        return RatioCi { ratio, ci95: None };
    }
    let mut rng = SplitMix64::new(seed);
    let mut resample = |v: &[f64]| -> f64 {
        let sample: Vec<f64> = (0..v.len())
            .map(|_| v[(rng.next_u64() % v.len() as u64) as usize])
            .collect();
        median(&sample)
    };
    let mut ratios: Vec<f64> = (0..2000).map(|_| resample(b) / resample(a)).collect();
    ratios.sort_by(f64::total_cmp);
    RatioCi {
        ratio,
        ci95: Some((ratios[49], ratios[1949])),
    }
}

/// The values of figure `get` over `r`'s rounds (its one value when it ran once).
pub fn round_values(r: &StrategyResult, get: impl Fn(&StrategyResult) -> Option<f64>) -> Vec<f64> {
    if r.repeats.is_empty() {
        get(r).into_iter().collect()
    } else {
        r.repeats.iter().filter_map(get).collect()
    }
}

/// Combines one strategy's rounds into one row: key figures become medians,
/// `stats` holds their spread, and the rounds are kept in `repeats`.
/// The base of the row (timeline, failures, server side) is the round whose
/// wall time is the median one; a failure in any round fails the row.
pub fn combine(mut rounds: Vec<StrategyResult>, seed: u64) -> StrategyResult {
    assert!(!rounds.is_empty(), "a strategy ran at least once");
    let figs = figures();
    let mut stats = BTreeMap::new();
    for (i, (name, get, _)) in figs.iter().enumerate() {
        let values: Vec<f64> = rounds.iter().filter_map(get).collect();
        if !values.is_empty() {
            stats.insert(name.to_string(), figure_stats(&values, seed ^ i as u64));
        }
    }
    let n = rounds.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| rounds[a].wall_s.total_cmp(&rounds[b].wall_s));
    let worst = (0..n)
        .max_by_key(|&i| rounds[i].tasks_failed)
        .expect("non-empty");
    let mut row = rounds[order[n / 2]].clone();
    if rounds[worst].tasks_failed > 0 {
        let w = &rounds[worst];
        row.status = w.status;
        row.tasks_ok = w.tasks_ok;
        row.tasks_failed = w.tasks_failed;
        row.failures = w.failures.clone();
        row.first_failure = w.first_failure.clone();
    }
    for (name, _, set) in &figs {
        if let Some(f) = stats.get(*name) {
            set(&mut row, f.median);
        }
    }
    let mut flags: Vec<String> = rounds
        .iter()
        .flat_map(|r| r.checks.flags.iter().cloned())
        .collect();
    if n > 1 {
        for name in ["wall_s", "throughput_per_s"] {
            if stats.get(name).is_some_and(|f| f.cv > HIGH_CV) {
                flags.push(format!("high_cv:{name}"));
            }
        }
    }
    flags.sort();
    flags.dedup();
    row.checks.flags = flags;
    row.checks.bound_ok = rounds.iter().all(|r| r.checks.bound_ok);
    row.checks.requests_match = rounds.iter().all(|r| r.checks.requests_match);
    row.noise.noisy = rounds.iter().any(|r| r.noise.noisy);
    row.rounds = n;
    row.stats = stats;
    if n > 1 {
        for r in &mut rounds {
            r.timeline = Default::default();
        }
        row.repeats = rounds;
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_odd_and_even_samples() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn the_interval_contains_the_median_and_lies_within_the_range() {
        let v = [1.0, 1.1, 0.9, 1.05, 0.95, 3.0];
        let s = figure_stats(&v, 1);
        assert!(
            s.min <= s.ci95_low
                && s.ci95_low <= s.median
                && s.median <= s.ci95_high
                && s.ci95_high <= s.max
        );
        assert_eq!((s.min, s.max), (0.9, 3.0));
        assert!(s.cv > 0.3, "the outlier shows in the CV: {}", s.cv);
        assert_eq!(
            figure_stats(&v, 1),
            s,
            "seeded: the same data gives the same interval"
        );
    }

    #[test]
    fn one_round_has_no_spread() {
        let s = figure_stats(&[2.0], 0);
        assert_eq!(
            (s.median, s.ci95_low, s.ci95_high, s.cv),
            (2.0, 2.0, 2.0, 0.0)
        );
    }
    #[test]
    fn samples_apart_differ_and_overlapping_samples_tie() {
        let fast = [1.00, 1.02, 0.98, 1.01, 0.99];
        let slow = [1.50, 1.52, 1.48, 1.51, 1.49];
        let same = [1.01, 0.99, 1.00, 1.02, 0.98];
        let apart = ratio_ci(&fast, &slow, 7);
        assert!((apart.ratio - 1.5).abs() < 1e-9);
        assert_eq!(apart.difference(), Difference::Smaller);
        assert_eq!(ratio_ci(&slow, &fast, 7).difference(), Difference::Larger);
        assert_eq!(ratio_ci(&fast, &same, 7).difference(), Difference::Tied);
        let (lo, hi) = ratio_ci(&fast, &same, 7).ci95.unwrap();
        assert!(lo <= 1.0 && 1.0 <= hi, "{lo}..{hi}");
    }

    #[test]
    fn one_round_a_side_is_untested() {
        let r = ratio_ci(&[1.0], &[2.0, 2.1], 1);
        assert_eq!((r.ratio, r.difference()), (2.05, Difference::Untested));
    }
}
