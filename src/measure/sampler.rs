//! The CPU-utilisation timeline: a thread that samples client and server CPU
//! (in cores) at a fixed interval while a strategy runs, for the charts.
//!
//! - Client: this process (`CLOCK_PROCESS_CPUTIME_ID`, every thread, ns) plus
//!   every live worker process (registered by [`crate::worker`]) and every
//!   process of a live external program's tree (`--external`), each read as
//!   the sum of its threads' `/proc/<pid>/task/<tid>/schedstat` (ns). A worker
//!   that exits keeps the CPU it was last seen with, so the series never dips.
//! - Server: the same `schedstat` sum for the server's process, when it is
//!   another process on this machine. A server inside the client's process
//!   (tests) cannot be told apart in the timeline; its series is empty.
//!
//! The sampler measures its own thread's CPU (`RUSAGE_THREAD`) so the report
//! can state its cost and subtract it from the client's CPU.

use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Default sampling interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(20);

/// CPU use over time, in cores, one point per interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Timeline {
    pub interval_s: f64,
    /// End of each interval, in seconds since the run started.
    pub t_s: Vec<f64>,
    pub client_cores: Vec<f64>,
    /// Empty when the server's CPU cannot be read apart from the client's.
    pub server_cores: Vec<f64>,
}

/// What a stopped sampler hands back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sampled {
    pub timeline: Timeline,
    /// CPU the sampler thread itself used, in seconds (user, system).
    pub sampler_cpu_user_s: f64,
    pub sampler_cpu_sys_s: f64,
    /// Samples taken.
    pub samples: usize,
}

/// A running sampler; [`Sampler::stop`] ends it and returns the timeline.
pub struct Sampler {
    stop: mpsc::Sender<()>,
    handle: JoinHandle<Sampled>,
}

impl Sampler {
    /// Starts sampling every `interval`; `server_pid` is read when it is not this process.
    pub fn start(interval: Duration, server_pid: Option<u32>) -> Sampler {
        let (stop, stopped) = mpsc::channel::<()>();
        let server_pid = server_pid.filter(|&p| p != std::process::id());
        let handle = std::thread::Builder::new()
            .name("concbench-sampler".into())
            .stack_size(256 * 1024)
            .spawn(move || sample_loop(interval, server_pid, stopped))
            .expect("cannot start the sampler thread");
        Sampler { stop, handle }
    }

    /// Stops the sampler and returns what it saw.
    pub fn stop(self) -> Sampled {
        let _ = self.stop.send(());
        self.handle.join().unwrap_or_default()
    }
}

fn sample_loop(
    interval: Duration,
    server_pid: Option<u32>,
    stopped: mpsc::Receiver<()>,
) -> Sampled {
    let start = Instant::now();
    let mut workers = WorkerCpu::default();
    let mut last_t = 0.0;
    let mut last_client = process_cpu_s() + workers.total_s();
    let mut server = server_pid.map(ProcCpu::new);
    let mut last_server = server.as_mut().and_then(|p| p.read_s());
    let mut tl = Timeline {
        interval_s: interval.as_secs_f64(),
        ..Timeline::default()
    };
    let mut next = start + interval;
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        // Stopped (or the run is gone): one last point, for the partial interval.
        let last = !matches!(stopped.recv_timeout(wait), Err(RecvTimeoutError::Timeout));
        push_point(
            &mut tl,
            start,
            &mut last_t,
            &mut last_client,
            &mut last_server,
            &mut workers,
            &mut server,
        );
        if last {
            break;
        }
        next += interval;
    }
    let (sampler_cpu_user_s, sampler_cpu_sys_s) = thread_usage_s();
    Sampled {
        samples: tl.t_s.len(),
        timeline: tl,
        sampler_cpu_user_s,
        sampler_cpu_sys_s,
    }
}

fn push_point(
    tl: &mut Timeline,
    start: Instant,
    last_t: &mut f64,
    last_client: &mut f64,
    last_server: &mut Option<f64>,
    workers: &mut WorkerCpu,
    server: &mut Option<ProcCpu>,
) {
    let t = start.elapsed().as_secs_f64();
    let dt = t - *last_t;
    if dt <= 1e-4 {
        return;
    }
    let client = process_cpu_s() + workers.total_s();
    tl.t_s.push(t);
    tl.client_cores
        .push(((client - *last_client) / dt).max(0.0));
    *last_client = client;
    if let (Some(server), Some(prev)) = (server.as_mut(), *last_server) {
        if let Some(now) = server.read_s() {
            tl.server_cores.push(((now - prev) / dt).max(0.0));
            *last_server = Some(now);
        }
    }
    *last_t = t;
}

/// How many samples a process's thread list is reused before it is listed again.
const RELIST_EVERY: u32 = 25;

/// One process's CPU from its threads' `schedstat`, with the thread list
/// cached between samples (listing `/proc/<pid>/task` costs more than
/// reading) and each thread's file kept open: a sample is one `pread` per
/// thread, not an open, a read and a close.
struct ProcCpu {
    pid: u32,
    files: Vec<std::fs::File>,
    age: u32,
    /// Samples between listings: [`RELIST_EVERY`] for concbench's own
    /// processes (their threads are started once), 1 for an external
    /// program's, whose threads come and go at any time.
    relist_every: u32,
}

