//! The performance gate: `concbench check --baseline FILE`. Its suite is a
//! scenario file of sections with relative thresholds (`scenarios/check-suite.toml`,
//! built in by `cli::suite`); this runs it and holds it against the baseline.
//!
//! Absolute times drift by tens of percent between runs on shared 2-core
//! machines, so the gate watches figures that stay put: efficiency against
//! the bound, ratios between strategies measured in the same run, and client
//! CPU per request expressed in CPU-kernel units calibrated in the same run
//! (so a slower machine does not look like a regression). Every figure is a
//! median over rounds; a figure that looks regressed is measured again and
//! only counts if it is regressed both times.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::bench::{self, RunOptions, Target};
use crate::error::UsageError;
use crate::report::figure::Figure;
use crate::report::threshold::{Limit, Op, Selector, Threshold};
use crate::report::RunReport;
use crate::strategy::StrategyKind;
use crate::strategy::StrategyOptions;
use crate::sys::fs::write_atomically;
use crate::workload::Workload;

/// Version of the baseline file layout.
pub const BASELINE_VERSION: u32 = 1;

/// Which way is better for a metric (the baseline file spells it `higher` or `lower`).
pub use crate::report::figure::Better;

/// One watched figure in a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaselineMetric {
    pub value: f64,
    pub better: Better,
    /// Relative change in the worse direction that counts as a regression (0.10 = 10%).
    pub tolerance: f64,
}

/// A saved baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub schema_version: u32,
    /// Always `baseline`.
    pub kind: String,
    pub concbench_version: String,
    /// Where it was measured (CPU model, kernel), for the reader.
    pub machine: String,
    pub metrics: BTreeMap<String, BaselineMetric>,
}

/// One line of the gate's verdict table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub metric: String,
    pub baseline: f64,
    pub now: f64,
    /// Relative change, positive = larger.
    pub change: f64,
    pub regressed: bool,
}

/// One scenario of the suite: a workload, the strategies it runs, and the
/// figures it watches, as thresholds relative to the baseline
/// (`async.efficiency>=0.88x`: higher is better, 12% tolerated).
#[derive(Debug, Clone)]
pub struct SuiteScenario {
    /// The section's name, the first word of its metrics (`io.async.efficiency`).
    pub name: String,
    pub workload: Workload,
    pub kinds: Vec<StrategyKind>,
    pub thresholds: Vec<Threshold>,
}

/// One watched figure: a threshold of the suite as the baseline file keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// `scenario.strategy.figure`.
    pub metric: String,
    pub strategy: StrategyKind,
    pub figure: Figure,
    pub better: Better,
    /// Relative change tolerated in the worse direction.
    pub tolerance: f64,
}

impl SuiteScenario {
    /// A scenario whose every threshold names one of its strategies and is
    /// relative (`>=` or `>` a factor for a higher-is-better figure, `<=` or `<` for the other).
    pub fn new(
        name: &str,
        workload: Workload,
        kinds: Vec<StrategyKind>,
        thresholds: Vec<Threshold>,
    ) -> Result<Self, String> {
        let s = Self {
            name: name.to_string(),
            workload,
            kinds,
            thresholds,
        };
        for t in &s.thresholds {
            s.probe(t)?;
        }
        Ok(s)
    }

    /// Threshold `t` as a watched figure.
    fn probe(&self, t: &Threshold) -> Result<Probe, String> {
        let bad = |why: &str| format!("[{}] '{}': {why}", self.name, t.text);
        let Selector::Strategy(strategy) = t.selector else {
            return Err(bad("name one strategy, not *"));
        };
        if !self.kinds.contains(&strategy) {
            return Err(bad("watches a strategy its scenario does not run"));
        }
        let Limit::Relative(factor) = t.limit else {
            return Err(bad(
                "the gate's thresholds are factors of the baseline, e.g. >=0.88x",
            ));
        };
        let better = match t.op {
            Op::Ge | Op::Gt if factor <= 1.0 => Better::Higher,
            Op::Le | Op::Lt if factor >= 1.0 => Better::Lower,
            _ => return Err(bad("use >= with a factor up to 1, or <= with one from 1")),
        };
        Ok(Probe {
            metric: format!("{}.{}.{}", self.name, strategy, t.figure),
            strategy,
            figure: t.figure,
            better,
            // The factor as a tolerance, without the float's tail (1 - 0.88 = 0.1199...).
            tolerance: ((1.0 - factor).abs() * 1e9).round() / 1e9,
        })
    }

