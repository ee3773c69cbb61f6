//! ARP spoofing on scripted ARP packets: conflicts with old and new MAC, the gateway
//! flagged, gratuitous ARP, one MAC claiming many addresses, and what is no spoof (an
//! address that moved after a while, a host's own repeated ARP, probes from 0.0.0.0).

use super::*;
use crate::Alert;
use crate::net::testkit::ip;

const REAL: Mac = [0x02, 0, 0, 0, 0, 0x01];
const EVIL: Mac = [0x02, 0, 0, 0, 0, 0x66];

fn t(s: f64) -> Ts {
    Ts::from_secs_f64(3000.0 + s)
}

fn arp(at: f64, op: u16, sender: &str, mac: Mac, target: &str) -> PacketMeta {
    PacketMeta {
        time: t(at),
        src_ip: Some(ip(sender)),
        dst_ip: Some(ip(target)),
        protocol: Protocol::Arp,
        arp: Some(ArpInfo {
            op,
            sender_mac: mac,
            target_mac: [0; 6],
        }),
        ..PacketMeta::default()
    }
}

fn run(cfg: ArpSpoofConfig, pkts: &[PacketMeta], end: f64) -> Vec<Alert> {
    let mut d = ArpSpoof::new(cfg, Span::secs(10), Span::secs(120));
    let mut out = Vec::new();
    for p in pkts {
        d.packet(p, p.time, &mut out);
        d.sweep(p.time, &mut out);
    }
    d.sweep(t(end), &mut out);
    out.into_iter()
        .filter_map(|r| match r {
            Record::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// Three hosts ask for the gateway 10.0.0.1, which answers from its real MAC.
fn lan() -> Vec<PacketMeta> {
    let mut v = Vec::new();
    for h in 2..5 {
        let host = format!("10.0.0.{h}");
        let mac = [0x02, 0, 0, 0, 1, h as u8];
        v.push(arp(f64::from(h), ArpInfo::REQUEST, &host, mac, "10.0.0.1"));
        v.push(arp(
            f64::from(h) + 0.001,
            ArpInfo::REPLY,
            "10.0.0.1",
            REAL,
            &host,
        ));
    }
    v
}

#[test]
fn a_spoofed_gateway_is_raised_critical_with_the_old_and_new_mac() {
    let mut v = lan();
    v.push(arp(10.0, ArpInfo::REPLY, "10.0.0.1", EVIL, "10.0.0.2"));
    let alerts = run(ArpSpoofConfig::default(), &v, 11.0);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a.kind, "net.arpspoof");
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(a.subject.src_ip, Some(ip("10.0.0.1")));
    assert_eq!(a.details["old_mac"], "02:00:00:00:00:01");
    assert_eq!(a.details["new_mac"], "02:00:00:00:00:66");
    assert_eq!(a.details["gateway"], true);
    assert!(a.message.contains("(gateway)"), "{}", a.message);
}

#[test]
fn a_flip_flop_between_spoofer_and_owner_is_one_episode() {
    let mut v = lan();
    for i in 0..30 {
        let at = 10.0 + f64::from(i) * 2.0;
        v.push(arp(at, ArpInfo::REPLY, "10.0.0.1", EVIL, "10.0.0.2"));
        v.push(arp(at + 1.0, ArpInfo::REPLY, "10.0.0.1", REAL, "10.0.0.2"));
    }
    let alerts = run(ArpSpoofConfig::default(), &v, 300.0);
    assert!(alerts.len() > 2, "updated while it goes on");
    assert!(alerts.iter().all(|a| a.id == alerts[0].id), "one episode");
    assert_eq!(alerts.last().unwrap().state, crate::AlertState::Resolved);
}

#[test]
fn gratuitous_arp_against_the_known_mapping_says_so_and_a_non_gateway_is_high() {
    let mut v = lan();
    v.push(arp(10.0, ArpInfo::REPLY, "10.0.0.3", EVIL, "10.0.0.3"));
    let alerts = run(ArpSpoofConfig::default(), &v, 11.0);
    assert_eq!(alerts[0].details["gratuitous"], true);
    assert_eq!(alerts[0].details["gateway"], false);
    assert_eq!(alerts[0].severity, Severity::High);
}

#[test]
fn the_configured_gateway_is_the_one_flagged() {
    let cfg = ArpSpoofConfig {
        gateways: vec![ip("10.0.0.3")],
        ..ArpSpoofConfig::default()
    };
    let mut v = lan();
    v.push(arp(10.0, ArpInfo::REPLY, "10.0.0.1", EVIL, "10.0.0.2"));
    assert_eq!(run(cfg, &v, 11.0)[0].details["gateway"], false);
}

#[test]
fn an_address_that_moved_after_the_hold_and_repeated_own_arp_are_no_spoof() {
    let mut v = lan();
    for i in 0..20 {
        v.push(arp(
            10.0 + f64::from(i),
            ArpInfo::REQUEST,
            "10.0.0.1",
            REAL,
            "10.0.0.9",
        ));
    }
    // The lease of 10.0.0.7 goes to another machine after 20 minutes of silence.
    v.push(arp(
        40.0,
        ArpInfo::REPLY,
        "10.0.0.7",
        [2, 0, 0, 0, 7, 1],
        "10.0.0.2",
    ));
    v.push(arp(
        1300.0,
        ArpInfo::REPLY,
        "10.0.0.7",
        [2, 0, 0, 0, 7, 2],
        "10.0.0.2",
    ));
    // Address probes (RFC 5227) from 0.0.0.0 by many MACs.
    for i in 0..30u8 {
        v.push(arp(
            1301.0,
            ArpInfo::REQUEST,
            "0.0.0.0",
            [2, 0, 0, 9, 9, i],
            "10.0.0.7",
        ));
    }
    assert!(run(ArpSpoofConfig::default(), &v, 1400.0).is_empty());
}

#[test]
fn one_mac_claiming_sixteen_addresses_is_raised_and_fifteen_is_not() {
    let claims = |n: u8| -> Vec<PacketMeta> {
        (0..n)
            .map(|i| {
                arp(
                    f64::from(i),
                    ArpInfo::REPLY,
                    &format!("10.0.1.{}", 1 + i),
                    EVIL,
                    "10.0.0.2",
                )
            })
            .collect()
    };
    assert!(run(ArpSpoofConfig::default(), &claims(15), 30.0).is_empty());
    let alerts = run(ArpSpoofConfig::default(), &claims(16), 30.0);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].details["claims"], 16);
    assert_eq!(alerts[0].details["mac"], "02:00:00:00:00:66");
}

