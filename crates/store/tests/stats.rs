//! NetWatch statistics come from the rollups and agree with the packets behind them.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::*;
use netsnoop_core::{Event, HostFilter, PacketMeta, Record, Ts};
use netsnoop_store::{FlowOrder, MAX_RAW_POINTS, TalkerOrder, TimeRange, TrafficSeries};
use std::collections::{BTreeMap, BTreeSet};

const START: i64 = 1_700_000_000;

fn loaded(b: Backend) -> (TestStore, Vec<PacketMeta>) {
    let store = b.store();
    let packets = random_packets(1, START, 120, 5000);
    store.write_batch(&packet_records(&packets)).unwrap();
    store.write_batch(&traffic_records(&packets)).unwrap();
    (store, packets)
}

/// The packets a range covers at rollup granularity (whole seconds by their start).
fn in_range(packets: &[PacketMeta], range: TimeRange) -> Vec<&PacketMeta> {
    packets
        .iter()
        .filter(|p| {
            let start = Ts::from_secs(p.time.secs());
            range.since.is_none_or(|s| start >= s) && range.until.is_none_or(|u| start < u)
        })
        .collect()
}

fn ranges() -> [TimeRange; 3] {
    [
        TimeRange::ALL,
        TimeRange::between(Ts::from_secs(START + 30), Ts::from_secs(START + 75)),
        TimeRange::since(Ts::from_secs(START + 100)),
    ]
}

conformance! {
fn the_summary_matches_the_packets_it_was_rolled_up_from(b) {
    let (store, packets) = loaded(b);
    for range in ranges() {
        let ps = in_range(&packets, range);
        let s = store.summary(range, &HostFilter::all()).unwrap();
        assert!(!ps.is_empty());
        assert_eq!(s.total_packets, ps.len() as u64, "{range:?}");
        assert_eq!(
            s.total_bytes,
            ps.iter().map(|p| u64::from(p.wire_len)).sum::<u64>()
        );
        assert_eq!(
            s.unique_sources,
            ps.iter().map(|p| p.src_ip).collect::<BTreeSet<_>>().len() as u64
        );
        assert_eq!(
            s.unique_destinations,
            ps.iter().map(|p| p.dst_ip).collect::<BTreeSet<_>>().len() as u64
        );
    }
}

fn top_talkers_rank_sources_by_packets_or_bytes(b) {
    let (store, packets) = loaded(b);
    for range in ranges() {
        let mut per_src: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for p in in_range(&packets, range) {
            let e = per_src.entry(p.src_ip.unwrap().to_string()).or_default();
            e.0 += 1;
            e.1 += u64::from(p.wire_len);
        }
        for by in [TalkerOrder::Packets, TalkerOrder::Bytes] {
            let mut want: Vec<(String, u64, u64)> =
                per_src.iter().map(|(k, v)| (k.clone(), v.0, v.1)).collect();
            want.sort_by(|a, b| {
                match by {
                    TalkerOrder::Packets => b.1.cmp(&a.1).then(b.2.cmp(&a.2)),
                    TalkerOrder::Bytes => b.2.cmp(&a.2).then(b.1.cmp(&a.1)),
                }
                .then(a.0.cmp(&b.0))
            });
            want.truncate(3);
            let got: Vec<(String, u64, u64)> = store
                .top_talkers(range, &HostFilter::all(), 3, by)
                .unwrap()
                .into_iter()
                .map(|t| (t.src_ip, t.packets, t.bytes))
                .collect();
            assert_eq!(got, want, "{range:?} {by:?}");
        }
    }
}

fn the_protocol_distribution_counts_every_packet_once(b) {
    let (store, packets) = loaded(b);
    for range in ranges() {
        let mut per: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for p in in_range(&packets, range) {
            let e = per.entry(p.protocol.as_str()).or_default();
            e.0 += 1;
            e.1 += u64::from(p.wire_len);
        }
        let mut want: Vec<(String, u64, u64)> = per
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.0, v.1))
            .collect();
        want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let got: Vec<(String, u64, u64)> = store
            .protocol_distribution(range, &HostFilter::all())
            .unwrap()
            .into_iter()
            .map(|p| (p.protocol, p.count, p.bytes))
            .collect();
        assert_eq!(got, want, "{range:?}");
    }
}

