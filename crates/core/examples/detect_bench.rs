//! Detection benchmark: for each scan and attack type, how many probes and how many
//! seconds the network stages need to decide, and how many alerts benign traffic draws,
//! with TRW's quick decision and with the breadth rule alone (Zeek's 15 ports / 25
//! hosts), side by side in one run. Traffic is scripted at realistic pacing; time is the
//! packets' own, so the figures are exact and repeatable.
//! Run: `cargo run --release -p netsnoop-core --example detect_bench` (bench/detect/run.sh).

use netsnoop_core::net::packet::tcp_flags::{ACK, FIN, PSH, RST, SYN, URG};
use netsnoop_core::net::packet::{IcmpInfo, PacketMeta, Protocol, QuotedHeader};
use netsnoop_core::net::{NetworkConfig, NetworkStages};
use netsnoop_core::time::Span;
use netsnoop_core::{Alert, Record, Ts};
use std::collections::BTreeSet;
use std::net::IpAddr;

const ATTACKER: &str = "10.9.9.9";
const TARGET: &str = "10.0.0.2";

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn t(s: f64) -> Ts {
    Ts::from_secs_f64(1_800_000_000.0 + s)
}

fn tcp(at: f64, src: &str, sp: u16, dst: &str, dp: u16, flags: u8) -> PacketMeta {
    PacketMeta {
        time: t(at),
        src_ip: Some(ip(src)),
        dst_ip: Some(ip(dst)),
        src_port: sp,
        dst_port: dp,
        protocol: Protocol::Tcp,
        tcp_flags: flags,
        wire_len: 60,
        ip_len: 40,
        ..PacketMeta::default()
    }
}

fn udp(at: f64, src: &str, sp: u16, dst: &str, dp: u16) -> PacketMeta {
    PacketMeta {
        protocol: Protocol::Udp,
        tcp_flags: 0,
        ..tcp(at, src, sp, dst, dp, 0)
    }
}

fn icmp(at: f64, src: &str, dst: &str, ty: u8, quoted: Option<QuotedHeader>) -> PacketMeta {
    let code = match quoted.as_ref().map(|q| q.protocol) {
        Some(Protocol::Other) => 2,
        Some(_) => 3,
        None => 0,
    };
    PacketMeta {
        protocol: Protocol::Icmp,
        icmp: Some(IcmpInfo {
            icmp_type: ty,
            code,
            quoted,
        }),
        ..tcp(at, src, 0, dst, 0, 0)
    }
}

/// `from` refuses what `to` sent it: port unreachable (UDP) or protocol unreachable
/// (OTHER, the protocol number in `dp`).
fn refusal(at: f64, from: &str, to: &str, proto: Protocol, sp: u16, dp: u16) -> PacketMeta {
    let q = QuotedHeader {
        src_ip: ip(to),
        dst_ip: ip(from),
        protocol: proto,
        src_port: sp,
        dst_port: dp,
    };
    icmp(at, from, to, 3, Some(q))
}

fn arp(at: f64, sender: &str, target: &str) -> PacketMeta {
    PacketMeta {
        protocol: Protocol::Arp,
        ..tcp(at, sender, 0, target, 0, 0)
    }
}

fn host(i: u32) -> String {
    format!("10.20.{}.{}", i / 250, 1 + i % 250)
}

/// A scenario: its packets, the alert kind it should raise, and which packets are probes.
struct Case {
    name: &'static str,
    kind: &'static str,
    pkts: Vec<PacketMeta>,
    probe: fn(&PacketMeta) -> bool,
}

fn from_attacker(p: &PacketMeta) -> bool {
    p.src_ip == Some(ip(ATTACKER))
}

fn syn_only(p: &PacketMeta) -> bool {
    p.tcp_flags == SYN
}

