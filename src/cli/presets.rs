//! Named experiments from the source articles, runnable as
//! `concbench run --preset NAME` (or `sweep --preset NAME`); `concbench list`
//! shows them. A preset fixes the workload and the strategies; flags given
//! explicitly on the command line still win.

use std::time::Duration;

use mock_server::LatencyDist;

use crate::strategy::StrategyKind::{self, *};
use crate::workload::{CpuWork, Workload};

/// One named experiment.
#[derive(Debug, Clone)]
pub struct Preset {
    pub name: &'static str,
    /// One line for `concbench list`.
    pub description: &'static str,
    pub workload: Workload,
    pub strategies: &'static [StrategyKind],
    /// A parameter the preset sweeps (`connection=reuse,new`), if any.
    pub sweep: Option<(&'static str, &'static str)>,
}

fn ms(x: u64) -> Duration {
    Duration::from_millis(x)
}

fn fixed(d: Duration) -> LatencyDist {
    LatencyDist::Fixed(d)
}

/// Every preset, in the order `concbench list` shows them.
pub fn all() -> Vec<Preset> {
    vec![
        Preset {
            name: "api-pull",
            description: "100 requests to a ~50 ms API, little parsing: loop vs process per request vs pools vs async",
            workload: Workload {
                tasks: 100,
                latency: "normal:50ms,5ms".parse().expect("valid"),
                bytes: 4096,
                cpu: CpuWork::Time(Duration::from_micros(200)),
                concurrency: 20,
                seed: 1,
                work: Default::default(),
                arrival: Default::default(),
            },
            strategies: &[Sequential, ProcessPerTask, ProcessPool, ThreadPool, Async],
            sweep: None,
        },
        Preset {
            name: "mixed-pipeline",
            description: "fetch then a CPU-heavy analysis per item (10 ms): where the CPU work runs decides the winner",
            workload: Workload {
                tasks: 100,
                latency: fixed(ms(50)),
                bytes: 64 * 1024,
                cpu: CpuWork::Time(ms(10)),
                concurrency: 20,
                seed: 1,
                work: Default::default(),
                arrival: Default::default(),
            },
            strategies: &[Sequential, AsyncSingle, ThreadPool, AsyncProcessPool, AsyncRayon],
            sweep: None,
        },
        Preset {
            name: "aiomultiprocess",
            description: "30 tasks, latency uniform 200-700 ms, a 50 ms CPU-bound step per response: every model",
            workload: Workload {
                tasks: 30,
                latency: "uniform:200ms..700ms".parse().expect("valid"),
                bytes: 16 * 1024,
                cpu: CpuWork::Time(ms(50)),
                concurrency: 30,
                seed: 1,
                work: Default::default(),
                arrival: Default::default(),
            },
            strategies: StrategyKind::ALL,
            sweep: None,
        },
        Preset {
            name: "pure-cpu",
            description: "400 tasks of 2 ms CPU and no latency: only models that use every core win",
            workload: Workload {
                tasks: 400,
                latency: fixed(Duration::ZERO),
                bytes: 16 * 1024,
                cpu: CpuWork::Time(ms(2)),
                concurrency: 100,
                seed: 1,
                work: Default::default(),
                arrival: Default::default(),
            },
            strategies: StrategyKind::ALL,
            sweep: None,
        },
        Preset {
            name: "pure-io",
            description: "1,000 requests of 20 ms at C = 100, no CPU work: the harness's own overhead per model",
            workload: Workload {
                tasks: 1000,
                latency: fixed(ms(20)),
                bytes: 16 * 1024,
                cpu: CpuWork::Time(Duration::ZERO),
                concurrency: 100,
                seed: 1,
                work: Default::default(),
                arrival: Default::default(),
            },
            strategies: &[ThreadPerTask, ThreadPool, Async, AsyncSingle, AsyncRayon, AsyncProcessPool, ProcessPoolAsync],
            sweep: None,
        },
        Preset {
            name: "spawn-overhead",
            description: "200 instant requests: a process per task loses to a plain loop",
            workload: Workload {
                tasks: 200,
                latency: fixed(Duration::ZERO),
                bytes: 1024,
                cpu: CpuWork::Time(Duration::ZERO),
                concurrency: 10,
                seed: 1,
                work: Default::default(),
                arrival: Default::default(),
            },
            strategies: &[Sequential, ThreadPerTask, ThreadPool, ProcessPerTask, ProcessPool],
            sweep: None,
        },
        Preset {
            name: "connection-reuse",
            description: "2,000 instant requests with keep-alive and with a new connection each: what reuse buys",
            workload: Workload {
                tasks: 2000,
                latency: fixed(Duration::ZERO),
                bytes: 4096,
                cpu: CpuWork::Time(Duration::ZERO),
                concurrency: 50,
                seed: 1,
                work: Default::default(),
                arrival: Default::default(),
            },
            strategies: &[Sequential, ThreadPool, Async, ProcessPool],
            sweep: Some(("connection", "reuse,new")),
        },
    ]
}

/// The preset called `name`, or a message listing the known ones.
pub fn find(name: &str) -> Result<Preset, String> {
    let presets = all();
    let names: Vec<&str> = presets.iter().map(|p| p.name).collect();
    presets
        .into_iter()
        .find(|p| p.name == name.trim())
        .ok_or_else(|| {
            format!(
                "unknown preset '{}'; choose from {} (see `concbench list`)",
                name.trim(),
                names.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_and_findable() {
        for p in all() {
            p.workload.validate().unwrap();
            assert!(!p.strategies.is_empty());
            assert_eq!(find(p.name).unwrap().name, p.name);
        }
        let e = find("nope").unwrap_err();
        assert!(
            e.contains("api-pull") && e.contains("aiomultiprocess"),
            "{e}"
        );
    }
}
