//! Worker processes: the hidden `__worker` subcommand (the concbench binary
//! re-executed) and the parent's handle on a set of them ([`WorkerSet`]).
//!
//! No worker outlives its parent, whatever happens to the parent:
//! - at a normal end the parent closes the worker's stdin; the worker sends
//!   its usage and exits on end-of-file;
//! - on a panic in the parent, [`WorkerSet`]'s `Drop` (which runs during
//!   unwinding) kills the pool's process group and reaps every worker;
//! - if the parent is killed (SIGKILL, or SIGINT's default action), the
//!   worker's stdin closes, and the kernel sends it SIGKILL through
//!   `PR_SET_PDEATHSIG`, which the worker sets itself first thing. (The
//!   death signal follows the *thread* that spawned the worker: spawn from a
//!   thread that outlives the worker.)
//!
//! A worker that dies mid-run is seen as end-of-file on its stdout: the
//! parent gets [`Event::Gone`] with the exit status and fails that worker's
//! outstanding tasks instead of waiting for them.

use std::io::{BufReader, BufWriter, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use clap::{Args, ValueEnum};
use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::client::{ClientPolicy, Session};
use crate::ipc::{self, FromWorker, ToWorker, PROTOCOL_VERSION};
use crate::strategy::{ChildUsage, ConnectionMode};
use crate::task;

/// Worker processes alive now, for the CPU sampler (which cannot see inside strategies).
static LIVE_WORKERS: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Pids of every worker process started and not yet reaped.
pub fn live_worker_pids() -> Vec<u32> {
    LIVE_WORKERS.lock().map(|v| v.clone()).unwrap_or_default()
}

fn register(pid: u32) {
    if let Ok(mut v) = LIVE_WORKERS.lock() {
        v.push(pid);
    }
}

fn unregister(pid: u32) {
    if let Ok(mut v) = LIVE_WORKERS.lock() {
        v.retain(|&p| p != pid);
    }
}

/// The hidden subcommand that runs a worker.
pub const WORKER_SUBCOMMAND: &str = "__worker";

/// What a worker does with the messages it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WorkerMode {
    /// Runs whole tasks one at a time on a blocking client.
    Tasks,
    /// Runs whole tasks on its own current-thread runtime, `--in-flight` at once.
    AsyncTasks,
    /// Runs CPU work over bodies the parent sends.
    Cpu,
}

/// Flags of the hidden `__worker` subcommand.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    #[arg(long, value_enum)]
    pub mode: WorkerMode,
    /// Base URL of the mock server (task modes).
    #[arg(long, default_value = "")]
    pub base_url: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Keep-alive connections of the worker's own pool.
    #[arg(long, default_value_t = 1)]
    pub pool: usize,
    #[arg(long, value_enum, default_value_t = ConnectionMode::Reuse)]
    pub connection: ConnectionMode,
    /// Requests in flight at once (async-tasks mode).
    #[arg(long, default_value_t = 1)]
    pub in_flight: usize,
    /// When the parent's run started, as `CLOCK_MONOTONIC` nanoseconds
    /// ([`task::mono_now_ns`]): tasks' queued time is measured from it.
    #[arg(long, default_value_t = 0)]
    pub run_start_ns: u64,
    /// The client policy (timeout, retries, rate, deadline) as JSON.
    #[arg(long, value_parser = parse_policy, default_value = "{}")]
    pub policy: ClientPolicy,
}

fn parse_policy(s: &str) -> Result<ClientPolicy, String> {
    if s == "{}" {
        return Ok(ClientPolicy::default());
    }
    serde_json::from_str(s).map_err(|e| format!("not a client policy: {e}"))
}

