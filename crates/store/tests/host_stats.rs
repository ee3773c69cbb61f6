//! Traffic statistics per host: with a host filter every statistics query answers from
//! those hosts' rollups only, and without one it sums every host's exactly as one
//! host's rollups of all that traffic would (a brute-force sum over the seconds is the
//! reference), on both backends. Also retention, which trims every host's rollups.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::brute::{Brute, second_in};
use common::*;
use netsnoop_core::{Host, HostFilter, TrafficSecond, Ts};
use netsnoop_store::{OpenOptions, RetentionConfig, Store, TalkerOrder, TimeRange, TrafficSeries};
use std::time::Duration;

/// Not aligned to a minute or an hour, so the data's own edges are ragged too.
const T0: i64 = 1_700_000_000 + 1234;
const HOUR: i64 = 3600;

fn hosts(names: &[&str]) -> HostFilter {
    HostFilter(names.iter().map(|s| s.to_string()).collect())
}

/// Two agents' seconds over three hours, half an hour apart, their addresses partly
/// shared and their rows capped (so distinct counts exceed the rows). `web-2` is also
/// known by its hostname `web-2.example`.
fn fleet() -> (Vec<TrafficSecond>, Vec<TrafficSecond>) {
    let label = |seconds: Vec<TrafficSecond>, id: &str| -> Vec<TrafficSecond> {
        let host = Host::new(id, format!("{id}.example")).unwrap().shared();
        seconds
            .into_iter()
            .map(|mut t| {
                t.host = Some(host.clone());
                t
            })
            .collect()
    };
    let a = two_thread_rollups(&busy_packets(31, T0, 3 * HOUR, 3000, 40), 4);
    let b = two_thread_rollups(&busy_packets(32, T0 + 1800, 3 * HOUR, 2000, 40), 4);
    (label(a, "web-1"), label(b, "web-2"))
}

fn write(store: &dyn Store, a: &[TrafficSecond], b: &[TrafficSecond]) {
    // Alternate batches of the two hosts, as agents' batches arrive.
    let (mut a, mut b) = (a.chunks(400), b.chunks(400));
    loop {
        let (x, y) = (a.next(), b.next());
        if x.is_none() && y.is_none() {
            break;
        }
        for chunk in [x, y].into_iter().flatten() {
            store.write_batch(&seconds_records(chunk)).unwrap();
        }
    }
}

/// Asserts every statistic over `range` for `filter` equals the brute-force answer
/// over `seconds` (those of the hosts the filter names), traffic over time in buckets
/// of each of `widths` seconds.
fn check(
    store: &dyn Store,
    filter: &HostFilter,
    seconds: &[TrafficSecond],
    range: TimeRange,
    widths: &[u32],
) {
    let want = Brute::new(seconds, |s| second_in(range, s));
    let what = format!("{filter:?} {range:?}");
    assert_eq!(
        store.summary(range, filter).unwrap(),
        want.summary(),
        "summary {what}"
    );
    for (by, bytes) in [(TalkerOrder::Packets, false), (TalkerOrder::Bytes, true)] {
        let mut talkers = want.talkers(bytes);
        talkers.truncate(10);
        let got = store.top_talkers(range, filter, 10, by).unwrap();
        assert_eq!(got, talkers, "talkers {by:?} {what}");
    }
    let protocols = store.protocol_distribution(range, filter).unwrap();
    assert_eq!(protocols, want.protocols(), "protocols {what}");
    for &width in widths {
        let TrafficSeries::Buckets(got) =
            store.traffic_over_time(range, filter, Some(width)).unwrap()
        else {
            panic!("asked for buckets")
        };
        let got: Vec<(i64, u64, u64)> = got
            .into_iter()
            .map(|b| (b.timestamp.secs(), b.packets, b.bytes))
            .collect();
        assert_eq!(
            got,
            want.buckets(width as i64),
            "buckets of {width} s {what}"
        );
    }
}

fn ranges() -> [TimeRange; 4] {
    [
        TimeRange::ALL,
        TimeRange::between(Ts::from_secs(T0 + 777), Ts::from_secs(T0 + 2 * HOUR + 61)),
        TimeRange::since(Ts::from_secs(T0 + HOUR + 5)),
        TimeRange::between(Ts::from_secs(T0 + 1800), Ts::from_secs(T0 + 1830)),
    ]
}

conformance! {
fn each_statistic_of_a_host_counts_its_traffic_and_all_hosts_sum_theirs(b) {
    let (a, c) = fleet();
    let store = b.store();
    write(&*store, &a, &c);
    let both: Vec<TrafficSecond> = a.iter().chain(&c).cloned().collect();
    assert!(Brute::new(&a, |_| true).summary().total_packets > 0);
    for range in ranges() {
        let w = [60, 600];
        check(&*store, &HostFilter::all(), &both, range, &w);
        check(&*store, &hosts(&["web-1"]), &a, range, &w);
        check(&*store, &hosts(&["web-2.example"]), &c, range, &w);
        check(&*store, &hosts(&["web-1", "web-2"]), &both, range, &w);
        check(&*store, &hosts(&["nobody"]), &[], range, &w);
    }
}

fn retention_trims_every_hosts_rollups_and_all_time_totals(b) {
    let (a, c) = fleet();
    let keep = OpenOptions {
        retention: RetentionConfig {
            traffic: Some(Duration::from_secs(HOUR as u64)),
            traffic_minutes: Some(Duration::from_secs(HOUR as u64)),
            traffic_hours: Some(Duration::from_secs(2 * HOUR as u64)),
            ..RetentionConfig::keep_everything()
        },
        ..OpenOptions::default()
    };
    let store = b.store_with(keep);
    write(&*store, &a, &c);
    let now = Ts::from_secs(T0 + 4 * HOUR);
    let report = store.apply_retention(now).unwrap();
    assert!(report.by_age.contains_key("traffic_1h"), "{report:?}");
    // What is left of the hour tier (all time reads it, and hourly buckets): whole
    // hours from the cutoff on.
    let cut = (now.secs() - 2 * HOUR).div_euclid(HOUR) * HOUR;
    let kept = |s: &[TrafficSecond]| -> Vec<TrafficSecond> {
        s.iter().filter(|t| t.second >= cut).cloned().collect()
    };
    let (a, c) = (kept(&a), kept(&c));
    let both: Vec<TrafficSecond> = a.iter().chain(&c).cloned().collect();
    for (filter, seconds) in [
        (HostFilter::all(), &both),
        (hosts(&["web-1"]), &a),
        (hosts(&["web-2"]), &c),
    ] {
        check(&*store, &filter, seconds, TimeRange::ALL, &[3600]);
    }
}
}
