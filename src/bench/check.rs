//! The performance gate: `concbench check --baseline FILE`.
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
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::bench::{self, RunOptions, Target};
use crate::error::UsageError;
use crate::report::{RunReport, StrategyResult};
use crate::strategy::StrategyKind::{self, *};
use crate::strategy::StrategyOptions;
use crate::sys::fs::write_atomically;
use crate::workload::{CpuWork, Workload};

/// Version of the baseline file layout.
pub const BASELINE_VERSION: u32 = 1;

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

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

/// A figure the gate watches on one strategy's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Figure {
    /// Against the bound: machine speed cancels out.
    Efficiency,
    /// Against sequential in the same round.
    SpeedupVsSequential,
    /// Client CPU per request in CPU-kernel units calibrated in the same
    /// run: machine speed cancels out.
    CpuPerRequestUnits,
}

impl Figure {
    /// Its name in the metric (`io.async.efficiency`).
    fn name(self) -> &'static str {
        match self {
            Figure::Efficiency => "efficiency",
            Figure::SpeedupVsSequential => "speedup_vs_sequential",
            Figure::CpuPerRequestUnits => "cpu_per_request_units",
        }
    }

    /// Which way is better.
    fn better(self) -> Better {
        match self {
            Figure::Efficiency | Figure::SpeedupVsSequential => Better::Higher,
            Figure::CpuPerRequestUnits => Better::Lower,
        }
    }

    /// Its value on row `r` of `report`, if it has one.
    fn read(self, r: &StrategyResult, report: &RunReport) -> Option<f64> {
        match self {
            Figure::Efficiency => Some(r.efficiency),
            Figure::SpeedupVsSequential => r.speedup_vs_sequential,
            Figure::CpuPerRequestUnits => {
                let per_request_s = (r.cpu_user_s + r.cpu_sys_s) / r.tasks as f64;
                Some(per_request_s * 1e6 * report.meta.cpu_units_per_us)
            }
        }
    }
}

/// One watched figure of one strategy, with how far it may move.
#[derive(Debug, Clone, Copy)]
struct Probe {
    strategy: StrategyKind,
    figure: Figure,
    /// Relative change tolerated in the worse direction.
    tolerance: f64,
}

const fn probe(strategy: StrategyKind, figure: Figure, tolerance: f64) -> Probe {
    Probe {
        strategy,
        figure,
        tolerance,
    }
}

/// A scenario of the quick suite and the figures it watches.
struct Scenario {
    name: &'static str,
    workload: Workload,
    kinds: &'static [StrategyKind],
    probes: &'static [Probe],
}

const IO_PROBES: &[Probe] = &[
    probe(Async, Figure::Efficiency, 0.12),
    probe(ThreadPool, Figure::Efficiency, 0.12),
    probe(Async, Figure::CpuPerRequestUnits, 0.60),
];
const CPU_PROBES: &[Probe] = &[
    probe(Rayon, Figure::SpeedupVsSequential, 0.20),
    probe(ProcessPool, Figure::SpeedupVsSequential, 0.20),
];
const MIXED_PROBES: &[Probe] = &[probe(AsyncRayon, Figure::Efficiency, 0.20)];

