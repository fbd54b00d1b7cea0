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
            |r| Some(r.server.cpu_user_s + r.server.cpu_sys_s),
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
}
