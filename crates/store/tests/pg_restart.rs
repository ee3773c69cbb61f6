//! PostgreSQL restarted while records flow: the writer retries with backoff, keeps what
//! it holds, counts what it must drop, shows the store degraded meanwhile and clear
//! afterwards; sent = stored + dropped + failed. Alone in its test binary, because it
//! restarts that binary's cluster.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use netsnoop_store::{OpenOptions, RetentionConfig, WriterOptions, spawn_writer};
use netsnoop_test_support::{pg, wait_for};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[test]
fn a_postgres_restart_mid_ingest_is_retried_and_every_record_is_accounted_for() {
    let cluster = pg::cluster();
    let url = cluster.fresh_database();
    let store = netsnoop_store::open(
        &url,
        OpenOptions {
            retention: RetentionConfig::keep_everything(),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let writer = spawn_writer(
        store.clone(),
        WriterOptions {
            channel_capacity: 64,
            max_batch_records: 500,
            max_delay: Duration::from_millis(20),
            retry_for: Duration::from_secs(60),
            ..WriterOptions::default()
        },
    );
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let (handle, stop) = (writer.handle(), stop.clone());
        std::thread::spawn(move || {
            let mut sent = 0u64;
            let mut seed = 0;
            while !stop.load(Ordering::Relaxed) {
                let packets = random_packets(seed, 1_700_000_000 + seed as i64, 1, 50);
                sent += packets.len() as u64;
                handle.send(packet_records(&packets));
                seed += 1;
                // Pacing the load, not sequencing the test.
                std::thread::sleep(Duration::from_millis(2));
            }
            sent
        })
    };
    let written = || writer.stats().records_written;
    wait_for(Duration::from_secs(20), "the first commits", || {
        (written() > 1000).then_some(())
    });

    // A real restart in one step (pg_ctl restart -m fast) with records flowing...
    cluster.restart();
    let after_restart = written();
    wait_for(Duration::from_secs(30), "commits after the restart", || {
        (written() > after_restart + 1000).then_some(())
    });

    // ...and one with the server kept down until the writer reports the store degraded.
    cluster.stop();
    let failing = wait_for(Duration::from_secs(30), "the store shown failing", || {
        writer.stats().failing
    });
    assert!(
        failing.error.contains("PostgreSQL") || failing.error.contains("connection"),
        "{failing:?}"
    );
    cluster.start_again();
    wait_for(
        Duration::from_secs(60),
        "the failure episode to end",
        || writer.stats().failing.is_none().then_some(()),
    );
    let resumed = written();
    wait_for(Duration::from_secs(30), "commits after the outage", || {
        (written() > resumed + 1000).then_some(())
    });

    stop.store(true, Ordering::Relaxed);
    let sent = producer.join().unwrap();
    writer.flush().unwrap();
    let stats = writer.shutdown();
    let stored = store.stats().unwrap().rows["packets"];
    assert_eq!(
        stats.records_failed, 0,
        "nothing may be lost to a failed transaction: it is retried ({stats:?})"
    );
    assert_eq!(
        stored + stats.records_dropped,
        sent,
        "every record sent is stored or counted as dropped ({stats:?})"
    );
    assert_eq!(stats.records_written, stored);
}
