//! Acknowledged batches: answered once their transaction has committed, never before;
//! concurrent ones share transactions (group commit); a failed commit answers "not
//! stored" and starts a failure episode that the next commit ends.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::*;
use netsnoop_core::Record;
use netsnoop_store::{Ack, NotStored, Store, WriterOptions, spawn_writer};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

fn records(seed: u64, n: usize) -> Vec<Record> {
    packet_records(&random_packets(seed, 1_000, 10, n))
}

type Answers = mpsc::Receiver<(usize, Result<(), NotStored>)>;

fn acks(n: usize) -> (Vec<Ack>, Answers) {
    let (tx, rx) = mpsc::channel();
    let acks = (0..n)
        .map(|i| {
            let tx = tx.clone();
            Ack::new(move |outcome| tx.send((i, outcome)).unwrap())
        })
        .collect();
    (acks, rx)
}

conformance! {
fn an_acknowledged_batch_is_answered_once_committed_without_waiting_for_the_delay(b) {
    let kept = b.store();
    let store = kept.store.clone();
    let writer = spawn_writer(
        store.clone(),
        WriterOptions {
            max_delay: Duration::from_secs(3600),
            ..WriterOptions::default()
        },
    );
    let (mut ack, answers) = acks(1);
    writer.send_durable(records(1, 25), vec![ack.pop().unwrap()]);
    let (_, outcome) = answers
        .recv_timeout(Duration::from_secs(60))
        .expect("answered long before the hour-long delay");
    assert_eq!(outcome, Ok(()));
    // Answered means committed: another connection sees every row at once.
    assert_eq!(store.stats().unwrap().rows["packets"], 25);
    assert_eq!(writer.shutdown().records_written, 25);
}
}

#[test]
fn concurrent_acknowledged_batches_share_one_transaction() {
    let (dir, store) = store();
    let store: Arc<dyn Store> = Arc::new(store);
    let writer = spawn_writer(store.clone(), WriterOptions::default());
    // Another connection holds the write lock: the first commit waits (busy timeout 5 s)
    // while fifty more batches queue up behind it.
    let other = rusqlite::Connection::open(dir.path().join("netsnoop.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (all, answers) = acks(51);
    for (i, ack) in all.into_iter().enumerate() {
        writer.send_durable(records(i as u64, 4), vec![ack]);
    }
    other.execute_batch("ROLLBACK").unwrap();
    let mut answered: Vec<usize> = (0..51)
        .map(|_| {
            let (i, outcome) = answers.recv_timeout(Duration::from_secs(60)).unwrap();
            assert_eq!(outcome, Ok(()), "batch {i}");
            i
        })
        .collect();
    answered.sort_unstable();
    assert_eq!(answered, (0..51).collect::<Vec<_>>());
    let stats = writer.shutdown();
    assert_eq!(stats.records_written, 51 * 4);
    assert!(
        stats.batches <= 2,
        "{} transactions for 51 batches",
        stats.batches
    );
    assert_eq!(store.stats().unwrap().rows["packets"], 51 * 4);
}

#[test]
fn a_batch_that_cannot_be_committed_is_answered_not_stored_and_the_episode_ends_with_the_next_commit()
 {
    let (dir, store) = store();
    let store: Arc<dyn Store> = Arc::new(store);
    let writer = spawn_writer(store.clone(), WriterOptions::default());
    let other = rusqlite::Connection::open(dir.path().join("netsnoop.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (mut ack, answers) = acks(1);
    writer.send_durable(records(7, 10), vec![ack.pop().unwrap()]);
    // The writer gives up after SQLite's 5 s busy timeout.
    let (_, outcome) = answers.recv_timeout(Duration::from_secs(60)).unwrap();
    let why = outcome.unwrap_err().0;
    assert!(
        why.contains("nothing from it is stored") && why.contains("locked"),
        "{why}"
    );
    let failing = writer.stats().failing.expect("a failure episode");
    assert_eq!(
        (failing.records_failed, failing.transactions_failed),
        (10, 1)
    );
    other.execute_batch("ROLLBACK").unwrap();

    let (mut ack, answers) = acks(1);
    writer.send_durable(records(8, 10), vec![ack.pop().unwrap()]);
    assert_eq!(
        answers.recv_timeout(Duration::from_secs(60)).unwrap().1,
        Ok(())
    );
    let stats = writer.shutdown();
    assert_eq!(stats.failing, None, "the commit ended the episode");
    assert_eq!((stats.records_failed, stats.records_written), (10, 10));
}
