//! The writer thread: groups records from a bounded channel into transactions, counts
//! what it wrote, what failed and what it had to drop, and answers the acknowledgements
//! of batches whose senders wait for them to be durable (group commit, see `worker`).

mod episode;
mod tally;
mod worker;

pub use episode::WriteFailing;
pub use tally::{LATENCY_BOUNDS, Latency, RetentionCounts, TABLES, TableCounts};

use crate::ack::Ack;
use crate::{Result, Store, StoreError};
use crossbeam_channel::{Sender, TrySendError, bounded};
use episode::Episodes;
use netsnoop_core::Record;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How the writer groups records into transactions.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// Batches (each a `Vec<Record>`) the channel holds before [`WriterHandle::send`]
    /// starts dropping. Default 1,024: several seconds of a busy capture.
    pub channel_capacity: usize,
    /// Records committed per transaction at most. Default 5,000.
    pub max_batch_records: usize,
    /// Records a round of acknowledged batches may gather (from everything already
    /// queued) before it commits, in one transaction. Default 100,000: the rollups a
    /// round adds cost the same however many batches share it, so under load rounds
    /// must grow rather than multiply.
    pub max_round_records: usize,
    /// Longest a record waits before it is committed. Default 200 ms, so the dashboard
    /// and API see new data within a fraction of a second. Records sent with
    /// [`WriterHandle::send_durable`] do not wait: they are committed as soon as the
    /// channel holds nothing more to add to their transaction.
    pub max_delay: Duration,
    /// How long a transaction that failed because the database went away (PostgreSQL
    /// restarting, the network down) is retried, with backoff from 50 ms to 2 s, before
    /// its records are given up and counted as failed. Meanwhile new records wait in
    /// the bounded channel (and what does not fit is dropped and counted). Default
    /// 60 s. Errors of the data or the disk are not retried.
    pub retry_for: Duration,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            channel_capacity: 1024,
            max_batch_records: 5000,
            max_round_records: 100_000,
            max_delay: Duration::from_millis(200),
            retry_for: Duration::from_secs(60),
        }
    }
}

/// Counters of the writer, for `/health`, `/metrics` and the shutdown summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterStats {
    /// Records committed.
    pub records_written: u64,
    /// Rows inserted or updated for them.
    pub rows_written: u64,
    /// Transactions committed.
    pub batches: u64,
    /// Records never queued because the channel was full (or the writer had stopped).
    pub records_dropped: u64,
    /// Records lost because their transaction failed.
    pub records_failed: u64,
    /// Packet rows removed to respect the packet row cap.
    pub packets_capped: u64,
    /// Set while writes fail (disk full, read-only, I/O errors): a degraded mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing: Option<WriteFailing>,
    /// Records and committed transactions by the table the records go to.
    #[serde(default)]
    pub tables: std::collections::BTreeMap<String, TableCounts>,
    /// What retention has deleted, and the database size it left.
    #[serde(default)]
    pub retention: RetentionCounts,
    /// Commit latency buckets (for `/metrics`; not shown in `/health`).
    #[serde(default, skip_serializing)]
    pub latency: Latency,
}

#[derive(Default)]
struct Counters {
    records_written: AtomicU64,
    rows_written: AtomicU64,
    batches: AtomicU64,
    records_dropped: AtomicU64,
    records_failed: AtomicU64,
    packets_capped: AtomicU64,
    episodes: Episodes,
    tally: tally::Tally,
}

impl Counters {
    fn snapshot(&self) -> WriterStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WriterStats {
            records_written: get(&self.records_written),
            rows_written: get(&self.rows_written),
            batches: get(&self.batches),
            records_dropped: get(&self.records_dropped),
            records_failed: get(&self.records_failed),
            packets_capped: get(&self.packets_capped),
            failing: self.episodes.current(),
            tables: self.tally.tables(),
            retention: self.tally.retention_counts(),
            latency: self.tally.latency(),
        }
    }
}

enum Msg {
    Records(Vec<Record>),
    /// Records whose senders wait: each ack is answered once they are committed.
    Durable(Vec<Record>, Vec<Ack>),
    /// Commit everything queued so far, then answer with the first error since the
    /// last flush, if any.
    Flush(Sender<Option<String>>),
    /// Run [`Store::check_writable`] in turn with the writes and answer with its outcome.
    Probe(Sender<Result<()>>),
    Shutdown,
}

/// A cloneable way to queue records for the writer, for any thread.
#[derive(Clone)]
pub struct WriterHandle {
    tx: Sender<Msg>,
    counters: Arc<Counters>,
}

