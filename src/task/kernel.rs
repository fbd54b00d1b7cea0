//! The CPU work each task does over its response body, and its calibration.
//!
//! One *unit* is one step of a dependent multiply–rotate chain that reads the
//! next 8-byte word of the body. The chain cannot be vectorised or skipped,
//! and its result feeds the task's checksum, so the compiler cannot remove it.
//! [`calibrate`] measures units per microsecond on this machine so a workload
//! can ask for `--cpu 5ms` and a report can say how much CPU a task needed.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Runs `units` steps over `body`, starting from `seed`; returns the chain's end value.
pub fn cpu_work(body: &[u8], units: u64, seed: u64) -> u64 {
    let mut h = seed ^ 0x6A09_E667_F3BC_C908;
    if units == 0 {
        return h;
    }
    let words: Vec<u64> = if body.len() >= 8 {
        Vec::new()
    } else {
        // Too short to read words from: use the padded bytes as one word.
        let mut w = [0u8; 8];
        w[..body.len()].copy_from_slice(body);
        vec![u64::from_le_bytes(w)]
    };
    let mut left = units;
    while left > 0 {
        if words.is_empty() {
            for chunk in body.chunks_exact(8) {
                if left == 0 {
                    break;
                }
                let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
                h = step(h, w);
                left -= 1;
            }
        } else {
            h = step(h, words[0]);
            left -= 1;
        }
    }
    h
}

#[inline(always)]
fn step(h: u64, w: u64) -> u64 {
    (h ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(23) ^ (h >> 17)
}

/// Units per microsecond on this machine: the best of several timed runs over
/// a 16 KiB body, each at least `min_run` long. Best, not mean: a descheduled
/// run measures the machine's noise, not the kernel.
pub fn calibrate(min_run: Duration) -> f64 {
    let body = mock_server::payload::generate(1, 1, 16 * 1024);
    speed_of(cpu_work, &body, 100_000, min_run)
}

/// Units per microsecond of `run` over `body` (any kind of work): the run
/// grows from `start_units` until it lasts `min_run`, one untimed run
/// faults in what a first run touches (the allocator's pages), then the best
/// of five timed runs.
pub fn speed_of(
    run: fn(&[u8], u64, u64) -> u64,
    body: &[u8],
    start_units: u64,
    min_run: Duration,
) -> f64 {
    let mut units = start_units.max(1);
    // Grow the run until it is long enough to time.
    loop {
        let t = Instant::now();
        black_box(run(black_box(body), units, 1));
        if t.elapsed() >= min_run || units > 1 << 40 {
            break;
        }
        units *= 2;
    }
    black_box(run(black_box(body), units, 1));
    let mut best = 0.0f64;
    for _ in 0..5 {
        let t = Instant::now();
        black_box(run(black_box(body), units, 1));
        let us = t.elapsed().as_secs_f64() * 1e6;
        best = best.max(units as f64 / us.max(1e-3));
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_depends_on_body_units_and_seed() {
        let body = mock_server::payload::generate(1, 2, 1000);
        let a = cpu_work(&body, 1000, 0);
        assert_eq!(a, cpu_work(&body, 1000, 0));
        assert_ne!(a, cpu_work(&body, 1001, 0));
        assert_ne!(a, cpu_work(&body, 1000, 1));
        let mut other = body.clone();
        other[0] ^= 1;
        assert_ne!(a, cpu_work(&other, 1000, 0));
    }

    #[test]
    fn work_over_short_or_empty_bodies_still_runs() {
        assert_ne!(cpu_work(&[], 10, 0), cpu_work(&[], 11, 0));
        assert_ne!(cpu_work(&[1, 2, 3], 10, 0), cpu_work(&[1, 2, 4], 10, 0));
    }

    #[test]
    fn calibration_gives_a_plausible_rate() {
        let rate = calibrate(Duration::from_millis(5));
        // Between 1 and 10,000 steps per µs on anything from a debug build to a fast core.
        assert!(rate > 1.0 && rate < 10_000.0, "{rate}");
    }
}
