//! Verdicts from real runs: a clear lead is called beyond noise, equal
//! rounds are a tie, and `--repeat auto` stops when the top is decided or
//! at its caps, saying which.

use std::time::Duration;

use concbench::bench::{run_workload, AutoRepeat, RunOptions};
use concbench::report::verdict::{of_results, Standing};
use concbench::report::{verdict, RepeatStop, RunReport};
use concbench::strategy::StrategyKind;
use concbench::workload::{CpuWork, Workload};

use crate::common;

/// C requests of `latency` each, no CPU work: sequential waits for each in
/// turn, every concurrent model for about one latency.
fn latency_bound(latency: &str) -> Workload {
    Workload {
        tasks: 20,
        latency: latency.parse().unwrap(),
        bytes: 1000,
        cpu: CpuWork::Time(Duration::ZERO),
        concurrency: 20,
        seed: 3,
        work: Default::default(),
        arrival: Default::default(),
    }
}

fn run(kinds: &[StrategyKind], options: RunOptions) -> RunReport {
    let server = common::server();
    run_workload(
        &latency_bound("10ms"),
        kinds,
        &common::target(&server.url()),
        &options,
    )
    .unwrap()
}

#[test]
fn a_clearly_faster_model_is_reported_faster_beyond_noise() {
    let _cores = common::busy_cores();
    let report = run(
        &[StrategyKind::Sequential, StrategyKind::Async],
        RunOptions {
            repeat: 3,
            ..common::options()
        },
    );
    let v = verdict(&report);
    assert_eq!(v.fastest.as_ref().map(|f| f.0.as_str()), Some("async"));
    let seq = &v.others[0];
    assert_eq!(seq.strategy, "sequential");
    assert_eq!(seq.standing(), Standing::Slower, "{}", v.line());
    let (lo, _) = seq
        .ratio
        .ci95
        .expect("three rounds a side give an interval");
    assert!(lo > 1.0, "{}", v.line());
    assert!(v.line().starts_with("async is fastest: "), "{}", v.line());
    // The table says the same under it.
    let table = report.render(concbench::report::Format::Table);
    assert!(table.contains(&format!("verdict: {}", v.line())), "{table}");
}

#[test]
fn one_model_measured_under_two_names_is_tied() {
    let _cores = common::busy_cores();
    let report = run(
        &[StrategyKind::ThreadPool],
        RunOptions {
            repeat: 4,
            ..common::options()
        },
    );
    let mut rows = report.results.clone();
    let mut twin = rows[0].clone();
    twin.strategy = "thread-pool-again".into();
    rows.push(twin);
    let v = of_results(&rows);
    assert_eq!(v.others.len(), 1);
    assert_eq!(v.others[0].standing(), Standing::Tied, "{}", v.line());
    assert!(
        v.line().starts_with("tie for fastest: thread-pool"),
        "{}",
        v.line()
    );
    assert!(v.cell().title.starts_with("tie: "), "{:?}", v.cell());
}

#[test]
fn a_single_round_is_untested() {
    let _cores = common::busy_cores();
    let report = run(
        &[StrategyKind::Sequential, StrategyKind::Async],
        common::options(),
    );
    let v = verdict(&report);
    assert!(v.untested(), "{}", v.line());
    assert!(v.line().contains("untested"), "{}", v.line());
}

#[test]
fn repeat_auto_stops_as_soon_as_a_clear_lead_is_decided() {
    let _cores = common::busy_cores();
    let report = run(
        &[StrategyKind::Sequential, StrategyKind::Async],
        RunOptions {
            repeat_auto: Some(AutoRepeat {
                max_rounds: 10,
                max_time: Duration::from_secs(600),
            }),
            ..common::options()
        },
    );
    let auto = report.meta.repeat_auto.expect("auto says why it stopped");
    assert_eq!(auto.stopped, RepeatStop::Decided);
    assert_eq!(report.meta.repeat, 3, "the least it measures, then decided");
    assert!(report.results.iter().all(|r| r.rounds == 3));
    assert!(auto.describe(3).contains("decided after 3 rounds"));
}

#[test]
fn repeat_auto_stops_at_its_caps_of_rounds_and_of_time() {
    let _cores = common::busy_cores();
    // Two models bound by the same latency: the top may stay within noise.
    let kinds = [StrategyKind::ThreadPool, StrategyKind::Async];
    let capped = run(
        &kinds,
        RunOptions {
            repeat_auto: Some(AutoRepeat {
                max_rounds: 3,
                max_time: Duration::from_secs(600),
            }),
            ..common::options()
        },
    );
    let auto = capped.meta.repeat_auto.unwrap();
    assert_eq!(capped.meta.repeat, 3);
    let decided = verdict(&capped).decided();
    assert_eq!(
        auto.stopped,
        if decided {
            RepeatStop::Decided
        } else {
            RepeatStop::RoundCap
        }
    );
    let timed = run(
        &kinds,
        RunOptions {
            repeat_auto: Some(AutoRepeat {
                max_rounds: 50,
                max_time: Duration::ZERO,
            }),
            ..common::options()
        },
    );
    let auto = timed.meta.repeat_auto.unwrap();
    assert_eq!(timed.meta.repeat, 3, "the time cap is checked from round 3");
    let decided = verdict(&timed).decided();
    assert_eq!(
        auto.stopped,
        if decided {
            RepeatStop::Decided
        } else {
            RepeatStop::TimeCap
        }
    );
}

#[test]
fn repeat_auto_is_a_flag_value_and_its_caps_are_checked() {
    let line = common::one_line_usage_error(&["run", "--repeat", "often"]);
    assert!(line.contains("--repeat") && line.contains("auto"), "{line}");
    let line =
        common::one_line_usage_error(&["run", "--repeat", "auto", "--repeat-max-rounds", "2"]);
    assert!(line.contains("at least 3"), "{line}");
    let line = common::one_line_usage_error(&["run", "--repeat", "3", "--repeat-max-time", "5s"]);
    assert!(
        line.contains("--repeat-max-time") && line.contains("--repeat auto"),
        "{line}"
    );
}
