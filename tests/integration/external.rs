//! Programs run as models (`--external`): a correct one verifies, and one
//! that skips a request, reports a wrong result, prints garbage, exits
//! non-zero or does not exist fails its row with the cause named, never
//! concbench. The programs are small stdlib-only Python (python3 is on every
//! machine CI runs on) built on scripts/python/concbench_model.py, whose
//! kernel is held to the Rust one here too.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use concbench::bench::run_workload;
use concbench::strategy::external::ExternalModel;
use concbench::task::kernel::cpu_work;
use concbench::workload::{CpuWork, Workload};
use concbench::StrategyResult;
use mock_server::payload;

use crate::common;

/// One stdlib-only model whose misbehaviour the first argument picks.
const PROGRAM: &str = r#"
import sys, urllib.request
sys.path.insert(0, sys.argv[2])
import concbench_model as cm

mode = sys.argv[1]
cfg = cm.Config.from_env()
tasks = cm.read_plan(cfg.plan)
if mode == "exit3":
    print("something went wrong on purpose", file=sys.stderr)
    sys.exit(3)
if mode in ("hang", "stubborn"):
    import signal, subprocess, time
    if mode == "stubborn":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A child of its own in its group, which must go too; then wait for ever.
    subprocess.Popen(["sleep", "60"])
    time.sleep(60)
if mode == "orphan":
    # A child in the program's process group, left behind on purpose.
    import subprocess
    subprocess.Popen(["sleep", "30"])
results = []
for t in tasks:
    if mode == "skip" and t.id == 2:
        # Computes the body itself instead of asking the server for it.
        continue
    with urllib.request.urlopen(cfg.url + t.path) as r:
        body = r.read()
    results.append(cm.work(t, body, 1))
if mode == "skip":
    t = tasks[2]
    results.append(cm.Result(t.id, 0, 0, 1))
if mode == "wrong":
    r = results[1]
    results[1] = cm.Result(r.id, r.body_checksum, r.cpu_result ^ 1, 1)
if mode == "garbage":
    with open(cfg.results, "w") as f:
        f.write("id,body_checksum,cpu_result\n0,12,banana\nnot a line at all\n")
    sys.exit(0)
cm.write_results(cfg.results, results)
"#;

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/python")
}

/// The program written to a fresh directory, and the model running it in `mode`.
fn program(mode: &str) -> ExternalModel {
    // Its own directory per call: two tests may run the same mode at once.
    let dir = common::fresh_dir(&format!("external-{mode}-{}", common::tag()));
    let path = dir.join("model.py");
    std::fs::write(&path, PROGRAM).unwrap();
    ExternalModel {
        name: format!("py-{mode}"),
        argv: vec![
            "python3".into(),
            path.display().to_string(),
            mode.into(),
            model_dir().display().to_string(),
        ],
    }
}

fn workload() -> Workload {
    Workload {
        tasks: 6,
        latency: "2ms".parse().unwrap(),
        bytes: 1000,
        cpu: CpuWork::Units(300),
        concurrency: 4,
        seed: 5,
        work: Default::default(),
        arrival: Default::default(),
    }
}

/// Runs `models` (no built-in model) over the small workload against a real server.
fn rows(models: Vec<ExternalModel>) -> Vec<StrategyResult> {
    let server = common::server();
    let mut options = common::options();
    options.externals = models;
    let report = run_workload(&workload(), &[], &common::target(&server.url()), &options).unwrap();
    report.results
}

#[test]
fn a_correct_program_verifies_and_the_server_saw_each_request_once() {
    let _cores = common::busy_cores();
    let r = rows(vec![program("correct")]);
    let r = &r[0];
    assert_eq!(r.strategy, "py-correct");
    let command = r.external_command.as_deref().unwrap();
    assert!(
        command.starts_with("python3 ") && command.contains("model.py correct"),
        "{command}"
    );
    assert_eq!((r.tasks_ok, r.tasks_failed), (6, 0), "{:?}", r.failures);
    assert_eq!(r.server.as_ref().unwrap().requests, 6);
    assert!(r.checks.requests_match, "{:?}", r.checks);
    assert!(r.processes_started >= 1);
    assert!(r.cpu_user_s > 0.0, "python's CPU is counted");
    assert!(r.peak_rss_bytes > 5 << 20, "python's memory is counted");
}

