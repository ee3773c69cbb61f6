//! Waiting for a capture descriptor to become readable, with a timeout. libpcap's own
//! read timeout may never fire when no packet arrives (TPACKET_V3), which would leave a
//! capture thread deaf to its stop flag; a non-blocking handle plus poll(2) cannot hang.

use std::os::fd::RawFd;
use std::time::Duration;

/// Returns when `fd` is readable or `timeout` has passed (or on a signal).
pub fn readable(fd: RawFd, timeout: Duration) {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `pfd` is a valid, initialized pollfd that lives across the call, and we
    // pass a count of exactly 1. poll(2) only writes `revents`. An invalid fd is reported
    // in `revents` (POLLNVAL), not undefined behaviour.
    unsafe {
        libc::poll(&mut pfd, 1, ms);
    }
}
