//! What the server knows about itself: counters, lateness and its own CPU.
//!
//! Served at `GET /stats` as JSON and returned by [`crate::ServerHandle::stats`].
//! Counters are monotonic (a client diffs two snapshots); the lateness
//! histogram and `max_in_flight` cover the time since the last reset, so a
//! client resets them before each run it wants to describe.
//!
//! The fault counters ([`FaultStats`]) are a separate type in the same JSON
//! object: [`ServerStats`] keeps exactly the fields it had, so code that
//! builds one field by field keeps compiling, and either type can be read
//! from a `/stats` body on its own (unknown fields are ignored, missing fault
//! counters read as zero).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// A snapshot of the server, as JSON at `GET /stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerStats {
    /// The server's process id: a client in the same process must subtract
    /// the server's CPU from its own.
    pub pid: u32,
    /// `/work` requests answered completely and successfully since start
    /// (a dripping body counts once its last byte is handed over; errors,
    /// resets, stalls and 429s never count).
    pub served: u64,
    /// `/work` requests being answered right now (stalled ones and dripping bodies included).
    pub in_flight: u64,
    /// The most `/work` requests in flight at once since the last reset.
    pub max_in_flight: u64,
    /// Body bytes of `/work` responses handed to the connection since start
    /// (the half body of a reset and the slices of a drip cut short included).
    pub bytes_sent: u64,
    /// Requests refused as malformed (400) or too large since start.
    pub bad_requests: u64,
    /// Σ over completed `/work` requests of (answered − arrived), in seconds,
    /// since start: its change over a window, divided by the window, is the
    /// mean number of requests in flight at the server (Little's law).
    #[serde(default)]
    pub busy_s: f64,
    /// How late successful `/work` answers were against their requested
    /// latency (a drip at its head), since the last reset.
    pub lateness_us: LatenessSummary,
    /// User CPU of the server's own threads since start, in seconds. With
    /// `cpu_sys_s` it adds up to their precise time on a CPU (nanoseconds);
    /// the split follows the kernel's clock ticks (see `CpuClock` in `stats.rs`).
    pub cpu_user_s: f64,
    /// System CPU of the server's own threads since start, in seconds.
    pub cpu_sys_s: f64,
    /// Threads the server runs on (runtime workers and the precise timer).
    pub threads: usize,
    /// Seconds since the server started.
    pub uptime_s: f64,
}

/// Fault accounting, served in the same `/stats` JSON object as [`ServerStats`]
/// (`"requests": n, "faults": {...}`) and returned by [`crate::ServerHandle::fault_stats`].
/// Monotonic since start, like the counters of [`ServerStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultStats {
    /// Every `/work` request received: served, refused (400), faulted and
    /// rate-limited alike. `requests − served` is what went wrong or is still going.
    #[serde(default)]
    pub requests: u64,
    /// `/work` requests that met each fault.
    #[serde(default)]
    pub faults: FaultCounts,
}

/// How many `/work` requests met each fault since start.
///
/// A fault is counted when the request is found to meet it (right after the
/// rate limit, before the latency), so the counts follow from the requests
/// received alone, even when a client leaves before the fault plays out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultCounts {
    /// Answered with an error status (`--error-rate`).
    pub error: u64,
    /// Connection reset mid-body (`--reset-rate`).
    pub reset: u64,
    /// Never answered (`--stall-rate`).
    pub stall: u64,
    /// Body dripped over time (`--drip`).
    pub drip: u64,
    /// Answered 429 by the rate limit (`--rate-limit`).
    pub rate_limited: u64,
}

/// The `/stats` JSON object: both snapshots, flattened into one.
#[derive(Serialize)]
pub(crate) struct StatsJson<'a> {
    #[serde(flatten)]
    pub server: &'a ServerStats,
    #[serde(flatten)]
    pub faults: &'a FaultStats,
}

/// Percentiles of lateness in microseconds (0 when nothing was served).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatenessSummary {
    /// Answers the summary covers.
    pub count: u64,
    pub mean: f64,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

/// The live counters behind [`ServerStats`].
pub(crate) struct Counters {
    pub served: AtomicU64,
    pub in_flight: AtomicU64,
    pub max_in_flight: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub bad_requests: AtomicU64,
    /// Σ (answered − arrived) of completed `/work` requests, in µs.
    pub busy_us: AtomicU64,
    pub lateness_us: Mutex<Histogram<u64>>,
    /// Every `/work` request received.
    pub requests: AtomicU64,
    pub fault_error: AtomicU64,
    pub fault_reset: AtomicU64,
    pub fault_stall: AtomicU64,
    pub fault_drip: AtomicU64,
    pub fault_rate_limited: AtomicU64,
}