fn traffic_over_time_buckets_sum_the_seconds_in_them(b) {
    let (store, packets) = loaded(b);
    for width in [1u32, 30, 45] {
        let range = TimeRange::between(Ts::from_secs(START + 10), Ts::from_secs(START + 100));
        let mut want: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
        for p in in_range(&packets, range) {
            let s = p.time.secs();
            let e = want.entry(s - s.rem_euclid(i64::from(width))).or_default();
            e.0 += 1;
            e.1 += u64::from(p.wire_len);
        }
        let TrafficSeries::Buckets(got) = store.traffic_over_time(range, &HostFilter::all(), Some(width)).unwrap()
        else {
            panic!("asked for buckets");
        };
        let got: BTreeMap<i64, (u64, u64)> = got
            .into_iter()
            .map(|b| (b.timestamp.secs(), (b.packets, b.bytes)))
            .collect();
        assert_eq!(got, want, "width {width}");
    }
}

fn traffic_over_time_without_buckets_lists_raw_packets_oldest_first(b) {
    let (store, packets) = loaded(b);
    let (since, until) = (
        Ts::from_secs(START + 50) + netsnoop_core::time::Span(1),
        Ts::from_secs(START + 52),
    );
    let want: Vec<(Ts, u32)> = packets
        .iter()
        .filter(|p| p.time >= since && p.time < until)
        .map(|p| (p.time, p.wire_len))
        .collect();
    let TrafficSeries::Packets(got) = store
        .traffic_over_time(TimeRange::between(since, until), &HostFilter::all(), None)
        .unwrap()
    else {
        panic!("asked for raw packets");
    };
    assert!(!want.is_empty());
    assert_eq!(
        got.into_iter()
            .map(|p| (p.timestamp, p.packet_size))
            .collect::<Vec<_>>(),
        want
    );
}

fn raw_traffic_past_the_bound_is_the_newest_packets_every_one_not_a_sample(b) {
    let store = b.store();
    // Distinct times, so "the newest" has one answer.
    let mut packets = random_packets(4, START, 600, MAX_RAW_POINTS as usize + 5_000);
    packets.dedup_by_key(|p| p.time);
    let n = packets.len();
    assert!(n > MAX_RAW_POINTS as usize);
    store.write_batch(&packet_records(&packets)).unwrap();
    let mut all: Vec<(Ts, u32)> = packets.iter().map(|p| (p.time, p.wire_len)).collect();
    all.sort();
    let TrafficSeries::Packets(got) = store.traffic_over_time(TimeRange::ALL, &HostFilter::all(), None).unwrap() else {
        panic!("asked for raw packets");
    };
    let got: Vec<(Ts, u32)> = got
        .into_iter()
        .map(|p| (p.timestamp, p.packet_size))
        .collect();
    assert_eq!(got.len(), MAX_RAW_POINTS as usize);
    assert_eq!(
        got,
        all[n - MAX_RAW_POINTS as usize..].to_vec(),
        "the newest, oldest first"
    );
}

fn recent_packets_are_the_newest_first(b) {
    let (store, packets) = loaded(b);
    let mut want = packets.clone();
    want.reverse();
    want.truncate(30);
    assert_eq!(store.recent_packets(30, &Default::default()).unwrap(), want);
}

fn a_second_reported_twice_adds_up_instead_of_replacing(b) {
    let store = b.store();
    let packets = random_packets(9, START, 1, 200);
    let (a, b) = packets.split_at(77);
    store.write_batch(&traffic_records(a)).unwrap();
    store.write_batch(&traffic_records(b)).unwrap();
    let s = store.summary(TimeRange::ALL, &HostFilter::all()).unwrap();
    assert_eq!(s.total_packets, 200);
    assert_eq!(
        s.total_bytes,
        packets.iter().map(|p| u64::from(p.wire_len)).sum::<u64>()
    );
    let proto_total: u64 = store
        .protocol_distribution(TimeRange::ALL, &HostFilter::all())
        .unwrap()
        .iter()
        .map(|p| p.count)
        .sum();
    assert_eq!(proto_total, 200);
}