impl ProcCpu {
    fn new(pid: u32) -> Self {
        ProcCpu {
            pid,
            files: Vec::new(),
            age: RELIST_EVERY,
            relist_every: RELIST_EVERY,
        }
    }

    fn relisting(pid: u32) -> Self {
        ProcCpu {
            relist_every: 1,
            ..Self::new(pid)
        }
    }

    fn read_s(&mut self) -> Option<f64> {
        use std::os::unix::fs::FileExt;
        if self.age >= self.relist_every {
            self.files = list_tids(self.pid)?
                .into_iter()
                .filter_map(|tid| {
                    std::fs::File::open(format!("/proc/{}/task/{tid}/schedstat", self.pid)).ok()
                })
                .collect();
            self.age = 0;
        }
        self.age += 1;
        let mut ns = 0u64;
        let mut missing = false;
        let mut buf = [0u8; 128];
        for f in &self.files {
            // A /proc file read again from offset 0 is generated afresh.
            match f.read_at(&mut buf, 0) {
                Ok(n) if n > 0 => {
                    ns += std::str::from_utf8(&buf[..n])
                        .ok()
                        .and_then(|t| t.split_whitespace().next())
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0)
                }
                _ => missing = true,
            }
        }
        if missing {
            // A thread ended: list again next time (its CPU is lost, as for any exited thread).
            self.age = self.relist_every;
        }
        Some(ns as f64 / 1e9)
    }
}

fn list_tids(pid: u32) -> Option<Vec<u32>> {
    let dir = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    Some(
        dir.flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect(),
    )
}

/// CPU of live and finished worker processes, as last seen.
#[derive(Default)]
struct WorkerCpu {
    seen: HashMap<u32, (ProcCpu, f64)>,
    /// Processes no longer seen, with the CPU they were last seen with. By
    /// pid: one seen again (a process tree read while it changes can miss a
    /// process for a sample) continues from its entry instead of counting twice.
    finished: HashMap<u32, f64>,
}

impl WorkerCpu {
    fn total_s(&mut self) -> f64 {
        let mut live = crate::sys::children::live();
        // An external program's processes are its tree, not only its root;
        // their threads are listed afresh at every sample.
        let mut external = Vec::new();
        for root in crate::sys::children::externals() {
            external.extend(crate::sys::process::process_tree(root));
        }
        for &pid in &external {
            if !live.contains(&pid) {
                live.push(pid);
            }
        }
        let gone: Vec<u32> = self
            .seen
            .keys()
            .filter(|p| !live.contains(p))
            .copied()
            .collect();
        for pid in gone {
            if let Some((_, s)) = self.seen.remove(&pid) {
                self.finished.insert(pid, s);
            }
        }
        for pid in live {
            self.finished.remove(&pid);
            let entry = self.seen.entry(pid).or_insert_with(|| {
                let cpu = if external.contains(&pid) {
                    ProcCpu::relisting(pid)
                } else {
                    ProcCpu::new(pid)
                };
                (cpu, 0.0)
            });
            if let Some(s) = entry.0.read_s() {
                entry.1 = s;
            }
        }
        self.finished.values().sum::<f64>() + self.seen.values().map(|(_, s)| s).sum::<f64>()
    }
}

/// CPU of this process, all threads, in seconds.
pub fn process_cpu_s() -> f64 {
    clock_s(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// User and system CPU of the calling thread.
fn thread_usage_s() -> (f64, f64) {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (tv(ru.ru_utime), tv(ru.ru_stime))
}

fn clock_s(clock: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// CPU of another process, all threads, in seconds, from `schedstat` (ns).
pub fn proc_cpu_s(pid: u32) -> Option<f64> {
    let dir = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut ns = 0u64;
    for task in dir.flatten() {
        let path = task.path().join("schedstat");
        if let Ok(text) = std::fs::read_to_string(path) {
            ns += text
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Some(ns as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_thread_shows_up_as_about_one_core() {
        let sampler = Sampler::start(Duration::from_millis(20), None);
        let t = Instant::now();
        let mut x = 0u64;
        while t.elapsed() < Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let s = sampler.stop();
        assert!(s.samples >= 10, "{} samples", s.samples);
        let tl = &s.timeline;
        assert_eq!(tl.t_s.len(), tl.client_cores.len());
        assert!(tl.t_s.windows(2).all(|w| w[0] < w[1]));
        let mean = tl.client_cores.iter().sum::<f64>() / tl.client_cores.len() as f64;
        // At least the busy thread (other tests may add more).
        assert!(mean > 0.7, "mean {mean} cores: {:?}", tl.client_cores);
        let own = s.sampler_cpu_user_s + s.sampler_cpu_sys_s;
        assert!(own < 0.3 * 0.05, "the sampler used {own} s");
    }

    #[test]
    fn another_process_cpu_is_readable() {
        let me = proc_cpu_s(std::process::id()).unwrap();
        assert!(me > 0.0);
        assert!(proc_cpu_s(u32::MAX).is_none());
    }
}
