//! This process among others: where the concbench executable is (to
//! re-execute it as a hidden worker or server), dying with the parent, and
//! the open-files limit.

use std::path::PathBuf;

use anyhow::Context;

/// Environment variable naming the concbench executable to re-execute for the
/// embedded server and workers. Needed where `current_exe()` is not concbench
/// (a `cargo test` or `cargo bench` binary); set it to `CARGO_BIN_EXE_concbench`.
pub const EXE_ENV: &str = "CONCBENCH_EXE";

/// The concbench executable to re-execute as a hidden child.
pub fn concbench_exe() -> anyhow::Result<PathBuf> {
    match std::env::var_os(EXE_ENV) {
        Some(p) => Ok(PathBuf::from(p)),
        None => std::env::current_exe()
            .context("cannot locate the concbench executable; set CONCBENCH_EXE"),
    }
}

/// Asks the kernel to SIGKILL this process when its parent dies; returns
/// false if the parent is already gone.
pub fn die_with_parent() -> bool {
    let parent = std::os::unix::process::parent_id();
    // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag on this process.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    std::os::unix::process::parent_id() == parent
}

/// This process's soft limit of open files.
pub fn open_files_limit() -> u64 {
    rlimit::Resource::NOFILE
        .get()
        .map(|(soft, _)| soft)
        .unwrap_or(0)
}

/// How a reaped child ended and what it used, from the kernel.
#[derive(Debug, Clone, Copy)]
pub struct Reaped {
    pub status: std::process::ExitStatus,
    /// Its whole life: exec, start-up and exit included, which its own
    /// report (read before it exits) cannot see.
    pub usage: crate::sys::rusage::Usage,
}

/// Reaps child `pid` with `wait4`: `None` while it runs (unless `block`,
/// which waits for it). An error means it is not our child to reap (already
/// reaped, or never ours).
pub fn reap(pid: u32, block: bool) -> std::io::Result<Option<Reaped>> {
    use std::os::unix::process::ExitStatusExt;
    let mut status = 0;
    // SAFETY: wait4 writes into the status and the zeroed rusage we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let flags = if block { 0 } else { libc::WNOHANG };
    let got = loop {
        let got = unsafe { libc::wait4(pid as i32, &mut status, flags, &mut ru) };
        if got == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break got;
    };
    match got {
        -1 => Err(std::io::Error::last_os_error()),
        0 => Ok(None),
        _ => Ok(Some(Reaped {
            status: std::process::ExitStatus::from_raw(status),
            usage: crate::sys::rusage::Usage::from_rusage(&ru),
        })),
    }
}

/// Pids of `root` and every process below it (children, their children, ...),
/// from `/proc/<pid>/task/<tid>/children`; `root` alone where that file is
/// missing. Bounded: a process tree is finite and each pid is visited once.
pub fn process_tree(root: u32) -> Vec<u32> {
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let pid = tree[i];
        i += 1;
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let Ok(list) = std::fs::read_to_string(task.path().join("children")) else {
                continue;
            };
            for child in list.split_whitespace().filter_map(|c| c.parse().ok()) {
                if !tree.contains(&child) {
                    tree.push(child);
                }
            }
        }
    }
    tree
}

/// Resident set of process `pid` now, in bytes (`/proc/<pid>/statm`); `None` once it is gone.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        p if p > 0 => p as u64,
        _ => 4096,
    };
    Some(pages * page)
}
