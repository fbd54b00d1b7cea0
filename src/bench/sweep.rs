//! Sweeps: the same workload run over a grid of one or two swept parameters
//! (`--param concurrency=1,10,100`), one run per cell: which parameters may
//! be swept ([`Param`]), how a value applies to the workload or the run's
//! options, the grid, and the engine that runs it ([`run_sweep`]). The saved
//! form is [`crate::report::SweepReport`].

use std::collections::BTreeMap;

use clap::ValueEnum;
use mock_server::LatencyDist;

use super::{run_workload, RunOptions, Target};
use crate::http::ConnectionMode;
use crate::report::{SweepCell, SweepReport, SCHEMA_VERSION};
use crate::strategy::StrategyKind;
use crate::task::{WorkKind, WORKS};
use crate::units;
use crate::workload::{CpuWork, Workload};

/// A parameter `--param` may sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Param {
    Concurrency,
    Tasks,
    Latency,
    Bytes,
    Cpu,
    Workers,
    Batch,
    Connection,
    Work,
    Arrival,
}

impl Param {
    /// Every sweepable parameter, in the order `--help` lists them.
    pub const ALL: &'static [Param] = &[
        Param::Concurrency,
        Param::Tasks,
        Param::Latency,
        Param::Bytes,
        Param::Cpu,
        Param::Workers,
        Param::Batch,
        Param::Connection,
        Param::Work,
        Param::Arrival,
    ];

    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Param::Concurrency => "concurrency",
            Param::Tasks => "tasks",
            Param::Latency => "latency",
            Param::Bytes => "bytes",
            Param::Cpu => "cpu",
            Param::Workers => "workers",
            Param::Batch => "batch",
            Param::Connection => "connection",
            Param::Work => "work",
            Param::Arrival => "arrival",
        }
    }

    /// Sets this parameter to `value` in the workload or the run options and
    /// returns the value as a number for the axes.
    pub fn apply(self, value: &str, w: &mut Workload, o: &mut RunOptions) -> Result<f64, String> {
        let name = self.name();
        let count = |v: &str| -> Result<u64, String> {
            match units::parse_count(v)? {
                0 => Err(format!("{name}={v}: must be at least 1")),
                n => Ok(n),
            }
        };
        Ok(match self {
            Param::Concurrency => {
                w.concurrency = count(value)? as usize;
                w.concurrency as f64
            }
            Param::Tasks => {
                w.tasks = count(value)? as usize;
                w.tasks as f64
            }
            Param::Latency => {
                w.latency = value.parse::<LatencyDist>().map_err(|e| e.to_string())?;
                w.latency.mean().as_secs_f64()
            }
            Param::Bytes => {
                w.bytes = units::parse_bytes(value)? as usize;
                w.bytes as f64
            }
            Param::Cpu => {
                let d = units::parse_duration(value).map_err(|e| e.to_string())?;
                w.cpu = CpuWork::Time(d);
                d.as_secs_f64()
            }
            Param::Workers => {
                let n = count(value)? as usize;
                o.strategy.workers = Some(n);
                n as f64
            }
            Param::Batch => {
                o.strategy.batch = count(value)? as usize;
                o.strategy.batch as f64
            }
            Param::Connection => {
                o.strategy.connection = ConnectionMode::from_str(value, false)
                    .map_err(|_| format!("connection={value}: use reuse or new"))?;
                match o.strategy.connection {
                    ConnectionMode::New => 1.0,
                    ConnectionMode::Reuse => 0.0,
                }
            }
            Param::Work => {
                w.work = WorkKind::from_str(value, false).map_err(|_| {
                    let names: Vec<&str> = WORKS.iter().map(|w| w.name).collect();
                    format!("work={value}: use {}", names.join(" or "))
                })?;
                // Its row in the registry: 0 for hash, 1 for json.
                WORKS.iter().position(|r| r.kind == w.work).unwrap_or(0) as f64
            }
            Param::Arrival => {
                w.arrival = value
                    .parse::<crate::workload::Arrival>()
                    .map_err(|e| format!("arrival={value}: {e}"))?;
                // The offered load on the axis (0 for a closed loop).
                w.arrival.per_s().unwrap_or(0.0)
            }
        })
    }
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Param {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Param::ALL
            .iter()
            .copied()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Param::ALL.iter().map(|p| p.name()).collect();
                format!("cannot sweep '{s}'; sweepable: {}", names.join(", "))
            })
    }
}

