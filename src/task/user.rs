//! Your own task, run under every strategy: the trait a user's crate
//! implements ([`UserTask`]), and the one place a process holds it, so a
//! worker process (the user's binary re-executed) finds it too.
//!
//! A task has two parts, as every built-in one does: an I/O part that gets
//! its input (a blocking form for threads and processes, an async form for
//! the event loops) and a CPU part over that input that yields a result
//! word; then a check of that result. Strategies schedule the two parts
//! their own way (inline, on a CPU pool, in worker processes) and never
//! look inside them.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

/// The future the async form returns.
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'a>>;

/// One kind of task of yours, identified by its id (0 to tasks − 1).
pub trait UserTask: Send + Sync + 'static {
    /// Its name in reports.
    fn name(&self) -> String;

    /// The I/O part of task `id`, blocking: read a file, call your API with
    /// your own client (`ureq`, a database driver), or nothing. Its error
    /// fails the task with cause `task`.
    fn fetch_blocking(&self, id: u64) -> Result<Vec<u8>, String>;

    /// The I/O part of task `id`, async (`tokio::fs`, `reqwest`, ...), for
    /// the async strategies. Without it they run the blocking form in the
    /// event loop, which blocks it: say so in your results or write it.
    fn fetch(&self, id: u64) -> FetchFuture<'_> {
        Box::pin(async move { self.fetch_blocking(id) })
    }

    /// The CPU part of task `id` over what the I/O part got: its result.
    fn process(&self, id: u64, input: &[u8]) -> u64;

    /// Whether `result` is task `id`'s right result; an `Err` fails it with
    /// cause `verify` and your words. Checked in the parent process for
    /// every task, whatever strategy ran it.
    fn verify(&self, id: u64, result: u64) -> Result<(), String> {
        let _ = (id, result);
        Ok(())
    }
}

/// A shared user task, printable (the trait object is not).
#[derive(Clone)]
pub struct UserTaskRef(pub Arc<dyn UserTask>);

impl fmt::Debug for UserTaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserTask({})", self.0.name())
    }
}

impl PartialEq for UserTaskRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

static INSTALLED: OnceLock<UserTaskRef> = OnceLock::new();

/// Makes `task` this process's user task (the first one installed stays)
/// and returns the one installed.
pub fn install(task: Arc<dyn UserTask>) -> UserTaskRef {
    INSTALLED.get_or_init(|| UserTaskRef(task)).clone()
}

/// This process's user task, if one was installed.
pub fn installed() -> Option<UserTaskRef> {
    INSTALLED.get().cloned()
}

/// I/O and CPU time of one task in µs, the medians of running tasks `0..`
/// one after another in this thread, after one untimed warm-up task: at
/// most `max_tasks` of them and for at most `budget` (at least one). The
/// bound of a user's task is built from them: it has no planned latency or
/// CPU of its own. Medians, as the bound is a floor: a task that met a cold
/// cache or a busy neighbour should not raise it.
pub fn sample(
    task: &dyn UserTask,
    tasks: u64,
    max_tasks: u64,
    budget: std::time::Duration,
) -> (u64, u64) {
    use std::time::Instant;
    let run = |id: u64| -> (u64, u64) {
        let t = Instant::now();
        let input = task.fetch_blocking(id);
        let io = t.elapsed().as_micros() as u64;
        let t = Instant::now();
        if let Ok(input) = input {
            std::hint::black_box(task.process(id, &input));
        }
        (io, t.elapsed().as_micros() as u64)
    };
    let start = Instant::now();
    run(0);
    let (mut io, mut cpu) = (Vec::new(), Vec::new());
    for id in 0..tasks.min(max_tasks).max(1) {
        let (i, c) = run(id);
        io.push(i);
        cpu.push(c);
        if start.elapsed() >= budget {
            break;
        }
    }
    let median = |v: &mut Vec<u64>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    (median(&mut io), median(&mut cpu))
}