    /// Every watched figure of this scenario.
    pub fn probes(&self) -> Vec<Probe> {
        self.thresholds
            .iter()
            .filter_map(|t| self.probe(t).ok())
            .collect()
    }
}

/// The watched figures of one scenario's report, named
/// `scenario.strategy.figure`, with their direction and tolerance.
fn metrics_of(scenario: &SuiteScenario, report: &RunReport) -> BTreeMap<String, BaselineMetric> {
    let mut m = BTreeMap::new();
    for p in scenario.probes() {
        let Some(r) = report
            .results
            .iter()
            .find(|r| r.strategy == p.strategy.name())
        else {
            continue;
        };
        if let Some(value) = p.figure.read(r, &report.meta).filter(|v| v.is_finite()) {
            m.insert(
                p.metric,
                BaselineMetric {
                    value,
                    better: p.better,
                    tolerance: p.tolerance,
                },
            );
        }
    }
    m
}

/// Options of one gate run.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Rounds per scenario (medians).
    pub repeat: usize,
    pub worker_exe: Option<std::path::PathBuf>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            repeat: 3,
            worker_exe: None,
        }
    }
}

/// Runs the quick suite against `target` and returns every watched figure.
pub fn measure_suite(
    suite: &[SuiteScenario],
    target: &Target,
    opts: &CheckOptions,
    only: Option<&[String]>,
) -> anyhow::Result<BTreeMap<String, BaselineMetric>> {
    let mut all = BTreeMap::new();
    for s in suite {
        if let Some(only) = only {
            if !only.iter().any(|m| m.starts_with(&format!("{}.", s.name))) {
                continue;
            }
        }
        let options = RunOptions {
            repeat: opts.repeat.max(1),
            warmup: 1,
            strategy: StrategyOptions {
                worker_exe: opts.worker_exe.clone(),
                ..StrategyOptions::default()
            },
            scenario: Some(format!("check-{}", s.name)),
            ..RunOptions::default()
        };
        let report = bench::run_workload(&s.workload, &s.kinds, target, &options)
            .with_context(|| format!("the {} scenario of the check suite", s.name))?;
        if let Some(bad) = report.results.iter().find(|r| r.tasks_failed > 0) {
            anyhow::bail!(
                "the {} scenario failed verification ({}: {})",
                s.name,
                bad.strategy,
                bad.first_failure.as_deref().unwrap_or("?")
            );
        }
        all.extend(metrics_of(s, &report));
    }
    Ok(all)
}

/// Compares figures with a baseline.
pub fn compare(baseline: &Baseline, now: &BTreeMap<String, BaselineMetric>) -> Vec<Verdict> {
    baseline
        .metrics
        .iter()
        .map(|(name, b)| {
            let value = now.get(name).map(|m| m.value).unwrap_or(f64::NAN);
            let change = (value - b.value) / b.value;
            // The baseline's metric as a threshold: `>= (1 - tolerance)x` of
            // its value when higher is better, `<= (1 + tolerance)x` when lower
            // is; a missing figure (NaN) holds no threshold, so it regresses.
            let (op, factor) = match b.better {
                Better::Higher => (Op::Ge, 1.0 - b.tolerance),
                Better::Lower => (Op::Le, 1.0 + b.tolerance),
            };
            let regressed = !op.holds(value, b.value * factor);
            Verdict {
                metric: name.clone(),
                baseline: b.value,
                now: value,
                change,
                regressed,
            }
        })
        .collect()
}