/// A scan of 1,000 ports, `gap` seconds apart, 5 open, answered as Linux answers: RST
/// from closed TCP ports (and from open ones for ACK-type probes), and for UDP, ICMP
/// port unreachable rate-limited to a burst of 6 then one a second.
fn port_scan(flags: Option<u8>, filtered: bool, gap: f64) -> Vec<PacketMeta> {
    let mut v = Vec::new();
    let mut last_icmp_sec = -1.0;
    for i in 0..1000u16 {
        let at = f64::from(i) * gap;
        let (sp, dp) = (40000, 1 + i);
        let open = i % 200 == 21;
        let Some(f) = flags else {
            v.push(udp(at, ATTACKER, sp, TARGET, dp));
            let sec = at.floor();
            if !open && (i < 6 || sec > last_icmp_sec) {
                last_icmp_sec = sec;
                v.push(refusal(
                    at + 0.0002,
                    TARGET,
                    ATTACKER,
                    Protocol::Udp,
                    sp,
                    dp,
                ));
            }
            continue;
        };
        v.push(tcp(at, ATTACKER, sp, TARGET, dp, f));
        if filtered {
            continue;
        }
        if f == SYN && open {
            v.push(tcp(at + 0.0002, TARGET, dp, ATTACKER, sp, SYN | ACK));
            v.push(tcp(at + 0.0003, ATTACKER, sp, TARGET, dp, RST));
        } else if f == SYN {
            v.push(tcp(at + 0.0002, TARGET, dp, ATTACKER, sp, RST | ACK));
        } else if f & ACK != 0 {
            v.push(tcp(at + 0.0002, TARGET, dp, ATTACKER, sp, RST));
        } else if !open {
            v.push(tcp(at + 0.0002, TARGET, dp, ATTACKER, sp, RST | ACK));
        }
    }
    v
}

fn scans() -> Vec<Case> {
    let scan = |name, flags, filtered, gap| Case {
        name,
        kind: "net.portscan",
        pkts: port_scan(flags, filtered, gap),
        probe: from_attacker,
    };
    vec![
        scan("SYN scan, closed ports (-sS)", Some(SYN), false, 0.0005),
        scan("SYN scan, filtered (silent)", Some(SYN), true, 0.0005),
        scan("FIN scan (-sF)", Some(FIN), false, 0.0005),
        scan("NULL scan (-sN)", Some(0), false, 0.0005),
        scan("Xmas scan (-sX)", Some(FIN | PSH | URG), false, 0.0005),
        scan("ACK / Window scan (-sA, -sW)", Some(ACK), false, 0.0005),
        scan("Maimon scan (-sM)", Some(FIN | ACK), false, 0.0005),
        scan("UDP scan, ICMP rate-limited (-sU)", None, false, 0.0005),
        scan(
            "slow SYN scan, 1 probe / 15 s (-T1)",
            Some(SYN),
            false,
            15.0,
        ),
        scan("SYN scan, 1 probe / 5 min (-T0)", Some(SYN), false, 300.0),
    ]
}

fn sweeps() -> Vec<Case> {
    // Port 22 over 1,000 hosts, 1 in 20 live (SYN-ACK, then the scanner's half-open RST).
    let mut sweep = Vec::new();
    for i in 0..1000u32 {
        let at = f64::from(i) * 0.002;
        sweep.push(tcp(at, ATTACKER, 41000, &host(i), 22, SYN));
        if i % 20 == 0 {
            sweep.push(tcp(at + 0.001, &host(i), 22, ATTACKER, 41000, SYN | ACK));
            sweep.push(tcp(at + 0.0011, ATTACKER, 41000, &host(i), 22, RST));
        }
    }
    // Host discovery over 254 addresses, 10 of them live.
    let (mut arps, mut echo, mut syn, mut ack) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..254u32 {
        let at = f64::from(i) * 0.004;
        let h = host(i);
        arps.push(arp(at, ATTACKER, &h));
        echo.push(icmp(at, ATTACKER, &h, 8, None));
        syn.push(tcp(at, ATTACKER, 42000, &h, 443, SYN));
        ack.push(tcp(at, ATTACKER, 42001, &h, 80, ACK));
        if i % 25 == 0 {
            arps.push(arp(at + 0.0005, &h, ATTACKER));
            echo.push(icmp(at + 0.0005, &h, ATTACKER, 0, None));
            syn.push(tcp(at + 0.0005, &h, 443, ATTACKER, 42000, SYN | ACK));
            syn.push(tcp(at + 0.0006, ATTACKER, 42000, &h, 443, RST));
        }
        // Every address answers a stray ACK (the range is one stack's, as in the live test).
        ack.push(tcp(at + 0.0005, &h, 80, ATTACKER, 42001, RST));
    }
    let case = |name, kind, pkts| Case {
        name,
        kind,
        pkts,
        probe: from_attacker,
    };
    vec![
        case(
            "sweep of port 22 over 1,000 hosts, 5% live",
            "net.sweep",
            sweep,
        ),
        case("ARP sweep of a /24, 10 live (-sn)", "net.discovery", arps),
        case(
            "ICMP echo sweep of a /24, 10 live (-PE)",
            "net.discovery",
            echo,
        ),
        case("TCP SYN ping sweep of a /24 (-PS443)", "net.discovery", syn),
        case("TCP ACK ping sweep of a /24 (-PA80)", "net.discovery", ack),
    ]
}