impl Counters {
    pub fn new() -> Self {
        Self {
            served: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            bad_requests: AtomicU64::new(0),
            busy_us: AtomicU64::new(0),
            // Up to one hour in µs, 3 significant digits.
            lateness_us: Mutex::new(
                Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            ),
            requests: AtomicU64::new(0),
            fault_error: AtomicU64::new(0),
            fault_reset: AtomicU64::new(0),
            fault_stall: AtomicU64::new(0),
            fault_drip: AtomicU64::new(0),
            fault_rate_limited: AtomicU64::new(0),
        }
    }

    pub fn fault_stats(&self) -> FaultStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        FaultStats {
            requests: get(&self.requests),
            faults: FaultCounts {
                error: get(&self.fault_error),
                reset: get(&self.fault_reset),
                stall: get(&self.fault_stall),
                drip: get(&self.fault_drip),
                rate_limited: get(&self.fault_rate_limited),
            },
        }
    }

    /// Adds one to a counter.
    #[inline]
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Marks a request as started; the guard marks it finished when dropped
    /// (also when the client goes away mid-wait).
    pub fn enter(&self) -> InFlightGuard<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_in_flight.fetch_max(now, Ordering::Relaxed);
        InFlightGuard(self)
    }

    /// Marks a request as finished; pairs with [`InFlightGuard::hand_over`].
    pub fn leave(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn record_lateness(&self, lateness_us: u64) {
        self.lateness_us
            .lock()
            .expect("stats lock")
            .saturating_record(lateness_us.max(1));
    }

    pub fn reset(&self) {
        self.lateness_us.lock().expect("stats lock").reset();
        self.max_in_flight
            .store(self.in_flight.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    pub fn lateness(&self) -> LatenessSummary {
        let h = self.lateness_us.lock().expect("stats lock");
        if h.is_empty() {
            return LatenessSummary::default();
        }
        LatenessSummary {
            count: h.len(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.5),
            p99: h.value_at_quantile(0.99),
            max: h.max(),
        }
    }
}

pub(crate) struct InFlightGuard<'a>(&'a Counters);

impl InFlightGuard<'_> {
    /// Ends the guard without marking the request finished: whoever takes
    /// over (a body still streaming) must call [`Counters::leave`] once.
    pub fn hand_over(self) {
        std::mem::forget(self);
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// The server's own CPU, user and system, to the nanosecond.
///
/// The server may share its process with its client (tests, library users),
/// so it counts only its own threads (the tids it recorded as each started),
/// never the process clock. For each thread:
/// - the total is the first field of `/proc/self/task/<tid>/schedstat`,
///   nanoseconds on a CPU, as concbench's sampler reads it;
/// - the kernel splits that total between user and system only in clock
///   ticks (`/proc/self/task/<tid>/stat`, 10 ms each at the usual 100 Hz), so
///   a short run would show 0, 10 or 20 ms.
///
/// The reported figures are the precise total split in the proportion of the
/// summed user and system ticks, kept monotonic the way the kernel keeps
/// `getrusage` monotonic (`cputime_adjust`): neither part ever decreases and
/// they always add up to the precise total. A client that diffs two
/// snapshots part by part gets two differences ≥ 0 whose sum is the precise
/// CPU between them, and the split is as good as the ticks allow (right in
/// proportion over long runs; all user until the first system tick).
/// Reporting the total as user and 0 as system would be monotonic too, but
/// would hide that most of a mock server's time is spent in the kernel.
///
/// A thread whose `schedstat` cannot be read (a kernel without
/// `CONFIG_SCHED_INFO`) counts its ticks instead; a thread that has exited
/// counts as zero, and the figures then hold still until the live threads
/// have made up for it.
pub(crate) struct CpuClock {
    /// The last (user, system) reported, in seconds.
    last: Mutex<(f64, f64)>,
}

impl CpuClock {
    pub fn new() -> Self {
        Self {
            last: Mutex::new((0.0, 0.0)),
        }
    }

    /// User and system CPU of the given threads of this process since they
    /// started, in seconds (see [`CpuClock`]).
    pub fn read(&self, tids: &[i32]) -> (f64, f64) {
        let now = threads_cpu(tids);
        let mut last = self.last.lock().expect("cpu clock lock");
        *last = split(*last, now);
        *last
    }
}

/// What the kernel says about a set of threads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct ThreadsCpu {
    /// Time on a CPU, in seconds (`schedstat`, ns; ticks where it is missing).
    total_s: f64,
    /// Clock ticks of user and of system time (`stat`).
    user_ticks: u64,
    sys_ticks: u64,
}

/// Splits `now.total_s` in the proportion of its ticks, with neither part
/// below its value in `last` (see [`CpuClock`]).
fn split(last: (f64, f64), now: ThreadsCpu) -> (f64, f64) {
    let (last_user, last_sys) = last;
    let total = now.total_s;
    if total <= last_user + last_sys {
        return last;
    }
    let ticks = now.user_ticks + now.sys_ticks;
    let sys_share = if ticks == 0 {
        0.0
    } else {
        now.sys_ticks as f64 / ticks as f64
    };
    let sys = (total * sys_share).max(last_sys);
    let user = total - sys;
    if user < last_user {
        (last_user, total - last_user)
    } else {
        (user, sys)
    }
}

/// Reads `schedstat` and `stat` of the given threads of this process.
fn threads_cpu(tids: &[i32]) -> ThreadsCpu {
    // SAFETY: sysconf has no preconditions.
    let tick_s = 1.0 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let mut out = ThreadsCpu::default();
    for tid in tids {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
            continue;
        };
        // Fields after the command name (which may hold spaces) start at field 3 (state).
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let user: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0);
        let sys: u64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
        out.user_ticks += user;
        out.sys_ticks += sys;
        let on_cpu_ns = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat"))
            .ok()
            .and_then(|t| t.split_whitespace().next()?.parse::<u64>().ok());
        out.total_s += match on_cpu_ns {
            Some(ns) => ns as f64 / 1e9,
            None => (user + sys) as f64 * tick_s,
        };
    }
    out
}

