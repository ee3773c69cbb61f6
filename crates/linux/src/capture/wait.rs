//! Waiting for a capture descriptor to become readable, with a timeout. libpcap's own
//! read timeout may never fire when no packet arrives (TPACKET_V3), which would leave a
//! capture thread deaf to its stop flag; a non-blocking handle plus poll(2) cannot hang.

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::os::fd::BorrowedFd;
use std::time::Duration;

/// Returns when `fd` is readable or `timeout` has passed (or on a signal). An error (an
/// invalid fd, EINTR) also returns: the caller's next read reports what is wrong.
pub fn readable(fd: BorrowedFd<'_>, timeout: Duration) {
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    let ms = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
    let _ = poll(&mut fds, ms);
}
