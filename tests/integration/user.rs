//! The library API for a user's own task (`concbench::user`), in-process
//! strategies only: the process ones re-execute the binary, which here is
//! the test harness (the example crate examples/file-scan tests those).

use std::sync::Arc;

use concbench::strategy::StrategyKind;
use concbench::user::{self, UserRun, UserTask};

use crate::common;

/// Squares its id; `wrong` gets a wrong square, `unreadable` fails its I/O.
struct Squares {
    wrong: Option<u64>,
    unreadable: Option<u64>,
}

impl UserTask for Squares {
    fn name(&self) -> String {
        "squares".into()
    }
    fn fetch_blocking(&self, id: u64) -> Result<Vec<u8>, String> {
        std::thread::sleep(std::time::Duration::from_millis(2));
        if Some(id) == self.unreadable {
            return Err(format!("no input for {id}"));
        }
        Ok(id.to_le_bytes().to_vec())
    }
    fn process(&self, id: u64, input: &[u8]) -> u64 {
        let n = u64::from_le_bytes(input.try_into().unwrap());
        n * n + u64::from(Some(id) == self.wrong)
    }
    fn verify(&self, id: u64, result: u64) -> Result<(), String> {
        if result == id * id {
            Ok(())
        } else {
            Err(format!("{result} is not {id} squared"))
        }
    }
}

const IN_PROCESS: &[StrategyKind] = &[
    StrategyKind::Sequential,
    StrategyKind::ThreadPerTask,
    StrategyKind::ThreadPool,
    StrategyKind::Rayon,
    StrategyKind::Async,
    StrategyKind::AsyncRayon,
    StrategyKind::ThreadPerCore,
];

fn run(task: Squares) -> concbench::RunReport {
    let how = UserRun {
        tasks: 30,
        concurrency: 6,
        strategies: IN_PROCESS.to_vec(),
        ..UserRun::default()
    };
    user::run(Arc::new(task), &how).unwrap()
}

#[test]
fn a_users_task_runs_under_every_in_process_strategy_and_every_result_is_verified() {
    let _cores = common::busy_cores();
    let report = run(Squares {
        wrong: None,
        unreadable: None,
    });
    assert_eq!(report.meta.user_task.as_deref(), Some("squares"));
    for r in &report.results {
        assert_eq!((r.tasks_ok, r.tasks_cpu_checked), (30, 30), "{r:?}");
        assert!(r.server.is_none());
        // 30 tasks of 2 ms I/O each: the sampled bound is about 60 ms / C.
        assert!(r.ideal_s > 0.005, "{}: ideal {}", r.strategy, r.ideal_s);
    }
}

#[test]
fn a_wrong_result_and_a_failed_input_fail_their_tasks_with_their_causes() {
    let _cores = common::busy_cores();
    let report = run(Squares {
        wrong: Some(7),
        unreadable: Some(11),
    });
    for r in &report.results {
        assert_eq!(r.tasks_failed, 2, "{r:?}");
        assert_eq!(r.failures.get("verify"), Some(&1), "{}", r.strategy);
        assert_eq!(r.failures.get("task"), Some(&1), "{}", r.strategy);
        assert!(
            r.first_failure
                .as_deref()
                .is_some_and(|f| f.contains("task 7") && f.contains("50 is not 7 squared")),
            "{:?}",
            r.first_failure
        );
    }
}
