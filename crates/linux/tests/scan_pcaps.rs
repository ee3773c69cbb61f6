//! Scan detection on pcaps generated here: each scan type is caught from the file alone,
//! and benign traffic (successful connections, DNS, a load test) is never a scan.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_core::net::parse::{LinkType, parse};
use netsnoop_core::net::{NetworkConfig, NetworkStages};
use netsnoop_core::{Alert, Record, Ts};
use netsnoop_linux::capture::{CaptureFile, PcapWriter, synth};
use std::net::Ipv4Addr;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;
const URG: u8 = 0x20;

const SCANNER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 66);
const TARGET: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

/// A pcap under construction: frames at explicit times.
struct Pcap {
    w: PcapWriter<Vec<u8>>,
}

impl Pcap {
    fn new() -> Pcap {
        Pcap {
            w: PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).unwrap(),
        }
    }

    fn at(&mut self, secs: f64, frame: Vec<u8>) {
        let t = Ts::from_secs_f64(1_700_000_000.0 + secs);
        self.w.write(t, &frame, frame.len() as u32).unwrap();
    }

    /// Reads the file back through the parser and every network stage.
    fn analyze(self) -> Vec<Alert> {
        let bytes = self.w.into_inner();
        let mut file = CaptureFile::new(&bytes[..]).unwrap();
        let mut stages = NetworkStages::new(&NetworkConfig::default());
        let mut out = Vec::new();
        let mut last = Ts(0);
        while let Some(p) = file.next_packet().expect("undamaged") {
            let meta = parse(p.link, p.data, p.wire_len, p.time, p.iface);
            last = p.time;
            stages.packet(&meta, &mut out);
        }
        // Let probe timeouts and windows run out, as a live run would.
        for s in 1..=30 {
            stages.tick_into(last + netsnoop_core::time::Span::secs(s), &mut out);
        }
        stages.finish_into(last + netsnoop_core::time::Span::secs(31), &mut out);
        out.into_iter()
            .filter_map(|r| match r {
                Record::Alert(a) => Some(a),
                _ => None,
            })
            .collect()
    }
}

