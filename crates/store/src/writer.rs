//! The writer thread: groups records from a bounded channel into transactions, counts
//! what it wrote, what failed and what it had to drop.

use crate::{Result, Store, StoreError};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError, bounded};
use netsnoop_core::Record;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the writer groups records into transactions.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// Batches (each a `Vec<Record>`) the channel holds before [`WriterHandle::send`]
    /// starts dropping. Default 1,024: several seconds of a busy capture.
    pub channel_capacity: usize,
    /// Records committed per transaction at most. Default 5,000.
    pub max_batch_records: usize,
    /// Longest a record waits before it is committed. Default 200 ms, so the dashboard
    /// and API see new data within a fraction of a second.
    pub max_delay: Duration,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            channel_capacity: 1024,
            max_batch_records: 5000,
            max_delay: Duration::from_millis(200),
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
}

#[derive(Default)]
struct Counters {
    records_written: AtomicU64,
    rows_written: AtomicU64,
    batches: AtomicU64,
    records_dropped: AtomicU64,
    records_failed: AtomicU64,
    packets_capped: AtomicU64,
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
        }
    }
}

enum Msg {
    Records(Vec<Record>),
    /// Commit everything queued so far, then answer with the first error since the
    /// last flush, if any.
    Flush(Sender<Option<String>>),
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

    /// The counters so far.
    pub fn stats(&self) -> WriterStats {
        self.counters.snapshot()
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

    /// See [`WriterHandle::flush`].
    pub fn flush(&self) -> Result<()> {
        self.handle.flush()
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
    let worker = Worker {
        store,
        opts,
        counters: counters.clone(),
        pending: Vec::new(),
        first_error: Mutex::new(None),
    };
    let thread = std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || worker.run(rx))
        .expect("spawning the store writer thread");
    Writer {
        handle: WriterHandle { tx, counters },
        thread: Some(thread),
    }
}

struct Worker {
    store: Arc<dyn Store>,
    opts: WriterOptions,
    counters: Arc<Counters>,
    pending: Vec<Record>,
    first_error: Mutex<Option<String>>,
}

impl Worker {
    fn run(mut self, rx: Receiver<Msg>) {
        let mut deadline: Option<Instant> = None;
        loop {
            let msg = match deadline {
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(d) => rx.recv_deadline(d),
            };
            match msg {
                Ok(Msg::Records(records)) => {
                    if self.pending.is_empty() {
                        // Take the sender's Vec as is: records are large (an alert is a
                        // few hundred bytes), and copying them showed in the benchmark.
                        self.pending = records;
                    } else {
                        self.pending.extend(records);
                    }
                    if self.pending.len() >= self.opts.max_batch_records {
                        self.commit();
                        deadline = None;
                    } else if deadline.is_none() {
                        deadline = Some(Instant::now() + self.opts.max_delay);
                    }
                }
                Ok(Msg::Flush(reply)) => {
                    self.commit();
                    deadline = None;
                    let _ = reply.send(self.take_error());
                }
                Ok(Msg::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    self.commit();
                    deadline = None;
                }
            }
        }
        // Whatever was queued before the shutdown message is already in `pending` (the
        // channel is FIFO); commit it.
        self.commit();
    }

    fn commit(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        // Large bursts go in several transactions so one never grows without bound.
        let pending = std::mem::take(&mut self.pending);
        for chunk in pending.chunks(self.opts.max_batch_records.max(1)) {
            if let Err(e) = self.write(chunk) {
                if chunk.len() == 1 {
                    self.failed(1, &e);
                    continue;
                }
                // One bad record must not cost the thousands around it: retry one by
                // one, so only the records that fail on their own are lost (and counted).
                tracing::warn!(error = %e, records = chunk.len(), "batch failed; retrying record by record");
                for record in chunk {
                    if let Err(e) = self.write(std::slice::from_ref(record)) {
                        self.failed(1, &e);
                    }
                }
            }
        }
        self.pending = pending;
        self.pending.clear();
    }

    fn write(&self, records: &[Record]) -> Result<()> {
        let report = self.store.write_batch(records)?;
        let c = &self.counters;
        c.records_written
            .fetch_add(records.len() as u64, Ordering::Relaxed);
        c.rows_written.fetch_add(report.rows, Ordering::Relaxed);
        c.packets_capped
            .fetch_add(report.packets_capped, Ordering::Relaxed);
        c.batches.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn failed(&self, n: u64, e: &StoreError) {
        tracing::error!(error = %e, records = n, "store write failed; records lost");
        self.counters.records_failed.fetch_add(n, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
        first.get_or_insert_with(|| e.to_string());
    }

    fn take_error(&self) -> Option<String> {
        self.first_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}