/// Kills every live worker process (the second Ctrl-C: no time to be polite).
pub fn kill_all_workers() {
    for pid in live_worker_pids() {
        // SAFETY: kill only sends a signal to a child we started and have not reaped.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
}

/// Asks the kernel to SIGKILL this process when its parent dies; returns
/// false if the parent is already gone.
fn die_with_parent() -> bool {
    let parent = std::os::unix::process::parent_id();
    // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag on this process.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    std::os::unix::process::parent_id() == parent
}

/// This process's own usage, for the final [`FromWorker::Usage`].
fn self_usage() -> ChildUsage {
    let u = crate::measure::Usage::now();
    ChildUsage {
        cpu_user_s: u.cpu_user_s,
        cpu_sys_s: u.cpu_sys_s,
        peak_rss_bytes: crate::measure::peak_rss_now().unwrap_or(u.max_rss_bytes),
        ctx_switches_voluntary: u.ctx_switches_voluntary,
        ctx_switches_involuntary: u.ctx_switches_involuntary,
        processes: 1,
    }
}

/// The worker process's main: serve messages from stdin until end-of-file.
pub fn run_worker(args: &WorkerArgs) -> anyhow::Result<()> {
    if !die_with_parent() {
        return Ok(());
    }
    // The parent forwards Ctrl-C as SIGINT: stop starting tasks, answer for the rest.
    crate::interrupt::install_worker();
    let mut input = BufReader::with_capacity(256 * 1024, std::io::stdin().lock());
    let mut out = BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    ipc::write_frame(
        &mut out,
        &FromWorker::Ready {
            pid: std::process::id(),
            protocol: PROTOCOL_VERSION,
        },
    )?;
    out.flush()?;
    match args.mode {
        WorkerMode::Tasks => {
            let client = task::BlockingClient::new(args.pool, args.connection, session(args));
            while let Some(msg) = ipc::read_frame::<ToWorker>(&mut input)? {
                let ToWorker::Tasks(specs) = msg else {
                    bail!("a tasks worker was sent CPU jobs");
                };
                for spec in &specs {
                    let outcome = task::run_blocking(&client, spec);
                    ipc::write_frame(&mut out, &FromWorker::Outcome(outcome))?;
                    out.flush()?;
                }
            }
        }
        WorkerMode::Cpu => {
            while let Some(msg) = ipc::read_frame::<ToWorker>(&mut input)? {
                let ToWorker::Cpu(jobs) = msg else {
                    bail!("a CPU worker was sent tasks");
                };
                for job in &jobs {
                    let result = task::Completed::from_body(&job.body, job.units);
                    ipc::write_frame(&mut out, &FromWorker::Cpu { id: job.id, result })?;
                }
                out.flush()?;
            }
        }
        WorkerMode::AsyncTasks => {
            // The reader and writer threads take stdin and stdout over; nothing was read yet.
            drop(input);
            drop(out);
            run_async_worker(args)?;
            out = BufWriter::new(std::io::stdout().lock());
        }
    }
    ipc::write_frame(&mut out, &FromWorker::Usage(self_usage()))?;
    out.flush()?;
    Ok(())
}

/// The session of a worker's requests, from its flags.
fn session(args: &WorkerArgs) -> Arc<Session> {
    Arc::new(Session::new(
        &args.base_url,
        args.seed,
        args.run_start_ns,
        args.policy,
    ))
}

/// Async-tasks mode: a current-thread runtime with `in_flight` requests at
/// once; a reader thread feeds it tasks and a writer thread sends outcomes, so
/// the event loop never blocks on a pipe.
fn run_async_worker(args: &WorkerArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = task::AsyncClient::new(
        args.pool.max(args.in_flight),
        args.connection,
        session(args),
    )?;
    let (spec_tx, mut spec_rx) = tokio::sync::mpsc::unbounded_channel();
    let reader = std::thread::Builder::new()
        .name("worker-reader".into())
        .spawn(move || -> std::io::Result<()> {
            let mut input = BufReader::with_capacity(256 * 1024, std::io::stdin().lock());
            while let Some(msg) = ipc::read_frame::<ToWorker>(&mut input)? {
                if let ToWorker::Tasks(specs) = msg {
                    for spec in specs {
                        if spec_tx.send(spec).is_err() {
                            return Ok(());
                        }
                    }
                }
            }
            Ok(())
        })?;
    let (out_tx, out_rx) = std::sync::mpsc::channel::<FromWorker>();
    let writer = std::thread::Builder::new()
        .name("worker-writer".into())
        .spawn(move || -> std::io::Result<()> {
            let mut out = BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
            while let Ok(msg) = out_rx.recv() {
                ipc::write_frame(&mut out, &msg)?;
                // Flush when nothing else is waiting: batches writes under load.
                while let Ok(more) = out_rx.try_recv() {
                    ipc::write_frame(&mut out, &more)?;
                }
                out.flush()?;
            }
            Ok(())
        })?;
    let limit = Arc::new(tokio::sync::Semaphore::new(args.in_flight.max(1)));
    runtime.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        loop {
            let permit = limit
                .clone()
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            let Some(spec) = spec_rx.recv().await else {
                break;
            };
            let (client, out_tx) = (client.clone(), out_tx.clone());
            set.spawn(async move {
                let outcome = task::run_async(&client, &spec).await;
                drop(permit);
                let _ = out_tx.send(FromWorker::Outcome(outcome));
            });
            while set.try_join_next().is_some() {}
        }
        while set.join_next().await.is_some() {}
    });
    drop(out_tx);
    writer
        .join()
        .map_err(|_| anyhow!("worker writer panicked"))??;
    reader
        .join()
        .map_err(|_| anyhow!("worker reader panicked"))??;
    Ok(())
}

