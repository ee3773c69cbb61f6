//! Synthetic frames (Ethernet + IPv4/IPv6 + TCP/UDP/ICMP, and ARP) for tests, fixtures
//! and the benchmark generator. Built with etherparse, checksums included.

use etherparse::{Icmpv4Type, PacketBuilder, TcpHeader, icmpv4};
use std::net::Ipv4Addr;

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0xa];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0xb];

fn v4(ip: Ipv4Addr) -> [u8; 4] {
    ip.octets()
}

/// An Ethernet/IPv4/TCP frame with the given flag bits and `payload_len` zero bytes.
pub fn tcp(
    src: Ipv4Addr,
    sport: u16,
    dst: Ipv4Addr,
    dport: u16,
    flags: u8,
    payload_len: usize,
) -> Vec<u8> {
    let mut h = TcpHeader::new(sport, dport, 1000, 64240);
    h.fin = flags & 0x01 != 0;
    h.syn = flags & 0x02 != 0;
    h.rst = flags & 0x04 != 0;
    h.psh = flags & 0x08 != 0;
    h.ack = flags & 0x10 != 0;
    h.urg = flags & 0x20 != 0;
    if h.ack {
        h.acknowledgment_number = 1;
    }
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(v4(src), v4(dst), 64)
        .tcp_header(h);
    let payload = vec![0u8; payload_len];
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, &payload).expect("vec write");
    out
}

pub fn udp(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, payload_len: usize) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(v4(src), v4(dst), 64)
        .udp(sport, dport);
    let payload = vec![0u8; payload_len];
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, &payload).expect("vec write");
    out
}

pub fn udp6(src: [u8; 16], sport: u16, dst: [u8; 16], dport: u16, payload_len: usize) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv6(src, dst, 64)
        .udp(sport, dport);
    let payload = vec![0u8; payload_len];
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, &payload).expect("vec write");
    out
}

/// ICMP echo request (`reply = false`) or reply.
pub fn ping(src: Ipv4Addr, dst: Ipv4Addr, reply: bool) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B).ipv4(v4(src), v4(dst), 64);
    let b = if reply {
        b.icmpv4_echo_reply(7, 1)
    } else {
        b.icmpv4_echo_request(7, 1)
    };
    let mut out = Vec::new();
    b.write(&mut out, b"netsnoop").expect("vec write");
    out
}

/// `from` reports that the UDP datagram `to:sport -> from:dport` hit a closed port.
pub fn port_unreachable(from: Ipv4Addr, to: Ipv4Addr, sport: u16, dport: u16) -> Vec<u8> {
    let probe = udp(to, sport, from, dport, 0);
    let quoted = &probe[14..14 + 28];
    let b = PacketBuilder::ethernet2(MAC_B, MAC_A)
        .ipv4(v4(from), v4(to), 64)
        .icmpv4(Icmpv4Type::DestinationUnreachable(
            icmpv4::DestUnreachableHeader::Port,
        ));
    let mut out = Vec::new();
    b.write(&mut out, quoted).expect("vec write");
    out
}

/// An ARP request: who has `target`? tell `sender`.
pub fn arp(sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut f = Vec::with_capacity(42);
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&sender.octets());
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&target.octets());
    f
}
