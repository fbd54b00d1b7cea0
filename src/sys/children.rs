//! The child processes alive now (worker processes and the embedded
//! server): registered when started, unregistered when reaped. The CPU
//! sampler reads the workers (it cannot see inside strategies); Ctrl-C
//! forwards to the workers or, the second time, kills and reaps every child
//! before the process exits, so none outlives it.

use std::sync::Mutex;

/// What a child process is to concbench.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A worker process of a strategy: its CPU is the client's.
    Worker,
    /// The embedded mock server: its CPU is the server's.
    Server,
    /// A program run as a model (`--external`), leader of its own process
    /// group: its CPU is the client's, like a worker's, and signals go to
    /// its whole group (the processes it started too).
    External,
}

/// Children started and not yet reaped.
static LIVE: Mutex<Vec<(u32, Role)>> = Mutex::new(Vec::new());

/// Pids of every worker process (and external program) started and not yet reaped.
pub fn live() -> Vec<u32> {
    LIVE.lock()
        .map(|v| {
            v.iter()
                .filter(|(_, r)| *r != Role::Server)
                .map(|(p, _)| *p)
                .collect()
        })
        .unwrap_or_default()
}

/// Pids of every external program started and not yet reaped (the roots
/// of their process trees).
pub fn externals() -> Vec<u32> {
    LIVE.lock()
        .map(|v| {
            v.iter()
                .filter(|(_, r)| *r == Role::External)
                .map(|(p, _)| *p)
                .collect()
        })
        .unwrap_or_default()
}

/// Records a started worker.
pub fn register(pid: u32) {
    register_as(pid, Role::Worker);
}

/// Records a started child of `role`.
pub fn register_as(pid: u32, role: Role) {
    if let Ok(mut v) = LIVE.lock() {
        v.push((pid, role));
    }
}

/// Forgets a reaped child.
pub fn unregister(pid: u32) {
    if let Ok(mut v) = LIVE.lock() {
        v.retain(|&(p, _)| p != pid);
    }
}

/// The pid to signal for each live child of `roles`: an external program's
/// is its process group (negative), as a terminal's Ctrl-C would be.
fn targets(roles: &[Role]) -> Vec<i32> {
    LIVE.lock()
        .map(|v| {
            v.iter()
                .filter(|(_, r)| roles.contains(r))
                .map(|&(p, r)| {
                    if r == Role::External {
                        -(p as i32)
                    } else {
                        p as i32
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Sends `signal` to every live worker and external program (its whole group).
pub fn signal_all(signal: libc::c_int) {
    for target in targets(&[Role::Worker, Role::External]) {
        // SAFETY: kill only sends a signal to a child (or group) we started and
        // have not reaped; a stale pid at worst gets a signal it was going to get anyway.
        unsafe { libc::kill(target, signal) };
    }
}

/// Kills every live child (workers and the server) and reaps it, so that
/// none is left when this process exits (the second Ctrl-C: no time to be
/// polite). Bounded: a SIGKILLed process always ends.
pub fn kill_and_reap_all() {
    let all: Vec<u32> = LIVE
        .lock()
        .map(|v| v.iter().map(|(p, _)| *p).collect())
        .unwrap_or_default();
    for target in targets(&[Role::Worker, Role::External, Role::Server]) {
        // SAFETY: as in `signal_all`.
        unsafe { libc::kill(target, libc::SIGKILL) };
    }
    for pid in all {
        let mut status = 0;
        // SAFETY: waitpid on our own child; if another thread reaped it
        // first, it fails at once with ECHILD.
        unsafe { libc::waitpid(pid as i32, &mut status, 0) };
        unregister(pid);
    }
}
