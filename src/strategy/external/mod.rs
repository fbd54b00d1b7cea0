//! Any program as a model (`--external NAME='COMMAND ARGS…'`): concbench
//! writes the plan to a file, starts the program with the server's URL and
//! the plan in its environment, measures it from outside (wall time, the CPU
//! of its whole waited-for process tree from `wait4`, the peak of its tree's
//! summed RSS sampled every 20 ms), then turns the results file it
//! wrote into outcomes and holds them to the server's own count of requests
//! per id (`GET /stats/ids`), so a program cannot report work it did not do.
//!
//! The contract (the README's "Your own program as a model"): environment
//! `CONCBENCH_URL`, `CONCBENCH_PLAN`, `CONCBENCH_RESULTS`,
//! `CONCBENCH_CONCURRENCY`, `CONCBENCH_WORKERS`; the plan is CSV
//! `id,path,bytes,cpu_units,seed` ([`PLAN_HEADER`]); the results CSV
//! `id,body_checksum,cpu_result[,latency_us]` ([`RESULTS_HEADER`]).
//!
//! The program runs in its own process group, registered with
//! [`crate::sys::children`] (Ctrl-C reaches the whole group; a second one
//! kills it), with a parent-death signal, for at most `--deadline` or
//! [`DEFAULT_TIME_LIMIT`]; when it ends, whatever is left of its group is
//! killed, so nothing outlives the row.

mod contract;

use std::io::{Read, Seek};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::{RunContext, StrategyRun};
use crate::sys::children::{register_as, unregister, Role};
use crate::sys::process::{process_tree, reap, rss_bytes, Reaped};
use crate::task::{ExternalCause, TaskError, TaskOutcome};
use crate::workload::TaskPlan;
use contract::{all_failed, hold_to_server_counts, io_reason, read_results, requested_counts};
pub use contract::{plan_csv, PLAN_HEADER, RESULTS_HEADER};

/// Longest a program may run without `--deadline`.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(600);
/// How often the program's process tree is walked for its memory.
const RSS_INTERVAL: Duration = Duration::from_millis(20);
/// Lines of its output quoted when a program fails.
const TAIL_LINES: usize = 5;

/// A program given as a model: its row's name and its command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalModel {
    /// The row's name in every report and chart.
    pub name: String,
    /// The program and its arguments (split shell-style, run without a shell).
    pub argv: Vec<String>,
}

impl ExternalModel {
    /// The command as one line a shell would split back into the same words.
    pub fn command_line(&self) -> String {
        let quote = |w: &String| {
            let plain = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        };
        self.argv.iter().map(quote).collect::<Vec<_>>().join(" ")
    }

    // A run is three steps (one after another: `Contender::run`), so that
    // only the program itself is inside the measured window.

    /// Before the measured window: the plan file written, in a directory of
    /// its own that goes when the returned [`Staged`] is dropped.
    pub fn prepare(&self, plan: &TaskPlan) -> anyhow::Result<Staged> {
        let dir = tempfile::Builder::new()
            .prefix("concbench-external-")
            .tempdir()
            .context("cannot make a directory for the external program's plan")?;
        crate::sys::fs::write_atomically(&dir.path().join("plan.csv"), plan_csv(plan))
            .context("cannot write the external program's plan")?;
        Ok(Staged {
            dir,
            failed: None,
            timed_out: false,
        })
    }

