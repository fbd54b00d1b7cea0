//! The operating system, in one place: the clock every process shares,
//! resource usage from the kernel, the registry of live worker processes,
//! locating and re-executing the concbench binary, and atomic file writes.
//!
//! Everything here is a leaf: it imports nothing else from the crate, so
//! every layer above may use it.

pub mod affinity;
pub mod children;
pub mod clock;
pub mod fs;
pub mod process;
pub mod rusage;
