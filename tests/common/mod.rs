//! Shared set-up of both test binaries (`tests/integration/`, where every
//! helper is used, and `tests/measurement.rs`): a real mock server on port 0,
//! small workloads, concbench runs as a user meets them.

use std::process::{Child, Command, Output, Stdio};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use concbench::bench::{RunOptions, Target};
use concbench::strategy::StrategyOptions;
use concbench::workload::{CpuWork, Workload};
use mock_server::{MockServer, ServerConfig, ServerHandle};

/// The machine's cores, as the tests of one binary share them (they run in
/// parallel threads): see [`busy_cores`] and [`quiet_cores`].
static CORES: RwLock<()> = RwLock::new(());

/// Held by a test that keeps a core or more busy for about a second or
/// longer (CPU work in worker processes, chart rendering, property tests,
/// every strategy with pools of one worker per core). Any number of them
/// may run at once, never beside a [`quiet_cores`] test.
pub fn busy_cores() -> RwLockReadGuard<'static, ()> {
    CORES.read().unwrap_or_else(|e| e.into_inner())
}

/// Held by a test whose assertions are about time: latencies, CPU work
/// calibrated at the start of a run, rates, deadlines, a stop within a
/// second. It runs beside no [`busy_cores`] test and no other quiet one, so
/// what it measures is its own (a busy neighbour starves the calibration or
/// the server's timers and the figures drift).
pub fn quiet_cores() -> RwLockWriteGuard<'static, ()> {
    CORES.write().unwrap_or_else(|e| e.into_inner())
}

/// A real mock server in this process, on a free loopback port.
pub fn server() -> ServerHandle {
    MockServer::start(ServerConfig::default()).expect("mock server starts")
}

pub fn target(url: &str) -> Target {
    Target {
        url: url.to_string(),
        label: "in-process".into(),
    }
}

/// Run options for tests: worker processes are the concbench binary Cargo
/// built (inside a test, `current_exe()` is the test binary).
pub fn options() -> RunOptions {
    RunOptions {
        strategy: StrategyOptions {
            worker_exe: Some(env!("CARGO_BIN_EXE_concbench").into()),
            ..StrategyOptions::default()
        },
        ..RunOptions::default()
    }
}

/// A small mixed workload: requests with latency and a little CPU work.
pub fn small(tasks: usize, latency: &str) -> Workload {
    Workload {
        tasks,
        latency: latency.parse().expect("latency"),
        bytes: 3000,
        cpu: CpuWork::Time(Duration::from_micros(200)),
        concurrency: 8,
        seed: 11,
        work: Default::default(),
        arrival: Default::default(),
    }
}

/// The concbench binary Cargo built for these tests.
pub const EXE: &str = env!("CARGO_BIN_EXE_concbench");

