//! The minute and hour rollup tiers: tiered statistics equal a brute-force sum over the
//! per-second inputs for any range, also after retention and after migrating a database
//! that had only per-second rollups.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::brute::{Brute, second_in};
use common::*;
use netsnoop_core::time::Span;
use netsnoop_core::{HostFilter, TrafficSecond, Ts};
use netsnoop_store::{
    OpenOptions, RetentionConfig, SqliteStore, Store, TalkerOrder, TimeRange, TrafficSeries,
};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::time::Duration;

/// Not aligned to a minute or an hour, so the data's own edges are ragged too.
const T0: i64 = 1_700_000_000 + 1234;
const HOUR: i64 = 3600;

/// Asserts every statistic the store answers from the tiers over `range` equals the
/// brute-force sum over the seconds `counts` admits.
fn check(store: &dyn Store, all: &[TrafficSecond], range: TimeRange, counts: impl Fn(i64) -> bool) {
    let want = Brute::new(all, counts);
    assert_eq!(
        store.summary(range, &HostFilter::all()).unwrap(),
        want.summary(),
        "summary {range:?}"
    );
    for (by, bytes) in [(TalkerOrder::Packets, false), (TalkerOrder::Bytes, true)] {
        let mut talkers = want.talkers(bytes);
        talkers.truncate(10);
        assert_eq!(
            store
                .top_talkers(range, &HostFilter::all(), 10, by)
                .unwrap(),
            talkers,
            "talkers {range:?} {by:?}"
        );
    }
    assert_eq!(
        store
            .protocol_distribution(range, &HostFilter::all())
            .unwrap(),
        want.protocols(),
        "protocols {range:?}"
    );
}

fn buckets(store: &dyn Store, range: TimeRange, width: u32) -> Vec<(i64, u64, u64)> {
    match store
        .traffic_over_time(range, &HostFilter::all(), Some(width))
        .unwrap()
    {
        TrafficSeries::Buckets(b) => b
            .into_iter()
            .map(|b| (b.timestamp.secs(), b.packets, b.bytes))
            .collect(),
        TrafficSeries::Packets(_) => panic!("asked for buckets"),
    }
}

/// A range edge near the data: an hour from one before `T0`'s to four after, then
/// minutes, seconds and microseconds that are often zero, so edges fall on hour, minute
/// and second boundaries as well as between them. `None` now and then: unbounded.
fn edge() -> impl Strategy<Value = Option<Ts>> {
    let part = |max: i64| prop_oneof![Just(0), 0..max];
    let at = (-1..5i64, part(60), part(60), part(1_000_000)).prop_map(|(h, m, s, us)| {
        Ts::from_secs(T0 - T0.rem_euclid(HOUR) + h * HOUR + m * 60 + s) + Span(us)
    });
    prop_oneof![1 => Just(None), 7 => at.prop_map(Some)]
}

fn range() -> impl Strategy<Value = TimeRange> {
    (edge(), edge()).prop_map(|(since, until)| TimeRange { since, until })
}

fn filled(b: Backend, seconds: &[TrafficSecond]) -> TestStore {
    let store = b.store();
    for chunk in seconds.chunks(500) {
        store.write_batch(&seconds_records(chunk)).unwrap();
    }
    store
}

