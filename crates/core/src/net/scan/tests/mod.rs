//! Scan detector tests on scripted packets: every scan type caught, benign traffic not.

use super::*;
use crate::net::config::ScanConfig;
use crate::net::packet::PacketMeta;
use crate::net::packet::tcp_flags::{ACK, FIN, PSH, RST, SYN, URG};
use crate::net::testkit::{icmp, ip, port_unreachable, tcp, udp};
use crate::{Alert, AlertState, Event, Record, Stage, Ts};

pub(super) const SCANNER: &str = "10.9.9.9";
pub(super) const TARGET: &str = "10.0.0.2";

pub(super) fn t(s: f64) -> Ts {
    Ts::from_secs_f64(5000.0 + s)
}

/// Runs packets through a detector, ticking once a second as the pipeline does.
pub(super) fn run_with(cfg: ScanConfig, pkts: &[PacketMeta], end: f64) -> Vec<Alert> {
    let mut d = ScanDetector::new(cfg);
    let mut out = Vec::new();
    let mut next_tick = pkts.first().map(|p| p.time).unwrap_or(t(0.0));
    for p in pkts {
        while p.time >= next_tick {
            out.extend(d.tick(next_tick));
            next_tick = next_tick + crate::time::Span::secs(1);
        }
        out.extend(d.ingest(&Event::Packet(p.clone()), p.time));
    }
    while next_tick <= t(end) {
        out.extend(d.tick(next_tick));
        next_tick = next_tick + crate::time::Span::secs(1);
    }
    out.into_iter()
        .filter_map(|r| match r {
            Record::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

pub(super) fn run(pkts: &[PacketMeta]) -> Vec<Alert> {
    run_with(ScanConfig::default(), pkts, 20.0)
}

pub(super) fn of_kind<'a>(alerts: &'a [Alert], kind: &str) -> Vec<&'a Alert> {
    alerts.iter().filter(|a| a.kind == kind).collect()
}

pub(super) fn detail<'a>(a: &'a Alert, k: &str) -> &'a serde_json::Value {
    &a.details[k]
}

/// `n` probes from one source port to closed ports 1000.., each refused with RST|ACK.
fn syn_scan_closed(n: u16, sport: impl Fn(u16) -> u16) -> Vec<PacketMeta> {
    let mut v = Vec::new();
    for i in 0..n {
        let at = t(f64::from(i) * 0.01);
        let (sp, dp) = (sport(i), 1000 + i);
        v.push(tcp(at, SCANNER, sp, TARGET, dp, SYN));
        v.push(tcp(at, TARGET, dp, SCANNER, sp, RST | ACK));
    }
    v
}

#[test]
fn a_syn_scan_of_closed_ports_is_one_portscan_episode() {
    let alerts = run(&syn_scan_closed(40, |_| 45000));
    let scans = of_kind(&alerts, "net.portscan");
    assert!(!scans.is_empty(), "caught: {alerts:?}");
    assert!(scans.iter().all(|a| a.id == scans[0].id), "one episode");
    let first = scans[0];
    assert_eq!(first.subject.src_ip, Some(ip(SCANNER)));
    assert_eq!(first.subject.dst_ip, Some(ip(TARGET)));
    assert_eq!(detail(first, "scan_type"), "syn");
    assert_eq!(
        detail(first, "ports"),
        5,
        "opened by the walk at the fifth port"
    );
    let last = scans.last().unwrap();
    assert_eq!(detail(last, "ports"), 40, "updated with the final count");
    assert!(first.message.contains("TCP SYN scan"), "{}", first.message);
    assert!(of_kind(&alerts, "net.sweep").is_empty());
}

#[test]
fn a_scan_resolves_after_it_stops() {
    let cfg = ScanConfig {
        resolve_after_secs: 30,
        ..ScanConfig::default()
    };
    let alerts = run_with(cfg, &syn_scan_closed(20, |_| 45000), 40.0);
    let last = alerts.last().expect("alerts");
    assert_eq!(last.state, AlertState::Resolved);
    assert_eq!(detail(last, "ports"), 20);
    assert!(last.last_seen >= t(30.0));
}

