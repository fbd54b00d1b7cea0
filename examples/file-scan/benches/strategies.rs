//! `cargo bench -p concbench-example-file-scan`: each strategy as a criterion
//! benchmark of the example task; one iteration is one whole verified run of
//! the plan, its figure the measured window concbench reports (`wall_s`).
//! Process strategies re-execute this bench binary, whose `main` serves them
//! first.

use std::sync::Arc;
use std::time::Duration;

use concbench::strategy::StrategyKind;
use concbench::user::{self, UserRun};
use concbench_example_file_scan::FileScan;
use criterion::Criterion;

const FILES: u64 = 16;
const LINES: usize = 20_000;

fn make() -> FileScan {
    FileScan::new(FILES, LINES).expect("the bench's log files can be written")
}

fn strategies(c: &mut Criterion) {
    let task = Arc::new(make());
    let mut group = c.benchmark_group("file-scan");
    group.sample_size(10);
    for kind in [
        StrategyKind::Sequential,
        StrategyKind::ThreadPool,
        StrategyKind::Rayon,
        StrategyKind::ProcessPool,
        StrategyKind::Async,
        StrategyKind::AsyncRayon,
    ] {
        let how = UserRun {
            tasks: 64,
            concurrency: 8,
            strategies: vec![kind],
            ..UserRun::default()
        };
        group.bench_function(kind.name(), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let report = user::run(task.clone(), &how).expect("the run starts");
                    let row = &report.results[0];
                    assert_eq!(
                        row.tasks_failed, 0,
                        "{}: {:?}",
                        row.strategy, row.first_failure
                    );
                    total += Duration::from_secs_f64(row.wall_s);
                }
                total
            })
        });
    }
    group.finish();
}

fn main() {
    user::serve_worker_if_asked(make);
    let mut c = Criterion::default().configure_from_args();
    strategies(&mut c);
    c.final_summary();
}