/// One `--param NAME=v1,v2,...`.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepParam {
    pub param: Param,
    pub values: Vec<String>,
}

/// Parses `concurrency=1,10,100`, checking the name and every value. Values
/// that hold a comma themselves (`normal:50ms,10ms`) are separated by `;`
/// instead: `latency=normal:50ms,10ms;normal:50ms,20ms`.
pub fn parse_param(s: &str) -> Result<SweepParam, String> {
    let (name, values) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not NAME=v1,v2,...; e.g. concurrency=1,10,100"))?;
    let name = name.trim();
    let param: Param = name.parse()?;
    let separator = if values.contains(';') { ';' } else { ',' };
    let values: Vec<String> = values
        .split(separator)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return Err(format!(
            "--param {name}= has no values; e.g. {name}=1,10,100"
        ));
    }
    let mut probe = Workload::default();
    let mut options = RunOptions::default();
    for v in &values {
        param.apply(v, &mut probe, &mut options).map_err(|e| {
            if separator == ',' && param == Param::Latency {
                format!(
                    "{e}; a value with a comma in it needs ';' between the values, e.g. \
                     --param 'latency=normal:50ms,10ms;normal:50ms,20ms'"
                )
            } else {
                e
            }
        })?;
    }
    probe.validate().map_err(|e| e.to_string())?;
    Ok(SweepParam { param, values })
}

/// A cell of the grid: each swept parameter with its value as given.
pub type Cell = Vec<(Param, String)>;

/// What a sweep runs: a workload and its strategies over a grid, each run
/// with `options` (its observer sees every run of every cell).
pub struct Sweep<'a> {
    pub workload: &'a Workload,
    pub kinds: &'a [StrategyKind],
    pub scenario: &'a str,
    pub params: &'a [SweepParam],
    pub options: &'a RunOptions,
    /// Run only this shard of the grid's cells (`sweep --shard K/N`).
    pub shard: Option<crate::workload::Shard>,
}

/// Runs every cell of `sweep` against `target`, in grid order. Before each
/// cell `starting(cell)` is called; after each finished cell, `finished`
/// gets the report so far (to print the cell and write the files: an
/// interrupted sweep keeps what finished). Returns the report and whether
/// Ctrl-C cut it short (the cut cell is not in it).
pub fn run_sweep(
    sweep: &Sweep,
    target: &Target,
    mut starting: impl FnMut(&Cell),
    mut finished: impl FnMut(&SweepReport) -> anyhow::Result<()>,
) -> anyhow::Result<(SweepReport, bool)> {
    let all = grid(sweep.params);
    let shard = sweep.shard.map(|s| crate::report::ShardMeta {
        index: s.number(),
        count: s.count(),
        total: all.len(),
        plan: super::shard::plan_identity(sweep.workload, sweep.kinds, sweep.options, sweep.params),
        concbench_version: env!("CARGO_PKG_VERSION").to_string(),
    });
    let cells: Vec<Cell> = match sweep.shard {
        Some(s) => s.pick(all),
        None => all,
    };
    let mut report = SweepReport {
        schema_version: SCHEMA_VERSION,
        kind: "sweep".into(),
        scenario: sweep.scenario.to_string(),
        params: sweep
            .params
            .iter()
            .map(|p| p.param.name().to_string())
            .collect(),
        cells: Vec::with_capacity(cells.len()),
        shard,
        slo: None,
    };
    for cell in cells {
        let mut workload = sweep.workload.clone();
        let mut options = sweep.options.clone();
        let mut values = BTreeMap::new();
        let mut x = BTreeMap::new();
        for (param, value) in &cell {
            let v = param
                .apply(value, &mut workload, &mut options)
                .map_err(|e| crate::error::UsageError::new("--param", e))?;
            values.insert(param.name().to_string(), value.clone());
            x.insert(param.name().to_string(), v);
        }
        starting(&cell);
        let run = match run_workload(&workload, sweep.kinds, target, &options) {
            Ok(run) => run,
            // Stopped before its first strategy: nothing of the cell to keep.
            Err(e) if e.downcast_ref::<crate::error::Interrupted>().is_some() => {
                return Ok((report, true))
            }
            Err(e) => return Err(e),
        };
        if run.meta.interrupted {
            return Ok((report, true));
        }
        report.cells.push(SweepCell {
            values,
            x,
            report: run,
        });
        finished(&report)?;
    }
    Ok((report, false))
}

