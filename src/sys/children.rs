//! The worker processes alive now: registered when started, unregistered
//! when reaped. The CPU sampler reads them (it cannot see inside
//! strategies), and Ctrl-C forwards to them or, the second time, kills them.

use std::sync::Mutex;

/// Pids of worker processes started and not yet reaped.
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Pids of every worker process started and not yet reaped.
pub fn live() -> Vec<u32> {
    LIVE.lock().map(|v| v.clone()).unwrap_or_default()
}

/// Records a started worker.
pub fn register(pid: u32) {
    if let Ok(mut v) = LIVE.lock() {
        v.push(pid);
    }
}

/// Forgets a reaped worker.
pub fn unregister(pid: u32) {
    if let Ok(mut v) = LIVE.lock() {
        v.retain(|&p| p != pid);
    }
}

/// Sends `signal` to every live worker.
pub fn signal_all(signal: libc::c_int) {
    for pid in live() {
        // SAFETY: kill only sends a signal to a child we started and have not
        // reaped; a stale pid at worst gets a signal it was going to get anyway.
        unsafe { libc::kill(pid as i32, signal) };
    }
}

/// Kills every live worker (the second Ctrl-C: no time to be polite).
pub fn kill_all() {
    signal_all(libc::SIGKILL);
}