fn flows_list_by_recency_or_by_bytes(b) {
    let store = b.store();
    let flows = [flow(1, 50, 900), flow(2, 10, 5000), flow(3, 30, 100)];
    let records: Vec<Record> = flows
        .iter()
        .cloned()
        .map(|f| Record::Event(Event::Flow(f)))
        .collect();
    store.write_batch(&records).unwrap();
    let mut by_recent = flows.to_vec();
    by_recent.sort_by_key(|f| std::cmp::Reverse(f.last_seen));
    let mut by_bytes = flows.to_vec();
    by_bytes.sort_by_key(|f| std::cmp::Reverse(f.orig_bytes + f.resp_bytes));
    assert_eq!(store.flows(10, FlowOrder::LastSeen, &Default::default()).unwrap(), by_recent);
    assert_eq!(
        store.flows(2, FlowOrder::Bytes, &Default::default()).unwrap(),
        by_bytes[..2].to_vec()
    );
}

fn loss_totals_sum_every_report_per_source(b) {
    let store = b.store();
    let reports = [
        loss(1, "capture:lo", 5),
        loss(2, "proc_connector", 3),
        loss(3, "capture:lo", 11),
    ];
    let records: Vec<Record> = reports
        .iter()
        .cloned()
        .map(|l| Record::Event(Event::Loss(l)))
        .collect();
    store.write_batch(&records).unwrap();
    let totals = store.loss_totals(TimeRange::ALL).unwrap();
    let got: Vec<(String, u64, Ts)> = totals
        .into_iter()
        .map(|t| (t.source, t.count, t.last))
        .collect();
    assert_eq!(
        got,
        vec![
            ("capture:lo".into(), 16, Ts::from_secs(3)),
            ("proc_connector".into(), 3, Ts::from_secs(2))
        ]
    );
}

fn capped_rollups_keep_exact_totals_and_never_overcount_hosts(b) {
    let store = b.store();
    let mut packets = Vec::new();
    for i in 0..6 {
        packets.push(packet(
            Ts::from_secs(START) + netsnoop_core::time::Span(i),
            "10.0.0.1",
            "10.9.0.1",
            netsnoop_core::Protocol::Tcp,
            100,
        ));
    }
    for host in 2..=12 {
        packets.push(packet(
            Ts::from_secs(START) + netsnoop_core::time::Span(100 + host),
            &format!("10.0.0.{host}"),
            "10.9.0.2",
            netsnoop_core::Protocol::Udp,
            60,
        ));
    }
    for host in 1..=20 {
        packets.push(packet(
            Ts::from_secs(START + 1) + netsnoop_core::time::Span(host),
            &format!("10.0.1.{host}"),
            "10.9.0.3",
            netsnoop_core::Protocol::Udp,
            70,
        ));
    }
    let seconds = rollups_capped(&packets, 3);
    assert!(
        seconds.iter().any(|s| s.src_other.packets > 0),
        "the cap must bite in this test"
    );
    let records: Vec<Record> = seconds
        .into_iter()
        .map(|t| Record::Event(Event::Traffic(t)))
        .collect();
    store.write_batch(&records).unwrap();

    let s = store.summary(TimeRange::ALL, &HostFilter::all()).unwrap();
    assert_eq!(s.total_packets, packets.len() as u64);
    assert_eq!(
        s.total_bytes,
        packets.iter().map(|p| u64::from(p.wire_len)).sum::<u64>()
    );
    let true_sources = packets
        .iter()
        .map(|p| p.src_ip)
        .collect::<BTreeSet<_>>()
        .len() as u64;
    assert!(
        s.unique_sources <= true_sources && s.unique_sources >= 3,
        "{s:?}"
    );
    let top = store
        .top_talkers(TimeRange::ALL, &HostFilter::all(), 1, TalkerOrder::Packets)
        .unwrap();
    assert_eq!(
        (top[0].src_ip.as_str(), top[0].packets, top[0].bytes),
        ("10.0.0.1", 6, 600)
    );
    let protocols: u64 = store
        .protocol_distribution(TimeRange::ALL, &HostFilter::all())
        .unwrap()
        .iter()
        .map(|p| p.count)
        .sum();
    assert_eq!(protocols, packets.len() as u64);
}
}
