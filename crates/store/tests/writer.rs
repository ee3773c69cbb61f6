//! The writer thread loses nothing on flush and shutdown, and counts what it drops.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::*;
use netsnoop_core::Record;
use netsnoop_store::{Store, StoreError, WriterOptions, spawn_writer};
use std::sync::Arc;
use std::time::Duration;

fn records(seed: u64, n: usize) -> Vec<Record> {
    packet_records(&random_packets(seed, 1_000, 10, n))
}

conformance! {
fn flush_makes_everything_sent_before_it_readable(b) {
    let kept = b.store();
    let store = kept.store.clone();
    // A long delay, so only the flush can have committed the records.
    let writer = spawn_writer(
        store.clone(),
        WriterOptions {
            max_delay: Duration::from_secs(3600),
            ..WriterOptions::default()
        },
    );
    let mut sent = 0;
    for seed in 0..10 {
        assert!(writer.send(records(seed, 37)));
        sent += 37;
    }
    writer.flush().unwrap();
    assert_eq!(store.stats().unwrap().rows["packets"], sent);
    let stats = writer.stats();
    assert_eq!(stats.records_written, sent);
    assert_eq!(stats.rows_written, sent);
    assert_eq!(stats.records_dropped, 0);
    assert_eq!(stats.batches, 1, "ten small sends go in one transaction");
}

fn large_bursts_are_split_into_transactions_of_the_configured_size(b) {
    let kept = b.store();
    let store = kept.store.clone();
    let writer = spawn_writer(
        store.clone(),
        WriterOptions {
            max_batch_records: 1000,
            max_delay: Duration::from_secs(3600),
            ..WriterOptions::default()
        },
    );
    assert!(writer.send(records(1, 4500)));
    writer.flush().unwrap();
    let stats = writer.stats();
    assert_eq!(stats.records_written, 4500);
    assert_eq!(stats.batches, 5);
}

fn shutdown_commits_everything_queued_from_every_handle(b) {
    let kept = b.store();
    let store = kept.store.clone();
    let writer = spawn_writer(
        store.clone(),
        WriterOptions {
            max_delay: Duration::from_secs(3600),
            ..WriterOptions::default()
        },
    );
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let h = writer.handle();
            std::thread::spawn(move || {
                for i in 0..25 {
                    assert!(h.send(records(t * 100 + i, 20)));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let late = writer.handle();
    let stats = writer.shutdown();
    assert_eq!(stats.records_written, 4 * 25 * 20);
    assert_eq!(store.stats().unwrap().rows["packets"], 4 * 25 * 20);
    assert!(!late.send(records(9, 3)), "the writer has stopped");
    assert_eq!(late.stats().records_dropped, 3);
    assert!(matches!(late.flush(), Err(StoreError::WriterStopped)));
}

fn one_unstorable_record_costs_only_itself(b) {
    let kept = b.store();
    let store = kept.store.clone();
    let writer = spawn_writer(store.clone(), WriterOptions::default());
    let mut batch = records(21, 40);
    // A count SQLite cannot hold (above i64::MAX), in the middle of good records.
    batch.insert(
        17,
        Record::Event(netsnoop_core::Event::Loss(loss(5, "capture:lo", u64::MAX))),
    );
    assert!(writer.send(batch));

    let err = writer.flush().expect_err("the bad record must be reported");
    assert!(err.to_string().contains("could not be stored"), "{err}");
    let stats = writer.shutdown();
    assert_eq!(stats.records_failed, 1);
    assert_eq!(stats.records_written, 40);
    assert_eq!(store.stats().unwrap().rows["packets"], 40);
    assert_eq!(store.stats().unwrap().rows["losses"], 0);
}
}

#[test]
fn a_full_channel_drops_records_and_counts_them() {
    let (dir, store) = store();
    let store: Arc<dyn Store> = Arc::new(store);
    let writer = spawn_writer(
        store.clone(),
        WriterOptions {
            channel_capacity: 2,
            max_batch_records: 1,
            ..WriterOptions::default()
        },
    );

    // Another connection holds the write lock, so the writer stalls in its first commit
    // (SQLite's busy timeout is 5 s) and the channel fills up.
    let other = rusqlite::Connection::open(dir.path().join("netsnoop.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (mut sent, mut refused) = (0u64, 0u64);
    for seed in 0..1000 {
        if writer.send(records(seed, 3)) {
            sent += 3;
        } else {
            refused += 3;
            if refused >= 9 {
                break;
            }
        }
    }
    other.execute_batch("ROLLBACK").unwrap();
    writer.flush().unwrap();

    let stats = writer.shutdown();
    assert!(refused > 0, "the channel never filled");
    assert_eq!(stats.records_dropped, refused);
    assert_eq!(stats.records_written, sent);
    assert_eq!(stats.records_failed, 0);
    assert_eq!(store.stats().unwrap().rows["packets"], sent);
}