#[test]
fn a_connect_scan_uses_a_fresh_port_per_probe() {
    let alerts = run(&syn_scan_closed(30, |i| 40000 + i));
    let scans = of_kind(&alerts, "net.portscan");
    assert_eq!(detail(scans[0], "scan_type"), "connect");
}

#[test]
fn half_open_closes_of_syn_acks_mark_a_syn_scan() {
    let mut pkts = syn_scan_closed(20, |i| 40000 + i);
    for i in 0..3u16 {
        let at = t(1.0 + f64::from(i));
        let (sp, dp) = (41000 + i, 22 + i);
        pkts.push(tcp(at, SCANNER, sp, TARGET, dp, SYN));
        pkts.push(tcp(at, TARGET, dp, SCANNER, sp, SYN | ACK));
        pkts.push(tcp(at, SCANNER, sp, TARGET, dp, RST));
    }
    let alerts = run(&pkts);
    let last = *of_kind(&alerts, "net.portscan").last().unwrap();
    assert_eq!(detail(last, "scan_type"), "syn");
    // The scanner's RSTs are not mistaken for the target ACK-scanning the scanner.
    assert!(alerts.iter().all(|a| a.subject.src_ip == Some(ip(SCANNER))));
}

#[test]
fn unanswered_syns_to_filtered_ports_count_once_the_probe_times_out() {
    let pkts: Vec<_> = (0..20)
        .map(|i| tcp(t(f64::from(i) * 0.1), SCANNER, 45000, TARGET, 2000 + i, SYN))
        .collect();
    let alerts = run(&pkts);
    let scans = of_kind(&alerts, "net.portscan");
    assert!(!scans.is_empty());
    assert!(
        scans[0].first_seen >= t(5.0),
        "only after the probe timeout"
    );
}

#[test]
fn stealth_scans_are_named_by_their_flags_and_rated_high() {
    for (flags, name) in [(FIN, "fin"), (0, "null"), (FIN | PSH | URG, "xmas")] {
        let pkts: Vec<_> = (0..20)
            .flat_map(|i| {
                let at = t(f64::from(i) * 0.01);
                // Closed ports answer RST|ACK; open ones stay silent (counted on timeout).
                let mut v = vec![tcp(at, SCANNER, 50000, TARGET, 3000 + i, flags)];
                if i % 2 == 0 {
                    v.push(tcp(at, TARGET, 3000 + i, SCANNER, 50000, RST | ACK));
                }
                v
            })
            .collect();
        let alerts = run(&pkts);
        let scans = of_kind(&alerts, "net.portscan");
        assert!(!scans.is_empty(), "{name} scan caught");
        let last = scans.last().unwrap();
        assert_eq!(detail(last, "scan_type"), name);
        assert_eq!(last.severity, crate::Severity::High);
        assert_eq!(detail(last, "ports"), 20);
    }
}

#[test]
fn an_ack_scan_is_seen_in_the_bare_rsts_it_draws() {
    let pkts: Vec<_> = (0..20)
        .flat_map(|i| {
            let at = t(f64::from(i) * 0.01);
            vec![
                tcp(at, SCANNER, 50001, TARGET, 80 + i, ACK),
                tcp(at, TARGET, 80 + i, SCANNER, 50001, RST),
            ]
        })
        .collect();
    let alerts = run(&pkts);
    let scans = of_kind(&alerts, "net.portscan");
    assert!(!scans.is_empty());
    assert_eq!(detail(scans[0], "scan_type"), "ack");
    assert_eq!(scans[0].subject.src_ip, Some(ip(SCANNER)));
}

