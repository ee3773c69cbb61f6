//! The byte layout of one ring-buffer record written by bpf/sock.bpf.c, and its parser.
//! Parsed field by field from little-endian bytes, so a short record is an error to count.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use thiserror::Error;

/// `sizeof(struct sock_event)`, pinned on the C side by a static assertion.
pub const RECORD_LEN: usize = 88;

const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawSockKind {
    Connect,
    Accept,
    UdpSend,
    Listen,
    Close,
}

/// One record as the kernel side wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSock {
    pub kind: RawSockKind,
    pub tcp: bool,
    /// Thread-group id; 0 for a close (no process context).
    pub pid: u32,
    pub uid: u32,
    pub netns: u32,
    /// CLOCK_BOOTTIME, nanoseconds.
    pub time_ns: u64,
    pub cgroup_id: u64,
    pub local: IpAddr,
    pub local_port: u16,
    pub remote: IpAddr,
    pub remote_port: u16,
    /// The thread-group leader's comm.
    pub comm: String,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SockWireError {
    #[error("record of {0} bytes, expected {RECORD_LEN}")]
    Length(usize),
    #[error("unknown record kind {0}")]
    Kind(u8),
    #[error("unknown address family {0}")]
    Family(u8),
    #[error("unknown protocol {0}")]
    Protocol(u8),
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn addr(family: u8, b: &[u8]) -> IpAddr {
    let octets: [u8; 16] = b.try_into().expect("16 bytes");
    if family == AF_INET {
        IpAddr::V4(Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]))
    } else {
        // A v4-mapped address (a dual-stack socket talking IPv4) is the IPv4 host.
        IpAddr::V6(Ipv6Addr::from(octets)).to_canonical()
    }
}

pub fn parse(b: &[u8]) -> Result<RawSock, SockWireError> {
    if b.len() < RECORD_LEN {
        return Err(SockWireError::Length(b.len()));
    }
    let kind = match b[0] {
        1 => RawSockKind::Connect,
        2 => RawSockKind::Accept,
        3 => RawSockKind::UdpSend,
        4 => RawSockKind::Listen,
        5 => RawSockKind::Close,
        k => return Err(SockWireError::Kind(k)),
    };
    let family = b[1];
    if family != AF_INET && family != AF_INET6 {
        return Err(SockWireError::Family(family));
    }
    let tcp = match b[2] {
        IPPROTO_TCP => true,
        IPPROTO_UDP => false,
        p => return Err(SockWireError::Protocol(p)),
    };
    let comm = &b[72..88];
    let end = comm.iter().position(|&c| c == 0).unwrap_or(comm.len());
    Ok(RawSock {
        kind,
        tcp,
        pid: u32_at(b, 4),
        uid: u32_at(b, 8),
        netns: u32_at(b, 12),
        time_ns: u64_at(b, 16),
        cgroup_id: u64_at(b, 24),
        local: addr(family, &b[32..48]),
        remote: addr(family, &b[48..64]),
        local_port: u16_at(b, 64),
        remote_port: u16_at(b, 66),
        comm: String::from_utf8_lossy(&comm[..end]).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: u8, family: u8) -> Vec<u8> {
        let mut b = vec![0u8; RECORD_LEN];
        b[0] = kind;
        b[1] = family;
        b[2] = IPPROTO_TCP;
        b[4..8].copy_from_slice(&4242u32.to_le_bytes());
        b[8..12].copy_from_slice(&1000u32.to_le_bytes());
        b[12..16].copy_from_slice(&4026531840u32.to_le_bytes());
        b[16..24].copy_from_slice(&5_000_000u64.to_le_bytes());
        b[24..32].copy_from_slice(&99u64.to_le_bytes());
        b[32..36].copy_from_slice(&[127, 0, 0, 1]);
        b[48..52].copy_from_slice(&[10, 0, 0, 2]);
        b[64..66].copy_from_slice(&40000u16.to_le_bytes());
        b[66..68].copy_from_slice(&443u16.to_le_bytes());
        b[72..76].copy_from_slice(b"curl");
        b
    }

    #[test]
    fn a_connect_record_parses_to_its_tuple_and_process() {
        let r = parse(&record(1, AF_INET)).unwrap();
        assert_eq!(r.kind, RawSockKind::Connect);
        assert_eq!(
            (r.pid, r.uid, r.netns, r.cgroup_id),
            (4242, 1000, 4026531840, 99)
        );
        assert_eq!(r.local, "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(r.remote, "10.0.0.2".parse::<IpAddr>().unwrap());
        assert_eq!((r.local_port, r.remote_port), (40000, 443));
        assert_eq!(r.comm, "curl");
    }

    #[test]
    fn a_v4_mapped_ipv6_address_reads_as_ipv4() {
        let mut b = record(2, AF_INET6);
        b[32..48].copy_from_slice(&"::ffff:127.0.0.1".parse::<Ipv6Addr>().unwrap().octets());
        assert_eq!(
            parse(&b).unwrap().local,
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn short_or_unknown_records_are_errors() {
        assert_eq!(parse(&[1, 2, 3]), Err(SockWireError::Length(3)));
        assert_eq!(parse(&record(9, AF_INET)), Err(SockWireError::Kind(9)));
        assert_eq!(parse(&record(1, 1)), Err(SockWireError::Family(1)));
    }
}
