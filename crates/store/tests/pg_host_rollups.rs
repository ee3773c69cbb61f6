//! PostgreSQL schema version 5 on a database as version 4 left it: the traffic rollups
//! and all-time totals gain a host key and keep every count, as the local host's.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_core::net::traffic::Counts;
use netsnoop_core::{Event, Host, HostFilter, Protocol, Record, TrafficSecond, Ts};
use netsnoop_store::{
    OpenOptions, PgStore, RetentionConfig, Store, Summary, Talker, TalkerOrder, TimeRange,
};
use netsnoop_test_support::pg;

const HOUR: i64 = 7200;

fn opts() -> OpenOptions {
    OpenOptions {
        retention: RetentionConfig::keep_everything(),
        local_host: Some(Host::new("local-1", "box").unwrap()),
        ..OpenOptions::default()
    }
}

fn talker(ip: &str, packets: u64) -> Talker {
    Talker {
        src_ip: ip.into(),
        packets,
        bytes: packets * 100,
    }
}

#[test]
fn a_version_4_database_keeps_its_traffic_counts_as_the_local_hosts() {
    let url = pg::cluster().fresh_database();
    drop(PgStore::open_at_version(&url, opts(), 4).unwrap());
    // One second of 10 packets (6 from 10.0.0.1, 4 from 10.0.0.2) in every tier, and
    // the totals the version 4 write path kept beside the hour tier.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for suffix in ["", "_10s", "_1m", "_10m", "_1h"] {
        client
            .batch_execute(&format!(
                "INSERT INTO traffic_seconds{suffix} (second, packets, bytes, unique_src, unique_dst)
                 VALUES ({HOUR}, 10, 1000, 3, 1);
                 INSERT INTO traffic_protocol{suffix} VALUES ({HOUR}, 'TCP', 10, 1000);
                 INSERT INTO traffic_dst{suffix} VALUES ({HOUR}, '10.9.9.9', 10, 1000);
                 INSERT INTO traffic_src{suffix} VALUES ({HOUR}, '10.0.0.1', 6, 600),
                     ({HOUR}, '10.0.0.2', 4, 400);"
            ))
            .unwrap();
    }
    client
        .batch_execute(
            "INSERT INTO traffic_src_total VALUES ('10.0.0.1', 6, 600), ('10.0.0.2', 4, 400);
             INSERT INTO traffic_dst_total VALUES ('10.9.9.9', 10, 1000);",
        )
        .unwrap();
    drop(client);

    let store = PgStore::open(&url, opts()).unwrap();
    assert_eq!(store.schema_version().unwrap(), 5);
    let range = TimeRange::between(Ts::from_secs(HOUR), Ts::from_secs(HOUR + 1));
    let want = Summary {
        total_packets: 10,
        unique_sources: 3,
        unique_destinations: 1,
        total_bytes: 1000,
    };
    for filter in [HostFilter::all(), HostFilter(vec!["local-1".into()])] {
        for r in [TimeRange::ALL, range] {
            assert_eq!(store.summary(r, &filter).unwrap(), want, "{r:?} {filter:?}");
            let top = store
                .top_talkers(r, &filter, 5, TalkerOrder::Packets)
                .unwrap();
            assert_eq!(top, vec![talker("10.0.0.1", 6), talker("10.0.0.2", 4)]);
            let protocols = store.protocol_distribution(r, &filter).unwrap();
            assert_eq!(protocols[0].count, 10);
        }
    }
    let elsewhere = HostFilter(vec!["elsewhere".into()]);
    assert_eq!(
        store.summary(TimeRange::ALL, &elsewhere).unwrap(),
        Summary::default()
    );

    // The local host's new traffic adds to the migrated rows and totals.
    let more = Counts {
        packets: 5,
        bytes: 500,
    };
    let second = TrafficSecond {
        second: HOUR,
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
    let top = store
        .top_talkers(TimeRange::ALL, &HostFilter::all(), 5, TalkerOrder::Packets)
        .unwrap();
    assert_eq!(top, vec![talker("10.0.0.2", 9), talker("10.0.0.1", 6)]);
    let s = store.summary(range, &HostFilter::all()).unwrap();
    assert_eq!((s.total_packets, s.unique_sources), (15, 3));
}
