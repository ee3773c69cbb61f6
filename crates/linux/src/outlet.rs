//! The sending end every source uses: owned batches over a bounded channel, never blocking,
//! with every batch that does not fit counted and reported later as an `Event::Loss`.

use crossbeam_channel::{Sender, TrySendError};
use netsnoop_core::event::Loss;
use netsnoop_core::{Event, Ts};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The pipeline has stopped listening; the source should finish.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the pipeline has stopped receiving events")]
pub struct Closed;

/// A source's handle on the pipeline channel.
///
/// A source must never block on a full channel (a blocked capture loop loses far more in
/// the kernel than one dropped batch), so [`Outlet::send`] drops the batch instead, counts
/// its events, and prepends one `Event::Loss` to the next batch that gets through.
pub struct Outlet {
    source: String,
    tx: Sender<Vec<Event>>,
    /// Lost but not yet reported to the pipeline, by reason.
    pending: Vec<(String, u64)>,
    dropped_total: Arc<AtomicU64>,
}

const CHANNEL_FULL: &str = "pipeline channel full";

impl Outlet {
    pub fn new(source: impl Into<String>, tx: Sender<Vec<Event>>) -> Outlet {
        Outlet {
            source: source.into(),
            tx,
            pending: Vec::new(),
            dropped_total: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Sends one batch without blocking. `now` stamps the loss report, if one is due.
    pub fn send(&mut self, mut batch: Vec<Event>, now: Ts) -> Result<(), Closed> {
        let losses = self.loss_events(now);
        let n_loss = losses.len();
        if n_loss > 0 {
            batch.splice(0..0, losses);
        }
        if batch.is_empty() {
            return Ok(());
        }
        match self.tx.try_send(batch) {
            Ok(()) => {
                self.pending.clear();
                Ok(())
            }
            Err(TrySendError::Full(batch)) => {
                let lost = (batch.len() - n_loss) as u64;
                self.count(lost, CHANNEL_FULL);
                Ok(())
            }
            Err(TrySendError::Disconnected(_)) => Err(Closed),
        }
    }

    /// Records events the source lost before they reached it (a kernel buffer overrun, an
    /// unreadable record); they are reported with the next batch.
    pub fn report_loss(&mut self, count: u64, reason: &str) {
        self.count(count, reason);
    }

    /// Delivers any pending loss report, waiting up to `timeout` for room. Call it when the
    /// source stops so its last losses are not themselves lost.
    pub fn close(self, now: Ts, timeout: std::time::Duration) {
        let losses = self.loss_events(now);
        if !losses.is_empty() && self.tx.send_timeout(losses, timeout).is_err() {
            // Still counted in `dropped_counter`; say so, since no Loss event will.
            let lost: u64 = self.pending.iter().map(|(_, n)| n).sum();
            tracing::warn!(
                "source {}: could not report its last {lost} lost events: the pipeline did not take them",
                self.source
            );
        }
    }

    /// Events dropped since start (shared, so a status display can read it).
    pub fn dropped_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.dropped_total)
    }

    fn count(&mut self, lost: u64, reason: &str) {
        if lost == 0 {
            return;
        }
        self.dropped_total.fetch_add(lost, Ordering::Relaxed);
        match self.pending.iter_mut().find(|(r, _)| r == reason) {
            Some((_, n)) => *n += lost,
            None => self.pending.push((reason.to_string(), lost)),
        }
    }

    fn loss_events(&self, now: Ts) -> Vec<Event> {
        self.pending
            .iter()
            .map(|(reason, count)| {
                Event::Loss(Loss {
                    host: None,
                    time: now,
                    source: self.source.clone(),
                    count: *count,
                    reason: reason.clone(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossbeam_channel::bounded;

    fn loss(e: &Event) -> Option<&Loss> {
        match e {
            Event::Loss(l) => Some(l),
            _ => None,
        }
    }

    fn packet() -> Event {
        Event::Packet(netsnoop_core::PacketMeta::default())
    }

    #[test]
    fn a_batch_that_finds_the_channel_full_is_reported_with_the_next_one() {
        let (tx, rx) = bounded(1);
        let mut out = Outlet::new("capture:lo", tx);
        out.send(vec![packet()], Ts::from_secs(1)).unwrap();
        out.send(vec![packet(), packet(), packet()], Ts::from_secs(2))
            .unwrap();
        assert_eq!(out.dropped_counter().load(Ordering::Relaxed), 3);

        assert_eq!(rx.recv().unwrap().len(), 1);
        out.send(vec![packet()], Ts::from_secs(3)).unwrap();
        let next = rx.recv().unwrap();
        let report = loss(&next[0]).expect("loss report first");
        assert_eq!(report.count, 3);
        assert_eq!(report.source, "capture:lo");
        assert_eq!(report.time, Ts::from_secs(3));
        assert_eq!(next.len(), 2);

        out.send(vec![packet()], Ts::from_secs(4)).unwrap();
        assert!(loss(&rx.recv().unwrap()[0]).is_none(), "reported only once");
    }

    #[test]
    fn losses_keep_adding_up_until_they_get_through() {
        let (tx, rx) = bounded(1);
        let mut out = Outlet::new("exec", tx);
        out.send(vec![packet()], Ts::from_secs(1)).unwrap();
        out.report_loss(5, "kernel buffer overrun");
        out.send(vec![packet()], Ts::from_secs(2)).unwrap();
        out.send(vec![packet(), packet()], Ts::from_secs(3))
            .unwrap();
        rx.recv().unwrap();
        out.close(Ts::from_secs(4), std::time::Duration::from_millis(100));
        let last = rx.recv().unwrap();
        let counts: Vec<(String, u64)> = last
            .iter()
            .filter_map(loss)
            .map(|l| (l.reason.clone(), l.count))
            .collect();
        assert_eq!(
            counts,
            vec![
                ("kernel buffer overrun".to_string(), 5),
                (CHANNEL_FULL.to_string(), 3)
            ]
        );
    }

    #[test]
    fn a_dropped_receiver_tells_the_source_to_stop() {
        let (tx, rx) = bounded(1);
        drop(rx);
        let mut out = Outlet::new("exec", tx);
        assert_eq!(out.send(vec![packet()], Ts::from_secs(1)), Err(Closed));
    }
}
