//! `CLOCK_MONOTONIC` in nanoseconds: one clock for every process on the
//! machine (unlike [`std::time::Instant`], which cannot cross a process
//! boundary), so a worker process can measure from its parent's run start.

/// Now, on the clock every process shares, in nanoseconds.
pub fn mono_now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_MONOTONIC
    // always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Microseconds from `earlier` to `later` (both [`mono_now_ns`]), never negative.
pub fn us_between(earlier: u64, later: u64) -> u64 {
    later.saturating_sub(earlier) / 1000
}

/// Microseconds from `start_ns` ([`mono_now_ns`]) to now.
pub fn us_since(start_ns: u64) -> u64 {
    us_between(start_ns, mono_now_ns())
}

/// Runs `f` and says how long it took, in µs.
pub fn timed<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let start = mono_now_ns();
    let r = f();
    (r, us_since(start))
}

/// Now on the wall clock, in seconds since the Unix epoch (0 if the clock
/// reads before it): what hosts agree on, for a start time shared by shards.
pub fn unix_now_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_clock_moves_forward_with_time() {
        let t0 = mono_now_ns();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let us = us_since(t0);
        assert!((5_000..1_000_000).contains(&us), "{us} µs");
        // Never negative: a start in the future reads as zero.
        assert_eq!(us_since(u64::MAX), 0);
    }
}
