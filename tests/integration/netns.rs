//! Two client hosts and a server host on one machine: the mock server in a
//! network namespace of its own, two `run --shard` processes in two others,
//! each joined to the server's by a veth pair, the second host's link
//! shaped with tbf to a slow line. The merged shards must be the plan a
//! single host runs against a fresh server: the same tasks verified, the
//! same requests counted by the server; and the slow host must set the
//! merged wall time (the earliest start to the latest end).
//!
//! Needs root (namespaces and links) and iproute2's `ip`; without either it
//! says so and passes, as there is nothing it could check.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use concbench::report::{file, ResultsFile, RunReport};

use crate::common::{self, fresh_dir, EXE};

/// Longest any one step may take before the test gives up on it.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the test cannot run here, if it cannot.
fn cannot_run() -> Option<String> {
    // SAFETY: geteuid only reads this process's credentials.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root: network namespaces and veth links need CAP_NET_ADMIN".into());
    }
    let runs = |tool: &str| {
        Command::new(tool)
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !runs("ip") || !runs("tc") {
        return Some(
            "no `ip` or `tc` (iproute2) on PATH; install it: apt-get install -y iproute2".into(),
        );
    }
    // Root in a container without CAP_SYS_ADMIN still cannot make a namespace.
    let probe = format!("cbench-probe-{}", std::process::id());
    let made = Command::new("ip").args(["netns", "add", &probe]).output();
    match made {
        Ok(o) if o.status.success() => {
            let _ = Command::new("ip").args(["netns", "del", &probe]).output();
            None
        }
        Ok(o) => Some(format!(
            "cannot create a network namespace here: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("cannot run ip: {e}")),
    }
}

/// Runs `ip ARGS`, panicking with its stderr if it fails.
fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip runs");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The namespaces of one test run, named uniquely, deleted on drop (even
/// when an assertion failed), which also deletes their links.
struct Namespaces {
    names: Vec<String>,
}

impl Namespaces {
    fn create(roles: &[&str]) -> Self {
        static RUN: AtomicU32 = AtomicU32::new(0);
        let run = RUN.fetch_add(1, Ordering::Relaxed);
        let mut ns = Namespaces { names: Vec::new() };
        for role in roles {
            let name = format!("cbench-{}-{run}-{role}", std::process::id());
            ip(&["netns", "add", &name]);
            ns.names.push(name);
        }
        ns
    }

    fn name(&self, i: usize) -> &str {
        &self.names[i]
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = Command::new("ip").args(["netns", "del", n]).output();
        }
    }
}

/// A child process killed and reaped on drop.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Links namespace `a` (address `net.2`) to `b` (`net.1`) by a veth pair.
fn link(a: &str, b: &str, net: &str, tag: &str) {
    let (va, vb) = (format!("{tag}a"), format!("{tag}b"));
    ip(&[
        "link", "add", &va, "netns", a, "type", "veth", "peer", "name", &vb, "netns", b,
    ]);
    for (ns, dev, addr) in [
        (a, &va, format!("{net}.2/24")),
        (b, &vb, format!("{net}.1/24")),
    ] {
        ip(&["-n", ns, "addr", "add", &addr, "dev", dev]);
        ip(&["-n", ns, "link", "set", dev, "up"]);
        ip(&["-n", ns, "link", "set", "lo", "up"]);
    }
}

/// Starts the mock server in namespace `ns` on every address, returning it and its port.
fn start_server(ns: &str) -> (Reaped, u16) {
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            EXE,
            "__mock-server",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the mock server starts");
    let stdout = child.stdout.take().unwrap();
    let child = Reaped(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(STEP_TIMEOUT)
        .expect("the server says where it listens");
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    (child, port)
}

/// The `/work` requests the server in `ns` has received, read from its `/stats`.
fn requests_counted(ns: &str, port: u16) -> u64 {
    let script = format!(
        "exec 3<>/dev/tcp/127.0.0.1/{port}; printf 'GET /stats HTTP/1.1\\r\\nHost: x\\r\\n\
         Connection: close\\r\\n\\r\\n' >&3; timeout 10 cat <&3"
    );
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "bash", "-c", &script])
        .output()
        .expect("bash runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no body: {text}"));
    let v: serde_json::Value = serde_json::from_str(body.trim()).expect("stats are JSON");
    v["requests"].as_u64().expect("a request count")
}

/// Runs `concbench ARGS` in namespace `ns`, waiting at most [`STEP_TIMEOUT`].
fn concbench_in(ns: &str, args: &[&str]) -> Reaped {
    let child = Command::new("ip")
        .args(["netns", "exec", ns, EXE])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("concbench starts");
    Reaped(child)
}

