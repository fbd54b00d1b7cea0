//! The parent's end of its worker processes: a [`WorkerSet`] starts them in
//! one process group, sends them frames, turns their outputs into one stream
//! of [`Event`]s, and guarantees they are all gone (killed and reaped) when
//! it is dropped, on every path including a panic.

use std::io::{BufReader, BufWriter, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::config::{WorkerSpawn, WORKER_SUBCOMMAND};
use super::protocol::{self as ipc, FromWorker, ToWorker, PROTOCOL_VERSION};
use crate::sys::children::{register, unregister};
use crate::sys::process::{reap, EXE_ENV};
use crate::sys::rusage::Usage;

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
    /// Its output ended (it exited or crashed).
    gone: bool,
    /// Reaped (by `wait4`): its pid is no longer ours to signal.
    reaped: bool,
    /// What it said it used, in its last message.
    reported: Option<Usage>,
    /// What the kernel says it used, whole life, once reaped.
    kernel: Option<Usage>,
}

/// A set of running workers: their inputs, one event stream from all their
/// outputs, and the guarantee that they are all gone when the set is dropped.
/// A worker can be replaced by a fresh process in its slot ([`Self::replace`]).
pub struct WorkerSet {
    workers: Vec<Worker>,
    events: Receiver<RawEvent>,
    /// Kept for the readers of replacement workers.
    tx: crossbeam_channel::Sender<RawEvent>,
    /// Events that came while a replacement was starting, handed out first.
    early: std::collections::VecDeque<RawEvent>,
    /// Workers whose output has not ended yet (the stream ends with the last).
    live: usize,
    /// Process group of the set (the first worker's pid).
    pgid: i32,
    spec: WorkerSpawn,
    /// Kernel-counted usage of the workers that were replaced.
    retired: Usage,
    /// Workers replaced by fresh processes.
    replaced: u64,
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
            tx,
            early: Default::default(),
            live: 0,
            pgid: 0,
            spec: spec.clone(),
            retired: Usage::default(),
            replaced: 0,
        };
        for i in 0..n {
            let worker = set.start(i)?;
            set.workers.push(worker);
        }
        set.await_ready(&spec.exe)?;
        // A Ctrl-C forwarded before these workers were registered never
        // reached them: forward it now (they handle SIGINT once ready).
        if crate::interrupt::requested() {
            for w in &set.workers {
                // SAFETY: kill(2) on our own, unreaped child.
                unsafe { libc::kill(w.pid as i32, libc::SIGINT) };
            }
        }
        Ok(set)
    }

    /// Starts the process of slot `i` and the thread that reads its output.
    fn start(&mut self, i: usize) -> anyhow::Result<Worker> {
        let spec = &self.spec;
        // A replacement joins the set's group while another member keeps it
        // alive; otherwise it leads a new one.
        let group_alive = self.pgid > 0 && self.workers.iter().any(|w| !w.reaped);
        let mut cmd = Command::new(&spec.exe);
        cmd.arg(WORKER_SUBCOMMAND)
            .arg(spec.config.to_arg())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(if group_alive { self.pgid } else { 0 });
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start worker process {}", spec.exe.display()))?;
        let pid = child.id();
        register(pid);
        if !group_alive {
            self.pgid = pid as i32;
        }
        let stdin = child
            .stdin
            .take()
            .map(|s| BufWriter::with_capacity(64 * 1024, s));
        let stdout = child.stdout.take().expect("stdout is piped");
        let tx = self.tx.clone();
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
                            let _ =
                                tx.send(RawEvent::Eof(i, Some(format!("unreadable output: {e}"))));
                            return;
                        }
                    }
                }
            })
            .context("cannot start a worker reader thread")?;
        self.live += 1;
        Ok(Worker {
            pid,
            child,
            stdin,
            gone: false,
            reaped: false,
            reported: None,
            kernel: None,
        })
    }

    /// Replaces worker `i`, whose output has ended (it finished its share
    /// and exited), by a fresh process in the same slot, ready when this
    /// returns; events of the other workers meanwhile are kept for later.
    pub fn replace(&mut self, i: usize) -> anyhow::Result<()> {
        if !self.workers[i].gone {
            bail!("worker {i} is still running");
        }
        let fresh = self.start(i)?;
        let old = std::mem::replace(&mut self.workers[i], fresh);
        if let Some(u) = old.kernel.or(old.reported) {
            self.retired.add(&u);
        }
        self.replaced += 1;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(RawEvent::Msg(j, FromWorker::Ready { .. })) if j == i => break,
                Ok(other) => self.early.push_back(other),
                Err(_) => bail!(
                    "a replacement worker did not start within {}s",
                    READY_TIMEOUT.as_secs()
                ),
            }
        }
        if crate::interrupt::requested() {
            // SAFETY: kill(2) on our own, unreaped child.
            unsafe { libc::kill(self.workers[i].pid as i32, libc::SIGINT) };
        }
        Ok(())
    }

    /// Workers replaced by fresh processes so far.
    pub fn replaced(&self) -> u64 {
        self.replaced
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
                    EXE_ENV
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
            let raw = match self.early.pop_front() {
                Some(raw) => raw,
                None if self.live == 0 => return None,
                None => self.events.recv().ok()?,
            };
            if let Some(ev) = self.handle(raw) {
                return Some(ev);
            }
        }
    }

    /// Waits for whichever comes first: an event from the workers or a
    /// message on `other`.
    pub fn recv_or<T>(&mut self, other: &Receiver<T>) -> Selected<T> {
        loop {
            if let Some(raw) = self.early.pop_front() {
                if let Some(ev) = self.handle(raw) {
                    return Selected::Event(ev);
                }
                continue;
            }
            if self.live == 0 {
                return Selected::AllGone;
            }
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
            RawEvent::Msg(i, FromWorker::Usage(u)) => {
                self.workers[i].reported = Some(u);
                None
            }
            RawEvent::Msg(i, msg) => Some(Event::Msg(i, msg)),
            RawEvent::Eof(i, why) => {
                self.workers[i].gone = true;
                self.live -= 1;
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
            match reap(w.pid, false) {
                Ok(Some(done)) => {
                    use std::os::unix::process::ExitStatusExt;
                    w.reaped = true;
                    w.kernel = Some(done.usage);
                    let status = done.status;
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
                Ok(None) => {
                    let _ = w.child.kill();
                    if let Ok(Some(done)) = reap(w.pid, true) {
                        w.kernel = Some(done.usage);
                    }
                    w.reaped = true;
                    return format!("worker {} closed its output and was killed", w.pid);
                }
                Err(e) => {
                    w.reaped = true;
                    return format!("worker {} could not be reaped: {e}", w.pid);
                }
            }
        }
    }

    /// Closes every input, drains the remaining events (collecting usage) and
    /// reaps every worker; returns the workers' total usage. Events other than
    /// usage that arrive now are handed to `late` (normally there are none).
    pub fn finish(mut self, mut late: impl FnMut(Event)) -> Usage {
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
        // The kernel's count of each worker's whole life; its own report
        // (which misses its start-up and exit) only where the kernel's is missing.
        let mut usage = self.retired;
        for w in &self.workers {
            if let Some(u) = w.kernel.or(w.reported) {
                usage.add(&u);
            }
        }
        usage.processes = self.workers.len() as u64 + self.replaced;
        usage
    }
}

impl Drop for WorkerSet {
    fn drop(&mut self) {
        // Normal ends have reaped everyone already; this is for panics and errors.
        let live = self.workers.iter().any(|w| !w.reaped);
        if live && self.pgid > 0 {
            // SAFETY: kill(2) on our own workers' process group, some of
            // which are not reaped yet (so the group still exists).
            unsafe { libc::kill(-self.pgid, libc::SIGKILL) };
        }
        for w in self.workers.iter_mut().filter(|w| !w.reaped) {
            let _ = w.child.kill();
            // Bounded: a SIGKILLed process always ends.
            let _ = reap(w.pid, true);
            w.reaped = true;
            unregister(w.pid);
        }
    }
}
