//! Measuring a run: wall time, CPU user/sys, context switches and peak RSS
//! of the client process around one strategy run ([`measure`]), the CPU
//! timeline of client and server ([`sampler`]), the machine and how noisy it
//! was ([`machine`]), and the server side ([`server`]: the embedded mock
//! server and its stats).
//!
//! The readings are [`crate::sys::rusage`]'s; the peak RSS is per run where
//! the kernel lets us reset the high-water mark, else the process lifetime's
//! (and marked so).

pub mod machine;
pub mod sampler;
pub mod server;

use std::time::Instant;

use crate::sys::rusage::{peak_rss_now, reset_peak_rss, Usage, WindowStart};

/// What one measured closure cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Measured {
    pub wall_s: f64,
    /// When the run began, in seconds since the Unix epoch: the shards of a
    /// run on several hosts are merged from the earliest start to the latest end.
    pub started_at_unix_s: f64,
    /// CPU of this process during the run (all threads).
    pub usage: Usage,
    /// Peak RSS during the run (see the module docs).
    pub peak_rss_bytes: u64,
    /// True when the peak is the run's own, false when it is the process lifetime's.
    pub peak_rss_is_per_run: bool,
}

/// Runs `f` and measures it.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Measured) {
    measure_from(f, |_| None)
}

/// Runs `f` and measures it from where its result says the window began
/// (`window`: a [`WindowStart`] taken inside `f`), else from its start. The
/// peak RSS is always the whole of `f`'s.
pub fn measure_from<R>(
    f: impl FnOnce() -> R,
    window: impl FnOnce(&R) -> Option<WindowStart>,
) -> (R, Measured) {
    let per_run = reset_peak_rss();
    let before = Usage::now();
    let started_at_unix_s = crate::sys::clock::unix_now_s();
    let start = Instant::now();
    let r = f();
    let end = Instant::now();
    let after = Usage::now();
    let (wall_s, usage, started_at_unix_s) = match window(&r) {
        Some(w) if w.at >= start => (
            end.duration_since(w.at).as_secs_f64(),
            after.since(&w.usage),
            w.unix_s,
        ),
        _ => (
            end.duration_since(start).as_secs_f64(),
            after.since(&before),
            started_at_unix_s,
        ),
    };
    let (peak_rss_bytes, peak_rss_is_per_run) = match (per_run, peak_rss_now()) {
        (true, Some(p)) => (p, true),
        _ => (after.peak_rss_bytes, false),
    };
    (
        r,
        Measured {
            wall_s,
            started_at_unix_s,
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
    fn a_window_that_begins_later_leaves_what_came_before_out() {
        let (_, m) = measure_from(
            || {
                std::thread::sleep(std::time::Duration::from_millis(150));
                let w = WindowStart::now();
                std::thread::sleep(std::time::Duration::from_millis(20));
                w
            },
            |w| Some(*w),
        );
        assert!(m.wall_s >= 0.02 && m.wall_s < 0.15, "{m:?}");
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