fn finish(mut c: Reaped, what: &str) {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Some(status) = c.0.try_wait().unwrap() {
            let mut err = String::new();
            let _ = c.0.stderr.take().map(|mut e| e.read_to_string(&mut err));
            assert!(status.success(), "{what}: {err}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} took over {STEP_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run_of(p: &std::path::Path) -> RunReport {
    match file::load(p).unwrap() {
        ResultsFile::Run(r) => r,
        ResultsFile::Sweep(_) => panic!("a sweep"),
    }
}

const PLAN: &[&str] = &[
    "run",
    "-s",
    "sequential,async",
    "-n",
    "40",
    "-l",
    "2ms",
    "-b",
    "16KiB",
    "--cpu-units",
    "10",
    "-c",
    "4",
    "--format",
    "json",
];

#[test]
fn two_hosts_in_network_namespaces_merge_into_what_one_host_measures() {
    if let Some(why) = cannot_run() {
        eprintln!("netns test skipped: {why}");
        return;
    }
    // The slow host's wall time is asserted.
    let _cores = common::quiet_cores();
    let dir = fresh_dir("netns");
    let ns = Namespaces::create(&["srv", "h1", "h2"]);
    let (srv, h1, h2) = (ns.name(0), ns.name(1), ns.name(2));
    let tag = format!("cb{}", std::process::id() % 100_000);
    link(h1, srv, "10.77.1", &format!("{tag}x"));
    link(h2, srv, "10.77.2", &format!("{tag}y"));
    // Host 2 on a slow line: 8 Mbit/s towards it, so its 20 bodies of 16 KiB take about 0.3 s.
    let out = Command::new("ip")
        .args(["netns", "exec", srv, "tc", "qdisc", "add", "dev"])
        .arg(format!("{tag}yb"))
        .args([
            "root", "tbf", "rate", "8mbit", "burst", "32kbit", "latency", "400ms",
        ])
        .output()
        .expect("tc runs");
    assert!(
        out.status.success(),
        "tc: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (server, port) = start_server(srv);
    let at = format!("{:.3}", concbench::sys::clock::unix_now_s() + 1.5);
    let parts: Vec<String> = (1..=2)
        .map(|k| dir.join(format!("h{k}.json")).display().to_string())
        .collect();
    let shards: Vec<Reaped> = [(h1, "10.77.1.1"), (h2, "10.77.2.1")]
        .iter()
        .zip(&parts)
        .enumerate()
        .map(|(k, ((host, addr), out))| {
            let url = format!("http://{addr}:{port}");
            let shard = format!("{}/2", k + 1);
            let extra = [
                "--target",
                &url,
                "--shard",
                &shard,
                "--start-at",
                &at,
                "--start-every",
                "1s",
                "--out",
                out,
            ];
            concbench_in(
                host,
                &PLAN.iter().chain(&extra).copied().collect::<Vec<_>>(),
            )
        })
        .collect();
    for (k, s) in shards.into_iter().enumerate() {
        finish(s, &format!("shard {}/2", k + 1));
    }
    let counted_by_shards = requests_counted(srv, port);
    drop(server);
    let merged = dir.join("merged.json");
    let out = common::concbench(&[
        "merge",
        &parts[0],
        &parts[1],
        "--out",
        &merged.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // One host, the whole plan, a fresh server.
    let (server, port) = start_server(srv);
    let whole = dir.join("whole.json");
    let whole_path = whole.display().to_string();
    let url = format!("http://10.77.1.1:{port}");
    let args = [PLAN, &["--target", &url, "--out", &whole_path]].concat();
    finish(concbench_in(h1, &args), "the one-host run");
    let counted_by_one = requests_counted(srv, port);
    drop(server);

    assert_eq!(
        counted_by_shards, counted_by_one,
        "requests the server counted"
    );
    let (merged, whole) = (run_of(&merged), run_of(&whole));
    let (fast, slow) = (run_of(parts[0].as_ref()), run_of(parts[1].as_ref()));
    for (i, (m, w)) in merged.results.iter().zip(&whole.results).enumerate() {
        assert_eq!(m.strategy, w.strategy);
        assert_eq!(
            (m.tasks_ok, m.tasks_failed),
            (w.tasks_ok, 0),
            "{}",
            m.strategy
        );
        assert_eq!(m.tasks_ok, 40);
        assert_eq!(m.requests_sent, w.requests_sent, "{}", m.strategy);
        let (f, s) = (&fast.results[i], &slow.results[i]);
        eprintln!(
            "netns {}: host 1 {:.3} s, host 2 (8 Mbit/s) {:.3} s, merged {:.3} s (efficiency \
             {:.2}), one host {:.3} s; requests {} = {}",
            m.strategy,
            f.wall_s,
            s.wall_s,
            m.wall_s,
            m.efficiency,
            w.wall_s,
            m.requests_sent,
            w.requests_sent
        );
        // The shaped host is the slow one, and the whole lasts at least as long as it.
        assert!(
            s.wall_s > 2.0 * f.wall_s,
            "{}: slow {} fast {}",
            m.strategy,
            s.wall_s,
            f.wall_s
        );
        assert!(
            // (Unix seconds hold about 0.2 µs of precision.)
            m.wall_s >= s.wall_s - 1e-6,
            "{}: merged {} slow {}",
            m.strategy,
            m.wall_s,
            s.wall_s
        );
        // --start-every: every strategy of the two hosts started together, not only the first.
        let apart = (f.started_at_unix_s.unwrap() - s.started_at_unix_s.unwrap()).abs();
        assert!(
            apart < 0.25,
            "{}: the hosts started {apart} s apart",
            m.strategy
        );
    }
}
