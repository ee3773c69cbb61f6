//! Writes the benchmark's synthetic capture: mixed traffic (TCP conversations, DNS, ICMP,
//! ARP, IPv6) with scans in it (a SYN scan, a UDP scan, a sweep, a slow scan).
//!
//! Usage: gen_pcap OUT.pcap [PACKETS]   (default 2,000,000 packets, 100k packets/s,
//! captured with a 128-byte snaplen)

use netsnoop_core::Ts;
use netsnoop_core::net::parse::LinkType;
use netsnoop_linux::capture::{PcapWriter, synth};
use std::io::BufWriter;
use std::net::Ipv4Addr;

const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
/// Headers only, as NetSnoop (and `tcpdump -s 128`) captures: payload bytes are cut,
/// wire lengths kept.
const SNAPLEN: u32 = 128;

struct Gen {
    w: PcapWriter<BufWriter<std::fs::File>>,
    n: u64,
    limit: u64,
}

impl Gen {
    fn put(&mut self, frame: &[u8]) {
        if self.n >= self.limit {
            return;
        }
        // 100k packets/s of capture time, from 2026-01-01T00:00:00Z.
        let t = Ts(1_767_225_600_000_000 + (self.n as i64) * 10);
        let kept = &frame[..frame.len().min(SNAPLEN as usize)];
        self.w.write(t, kept, frame.len() as u32).expect("write");
        self.n += 1;
    }
    fn done(&self) -> bool {
        self.n >= self.limit
    }
}

fn client(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 1, (i / 250 % 250) as u8, (i % 250) as u8 + 1)
}

fn server(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(172, 16, (i / 200 % 200) as u8, (i % 200) as u8 + 1)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: gen_pcap OUT.pcap [PACKETS]");
    let limit: u64 = args
        .next()
        .map(|s| s.parse().expect("a number"))
        .unwrap_or(2_000_000);
    let file = std::fs::File::create(&out).expect("create output");
    let w = PcapWriter::new(
        BufWriter::with_capacity(1 << 20, file),
        LinkType::Ethernet,
        SNAPLEN,
    )
    .expect("header");
    let mut g = Gen { w, n: 0, limit };
    let dns = Ipv4Addr::new(10, 0, 0, 53);
    let scanner = Ipv4Addr::new(10, 66, 0, 1);
    let udp_scanner = Ipv4Addr::new(10, 66, 0, 2);
    let sweeper = Ipv4Addr::new(10, 66, 0, 3);
    let mut round: u32 = 0;
    while !g.done() {
        // A batch of ordinary traffic: 40 TCP conversations, 20 DNS lookups, 4 pings, ARP.
        for k in 0..40u32 {
            let c = client(round * 40 + k);
            let s = server(round * 7 + k);
            let sp = 20000 + ((round * 40 + k) % 40000) as u16;
            let dp = [443u16, 80, 22, 8080][k as usize % 4];
            g.put(&synth::tcp(c, sp, s, dp, SYN, 0));
            g.put(&synth::tcp(s, dp, c, sp, SYN | ACK, 0));
            g.put(&synth::tcp(c, sp, s, dp, ACK, 0));
            g.put(&synth::tcp(c, sp, s, dp, PSH | ACK, 300));
            for _ in 0..4 {
                g.put(&synth::tcp(s, dp, c, sp, ACK, 1400));
            }
            g.put(&synth::tcp(c, sp, s, dp, ACK, 0));
            g.put(&synth::tcp(c, sp, s, dp, FIN | ACK, 0));
            g.put(&synth::tcp(s, dp, c, sp, FIN | ACK, 0));
        }
        for k in 0..20u32 {
            let c = client(round * 20 + k);
            let sp = 30000 + ((round * 20 + k) % 30000) as u16;
            g.put(&synth::udp(c, sp, dns, 53, 40));
            g.put(&synth::udp(dns, 53, c, sp, 120));
        }
        for k in 0..4u32 {
            let c = client(k);
            let s = server(round + k);
            g.put(&synth::ping(c, s, false));
            g.put(&synth::ping(s, c, true));
        }
        g.put(&synth::arp(client(round), dns));
        let ll = |x: u8| [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, x];
        g.put(&synth::udp6(ll(1), 546, ll(2), 547, 60));
        // Scans, a little in every batch: SYN scan of one host, UDP scan, sweep of :3389.
        let target = Ipv4Addr::new(172, 16, 0, 9);
        for k in 0..5u32 {
            let port = ((round * 5 + k) % 65000) as u16 + 1;
            g.put(&synth::tcp(scanner, 61000, target, port, SYN, 0));
            g.put(&synth::tcp(target, port, scanner, 61000, RST | ACK, 0));
        }
        let uport = (round % 60000) as u16 + 1;
        g.put(&synth::udp(udp_scanner, 53000, target, uport, 0));
        g.put(&synth::port_unreachable(target, udp_scanner, 53000, uport));
        let host = server(10_000 + round);
        g.put(&synth::tcp(sweeper, 62000, host, 3389, SYN, 0));
        round += 1;
    }
    g.w.into_inner().into_inner().expect("flush");
    eprintln!("gen_pcap: wrote {} packets to {out}", g.n);
}
