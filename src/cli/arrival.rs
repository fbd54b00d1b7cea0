//! The flags of the arrival schedule: `--arrival` (closed loop, or an open
//! loop at a rate) and `--duration` (how long an open loop offers load).

use std::time::Duration;

use clap::Args;

use crate::workload::Arrival;

/// Flags of when tasks arrive.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Arrivals (open loop)")]
pub struct ArrivalArgs {
    /// When tasks arrive: closed (C slots, each starting its next task when its last one
    /// ends), rate:500/s (task i due at i/R) or poisson:500/s (seeded exponential gaps).
    /// Under an open loop, -c (alias --max-in-flight) caps the requests in flight: a task
    /// due while all are busy starts late, and latency is also measured from when it was
    /// due (corrected for coordinated omission).
    #[arg(long, default_value = "closed", value_parser = parse_arrival)]
    pub arrival: Arrival,
    /// With an open-loop --arrival, offer load this long: the rate × the duration tasks
    /// (instead of --tasks), e.g. 10s.
    #[arg(long, value_parser = parse_duration, conflicts_with = "tasks")]
    pub duration: Option<Duration>,
}

fn parse_arrival(s: &str) -> Result<Arrival, String> {
    s.parse()
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = crate::units::parse_duration(s).map_err(|e| e.to_string())?;
    if d.is_zero() || d > Duration::from_secs(24 * 3600) {
        return Err("the duration must be more than 0 and at most 24h, e.g. 10s".into());
    }
    Ok(d)
}

impl ArrivalArgs {
    /// The number of tasks `--duration` asks for, if it was given.
    pub fn tasks(&self) -> Result<Option<usize>, String> {
        let Some(d) = self.duration else {
            return Ok(None);
        };
        let per_s = self.arrival.per_s().ok_or(
            "--duration needs an open-loop --arrival (rate:R or poisson:R); a closed loop runs --tasks",
        )?;
        Ok(Some(((per_s * d.as_secs_f64()).ceil() as usize).max(1)))
    }
}
