//! The agent's sink: what `run` would store is gathered into batches (a JSON array of
//! records each) and kept in the spool, where the shipper takes them from.

use super::spool::Spool;
use crate::sinks::{SessionEnd, Sink};
use crossbeam_channel::Sender;
use netsnoop_core::{Record, Ts};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct ShipSink {
    spool: Arc<Spool>,
    /// The open batch: `[` and the records so far, comma-separated.
    open: Vec<u8>,
    records: u64,
    opened: Instant,
    max_records: u64,
    interval: Duration,
    top_n: usize,
    /// Tells the shipper a batch is waiting.
    wake: Sender<()>,
}

impl ShipSink {
    pub fn new(
        spool: Arc<Spool>,
        cfg: &crate::config::fleet::Agent,
        top_n: usize,
        wake: Sender<()>,
    ) -> ShipSink {
        ShipSink {
            spool,
            open: Vec::new(),
            records: 0,
            opened: Instant::now(),
            max_records: cfg.batch_records as u64,
            interval: cfg.batch_interval.get(),
            top_n,
            wake,
        }
    }

    /// Closes the open batch into the spool.
    fn cut(&mut self) -> anyhow::Result<()> {
        if self.records == 0 {
            return Ok(());
        }
        self.open.push(b']');
        let pushed = self.spool.push(&self.open, self.records, Ts::now());
        self.open.clear();
        self.records = 0;
        pushed?;
        let _ = self.wake.try_send(());
        Ok(())
    }
}

impl Sink for ShipSink {
    fn name(&self) -> String {
        "agent spool".into()
    }

    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
        for r in crate::sinks::store::for_storage(records, self.top_n) {
            if self.records == 0 {
                self.open.push(b'[');
                self.opened = Instant::now();
            } else {
                self.open.push(b',');
            }
            serde_json::to_writer(&mut self.open, &r)?;
            self.records += 1;
            if self.records >= self.max_records {
                self.cut()?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.opened.elapsed() >= self.interval {
            self.cut()?;
        }
        Ok(())
    }

    fn close(&mut self, _end: &SessionEnd) -> anyhow::Result<()> {
        self.cut()
    }
}
