//! A task that panics is exactly one failed outcome, with its own id, cause
//! `worker`, in a strategy of every family: blocking (sequential, a thread
//! pool), async (a runtime, an event loop handing CPU work to rayon) and
//! worker processes (a process pool, a process pool with a runtime in each).

use concbench::bench::run_workload;
use concbench::strategy::StrategyKind;

use crate::common;

#[test]
fn a_panicking_task_is_one_failed_outcome_with_its_own_id_in_every_family() {
    let _cores = common::busy_cores();
    let server = common::server();
    let w = common::small(20, "1ms");
    let mut options = common::options();
    options.strategy.test_panic_task = Some(7);
    let kinds = [
        StrategyKind::Sequential,
        StrategyKind::ThreadPool,
        StrategyKind::Async,
        StrategyKind::AsyncRayon,
        StrategyKind::ProcessPool,
        StrategyKind::ProcessPoolAsync,
    ];
    let report = run_workload(&w, &kinds, &common::target(&server.url()), &options).unwrap();
    assert_eq!(report.results.len(), kinds.len());
    for r in &report.results {
        let s = &r.strategy;
        assert_eq!(
            (r.tasks_ok, r.tasks_failed),
            (19, 1),
            "{s}: {:?}",
            r.failures
        );
        assert_eq!(
            r.failures.len(),
            1,
            "{s}: no unknown_task or missing: {:?}",
            r.failures
        );
        assert_eq!(r.failures.get("worker"), Some(&1), "{s}: {:?}", r.failures);
        let first = r.first_failure.as_deref().unwrap_or("");
        assert!(
            first.starts_with("task 7:") && first.contains("panicked"),
            "{s}: {first}"
        );
    }
}