/// Loads a baseline, with one clear line on what is wrong with it.
pub fn load_baseline(path: &Path) -> Result<Baseline, UsageError> {
    let what = format!("baseline {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| {
        UsageError::new(
            what.clone(),
            format!("cannot be read ({e}); create one with `concbench check --baseline {} --update-baseline`", path.display()),
        )
    })?;
    let b: Baseline = serde_json::from_str(&text).map_err(|e| {
        UsageError::new(
            what.clone(),
            format!("is not a valid baseline ({e}); write a new one with --update-baseline"),
        )
    })?;
    if b.schema_version != BASELINE_VERSION || b.kind != "baseline" {
        return Err(UsageError::new(
            what,
            format!(
                "is a {} file of version {}, this concbench reads baseline version {BASELINE_VERSION}; write a new one with --update-baseline",
                b.kind, b.schema_version
            ),
        ));
    }
    if b.metrics.is_empty() {
        return Err(UsageError::new(
            what,
            "watches no metric; write a new one with --update-baseline",
        ));
    }
    Ok(b)
}

/// Writes a baseline atomically.
pub fn save_baseline(path: &Path, metrics: BTreeMap<String, BaselineMetric>) -> anyhow::Result<()> {
    let m = crate::measure::machine::MachineContext::read();
    let b = Baseline {
        schema_version: BASELINE_VERSION,
        kind: "baseline".into(),
        concbench_version: env!("CARGO_PKG_VERSION").into(),
        machine: format!(
            "{} cores, {}, kernel {}",
            m.cores_online, m.cpu_model, m.kernel
        ),
        metrics,
    };
    let text = serde_json::to_string_pretty(&b).expect("baseline serialises") + "\n";
    write_atomically(path, &text)
        .with_context(|| format!("cannot write the baseline {}", path.display()))
}

/// The verdict table.
pub fn render(verdicts: &[Verdict]) -> String {
    let mut out = format!(
        "{:<40} {:>12} {:>12} {:>9}  verdict\n",
        "metric", "baseline", "now", "change"
    );
    for v in verdicts {
        out += &format!(
            "{:<40} {:>12.4} {:>12.4} {:>+8.1}%  {}\n",
            v.metric,
            v.baseline,
            v.now,
            v.change * 100.0,
            if v.regressed { "REGRESSED" } else { "ok" }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline(value: f64, better: Better) -> Baseline {
        Baseline {
            schema_version: BASELINE_VERSION,
            kind: "baseline".into(),
            concbench_version: "test".into(),
            machine: "test".into(),
            metrics: BTreeMap::from([(
                "m".into(),
                BaselineMetric {
                    value,
                    better,
                    tolerance: 0.1,
                },
            )]),
        }
    }

    fn now(value: f64) -> BTreeMap<String, BaselineMetric> {
        BTreeMap::from([(
            "m".into(),
            BaselineMetric {
                value,
                better: Better::Higher,
                tolerance: 0.1,
            },
        )])
    }

    #[test]
    fn a_drop_beyond_the_tolerance_regresses_and_noise_does_not() {
        assert!(!compare(&baseline(1.0, Better::Higher), &now(0.95))[0].regressed);
        assert!(compare(&baseline(1.0, Better::Higher), &now(0.85))[0].regressed);
        assert!(
            !compare(&baseline(1.0, Better::Higher), &now(1.5))[0].regressed,
            "better is fine"
        );
        assert!(compare(&baseline(1.0, Better::Lower), &now(1.2))[0].regressed);
        assert!(!compare(&baseline(1.0, Better::Lower), &now(0.5))[0].regressed);
    }

    #[test]
    fn a_missing_metric_counts_as_regressed() {
        let v = compare(&baseline(1.0, Better::Higher), &BTreeMap::new());
        assert!(v[0].regressed && v[0].now.is_nan());
    }
}
