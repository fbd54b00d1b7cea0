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

//!
//! The parts: [`config`] (what a worker is told, one serialised value),
//! [`protocol`] (the frames on the pipe), [`child`] (the worker's main) and
//! [`set`] (the parent's end).

pub mod child;
pub mod config;
pub mod protocol;
pub mod set;

pub use config::{WorkerArgs, WorkerConfig, WorkerMode, WORKER_SUBCOMMAND};
pub use set::{Event, Selected, WorkerSet};
