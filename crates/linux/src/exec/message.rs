//! Decoding proc connector datagrams (nlmsghdr + cn_msg + proc_event) into raw events.
//! Plain byte parsing, tested on hand-built datagrams.

use super::netlink::{CN_IDX_PROC, CN_VAL_PROC};
use netsnoop_core::ProcessEvent;

const NLMSG_HDR: usize = 16;
const CN_MSG_HDR: usize = 20;
/// what + cpu + timestamp_ns.
const PROC_EVENT_HDR: usize = 16;
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_OVERRUN: u16 = 4;

const EV_NONE: u32 = 0;
const EV_FORK: u32 = 1;
const EV_EXEC: u32 = 2;
const EV_UID: u32 = 4;
const EV_COMM: u32 = 0x200;
const EV_EXIT: u32 = 0x8000_0000;

/// A fork, exec or exit captured in the kernel, on its way to the enricher.
#[derive(Clone, Debug, PartialEq)]
pub struct Captured(pub Box<ProcessEvent>);

// ProcessEvent holds no floating point, so its equality is total.
impl Eq for Captured {}

/// One process event as the kernel sent it, thread events already dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawEvent {
    /// The answer to our subscription; `err` 0 means events will flow.
    Ack {
        err: u32,
    },
    Fork {
        ppid: u32,
        pid: u32,
    },
    Exec {
        pid: u32,
    },
    /// `code`: the exit status, or 128 + the signal that killed it.
    Exit {
        pid: u32,
        code: i32,
    },
    Comm {
        pid: u32,
        comm: String,
    },
    Uid {
        pid: u32,
        ruid: u32,
        euid: u32,
    },
    /// A thread's fork/exit/comm, or an event kind we do not use (sid, ptrace, gid…).
    Ignored,
    /// A fork, exec or exit captured whole in the kernel by the eBPF source: nothing needs
    /// reading from /proc.
    Captured(Captured),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMsg {
    pub cpu: u32,
    /// The per-CPU sequence number (cn_msg.seq): a gap means lost events.
    pub seq: u32,
    /// CLOCK_MONOTONIC nanoseconds when the kernel emitted it.
    pub ts_ns: u64,
    pub event: RawEvent,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("truncated proc connector message ({0} bytes)")]
    Truncated(usize),
    /// The kernel told us it dropped messages for this socket.
    #[error("netlink overrun")]
    Overrun,
}

/// Every message in one datagram (the kernel normally sends one per datagram).
pub fn decode(buf: &[u8]) -> Vec<Result<RawMsg, DecodeError>> {
    let mut out = Vec::new();
    let mut at = 0;
    while buf.len() - at >= NLMSG_HDR {
        let len = u32_at(buf, at) as usize;
        let kind = u16::from_ne_bytes([buf[at + 4], buf[at + 5]]);
        if len < NLMSG_HDR || at + len > buf.len() {
            out.push(Err(DecodeError::Truncated(buf.len() - at)));
            break;
        }
        match kind {
            NLMSG_NOOP | NLMSG_ERROR => {}
            NLMSG_OVERRUN => out.push(Err(DecodeError::Overrun)),
            _ => {
                if let Some(m) = decode_cn(&buf[at + NLMSG_HDR..at + len]) {
                    out.push(m);
                }
            }
        }
        at += (len + 3) & !3;
    }
    out
}

fn decode_cn(cn: &[u8]) -> Option<Result<RawMsg, DecodeError>> {
    if cn.len() < CN_MSG_HDR {
        return Some(Err(DecodeError::Truncated(cn.len())));
    }
    if u32_at(cn, 0) != CN_IDX_PROC || u32_at(cn, 4) != CN_VAL_PROC {
        return None;
    }
    let seq = u32_at(cn, 8);
    let data_len = u16::from_ne_bytes([cn[16], cn[17]]) as usize;
    let data = &cn[CN_MSG_HDR..];
    if data.len() < data_len.min(PROC_EVENT_HDR) || data.len() < PROC_EVENT_HDR {
        return Some(Err(DecodeError::Truncated(cn.len())));
    }
    let what = u32_at(data, 0);
    let cpu = u32_at(data, 4);
    let ts_ns = u64::from_ne_bytes(data[8..16].try_into().expect("8 bytes"));
    let body = &data[PROC_EVENT_HDR..];
    let need = match what {
        EV_NONE => 4,
        EV_FORK => 16,
        EV_EXEC => 8,
        EV_UID => 16,
        EV_COMM => 24,
        EV_EXIT => 16,
        _ => 0,
    };
    if body.len() < need {
        return Some(Err(DecodeError::Truncated(cn.len())));
    }
    let at = |i: usize| u32_at(body, i * 4);
    let event = match what {
        EV_NONE => RawEvent::Ack { err: at(0) },
        // fork: parent_pid, parent_tgid, child_pid, child_tgid
        EV_FORK if at(2) == at(3) => RawEvent::Fork {
            ppid: at(1),
            pid: at(3),
        },
        // exec: process_pid, process_tgid (exec makes the thread the leader)
        EV_EXEC => RawEvent::Exec { pid: at(1) },
        // exit: process_pid, process_tgid, exit_code, exit_signal
        EV_EXIT if at(0) == at(1) => RawEvent::Exit {
            pid: at(1),
            code: wait_status(at(2)),
        },
        EV_COMM if at(0) == at(1) => RawEvent::Comm {
            pid: at(1),
            comm: c_string(&body[8..24]),
        },
        EV_UID if at(0) == at(1) => RawEvent::Uid {
            pid: at(1),
            ruid: at(2),
            euid: at(3),
        },
        _ => RawEvent::Ignored,
    };
    Some(Ok(RawMsg {
        cpu,
        seq,
        ts_ns,
        event,
    }))
}