/// How to start workers.
#[derive(Debug, Clone)]
pub struct WorkerSpawn {
    /// The concbench executable (see [`crate::server::concbench_exe`]).
    pub exe: PathBuf,
    pub mode: WorkerMode,
    pub base_url: String,
    pub seed: u64,
    pub pool: usize,
    pub connection: ConnectionMode,
    pub in_flight: usize,
    /// The run's start ([`task::mono_now_ns`]), passed as `--run-start-ns`.
    pub run_start_ns: u64,
    /// The client policy of this worker (its share of the rate limit), passed as `--policy`.
    pub policy: ClientPolicy,
}

/// What the parent hears from its workers.
#[derive(Debug)]
pub enum Event {
    /// A message from worker `usize` (never `Ready` or `Usage`: those are handled by the set).
    Msg(usize, FromWorker),
    /// Worker `usize` closed its output: it exited, or crashed (the string says how).
    Gone(usize, String),
}

/// What [`WorkerSet::recv_or`] got.
#[derive(Debug)]
pub enum Selected<T> {
    Event(Event),
    /// A message on the other channel; `None` when that channel is closed.
    Other(Option<T>),
    /// Every worker is gone.
    AllGone,
}

enum RawEvent {
    Msg(usize, FromWorker),
    Eof(usize, Option<String>),
}

struct Worker {
    pid: u32,
    child: Child,
    stdin: Option<BufWriter<ChildStdin>>,
    gone: bool,
}

/// A set of running workers: their inputs, one event stream from all their
/// outputs, and the guarantee that they are all gone when the set is dropped.
pub struct WorkerSet {
    workers: Vec<Worker>,
    events: Receiver<RawEvent>,
    /// Process group of the set (the first worker's pid).
    pgid: i32,
    usage: ChildUsage,
}

/// How long a starting worker may take to say `Ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

