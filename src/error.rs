//! Errors a user reads and the exit codes they map to.

/// Bad input: a flag, a value or a target the user must change. Exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {fix}")]
pub struct UsageError {
    /// The flag or thing at fault, e.g. `--concurrency`.
    pub what: String,
    /// What is wrong and how to fix it.
    pub fix: String,
}

impl UsageError {
    pub fn new(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            fix: fix.into(),
        }
    }
}

/// Ctrl-C (or SIGTERM) stopped the command before it had anything to keep.
/// Exit code 130.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Interrupted while {during}: nothing was written.")]
pub struct Interrupted {
    /// What was going on, e.g. `starting the embedded mock server`.
    pub during: String,
}

impl Interrupted {
    pub fn new(during: impl Into<String>) -> Self {
        Self {
            during: during.into(),
        }
    }
}

/// Exit codes, as hyperfine and oha users expect them.
pub mod exit {
    /// Every strategy ran and every task verified.
    pub const OK: u8 = 0;
    /// A run failed: a task did not verify, or the harness hit an error.
    pub const FAILED: u8 = 1;
    /// Bad input (flags, values, target): nothing was run.
    pub const USAGE: u8 = 2;
    /// Every task verified, but a threshold (`--fail-if`) did not hold: the
    /// code k6 gives a failed threshold, apart from a failed task's and bad input's.
    pub const THRESHOLD: u8 = 99;
    /// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it);
    /// whatever finished was kept.
    pub const INTERRUPTED: u8 = 130;
}