/// Every combination of the parameters' values, the last one varying fastest.
pub fn grid(params: &[SweepParam]) -> Vec<Cell> {
    let mut cells: Vec<Cell> = vec![Vec::new()];
    for p in params {
        cells = cells
            .into_iter()
            .flat_map(|cell| {
                p.values.iter().map(move |v| {
                    let mut c = cell.clone();
                    c.push((p.param, v.clone()));
                    c
                })
            })
            .collect();
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse_and_check_every_value() {
        let p = parse_param("concurrency=1,10, 100").unwrap();
        assert_eq!(p.values, ["1", "10", "100"]);
        assert!(parse_param("concurrency=1,0")
            .unwrap_err()
            .contains("at least 1"));
        assert!(parse_param("colour=red").unwrap_err().contains("sweepable"));
        assert!(parse_param("latency=5ms,abc").is_err());
        assert!(parse_param("concurrency").is_err());
        assert!(parse_param("connection=reuse,sometimes").is_err());
    }

    #[test]
    fn latency_distributions_with_commas_are_swept_with_semicolons() {
        let p = parse_param("latency=normal:50ms,10ms;normal:50ms,20ms; exp:20ms").unwrap();
        assert_eq!(
            p.values,
            ["normal:50ms,10ms", "normal:50ms,20ms", "exp:20ms"]
        );
        let e = parse_param("latency=normal:50ms,10ms").unwrap_err();
        assert!(
            e.contains("latency=normal:50ms,10ms;normal:50ms,20ms"),
            "{e}"
        );
        // Plain values keep their commas.
        assert_eq!(
            parse_param("latency=5ms,10ms").unwrap().values,
            ["5ms", "10ms"]
        );
    }

    #[test]
    fn a_two_parameter_grid_varies_the_last_fastest() {
        let a = parse_param("concurrency=1,10").unwrap();
        let b = parse_param("cpu=0,1ms,2ms").unwrap();
        let g = grid(&[a, b]);
        assert_eq!(g.len(), 6);
        assert_eq!(
            g[0],
            vec![(Param::Concurrency, "1".into()), (Param::Cpu, "0".into())]
        );
        assert_eq!(g[1][1].1, "1ms");
        assert_eq!(g[3][0].1, "10");
    }

    #[test]
    fn applying_a_value_changes_the_run_and_gives_its_number() {
        let mut w = Workload::default();
        let mut o = RunOptions::default();
        assert_eq!(Param::Latency.apply("20ms", &mut w, &mut o).unwrap(), 0.02);
        assert_eq!(Param::Connection.apply("new", &mut w, &mut o).unwrap(), 1.0);
        assert_eq!(o.strategy.connection, ConnectionMode::New);
        assert_eq!(Param::Workers.apply("4", &mut w, &mut o).unwrap(), 4.0);
        assert_eq!(o.strategy.workers, Some(4));
    }
}