#[test]
fn ignored_macs_are_never_reported() {
    let cfg = ArpSpoofConfig {
        ignore_macs: vec!["02:00:00:00:00:66".into()],
        ..ArpSpoofConfig::default()
    };
    let mut v = lan();
    v.push(arp(10.0, ArpInfo::REPLY, "10.0.0.1", EVIL, "10.0.0.2"));
    assert!(run(cfg, &v, 11.0).is_empty());
}

#[test]
fn macs_are_parsed_with_colons_or_dashes_and_nonsense_is_refused() {
    assert_eq!(parse_mac("02:00:00:00:00:66"), Some(EVIL));
    assert_eq!(parse_mac("02-00-00-00-00-66"), Some(EVIL));
    assert_eq!(parse_mac("02:00:00:00:66"), None);
    assert_eq!(parse_mac("zz:00:00:00:00:66"), None);
}

#[test]
fn arp_details_travel_in_json_with_macs_as_text() {
    let p = arp(1.0, ArpInfo::REPLY, "10.0.0.1", EVIL, "10.0.0.2");
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["arp"]["sender_mac"], "02:00:00:00:00:66");
    let back: PacketMeta = serde_json::from_value(v).unwrap();
    assert_eq!(back.arp, p.arp);
    let bad = serde_json::json!({"op": 1, "sender_mac": "nope", "target_mac": "00:00:00:00:00:00"});
    let e = serde_json::from_value::<ArpInfo>(bad).unwrap_err();
    assert!(e.to_string().contains("not a MAC address"), "{e}");
}
