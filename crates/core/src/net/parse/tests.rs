//! Parser tests on hand-built frames for every supported link and protocol, plus truncated
//! and garbage input.

use super::*;
use crate::net::packet::tcp_flags::{ACK, FIN, PSH, SYN, URG};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const T: Ts = Ts(1_700_000_000_000_000);

fn eth(ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    f.extend_from_slice(&ether_type.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(payload);
    h
}

fn ipv6(next: u8, src: Ipv6Addr, dst: Ipv6Addr, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    h.extend_from_slice(payload);
    h
}

fn tcp(sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t
}

fn udp(sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(data);
    u
}

fn icmp_msg(t: u8, code: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![t, code, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(body);
    m
}

const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];

fn ip4(a: [u8; 4]) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::from(a)))
}

fn p(link: LinkType, frame: &[u8]) -> PacketMeta {
    parse(link, frame, frame.len() as u32, T, 0)
}

#[test]
fn an_ethernet_tcp_syn_gives_addresses_ports_and_flags() {
    let f = eth(0x0800, &ipv4(6, A, B, &tcp(40000, 22, SYN)));
    let m = p(LinkType::Ethernet, &f);
    assert_eq!(m.protocol, Protocol::Tcp);
    assert_eq!((m.src_ip, m.dst_ip), (ip4(A), ip4(B)));
    assert_eq!((m.src_port, m.dst_port), (40000, 22));
    assert_eq!(m.tcp_flags, SYN);
    assert_eq!(m.ip_len, 40);
    assert_eq!(m.wire_len, 54);
    assert_eq!(m.time, T);
}

#[test]
fn xmas_flags_are_kept_as_on_the_wire() {
    let f = eth(0x0800, &ipv4(6, A, B, &tcp(1, 2, FIN | PSH | URG)));
    assert_eq!(p(LinkType::Ethernet, &f).tcp_flags, FIN | PSH | URG);
}

#[test]
fn vlan_and_double_vlan_tags_are_unwrapped() {
    let inner = ipv4(17, A, B, &udp(5353, 53, b"q"));
    let mut one = vec![0, 5, 0x08, 0x00];
    one.extend_from_slice(&inner);
    let m = p(LinkType::Ethernet, &eth(0x8100, &one));
    assert_eq!((m.protocol, m.dst_port), (Protocol::Udp, 53));

    let mut two = vec![0, 7, 0x81, 0x00, 0, 5, 0x08, 0x00];
    two.extend_from_slice(&inner);
    let m = p(LinkType::Ethernet, &eth(0x88A8, &two));
    assert_eq!(
        (m.protocol, m.src_port, m.dst_port),
        (Protocol::Udp, 5353, 53)
    );
}

#[test]
fn linux_cooked_captures_v1_and_v2_are_read() {
    let ip = ipv4(17, A, B, &udp(1000, 2000, b""));
    let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    sll.extend_from_slice(&0x0800u16.to_be_bytes());
    sll.extend_from_slice(&ip);
    let m = p(LinkType::LinuxSll, &sll);
    assert_eq!(
        (m.protocol, m.src_port, m.dst_ip),
        (Protocol::Udp, 1000, ip4(B))
    );

    let mut sll2 = 0x0800u16.to_be_bytes().to_vec();
    sll2.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    sll2.extend_from_slice(&ip);
    let m = p(LinkType::LinuxSll2, &sll2);
    assert_eq!(
        (m.protocol, m.dst_port, m.src_ip),
        (Protocol::Udp, 2000, ip4(A))
    );
}

#[test]
fn raw_ip_and_bsd_loopback_frames_are_read() {
    let ip = ipv4(6, A, B, &tcp(1, 80, SYN | ACK));
    let m = p(LinkType::RawIp, &ip);
    assert_eq!((m.protocol, m.tcp_flags), (Protocol::Tcp, SYN | ACK));
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(&ip);
    assert_eq!(p(LinkType::Null, &null).dst_port, 80);
    assert_eq!(p(LinkType::Ipv4, &ip).src_port, 1);
}