impl WriterHandle {
    /// Queues records without blocking. When the channel is full (the disk cannot keep
    /// up) the records are dropped and counted in [`WriterStats::records_dropped`].
    /// Returns whether they were queued.
    pub fn send(&self, records: Vec<Record>) -> bool {
        if records.is_empty() {
            return true;
        }
        let n = records.len() as u64;
        match self.tx.try_send(Msg::Records(records)) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counters
                    .records_dropped
                    .fetch_add(n, Ordering::Relaxed);
                false
            }
        }
    }

    /// Queues records whose senders wait for them to be durable, blocking while the
    /// channel is full (the senders wait anyway, and nothing may be dropped). Each ack
    /// is answered after the transaction holding all of `records` commits, or with the
    /// reason it failed. Concurrent senders share transactions (group commit).
    pub fn send_durable(&self, records: Vec<Record>, acks: Vec<Ack>) {
        if acks.is_empty() {
            self.send(records);
            return;
        }
        // On a stopped writer the message comes back and its acks answer "not stored"
        // as they drop.
        let _ = self.tx.send(Msg::Durable(records, acks));
    }

    /// Blocks until every record queued before this call is committed. Fails if the
    /// writer has stopped, or if a batch failed since the previous flush (those records
    /// are counted in [`WriterStats::records_failed`]).
    pub fn flush(&self) -> Result<()> {
        let (reply_tx, reply_rx) = bounded(1);
        self.tx
            .send(Msg::Flush(reply_tx))
            .map_err(|_| StoreError::WriterStopped)?;
        match reply_rx.recv() {
            Ok(None) => Ok(()),
            Ok(Some(message)) => Err(StoreError::WriteFailed { message }),
            Err(_) => Err(StoreError::WriterStopped),
        }
    }

    /// Checks, in turn with the writes, that the store takes writes
    /// ([`Store::check_writable`]). A failure begins a failure episode, as a failed
    /// write would: a degraded mode until a write succeeds.
    pub fn check_writable(&self) -> Result<()> {
        let (reply_tx, reply_rx) = bounded(1);
        self.tx
            .send(Msg::Probe(reply_tx))
            .map_err(|_| StoreError::WriterStopped)?;
        reply_rx.recv().map_err(|_| StoreError::WriterStopped)?
    }

    /// The counters so far.
    pub fn stats(&self) -> WriterStats {
        self.counters.snapshot()
    }

    /// Counts what a retention pass deleted and the database size it left.
    pub fn record_retention(&self, report: &crate::RetentionReport) {
        self.counters.tally.retention(report);
    }

    /// Messages waiting in the writer's channel, and how many it holds.
    pub fn queue(&self) -> (usize, usize) {
        (self.tx.len(), self.tx.capacity().unwrap_or(0))
    }
}

/// The running writer thread. Dropping it without [`Writer::shutdown`] also drains and
/// joins, so nothing queued is lost on an early return.
pub struct Writer {
    handle: WriterHandle,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// A handle for other threads (e.g. an API endpoint that ingests packets).
    pub fn handle(&self) -> WriterHandle {
        self.handle.clone()
    }

    /// See [`WriterHandle::send`].
    pub fn send(&self, records: Vec<Record>) -> bool {
        self.handle.send(records)
    }

    /// See [`WriterHandle::send_durable`].
    pub fn send_durable(&self, records: Vec<Record>, acks: Vec<Ack>) {
        self.handle.send_durable(records, acks)
    }

    /// See [`WriterHandle::flush`].
    pub fn flush(&self) -> Result<()> {
        self.handle.flush()
    }

    /// See [`WriterHandle::check_writable`].
    pub fn check_writable(&self) -> Result<()> {
        self.handle.check_writable()
    }

    /// The counters so far.
    pub fn stats(&self) -> WriterStats {
        self.handle.stats()
    }

    /// Commits everything queued, stops the thread and returns the final counters.
    /// Records sent through handles after this are dropped and counted.
    pub fn shutdown(mut self) -> WriterStats {
        self.stop();
        self.handle.stats()
    }

    fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            // A blocking send: shutdown must get through even when the channel is full.
            let _ = self.handle.tx.send(Msg::Shutdown);
            if thread.join().is_err() {
                tracing::error!("store writer thread panicked");
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts the writer thread over `store`.
pub fn spawn_writer(store: Arc<dyn Store>, opts: WriterOptions) -> Writer {
    let (tx, rx) = bounded(opts.channel_capacity.max(1));
    let counters = Arc::new(Counters::default());
    let worker = worker::Worker::new(store, opts, counters.clone());
    let thread = std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || worker.run(rx))
        .expect("spawning the store writer thread");
    Writer {
        handle: WriterHandle { tx, counters },
        thread: Some(thread),
    }
}
