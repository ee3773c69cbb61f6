//! Retention by age, by size, and the packet row cap.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::*;
use netsnoop_core::{Event, HostFilter, Record, Severity, Ts};
use netsnoop_store::{AlertFilter, FlowOrder, OpenOptions, RetentionConfig, Store, TimeRange};
use std::time::Duration;

const HOUR: u64 = 3600;

fn hours(h: u64) -> Option<Duration> {
    Some(Duration::from_secs(h * HOUR))
}

conformance! {
fn retention_by_age_deletes_only_what_is_older_than_each_limit(b) {
    let retention = RetentionConfig {
        packets: hours(1),
        traffic: hours(2),
        traffic_minutes: hours(2),
        traffic_hours: hours(2),
        flows: hours(3),
        process_events: hours(4),
        system_samples: hours(5),
        process_samples: hours(5),
        alerts: hours(6),
        losses: hours(6),
        ..RetentionConfig::keep_everything()
    };
    let store = b.store_with(OpenOptions {
        retention: retention.clone(),
        ..OpenOptions::default()
    });
    let now = 100 * HOUR as i64;
    // One row of each kind every 30 minutes over the last 10 hours.
    let mut records = Vec::new();
    let times: Vec<i64> = (0..20).map(|i| now - i * 1800 - 1).collect();
    for &t in &times {
        let packets = vec![packet(
            Ts::from_secs(t),
            "10.0.0.1",
            "10.0.0.2",
            netsnoop_core::Protocol::Udp,
            100,
        )];
        records.extend(packet_records(&packets));
        records.extend(traffic_records(&packets));
        records.push(Record::Event(Event::Flow(flow(t - 10, t, 10))));
        records.push(Record::Event(Event::Process(process_event(
            t,
            1,
            "sh",
            &["sh"],
        ))));
        records.push(Record::Event(Event::Resources(resources(t, 1))));
        records.push(Record::Alert(alert(
            &format!("a{t}"),
            "k",
            Severity::Low,
            t - 5,
            t,
        )));
        records.push(Record::Event(Event::Loss(loss(t, "capture:lo", 1))));
    }
    store.write_batch(&records).unwrap();

    let report = store.apply_retention(Ts::from_secs(now)).unwrap();
    let kept = |h: u64| {
        times
            .iter()
            .filter(|&&t| t >= now - (h * HOUR) as i64)
            .count() as u64
    };
    let deleted = |h: u64| times.len() as u64 - kept(h);
    assert_eq!(report.by_age["packets"], deleted(1));
    assert_eq!(
        report.by_age["traffic"],
        deleted(2) * 4,
        "total, protocol, source and destination rows"
    );
    // Each of these seconds is alone in its minute, two share each hour, and the cutoff
    // falls on an hour.
    assert_eq!(report.by_age["traffic_1m"], deleted(2) * 4);
    assert_eq!(report.by_age["traffic_1h"], deleted(2) * 4 / 2);
    assert_eq!(report.by_age["flows"], deleted(3));
    assert_eq!(report.by_age["process_events"], deleted(4));
    assert_eq!(report.by_age["alerts"], deleted(6));
    assert!(report.by_size.is_empty());

    assert_eq!(store.recent_packets(100, &Default::default()).unwrap().len() as u64, kept(1));
    assert_eq!(
        store.summary(TimeRange::ALL, &HostFilter::all()).unwrap().total_packets,
        kept(2)
    );
    assert_eq!(
        store.flows(100, FlowOrder::LastSeen, &Default::default()).unwrap().len() as u64,
        kept(3)
    );
    assert_eq!(
        store.process_events(100, None).unwrap().len() as u64,
        kept(4)
    );
    assert_eq!(
        store.system_samples(TimeRange::ALL, 100).unwrap().len() as u64,
        kept(5)
    );
    assert_eq!(
        store.process_samples(TimeRange::ALL, 100).unwrap().len() as u64,
        kept(5)
    );
    assert_eq!(
        store
            .alerts(&AlertFilter {
                limit: 100,
                ..AlertFilter::default()
            })
            .unwrap()
            .len() as u64,
        kept(6)
    );
    assert_eq!(
        store.losses(TimeRange::ALL, 100).unwrap().len() as u64,
        kept(6)
    );

    let again = store.apply_retention(Ts::from_secs(now)).unwrap();
    assert_eq!(
        again.total_deleted(),
        0,
        "a second pass at the same time finds nothing"
    );
}

fn the_packet_table_keeps_only_the_newest_rows_under_its_cap(b) {
    let store = b.store_with(OpenOptions {
        retention: RetentionConfig {
            max_packet_rows: Some(1000),
            ..RetentionConfig::keep_everything()
        },
        ..OpenOptions::default()
    });
    let packets = random_packets(5, 5000, 60, 3500);
    let mut capped = 0;
    for chunk in packets.chunks(700) {
        capped += store
            .write_batch(&packet_records(chunk))
            .unwrap()
            .packets_capped;
    }
    assert_eq!(capped, 2500);
    let mut want = packets[2500..].to_vec();
    want.reverse();
    assert_eq!(store.recent_packets(5000, &Default::default()).unwrap(), want);
}
}

#[test]
fn retention_by_size_deletes_the_oldest_packets_first_until_under_the_limit() {
    let (_dir, store) = store();
    let packets = random_packets(3, 1_000_000, 600, 60_000);
    let alerts: Vec<Record> = (0..50)
        .map(|i| {
            Record::Alert(alert(
                &format!("a{i}"),
                "k",
                Severity::High,
                1_000_000,
                1_000_000 + i,
            ))
        })
        .collect();
    store.write_batch(&alerts).unwrap();
    for chunk in packets.chunks(5000) {
        store.write_batch(&packet_records(chunk)).unwrap();
    }
    let before = store.stats().unwrap();
    let limit = before.used_bytes / 2;

    let sized = netsnoop_store::SqliteStore::open(
        store.path(),
        OpenOptions {
            retention: RetentionConfig {
                max_db_bytes: Some(limit),
                ..RetentionConfig::keep_everything()
            },
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let report = sized.apply_retention(Ts::from_secs(2_000_000)).unwrap();
    let after = sized.stats().unwrap();

    assert!(!report.size_limit_unreached);
    assert!(after.used_bytes <= limit, "{} > {limit}", after.used_bytes);
    assert!(
        after.file_bytes < before.file_bytes,
        "freed pages go back to the file system"
    );
    assert_eq!(report.bytes_before, before.used_bytes);
    assert_eq!(report.bytes_after, after.used_bytes);
    let deleted = report.by_size["packets"];
    assert_eq!(
        report.by_size.len(),
        1,
        "only packets had to go: {report:?}"
    );
    assert_eq!(after.rows["packets"], packets.len() as u64 - deleted);
    assert_eq!(after.rows["alerts"], 50);
    // The survivors are the newest packets.
    let oldest_kept = sized
        .traffic_over_time(TimeRange::ALL, &HostFilter::all(), None)
        .unwrap();
    let netsnoop_store::TrafficSeries::Packets(points) = oldest_kept else {
        panic!()
    };
    let newest_deleted = packets[deleted as usize - 1].time;
    assert!(points.iter().all(|p| p.timestamp >= newest_deleted));
}
