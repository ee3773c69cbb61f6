//! The walk's quick vertical decision (≤ 5 failed first contacts), its benign
//! look-alikes, the breadth backstop, and scans slower than the window.

use super::*;
use crate::net::packet::{IcmpInfo, Protocol, QuotedHeader};

/// `n` SYNs to distinct ports of TARGET, `gap` seconds apart, each refused.
fn refused_syns(n: u16, gap: f64) -> Vec<PacketMeta> {
    (0..n)
        .flat_map(|i| {
            let at = t(f64::from(i) * gap);
            let (sp, dp) = (45000 + i, 6000 + i);
            [
                tcp(at, SCANNER, sp, TARGET, dp, SYN),
                tcp(at, TARGET, dp, SCANNER, sp, RST | ACK),
            ]
        })
        .collect()
}

#[test]
fn a_syn_scan_is_decided_at_its_fifth_refused_port() {
    let alerts = run(&refused_syns(5, 0.1));
    let scans = of_kind(&alerts, "net.portscan");
    assert_eq!(scans.len(), 1, "{alerts:?}");
    assert_eq!(detail(scans[0], "ports"), 5);
    assert_eq!(scans[0].first_seen, t(0.4), "at the fifth probe's answer");
}

#[test]
fn four_refused_ports_are_not_yet_a_scan() {
    assert!(run(&refused_syns(4, 0.1)).is_empty());
}

#[test]
fn a_client_with_successes_and_five_closed_ports_on_its_server_is_not_a_scanner() {
    // Ten answered connections to a server, then five tries on its closed ports.
    let mut pkts = Vec::new();
    for i in 0..10u16 {
        let at = t(f64::from(i) * 0.1);
        pkts.push(tcp(at, SCANNER, 30000 + i, TARGET, 443, SYN));
        pkts.push(tcp(at, TARGET, 443, SCANNER, 30000 + i, SYN | ACK));
    }
    for (i, p) in [8080u16, 8443, 9000, 9090, 3000].into_iter().enumerate() {
        let at = t(2.0 + i as f64 * 0.1);
        pkts.push(tcp(at, SCANNER, 31000 + p, TARGET, p, SYN));
        pkts.push(tcp(at, TARGET, p, SCANNER, 31000 + p, RST | ACK));
    }
    assert!(run(&pkts).is_empty());
}

#[test]
fn refused_udp_probes_are_decided_at_the_fifth_port() {
    let pkts: Vec<_> = (0..5u16)
        .flat_map(|i| {
            let at = t(f64::from(i) * 0.1);
            [
                udp(at, SCANNER, 53000, TARGET, 100 + i),
                port_unreachable(at, TARGET, SCANNER, 53000, 100 + i),
            ]
        })
        .collect();
    let alerts = run(&pkts);
    assert_eq!(detail(of_kind(&alerts, "net.portscan")[0], "ports"), 5);
}

#[test]
fn one_way_udp_telemetry_to_six_collector_ports_is_not_a_scan() {
    // syslog, SNMP traps, NetFlow, IPFIX, sFlow, statsd: nothing ever comes back.
    let pkts: Vec<_> = [514u16, 162, 2055, 4739, 6343, 8125]
        .into_iter()
        .enumerate()
        .map(|(i, p)| udp(t(i as f64), SCANNER, 40000 + p, TARGET, p))
        .collect();
    assert!(run(&pkts).is_empty());
}

#[test]
fn silent_udp_waits_for_the_breadth_backstop_at_fifteen_ports() {
    let pkts: Vec<_> = (0..20u16)
        .map(|i| udp(t(f64::from(i) * 0.1), SCANNER, 53000, TARGET, 100 + i))
        .collect();
    let alerts = run(&pkts);
    let scans = of_kind(&alerts, "net.portscan");
    assert!(!scans.is_empty(), "backstop: {alerts:?}");
    assert_eq!(detail(scans[0], "ports"), 15);
}

