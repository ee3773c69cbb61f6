//! Host discovery and protocol scans on scripted packets: each method caught at its
//! threshold and not below, the benign look-alikes (router ARP, DHCP, multicast, a
//! monitor pinging a fixed set) never.

use crate::net::config::{DiscoveryConfig, ScanConfig};
use crate::net::packet::PacketMeta;
use crate::net::packet::tcp_flags::{ACK, RST, SYN};
use crate::net::scan::ScanDetector;
use crate::net::testkit::{arp, icmp, ip, proto_unreachable, tcp};
use crate::time::Span;
use crate::{Alert, Event, Record, Stage, Ts};

const SCANNER: &str = "10.9.9.9";

fn t(s: f64) -> Ts {
    Ts::from_secs_f64(9000.0 + s)
}

fn host(i: u32) -> String {
    format!("10.20.{}.{}", i / 250, 1 + i % 250)
}

/// Runs packets (any order) with a tick every second up to `end`, then ends the data.
fn run_with(cfg: DiscoveryConfig, mut pkts: Vec<PacketMeta>, end: f64) -> Vec<Alert> {
    pkts.sort_by_key(|p| p.time);
    let mut d = ScanDetector::with_discovery(ScanConfig::default(), cfg);
    let mut out = Vec::new();
    let mut next = t(0.0);
    for p in &pkts {
        while p.time >= next {
            out.extend(d.tick(next));
            next = next + Span::secs(1);
        }
        out.extend(d.ingest(&Event::Packet(p.clone()), p.time));
    }
    while next <= t(end) {
        out.extend(d.tick(next));
        next = next + Span::secs(1);
    }
    out.extend(d.finish(t(end)));
    out.into_iter()
        .filter_map(|r| match r {
            Record::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

fn run(pkts: Vec<PacketMeta>, end: f64) -> Vec<Alert> {
    run_with(DiscoveryConfig::default(), pkts, end)
}

fn discovery(alerts: &[Alert]) -> Vec<&Alert> {
    alerts
        .iter()
        .filter(|a| a.kind == "net.discovery")
        .collect()
}

/// ARP requests from SCANNER to `n` addresses in `secs`; every `live`-th one answers.
fn arp_sweep(n: u32, secs: f64, live: u32) -> Vec<PacketMeta> {
    let mut v = Vec::new();
    for i in 0..n {
        let at = t(f64::from(i) * secs / f64::from(n));
        v.push(arp(at, SCANNER, &host(i)));
        if i % live == 0 {
            v.push(arp(at + Span::millis(1), &host(i), SCANNER));
        }
    }
    v
}

#[test]
fn an_arp_sweep_of_a_subnet_is_net_discovery() {
    let alerts = run(arp_sweep(254, 2.0, 20), 30.0);
    let found = discovery(&alerts);
    assert!(!found.is_empty(), "{alerts:?}");
    assert_eq!(found[0].details["method"], "arp");
    assert_eq!(found[0].subject.src_ip, Some(ip(SCANNER)));
    let last = found.iter().rev().find(|a| a.details["hosts"] == 254);
    assert!(last.is_some(), "final count: {found:?}");
}

#[test]
fn twenty_four_silent_arp_targets_are_below_the_threshold_and_twenty_five_above() {
    assert!(discovery(&run(arp_sweep(24, 1.0, 1000), 30.0)).is_empty());
    assert_eq!(discovery(&run(arp_sweep(25, 1.0, 1000), 30.0)).len(), 1);
}

#[test]
fn a_router_answering_every_hosts_arp_request_is_not_a_sweep() {
    let router = "10.20.0.254";
    let mut v = Vec::new();
    for i in 0..200 {
        let at = t(f64::from(i) * 0.05);
        v.push(arp(at, &host(i), router));
        v.push(arp(at + Span::millis(1), router, &host(i)));
    }
    assert!(discovery(&run(v, 30.0)).is_empty());
}

#[test]
fn a_router_refreshing_its_answering_neighbours_all_day_is_not_a_sweep() {
    let router = "10.20.0.254";
    let mut v = Vec::new();
    for round in 0..60 {
        for i in 0..80 {
            let at = t(f64::from(round) * 30.0 + f64::from(i) * 0.1);
            v.push(arp(at, router, &host(i)));
            v.push(arp(at + Span::millis(2), &host(i), router));
        }
    }
    assert!(discovery(&run(v, 1810.0)).is_empty());
}

#[test]
fn a_monitor_pinging_a_fixed_set_with_some_hosts_down_is_not_a_sweep() {
    let monitor = "10.20.9.9";
    let mut v = Vec::new();
    for round in 0..30 {
        for i in 0..60 {
            let at = t(f64::from(round) * 60.0 + f64::from(i) * 0.01);
            v.push(icmp(at, monitor, &host(i), 8, 0));
            if i % 3 != 0 {
                v.push(icmp(at + Span::millis(1), &host(i), monitor, 0, 0));
            }
        }
    }
    assert!(discovery(&run(v, 1810.0)).is_empty());
}

#[test]
fn an_answered_ping_sweep_from_a_source_watched_past_its_warm_up_is_a_sweep() {
    let mut v = vec![icmp(t(0.0), SCANNER, &host(900), 8, 0)];
    v.push(icmp(t(0.001), &host(900), SCANNER, 0, 0));
    for i in 0..40 {
        let at = t(700.0 + f64::from(i) * 0.01);
        v.push(icmp(at, SCANNER, &host(i), 8, 0));
        v.push(icmp(at + Span::millis(1), &host(i), SCANNER, 0, 0));
    }
    let alerts = run(v, 760.0);
    let found = discovery(&alerts);
    assert!(!found.is_empty(), "{alerts:?}");
    assert_eq!(found[0].details["method"], "icmp-echo");
    // The same sweep from a source first seen with it is its first round: held back.
    let fresh: Vec<_> = (0..40)
        .flat_map(|i| {
            let at = t(f64::from(i) * 0.01);
            [
                icmp(at, SCANNER, &host(i), 8, 0),
                icmp(at + Span::millis(1), &host(i), SCANNER, 0, 0),
            ]
        })
        .collect();
    assert!(discovery(&run(fresh, 60.0)).is_empty());
}

#[test]
fn dhcp_address_probes_gratuitous_arp_and_multicast_are_not_a_sweep() {
    let mut v = Vec::new();
    for i in 0..100 {
        let at = t(f64::from(i) * 0.05);
        v.push(arp(at, "0.0.0.0", &host(i)));
        v.push(arp(at, &host(i), &host(i)));
        v.push(icmp(at, SCANNER, "224.0.0.251", 8, 0));
        v.push(icmp(at, SCANNER, &format!("239.255.255.{}", i % 250), 8, 0));
    }
    assert!(discovery(&run(v, 30.0)).is_empty());
}

#[test]
fn a_syn_ping_sweep_answered_by_live_hosts_and_closed_half_open_is_caught() {
    let mut v = Vec::new();
    for i in 0..40 {
        let at = t(f64::from(i) * 0.02);
        let (h, sp) = (host(i), 50000 + i as u16);
        v.push(tcp(at, SCANNER, sp, &h, 443, SYN));
        if i % 4 == 0 {
            v.push(tcp(at, &h, 443, SCANNER, sp, SYN | ACK));
            v.push(tcp(at, SCANNER, sp, &h, 443, RST));
        }
    }
    let alerts = run(v, 30.0);
    let found = discovery(&alerts);
    assert!(!found.is_empty(), "{alerts:?}");
    assert_eq!(found[0].details["method"], "tcp-syn");
    assert_eq!(found[0].details["port"], 443);
}

#[test]
fn a_browser_completing_handshakes_with_many_hosts_is_not_a_syn_ping_sweep() {
    let mut v = Vec::new();
    for i in 0..100 {
        let at = t(f64::from(i) * 0.1);
        let (h, sp) = (host(i), 50000 + i as u16);
        v.push(tcp(at, SCANNER, sp, &h, 443, SYN));
        v.push(tcp(at, &h, 443, SCANNER, sp, SYN | ACK));
        v.push(tcp(at, SCANNER, sp, &h, 443, ACK));
        v.push(tcp(at + Span::secs(1), SCANNER, sp, &h, 443, RST | ACK));
    }
    assert!(run(v, 30.0).is_empty());
}

#[test]
fn an_ack_ping_sweep_is_seen_in_the_bare_rsts_it_draws() {
    let mut v = Vec::new();
    for i in 0..30 {
        let at = t(f64::from(i) * 0.02);
        let h = host(i);
        v.push(tcp(at, SCANNER, 61000, &h, 80, ACK));
        v.push(tcp(at, &h, 80, SCANNER, 61000, RST));
    }
    let found = run(v, 30.0);
    let found = discovery(&found);
    assert_eq!(found[0].details["method"], "tcp-ack");
}

#[test]
fn five_refused_ip_protocols_are_a_protocol_scan_and_four_are_not() {
    let target = "10.20.0.7";
    let refused = |n: u8| -> Vec<PacketMeta> {
        (0..n)
            .map(|p| proto_unreachable(t(f64::from(p) * 0.5), target, SCANNER, 100 + p))
            .collect()
    };
    let alerts = run(refused(5), 30.0);
    let scans: Vec<_> = alerts
        .iter()
        .filter(|a| a.kind == "net.protoscan")
        .collect();
    assert_eq!(scans.len(), 1, "one episode: {alerts:?}");
    assert_eq!(scans[0].details["protocols"], 5);
    assert_eq!(scans[0].subject.dst_ip, Some(ip(target)));
    assert!(run(refused(4), 30.0).is_empty());
    // One protocol refused over and over (a GRE tunnel to a host without it) is no scan.
    let same: Vec<_> = (0..20)
        .map(|i| proto_unreachable(t(f64::from(i)), target, SCANNER, 47))
        .collect();
    assert!(run(same, 30.0).is_empty());
}

#[test]
fn ignored_sources_are_never_reported_as_discovery() {
    let cfg = DiscoveryConfig {
        ignore_sources: vec![ip(SCANNER)],
        ..DiscoveryConfig::default()
    };
    assert!(discovery(&run_with(cfg, arp_sweep(254, 2.0, 20), 30.0)).is_empty());
}

#[test]
fn the_discovery_trackers_stay_within_their_caps() {
    let cfg = DiscoveryConfig {
        max_sources: 16,
        max_targets_per_source: 32,
        ..DiscoveryConfig::default()
    };
    let mut d = ScanDetector::with_discovery(ScanConfig::default(), cfg);
    for s in 0..100u32 {
        for i in 0..100u32 {
            let at = t(f64::from(s));
            d.ingest(&Event::Packet(arp(at, &host(2000 + s), &host(i))), at);
        }
    }
    let stats = d.stats();
    assert_eq!(stats.discovery_sources, 16);
    assert_eq!(stats.discovery_sources_evicted, 84);
    assert!(stats.discovery_targets_forgotten > 0);
}

#[test]
fn a_syn_ping_sweep_refused_by_every_host_is_caught_without_waiting_for_a_baseline() {
    let mut v = Vec::new();
    for i in 0..30 {
        let at = t(f64::from(i) * 0.02);
        let (h, sp) = (host(i), 50000 + i as u16);
        v.push(tcp(at, SCANNER, sp, &h, 80, SYN));
        v.push(tcp(at, &h, 80, SCANNER, sp, RST | ACK));
    }
    let alerts = run(v, 30.0);
    assert_eq!(discovery(&alerts)[0].details["method"], "tcp-syn");
}
