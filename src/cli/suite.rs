//! The built-in suite of `concbench check`: `scenarios/check-suite.toml`,
//! compiled in, a scenario file of sections (one per scenario) whose keys are
//! `run`'s long flags and whose `fail-if` thresholds are the watched figures,
//! read with the same parser as `run --scenario`.

use crate::bench::check::SuiteScenario;
use crate::cli::{parse_from, scenario, Command};
use crate::error::UsageError;

/// The suite's text.
pub const CHECK_SUITE: &str = include_str!("../../scenarios/check-suite.toml");

/// The suite's scenarios, their task counts times `scale` (at least 4 each;
/// tests use a small suite).
pub fn check_suite(scale: f64) -> Result<Vec<SuiteScenario>, UsageError> {
    suite_of(CHECK_SUITE, "check-suite.toml", scale)
}

/// The scenarios of a suite file's `text`.
pub fn suite_of(text: &str, file: &str, scale: f64) -> Result<Vec<SuiteScenario>, UsageError> {
    let sections = scenario::parse_sections(text, file)?;
    sections
        .into_iter()
        .map(|(name, settings)| {
            let argv = ["concbench", "run"]
                .map(String::from)
                .into_iter()
                .chain(settings.into_iter().flat_map(|s| s.args));
            let fail = |why: String| UsageError::new(format!("{file} [{name}]"), why);
            let cli = parse_from(argv).map_err(|e| fail(e.kind().to_string()))?;
            let Command::Run(args) = cli.command else {
                unreachable!("parsed as run")
            };
            let mut workload = args.workload();
            workload.tasks = ((workload.tasks as f64 * scale).round() as usize).max(4);
            SuiteScenario::new(&name, workload, args.strategies.0, args.gate.fail_if).map_err(fail)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::check::load_baseline;
    use crate::strategy::StrategyKind::{self, *};
    use crate::workload::{CpuWork, Workload};
    use std::time::Duration;

    #[test]
    fn the_suite_watches_exactly_the_figures_of_the_committed_baseline() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/reports/baseline.json");
        let committed = load_baseline(std::path::Path::new(path)).unwrap();
        let suite = check_suite(1.0).unwrap();
        let mut watched: Vec<String> = suite
            .iter()
            .flat_map(|s| s.probes().into_iter().map(|p| p.metric))
            .collect();
        watched.sort();
        let names: Vec<String> = committed.metrics.keys().cloned().collect();
        assert_eq!(watched, names);
        for p in suite.iter().flat_map(|s| s.probes()) {
            let m = &committed.metrics[&p.metric];
            assert_eq!(
                (m.better, m.tolerance),
                (p.better, p.tolerance),
                "{}",
                p.metric
            );
        }
        let names: Vec<&str> = suite.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["io", "cpu", "mixed", "per-request"]);
        // The same scenarios as when the suite was written in Rust, and the
        // per-request one: instant 16-byte requests.
        let sized = |tasks, latency_ms, cpu_ms, bytes| Workload {
            tasks,
            latency: mock_server::LatencyDist::Fixed(Duration::from_millis(latency_ms)),
            bytes,
            cpu: CpuWork::Time(Duration::from_millis(cpu_ms)),
            concurrency: 50,
            seed: 7,
            work: Default::default(),
            arrival: Default::default(),
        };
        let w = |tasks, latency_ms, cpu_ms| sized(tasks, latency_ms, cpu_ms, 16 * 1024);
        let got: Vec<(&Workload, &[StrategyKind])> = suite
            .iter()
            .map(|s| (&s.workload, s.kinds.as_slice()))
            .collect();
        assert_eq!(
            got,
            [
                (&w(400, 20, 0), &[Async, ThreadPool][..]),
                (&w(200, 0, 2), &[Sequential, Rayon, ProcessPool][..]),
                (&w(100, 10, 1), &[Sequential, AsyncRayon][..]),
                (&sized(20_000, 0, 0, 16), &[Sequential, Async][..]),
            ]
        );
        assert_eq!(check_suite(0.1).unwrap()[2].workload.tasks, 10);
    }

    #[test]
    fn a_suite_threshold_that_is_no_baseline_factor_is_refused() {
        for (fail_if, says) in [
            ("*.efficiency>=0.9x", "not *"),
            ("async.efficiency>0.5", "factors of the baseline"),
            ("sequential.efficiency>=0.9x", "does not run"),
            ("async.efficiency<=0.9x", "use >= with a factor up to 1"),
        ] {
            let text = format!("[s]\nstrategies = [\"async\"]\nfail-if = [\"{fail_if}\"]\n");
            let e = suite_of(&text, "t.toml", 1.0).unwrap_err();
            assert!(e.to_string().contains(says), "{fail_if}: {e}");
        }
        let e = suite_of("tasks = 5\n", "t.toml", 1.0).unwrap_err();
        assert!(
            e.to_string().contains("t.toml:1:1") && e.to_string().contains("section"),
            "{e}"
        );
    }
}