#[test]
fn ipv6_extension_headers_are_skipped_to_reach_tcp() {
    // Hop-by-hop (0) -> destination options (60) -> TCP (6), 8 bytes each.
    let mut payload = vec![60, 0, 1, 4, 0, 0, 0, 0];
    payload.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
    payload.extend_from_slice(&tcp(5555, 443, SYN));
    let (s, d) = (Ipv6Addr::LOCALHOST, "fe80::2".parse::<Ipv6Addr>().unwrap());
    let m = p(LinkType::Ethernet, &eth(0x86DD, &ipv6(0, s, d, &payload)));
    assert_eq!(m.protocol, Protocol::Tcp);
    assert_eq!((m.src_port, m.dst_port, m.tcp_flags), (5555, 443, SYN));
    assert_eq!(m.src_ip, Some(IpAddr::V6(s)));
    assert_eq!(m.ip_len, 40 + 16 + 20);
}

#[test]
fn icmp_echo_gives_type_and_code_without_a_quote() {
    let m = p(LinkType::RawIp, &ipv4(1, A, B, &icmp_msg(8, 0, b"ping")));
    assert_eq!(m.protocol, Protocol::Icmp);
    let icmp = m.icmp.expect("icmp info");
    assert_eq!((icmp.icmp_type, icmp.code, icmp.quoted), (8, 0, None));
}

#[test]
fn icmp_port_unreachable_carries_the_quoted_udp_header() {
    // B tells A that A's UDP probe from 33000 to 161 hit a closed port.
    let probe = ipv4(17, A, B, &udp(33000, 161, b"")[..8]);
    let m = p(LinkType::RawIp, &ipv4(1, B, A, &icmp_msg(3, 3, &probe)));
    let q = m.icmp.and_then(|i| i.quoted).expect("quoted header");
    assert_eq!((q.src_ip, q.dst_ip), (ip4(A).unwrap(), ip4(B).unwrap()));
    assert_eq!(
        (q.protocol, q.src_port, q.dst_port),
        (Protocol::Udp, 33000, 161)
    );
}

#[test]
fn icmpv6_unreachable_quotes_a_truncated_tcp_header() {
    let (a, b) = (
        Ipv6Addr::LOCALHOST,
        "2001:db8::5".parse::<Ipv6Addr>().unwrap(),
    );
    let inner = ipv6(6, a, b, &tcp(4000, 8080, SYN));
    let m = p(
        LinkType::RawIp,
        &ipv6(58, b, a, &icmp_msg(1, 4, &inner[..48])),
    );
    assert_eq!(m.protocol, Protocol::Icmpv6);
    let q = m.icmp.and_then(|i| i.quoted).expect("quoted");
    assert_eq!(
        (q.protocol, q.src_port, q.dst_port),
        (Protocol::Tcp, 4000, 8080)
    );
    assert_eq!(q.dst_ip, IpAddr::V6(b));
}

#[test]
fn an_arp_request_gives_sender_and_target_addresses() {
    let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1];
    arp.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
    arp.extend_from_slice(&A);
    arp.extend_from_slice(&[0; 6]);
    arp.extend_from_slice(&B);
    let m = p(LinkType::Ethernet, &eth(0x0806, &arp));
    assert_eq!(m.protocol, Protocol::Arp);
    assert_eq!((m.src_ip, m.dst_ip), (ip4(A), ip4(B)));
    let info = m.arp.expect("operation and hardware addresses");
    assert_eq!(info.op, 1);
    assert_eq!(info.sender_mac, [2, 0, 0, 0, 0, 1]);
    assert_eq!(info.target_mac, [0; 6]);
}

#[test]
fn other_network_layers_and_ip_protocols_count_as_other() {
    let lldp = p(LinkType::Ethernet, &eth(0x88CC, &[1, 2, 3, 4]));
    assert_eq!((lldp.protocol, lldp.src_ip), (Protocol::Other, None));
    let llc = p(LinkType::Ethernet, &eth(46, &[0xaa; 46]));
    assert_eq!(llc.protocol, Protocol::Other);
    let gre = p(LinkType::RawIp, &ipv4(47, A, B, &[0; 8]));
    assert_eq!((gre.protocol, gre.src_ip), (Protocol::Other, ip4(A)));
    let unknown = p(LinkType::Unknown(147), &[0x45; 40]);
    assert_eq!(unknown.protocol, Protocol::Other);
}

