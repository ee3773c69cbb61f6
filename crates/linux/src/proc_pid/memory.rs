//! A process's argument strings read straight from its memory with process_vm_readv(2):
//! one system call instead of opening, reading and closing /proc/PID/cmdline, which in an
//! exec storm is a large share of the enricher's work.

use std::io;

/// Larger argument areas are left to /proc/PID/cmdline, which reads them in pieces.
const MAX_ARGS: u64 = 1 << 20;

/// What reading the argument area gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Args {
    /// The NUL-separated arguments, as /proc/PID/cmdline would give them.
    Read(Vec<u8>),
    /// The process has exited (its memory is gone).
    Gone,
    /// A security module or a missing capability refused: every later read would be
    /// refused too, and may be logged each time, so the caller should stop asking.
    Denied,
    /// Not readable this way (a title rewritten past the area's end, an area too large,
    /// another error): read /proc/PID/cmdline instead.
    Unavailable,
}

/// Reads `[start, end)` of `pid`'s memory: the range /proc/PID/stat gives as arg_start and
/// arg_end. The caller has just read that stat through an open /proc/PID directory, so the
/// pid names the same process unless the kernel handed it to a new one in between, which
/// takes every other pid being allocated first.
pub fn read_args(pid: u32, (start, end): (u64, u64)) -> Args {
    let len = end.saturating_sub(start);
    if len == 0 || len > MAX_ARGS {
        return Args::Unavailable;
    }
    let mut buf = vec![0u8; len as usize];
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: start as usize as *mut libc::c_void,
        iov_len: len as usize,
    };
    // SAFETY: `local` describes `buf`, which is writable for its whole length and outlives
    // the call; `remote` is only an address range in the other process, which the kernel
    // checks and never dereferences in ours.
    let got = unsafe { libc::process_vm_readv(pid as libc::pid_t, &local, 1, &remote, 1, 0) };
    if got < 0 {
        return match io::Error::last_os_error().raw_os_error() {
            Some(libc::ESRCH) => Args::Gone,
            Some(libc::EPERM | libc::EACCES) => Args::Denied,
            _ => Args::Unavailable,
        };
    }
    // A program that rewrote its title may have run over the end of the area; the kernel's
    // cmdline follows it there, so only an area ending in NUL is taken as it is.
    if got as u64 != len || buf.last() != Some(&0) {
        return Args::Unavailable;
    }
    Args::Read(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proc_pid::parse::parse_stat;
    use crate::proc_pid::test_support::{as_nobody, sleeper, wait_for_exec};

    fn args_of(pid: u32) -> (u64, u64) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        parse_stat(&stat)
            .unwrap()
            .args
            .expect("own process: permitted")
    }

    #[test]
    fn a_live_processs_arguments_match_its_cmdline() {
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "sleep 5; :", "a b", ""])
            .spawn()
            .unwrap();
        let pid = child.id();
        let want = b"/bin/sh\0-c\0sleep 5; :\0a b\0\0".to_vec();
        wait_for_exec(pid, &want);
        assert_eq!(read_args(pid, args_of(pid)), Args::Read(want));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(
            read_args(pid, (1 << 20, (1 << 20) + 8)),
            Args::Gone,
            "reaped"
        );
    }

    #[test]
    fn a_reader_without_the_right_to_trace_is_denied() {
        let mut child = sleeper();
        let pid = child.id();
        let range = args_of(pid);
        let got = as_nobody(move || read_args(pid, range));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(got, Args::Denied);
    }

    #[test]
    fn an_empty_or_huge_range_is_left_to_proc() {
        let me = std::process::id();
        assert_eq!(read_args(me, (100, 100)), Args::Unavailable);
        assert_eq!(read_args(me, (0, MAX_ARGS + 1)), Args::Unavailable);
    }

    #[test]
    fn a_range_not_ending_in_nul_is_left_to_proc() {
        let text = b"title without its nul";
        let start = text.as_ptr() as u64;
        let got = read_args(std::process::id(), (start, start + text.len() as u64));
        assert_eq!(got, Args::Unavailable);
    }
}