#[test]
fn a_udp_scan_is_caught_from_port_unreachables_and_silence() {
    let pkts: Vec<_> = (0..30)
        .flat_map(|i| {
            let at = t(f64::from(i) * 0.05);
            let mut v = vec![udp(at, SCANNER, 53000, TARGET, 100 + i)];
            if i % 3 != 0 {
                v.push(port_unreachable(at, TARGET, SCANNER, 53000, 100 + i));
            }
            v
        })
        .collect();
    let alerts = run(&pkts);
    let scans = of_kind(&alerts, "net.portscan");
    assert!(!scans.is_empty());
    let last = scans.last().unwrap();
    assert_eq!(detail(last, "scan_type"), "udp");
    assert_eq!(detail(last, "ports"), 30);
}

#[test]
fn a_horizontal_sweep_of_one_port_is_net_sweep() {
    let pkts: Vec<_> = (1..=40u8)
        .flat_map(|h| {
            let at = t(f64::from(h) * 0.02);
            let dst = format!("10.1.0.{h}");
            let mut v = vec![tcp(at, SCANNER, 45000, &dst, 22, SYN)];
            if h % 2 == 0 {
                v.push(tcp(at, &dst, 22, SCANNER, 45000, RST | ACK));
            }
            v
        })
        .collect();
    let alerts = run(&pkts);
    let sweeps = of_kind(&alerts, "net.sweep");
    assert!(!sweeps.is_empty(), "{alerts:?}");
    let last = sweeps.last().unwrap();
    assert_eq!(detail(last, "hosts"), 40);
    assert_eq!(detail(last, "sample_ports"), &serde_json::json!([22]));
    assert!(
        last.message.contains("port 22 on 40 hosts"),
        "{}",
        last.message
    );
    assert!(of_kind(&alerts, "net.portscan").is_empty());
}

#[test]
fn a_ping_sweep_of_silent_hosts_is_net_pingsweep() {
    let pkts: Vec<_> = (1..=30u8)
        .map(|h| icmp(t(f64::from(h) * 0.1), SCANNER, &format!("10.2.0.{h}"), 8, 0))
        .collect();
    let alerts = run(&pkts);
    let sweeps = of_kind(&alerts, "net.pingsweep");
    assert!(!sweeps.is_empty());
    assert_eq!(detail(sweeps.last().unwrap(), "hosts"), 30);
}

#[test]
fn a_slow_scan_of_one_probe_every_five_seconds_is_still_caught() {
    let pkts: Vec<_> = (0..40)
        .flat_map(|i| {
            let at = t(f64::from(i) * 5.0);
            vec![
                tcp(at, SCANNER, 45000 + i, TARGET, 4000 + i, SYN),
                tcp(at, TARGET, 4000 + i, SCANNER, 45000 + i, RST | ACK),
            ]
        })
        .collect();
    let alerts = run_with(ScanConfig::default(), &pkts, 210.0);
    let scans = of_kind(&alerts, "net.portscan");
    assert!(!scans.is_empty(), "slow scan caught");
    assert!(scans[0].first_seen <= t(75.0));
}

#[test]
fn a_web_client_with_hundreds_of_successful_connections_is_not_a_scanner() {
    let client = "10.0.0.50";
    let mut pkts = Vec::new();
    for i in 0..400u16 {
        let at = t(f64::from(i) * 0.02);
        let server = format!("10.3.{}.{}", i / 200, 1 + i % 200);
        let sp = 30000 + i;
        pkts.push(tcp(at, client, sp, &server, 443, SYN));
        pkts.push(tcp(at, &server, 443, client, sp, SYN | ACK));
        pkts.push(tcp(at, client, sp, &server, 443, ACK));
        pkts.push(tcp(at, client, sp, &server, 443, FIN | ACK));
    }
    // A few failures along the way, as any real client has.
    for i in 0..5u16 {
        pkts.push(tcp(
            t(9.0),
            client,
            39000 + i,
            &format!("10.4.0.{i}"),
            443,
            SYN,
        ));
    }
    assert!(run(&pkts).is_empty());
}

