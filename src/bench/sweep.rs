//! Sweeps: the same workload run over a grid of one or two swept parameters
//! (`--param concurrency=1,10,100`), one run per cell: which parameters may
//! be swept, how a value applies to the workload or the run's options, and
//! the grid. The saved form is [`crate::report::SweepReport`].

use mock_server::LatencyDist;

use super::RunOptions;
use crate::http::ConnectionMode;
use crate::units;
use crate::workload::{CpuWork, Workload};

/// Parameters `--param` may sweep.
pub const SWEEPABLE: &[&str] = &[
    "concurrency",
    "tasks",
    "latency",
    "bytes",
    "cpu",
    "workers",
    "batch",
    "connection",
];

/// One `--param NAME=v1,v2,...`.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepParam {
    pub name: String,
    pub values: Vec<String>,
}

/// Parses `concurrency=1,10,100`, checking the name and every value.
pub fn parse_param(s: &str) -> Result<SweepParam, String> {
    let (name, values) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not NAME=v1,v2,...; e.g. concurrency=1,10,100"))?;
    let name = name.trim().to_string();
    if !SWEEPABLE.contains(&name.as_str()) {
        return Err(format!(
            "cannot sweep '{name}'; sweepable: {}",
            SWEEPABLE.join(", ")
        ));
    }
    let values: Vec<String> = values
        .split(',')
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
        apply(&name, v, &mut probe, &mut options)?;
    }
    probe.validate().map_err(|e| e.to_string())?;
    Ok(SweepParam { name, values })
}

/// Sets parameter `name` to `value` in the workload or the run options and
/// returns the value as a number for the axes.
pub fn apply(name: &str, value: &str, w: &mut Workload, o: &mut RunOptions) -> Result<f64, String> {
    let count = |v: &str| -> Result<u64, String> {
        match units::parse_count(v)? {
            0 => Err(format!("{name}={v}: must be at least 1")),
            n => Ok(n),
        }
    };
    Ok(match name {
        "concurrency" => {
            w.concurrency = count(value)? as usize;
            w.concurrency as f64
        }
        "tasks" => {
            w.tasks = count(value)? as usize;
            w.tasks as f64
        }
        "latency" => {
            w.latency = value.parse::<LatencyDist>().map_err(|e| e.to_string())?;
            w.latency.mean().as_secs_f64()
        }
        "bytes" => {
            w.bytes = units::parse_bytes(value)? as usize;
            w.bytes as f64
        }
        "cpu" => {
            let d = units::parse_duration(value).map_err(|e| e.to_string())?;
            w.cpu = CpuWork::Time(d);
            d.as_secs_f64()
        }
        "workers" => {
            let n = count(value)? as usize;
            o.workers = Some(n);
            n as f64
        }
        "batch" => {
            o.batch = count(value)? as usize;
            o.batch as f64
        }
        "connection" => {
            o.connection = match value {
                "reuse" => ConnectionMode::Reuse,
                "new" => ConnectionMode::New,
                _ => return Err(format!("connection={value}: use reuse or new")),
            };
            if o.connection == ConnectionMode::New {
                1.0
            } else {
                0.0
            }
        }
        other => {
            return Err(format!(
                "cannot sweep '{other}'; sweepable: {}",
                SWEEPABLE.join(", ")
            ))
        }
    })
}

/// Every combination of the parameters' values, the last one varying fastest.
pub fn grid(params: &[SweepParam]) -> Vec<Vec<(String, String)>> {
    let mut cells: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for p in params {
        cells = cells
            .into_iter()
            .flat_map(|cell| {
                p.values.iter().map(move |v| {
                    let mut c = cell.clone();
                    c.push((p.name.clone(), v.clone()));
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
    fn a_two_parameter_grid_varies_the_last_fastest() {
        let a = parse_param("concurrency=1,10").unwrap();
        let b = parse_param("cpu=0,1ms,2ms").unwrap();
        let g = grid(&[a, b]);
        assert_eq!(g.len(), 6);
        assert_eq!(
            g[0],
            vec![
                ("concurrency".into(), "1".into()),
                ("cpu".into(), "0".into())
            ]
        );
        assert_eq!(g[1][1].1, "1ms");
        assert_eq!(g[3][0].1, "10");
    }

    #[test]
    fn applying_a_value_changes_the_run_and_gives_its_number() {
        let mut w = Workload::default();
        let mut o = RunOptions::default();
        assert_eq!(apply("latency", "20ms", &mut w, &mut o).unwrap(), 0.02);
        assert_eq!(apply("connection", "new", &mut w, &mut o).unwrap(), 1.0);
        assert_eq!(o.connection, ConnectionMode::New);
        assert_eq!(apply("workers", "4", &mut w, &mut o).unwrap(), 4.0);
        assert_eq!(o.workers, Some(4));
    }
}
