//! The figures of a strategy's row that thresholds (`--fail-if`), `compare`
//! and `check` name: one list, with each figure's name, unit and better
//! direction, read from a [`StrategyResult`] (and its run's [`Meta`], for
//! figures in calibrated CPU-kernel units).

use serde::{Deserialize, Serialize};

use super::{Meta, StrategyResult};

/// Which way is better for a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// What a figure's value is measured in: it says which values a threshold
/// may be written in (`50ms` for seconds, `64MiB` for bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Bytes,
    /// A count of tasks, requests or switches.
    Count,
    /// A plain number: a ratio, a rate, a fraction, kernel units.
    Number,
}

/// A figure of one strategy's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Figure {
    WallS,
    IdealS,
    Efficiency,
    SpeedupVsSequential,
    ThroughputPerS,
    CpuUserS,
    CpuSysS,
    /// Client CPU, user + system.
    CpuS,
    CpuUtilisation,
    /// Client CPU per task in CPU-kernel units calibrated in the same run:
    /// machine speed cancels out.
    CpuPerRequestUnits,
    /// The same, user CPU alone: the client's own per-request path
    /// (parsing, allocation, bookkeeping), without the kernel's share
    /// (sockets, wake-ups), which moved 2.5-fold in a day on a shared
    /// machine while this stayed within 16%.
    CpuUserPerRequestUnits,
    PeakRssBytes,
    LatencyP50,
    LatencyP90,
    LatencyP99,
    LatencyP999,
    LatencyMax,
    LatencyMean,
    /// Under an open loop: latency from when tasks were due (corrected).
    LatencyFromDueP99,
    LatencyFromDueP999,
    /// Under an open loop: tasks that started more than 1 ms late.
    LateStarts,
    TasksOk,
    TasksFailed,
    Retries,
    RequestsSent,
    ServerCpuS,
    CtxSwitchesVoluntary,
    CtxSwitchesInvoluntary,
}

use Figure::*;

impl Figure {
    /// Every figure, in the order tables list them.
    pub const ALL: [Figure; 28] = [
        WallS,
        IdealS,
        Efficiency,
        SpeedupVsSequential,
        ThroughputPerS,
        CpuUserS,
        CpuSysS,
        CpuS,
        CpuUtilisation,
        CpuPerRequestUnits,
        CpuUserPerRequestUnits,
        PeakRssBytes,
        LatencyP50,
        LatencyP90,
        LatencyP99,
        LatencyP999,
        LatencyMax,
        LatencyMean,
        LatencyFromDueP99,
        LatencyFromDueP999,
        LateStarts,
        TasksOk,
        TasksFailed,
        Retries,
        RequestsSent,
        ServerCpuS,
        CtxSwitchesVoluntary,
        CtxSwitchesInvoluntary,
    ];