fn scan_type(alerts: &[Alert], kind: &str) -> String {
    let a = alerts
        .iter()
        .rev()
        .find(|a| a.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} in {alerts:#?}"));
    a.details["scan_type"].as_str().unwrap().to_string()
}

/// A TCP probe per port; `closed` ports answer with `reply`, others stay silent or,
/// for SYN probes, accept with SYN-ACK which the scanner resets (`open_close`).
fn tcp_scan(
    probe: u8,
    sport: impl Fn(u16) -> u16,
    reply: u8,
    open_every: u16,
    open_close: u8,
) -> Pcap {
    let mut p = Pcap::new();
    for i in 0..100u16 {
        let (sp, dp) = (sport(i), 1 + i);
        let at = f64::from(i) * 0.01;
        p.at(at, synth::tcp(SCANNER, sp, TARGET, dp, probe, 0));
        if i % open_every == 0 {
            if probe == SYN {
                p.at(
                    at + 0.001,
                    synth::tcp(TARGET, dp, SCANNER, sp, SYN | ACK, 0),
                );
                p.at(
                    at + 0.002,
                    synth::tcp(SCANNER, sp, TARGET, dp, open_close, 0),
                );
            }
        } else {
            p.at(at + 0.001, synth::tcp(TARGET, dp, SCANNER, sp, reply, 0));
        }
    }
    p
}

#[test]
fn a_syn_scan_pcap_is_a_portscan_of_type_syn() {
    let alerts = tcp_scan(SYN, |_| 61000, RST | ACK, 10, RST).analyze();
    assert_eq!(scan_type(&alerts, "net.portscan"), "syn");
    let last = alerts
        .iter()
        .rev()
        .find(|a| a.kind == "net.portscan")
        .unwrap();
    assert_eq!(last.details["ports"], 90, "the 90 closed ports failed");
    assert_eq!(last.subject.src_ip, Some(SCANNER.into()));
}

#[test]
fn a_connect_scan_pcap_is_a_portscan_of_type_connect() {
    let alerts = tcp_scan(SYN, |i| 40000 + i, RST | ACK, 10, RST | ACK).analyze();
    assert_eq!(scan_type(&alerts, "net.portscan"), "connect");
}

#[test]
fn fin_null_and_xmas_scan_pcaps_are_named_by_their_flags() {
    for (flags, name) in [(FIN, "fin"), (0, "null"), (FIN | PSH | URG, "xmas")] {
        let alerts = tcp_scan(flags, |_| 62000, RST | ACK, 7, 0).analyze();
        assert_eq!(scan_type(&alerts, "net.portscan"), name);
    }
}

#[test]
fn an_ack_scan_pcap_is_seen_from_the_bare_resets() {
    let alerts = tcp_scan(ACK, |_| 62001, RST, 1000, 0).analyze();
    assert_eq!(scan_type(&alerts, "net.portscan"), "ack");
}

#[test]
fn a_udp_scan_pcap_is_caught_from_port_unreachable_replies() {
    let mut p = Pcap::new();
    for i in 0..60u16 {
        let at = f64::from(i) * 0.02;
        p.at(at, synth::udp(SCANNER, 53535, TARGET, 100 + i, 0));
        if i % 4 != 0 {
            p.at(
                at + 0.001,
                synth::port_unreachable(TARGET, SCANNER, 53535, 100 + i),
            );
        }
    }
    let alerts = p.analyze();
    assert_eq!(scan_type(&alerts, "net.portscan"), "udp");
}

#[test]
fn a_sweep_and_a_ping_sweep_pcap_are_caught() {
    let mut p = Pcap::new();
    for h in 1..=60u8 {
        let host = Ipv4Addr::new(198, 51, 100, h);
        let at = f64::from(h) * 0.05;
        p.at(at, synth::tcp(SCANNER, 61000, host, 3389, SYN, 0));
        p.at(at + 0.01, synth::ping(SCANNER, host, false));
        if h % 3 == 0 {
            p.at(
                at + 0.002,
                synth::tcp(host, 3389, SCANNER, 61000, RST | ACK, 0),
            );
            p.at(at + 0.02, synth::ping(host, SCANNER, true));
        }
    }
    let alerts = p.analyze();
    let sweep = alerts
        .iter()
        .rev()
        .find(|a| a.kind == "net.sweep")
        .expect("sweep");
    assert_eq!(sweep.details["hosts"], 60);
    let ping = alerts
        .iter()
        .rev()
        .find(|a| a.kind == "net.pingsweep")
        .expect("ping sweep");
    assert_eq!(ping.details["hosts"], 40, "only unanswered pings count");
}

#[test]
fn a_slow_scan_pcap_with_a_probe_every_four_seconds_is_caught() {
    let mut p = Pcap::new();
    for i in 0..30u16 {
        let at = f64::from(i) * 4.0;
        p.at(at, synth::tcp(SCANNER, 50000 + i, TARGET, 8000 + i, SYN, 0));
        p.at(
            at + 0.001,
            synth::tcp(TARGET, 8000 + i, SCANNER, 50000 + i, RST | ACK, 0),
        );
    }
    let alerts = p.analyze();
    assert!(
        alerts.iter().any(|a| a.kind == "net.portscan"),
        "{alerts:#?}"
    );
}

#[test]
fn benign_traffic_pcap_with_web_clients_dns_and_a_load_test_raises_no_scan() {
    let mut p = Pcap::new();
    let client = Ipv4Addr::new(10, 1, 1, 10);
    // A web client: 300 successful connections to 150 servers.
    for i in 0..300u16 {
        let server = Ipv4Addr::new(203, 0, 113, 1 + (i % 150) as u8);
        let (sp, at) = (30000 + i, f64::from(i) * 0.01);
        p.at(at, synth::tcp(client, sp, server, 443, SYN, 0));
        p.at(
            at + 0.001,
            synth::tcp(server, 443, client, sp, SYN | ACK, 0),
        );
        p.at(at + 0.002, synth::tcp(client, sp, server, 443, ACK, 0));
        p.at(
            at + 0.003,
            synth::tcp(client, sp, server, 443, PSH | ACK, 300),
        );
        p.at(
            at + 0.004,
            synth::tcp(server, 443, client, sp, PSH | ACK, 1200),
        );
        p.at(
            at + 0.005,
            synth::tcp(client, sp, server, 443, FIN | ACK, 0),
        );
        p.at(
            at + 0.006,
            synth::tcp(server, 443, client, sp, FIN | ACK, 0),
        );
    }
    // DNS lookups, all answered.
    let resolver = Ipv4Addr::new(10, 1, 1, 53);
    for i in 0..200u16 {
        let at = f64::from(i) * 0.015;
        p.at(at, synth::udp(client, 40000 + i, resolver, 53, 30));
        p.at(at + 0.002, synth::udp(resolver, 53, client, 40000 + i, 90));
    }
    // A load test: 3000 connections to one port, one in ten refused.
    let loader = Ipv4Addr::new(10, 1, 1, 20);
    let server = Ipv4Addr::new(10, 1, 1, 80);
    for i in 0..3000u16 {
        let (sp, at) = (20000 + i, f64::from(i) * 0.001);
        p.at(at, synth::tcp(loader, sp, server, 8080, SYN, 0));
        let answer = if i % 10 == 0 { RST | ACK } else { SYN | ACK };
        p.at(at + 0.0005, synth::tcp(server, 8080, loader, sp, answer, 0));
        if answer & SYN != 0 {
            // Accepted connections complete their handshake (else it is a SYN flood).
            p.at(at + 0.0007, synth::tcp(loader, sp, server, 8080, ACK, 0));
        }
    }
    let alerts = p.analyze();
    assert!(alerts.is_empty(), "benign traffic flagged: {alerts:#?}");
}
