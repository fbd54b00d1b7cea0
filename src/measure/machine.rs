//! The machine a run happened on, and how noisy it was while it ran.
//!
//! Absolute times drift on a shared 2-core machine; a report says what the
//! machine was (cores, CPU model, kernel) and, per run, how much CPU the
//! hypervisor stole (`/proc/stat`) and how often tasks waited for a CPU
//! (`/proc/pressure/cpu`), so a reader can tell a slow model from a busy host.

use serde::{Deserialize, Serialize};

/// Steal above this share of the machine's CPU time marks a run as noisy.
pub const NOISY_STEAL_FRACTION: f64 = 0.02;

/// What the machine is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MachineContext {
    /// Cores the OS reports (not only those this process may use).
    pub cores_online: usize,
    pub cpu_model: String,
    pub kernel: String,
}

impl MachineContext {
    pub fn read() -> Self {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        // SAFETY: sysconf has no preconditions.
        let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        Self {
            cores_online: online.max(1) as usize,
            cpu_model,
            kernel,
        }
    }
}

/// Counters of the whole machine at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SystemSnapshot {
    /// All CPU time of all cores, in clock ticks (`/proc/stat` `cpu` line).
    pub total_ticks: u64,
    pub steal_ticks: u64,
    /// `some` total of `/proc/pressure/cpu`, in µs; `None` where PSI is off.
    pub pressure_some_us: Option<u64>,
}

impl SystemSnapshot {
    pub fn read() -> Self {
        let mut s = SystemSnapshot::default();
        if let Ok(stat) = std::fs::read_to_string("/proc/stat") {
            if let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) {
                let v: Vec<u64> = line
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|x| x.parse().ok())
                    .collect();
                // user nice system idle iowait irq softirq steal (guest counts are inside user).
                s.total_ticks = v.iter().take(8).sum();
                s.steal_ticks = v.get(7).copied().unwrap_or(0);
            }
        }
        s.pressure_some_us = std::fs::read_to_string("/proc/pressure/cpu")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("some"))?
                    .split_whitespace()
                    .find_map(|kv| kv.strip_prefix("total="))?
                    .parse()
                    .ok()
            });
        s
    }
}

/// How noisy the machine was between two snapshots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Noise {
    /// Share of all CPU time the hypervisor gave to someone else.
    pub steal_fraction: f64,
    /// Share of wall time in which some task waited for a CPU (PSI `some`);
    /// a client that keeps both cores busy raises it itself.
    pub cpu_pressure_fraction: Option<f64>,
    /// Steal above [`NOISY_STEAL_FRACTION`].
    pub noisy: bool,
}

impl Noise {
    pub fn between(before: &SystemSnapshot, after: &SystemSnapshot, wall_s: f64) -> Self {
        let total = after.total_ticks.saturating_sub(before.total_ticks);
        let steal = after.steal_ticks.saturating_sub(before.steal_ticks);
        let steal_fraction = if total == 0 {
            0.0
        } else {
            steal as f64 / total as f64
        };
        let cpu_pressure_fraction = match (before.pressure_some_us, after.pressure_some_us) {
            (Some(b), Some(a)) if wall_s > 0.0 => {
                Some((a.saturating_sub(b) as f64 / 1e6 / wall_s).min(1.0))
            }
            _ => None,
        };
        Noise {
            steal_fraction,
            cpu_pressure_fraction,
            noisy: steal_fraction > NOISY_STEAL_FRACTION,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_context_names_cores_cpu_and_kernel() {
        let m = MachineContext::read();
        assert!(m.cores_online >= 1);
        assert!(!m.kernel.is_empty() && !m.cpu_model.is_empty());
    }

    #[test]
    fn noise_is_a_share_of_time() {
        let a = SystemSnapshot::read();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let b = SystemSnapshot::read();
        let n = Noise::between(&a, &b, 0.05);
        assert!((0.0..=1.0).contains(&n.steal_fraction));
        if let Some(p) = n.cpu_pressure_fraction {
            assert!((0.0..=1.0).contains(&p));
        }
        let stolen = SystemSnapshot {
            total_ticks: 1000,
            steal_ticks: 100,
            pressure_some_us: None,
        };
        let n = Noise::between(&SystemSnapshot::default(), &stolen, 1.0);
        assert!(n.noisy && (n.steal_fraction - 0.1).abs() < 1e-12);
    }
}
