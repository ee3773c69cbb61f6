//! The sampler thread on the real /proc: a full pipeline channel drops rounds, counts
//! them, and reports them as one `Loss` event ahead of the next batch that fits.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use crossbeam_channel::bounded;
use netsnoop_core::Event;
use netsnoop_linux::sampler::{self, Sampler};
use std::time::{Duration, Instant};

#[test]
fn a_full_channel_drops_rounds_and_reports_the_loss_with_the_next_batch() {
    let (tx, rx) = bounded(1);
    let handle = sampler::spawn(
        Sampler::new().expect("sampler"),
        Duration::from_millis(100),
        tx,
    )
    .expect("spawn");
    netsnoop_test_support::wait_for(Duration::from_secs(20), "two dropped rounds", || {
        (handle.stats().dropped >= 2).then_some(())
    });
    let first = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the batch that fit");
    assert!(matches!(&first[..], [Event::Resources(_)]));
    let next = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the next batch");
    match &next[..] {
        [Event::Loss(l), Event::Resources(_)] => {
            assert_eq!(l.source, "resource_sampler");
            assert!(l.count >= 2, "{l:?}");
        }
        other => panic!("expected a loss report, then a sample: {other:?}"),
    }
    let stats = handle.stop();
    assert!(stats.dropped >= 2 && stats.rounds >= 3, "{stats:?}");
}

#[test]
fn stopping_the_handle_ends_the_thread_promptly() {
    let (tx, _rx) = bounded(8);
    let handle = sampler::spawn(Sampler::new().expect("sampler"), Duration::from_secs(5), tx)
        .expect("spawn");
    let t = Instant::now();
    let stats = handle.stop();
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(stats.rounds, 0);
}
