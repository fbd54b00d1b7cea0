//! The `concbench` binary as a user meets it: bad input gets one line and
//! exit code 2, a run prints the JSON contract, and the embedded server never
//! outlives the run.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, concbench, EXE};

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn assert_one_line_usage_error(args: &[&str], must_mention: &[&str]) {
    let line = common::one_line_usage_error(args);
    for word in must_mention {
        assert!(
            line.contains(word),
            "{args:?}: '{word}' missing from: {line}"
        );
    }
}

#[test]
fn a_malformed_latency_names_the_flag_and_the_accepted_forms() {
    assert_one_line_usage_error(
        &["run", "--latency", "abc"],
        &["--latency", "uniform:200ms..700ms"],
    );
}

#[test]
fn zero_concurrency_names_the_flag_and_the_range() {
    assert_one_line_usage_error(&["run", "--concurrency", "0"], &["--concurrency", "from 1"]);
}

#[test]
fn an_unknown_strategy_lists_the_known_ones() {
    assert_one_line_usage_error(
        &["run", "--strategies", "sequential,fibers"],
        &["--strategies", "'fibers'", "async"],
    );
}

#[test]
fn an_unreachable_target_says_how_to_start_a_server() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    assert_one_line_usage_error(
        &["run", "--target", &url],
        &["--target", &url, "mock-server --port"],
    );
}

#[test]
fn a_target_that_is_not_a_url_is_refused() {
    assert_one_line_usage_error(
        &["run", "--target", "localhost:8080"],
        &["--target", "http://"],
    );
}