/// A tag unique to one CLI run: its processes (workers, embedded server)
/// inherit it as `CONCBENCH_TEST_TAG`, so `/proc` finds every one of them.
///
/// Unique per call, not only per test process: tests running at once in one
/// test binary must never find (or kill) each other's processes. The pid
/// tells test processes apart, the counter the calls within one, and the
/// clock earlier processes that had the same pid.
pub fn tag() -> String {
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// Live processes (not zombies) whose environment carries `CONCBENCH_TEST_TAG=tag`.
pub fn tagged(tag: &str) -> Vec<(u32, String)> {
    let needle = format!("CONCBENCH_TEST_TAG={tag}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if !env.split(|&b| b == 0).any(|kv| kv == needle.as_bytes()) {
            continue;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        {
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        found.push((pid, String::from_utf8_lossy(&cmd).replace('\0', " ")));
    }
    found
}

pub fn spawn_tagged(tag: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(EXE);
    cmd.args(args)
        .env("CONCBENCH_TEST_TAG", tag)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Whether process `pid` has a thread called `name`.
fn has_thread(pid: u32, name: &str) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|t| {
        std::fs::read_to_string(t.path().join("comm")).is_ok_and(|comm| comm.trim_end() == name)
    })
}

/// Waits until at least `n` tagged workers run and handle SIGINT (their
/// `signals` thread exists). A worker only just started would die of a
/// forwarded Ctrl-C and fail the pool's start-up: that is not the
/// interruption a test here means.
pub fn wait_for_workers(tag: &str, n: usize) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let workers: Vec<u32> = tagged(tag)
            .into_iter()
            .filter(|(pid, cmd)| cmd.contains("__worker") && has_thread(*pid, "signals"))
            .map(|(pid, _)| pid)
            .collect();
        if workers.len() >= n {
            return workers;
        }
        assert!(Instant::now() < deadline, "workers never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn assert_nothing_left(tag: &str, what: &str) {
    let left = tagged(tag);
    assert!(
        left.is_empty(),
        "{what}: processes outlived the run: {left:?}"
    );
}

/// Asserts that within `grace` no process tagged `tag` is left: for a
/// parent killed with SIGKILL, which cannot end its children itself (the
/// kernel ends them through their parent-death signal, a moment later).
pub fn assert_nothing_left_within(grace: Duration, tag: &str, what: &str) {
    let deadline = Instant::now() + grace;
    loop {
        let left = tagged(tag);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: processes outlived the run: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs the concbench binary to its end, with backtraces asked for (a user
/// error must still not print one) and no stdin.
pub fn concbench(args: &[&str]) -> Output {
    Command::new(EXE)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        // Output through a pipe is plain unless the environment forces colour.
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .output()
        .expect("concbench runs")
}

/// Asserts bad input as a user must meet it: one line on stderr starting
/// `Error: `, exit 2, no panic or backtrace, nothing on stdout. Returns the line.
pub fn one_line_usage_error(args: &[&str]) -> String {
    let out = concbench(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{args:?} printed more than one line:\n{stderr}"
    );
    assert!(stderr.starts_with("Error: "), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing may be printed on stdout: {:?}",
        out.stdout
    );
    stderr.trim_end().to_string()
}

/// A fresh, empty directory for one test, under Cargo's target tmp dir.
pub fn fresh_dir(name: &str) -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// How [`hand_rolled_server`] answers `/work`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkAnswer {
    /// The right body at once, whatever `latency_us` asks: a server the bound does not describe.
    #[allow(dead_code)] // by measurement.rs only, not the integration binary
    Impatient,
    /// Promises the whole body, sends half of it, then closes the connection.
    Truncated,
}

/// A hand-rolled HTTP/1.1 server on a free loopback port, for behaviour the
/// mock server does not offer: it answers `/health` and a `/stats` of zeros,
/// and `/work` as `answer` says. Returns its base URL.
pub fn hand_rolled_server(answer: WorkAnswer) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut header = String::new();
                    while reader.read_line(&mut header).unwrap_or(0) > 2 {
                        header.clear();
                    }
                    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
                    let (body, promised): (Vec<u8>, usize) = if target.starts_with("/health") {
                        (b"ok\n".to_vec(), 3)
                    } else if target.starts_with("/stats") {
                        let stats = br#"{"pid":0,"served":0,"in_flight":0,"max_in_flight":0,"bytes_sent":0,"bad_requests":0,"lateness_us":{"count":0,"mean":0.0,"p50":0,"p99":0,"max":0},"cpu_user_s":0.0,"cpu_sys_s":0.0,"threads":1,"uptime_s":0.0}"#;
                        (stats.to_vec(), stats.len())
                    } else {
                        let url = url::Url::parse(&format!("http://x{target}")).unwrap();
                        let q = |k: &str| -> u64 {
                            url.query_pairs()
                                .find(|(n, _)| n == k)
                                .and_then(|(_, v)| v.parse().ok())
                                .unwrap_or(0)
                        };
                        let mut body =
                            mock_server::payload::generate(q("seed"), q("id"), q("bytes") as usize);
                        let len = body.len();
                        if answer == WorkAnswer::Truncated {
                            body.truncate(len / 2);
                        }
                        (body, len)
                    };
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {promised}\r\n\r\n");
                    let sent = out
                        .write_all(head.as_bytes())
                        .and_then(|_| out.write_all(&body));
                    if sent.is_err() || body.len() < promised {
                        return; // closes the connection (mid-body when truncated)
                    }
                }
            });
        }
    });
    url
}
