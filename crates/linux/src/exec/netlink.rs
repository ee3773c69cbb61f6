//! The netlink proc connector socket: open, size the receive buffer, subscribe, receive.
//! The only `unsafe` of the exec source lives here.

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    MsgFlags, NetlinkAddr, bind, getsockopt, recv, send, setsockopt,
    sockopt::{RcvBuf, RcvBufForce, ReceiveTimeout},
};
use nix::sys::time::TimeVal;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// `CN_IDX_PROC`: the connector index (and multicast group) of process events.
pub const CN_IDX_PROC: u32 = 1;
/// `CN_VAL_PROC`.
pub const CN_VAL_PROC: u32 = 1;
const PROC_CN_MCAST_LISTEN: u32 = 1;
const NLMSG_DONE: u16 = 3;

/// How the receive buffer ended up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferSize {
    /// SO_RCVBUFFORCE worked (privileged); otherwise SO_RCVBUF, capped by rmem_max.
    pub forced: bool,
    /// What the kernel reports now (it doubles the request for bookkeeping).
    pub bytes: usize,
}

pub struct ConnectorSocket {
    fd: OwnedFd,
}

impl ConnectorSocket {
    /// Opens and binds a proc connector socket. The kernel picks the port id, so several
    /// sockets can live in one process (tests, the benchmark).
    pub fn open(receive_buffer: usize) -> io::Result<(ConnectorSocket, BufferSize)> {
        // SAFETY: socket(2) takes only integers and returns a new descriptor or -1; no
        // memory is shared with the kernel.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                libc::NETLINK_CONNECTOR,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a descriptor socket(2) just returned to us; nothing else owns it,
        // so OwnedFd may close it on drop.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let forced = setsockopt(&fd, RcvBufForce, &receive_buffer).is_ok();
        if !forced {
            setsockopt(&fd, RcvBuf, &receive_buffer).map_err(io::Error::from)?;
        }
        let bytes = getsockopt(&fd, RcvBuf).map_err(io::Error::from)?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, CN_IDX_PROC)).map_err(io::Error::from)?;
        Ok((ConnectorSocket { fd }, BufferSize { forced, bytes }))
    }

    /// Asks for every process event. The kernel answers with an ack event.
    pub fn subscribe(&self) -> io::Result<()> {
        self.control(PROC_CN_MCAST_LISTEN)
    }

    /// Makes `recv` give up with `WouldBlock` after `timeout`, so the reader can notice a
    /// stop request.
    pub fn set_timeout(&self, timeout: Duration) -> io::Result<()> {
        let tv = TimeVal::new(timeout.as_secs() as _, timeout.subsec_micros() as _);
        setsockopt(&self.fd, ReceiveTimeout, &tv).map_err(io::Error::from)
    }

    /// One datagram. ENOBUFS (events dropped by the kernel) comes back as an error.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        recv(self.fd.as_raw_fd(), buf, MsgFlags::empty()).map_err(io::Error::from)
    }

    /// One datagram if one is queued, else `WouldBlock` at once.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        recv(self.fd.as_raw_fd(), buf, MsgFlags::MSG_DONTWAIT).map_err(io::Error::from)
    }

    /// Waits up to `timeout` for a datagram (or an error) to be queued; false on timeout.
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        let ms = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, ms) {
            Ok(n) => Ok(n > 0),
            Err(nix::errno::Errno::EINTR) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn control(&self, op: u32) -> io::Result<()> {
        let msg = control_message(op);
        send(self.fd.as_raw_fd(), &msg, MsgFlags::empty()).map_err(io::Error::from)?;
        Ok(())
    }
}

/// nlmsghdr (16 bytes) + cn_msg (20 bytes) + the 4-byte operation.
fn control_message(op: u32) -> Vec<u8> {
    let total: u32 = 16 + 20 + 4;
    let mut m = Vec::with_capacity(total as usize);
    m.extend_from_slice(&total.to_ne_bytes());
    m.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    m.extend_from_slice(&0u16.to_ne_bytes()); // flags
    m.extend_from_slice(&0u32.to_ne_bytes()); // seq
    m.extend_from_slice(&std::process::id().to_ne_bytes());
    m.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    m.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // seq
    m.extend_from_slice(&0u32.to_ne_bytes()); // ack
    m.extend_from_slice(&4u16.to_ne_bytes()); // len
    m.extend_from_slice(&0u16.to_ne_bytes()); // flags
    m.extend_from_slice(&op.to_ne_bytes());
    m
}