#[test]
fn list_shows_every_strategy_and_preset_with_a_description() {
    let out = concbench(&["list"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in [
        "sequential",
        "thread-per-task",
        "thread-pool",
        "rayon",
        "process-per-task",
        "process-pool",
        "async",
        "async-single",
        "async-rayon",
        "async-process-pool",
        "process-pool-async",
        "api-pull",
        "mixed-pipeline",
        "aiomultiprocess",
        "pure-cpu",
        "pure-io",
        "spawn-overhead",
        "connection-reuse",
    ] {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing: {text}"));
        assert!(line.len() > name.len() + 10, "{line}");
    }
}

fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // A zombie is dead; it only waits to be reaped by whoever adopted it.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, r)| !r.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

fn wait_gone(pid: u32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    !alive(pid)
}

#[test]
fn a_json_run_on_the_embedded_server_keeps_the_contract_and_leaves_no_server_behind() {
    let out = concbench(&[
        "run",
        "--strategies",
        "sequential,async",
        "--tasks",
        "30",
        "--latency",
        "1ms",
        "--cpu",
        "100us",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let results = json["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    for r in results {
        for key in [
            "strategy",
            "tasks",
            "tasks_ok",
            "tasks_failed",
            "wall_s",
            "ideal_s",
            "efficiency",
            "speedup_vs_sequential",
            "cpu_user_s",
            "cpu_sys_s",
            "cpu_utilisation",
            "peak_rss_bytes",
            "ctx_switches_voluntary",
            "ctx_switches_involuntary",
            "throughput_per_s",
        ] {
            assert!(r.get(key).is_some(), "result lacks {key}: {r}");
        }
        for p in ["p50", "p90", "p99", "max"] {
            assert!(
                r["latency_s"][p].as_f64().unwrap() > 0.0,
                "latency_s.{p}: {r}"
            );
        }
        assert_eq!(r["tasks_ok"], 30);
        assert!(r["efficiency"].as_f64().unwrap() <= 1.02);
    }
    assert_eq!(json["meta"]["server"], "embedded");
    let server_pid = json["meta"]["server_pid"].as_u64().unwrap() as u32;
    assert_ne!(server_pid, 0);
    assert!(
        wait_gone(server_pid, Duration::from_secs(3)),
        "embedded server {server_pid} outlived the run"
    );
}

#[test]
fn out_writes_the_file_whole_and_leaves_no_temporary_behind() {
    let dir = std::env::temp_dir().join(format!("concbench-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("results.csv");
    let out = concbench(&[
        "run",
        "-s",
        "sequential",
        "-n",
        "5",
        "-l",
        "0",
        "--cpu",
        "0",
        "-f",
        "csv",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(csv.starts_with("scenario,params,strategy,repeat,status,tasks,"));
    assert_eq!(csv.lines().count(), 2);
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("custom,,sequential,1,ok,5,5,0,"),
        "{csv}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    // The table still goes to the terminal.
    assert!(String::from_utf8_lossy(&out.stdout).contains("sequential"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Children of `parent` per /proc.
fn children_of(parent: u32) -> Vec<u32> {
    let mut kids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(1)?.parse::<u32>().ok());
        if ppid == Some(parent) {
            kids.push(pid);
        }
    }
    kids
}

#[test]
fn the_embedded_server_dies_with_a_sigkilled_concbench() {
    let mut child = Command::new(EXE)
        .args([
            "run",
            "-s",
            "sequential",
            "-n",
            "2000",
            "-l",
            "50ms",
            "--cpu",
            "0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let server = loop {
        if let Some(pid) = children_of(child.id()).first() {
            break *pid;
        }
        assert!(Instant::now() < deadline, "no embedded server appeared");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let the run get going, then kill the parent without warning.
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        wait_gone(server, Duration::from_secs(3)),
        "embedded server {server} outlived a SIGKILLed concbench"
    );
}

#[test]
fn report_regenerates_every_chart_and_a_summary_from_saved_results() {
    let _cores = common::busy_cores();
    let dir = std::env::temp_dir().join(format!("concbench-report-{}", std::process::id()));
    for (results, charts) in [
        (
            "reports/results/api-pull.json",
            &["wall", "cpu", "timeline"][..],
        ),
        (
            "reports/results/crossover-latency-cpu.json",
            &["crossover"][..],
        ),
        (
            "reports/results/concurrency-sweep.json",
            &["sweep-wall", "sweep-throughput", "sweep-efficiency"][..],
        ),
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(results);
        let out = concbench(&[
            "report",
            path.to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{results}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for chart in charts {
            for ext in ["svg", "png"] {
                let f = dir.join(format!("{chart}.{ext}"));
                let bytes = std::fs::read(&f)
                    .unwrap_or_else(|_| panic!("{results}: {} missing", f.display()));
                match ext {
                    "png" => assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", f.display()),
                    _ => assert!(
                        String::from_utf8_lossy(&bytes).contains("</svg>"),
                        "{}",
                        f.display()
                    ),
                }
            }
        }
        let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
        assert!(
            summary.starts_with("# concbench") && summary.contains(".png)"),
            "{summary}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
    // Bad input: one line, exit 2.
    let out = concbench(&["report", "/nonexistent/results.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr)
            .trim_end()
            .lines()
            .count(),
        1
    );
}

#[test]
fn bad_fault_and_client_flags_name_the_flag_and_the_fix() {
    assert_one_line_usage_error(&["run", "--error-rate", "1.5"], &["--error-rate", "1"]);
    assert_one_line_usage_error(&["run", "--error-status", "200"], &["--error-status"]);
    assert_one_line_usage_error(&["run", "--rate-limit", "fast"], &["--rate-limit", "500/s"]);
    assert_one_line_usage_error(&["run", "--timeout", "0"], &["--timeout", "1ms"]);
    assert_one_line_usage_error(&["run", "--retries", "1000"], &["--retries", "100"]);
    assert_one_line_usage_error(&["run", "--rate", "0/s"], &["--rate", "500/s"]);
    assert_one_line_usage_error(&["run", "--deadline", "soon"], &["--deadline"]);
    assert_one_line_usage_error(&["run", "--drip-rate", "0.5"], &["--drip"]);
    assert_one_line_usage_error(
        &["run", "--preconnect", "--connection", "new"],
        &["--preconnect", "--connection new"],
    );
}

#[test]
fn server_faults_with_an_external_target_say_where_they_belong() {
    let port = closed_port();
    assert_one_line_usage_error(
        &[
            "run",
            "--target",
            &format!("http://127.0.0.1:{port}"),
            "--error-rate",
            "0.1",
        ],
        &["--error-rate", "mock-server"],
    );
}

#[test]
fn completions_offer_the_flags_and_not_the_hidden_commands() {
    let out = concbench(&["completions", "bash"]);
    assert!(out.status.success(), "{out:?}");
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.contains("complete -F _concbench"), "{script}");
    for word in ["--strategies", "--color", "sweep", "completions", "man"] {
        assert!(script.contains(word), "{word} missing from:\n{script}");
    }
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = concbench(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains("strategies"), "{shell}:\n{script}");
        for hidden in ["__worker", "__mock-server", "test-panic", "scale"] {
            assert!(
                !script.contains(hidden),
                "{shell} offers {hidden}:\n{script}"
            );
        }
    }
}

#[test]
fn the_man_page_is_roff_and_names_every_command_but_the_hidden_ones() {
    let out = concbench(&["man"]);
    assert!(out.status.success(), "{out:?}");
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.starts_with('.'), "{page}");
    let title = page.lines().find(|l| l.starts_with(".TH ")).unwrap_or("");
    assert!(title.starts_with(".TH concbench 1 "), "{page}");
    for command in ["run", "sweep", "report", "check", "completions", "man"] {
        assert!(
            page.contains(&format!("concbench\\-{command}(1)")),
            "{command} missing from:\n{page}"
        );
    }
    assert!(
        !page.contains("worker") && !page.contains("mock\\-server"),
        "{page}"
    );

    let run = concbench(&["man", "run"]);
    assert!(run.status.success(), "{run:?}");
    let run = String::from_utf8(run.stdout).unwrap();
    assert!(run.contains(".TH concbench-run 1 "), "{run}");
    assert!(
        run.contains("\\-\\-strategies") && run.contains("\\-\\-color"),
        "{run}"
    );
    assert!(!run.contains("test\\-panic"), "{run}");
}

/// An error that ends concbench through its one-line error (not clap's): a
/// results file that does not exist.
const MISSING_RESULTS: [&str; 2] = ["report", "/nonexistent/concbench-results.json"];

/// concbench with no colour settings of the test's own environment.
fn without_colour_env(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(EXE);
    cmd.args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Stderr of concbench run with stderr piped.
fn piped_stderr(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = without_colour_env(args, env).output().unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What concbench writes to its stderr when that is a terminal: a
/// pseudo-terminal whose other end this test reads.
fn stderr_on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> String {
    use std::io::Read;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two descriptors, which are owned from here on.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both are open descriptors nothing else owns.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    for fd in [&master, &slave] {
        // Children other tests start meanwhile must not keep the terminal open.
        // SAFETY: fcntl on a descriptor this function owns.
        unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    let mut cmd = without_colour_env(args, env);
    cmd.stdout(Stdio::null()).stderr(Stdio::from(slave));
    let status = cmd.status().unwrap();
    drop(cmd);
    assert!(!status.success(), "{args:?} succeeded");
    // Whatever it wrote is waiting in the terminal: read until nothing more comes.
    let mut master = std::fs::File::from(master);
    let mut written = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let mut poll = libc::pollfd {
            fd: master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd, which lives through the call.
        if unsafe { libc::poll(&mut poll, 1, 200) } <= 0 || poll.revents & libc::POLLIN == 0 {
            break;
        }
        match master.read(&mut buf) {
            Ok(n) if n > 0 => written.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&written).into_owned()
}

const ESC: &str = "\x1b[";

#[test]
fn errors_are_coloured_on_a_terminal_unless_no_color_or_color_never_says_otherwise() {
    let coloured = stderr_on_a_terminal(&MISSING_RESULTS, &[]);
    assert!(
        coloured.starts_with("\x1b[1m\x1b[31mError:\x1b[0m results file"),
        "{coloured:?}"
    );
    // An empty NO_COLOR is no NO_COLOR (no-color.org).
    assert!(stderr_on_a_terminal(&MISSING_RESULTS, &[("NO_COLOR", "")]).contains(ESC));
    for (args, env) in [
        (MISSING_RESULTS.to_vec(), vec![("NO_COLOR", "1")]),
        (MISSING_RESULTS.to_vec(), vec![("NO_COLOR", "yes")]),
        (
            [&["--color", "never"][..], &MISSING_RESULTS].concat(),
            vec![],
        ),
        ([&MISSING_RESULTS[..], &["--color=never"]].concat(), vec![]),
    ] {
        let plain = stderr_on_a_terminal(&args, &env);
        assert!(
            plain.starts_with("Error: results file"),
            "{args:?} {env:?}: {plain:?}"
        );
        assert!(!plain.contains(ESC), "{args:?} {env:?}: {plain:?}");
    }
}

#[test]
fn errors_are_plain_through_a_pipe_unless_color_always_which_wins_over_no_color() {
    for env in [vec![], vec![("NO_COLOR", "1")]] {
        let plain = piped_stderr(&MISSING_RESULTS, &env);
        assert!(
            plain.starts_with("Error: ") && !plain.contains(ESC),
            "{env:?}: {plain:?}"
        );
        let never = [&["--color", "never"][..], &MISSING_RESULTS].concat();
        assert!(!piped_stderr(&never, &env).contains(ESC), "{env:?}");
        let always = [&["--color", "always"][..], &MISSING_RESULTS].concat();
        let coloured = piped_stderr(&always, &env);
        assert!(
            coloured.starts_with("\x1b[1m\x1b[31mError:\x1b[0m "),
            "{env:?}: {coloured:?}"
        );
        // The flag is global: after the command too.
        let after = [&MISSING_RESULTS[..], &["--color", "always"]].concat();
        assert!(piped_stderr(&after, &env).contains(ESC), "{env:?}");
    }
}

#[test]
fn clap_help_follows_color_too_and_machine_output_is_never_coloured() {
    let help = |args: &[&str]| {
        let out = without_colour_env(args, &[("NO_COLOR", "1")])
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(help(&["--color", "always", "run", "--help"]).contains(ESC));
    assert!(!help(&["--color", "never", "run", "--help"]).contains(ESC));
    assert!(!help(&["run", "--help"]).contains(ESC));
    for args in [
        &["--color", "always", "schema"][..],
        &["--color", "always", "completions", "bash"],
        &["--color", "always", "man"],
    ] {
        assert!(!help(args).contains(ESC), "{args:?}");
    }
    let bad = piped_stderr(&["--color", "sometimes", "list"], &[]);
    assert!(
        bad.contains("--color") && bad.contains("sometimes"),
        "{bad}"
    );
}

#[test]
fn clap_errors_colour_their_error_prefix_like_the_others() {
    for env in [vec![], vec![("NO_COLOR", "1")]] {
        let plain = piped_stderr(&["run", "--nope"], &env);
        assert!(
            plain.starts_with("Error: unexpected argument '--nope'"),
            "{plain:?}"
        );
        let never = stderr_on_a_terminal(&["--color", "never", "run", "--nope"], &env);
        assert!(!never.contains(ESC), "{env:?}: {never:?}");
        let always = piped_stderr(&["run", "--nope", "--color=always"], &env);
        assert!(
            always.starts_with("\x1b[1m\x1b[31mError:\x1b[0m unexpected"),
            "{always:?}"
        );
    }
    let on_terminal = stderr_on_a_terminal(&["run", "--nope"], &[("NO_COLOR", "1")]);
    assert!(on_terminal.starts_with("Error: unexpected") && !on_terminal.contains(ESC));
}