/// task->exit_code is a wait status: the exit code in bits 8–15, or the signal in 0–6.
fn wait_status(status: u32) -> i32 {
    let signal = (status & 0x7f) as i32;
    if signal == 0 {
        ((status >> 8) & 0xff) as i32
    } else {
        128 + signal
    }
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(buf[at..at + 4].try_into().expect("4 bytes"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A datagram as the kernel builds it, for tests here and in the reader.
    pub fn datagram(what: u32, cpu: u32, seq: u32, body: &[u32], tail: &[u8]) -> Vec<u8> {
        let mut data = Vec::new();
        data.extend_from_slice(&what.to_ne_bytes());
        data.extend_from_slice(&cpu.to_ne_bytes());
        data.extend_from_slice(&123_456_789u64.to_ne_bytes());
        for v in body {
            data.extend_from_slice(&v.to_ne_bytes());
        }
        data.extend_from_slice(tail);
        let mut cn = Vec::new();
        for v in [CN_IDX_PROC, CN_VAL_PROC, seq, 0] {
            cn.extend_from_slice(&v.to_ne_bytes());
        }
        cn.extend_from_slice(&(data.len() as u16).to_ne_bytes());
        cn.extend_from_slice(&0u16.to_ne_bytes());
        cn.extend_from_slice(&data);
        let mut m = Vec::new();
        m.extend_from_slice(&((16 + cn.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&3u16.to_ne_bytes());
        m.extend_from_slice(&[0u8; 10]);
        m.extend_from_slice(&cn);
        m
    }

    fn one(buf: &[u8]) -> RawMsg {
        let mut v = decode(buf);
        assert_eq!(v.len(), 1);
        v.remove(0).expect("decodes")
    }

    #[test]
    fn a_process_fork_names_the_parent_tgid_and_the_child() {
        let m = one(&datagram(EV_FORK, 1, 77, &[10, 10, 20, 20], &[]));
        assert_eq!((m.cpu, m.seq, m.ts_ns), (1, 77, 123_456_789));
        assert_eq!(m.event, RawEvent::Fork { ppid: 10, pid: 20 });
    }

    #[test]
    fn a_thread_fork_is_ignored_because_it_is_no_new_process() {
        let m = one(&datagram(EV_FORK, 0, 1, &[10, 10, 21, 20], &[]));
        assert_eq!(m.event, RawEvent::Ignored);
    }

    #[test]
    fn exits_carry_the_exit_status_or_128_plus_the_signal() {
        let m = one(&datagram(EV_EXIT, 0, 1, &[5, 5, 3 << 8, 17, 1, 1], &[]));
        assert_eq!(m.event, RawEvent::Exit { pid: 5, code: 3 });
        let m = one(&datagram(EV_EXIT, 0, 2, &[5, 5, 9, 17, 1, 1], &[]));
        assert_eq!(m.event, RawEvent::Exit { pid: 5, code: 137 });
    }

    #[test]
    fn a_comm_change_keeps_awkward_names_intact() {
        let mut comm = [0u8; 16];
        comm[..7].copy_from_slice(b"x) (y\x1b[");
        let m = one(&datagram(EV_COMM, 0, 1, &[8, 8], &comm));
        assert_eq!(
            m.event,
            RawEvent::Comm {
                pid: 8,
                comm: "x) (y\u{1b}[".into()
            }
        );
    }

    #[test]
    fn the_subscription_ack_and_truncated_messages_are_told_apart() {
        assert_eq!(
            one(&datagram(EV_NONE, 0, 0, &[0], &[])).event,
            RawEvent::Ack { err: 0 }
        );
        let mut short = datagram(EV_EXEC, 0, 1, &[8, 8], &[]);
        short.truncate(short.len() - 4);
        let len = short.len() as u32;
        short[0..4].copy_from_slice(&len.to_ne_bytes());
        assert!(matches!(decode(&short)[0], Err(DecodeError::Truncated(_))));
    }
}
