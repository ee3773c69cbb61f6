//! Raising the exec source's own threads above the workload they watch, so a storm of
//! short-lived processes cannot starve the thread that reads their argv.

use std::io;

/// Sets the calling thread's niceness (negative = more CPU share). Needs root or
/// CAP_SYS_NICE; the caller decides what to do when refused.
pub fn set_thread_nice(nice: i32) -> io::Result<()> {
    let tid = nix::unistd::gettid().as_raw() as libc::id_t;
    // SAFETY: setpriority(2) takes plain integers (which, who, value) and touches no
    // memory of ours; on Linux PRIO_PROCESS with a thread id applies to that thread only.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, nice) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
