//! Resource accounting of the client process around one strategy run: wall
//! time, CPU user/sys, context switches and peak RSS, from the kernel.
//!
//! `getrusage(RUSAGE_SELF)` covers every thread of this process. The peak RSS
//! is per run: `/proc/self/clear_refs` (value 5) resets the high-water mark
//! before the run and `VmHWM` is read after it; where that is not possible the
//! process-lifetime `ru_maxrss` is reported instead (and marked so).

use std::time::Instant;

/// A reading of this process's usage.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
    pub ctx_switches_voluntary: u64,
    pub ctx_switches_involuntary: u64,
    /// Lifetime peak RSS of the process, in bytes.
    pub max_rss_bytes: u64,
}

impl Usage {
    /// This process, all threads.
    pub fn now() -> Self {
        // SAFETY: getrusage writes into the zeroed struct we own.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Usage {
            cpu_user_s: tv(ru.ru_utime),
            cpu_sys_s: tv(ru.ru_stime),
            ctx_switches_voluntary: ru.ru_nvcsw as u64,
            ctx_switches_involuntary: ru.ru_nivcsw as u64,
            max_rss_bytes: ru.ru_maxrss as u64 * 1024,
        }
    }

    fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            cpu_user_s: (self.cpu_user_s - earlier.cpu_user_s).max(0.0),
            cpu_sys_s: (self.cpu_sys_s - earlier.cpu_sys_s).max(0.0),
            ctx_switches_voluntary: self
                .ctx_switches_voluntary
                .saturating_sub(earlier.ctx_switches_voluntary),
            ctx_switches_involuntary: self
                .ctx_switches_involuntary
                .saturating_sub(earlier.ctx_switches_involuntary),
            max_rss_bytes: self.max_rss_bytes,
        }
    }
}

/// What one measured closure cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Measured {
    pub wall_s: f64,
    /// CPU of this process during the run (all threads).
    pub usage: Usage,
    /// Peak RSS during the run (see the module docs).
    pub peak_rss_bytes: u64,
    /// True when the peak is the run's own, false when it is the process lifetime's.
    pub peak_rss_is_per_run: bool,
}

/// Resets the kernel's peak-RSS mark for this process; false where not allowed.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// `VmHWM` of this process, in bytes.
pub(crate) fn peak_rss_now() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Runs `f` and measures it.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Measured) {
    let per_run = reset_peak_rss();
    let before = Usage::now();
    let start = Instant::now();
    let r = f();
    let wall_s = start.elapsed().as_secs_f64();
    let after = Usage::now();
    let usage = after.since(&before);
    let (peak_rss_bytes, peak_rss_is_per_run) = match (per_run, peak_rss_now()) {
        (true, Some(p)) => (p, true),
        _ => (after.max_rss_bytes, false),
    };
    (
        r,
        Measured {
            wall_s,
            usage,
            peak_rss_bytes,
            peak_rss_is_per_run,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_shows_up_as_cpu_and_sleep_as_wall_time() {
        let ((), busy) = measure(|| {
            let t = Instant::now();
            let mut x = 0u64;
            while t.elapsed().as_millis() < 100 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        });
        assert!(
            busy.usage.cpu_user_s + busy.usage.cpu_sys_s > 0.05,
            "{busy:?}"
        );
        let ((), idle) = measure(|| std::thread::sleep(std::time::Duration::from_millis(100)));
        // Other tests share this process, so only the wall time is certain here.
        assert!(idle.wall_s >= 0.1);
    }

    #[test]
    fn the_peak_rss_sees_a_large_allocation() {
        let (_, m) = measure(|| {
            let v = vec![1u8; 64 << 20];
            std::hint::black_box(&v);
            v.iter().map(|&b| b as u64).sum::<u64>()
        });
        assert!(m.peak_rss_bytes >= 64 << 20, "{m:?}");
    }
}
