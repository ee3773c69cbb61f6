//! The writer thread's loop: records gather for up to `max_delay` (or `max_batch_records`)
//! before one transaction commits them, except that once a batch with acknowledgements
//! arrives, the writer takes whatever else the channel already holds and commits at once.
//! Requests arriving during a commit queue up and share the next one (group commit), so
//! a durable answer costs one transaction per round, not one per request.

use super::{Counters, Msg};
use crate::ack::Ack;
use crate::{BatchMark, Result, Store, StoreError};
use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use netsnoop_core::Record;
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(super) struct Worker {
    store: Arc<dyn Store>,
    opts: super::WriterOptions,
    counters: Arc<Counters>,
    pending: Vec<Record>,
    /// Acks waiting on `pending`, each with the records it covers.
    acks: Vec<(Range<usize>, Ack)>,
    first_error: Mutex<Option<String>>,
}

impl Worker {
    pub(super) fn new(
        store: Arc<dyn Store>,
        opts: super::WriterOptions,
        counters: Arc<Counters>,
    ) -> Worker {
        Worker {
            store,
            opts,
            counters,
            pending: Vec::new(),
            acks: Vec::new(),
            first_error: Mutex::new(None),
        }
    }

    pub(super) fn run(mut self, rx: Receiver<Msg>) {
        let mut deadline: Option<Instant> = None;
        loop {
            let msg = if self.acks.is_empty() {
                match deadline {
                    None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    Some(d) => rx.recv_deadline(d),
                }
            } else {
                // Someone waits: add what is already queued, then commit.
                match rx.try_recv() {
                    Ok(msg) => Ok(msg),
                    Err(TryRecvError::Empty) => Err(RecvTimeoutError::Timeout),
                    Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
                }
            };
            match msg {
                Ok(Msg::Records(records)) => self.take(records),
                Ok(Msg::Durable(records, acks)) => {
                    let start = self.pending.len();
                    self.take(records);
                    let covered = start..self.pending.len();
                    self.acks
                        .extend(acks.into_iter().map(|a| (covered.clone(), a)));
                }
                Ok(Msg::Flush(reply)) => {
                    self.commit();
                    deadline = None;
                    let _ = reply.send(self.take_error());
                    continue;
                }
                Ok(Msg::Probe(reply)) => {
                    let outcome = self.store.check_writable();
                    match &outcome {
                        Ok(()) => {}
                        Err(e) => self.counters.episodes.failed(0, &e.to_string()),
                    }
                    let _ = reply.send(outcome);
                    continue;
                }
                Ok(Msg::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    self.commit();
                    deadline = None;
                    continue;
                }
            }
            let limit = if self.acks.is_empty() {
                self.opts.max_batch_records
            } else {
                self.opts.max_round_records.max(self.opts.max_batch_records)
            };
            if self.pending.len() >= limit {
                self.commit();
                deadline = None;
            } else if deadline.is_none() {
                deadline = Some(Instant::now() + self.opts.max_delay);
            }
        }
        // Whatever was queued before the shutdown message is already in `pending` (the
        // channel is FIFO); commit it.
        self.commit();
    }

    fn take(&mut self, records: Vec<Record>) {
        if self.pending.is_empty() {
            // Take the sender's Vec as is: records are large (an alert is a few hundred
            // bytes), and copying them showed in the benchmark.
            self.pending = records;
        } else {
            self.pending.extend(records);
        }
    }

