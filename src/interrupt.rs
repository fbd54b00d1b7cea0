//! Ctrl-C (SIGINT) and SIGTERM: stop promptly, end every worker, keep what finished.
//!
//! The first signal sets a flag ([`requested`]) that every client checks
//! before each attempt and during each backoff, so tasks not yet started fail
//! at once with cause `cancelled`; requests in flight finish (each bounded by
//! the latency and the timeout). The parent forwards the signal to its worker
//! processes (they live in their own process group, out of the terminal's
//! reach) so they stop the same way. The runner then stops between runs,
//! writes what finished and says where it is. A second signal ends the
//! process at once (exit 130) after killing the workers' process groups.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

/// Exit code of a run stopped by a signal (128 + SIGINT), as shells report it.
pub const EXIT_INTERRUPTED: u8 = crate::error::exit::INTERRUPTED;

static STOP: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// Whether the run has been asked to stop.
pub fn requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// Asks the run to stop, as the first Ctrl-C does.
fn request() {
    STOP.store(true, Ordering::Relaxed);
}

/// In the parent: the first SIGINT/SIGTERM asks the run to stop and forwards
/// SIGINT to every live worker; a second one kills the workers and exits 130.
/// Idempotent.
pub fn install_parent() {
    INSTALL.call_once(|| {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for _ in signals.forever() {
                    if requested() {
                        crate::sys::children::kill_and_reap_all();
                        eprintln!("{} twice: stopped at once.", crate::colour::interrupted());
                        std::process::exit(EXIT_INTERRUPTED as i32);
                    }
                    request();
                    eprintln!(
                        "{}: finishing the requests in flight and saving what finished \
                         (Ctrl-C again to stop at once).",
                        crate::colour::interrupted()
                    );
                    crate::sys::children::signal_all(libc::SIGINT);
                }
            });
    });
}

/// In a worker process: SIGINT (forwarded by the parent) asks it to stop
/// starting tasks; it still answers for every task it holds.
pub fn install_worker() {
    INSTALL.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT])
        else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for _ in signals.forever() {
                    request();
                }
            });
    });
}