#[test]
fn a_tcp_header_cut_by_the_snaplen_still_gives_ports_and_flags() {
    let full = eth(0x0800, &ipv4(6, A, B, &tcp(1234, 25, SYN)));
    let m = parse(LinkType::Ethernet, &full[..14 + 20 + 14], 60, T, 0);
    assert_eq!((m.src_port, m.dst_port, m.tcp_flags), (1234, 25, SYN));
    assert_eq!(m.wire_len, 60);
    let m = parse(LinkType::Ethernet, &full[..14 + 20 + 2], 60, T, 0);
    assert_eq!((m.protocol, m.src_port, m.dst_port), (Protocol::Tcp, 0, 0));
}

#[test]
fn a_non_first_ipv4_fragment_has_no_ports() {
    let mut frag = ipv4(17, A, B, &udp(1, 2, &[0; 16]));
    frag[6] = 0x00;
    frag[7] = 0x10; // offset 16 * 8 bytes
    let m = p(LinkType::RawIp, &frag);
    assert_eq!((m.protocol, m.src_port, m.dst_port), (Protocol::Udp, 0, 0));
}

#[test]
fn every_truncation_of_valid_frames_parses_without_panicking() {
    let probe = ipv4(17, A, B, &udp(33000, 161, b"")[..8]);
    let frames = [
        eth(0x0800, &ipv4(6, A, B, &tcp(1, 2, SYN))),
        eth(0x0800, &ipv4(1, B, A, &icmp_msg(3, 3, &probe))),
        eth(
            0x86DD,
            &ipv6(
                17,
                Ipv6Addr::LOCALHOST,
                Ipv6Addr::LOCALHOST,
                &udp(1, 2, b"x"),
            ),
        ),
    ];
    for f in &frames {
        for len in 0..=f.len() {
            let m = parse(LinkType::Ethernet, &f[..len], f.len() as u32, T, 0);
            if len < 14 + 20 {
                assert_eq!(m.src_ip, None, "no address from {len} bytes");
            }
        }
    }
}

#[test]
fn garbage_claiming_to_be_ip_is_other() {
    let m = p(LinkType::Ethernet, &eth(0x0800, &[0x4f, 0xff, 0, 1, 2]));
    assert_eq!((m.protocol, m.src_ip), (Protocol::Other, None));
    let m = p(LinkType::Ethernet, &eth(0x86DD, &[0x60, 0xff]));
    assert_eq!(m.protocol, Protocol::Other);
    let m = p(LinkType::RawIp, &[0x42, 1, 2, 3]);
    assert_eq!(m.protocol, Protocol::Other);
}

#[test]
fn parse_into_clears_what_the_previous_packet_left() {
    let mut meta = p(LinkType::RawIp, &ipv4(6, A, B, &tcp(1, 2, SYN)));
    parse_into(LinkType::Ethernet, &eth(0x88CC, &[]), &mut meta);
    assert_eq!(
        (meta.protocol, meta.src_ip, meta.src_port),
        (Protocol::Other, None, 0)
    );
    assert_eq!(meta.tcp_flags, 0);
}

#[test]
fn link_types_round_trip_through_their_pcap_numbers() {
    for dlt in [0, 1, 101, 113, 228, 229, 276, 147] {
        assert_eq!(LinkType::from_dlt(dlt).dlt(), dlt);
    }
    assert_eq!(LinkType::from_dlt(12), LinkType::RawIp);
}

proptest! {
    #[test]
    fn the_parser_never_panics_on_any_bytes(
        data in proptest::collection::vec(any::<u8>(), 0..200),
        dlt in prop_oneof![Just(0u32), Just(1), Just(101), Just(113), Just(228), Just(229), Just(276)],
    ) {
        let m = parse(LinkType::from_dlt(dlt), &data, data.len() as u32, T, 0);
        prop_assert_eq!(m.wire_len, data.len() as u32);
    }

    #[test]
    fn the_parser_never_panics_on_mutated_valid_frames(
        flips in proptest::collection::vec((0usize..80, any::<u8>()), 1..8),
        cut in 0usize..80,
    ) {
        let probe = ipv4(6, A, B, &tcp(1, 2, SYN)[..8]);
        let mut f = eth(0x0800, &ipv4(1, B, A, &icmp_msg(3, 3, &probe)));
        for (at, b) in flips {
            if at < f.len() { f[at] = b; }
        }
        f.truncate(cut.max(1));
        let _ = parse(LinkType::Ethernet, &f, 80, T, 0);
    }
}