fn suite(scale: f64) -> Vec<Scenario> {
    let n = |x: usize| ((x as f64 * scale).round() as usize).max(4);
    vec![
        Scenario {
            name: "io",
            workload: Workload {
                tasks: n(400),
                latency: mock_server::LatencyDist::Fixed(Duration::from_millis(20)),
                bytes: 16 * 1024,
                cpu: CpuWork::Time(Duration::ZERO),
                concurrency: 50,
                seed: 7,
                work: Default::default(),
                arrival: Default::default(),
            },
            kinds: &[Async, ThreadPool],
            probes: IO_PROBES,
        },
        Scenario {
            name: "cpu",
            workload: Workload {
                tasks: n(200),
                latency: mock_server::LatencyDist::Fixed(Duration::ZERO),
                bytes: 16 * 1024,
                cpu: CpuWork::Time(Duration::from_millis(2)),
                concurrency: 50,
                seed: 7,
                work: Default::default(),
                arrival: Default::default(),
            },
            kinds: &[Sequential, Rayon, ProcessPool],
            probes: CPU_PROBES,
        },
        Scenario {
            name: "mixed",
            workload: Workload {
                tasks: n(100),
                latency: mock_server::LatencyDist::Fixed(Duration::from_millis(10)),
                bytes: 16 * 1024,
                cpu: CpuWork::Time(Duration::from_millis(1)),
                concurrency: 50,
                seed: 7,
                work: Default::default(),
                arrival: Default::default(),
            },
            kinds: &[Sequential, AsyncRayon],
            probes: MIXED_PROBES,
        },
    ]
}

/// The watched figures of one scenario's report, named
/// `scenario.strategy.figure`, with their direction and tolerance.
fn metrics_of(scenario: &Scenario, report: &RunReport) -> BTreeMap<String, BaselineMetric> {
    let mut m = BTreeMap::new();
    for p in scenario.probes {
        let Some(r) = report
            .results
            .iter()
            .find(|r| r.strategy == p.strategy.name())
        else {
            continue;
        };
        if let Some(value) = p.figure.read(r, report).filter(|v| v.is_finite()) {
            m.insert(
                format!("{}.{}.{}", scenario.name, p.strategy, p.figure.name()),
                BaselineMetric {
                    value,
                    better: p.figure.better(),
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
    /// Shrinks the suite's task counts (tests use a small one).
    pub scale: f64,
    pub worker_exe: Option<std::path::PathBuf>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            repeat: 3,
            scale: 1.0,
            worker_exe: None,
        }
    }
}

/// Runs the quick suite against `target` and returns every watched figure.
pub fn measure_suite(
    target: &Target,
    opts: &CheckOptions,
    only: Option<&[String]>,
) -> anyhow::Result<BTreeMap<String, BaselineMetric>> {
    let mut all = BTreeMap::new();
    for s in suite(opts.scale) {
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
        let report = bench::run_workload(&s.workload, s.kinds, target, &options)
            .with_context(|| format!("the {} scenario of the check suite", s.name))?;
        if let Some(bad) = report.results.iter().find(|r| r.tasks_failed > 0) {
            anyhow::bail!(
                "the {} scenario failed verification ({}: {})",
                s.name,
                bad.strategy,
                bad.first_failure.as_deref().unwrap_or("?")
            );
        }
        all.extend(metrics_of(&s, &report));
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
            let regressed = match b.better {
                // A missing figure (NaN) regresses too.
                Better::Higher => value.is_nan() || value < b.value * (1.0 - b.tolerance),
                Better::Lower => value.is_nan() || value > b.value * (1.0 + b.tolerance),
            };
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

    #[test]
    fn the_suite_watches_exactly_the_figures_of_the_committed_baseline() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/reports/baseline.json");
        let committed = load_baseline(std::path::Path::new(path)).unwrap();
        let mut watched: Vec<String> = suite(1.0)
            .iter()
            .flat_map(|s| {
                s.probes
                    .iter()
                    .map(move |p| format!("{}.{}.{}", s.name, p.strategy, p.figure.name()))
            })
            .collect();
        watched.sort();
        let names: Vec<String> = committed.metrics.keys().cloned().collect();
        assert_eq!(watched, names);
        for s in suite(1.0) {
            for p in s.probes {
                let name = format!("{}.{}.{}", s.name, p.strategy, p.figure.name());
                let m = &committed.metrics[&name];
                assert_eq!(
                    (m.better, m.tolerance),
                    (p.figure.better(), p.tolerance),
                    "{name}"
                );
                assert!(
                    s.kinds.contains(&p.strategy),
                    "{name} watches a strategy its scenario does not run"
                );
            }
        }
    }
}