impl WorkerSet {
    /// Starts `n` workers in one new process group and waits until each is ready.
    pub fn spawn(n: usize, spec: &WorkerSpawn) -> anyhow::Result<Self> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut set = WorkerSet {
            workers: Vec::with_capacity(n),
            events: rx,
            pgid: 0,
            usage: ChildUsage::default(),
        };
        for i in 0..n {
            let mut cmd = Command::new(&spec.exe);
            cmd.arg(WORKER_SUBCOMMAND)
                .args(["--mode", mode_name(spec.mode)])
                .args(["--base-url", &spec.base_url])
                .args(["--seed", &spec.seed.to_string()])
                .args(["--pool", &spec.pool.to_string()])
                .args(["--connection", connection_name(spec.connection)])
                .args(["--in-flight", &spec.in_flight.to_string()])
                .args(["--run-start-ns", &spec.run_start_ns.to_string()])
                .args([
                    "--policy",
                    &serde_json::to_string(&spec.policy).expect("a policy always serialises"),
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .process_group(set.pgid);
            let mut child = cmd
                .spawn()
                .with_context(|| format!("cannot start worker process {}", spec.exe.display()))?;
            let pid = child.id();
            register(pid);
            if set.pgid == 0 {
                set.pgid = pid as i32;
            }
            let stdin = child
                .stdin
                .take()
                .map(|s| BufWriter::with_capacity(64 * 1024, s));
            let stdout = child.stdout.take().expect("stdout is piped");
            set.workers.push(Worker {
                pid,
                child,
                stdin,
                gone: false,
            });
            let tx = tx.clone();
            std::thread::Builder::new()
                .name(format!("worker-{i}-reader"))
                .spawn(move || {
                    let mut r = BufReader::with_capacity(64 * 1024, stdout);
                    loop {
                        match ipc::read_frame::<FromWorker>(&mut r) {
                            Ok(Some(msg)) => {
                                if tx.send(RawEvent::Msg(i, msg)).is_err() {
                                    return;
                                }
                            }
                            Ok(None) => {
                                let _ = tx.send(RawEvent::Eof(i, None));
                                return;
                            }
                            Err(e) => {
                                let _ = tx.send(RawEvent::Eof(
                                    i,
                                    Some(format!("unreadable output: {e}")),
                                ));
                                return;
                            }
                        }
                    }
                })
                .context("cannot start a worker reader thread")?;
        }
        drop(tx);
        set.await_ready(&spec.exe)?;
        Ok(set)
    }

    fn await_ready(&mut self, exe: &std::path::Path) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut ready = vec![false; self.workers.len()];
        while ready.iter().any(|r| !r) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(RawEvent::Msg(i, FromWorker::Ready { protocol, .. })) if protocol == PROTOCOL_VERSION => {
                    ready[i] = true
                }
                Ok(RawEvent::Msg(_, FromWorker::Ready { protocol, .. })) => {
                    bail!("worker {} speaks protocol {protocol}, not {PROTOCOL_VERSION}; rebuild concbench", exe.display())
                }
                Ok(_) | Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => bail!(
                    "{} did not start as a concbench worker within {}s; set {} to the concbench binary",
                    exe.display(),
                    READY_TIMEOUT.as_secs(),
                    crate::server::EXE_ENV
                ),
            }
        }
        Ok(())
    }

    /// Number of workers started.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// Whether the set has no workers.
    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// Process ids of the workers.
    pub fn pids(&self) -> Vec<u32> {
        self.workers.iter().map(|w| w.pid).collect()
    }

    /// Sends a message to worker `i`. An error means the worker is gone; its
    /// [`Event::Gone`] follows on the event stream.
    pub fn send(&mut self, i: usize, msg: &ToWorker) -> std::io::Result<()> {
        let w = &mut self.workers[i];
        let stdin = w.stdin.as_mut().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "input already closed")
        })?;
        ipc::write_frame(stdin, msg)?;
        stdin.flush()
    }

    /// Closes worker `i`'s input: it finishes what it has, reports its usage and exits.
    pub fn close_input(&mut self, i: usize) {
        if let Some(mut s) = self.workers[i].stdin.take() {
            let _ = s.flush();
        }
    }

    /// The next event; `None` once every worker is gone. Bounded: every worker
    /// either sends or exits, and an exit closes its output.
    pub fn recv(&mut self) -> Option<Event> {
        loop {
            let raw = self.events.recv().ok()?;
            if let Some(ev) = self.handle(raw) {
                return Some(ev);
            }
        }
    }

    /// Waits for whichever comes first: an event from the workers or a
    /// message on `other`.
    pub fn recv_or<T>(&mut self, other: &Receiver<T>) -> Selected<T> {
        loop {
            crossbeam_channel::select! {
                recv(self.events) -> raw => match raw {
                    Ok(raw) => {
                        if let Some(ev) = self.handle(raw) {
                            return Selected::Event(ev);
                        }
                    }
                    Err(_) => return Selected::AllGone,
                },
                recv(other) -> msg => return Selected::Other(msg.ok()),
            }
        }
    }

    fn handle(&mut self, raw: RawEvent) -> Option<Event> {
        match raw {
            RawEvent::Msg(_, FromWorker::Ready { .. }) => None,
            RawEvent::Msg(_, FromWorker::Usage(u)) => {
                self.usage.add(&u);
                None
            }
            RawEvent::Msg(i, msg) => Some(Event::Msg(i, msg)),
            RawEvent::Eof(i, why) => {
                self.workers[i].gone = true;
                let status = self.reap(i);
                let why = match why {
                    Some(w) => format!("{w}; {status}"),
                    None => status,
                };
                Some(Event::Gone(i, why))
            }
        }
    }

    /// Waits (briefly) for worker `i` to exit and describes how it did.
    fn reap(&mut self, i: usize) -> String {
        let w = &mut self.workers[i];
        let status = Self::reap_worker(w);
        unregister(w.pid);
        status
    }

    fn reap_worker(w: &mut Worker) -> String {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match w.child.try_wait() {
                Ok(Some(status)) => {
                    use std::os::unix::process::ExitStatusExt;
                    return match (status.code(), status.signal()) {
                        (Some(0), _) => format!("worker {} exited", w.pid),
                        (Some(c), _) => format!("worker {} exited with code {c}", w.pid),
                        (None, Some(s)) => format!("worker {} was killed by signal {s}", w.pid),
                        _ => format!("worker {} ended", w.pid),
                    };
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                _ => {
                    let _ = w.child.kill();
                    let _ = w.child.wait();
                    return format!("worker {} closed its output and was killed", w.pid);
                }
            }
        }
    }

    /// Closes every input, drains the remaining events (collecting usage) and
    /// reaps every worker; returns the workers' total usage. Events other than
    /// usage that arrive now are handed to `late` (normally there are none).
    pub fn finish(mut self, mut late: impl FnMut(Event)) -> ChildUsage {
        for i in 0..self.workers.len() {
            self.close_input(i);
        }
        while let Some(ev) = self.recv() {
            if let Event::Msg(..) = ev {
                late(ev);
            }
        }
        for i in 0..self.workers.len() {
            if !self.workers[i].gone {
                self.reap(i);
            }
        }
        let mut usage = self.usage;
        usage.processes = self.workers.len() as u64;
        usage
    }
}

impl Drop for WorkerSet {
    fn drop(&mut self) {
        // Normal ends have reaped everyone already; this is for panics and errors.
        let live = self
            .workers
            .iter_mut()
            .any(|w| matches!(w.child.try_wait(), Ok(None)));
        if live && self.pgid > 0 {
            // SAFETY: kill(2) on our own workers' process group.
            unsafe { libc::kill(-self.pgid, libc::SIGKILL) };
        }
        for w in &mut self.workers {
            let _ = w.child.kill();
            let _ = w.child.wait();
            unregister(w.pid);
        }
    }
}

fn mode_name(m: WorkerMode) -> &'static str {
    match m {
        WorkerMode::Tasks => "tasks",
        WorkerMode::AsyncTasks => "async-tasks",
        WorkerMode::Cpu => "cpu",
    }
}

fn connection_name(c: ConnectionMode) -> &'static str {
    match c {
        ConnectionMode::Reuse => "reuse",
        ConnectionMode::New => "new",
    }
}