#[test]
fn a_program_that_skips_a_request_or_reports_a_wrong_result_is_caught() {
    let _cores = common::busy_cores();
    let r = rows(vec![program("skip"), program("wrong")]);
    let (skip, wrong) = (&r[0], &r[1]);
    assert_eq!(skip.tasks_failed, 1);
    assert_eq!(
        skip.failures.get("external_not_requested"),
        Some(&1),
        "{:?}",
        skip.failures
    );
    assert!(
        skip.first_failure
            .as_deref()
            .unwrap()
            .contains("task 2: the server never received its request"),
        "{:?}",
        skip.first_failure
    );
    assert_eq!(wrong.tasks_failed, 1);
    assert_eq!(
        wrong.failures.get("cpu_mismatch"),
        Some(&1),
        "{:?}",
        wrong.failures
    );
}

#[test]
fn garbage_a_missing_command_and_a_non_zero_exit_fail_the_row_saying_why() {
    let _cores = common::busy_cores();
    let missing = ExternalModel {
        name: "nope".into(),
        argv: vec!["concbench-no-such-program".into()],
    };
    let r = rows(vec![program("garbage"), missing, program("exit3")]);
    let (garbage, missing, exit3) = (&r[0], &r[1], &r[2]);
    assert_eq!(garbage.tasks_failed, 6);
    assert_eq!(garbage.failures.get("external_bad_result"), Some(&1));
    assert_eq!(garbage.failures.get("external_no_result"), Some(&5));
    let first = garbage.first_failure.as_deref().unwrap();
    assert!(
        first.contains("results line 2: 'banana' is not a number"),
        "{first}"
    );
    assert_eq!(missing.failures.get("external_program"), Some(&6));
    assert_eq!(
        missing.first_failure.as_deref(),
        Some("task 0: could not start 'concbench-no-such-program': No such file or directory")
    );
    let first = exit3.first_failure.as_deref().unwrap();
    assert!(
        first.contains("'py-exit3' exited with status 3")
            && first.contains("something went wrong on purpose"),
        "{first}"
    );
}

#[test]
fn on_the_command_line_a_failing_program_exits_1_and_leaves_nothing_behind() {
    let _cores = common::busy_cores();
    let tag = common::tag();
    let good = program("orphan");
    let bad = program("exit3");
    let ext = |m: &ExternalModel| format!("{}={}", m.name, m.argv.join(" "));
    let (good, bad) = (ext(&good), ext(&bad));
    let child = common::spawn_tagged(
        &tag,
        &[
            "run",
            "-n",
            "6",
            "-l",
            "1ms",
            "--cpu-units",
            "100",
            "-c",
            "2",
            "--strategies",
            "sequential",
            "--external",
            &good,
            "--external",
            &bad,
        ],
        &[],
    );
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stdout.contains("py-orphan ") && stdout.contains("py-exit3 "),
        "{stdout}"
    );
    assert!(
        stderr.contains("py-exit3: 6 of 6 tasks failed (external_program: 6)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("py-orphan:"),
        "the correct one verified: {stderr}"
    );
    // The `sleep 30` the orphan left in its group went with it.
    common::assert_nothing_left(&tag, "external programs");
}

#[test]
fn an_external_may_not_take_a_built_in_models_name() {
    let line = common::one_line_usage_error(&["run", "--external", "async=python3 x.py"]);
    assert!(
        line.contains("'async' is a built-in model's name"),
        "{line}"
    );
    let line = common::one_line_usage_error(&[
        "run",
        "--external",
        "py=python3 a.py",
        "--external",
        "py=python3 b.py",
    ]);
    assert!(line.contains("two programs are named 'py'"), "{line}");
}

