//! PostgreSQL-only behaviour: one-line errors that name the fix (wrong password, missing
//! database, no permission to create tables, unreachable server), versioned migrations
//! under an advisory lock, and retention dropping whole day partitions.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use netsnoop_core::Ts;
use netsnoop_store::{OpenOptions, PgStore, RetentionConfig, Store, StoreError};
use netsnoop_test_support::pg;
use std::time::Duration;

fn open_err(url: &str) -> String {
    let err = PgStore::open(url, OpenOptions::default())
        .err()
        .expect("opening must fail");
    assert!(matches!(err, StoreError::PgConnect { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    msg
}

/// A login role with a password, unique to the calling test.
fn role(name: &str) {
    pg::cluster()
        .admin()
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {name}; CREATE ROLE {name} LOGIN PASSWORD 'right-pw'"
        ))
        .unwrap();
}

#[test]
fn a_wrong_password_is_one_line_saying_where_the_password_goes() {
    let c = pg::cluster();
    role("ns_wrong_pw");
    let msg = open_err(&c.url_as("ns_wrong_pw", "wrong-pw", "postgres"));
    assert!(msg.contains("refused the password"), "{msg}");
    assert!(
        msg.contains("PGPASSWORD") && msg.contains("~/.pgpass"),
        "{msg}"
    );
    assert!(
        !msg.contains("wrong-pw"),
        "the password is never shown: {msg}"
    );
}

#[test]
fn a_missing_database_is_one_line_saying_how_to_create_it() {
    let c = pg::cluster();
    let msg = open_err(&c.url("no_such_db"));
    assert!(msg.contains("\"no_such_db\" does not exist"), "{msg}");
    assert!(msg.contains("createdb -O"), "{msg}");
}

#[test]
fn no_permission_to_create_tables_is_one_line_with_the_grant_that_fixes_it() {
    let c = pg::cluster();
    role("ns_no_create");
    let url = c.fresh_database();
    let db = url.rsplit('/').next().unwrap().to_string();
    // PostgreSQL 15 lets only the owner create in schema public.
    let msg = open_err(&c.url_as("ns_no_create", "right-pw", &db));
    assert!(msg.contains("may not create tables"), "{msg}");
    assert!(msg.contains("GRANT CREATE ON SCHEMA public TO"), "{msg}");
    // The fix it names works.
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute("GRANT CREATE ON SCHEMA public TO ns_no_create")
        .unwrap();
    let store = PgStore::open(
        &c.url_as("ns_no_create", "right-pw", &db),
        OpenOptions::default(),
    )
    .unwrap();
    assert_eq!(store.backend(), "postgres");
}

#[test]
fn an_unreachable_server_is_one_line_saying_what_to_check() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let msg = open_err(&format!("postgres://u:p@127.0.0.1:{port}/db"));
    assert!(msg.contains("cannot reach the server"), "{msg}");
    assert!(msg.contains("listen_addresses"), "{msg}");
}

#[test]
fn a_database_from_a_newer_netsnoop_is_refused_with_a_fix() {
    let url = pg::cluster().fresh_database();
    let store = PgStore::open(&url, OpenOptions::default()).unwrap();
    let current = store.schema_version().unwrap();
    drop(store);
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .execute("UPDATE netsnoop_schema SET version = $1", &[&(current + 1)])
        .unwrap();
    let msg = open_err(&url);
    assert!(msg.contains("newer than this netsnoop"), "{msg}");
    assert!(msg.contains("upgrade netsnoop"), "{msg}");
}

#[test]
fn several_processes_opening_a_new_database_at_once_migrate_it_once() {
    let url = pg::cluster().fresh_database();
    let opened: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PgStore::open(&url, OpenOptions::default()))
        })
        .collect();
    for t in opened {
        let store = t.join().unwrap().unwrap();
        assert!(store.schema_version().unwrap() >= 1);
    }
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let rows: i64 = admin
        .query_one("SELECT count(*) FROM netsnoop_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
}

#[test]
fn retention_drops_whole_day_partitions_of_the_raw_series() {
    let url = pg::cluster().fresh_database();
    let day = 86_400;
    let start = 1_700_006_400 - 1_700_006_400 % day; // a midnight
    let store = PgStore::open(
        &url,
        OpenOptions {
            retention: RetentionConfig {
                packets: Some(Duration::from_secs(day as u64)),
                ..RetentionConfig::keep_everything()
            },
            ..OpenOptions::default()
        },
    )
    .unwrap();
    // 300 packets on each of three days.
    for d in 0..3 {
        let packets = random_packets(d as u64, start + d * day, 3600, 300);
        store.write_batch(&packet_records(&packets)).unwrap();
    }
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let partitions = |admin: &mut postgres::Client| -> Vec<String> {
        admin
            .query(
                "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'packets'
                 ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let before = partitions(&mut admin);
    assert!(
        before.contains(&"packets_20231115".to_string()),
        "{before:?}"
    );
    // Now is the start of the third day plus an hour: the first day is wholly older
    // than a day, the second partly.
    let now = Ts::from_secs(start + 2 * day + 3600);
    let report = store.apply_retention(now).unwrap();
    let after = partitions(&mut admin);
    assert!(
        !after.contains(&"packets_20231115".to_string()),
        "{after:?}"
    );
    assert!(after.contains(&"packets_20231116".to_string()), "{after:?}");
    let left = store.stats().unwrap().rows["packets"];
    assert_eq!(report.by_age["packets"] + left, 900);
    assert!(
        left >= 300,
        "the third day and the newest of the second stay"
    );
    let oldest = store
        .recent_packets(10_000, &Default::default())
        .unwrap()
        .last()
        .unwrap()
        .time;
    assert!(oldest >= Ts::from_secs(start + day + 3600));
}
