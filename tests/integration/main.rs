//! Every integration test but `measurement` in one test binary (one link of
//! the dependency tree instead of one per topic). Its tests run in parallel
//! threads of one process, so none may depend on being alone in it:
//! - processes a test starts carry a tag unique to the call
//!   (`common::tag`) and are found by it, never as "children of this
//!   process"; signals go to those pids only;
//! - no test sets environment variables, the current directory or signal
//!   handlers of this process, and no two tests write the same temporary path;
//! - the cores are shared by rule: a test whose assertions are about time
//!   holds `common::quiet_cores()`, one that keeps cores busy for a second or
//!   more holds `common::busy_cores()`, and the two never run side by side.
//!
//! `tests/measurement.rs` is a binary of its own: it reads the whole
//! process's CPU from `/proc/self/stat`.

#[path = "../common/mod.rs"]
mod common;

mod arrival;
mod charts;
mod check;
mod cli;
mod client;
mod endpoint;
mod engines;
mod external;
mod faults;
mod first_run;
mod gate;
mod html;
mod merge;
mod netns;
mod panics;
mod parsing_properties;
mod processes;
mod run;
mod scenario;
mod schema;
mod signals;
mod user;
mod verdict;
mod work;
