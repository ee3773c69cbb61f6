//! Network and transport layers: IPv4, IPv6 (extension headers), ARP, TCP, UDP, ICMP and
//! ICMPv6 including the header quoted inside error messages.

use super::ether_type::{ARP, IPV4, IPV6};
use crate::net::packet::{ArpInfo, IcmpInfo, PacketMeta, Protocol, QuotedHeader};
use etherparse::{ArpPacketSlice, LaxIpSlice};
use std::net::{IpAddr, Ipv4Addr};

const IPPROTO_ICMP: u8 = 1;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ICMPV6: u8 = 58;

pub(super) fn parse_l3(ether_type: u16, data: &[u8], meta: &mut PacketMeta) {
    match ether_type {
        IPV4 | IPV6 => ip(data, meta),
        ARP => arp(data, meta),
        _ => {}
    }
}

fn arp(data: &[u8], meta: &mut PacketMeta) {
    meta.protocol = Protocol::Arp;
    let Ok(arp) = ArpPacketSlice::from_slice(data) else {
        return;
    };
    if let (Some(s), Some(t)) = (
        ipv4_of(arp.sender_protocol_addr()),
        ipv4_of(arp.target_protocol_addr()),
    ) {
        meta.src_ip = Some(s);
        meta.dst_ip = Some(t);
    }
    if let (Ok(sender_mac), Ok(target_mac)) = (
        <[u8; 6]>::try_from(arp.sender_hw_addr()),
        <[u8; 6]>::try_from(arp.target_hw_addr()),
    ) {
        meta.arp = Some(ArpInfo {
            op: arp.operation().0,
            sender_mac,
            target_mac,
        });
    }
}

fn ipv4_of(bytes: &[u8]) -> Option<IpAddr> {
    let b: [u8; 4] = bytes.try_into().ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(b)))
}

/// The IP header itself, and whether its payload starts with a transport header
/// (false for non-first fragments).
struct IpView<'a> {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    total_len: u32,
    payload: &'a [u8],
    has_l4_header: bool,
}

fn ip_view(data: &[u8]) -> Option<IpView<'_>> {
    let (slice, _ext_err) = LaxIpSlice::from_slice(data).ok()?;
    let payload = slice.payload();
    let (total_len, has_l4_header) = match &slice {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            (u32::from(h.total_len()), h.fragments_offset().value() == 0)
        }
        LaxIpSlice::Ipv6(v6) => {
            // Payload length excludes the 40-byte fixed header. A fragmented IPv6
            // payload is only read when it is the first fragment.
            let len = u32::from(v6.header().payload_length()) + 40;
            let first = !payload.fragmented || ipv6_first_fragment(v6);
            (len, first)
        }
    };
    Some(IpView {
        src: slice.source_addr(),
        dst: slice.destination_addr(),
        proto: payload.ip_number.0,
        total_len,
        payload: payload.payload,
        has_l4_header,
    })
}

/// Whether an IPv6 packet with a fragment header is the first fragment (offset 0).
fn ipv6_first_fragment(v6: &etherparse::LaxIpv6Slice<'_>) -> bool {
    v6.extensions()
        .clone()
        .into_iter()
        .find_map(|ext| match ext {
            etherparse::Ipv6ExtensionSlice::Fragment(f) => Some(f.fragment_offset().value() == 0),
            _ => None,
        })
        .unwrap_or(false)
}

fn ip(data: &[u8], meta: &mut PacketMeta) {
    let Some(view) = ip_view(data) else {
        return;
    };
    meta.src_ip = Some(view.src);
    meta.dst_ip = Some(view.dst);
    meta.ip_len = view.total_len;
    let l4 = view.payload;
    match view.proto {
        IPPROTO_TCP => {
            meta.protocol = Protocol::Tcp;
            if view.has_l4_header {
                ports(l4, meta);
                meta.tcp_flags = l4.get(13).copied().unwrap_or(0);
            }
        }
        IPPROTO_UDP => {
            meta.protocol = Protocol::Udp;
            if view.has_l4_header {
                ports(l4, meta);
            }
        }
        IPPROTO_ICMP => {
            meta.protocol = Protocol::Icmp;
            if view.has_l4_header {
                meta.icmp = icmp(l4, false);
            }
        }
        IPPROTO_ICMPV6 => {
            meta.protocol = Protocol::Icmpv6;
            if view.has_l4_header {
                meta.icmp = icmp(l4, true);
            }
        }
        _ => meta.protocol = Protocol::Other,
    }
}

fn ports(l4: &[u8], meta: &mut PacketMeta) {
    if let Some(p) = l4.get(..4) {
        meta.src_port = u16::from_be_bytes([p[0], p[1]]);
        meta.dst_port = u16::from_be_bytes([p[2], p[3]]);
    }
}

/// ICMP error types whose body quotes the offending packet's IP header and first 8 bytes.
fn is_error(icmp_type: u8, v6: bool) -> bool {
    if v6 {
        matches!(icmp_type, 1..=4)
    } else {
        matches!(icmp_type, 3 | 4 | 5 | 11 | 12)
    }
}

fn icmp(l4: &[u8], v6: bool) -> Option<IcmpInfo> {
    let (&icmp_type, &code) = (l4.first()?, l4.get(1)?);
    let quoted = if is_error(icmp_type, v6) {
        l4.get(8..).and_then(quoted_header)
    } else {
        None
    };
    Some(IcmpInfo {
        icmp_type,
        code,
        quoted,
    })
}

fn quoted_header(inner: &[u8]) -> Option<QuotedHeader> {
    let view = ip_view(inner)?;
    let protocol = match view.proto {
        IPPROTO_TCP => Protocol::Tcp,
        IPPROTO_UDP => Protocol::Udp,
        IPPROTO_ICMP => Protocol::Icmp,
        IPPROTO_ICMPV6 => Protocol::Icmpv6,
        _ => Protocol::Other,
    };
    let mut q = QuotedHeader {
        src_ip: view.src,
        dst_ip: view.dst,
        protocol,
        src_port: 0,
        dst_port: 0,
    };
    if protocol == Protocol::Other {
        // No ports to quote: the IP protocol number stands in for the destination
        // port, which is what tells an IP protocol scan's refusals apart.
        q.dst_port = u16::from(view.proto);
    }
    if matches!(protocol, Protocol::Tcp | Protocol::Udp)
        && view.has_l4_header
        && let Some(p) = view.payload.get(..4)
    {
        q.src_port = u16::from_be_bytes([p[0], p[1]]);
        q.dst_port = u16::from_be_bytes([p[2], p[3]]);
    }
    Some(q)
}
