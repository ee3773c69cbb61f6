//! Migration 10 on a database as version 9 left it: the traffic rollups and totals,
//! rebuilt with a host key, keep every count, now as the local host's.

use super::SqliteStore;
use crate::{OpenOptions, RetentionConfig, Store, Summary, Talker, TalkerOrder, TimeRange};
use crate::{ProtocolCount, TrafficSeries};
use netsnoop_core::net::traffic::Counts;
use netsnoop_core::{Event, Host, HostFilter, Protocol, Record, TrafficSecond, Ts};
use rusqlite::Connection;

const HOUR: i64 = 7200;

fn opts() -> OpenOptions {
    OpenOptions {
        retention: RetentionConfig::keep_everything(),
        local_host: Some(Host::new("local-1", "box").unwrap()),
        ..OpenOptions::default()
    }
}

/// Two seconds of one hour, in every table version 9 had (the hour tier's rows fill
/// the totals through version 6's triggers), as a build of version 9 wrote them.
fn fill_v9(conn: &Connection) {
    for (suffix, seconds) in [
        ("", &[HOUR + 1, HOUR + 2][..]),
        ("_10s", &[HOUR][..]),
        ("_1m", &[HOUR][..]),
        ("_10m", &[HOUR][..]),
        ("_1h", &[HOUR][..]),
    ] {
        // Per-second rows: 6 + 4 packets; a bucket of both seconds holds their sum.
        let rows: Vec<(i64, i64)> = if seconds.len() == 2 {
            vec![(seconds[0], 6), (seconds[1], 4)]
        } else {
            vec![(seconds[0], 10)]
        };
        for (second, packets) in rows {
            // Source 10.0.0.1 sent in the first second, 10.0.0.2 in the second.
            let sources: &[(&str, i64)] = match packets {
                10 => &[("10.0.0.1", 6), ("10.0.0.2", 4)],
                6 => &[("10.0.0.1", 6)],
                _ => &[("10.0.0.2", 4)],
            };
            conn.execute_batch(&format!(
                "INSERT INTO traffic_seconds{suffix} (second, packets, bytes, unique_src,
                     unique_dst, src_other_packets, src_other_bytes, dst_other_packets,
                     dst_other_bytes)
                 VALUES ({second}, {packets}, {packets}00, 3, 1, 0, 0, 0, 0);
                 INSERT INTO traffic_protocol{suffix} VALUES ({second}, 'TCP', {packets}, {packets}00);
                 INSERT INTO traffic_dst{suffix} VALUES ({second}, '10.9.9.9', {packets}, {packets}00);"
            ))
            .unwrap();
            for (ip, n) in sources {
                conn.execute_batch(&format!(
                    "INSERT INTO traffic_src{suffix} VALUES ({second}, '{ip}', {n}, {n}00);"
                ))
                .unwrap();
            }
        }
    }
}

fn talker(ip: &str, packets: u64) -> Talker {
    Talker {
        src_ip: ip.into(),
        packets,
        bytes: packets * 100,
    }
}

/// The answers the version 9 rows give, for the store's own host and for all hosts.
fn assert_answers(store: &SqliteStore, filter: &HostFilter, packets: u64, second_two: u64) {
    let range = TimeRange::between(Ts::from_secs(HOUR + 2), Ts::from_secs(HOUR + 3));
    let all = TimeRange::ALL;
    let want = Summary {
        total_packets: packets,
        unique_sources: 3,
        unique_destinations: 1,
        total_bytes: packets * 100,
    };
    assert_eq!(store.summary(all, filter).unwrap(), want);
    let ragged = store.summary(range, filter).unwrap();
    assert_eq!(ragged.total_packets, second_two);
    let top = store
        .top_talkers(all, filter, 5, TalkerOrder::Packets)
        .unwrap();
    assert_eq!(
        top,
        vec![talker("10.0.0.1", packets - 4), talker("10.0.0.2", 4)]
    );
    let top = store
        .top_talkers(range, filter, 5, TalkerOrder::Bytes)
        .unwrap();
    let want: Vec<Talker> = (second_two > 0)
        .then(|| talker("10.0.0.2", second_two))
        .into_iter()
        .collect();
    assert_eq!(top, want);
    let protocols = store.protocol_distribution(all, filter).unwrap();
    assert_eq!(
        protocols,
        vec![ProtocolCount {
            protocol: "TCP".into(),
            count: packets,
            bytes: packets * 100,
        }]
    );
    let TrafficSeries::Buckets(b) = store.traffic_over_time(all, filter, Some(60)).unwrap() else {
        panic!("asked for buckets");
    };
    assert_eq!(b.len(), 1);
    assert_eq!(
        (b[0].timestamp, b[0].packets),
        (Ts::from_secs(HOUR), packets)
    );
}

#[test]
fn a_version_9_database_keeps_its_traffic_counts_as_the_local_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v9.db");
    drop(SqliteStore::open_at_version(&path, opts(), 9).unwrap());
    let conn = Connection::open(&path).unwrap();
    fill_v9(&conn);
    drop(conn);

    let store = SqliteStore::open(&path, opts()).unwrap();
    assert_eq!(store.schema_version().unwrap(), 10);
    assert_eq!(store.stats().unwrap().rows["traffic_src"], 2);
    for filter in [HostFilter::all(), HostFilter(vec!["local-1".into()])] {
        assert_answers(&store, &filter, 10, 4);
    }
    let elsewhere = HostFilter(vec!["elsewhere".into()]);
    assert_eq!(
        store.summary(TimeRange::ALL, &elsewhere).unwrap(),
        Summary::default()
    );
    // The local host's new traffic adds to the migrated rows, totals included.
    let more = Counts {
        packets: 5,
        bytes: 500,
    };
    let second = TrafficSecond {
        second: HOUR + 2,
        total: more,
        by_protocol: vec![(Protocol::Tcp, more)],
        by_src: vec![("10.0.0.2".parse().unwrap(), more)],
        by_dst: vec![("10.9.9.9".parse().unwrap(), more)],
        unique_src: 1,
        unique_dst: 1,
        ..TrafficSecond::default()
    };
    store
        .write_batch(&[Record::Event(Event::Traffic(second))])
        .unwrap();
    let s = store.summary(TimeRange::ALL, &HostFilter::all()).unwrap();
    assert_eq!((s.total_packets, s.unique_sources), (15, 3));
    let top = store
        .top_talkers(TimeRange::ALL, &HostFilter::all(), 5, TalkerOrder::Packets)
        .unwrap();
    assert_eq!(top, vec![talker("10.0.0.2", 9), talker("10.0.0.1", 6)]);
    // Added to the migrated row of that second and source, not beside it.
    assert_eq!(store.stats().unwrap().rows["traffic_src"], 2);
}
