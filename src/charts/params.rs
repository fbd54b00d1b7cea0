//! Swept parameters: what each is called on an axis, its unit, which
//! workload field it replaces, and its values over a sweep's cells.

use super::style::fmt_num;
use crate::report::{SweepCell, SweepReport};
use crate::units::{format_bytes, format_seconds};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Tasks,
    Latency,
    Cpu,
    Concurrency,
    Bytes,
    Cores,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Count,
    Seconds,
    Bytes,
}

pub(super) struct ParamInfo {
    pub(super) label: String,
    pub(super) unit: Unit,
    pub(super) field: Option<Field>,
}

/// What a swept parameter is called on an axis, and its unit.
pub(super) fn param_info(name: &str) -> ParamInfo {
    let p = |label: &str, unit, field| ParamInfo {
        label: label.to_string(),
        unit,
        field,
    };
    match name.to_ascii_lowercase().as_str() {
        "concurrency" | "c" => p(
            "concurrency C (requests in flight)",
            Unit::Count,
            Some(Field::Concurrency),
        ),
        "latency" | "l" => p(
            "latency per request (s)",
            Unit::Seconds,
            Some(Field::Latency),
        ),
        "cpu" => p("CPU work per task (s)", Unit::Seconds, Some(Field::Cpu)),
        "tasks" | "n" => p("tasks", Unit::Count, Some(Field::Tasks)),
        "bytes" | "b" | "body" => p("body size (bytes)", Unit::Bytes, Some(Field::Bytes)),
        "cores" | "p" => p("cores P", Unit::Count, Some(Field::Cores)),
        "workers" | "w" => p("workers W", Unit::Count, None),
        "batch" => p("batch (tasks per message)", Unit::Count, None),
        "work" => p("work (0 hash, 1 json)", Unit::Count, None),
        "arrival" => p("offered load (tasks/s)", Unit::Count, None),
        _ => p(name, Unit::Count, None),
    }
}

pub(super) fn format_param(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Count => fmt_num(v),
        Unit::Seconds => format_seconds(v),
        Unit::Bytes => format_bytes(v.max(0.0) as u64),
    }
}

/// The distinct values of `param` over the cells, by number: (x, as given).
pub(super) fn param_values(sweep: &SweepReport, param: &str) -> Vec<(f64, String)> {
    let mut v: Vec<(f64, String)> = sweep
        .cells
        .iter()
        .filter_map(|c| cell_value(c, param))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v.dedup_by(|a, b| a.1 == b.1);
    v
}

pub(super) fn cell_value(cell: &SweepCell, param: &str) -> Option<(f64, String)> {
    let given = cell.values.get(param).cloned();
    let x = cell.x.get(param).copied();
    match (x, given) {
        (Some(x), Some(g)) => Some((x, g)),
        (Some(x), None) => Some((x, fmt_num(x))),
        (None, Some(g)) => Some((g.parse().unwrap_or(f64::NAN), g)),
        (None, None) => None,
    }
}