fn time_exceeded(
    at: Ts,
    router: &str,
    tracer: &str,
    dst: &str,
    sport: u16,
    dport: u16,
) -> PacketMeta {
    let mut m = icmp(at, router, tracer, 11, 0);
    m.icmp = Some(IcmpInfo {
        icmp_type: 11,
        code: 0,
        quoted: Some(QuotedHeader {
            src_ip: ip(tracer),
            dst_ip: ip(dst),
            protocol: Protocol::Udp,
            src_port: sport,
            dst_port: dport,
        }),
    });
    m
}

#[test]
fn a_traceroute_is_not_a_udp_scan() {
    // 16 probes in flight: the first three hops answer time exceeded, the rest reach the
    // target and draw port unreachables (or nothing, when the target rate-limits).
    let mut pkts = Vec::new();
    for i in 0..30u16 {
        let at = t(f64::from(i) * 0.01);
        let dport = 33434 + i;
        pkts.push(udp(at, SCANNER, 51000, TARGET, dport));
        if i < 9 {
            let router = format!("10.0.{}.1", i / 3);
            pkts.push(time_exceeded(at, &router, SCANNER, TARGET, 51000, dport));
        } else if i % 2 == 0 {
            pkts.push(port_unreachable(at, TARGET, SCANNER, 51000, dport));
        }
    }
    assert!(run(&pkts).is_empty());
}

#[test]
fn a_slow_scan_of_one_probe_every_15_seconds_for_30_minutes_is_one_episode_decided_early() {
    let pkts = refused_syns(120, 15.0);
    let alerts = run_with(ScanConfig::default(), &pkts, 1800.0);
    let scans = of_kind(&alerts, "net.portscan");
    assert!(!scans.is_empty());
    assert_eq!(scans[0].first_seen, t(60.0), "at the fifth probe");
    assert!(scans.iter().all(|a| a.id == scans[0].id), "one episode");
}

#[test]
fn a_scan_slower_than_the_window_is_caught_by_the_walks_memory() {
    // One probe every 5 minutes (nmap -T0) for 30 minutes: never two in one window.
    let cfg = ScanConfig::default();
    let mut d = ScanDetector::new(cfg);
    let mut alerts = Vec::new();
    let pkts = refused_syns(7, 300.0);
    let mut next = 0;
    for s in 0..=1800 {
        let now = t(f64::from(s));
        while next < pkts.len() && pkts[next].time <= now {
            alerts.extend(d.ingest(&Event::Packet(pkts[next].clone()), pkts[next].time));
            next += 1;
        }
        alerts.extend(d.tick(now));
        let stats = d.stats();
        assert!(stats.sources <= 1 && stats.pending_probes <= 1, "{stats:?}");
    }
    let first = alerts
        .iter()
        .find_map(|r| match r {
            Record::Alert(a) if a.kind == "net.portscan" => Some(a.clone()),
            _ => None,
        })
        .expect("caught");
    assert_eq!(first.first_seen, t(1200.0), "at the fifth probe");
    assert_eq!(detail(&first, "ports"), 5);
}

#[test]
fn slow_scanners_beyond_the_source_cap_are_evicted_and_counted() {
    let cfg = ScanConfig {
        max_sources: 8,
        ..ScanConfig::default()
    };
    let mut d = ScanDetector::new(cfg);
    for s in 0..50u16 {
        let src = format!("10.8.0.{}", 1 + s);
        let at = t(f64::from(s));
        d.ingest(&Event::Packet(tcp(at, &src, 40000, TARGET, 7000, SYN)), at);
        let rst = tcp(at, TARGET, 7000, &src, 40000, RST | ACK);
        d.ingest(&Event::Packet(rst), at);
        d.tick(at);
    }
    let stats = d.stats();
    assert_eq!(stats.sources, 8);
    assert_eq!(stats.sources_evicted, 42);
}
