//! What makes shards of one whole recognisable as such ([`plan_identity`]:
//! every shard of a sweep or a run writes the same one, and `concbench
//! merge` refuses parts whose identities differ), and the synchronised start
//! of a run's shards on several hosts ([`wait_until`]).

use std::time::Duration;

use super::sweep::SweepParam;
use super::RunOptions;
use crate::strategy::StrategyKind;
use crate::workload::Workload;

/// The whole a shard is part of, in words: the workload as given (not as
/// calibrated on one host), the strategies, the options that shape the
/// work, and a sweep's grid. Items are separated by `; ` so merge can name
/// the first that differs.
pub fn plan_identity(
    workload: &Workload,
    kinds: &[StrategyKind],
    options: &RunOptions,
    grid: &[SweepParam],
) -> String {
    let w = workload;
    let o = &options.strategy;
    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    let mut items = vec![
        format!("tasks {}", w.tasks),
        format!("latency {}", w.latency),
        format!("bytes {}", w.bytes),
        format!("cpu {:?}", w.cpu),
        format!("concurrency {}", w.concurrency),
        format!("seed {}", w.seed),
        format!("work {}", w.work.name()),
        format!("strategies {}", names.join(",")),
        format!("workers {:?}", o.workers),
        format!("connection {}", o.connection.name()),
        format!("schedule {} batch {}", o.schedule.name(), o.batch),
        format!("client {:?}", o.policy),
        format!("endpoint {:?}", o.endpoint.as_ref().map(|e| e.describe())),
        format!("faults '{}'", options.server_faults),
        format!("verify {}", options.verify.name()),
        format!(
            "repeat {} auto {:?} warmup {}",
            options.repeat, options.repeat_auto, options.warmup
        ),
    ];
    for p in grid {
        items.push(format!("grid {}={}", p.param.name(), p.values.join(";")));
    }
    items.join("; ")
}

/// Sleeps until the wall clock reads `at_unix_s` (seconds since the Unix
/// epoch), waking every 50 ms to see whether Ctrl-C came (then it returns
/// false at once); a time already past returns true at once.
pub fn wait_until(at_unix_s: f64) -> bool {
    loop {
        if crate::interrupt::requested() {
            return false;
        }
        let left_s = at_unix_s - crate::sys::clock::unix_now_s();
        if left_s <= 0.0 {
            return true;
        }
        std::thread::sleep(Duration::from_secs_f64(left_s.min(0.05)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_that_differ_in_one_item_have_different_identities() {
        let w = Workload::default();
        let o = RunOptions::default();
        let kinds = [StrategyKind::Sequential];
        let a = plan_identity(&w, &kinds, &o, &[]);
        assert_eq!(a, plan_identity(&w, &kinds, &o, &[]));
        let seeded = Workload {
            seed: 9,
            ..w.clone()
        };
        assert_ne!(a, plan_identity(&seeded, &kinds, &o, &[]));
        let grid = [super::super::sweep::parse_param("concurrency=1,2").unwrap()];
        assert!(plan_identity(&w, &kinds, &o, &grid).ends_with("; grid concurrency=1;2"));
    }

    #[test]
    fn a_start_time_in_the_past_does_not_wait() {
        let t = std::time::Instant::now();
        assert!(wait_until(crate::sys::clock::unix_now_s() - 10.0));
        assert!(t.elapsed() < Duration::from_secs(1));
    }
}