/// The calling thread's kernel thread id.
pub(crate) fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(total_s: f64, user_ticks: u64, sys_ticks: u64) -> ThreadsCpu {
        ThreadsCpu {
            total_s,
            user_ticks,
            sys_ticks,
        }
    }

    #[test]
    fn the_split_adds_up_to_the_precise_total_and_never_goes_back() {
        let mut last = (0.0, 0.0);
        // Before any tick everything is user; then ticks of each kind, a
        // reading that went back (a thread exited) and one that stood still.
        let readings = [
            cpu(0.003_217, 0, 0),
            cpu(0.008_5, 0, 1),
            cpu(0.012_25, 1, 1),
            cpu(0.031_7, 1, 3),
            cpu(0.020_0, 1, 2),
            cpu(0.031_7, 1, 3),
            cpu(0.095_123, 6, 3),
        ];
        for now in readings {
            let next = split(last, now);
            assert!(
                next.0 >= last.0 && next.1 >= last.1,
                "{last:?} then {next:?}"
            );
            if now.total_s > last.0 + last.1 {
                assert!(
                    (next.0 + next.1 - now.total_s).abs() < 1e-12,
                    "{next:?} of {now:?}"
                );
            } else {
                assert_eq!(next, last);
            }
            last = next;
        }
        assert_eq!(split((0.0, 0.0), cpu(0.003_217, 0, 0)), (0.003_217, 0.0));
        // With room to do so, the split is the ticks' proportion.
        let (user, sys) = split((0.001, 0.001), cpu(0.1, 1, 3));
        assert!((user - 0.025).abs() < 1e-12 && (sys - 0.075).abs() < 1e-12);
    }

    #[test]
    fn this_threads_cpu_is_read_to_below_a_clock_tick() {
        let tid = gettid();
        let clock = CpuClock::new();
        // 3 ms of this thread's CPU (not of wall time: the machine may be busy).
        let thread_cpu_s = || {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: clock_gettime writes into the timespec we own.
            unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
            ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
        };
        let start = thread_cpu_s();
        while thread_cpu_s() - start < 0.003 {
            std::hint::black_box(0u64);
        }
        let (user, sys) = clock.read(&[tid]);
        let total = user + sys;
        // The kernel's count may lag the running thread's clock by a little.
        assert!(total >= 0.002, "{total} s after 3 ms of spinning");
        let ms = total * 1e3;
        assert!(
            (ms - ms.round()).abs() > 1e-6,
            "{total} s is whole milliseconds"
        );
        assert_eq!(clock.read(&[]), (user, sys), "never goes back");
    }
}