fn attacks() -> Vec<Case> {
    // IP protocol scan: 256 protocols, 2 ms apart; refusals rate-limited (6, then 1/s).
    let mut proto = Vec::new();
    for p in 0..=255u16 {
        let at = f64::from(p) * 0.002;
        let mut m = tcp(at, ATTACKER, 0, TARGET, 0, 0);
        m.protocol = Protocol::Other;
        proto.push(m);
        if (7..13).contains(&p) {
            proto.push(refusal(
                at + 0.0002,
                TARGET,
                ATTACKER,
                Protocol::Other,
                0,
                p,
            ));
        }
    }
    // A spoofed SYN flood, 2,000 a second for 20 s, every SYN answered.
    let mut flood = Vec::new();
    for i in 0..40_000u32 {
        let at = f64::from(i) / 2000.0;
        let src = format!(
            "{}.{}.{}.{}",
            11 + i % 200,
            (i / 200) % 250,
            (i / 50_000) % 250,
            1 + i % 251
        );
        let sp = 1024 + (i % 60000) as u16;
        flood.push(tcp(at, &src, sp, TARGET, 80, SYN));
        flood.push(tcp(at + 0.0001, TARGET, 80, &src, sp, SYN | ACK));
    }
    // SSH brute force: a failed login every 2 s (connect, 3 KB of key exchange, close).
    let mut brute = Vec::new();
    for i in 0..60u16 {
        let at = f64::from(i) * 2.0;
        let sp = 50000 + i;
        brute.push(tcp(at, ATTACKER, sp, TARGET, 22, SYN));
        brute.push(tcp(at + 0.001, TARGET, 22, ATTACKER, sp, SYN | ACK));
        brute.push(tcp(at + 0.002, ATTACKER, sp, TARGET, 22, ACK));
        let mut kex = tcp(at + 0.3, TARGET, 22, ATTACKER, sp, PSH | ACK);
        kex.ip_len = 3000;
        brute.push(kex);
        brute.push(tcp(at + 1.0, ATTACKER, sp, TARGET, 22, FIN | ACK));
        brute.push(tcp(at + 1.001, TARGET, 22, ATTACKER, sp, FIN | ACK));
    }
    vec![
        Case {
            name: "IP protocol scan (-sO)",
            kind: "net.protoscan",
            pkts: proto,
            probe: from_attacker,
        },
        Case {
            name: "spoofed SYN flood, 2,000 SYN/s",
            kind: "net.synflood",
            pkts: flood,
            probe: syn_only,
        },
        Case {
            name: "SSH brute force, a login every 2 s",
            kind: "net.bruteforce",
            pkts: brute,
            probe: syn_only,
        },
    ]
}