#[test]
fn the_python_kernel_and_checksum_are_the_rust_ones() {
    let script = format!(
        "import sys\nsys.path.insert(0, {:?})\nimport concbench_model as cm\n\
         for line in sys.stdin:\n    units, _, h = line.rstrip('\\n').partition(' ')\n    \
         b = bytes.fromhex(h)\n    c = cm.checksum(b)\n    print(c, cm.cpu_work(b, int(units), c))\n",
        model_dir().display().to_string()
    );
    let (mut input, mut expected) = (String::new(), Vec::new());
    // Empty, shorter than a word, one word, a ragged tail, a real body; no work and much.
    for (id, len, units) in [
        (1, 0, 5),
        (2, 3, 7),
        (3, 8, 0),
        (4, 13, 40),
        (5, 16 * 1024, 5000),
    ] {
        let body = payload::generate(9, id, len);
        let hex: String = body.iter().map(|b| format!("{b:02x}")).collect();
        input += &format!("{units} {hex}\n");
        let c = payload::checksum(&body);
        expected.push(format!("{c} {}", cpu_work(&body, units, c)));
    }
    let mut child = Command::new("python3")
        .args(["-c", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let got: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn the_aiohttp_model_verifies_where_the_python_venv_is_installed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".venv-python/bin/python");
    if !python.exists() {
        println!(
            "skipped: no {} (run scripts/install-python.sh)",
            python.display()
        );
        return;
    }
    let _cores = common::busy_cores();
    let model = |name: &str, file: &str| ExternalModel {
        name: name.into(),
        argv: vec![
            python.display().to_string(),
            model_dir().join(file).display().to_string(),
        ],
    };
    let r = rows(vec![
        model("py-async", "asyncio_aiohttp.py"),
        model("py-process-pool-async", "aiomultiprocess_pool.py"),
    ]);
    for row in &r {
        assert_eq!(row.tasks_ok, 6, "{}: {:?}", row.strategy, row.first_failure);
        assert!(row.latency_s.p50 > 0.0, "the programs report their latency");
    }
    assert!(
        r[1].processes_started >= 3,
        "aiomultiprocess's workers are seen in the process tree: {}",
        r[1].processes_started
    );
}

/// Starts `concbench run` with the program in `mode` (and one quick Rust
/// model), waits until the program and its `sleep` child run, and returns them.
fn start_hanging(tag: &str, mode: &str, extra: &[&str]) -> std::process::Child {
    let m = program(mode);
    let ext = format!("{}={}", m.name, m.argv.join(" "));
    let mut args = vec![
        "run",
        "-n",
        "4",
        "-l",
        "1ms",
        "--cpu",
        "0",
        "-s",
        "sequential",
        "--external",
        &ext,
    ];
    args.extend_from_slice(extra);
    let child = common::spawn_tagged(tag, &args, &[]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !common::tagged(tag)
        .iter()
        .any(|(_, cmd)| cmd.starts_with("sleep 60"))
    {
        assert!(
            Instant::now() < deadline,
            "the program never started its child"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn sigint(child: &std::process::Child) {
    // SAFETY: kill(2) on a child we spawned and have not waited for.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
}

#[test]
fn ctrl_c_reaches_the_program_and_its_children_and_leaves_nothing() {
    let _cores = common::quiet_cores();
    let tag = common::tag();
    let child = start_hanging(&tag, "hang", &[]);
    let sent = Instant::now();
    sigint(&child);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "{:?}",
        sent.elapsed()
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    common::assert_nothing_left(&tag, "Ctrl-C during an external program");
}

#[test]
fn a_second_ctrl_c_kills_a_program_that_ignores_the_first() {
    let _cores = common::quiet_cores();
    let tag = common::tag();
    let child = start_hanging(&tag, "stubborn", &[]);
    sigint(&child);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        common::tagged(&tag)
            .iter()
            .any(|(_, c)| c.contains("model.py")),
        "the program ignores the first Ctrl-C"
    );
    let sent = Instant::now();
    sigint(&child);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "{:?}",
        sent.elapsed()
    );
    assert!(stderr.contains("Interrupted twice"), "{stderr}");
    common::assert_nothing_left(&tag, "a second Ctrl-C during an external program");
}

#[test]
fn a_program_past_the_deadline_is_killed_and_its_tasks_fail_with_deadline() {
    let _cores = common::quiet_cores();
    let tag = common::tag();
    let started = Instant::now();
    let child = start_hanging(&tag, "stubborn", &["--deadline", "1s"]);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stderr.contains("py-stubborn: 4 of 4 tasks failed (deadline: 4)")
            && stderr.contains("ran past its time limit of 1s and was killed"),
        "{stderr}"
    );
    common::assert_nothing_left(&tag, "an external program past its deadline");
}
