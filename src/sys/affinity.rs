//! Which cores this process may run on, and pinning a thread to one of
//! them (`sched_setaffinity`), for thread-per-core models.

/// The cores this process may run on, by number (empty if unknown).
pub fn allowed_cores() -> Vec<usize> {
    // SAFETY: sched_getaffinity writes into the zeroed set we own.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let ok =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if ok != 0 {
        return Vec::new();
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: CPU_ISSET reads the set we own, within CPU_SETSIZE.
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}

/// Pins the calling thread to core `core`; false where that is not allowed
/// (a container's CPU mask, a seccomp policy), and the thread runs unpinned.
pub fn pin_current_thread(core: usize) -> bool {
    // SAFETY: a zeroed set with one bit set, handed to sched_setaffinity for
    // the calling thread (pid 0).
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    unsafe { libc::CPU_SET(core, &mut set) };
    unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_can_be_pinned_to_a_core_this_process_may_use() {
        let cores = allowed_cores();
        assert!(!cores.is_empty());
        let core = *cores.last().unwrap();
        let pinned =
            std::thread::spawn(move || pin_current_thread(core) && allowed_cores() == [core])
                .join()
                .unwrap();
        assert!(pinned);
    }
}
