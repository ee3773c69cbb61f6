//! Scripted packets for the network stages' unit tests.

use super::packet::{IcmpInfo, PacketMeta, Protocol, QuotedHeader};
use crate::Ts;
use std::net::IpAddr;

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

pub fn tcp(t: Ts, src: &str, sport: u16, dst: &str, dport: u16, flags: u8) -> PacketMeta {
    PacketMeta {
        time: t,
        src_ip: Some(ip(src)),
        dst_ip: Some(ip(dst)),
        src_port: sport,
        dst_port: dport,
        protocol: Protocol::Tcp,
        tcp_flags: flags,
        wire_len: 60,
        ip_len: 40,
        ..PacketMeta::default()
    }
}

pub fn udp(t: Ts, src: &str, sport: u16, dst: &str, dport: u16) -> PacketMeta {
    PacketMeta {
        protocol: Protocol::Udp,
        tcp_flags: 0,
        ..tcp(t, src, sport, dst, dport, 0)
    }
}

pub fn icmp(t: Ts, src: &str, dst: &str, icmp_type: u8, code: u8) -> PacketMeta {
    PacketMeta {
        protocol: Protocol::Icmp,
        src_port: 0,
        dst_port: 0,
        icmp: Some(IcmpInfo {
            icmp_type,
            code,
            quoted: None,
        }),
        ..tcp(t, src, 0, dst, 0, 0)
    }
}

/// `from` says `to` hit a closed UDP port: quotes to's probe `to:sport -> from:dport`.
pub fn port_unreachable(t: Ts, from: &str, to: &str, sport: u16, dport: u16) -> PacketMeta {
    let mut m = icmp(t, from, to, 3, 3);
    if let Some(i) = m.icmp.as_mut() {
        i.quoted = Some(QuotedHeader {
            src_ip: ip(to),
            dst_ip: ip(from),
            protocol: Protocol::Udp,
            src_port: sport,
            dst_port: dport,
        });
    }
    m
}

/// An ARP packet from `sender` about `target` (request or reply: only the addresses show).
pub fn arp(t: Ts, sender: &str, target: &str) -> PacketMeta {
    PacketMeta {
        protocol: Protocol::Arp,
        ..tcp(t, sender, 0, target, 0, 0)
    }
}

/// `from` says it does not speak IP protocol `proto` that `to` sent it.
pub fn proto_unreachable(t: Ts, from: &str, to: &str, proto: u8) -> PacketMeta {
    let mut m = icmp(t, from, to, 3, 2);
    if let Some(i) = m.icmp.as_mut() {
        i.quoted = Some(QuotedHeader {
            src_ip: ip(to),
            dst_ip: ip(from),
            protocol: Protocol::Other,
            src_port: 0,
            dst_port: u16::from(proto),
        });
    }
    m
}
