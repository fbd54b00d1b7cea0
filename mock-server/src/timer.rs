//! A precise timer for sub-millisecond latencies.
//!
//! tokio's timer wheel has millisecond granularity: it rounds a deadline up to
//! its next 1 ms tick, so a 100 µs sleep takes about 1 ms. Long waits use
//! tokio's timer up to `COARSE_MARGIN` (3 ms) before the deadline; the rest is
//! handed to one dedicated thread that keeps a heap of deadlines and sleeps on
//! a condition variable with 1 µs timer slack, then wakes the waiting request
//! through a oneshot channel.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// How long before a deadline a coarse tokio sleep hands over to the precise thread.
/// tokio wakes up to ~1.1 ms late, so 3 ms leaves room for a busy runtime.
const COARSE_MARGIN: Duration = Duration::from_millis(3);

struct Entry {
    deadline: Instant,
    seq: u64,
    tx: oneshot::Sender<()>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}

#[derive(Default)]
struct State {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    stop: bool,
}

struct Inner {
    state: Mutex<State>,
    wake: Condvar,
}

/// The handle requests sleep through; dropping the last one stops the thread.
pub struct PreciseTimer {
    inner: Arc<Inner>,
    thread: Option<JoinHandle<()>>,
}

impl PreciseTimer {
    /// Starts the timer thread; `on_start` runs on it first (the server uses
    /// it to register the thread for its CPU accounting).
    pub fn start(on_start: impl FnOnce() + Send + 'static) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let thread_inner = inner.clone();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("mock-timer".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                // 1 µs slack: the kernel may otherwise add up to 50 µs to every wake-up.
                // SAFETY: prctl with PR_SET_TIMERSLACK only changes this thread's slack.
                unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1_000u64, 0u64, 0u64, 0u64) };
                on_start();
                let _ = started_tx.send(());
                run(&thread_inner);
            })?;
        // Wait for `on_start`, so the server's thread list is complete when it starts serving.
        let _ = started_rx.recv();
        Ok(Self {
            inner,
            thread: Some(thread),
        })
    }

    /// Waits on tokio's timer until 3 ms (`COARSE_MARGIN`) before `deadline`
    /// (at once if that is past): what is left of the wait is
    /// [`Self::sleep_until`]'s precise part, time enough to get an answer
    /// ready without holding it through the whole wait.
    pub async fn approach(&self, deadline: Instant) {
        if deadline.saturating_duration_since(Instant::now()) > COARSE_MARGIN {
            tokio::time::sleep_until((deadline - COARSE_MARGIN).into()).await;
        }
    }

    /// Waits until `deadline`, late by tens of microseconds rather than a millisecond.
    pub async fn sleep_until(&self, deadline: Instant) {
        // Never early: a request asks for at least its latency.
        self.approach(deadline).await;
        if deadline <= Instant::now() {
            return;
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.inner.state.lock().expect("timer lock");
            st.seq += 1;
            let seq = st.seq;
            let earliest = st.heap.peek().map(|Reverse(e)| e.deadline);
            st.heap.push(Reverse(Entry { deadline, seq, tx }));
            if earliest.is_none_or(|e| deadline < e) {
                self.inner.wake.notify_one();
            }
        }
        // The sender is only dropped when the timer stops: either way the wait is over.
        let _ = rx.await;
    }
}

fn run(inner: &Inner) {
    let mut st = inner.state.lock().expect("timer lock");
    loop {
        if st.stop {
            // Wake everyone still waiting so shutdown never hangs on a sleeper.
            st.heap.clear();
            return;
        }
        let now = Instant::now();
        while let Some(Reverse(top)) = st.heap.peek() {
            if top.deadline > now {
                break;
            }
            let Reverse(entry) = st.heap.pop().expect("peeked");
            let _ = entry.tx.send(());
        }
        st = match st.heap.peek() {
            Some(Reverse(top)) => {
                let wait = top.deadline.saturating_duration_since(Instant::now());
                inner.wake.wait_timeout(st, wait).expect("timer lock").0
            }
            None => inner.wake.wait(st).expect("timer lock"),
        };
    }
}

impl std::fmt::Debug for PreciseTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreciseTimer")
    }
}

impl Drop for PreciseTimer {
    fn drop(&mut self) {
        self.inner.state.lock().expect("timer lock").stop = true;
        self.inner.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approaching_a_deadline_leaves_at_most_the_precise_margin_and_never_passes_it_early() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let timer = PreciseTimer::start(|| {}).unwrap();
        rt.block_on(async {
            let deadline = Instant::now() + Duration::from_millis(40);
            timer.approach(deadline).await;
            let now = Instant::now();
            assert!(
                now + COARSE_MARGIN >= deadline,
                "left {:?} early",
                deadline - now
            );
            // What is left is the precise part, and that still ends at the deadline.
            timer.sleep_until(deadline).await;
            assert!(Instant::now() >= deadline);
            // A deadline within the margin (or past) is approached at once.
            let near = Instant::now() + COARSE_MARGIN / 2;
            let t = Instant::now();
            timer.approach(near).await;
            assert!(t.elapsed() < COARSE_MARGIN / 2, "{:?}", t.elapsed());
        });
    }
}