/// Benign traffic over 10 minutes: a load test, a busy web client, DNS and NTP chatter.
fn benign() -> Vec<PacketMeta> {
    let mut v = Vec::new();
    // Load test: 20,000 connections to one port over 100 s, 5% refused.
    for i in 0..20_000u32 {
        let at = f64::from(i) * 0.005;
        let sp = 20000 + (i % 40000) as u16;
        let (c, s) = ("10.1.1.20", "10.1.1.80");
        v.push(tcp(at, c, sp, s, 8080, SYN));
        if i % 20 == 0 {
            v.push(tcp(at + 0.0005, s, 8080, c, sp, RST | ACK));
            continue;
        }
        v.push(tcp(at + 0.0005, s, 8080, c, sp, SYN | ACK));
        v.push(tcp(at + 0.0007, c, sp, s, 8080, ACK));
        v.push(tcp(at + 0.003, c, sp, s, 8080, FIN | ACK));
        v.push(tcp(at + 0.0032, s, 8080, c, sp, FIN | ACK));
    }
    // A busy web client: 6,000 connections to 400 servers on 443 and 80, 3% unanswered.
    for i in 0..6000u32 {
        let at = f64::from(i) * 0.1;
        let server = format!("203.0.{}.{}", 113 + i % 2, 1 + (i * 7) % 200);
        let (sp, dp) = (
            30000 + (i % 30000) as u16,
            if i % 5 == 0 { 80 } else { 443 },
        );
        v.push(tcp(at, "10.1.1.10", sp, &server, dp, SYN));
        if i % 33 != 0 {
            v.push(tcp(at + 0.02, &server, dp, "10.1.1.10", sp, SYN | ACK));
            v.push(tcp(at + 0.021, "10.1.1.10", sp, &server, dp, ACK));
        }
    }
    // DNS to three resolvers and NTP to four servers, 1% of queries unanswered.
    for i in 0..12_000u32 {
        let at = f64::from(i) * 0.05;
        let sp = 40000 + (i % 20000) as u16;
        let (server, port) = if i % 10 == 0 {
            (format!("10.2.0.{}", 1 + i % 4), 123)
        } else {
            (format!("10.1.1.{}", 53 + i % 3), 53)
        };
        v.push(udp(at, "10.1.1.10", sp, &server, port));
        if i % 100 != 0 {
            v.push(udp(at + 0.01, &server, port, "10.1.1.10", sp));
        }
    }
    v
}

/// Runs packets through every network stage, ticking once a second of packet time, and
/// ends the data a minute after the last packet.
fn alerts(cfg: &NetworkConfig, pkts: &[PacketMeta]) -> Vec<Alert> {
    let mut stages = NetworkStages::new(cfg);
    let mut out = Vec::new();
    for p in pkts {
        stages.packet(p, &mut out);
    }
    let end = pkts.last().map_or(t(0.0), |p| p.time);
    for s in 1..=60 {
        stages.tick_into(end + Span::secs(s), &mut out);
    }
    stages.finish_into(end + Span::secs(61), &mut out);
    out.into_iter()
        .filter_map(|r| match r {
            Record::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// The breadth rule alone: Zeek's 15 ports / 25 hosts, with the walk's bounds reached at
/// the first failure and no quick vertical decision.
fn breadth_only() -> NetworkConfig {
    let mut cfg = NetworkConfig::default();
    cfg.scan.trw_vertical_ports = 16;
    cfg.scan.trw_detection = 0.99;
    cfg.scan.trw_false_positive = 0.98;
    cfg
}

fn decided(cfg: &NetworkConfig, case: &Case) -> String {
    let mut pkts = case.pkts.clone();
    pkts.sort_by_key(|p| p.time);
    let found = alerts(cfg, &pkts);
    let Some(first) = found.iter().find(|a| a.kind == case.kind) else {
        return "missed | —".to_string();
    };
    let probes = pkts
        .iter()
        .filter(|p| p.time <= first.first_seen && (case.probe)(p))
        .count();
    let secs = (first.first_seen - pkts[0].time).0 as f64 / 1e6;
    format!("{probes} | {secs:.2}")
}

fn main() {
    let (new, old) = (NetworkConfig::default(), breadth_only());
    println!(
        "| scan / attack | alert | probes to decide, TRW + breadth | seconds | probes, breadth alone | seconds |"
    );
    println!("|---|---|---|---|---|---|");
    for case in scans().into_iter().chain(sweeps()).chain(attacks()) {
        println!(
            "| {} | `{}` | {} | {} |",
            case.name,
            case.kind,
            decided(&new, &case),
            decided(&old, &case)
        );
    }
    let mut benign = benign();
    benign.sort_by_key(|p| p.time);
    let false_alerts = |cfg: &NetworkConfig| -> String {
        let found = alerts(cfg, &benign);
        let episodes: BTreeSet<&str> = found.iter().map(|a| a.id.as_str()).collect();
        let kinds: BTreeSet<&str> = found.iter().map(|a| a.kind.as_str()).collect();
        format!("{} {kinds:?}", episodes.len())
    };
    println!(
        "| benign, 10 min: load test, web client, DNS/NTP ({} packets) | false alerts | {} | | {} | |",
        benign.len(),
        false_alerts(&new),
        false_alerts(&old)
    );
}
