//! The progress display of `concbench run` on a terminal (indicatif): the
//! phase before the run (starting the server, calibrating, building the
//! plan), then per strategy its tasks done of N, the rate, the time spent
//! and left, and one line with its figures when it ends. Nothing at all
//! when stderr is not a terminal.
//!
//! The count comes from [`crate::task::guard::tasks_done`], read ten times a
//! second by one thread of this display; that thread is the only cost of the
//! display inside a measured window (well under 0.1% of a core).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::bench::{OnStep, Step};
use crate::task::guard::tasks_done;

/// A run's progress display; dropping it clears it.
pub struct RunProgress {
    bar: ProgressBar,
    shared: Arc<Shared>,
    ticker: Option<JoinHandle<()>>,
}

/// What the display and its ticker thread share.
struct Shared {
    stop: AtomicBool,
    /// Whether a strategy is running (the bar counts its tasks).
    counting: AtomicBool,
    /// The task count when the running strategy started.
    base: AtomicU64,
    /// `[round 1/1, 2/3] async`, for the line printed when it ends.
    label: Mutex<String>,
}

impl RunProgress {
    /// A display on stderr if it is a terminal, else one that draws nothing.
    pub fn new() -> Self {
        Self::with(std::io::stderr().is_terminal())
    }

    fn with(visible: bool) -> Self {
        let bar = ProgressBar::new_spinner();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            counting: AtomicBool::new(false),
            base: AtomicU64::new(0),
            label: Mutex::new(String::new()),
        });
        let ticker = if visible {
            bar.set_style(spinner_style());
            let (bar, shared) = (bar.clone(), shared.clone());
            std::thread::Builder::new()
                .name("progress".into())
                .spawn(move || {
                    // Bounded: ends when the display is dropped.
                    while !shared.stop.load(Ordering::Relaxed) {
                        if shared.counting.load(Ordering::Relaxed) {
                            let base = shared.base.load(Ordering::Relaxed);
                            bar.set_position(tasks_done().saturating_sub(base));
                        } else {
                            bar.tick();
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                })
                .ok()
        } else {
            bar.set_draw_target(ProgressDrawTarget::hidden());
            None
        };
        Self {
            bar,
            shared,
            ticker,
        }
    }

    /// Shows what is going on before the run (e.g. starting the server).
    pub fn phase(&self, what: &str) {
        self.bar.set_message(what.to_string());
    }

    /// The callback that follows a run's steps.
    pub fn on_step(&self) -> OnStep {
        let (bar, shared) = (self.bar.clone(), self.shared.clone());
        Arc::new(move |step: &Step| match step {
            Step::Calibrating => bar.set_message("calibrating the CPU kernel"),
            Step::Planning { tasks } => {
                bar.set_message(format!("building the plan of {tasks} tasks"))
            }
            Step::Starting {
                kind,
                round,
                index,
                of,
                tasks,
            } => {
                let label = format!("[{round}, {index}/{of}] {kind}");
                bar.reset();
                bar.set_style(bar_style());
                bar.set_length(*tasks as u64);
                bar.set_prefix(label.clone());
                shared.base.store(tasks_done(), Ordering::Relaxed);
                shared.counting.store(true, Ordering::Relaxed);
                *shared.label.lock().expect("label") = label;
            }
            Step::Waiting { kind, until_unix_s } => {
                let left_s = until_unix_s - crate::sys::clock::unix_now_s();
                bar.set_message(format!("{kind} starts in {left_s:.0} s (--start-at)"))
            }
            Step::Finished {
                wall_s, efficiency, ..
            } => {
                shared.counting.store(false, Ordering::Relaxed);
                let label = shared.label.lock().expect("label").clone();
                bar.println(format!("{label}  {wall_s:.2}s, efficiency {efficiency:.2}"));
                bar.set_style(spinner_style());
                bar.set_message("verifying and measuring the next one");
            }
            Step::Interrupted { .. } => {
                shared.counting.store(false, Ordering::Relaxed);
                let label = shared.label.lock().expect("label").clone();
                bar.println(format!("{label}  interrupted"));
                bar.set_style(spinner_style());
                bar.set_message("stopping");
            }
        })
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg}").expect("valid template")
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix} {bar:30} {pos}/{len} tasks, {rate}, {elapsed} elapsed, ~{eta} left",
    )
    .expect("valid template")
    .with_key(
        "rate",
        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0} tasks/s", state.per_sec());
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::StrategyKind;

    #[test]
    fn a_hidden_display_follows_every_step_without_a_thread() {
        let p = RunProgress::with(false);
        assert!(p.ticker.is_none());
        let on_step = p.on_step();
        on_step(&Step::Calibrating);
        on_step(&Step::Starting {
            kind: StrategyKind::Async.into(),
            round: "round 1/1".into(),
            index: 1,
            of: 2,
            tasks: 10,
        });
        assert!(p.shared.counting.load(Ordering::Relaxed));
        assert_eq!(*p.shared.label.lock().unwrap(), "[round 1/1, 1/2] async");
        assert_eq!(p.bar.length(), Some(10));
        on_step(&Step::Finished {
            kind: StrategyKind::Async.into(),
            wall_s: 0.5,
            efficiency: 0.9,
        });
        assert!(!p.shared.counting.load(Ordering::Relaxed));
    }
}
