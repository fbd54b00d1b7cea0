//! What every connection's handler shares ([`Shared`]): the configuration,
//! the counters, the precise timer, the rate limiter and the shutdown signal,
//! and the stats snapshot built from them.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::watch;

use crate::config::ServerConfig;
use crate::faults::RateLimiter;
use crate::ids::IdCounts;
use crate::rng::SplitMix64;
use crate::stats::{Counters, CpuClock, ServerStats};
use crate::timer::PreciseTimer;

/// What every connection's handler shares.
pub(crate) struct Shared {
    pub(crate) config: ServerConfig,
    pub(crate) counters: Counters,
    /// Requests per task id since the last reset (`GET /stats/ids`).
    pub(crate) ids: IdCounts,
    pub(crate) timer: PreciseTimer,
    /// Draws latencies for requests that carry none.
    pub(crate) default_rng: Mutex<SplitMix64>,
    /// The token bucket, when [`ServerConfig::rate_limit`] is set.
    pub(crate) limiter: Option<RateLimiter>,
    /// Turns `true` when the server starts shutting down: stalled requests
    /// let go of their connections so they cannot hold the shutdown.
    pub(crate) shutting_down: watch::Sender<bool>,
    /// Kernel thread ids of the server's threads, for its CPU accounting.
    pub(crate) tids: Arc<Mutex<Vec<i32>>>,
    /// The CPU of those threads, kept monotonic between snapshots.
    cpu: CpuClock,
    started: Instant,
}

impl Shared {
    pub(crate) fn new(
        config: ServerConfig,
        timer: PreciseTimer,
        tids: Arc<Mutex<Vec<i32>>>,
    ) -> Self {
        Self {
            default_rng: Mutex::new(SplitMix64::new(config.seed)),
            limiter: config.rate_limit.map(RateLimiter::new),
            shutting_down: watch::Sender::new(false),
            config,
            counters: Counters::new(),
            ids: IdCounts::new(),
            timer,
            tids,
            cpu: CpuClock::new(),
            started: Instant::now(),
        }
    }

    pub(crate) fn stats(&self) -> ServerStats {
        use std::sync::atomic::Ordering::Relaxed;
        let tids = self.tids.lock().expect("tids lock").clone();
        let (cpu_user_s, cpu_sys_s) = self.cpu.read(&tids);
        let c = &self.counters;
        ServerStats {
            pid: std::process::id(),
            served: c.served.load(Relaxed),
            in_flight: c.in_flight.load(Relaxed),
            max_in_flight: c.max_in_flight.load(Relaxed),
            bytes_sent: c.bytes_sent.load(Relaxed),
            bad_requests: c.bad_requests.load(Relaxed),
            busy_s: c.busy_us.load(Relaxed) as f64 / 1e6,
            lateness_us: c.lateness(),
            cpu_user_s,
            cpu_sys_s,
            threads: tids.len(),
            uptime_s: self.started.elapsed().as_secs_f64(),
        }
    }
}