    fn commit(&mut self) {
        if self.pending.is_empty() && self.acks.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        // Large bursts go in several transactions so one never grows without bound, but
        // acknowledged records go in one, so a failure never stores part of a batch that
        // is answered "not stored" (the pipeline bounds what one round holds).
        let size = if self.acks.is_empty() {
            self.opts.max_batch_records.max(1)
        } else {
            pending.len().max(1)
        };
        let mut lost: Vec<(Range<usize>, String)> = Vec::new();
        let mut store_failed = false;
        // Agent batches' marks travel with the first chunk (acknowledged records are all
        // in one): committed together, or not at all.
        let marks: Vec<BatchMark> = self
            .acks
            .iter()
            .filter_map(|(_, ack)| ack.mark().cloned())
            .collect();
        let mut marks_lost: Option<String> = None;
        if pending.is_empty()
            && !marks.is_empty()
            && let Err(e) = self.write(&[], &marks)
        {
            self.failed(0, &e);
            marks_lost = Some(format!("the store could not record this batch: {e}"));
        }
        for (i, chunk) in pending.chunks(size).enumerate() {
            let chunk_marks: &[BatchMark] = if i == 0 { &marks } else { &[] };
            let at = i * size;
            if store_failed {
                // The database or its disk just failed: the rest would fail the same way
                // (each after its own busy wait), so it is lost with the chunk before.
                let why = lost.last().map(|(_, why)| why.clone()).unwrap_or_default();
                self.counters
                    .records_failed
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                self.counters.episodes.failed(chunk.len() as u64, &why);
                lost.push((at..at + chunk.len(), why));
                continue;
            }
            let Err(e) = self.write(chunk, chunk_marks) else {
                continue;
            };
            if chunk.len() > 1 && e.is_about_a_record() {
                // One bad record must not cost the thousands around it: retry one by
                // one, so only the records that fail on their own are lost (and counted).
                for (j, record) in chunk.iter().enumerate() {
                    if let Err(e) = self.write(std::slice::from_ref(record), &[]) {
                        self.failed(1, &e);
                        let why = format!(
                            "a record of this batch could not be stored (the others were): {e}"
                        );
                        lost.push((at + j..at + j + 1, why));
                    }
                }
                // The batch is stored but for its bad records: a retry must not store
                // the rest again.
                if !chunk_marks.is_empty()
                    && let Err(e) = self.write(&[], chunk_marks)
                {
                    self.failed(0, &e);
                    marks_lost = Some(format!("the store could not record this batch: {e}"));
                }
            } else {
                self.failed(chunk.len() as u64, &e);
                let why = format!(
                    "the store could not commit this batch, so nothing from it is stored: {e}"
                );
                lost.push((at..at + chunk.len(), why));
                store_failed = !e.is_about_a_record();
            }
        }
        for (covered, ack) in self.acks.drain(..) {
            let why = lost
                .iter()
                .find(|(r, _)| r.start < covered.end && covered.start < r.end)
                .map(|(_, why)| why)
                .or(marks_lost.as_ref().filter(|_| ack.mark().is_some()));
            match why {
                None => ack.stored(),
                Some(why) => ack.fail(why.clone()),
            }
        }
        self.pending = pending;
        self.pending.clear();
    }

    /// Writes, retrying with backoff while the database is unreachable (a restart, a
    /// network cut) for up to `retry_for`; the failure episode shows in `/health`
    /// from the first failed attempt.
    fn write(&self, records: &[Record], marks: &[BatchMark]) -> Result<()> {
        let started = Instant::now();
        let deadline = Instant::now() + self.opts.retry_for;
        let mut pause = Duration::from_millis(50);
        let report = loop {
            match self.store.write_marked(records, marks) {
                Ok(report) => break report,
                Err(e) if e.is_transient() && Instant::now() + pause < deadline => {
                    self.counters.episodes.failed(0, &e.to_string());
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                Err(e) => return Err(e),
            }
        };
        let c = &self.counters;
        c.tally.committed(records, started.elapsed());
        c.records_written
            .fetch_add(records.len() as u64, Ordering::Relaxed);
        c.rows_written.fetch_add(report.rows, Ordering::Relaxed);
        c.packets_capped
            .fetch_add(report.packets_capped, Ordering::Relaxed);
        c.batches.fetch_add(1, Ordering::Relaxed);
        c.episodes.committed();
        Ok(())
    }

    fn failed(&self, n: u64, e: &StoreError) {
        self.counters.records_failed.fetch_add(n, Ordering::Relaxed);
        let message = e.to_string();
        if e.is_about_a_record() {
            self.counters.episodes.bad_record(&message);
        } else {
            self.counters.episodes.failed(n, &message);
        }
        let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
        first.get_or_insert(message);
    }

    fn take_error(&self) -> Option<String> {
        self.first_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}
