//! WAL housekeeping: the background checkpointer moves committed pages into the main file.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use netsnoop_store::Store;
use std::time::Duration;

#[test]
fn committed_pages_reach_the_database_file_without_the_writer_checkpointing() {
    let (dir, store) = store();
    let db = dir.path().join("netsnoop.db");
    let size = || std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let before = size();
    let packets = random_packets(11, 1_000, 60, 30_000);
    for chunk in packets.chunks(5000) {
        store.write_batch(&packet_records(chunk)).unwrap();
    }
    // 30,000 rows are well over 1 MB; the writer never checkpoints (wal_autocheckpoint
    // is off), so only the checkpointer thread can grow the main file.
    netsnoop_test_support::wait_for(
        Duration::from_secs(20),
        format_args!("the checkpointer to grow the database file past {before} + 1 MB"),
        || (size() >= before + 1_000_000).then_some(()),
    );
    assert_eq!(store.stats().unwrap().rows["packets"], 30_000);
}
