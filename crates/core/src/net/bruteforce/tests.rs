//! Brute force on scripted login connections: the threshold's edges, one episode per
//! source and service, and the real sessions that look alike but are not.

use super::*;
use crate::net::testkit::{ip, tcp};
use crate::{Alert, AlertState};

const ATTACKER: &str = "10.9.9.9";
const SERVER: &str = "10.0.0.22";

fn t(s: f64) -> Ts {
    Ts::from_secs_f64(7000.0 + s)
}

/// One login connection to `server:port` starting at `at`: handshake, the server sends
/// `server_bytes` over it, then the client closes after `secs`.
fn login(
    at: f64,
    i: u16,
    server: &str,
    port: u16,
    secs: f64,
    server_bytes: u32,
) -> Vec<PacketMeta> {
    let sp = 40000 + i;
    let mut data = tcp(t(at + 0.2), server, port, ATTACKER, sp, ACK);
    data.ip_len = server_bytes;
    vec![
        tcp(t(at), ATTACKER, sp, server, port, SYN),
        tcp(t(at + 0.001), server, port, ATTACKER, sp, SYN | ACK),
        tcp(t(at + 0.002), ATTACKER, sp, server, port, ACK),
        data,
        tcp(t(at + secs), ATTACKER, sp, server, port, FIN | ACK),
        tcp(t(at + secs + 0.001), server, port, ATTACKER, sp, FIN | ACK),
    ]
}

fn run(cfg: BruteForceConfig, mut pkts: Vec<PacketMeta>, end: f64) -> Vec<Alert> {
    pkts.sort_by_key(|p| p.time);
    let mut b = BruteForce::new(cfg, Span::secs(10));
    let mut out = Vec::new();
    let mut next = t(0.0);
    for p in &pkts {
        while p.time >= next {
            b.sweep(next, &mut out);
            next = next + Span::secs(1);
        }
        b.packet(p, p.time, &mut out);
    }
    while next <= t(end) {
        b.sweep(next, &mut out);
        next = next + Span::secs(1);
    }
    out.into_iter()
        .filter_map(|r| match r {
            Record::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// `n` failed SSH logins, one every 3 s, each 2 s long with 3 KB from the server.
fn failed_ssh(n: u16) -> Vec<PacketMeta> {
    (0..n)
        .flat_map(|i| login(f64::from(i) * 3.0, i, SERVER, 22, 2.0, 3000))
        .collect()
}

#[test]
fn nine_failed_ssh_logins_are_not_yet_a_brute_force_and_ten_are() {
    assert!(run(BruteForceConfig::default(), failed_ssh(9), 60.0).is_empty());
    let alerts = run(BruteForceConfig::default(), failed_ssh(10), 60.0);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a.kind, "net.bruteforce");
    assert_eq!(a.subject.src_ip, Some(ip(ATTACKER)));
    assert_eq!(a.subject.dst_ip, Some(ip(SERVER)));
    assert_eq!(a.details["service"], "SSH");
    assert_eq!(a.details["attempts"], 10);
    assert!(a.message.contains("SSH brute force"), "{}", a.message);
}

#[test]
fn a_long_attack_on_several_servers_is_one_episode_per_source_and_service() {
    let mut pkts = Vec::new();
    for i in 0..60u16 {
        let server = format!("10.0.0.{}", 30 + i % 3);
        pkts.extend(login(f64::from(i) * 2.0, i, &server, 22, 1.0, 3000));
        pkts.extend(login(
            f64::from(i) * 2.0 + 1.0,
            1000 + i,
            &server,
            21,
            0.5,
            800,
        ));
    }
    let alerts = run(BruteForceConfig::default(), pkts, 500.0);
    for (port, service) in [(22, "SSH"), (21, "FTP")] {
        let eps: Vec<_> = alerts
            .iter()
            .filter(|a| a.details["port"] == port)
            .collect();
        assert!(
            eps.iter().all(|a| a.id == eps[0].id),
            "one {service} episode"
        );
        assert_eq!(eps[0].details["service"], service);
        let last = eps.last().unwrap();
        assert_eq!(last.state, AlertState::Resolved);
        assert_eq!(last.details["attempts"], 60);
    }
}

#[test]
fn real_sessions_long_or_heavy_are_not_failed_logins() {
    // Twenty sessions: half last a minute (a shell), half move 1 MB (a copy).
    let mut pkts = Vec::new();
    for i in 0..10u16 {
        pkts.extend(login(f64::from(i) * 3.0, i, SERVER, 22, 60.0, 3000));
        pkts.extend(login(
            f64::from(i) * 3.0 + 1.0,
            100 + i,
            SERVER,
            22,
            5.0,
            1_000_000,
        ));
    }
    assert!(run(BruteForceConfig::default(), pkts, 120.0).is_empty());
}

#[test]
fn refused_connections_and_other_ports_are_not_login_attempts() {
    let mut pkts = Vec::new();
    for i in 0..30u16 {
        let at = t(f64::from(i));
        pkts.push(tcp(at, ATTACKER, 40000 + i, SERVER, 22, SYN));
        pkts.push(tcp(at, SERVER, 22, ATTACKER, 40000 + i, RST | ACK));
        pkts.extend(login(f64::from(i), 1000 + i, SERVER, 443, 1.0, 3000));
    }
    assert!(run(BruteForceConfig::default(), pkts, 60.0).is_empty());
}

#[test]
fn ignored_sources_are_never_reported_as_brute_force() {
    let cfg = BruteForceConfig {
        ignore_sources: vec![ip(ATTACKER)],
        ..BruteForceConfig::default()
    };
    assert!(run(cfg, failed_ssh(30), 120.0).is_empty());
}

#[test]
fn followed_connections_stay_under_their_cap() {
    let cfg = BruteForceConfig {
        max_connections: 50,
        ..BruteForceConfig::default()
    };
    let mut b = BruteForce::new(cfg, Span::secs(10));
    let mut out = Vec::new();
    for i in 0..200u16 {
        b.packet(
            &tcp(t(0.0), ATTACKER, 1000 + i, SERVER, 22, SYN),
            t(0.0),
            &mut out,
        );
    }
    assert_eq!(b.conns.len(), 50);
    assert_eq!(b.connections_dropped, 150);
}