#[test]
fn a_load_test_against_one_port_is_not_a_scanner_even_when_refused() {
    let mut pkts = Vec::new();
    for i in 0..5000u32 {
        let at = t(f64::from(i) * 0.002);
        let sp = 20000 + (i % 40000) as u16;
        pkts.push(tcp(at, "10.0.0.60", sp, TARGET, 8080, SYN));
        if i % 10 == 0 {
            pkts.push(tcp(at, TARGET, 8080, "10.0.0.60", sp, RST | ACK));
        } else {
            // Accepted connections complete their handshake (else it is a SYN flood).
            pkts.push(tcp(at, TARGET, 8080, "10.0.0.60", sp, SYN | ACK));
            pkts.push(tcp(at, "10.0.0.60", sp, TARGET, 8080, ACK));
        }
    }
    assert!(run(&pkts).is_empty());
}

#[test]
fn dns_lookups_and_their_answers_are_not_a_scan() {
    let mut pkts = Vec::new();
    for i in 0..300u16 {
        let at = t(f64::from(i) * 0.01);
        let resolver = if i % 2 == 0 { "10.0.0.53" } else { "10.0.1.53" };
        pkts.push(udp(at, "10.0.0.70", 30000 + i, resolver, 53));
        pkts.push(udp(at, resolver, 53, "10.0.0.70", 30000 + i));
    }
    assert!(run(&pkts).is_empty());
}

#[test]
fn multicast_chatter_is_not_a_sweep() {
    let pkts: Vec<_> = (0..100u16)
        .map(|i| {
            udp(
                t(f64::from(i) * 0.1),
                "10.0.0.80",
                5353 + i,
                "224.0.0.251",
                5353 + i,
            )
        })
        .collect();
    assert!(run(&pkts).is_empty());
}

#[test]
fn ignored_sources_are_never_reported() {
    let cfg = ScanConfig {
        ignore_sources: vec![ip(SCANNER)],
        ..ScanConfig::default()
    };
    assert!(run_with(cfg, &syn_scan_closed(40, |_| 45000), 20.0).is_empty());
}

#[test]
fn updates_are_rate_limited_while_a_big_scan_goes_on() {
    let alerts = run_with(
        ScanConfig::default(),
        &syn_scan_closed(2000, |_| 45000),
        35.0,
    );
    let scans = of_kind(&alerts, "net.portscan");
    // 2000 probes over 20 s of packet time: opened once, then about one update per 10 s
    // until the last count is out.
    assert!(scans.len() <= 4, "{} alerts", scans.len());
    assert_eq!(detail(scans.last().unwrap(), "ports"), 2000);
}

#[test]
fn a_resolved_sweep_is_described_at_its_peak_not_by_the_emptied_window() {
    let cfg = ScanConfig {
        window_secs: 2,
        update_interval_secs: 10,
        resolve_after_secs: 30,
        ..ScanConfig::default()
    };
    // 40 hosts refuse port 22 within a second, then one more a moment later: the episode
    // has news for its next update, which comes after the 2 s window has emptied.
    let mut pkts: Vec<_> = (1..=40u8)
        .flat_map(|h| {
            let at = t(f64::from(h) * 0.02);
            let dst = format!("10.1.0.{h}");
            vec![
                tcp(at, SCANNER, 45000, &dst, 22, SYN),
                tcp(at, &dst, 22, SCANNER, 45000, RST | ACK),
            ]
        })
        .collect();
    pkts.push(tcp(t(1.5), SCANNER, 45000, "10.1.1.1", 22, SYN));
    pkts.push(tcp(t(1.5), "10.1.1.1", 22, SCANNER, 45000, RST | ACK));
    let alerts = run_with(cfg, &pkts, 60.0);
    let sweeps = of_kind(&alerts, "net.sweep");
    for a in &sweeps {
        assert!(!a.message.contains(" 0 hosts"), "{}", a.message);
    }
    let resolved = sweeps
        .iter()
        .find(|a| a.state == AlertState::Resolved)
        .expect("the sweep resolves");
    assert!(
        resolved.message.contains("port 22 on 4"),
        "{}",
        resolved.message
    );
    assert!(
        detail(resolved, "hosts").as_u64().unwrap() >= 40,
        "{resolved:?}"
    );
}

mod end_of_data;
mod flood;
mod labels;
mod trw;
