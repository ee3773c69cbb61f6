//! Flow table tests on scripted packets at fixed times.

use super::*;
use crate::net::packet::tcp_flags::{ACK, FIN, RST, SYN};
use crate::net::testkit::{ip, tcp, udp};

fn flows(records: Vec<Record>) -> Vec<FlowRecord> {
    records
        .into_iter()
        .filter_map(|r| match r {
            Record::Event(Event::Flow(f)) => Some(f),
            _ => None,
        })
        .collect()
}

fn feed(table: &mut FlowTable, pkts: &[PacketMeta]) -> Vec<FlowRecord> {
    let mut out = Vec::new();
    for p in pkts {
        out.extend(table.ingest(&Event::Packet(p.clone()), p.time));
    }
    flows(out)
}

fn t(s: f64) -> Ts {
    Ts::from_secs_f64(1000.0 + s)
}

#[test]
fn a_complete_tcp_conversation_is_one_sf_flow_with_both_directions_counted() {
    let mut ft = FlowTable::new(FlowConfig::default());
    let (c, s) = ("10.0.0.1", "10.0.0.2");
    let pkts = [
        tcp(t(0.0), c, 5000, s, 80, SYN),
        tcp(t(0.1), s, 80, c, 5000, SYN | ACK),
        tcp(t(0.2), c, 5000, s, 80, ACK),
        tcp(t(0.3), c, 5000, s, 80, FIN | ACK),
        tcp(t(0.4), s, 80, c, 5000, FIN | ACK),
        tcp(t(0.5), c, 5000, s, 80, ACK),
    ];
    assert!(feed(&mut ft, &pkts).is_empty());
    assert!(flows(ft.tick(t(1.0))).is_empty(), "lingers after close");
    let done = flows(ft.tick(t(3.0)));
    assert_eq!(done.len(), 1);
    let f = &done[0];
    assert_eq!((f.orig_ip, f.orig_port), (Some(ip(c)), 5000));
    assert_eq!((f.resp_ip, f.resp_port), (Some(ip(s)), 80));
    assert_eq!((f.orig_packets, f.resp_packets), (4, 2));
    assert_eq!((f.orig_bytes, f.resp_bytes), (240, 120));
    assert_eq!((f.state.as_ref(), f.end_reason.as_ref()), ("SF", "fin"));
    assert_eq!((f.first_seen, f.last_seen), (t(0.0), t(0.5)));
    assert_eq!(ft.stats().active, 0);
}

#[test]
fn a_rejected_syn_is_rej_and_an_unanswered_one_s0_after_the_attempt_timeout() {
    let mut ft = FlowTable::new(FlowConfig::default());
    feed(
        &mut ft,
        &[
            tcp(t(0.0), "10.0.0.1", 4000, "10.0.0.2", 23, SYN),
            tcp(t(0.0), "10.0.0.2", 23, "10.0.0.1", 4000, RST | ACK),
            tcp(t(0.0), "10.0.0.1", 4001, "10.0.0.2", 24, SYN),
        ],
    );
    let done = flows(ft.tick(t(5.0)));
    assert_eq!(done.len(), 1);
    assert_eq!(
        (done[0].state.as_ref(), done[0].end_reason.as_ref()),
        ("REJ", "rst")
    );
    assert!(flows(ft.tick(t(20.0))).is_empty());
    let done = flows(ft.tick(t(31.0)));
    assert_eq!(
        (done[0].state.as_ref(), done[0].end_reason.as_ref()),
        ("S0", "idle")
    );
    assert_eq!(done[0].resp_port, 24);
}

#[test]
fn a_flow_first_seen_at_its_syn_ack_is_turned_around() {
    let mut ft = FlowTable::new(FlowConfig::default());
    feed(
        &mut ft,
        &[tcp(t(0.0), "10.0.0.9", 443, "10.0.0.1", 6000, SYN | ACK)],
    );
    let done = flows(ft.finish(t(1.0)));
    assert_eq!(
        (done[0].orig_ip, done[0].orig_port),
        (Some(ip("10.0.0.1")), 6000)
    );
    assert_eq!(done[0].resp_packets, 1);
    assert_eq!(done[0].end_reason, "shutdown");
}

#[test]
fn udp_flows_end_when_idle_and_say_whether_they_were_answered() {
    let mut ft = FlowTable::new(FlowConfig::default());
    feed(
        &mut ft,
        &[
            udp(t(0.0), "10.0.0.1", 5353, "10.0.0.53", 53),
            udp(t(0.01), "10.0.0.53", 53, "10.0.0.1", 5353),
            udp(t(0.0), "10.0.0.1", 9999, "10.0.0.7", 514),
        ],
    );
    let mut done = flows(ft.tick(t(61.0)));
    done.sort_by_key(|f| f.resp_port);
    assert_eq!(done.len(), 2);
    assert_eq!((done[0].resp_port, done[0].state.as_ref()), (53, "SF"));
    assert_eq!((done[1].resp_port, done[1].state.as_ref()), (514, "S0"));
}

#[test]
fn a_full_table_evicts_the_oldest_flow_and_counts_it() {
    let cfg = FlowConfig {
        max_flows: 2,
        ..FlowConfig::default()
    };
    let mut ft = FlowTable::new(cfg);
    let done = feed(
        &mut ft,
        &[
            udp(t(0.0), "10.0.0.1", 1, "10.0.0.2", 1),
            udp(t(0.1), "10.0.0.1", 2, "10.0.0.2", 2),
            udp(t(0.2), "10.0.0.1", 3, "10.0.0.2", 3),
        ],
    );
    assert_eq!(done.len(), 1);
    assert_eq!(
        (done[0].orig_port, done[0].end_reason.as_ref()),
        (1, "evicted")
    );
    assert_eq!(ft.stats().evicted, 1);
    assert_eq!(ft.stats().active, 2);
}

#[test]
fn a_long_flow_is_reported_at_the_active_timeout_and_counted_afresh() {
    let cfg = FlowConfig {
        active_timeout_secs: 10,
        ..FlowConfig::default()
    };
    let mut ft = FlowTable::new(cfg);
    let mut done = Vec::new();
    for i in 0..12 {
        feed(&mut ft, &[udp(t(i as f64), "10.0.0.1", 7, "10.0.0.2", 7)]);
        done.extend(flows(ft.tick(t(i as f64))));
    }
    assert_eq!(done.len(), 1);
    assert_eq!(
        (done[0].end_reason.as_ref(), done[0].orig_packets),
        ("active", 11)
    );
    let rest = flows(ft.finish(t(13.0)));
    assert_eq!(rest[0].orig_packets, 1);
}

#[test]
fn a_new_syn_on_a_closed_five_tuple_starts_a_new_flow() {
    let mut ft = FlowTable::new(FlowConfig::default());
    let (a, b) = ("10.0.0.1", "10.0.0.2");
    let done = feed(
        &mut ft,
        &[
            tcp(t(0.0), a, 1234, b, 80, SYN),
            tcp(t(0.0), b, 80, a, 1234, RST | ACK),
            tcp(t(0.5), a, 1234, b, 80, SYN),
        ],
    );
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].state, "REJ");
    assert_eq!(ft.stats().active, 1);
}

#[test]
fn packets_without_addresses_or_arp_make_no_flow() {
    let mut ft = FlowTable::new(FlowConfig::default());
    let arp = PacketMeta {
        protocol: Protocol::Arp,
        ..udp(t(0.0), "10.0.0.1", 0, "10.0.0.2", 0)
    };
    feed(&mut ft, &[arp, PacketMeta::default()]);
    assert_eq!(ft.stats().active, 0);
}