    /// The measured window: the program from its start to its end (and the
    /// end of whatever it left in its group). The run it returns has its
    /// usage; its outcomes are [`Self::settle`]'s.
    pub fn launch(&self, staged: &mut Staged, ctx: &RunContext) -> StrategyRun {
        let limit = ctx
            .options
            .policy
            .deadline_ms
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_TIME_LIMIT);
        let dir = staged.dir.path();
        let (plan_path, results_path) = (dir.join("plan.csv"), dir.join("results.csv"));
        let ran = match self.spawn_and_wait(
            ctx,
            &plan_path,
            &results_path,
            &dir.join("output.log"),
            limit,
        ) {
            Ok(ran) => ran,
            Err(why) => {
                staged.failed = Some(why);
                return StrategyRun::default();
            }
        };
        let status = ran.reaped.status;
        staged.timed_out = ran.timed_out;
        if ran.timed_out {
            staged.failed = Some(format!(
                "'{}' ran past its time limit of {}s and was killed",
                self.name,
                limit.as_secs_f64()
            ));
        } else if !status.success() {
            staged.failed = Some(format!("'{}' {}", self.name, describe(status)));
        }
        let mut usage = ran.reaped.usage;
        // wait4's ru_maxrss is the largest single process; the sampled sum of
        // the tree is what was resident at once.
        usage.peak_rss_bytes = ran.peak_rss_bytes.max(usage.peak_rss_bytes);
        usage.processes = ran.processes_seen.max(1);
        StrategyRun {
            children: usage,
            ..StrategyRun::default()
        }
    }

    /// After the measured window: the outcomes, from the results file (or
    /// the program's failure), held to the server's count of requests per id.
    pub fn settle(
        &self,
        staged: Staged,
        mut run: StrategyRun,
        plan: &TaskPlan,
        ctx: &RunContext,
    ) -> anyhow::Result<StrategyRun> {
        let dir = staged.dir.path();
        let mut outcomes = match staged.failed {
            Some(why) => {
                let started = run.children.processes > 0;
                let why = if started {
                    with_tail(why, &dir.join("output.log"))
                } else {
                    why
                };
                if staged.timed_out && ctx.options.policy.deadline_ms.is_some() {
                    plan.specs
                        .iter()
                        .map(|s| TaskOutcome::failed(s.id, TaskError::Deadline(why.clone())))
                        .collect()
                } else {
                    all_failed(plan, ExternalCause::Program, &why).outcomes
                }
            }
            None => read_results(plan, &dir.join("results.csv")),
        };
        // Also for a program that failed: its tasks' requests count as sent.
        let counts = requested_counts(&ctx.base_url, plan.specs.len() as u64)?;
        hold_to_server_counts(&mut outcomes, &counts);
        run.outcomes = outcomes;
        Ok(run)
    }

    fn spawn_and_wait(
        &self,
        ctx: &RunContext,
        plan_path: &Path,
        results_path: &Path,
        output_path: &Path,
        limit: Duration,
    ) -> Result<Ran, String> {
        let program = &self.argv[0];
        let output = std::fs::File::create(output_path)
            .map_err(|e| format!("cannot make the output file for '{program}': {e}"))?;
        let stderr = output
            .try_clone()
            .map_err(|e| format!("cannot make the output file for '{program}': {e}"))?;
        let mut cmd = Command::new(program);
        cmd.args(&self.argv[1..])
            .env("CONCBENCH_URL", &ctx.base_url)
            .env("CONCBENCH_PLAN", plan_path)
            .env("CONCBENCH_RESULTS", results_path)
            .env("CONCBENCH_CONCURRENCY", ctx.concurrency.to_string())
            .env("CONCBENCH_WORKERS", ctx.workers_or_cores().to_string())
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(stderr)
            .process_group(0);
        // SAFETY: prctl is async-signal-safe; it only sets a flag on the
        // child. It is armed for as long as this thread (which waits for the
        // child below) lives.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                );
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("could not start '{program}': {}", io_reason(&e)))?;
        let pid = child.id();
        register_as(pid, Role::External);
        if crate::interrupt::requested() {
            // SAFETY: kill(2) on the group of our own, unreaped child.
            unsafe { libc::kill(-(pid as i32), libc::SIGINT) };
        }
        let group = GroupGuard { pgid: pid as i32 };
        // The reaper blocks in wait4; this thread samples memory meanwhile.
        let (tx, rx) = crossbeam_channel::bounded(1);
        let reaper = std::thread::Builder::new()
            .name("external-reaper".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                let _ = tx.send(reap(pid, true));
            });
        if let Err(e) = reaper {
            group.kill();
            // Bounded: a SIGKILLed process always ends.
            let _ = reap(pid, true);
            unregister(pid);
            return Err(format!(
                "cannot start a thread to wait for '{program}': {e}"
            ));
        }
        let started = Instant::now();
        let (mut peak, mut seen) = (0u64, std::collections::HashSet::<u32>::new());
        let mut timed_out = false;
        let reaped = loop {
            match rx.recv_timeout(RSS_INTERVAL) {
                Ok(got) => break got,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    let tree = process_tree(pid);
                    peak = peak.max(tree.iter().filter_map(|&p| rss_bytes(p)).sum());
                    seen.extend(tree);
                    if !timed_out && started.elapsed() >= limit {
                        timed_out = true;
                        group.kill();
                    }
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    break Err(std::io::Error::other("the reaper thread ended"))
                }
            }
        };
        unregister(pid);
        // Whatever it left behind in its group goes with it.
        drop(group);
        let reaped = reaped.map_err(|e| format!("could not wait for '{program}': {e}"))?;
        let reaped = reaped.ok_or_else(|| format!("could not wait for '{program}'"))?;
        drop(child);
        Ok(Ran {
            reaped,
            timed_out,
            peak_rss_bytes: peak,
            processes_seen: seen.len() as u64,
        })
    }
}

/// A run between its steps: the directory of its files, and how the
/// program failed (if it did), for [`ExternalModel::settle`].
pub struct Staged {
    dir: tempfile::TempDir,
    /// Why the program failed as a whole: could not start, exited non-zero, ran too long.
    failed: Option<String>,
    /// It ran past its time limit.
    timed_out: bool,
}

/// What running the program gave.
struct Ran {
    reaped: Reaped,
    /// It ran past its time limit and was killed.
    timed_out: bool,
    /// Largest sampled sum of its process tree's RSS.
    peak_rss_bytes: u64,
    /// Distinct processes seen in its tree.
    processes_seen: u64,
}

/// Kills the program's process group when dropped: after it ended (what it
/// left behind), on a time limit, or when a panic unwinds through the wait.
struct GroupGuard {
    pgid: i32,
}

impl GroupGuard {
    fn kill(&self) {
        // SAFETY: kill(2) on the process group our child leads; ESRCH when it is empty.
        unsafe { libc::kill(-self.pgid, libc::SIGKILL) };
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited with status {c}"),
        (None, Some(s)) => format!("was killed by signal {s}"),
        _ => "ended abnormally".into(),
    }
}

/// `why`, and the last lines the program wrote (stdout and stderr).
fn with_tail(why: String, output: &Path) -> String {
    let mut tail = String::new();
    if let Ok(mut f) = std::fs::File::open(output) {
        // The last 4 KiB is plenty for a few lines.
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = f.seek(std::io::SeekFrom::Start(len.saturating_sub(4096)));
        let _ = f.read_to_string(&mut tail);
    }
    let lines: Vec<&str> = tail.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return format!("{why} (it wrote nothing to stdout or stderr)");
    }
    let last = &lines[lines.len().saturating_sub(TAIL_LINES)..];
    format!("{why}; its last output: {}", last.join(" | "))
}