/// One proptest case on one backend.
fn tiered_case(
    b: Backend,
    seed: u64,
    cap: usize,
    ranges: Vec<TimeRange>,
) -> Result<(), TestCaseError> {
    let packets = busy_packets(seed, T0, 3 * HOUR + 1000, 3000, 80);
    let seconds = two_thread_rollups(&packets, cap);
    let store = filled(b, &seconds);
    for range in ranges.into_iter().chain([TimeRange::ALL]) {
        check(&*store, &seconds, range, |s| second_in(range, s));
        let want = Brute::new(&seconds, |s| second_in(range, s));
        for width in [1u32, 30, 60, 90, 300, 600, 1800, 3600, 7200] {
            prop_assert_eq!(
                buckets(&*store, range, width),
                want.buckets(i64::from(width)),
                "width {}",
                width
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn tiered_statistics_equal_a_sum_over_the_seconds_for_any_range_on_sqlite(
        seed in any::<u64>(),
        cap in 2usize..30,
        ranges in proptest::collection::vec(range(), 25),
    ) {
        tiered_case(Backend::Sqlite, seed, cap, ranges)?;
    }

    #[test]
    fn tiered_statistics_equal_a_sum_over_the_seconds_for_any_range_on_postgres(
        seed in any::<u64>(),
        cap in 2usize..30,
        ranges in proptest::collection::vec(range(), 25),
    ) {
        tiered_case(Backend::Postgres, seed, cap, ranges)?;
    }
}

/// The longer age, `None` (forever) being longest.
fn longest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    Some(a?.max(b?))
}

/// Whether `[b, b + width)` lies wholly in the range.
fn whole(range: TimeRange, b: i64, width: i64) -> bool {
    second_in(range, b) && second_in(range, b + width - 1)
}

conformance! {
fn after_retention_a_second_counts_when_a_kept_tier_covers_it_inside_the_range(b) {
    let hours = |h: f64| Some(Duration::from_secs_f64(h * 3600.0));
    let now = Ts::from_secs(T0 + 9 * HOUR + 17 * 60 + 23) + Span(500_000);
    let packets = busy_packets(11, T0, 9 * HOUR + 17 * 60, 6000, 60);
    let seconds = two_thread_rollups(&packets, 5);
    // (seconds, minutes, hours) kept; a coarser tier set shorter is kept as long as the
    // finer one, and None is forever.
    for (s, m, h) in [
        (hours(1.0), hours(3.0), hours(6.0)),
        (hours(2.0), hours(0.5), None),
    ] {
        let store = b.store_with(OpenOptions {
            retention: RetentionConfig {
                traffic: s,
                traffic_minutes: m,
                traffic_hours: h,
                ..RetentionConfig::keep_everything()
            },
            ..OpenOptions::default()
        });
        for chunk in seconds.chunks(500) {
            store.write_batch(&seconds_records(chunk)).unwrap();
        }
        let report = store.apply_retention(now).unwrap();

        let cut = |age: Option<Duration>, width: i64| {
            age.map_or(i64::MIN, |a| {
                let c = (now - Span(a.as_micros() as i64))
                    .micros()
                    .div_euclid(1_000_000);
                c - c.rem_euclid(width)
            })
        };
        let m = longest(m, s);
        let h = longest(h, m);
        // Each tier: table suffix, retention kind, bucket width, cutoff (10 s buckets
        // are kept like seconds, 10 min like minutes).
        let tiers = [
            ("", "traffic", 1, cut(s, 1)),
            ("_10s", "traffic_10s", 10, cut(s, 10)),
            ("_1m", "traffic_1m", 60, cut(m, 60)),
            ("_10m", "traffic_10m", 600, cut(m, 600)),
            ("_1h", "traffic_1h", HOUR, cut(h, HOUR)),
        ];
        let rows = store.stats().unwrap().rows;
        for (suffix, kind, w, c) in tiers {
            let want: BTreeSet<(i64, String)> = seconds
                .iter()
                .map(|t| (t.second - t.second.rem_euclid(w), t))
                .filter(|(b, _)| *b >= c)
                .flat_map(|(b, t)| t.by_src.iter().map(move |(ip, _)| (b, ip.to_string())))
                .collect();
            assert_eq!(
                rows[&format!("traffic_src{suffix}")],
                want.len() as u64,
                "{kind}"
            );
            assert_eq!(
                report.by_age.contains_key(kind),
                c > i64::MIN,
                "{kind}: {report:?}"
            );
        }
        let (cs, cm) = (tiers[0].3, tiers[2].3);

        let mut rng = Lcg(5);
        let mut at = || {
            let s = T0 - 600 + rng.below(10 * 3600) as i64;
            Ts::from_secs(s) + Span([0, 0, 1 + rng.below(999_999) as i64][rng.below(3) as usize])
        };
        let mut ranges = vec![
            TimeRange::ALL,
            TimeRange::since(Ts::from_secs(cm)),
            TimeRange::since(Ts::from_secs(cs + 1)),
        ];
        ranges.extend((0..150).map(|_| TimeRange::between(at(), at())));
        ranges.extend((0..30).map(|_| TimeRange::since(at())));
        for range in ranges {
            check(&*store, &seconds, range, |sec| {
                second_in(range, sec)
                    && tiers.iter().any(|&(_, _, w, c)| {
                        let b = sec - sec.rem_euclid(w);
                        b >= c && whole(range, b, w)
                    })
            });
        }
    }
}
}

#[test]
fn a_database_with_only_per_second_rollups_is_backfilled_into_the_tiers() {
    let packets = busy_packets(21, T0, 4 * HOUR, 4000, 50);
    let seconds = two_thread_rollups(&packets, 4);
    let (early, late) = seconds.split_at(seconds.len() / 2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("netsnoop.db");
    let keep = || OpenOptions {
        retention: RetentionConfig::keep_everything(),
        ..OpenOptions::default()
    };
    let store = SqliteStore::open(&path, keep()).unwrap();
    for chunk in early.chunks(500) {
        store.write_batch(&seconds_records(chunk)).unwrap();
    }
    drop(store);

    // Make the file what the previous build (schema version 4) left: no tier tables.
    let conn = rusqlite::Connection::open(&path).unwrap();
    for family in [
        "traffic_seconds",
        "traffic_protocol",
        "traffic_src",
        "traffic_dst",
    ] {
        for suffix in ["_10s", "_1m", "_10m", "_1h"] {
            conn.execute_batch(&format!("DROP TABLE {family}{suffix}"))
                .unwrap();
        }
    }
    // …nor the host totals and the packets' no_ports flag of version 6, nor version 7's
    // silences and acks.
    conn.execute_batch(
        "DROP TABLE traffic_src_total; DROP TABLE traffic_dst_total;
         DROP TABLE traffic_host_counts; ALTER TABLE packets DROP COLUMN no_ports;
         DROP TABLE silences; DROP TABLE alert_acks;",
    )
    .unwrap();
    // …nor the flows' owner columns of version 8.
    conn.execute_batch(
        "DROP INDEX flows_orig_pid; DROP INDEX flows_resp_pid;
         ALTER TABLE flows DROP COLUMN orig_pid; ALTER TABLE flows DROP COLUMN orig_comm;
         ALTER TABLE flows DROP COLUMN orig_unknown; ALTER TABLE flows DROP COLUMN orig_owner;
         ALTER TABLE flows DROP COLUMN resp_pid; ALTER TABLE flows DROP COLUMN resp_comm;
         ALTER TABLE flows DROP COLUMN resp_unknown; ALTER TABLE flows DROP COLUMN resp_owner;",
    )
    .unwrap();
    // …nor version 9's hosts and the host of every row.
    conn.execute_batch("DROP TABLE hosts;").unwrap();
    for table in [
        "alerts",
        "process_events",
        "system_samples",
        "process_samples",
        "packets",
        "flows",
        "losses",
    ] {
        conn.execute_batch(&format!("ALTER TABLE {table} DROP COLUMN host"))
            .unwrap();
    }
    // …nor version 10's host in the rollups' keys: the per-second tables as version 4
    // made them, with the rows written above.
    for (family, key) in [
        ("traffic_seconds", ""),
        ("traffic_protocol", "protocol"),
        ("traffic_src", "ip"),
        ("traffic_dst", "ip"),
    ] {
        let (columns, create) = if key.is_empty() {
            (
                "second, packets, bytes, unique_src, unique_dst, src_other_packets, \
                 src_other_bytes, dst_other_packets, dst_other_bytes"
                    .to_string(),
                "second INTEGER PRIMARY KEY, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,
                 unique_src INTEGER NOT NULL DEFAULT 0, unique_dst INTEGER NOT NULL DEFAULT 0,
                 src_other_packets INTEGER NOT NULL DEFAULT 0,
                 src_other_bytes INTEGER NOT NULL DEFAULT 0,
                 dst_other_packets INTEGER NOT NULL DEFAULT 0,
                 dst_other_bytes INTEGER NOT NULL DEFAULT 0)"
                    .to_string(),
            )
        } else {
            (
                format!("second, {key}, packets, bytes"),
                format!(
                    "second INTEGER NOT NULL, {key} TEXT NOT NULL, packets INTEGER NOT NULL,
                     bytes INTEGER NOT NULL, PRIMARY KEY (second, {key})) WITHOUT ROWID"
                ),
            )
        };
        conn.execute_batch(&format!(
            "CREATE TABLE {family}_v4 ({create};
             INSERT INTO {family}_v4 SELECT {columns} FROM {family};
             DROP TABLE {family};
             ALTER TABLE {family}_v4 RENAME TO {family};"
        ))
        .unwrap();
    }
    conn.pragma_update(None, "user_version", 4).unwrap();
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'traffic%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 4, "only the per-second rollups are left");
    drop(conn);

    let store = SqliteStore::open(
        &path,
        OpenOptions {
            retention: RetentionConfig::keep_everything(),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    assert_eq!(store.schema_version().unwrap(), 10);
    let rows = store.stats().unwrap().rows;
    assert!(
        rows["traffic_src_1h"] > 0 && rows["traffic_protocol_1m"] > 0,
        "{rows:?}"
    );
    let ranges = || {
        let mut rng = Lcg(9);
        let mut at = || Ts::from_secs(T0 - 100 + rng.below(4 * 3600 + 200) as i64);
        let mut v = vec![TimeRange::ALL];
        v.extend((0..60).map(|_| TimeRange::between(at(), at())));
        v
    };
    for range in ranges() {
        check(&store, early, range, |s| second_in(range, s));
    }
    // New seconds add to the backfilled minutes and hours (the split falls mid-hour).
    for chunk in late.chunks(500) {
        store.write_batch(&seconds_records(chunk)).unwrap();
    }
    for range in ranges() {
        check(&store, &seconds, range, |s| second_in(range, s));
    }
    drop(dir);
}