    /// Its name in thresholds and compare tables (`latency.p99`).
    pub fn name(self) -> &'static str {
        match self {
            WallS => "wall_s",
            IdealS => "ideal_s",
            Efficiency => "efficiency",
            SpeedupVsSequential => "speedup_vs_sequential",
            ThroughputPerS => "throughput_per_s",
            CpuUserS => "cpu_user_s",
            CpuSysS => "cpu_sys_s",
            CpuS => "cpu_s",
            CpuUtilisation => "cpu_utilisation",
            CpuPerRequestUnits => "cpu_per_request_units",
            CpuUserPerRequestUnits => "cpu_user_per_request_units",
            PeakRssBytes => "peak_rss_bytes",
            LatencyP50 => "latency.p50",
            LatencyP90 => "latency.p90",
            LatencyP99 => "latency.p99",
            LatencyP999 => "latency.p999",
            LatencyFromDueP99 => "latency_from_due.p99",
            LatencyFromDueP999 => "latency_from_due.p999",
            LateStarts => "late_starts",
            LatencyMax => "latency.max",
            LatencyMean => "latency.mean",
            TasksOk => "tasks_ok",
            TasksFailed => "tasks_failed",
            Retries => "retries",
            RequestsSent => "requests_sent",
            ServerCpuS => "server_cpu_s",
            CtxSwitchesVoluntary => "ctx_switches_voluntary",
            CtxSwitchesInvoluntary => "ctx_switches_involuntary",
        }
    }

    /// The figure `name` stands for: its own name, or the JSON's spelling of
    /// a latency (`latency_s.p99`, and `latency_p99_s` as `stats` has it).
    pub fn from_name(name: &str) -> Option<Figure> {
        let name = name.trim();
        let latency = name
            .strip_prefix("latency_s.")
            .or_else(|| name.strip_prefix("latency_")?.strip_suffix("_s"))
            .map(|p| format!("latency.{p}"));
        let name = latency.as_deref().unwrap_or(name);
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Every name, for the message on an unknown one.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|f| f.name()).collect()
    }

    pub fn unit(self) -> Unit {
        match self {
            WallS | IdealS | CpuUserS | CpuSysS | CpuS | LatencyP50 | LatencyP90 | LatencyP99
            | LatencyP999 | LatencyMax | LatencyMean | LatencyFromDueP99 | LatencyFromDueP999
            | ServerCpuS => Unit::Seconds,
            PeakRssBytes => Unit::Bytes,
            TasksOk
            | LateStarts
            | TasksFailed
            | Retries
            | RequestsSent
            | CtxSwitchesVoluntary
            | CtxSwitchesInvoluntary => Unit::Count,
            Efficiency
            | SpeedupVsSequential
            | ThroughputPerS
            | CpuUtilisation
            | CpuPerRequestUnits
            | CpuUserPerRequestUnits => Unit::Number,
        }
    }

    /// Which way is better (for compare's verdicts: worse or better).
    pub fn better(self) -> Better {
        match self {
            Efficiency | SpeedupVsSequential | ThroughputPerS | TasksOk => Better::Higher,
            _ => Better::Lower,
        }
    }

    /// Its value on row `r` of a run described by `meta`; `None` when the
    /// row has none (a speed-up when sequential did not run).
    pub fn read(self, r: &StrategyResult, meta: &Meta) -> Option<f64> {
        let l = &r.latency_s;
        let v = match self {
            WallS => r.wall_s,
            IdealS => r.ideal_s,
            Efficiency => r.efficiency,
            SpeedupVsSequential => r.speedup_vs_sequential?,
            ThroughputPerS => r.throughput_per_s,
            CpuUserS => r.cpu_user_s,
            CpuSysS => r.cpu_sys_s,
            CpuS => r.cpu_user_s + r.cpu_sys_s,
            CpuUtilisation => r.cpu_utilisation,
            CpuPerRequestUnits => {
                let per_request_s = (r.cpu_user_s + r.cpu_sys_s) / r.tasks.max(1) as f64;
                per_request_s * 1e6 * meta.cpu_units_per_us
            }
            CpuUserPerRequestUnits => {
                r.cpu_user_s / r.tasks.max(1) as f64 * 1e6 * meta.cpu_units_per_us
            }
            PeakRssBytes => r.peak_rss_bytes as f64,
            LatencyP50 => l.p50,
            LatencyP90 => l.p90,
            LatencyP99 => l.p99,
            LatencyP999 => l.p999,
            LatencyFromDueP99 => r.latency_corrected_s?.p99,
            LatencyFromDueP999 => r.latency_corrected_s?.p999,
            LateStarts => r.late_starts as f64,
            LatencyMax => l.max,
            LatencyMean => l.mean,
            TasksOk => r.tasks_ok as f64,
            TasksFailed => r.tasks_failed as f64,
            Retries => r.retries as f64,
            RequestsSent => r.requests_sent as f64,
            ServerCpuS => {
                let s = r.server.as_ref()?;
                s.cpu_user_s + s.cpu_sys_s
            }
            CtxSwitchesVoluntary => r.ctx_switches_voluntary as f64,
            CtxSwitchesInvoluntary => r.ctx_switches_involuntary as f64,
        };
        Some(v)
    }

    /// `value` as a person reads it (`12.3ms`, `4.0 MiB`, `0.93`).
    pub fn format(self, value: f64) -> String {
        if !value.is_finite() {
            return "-".into();
        }
        match self.unit() {
            Unit::Seconds => crate::units::format_seconds(value),
            Unit::Bytes => crate::units::format_bytes(value.max(0.0).round() as u64),
            Unit::Count => format!("{value:.0}"),
            Unit::Number if value.abs() >= 100.0 => format!("{value:.0}"),
            Unit::Number => format!("{value:.3}"),
        }
    }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_is_found_by_its_name_and_latencies_by_the_jsons_spellings_too() {
        for f in Figure::ALL {
            assert_eq!(Figure::from_name(f.name()), Some(f));
        }
        assert_eq!(Figure::from_name("latency_s.p99"), Some(LatencyP99));
        assert_eq!(Figure::from_name("latency_p50_s"), Some(LatencyP50));
        assert_eq!(Figure::from_name("latency.p42"), None);
        let mut names = Figure::names();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Figure::ALL.len(), "names are unique");
    }
}
