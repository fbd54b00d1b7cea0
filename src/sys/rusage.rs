//! Resource usage from the kernel, as one type ([`Usage`]) for this
//! process, a span of it, a worker process's own report and the sum over
//! several processes.
//!
//! `getrusage(RUSAGE_SELF)` covers every thread of this process. The peak
//! RSS of a span: `/proc/self/clear_refs` (value 5) resets the high-water
//! mark before it and `VmHWM` is read after it; where that is not allowed the
//! process-lifetime `ru_maxrss` stands in.

use serde::{Deserialize, Serialize};

/// Where a measured window really began, when a strategy first made ready
/// what the window must not hold (`--preconnect`: its connections): the
/// readings of that moment, from which the window's wall time and CPU count.
#[derive(Debug, Clone, Copy)]
pub struct WindowStart {
    pub at: std::time::Instant,
    pub usage: Usage,
    pub unix_s: f64,
}

impl WindowStart {
    /// The readings now.
    pub fn now() -> Self {
        Self {
            usage: Usage::now(),
            unix_s: crate::sys::clock::unix_now_s(),
            at: std::time::Instant::now(),
        }
    }
}

/// CPU, memory and context switches of one or more processes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
    /// Peak resident set; for a sum of processes, the sum of their peaks
    /// (they ran side by side).
    pub peak_rss_bytes: u64,
    pub ctx_switches_voluntary: u64,
    pub ctx_switches_involuntary: u64,
    /// How many processes this covers.
    pub processes: u64,
}

impl Usage {
    /// This process, all threads, so far; the peak RSS is the lifetime's (`ru_maxrss`).
    pub fn now() -> Self {
        // SAFETY: getrusage writes into the zeroed struct we own.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
        Self::from_rusage(&ru)
    }

    /// One process's kernel accounting.
    pub fn from_rusage(ru: &libc::rusage) -> Self {
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Usage {
            cpu_user_s: tv(ru.ru_utime),
            cpu_sys_s: tv(ru.ru_stime),
            peak_rss_bytes: ru.ru_maxrss as u64 * 1024,
            ctx_switches_voluntary: ru.ru_nvcsw as u64,
            ctx_switches_involuntary: ru.ru_nivcsw as u64,
            processes: 1,
        }
    }

    /// This process's usage as a worker reports it before exiting: the peak
    /// RSS from `VmHWM` where readable.
    pub fn of_this_process() -> Self {
        let u = Self::now();
        Usage {
            peak_rss_bytes: peak_rss_now().unwrap_or(u.peak_rss_bytes),
            ..u
        }
    }

    /// The span from `earlier` to `self` (two readings of one process); the
    /// peak is the later reading's.
    pub fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            cpu_user_s: (self.cpu_user_s - earlier.cpu_user_s).max(0.0),
            cpu_sys_s: (self.cpu_sys_s - earlier.cpu_sys_s).max(0.0),
            peak_rss_bytes: self.peak_rss_bytes,
            ctx_switches_voluntary: self
                .ctx_switches_voluntary
                .saturating_sub(earlier.ctx_switches_voluntary),
            ctx_switches_involuntary: self
                .ctx_switches_involuntary
                .saturating_sub(earlier.ctx_switches_involuntary),
            processes: self.processes,
        }
    }

    /// Adds another process's usage (peak RSS adds up: they ran side by side).
    pub fn add(&mut self, other: &Usage) {
        self.cpu_user_s += other.cpu_user_s;
        self.cpu_sys_s += other.cpu_sys_s;
        self.peak_rss_bytes += other.peak_rss_bytes;
        self.ctx_switches_voluntary += other.ctx_switches_voluntary;
        self.ctx_switches_involuntary += other.ctx_switches_involuntary;
        self.processes += other.processes;
    }

    /// User plus system CPU, in seconds.
    pub fn cpu_s(&self) -> f64 {
        self.cpu_user_s + self.cpu_sys_s
    }
}

/// Resets the kernel's peak-RSS mark for this process; false where not allowed.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// `VmHWM` of this process, in bytes.
pub fn peak_rss_now() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
