//! The intake: the bounded queue that acknowledged batches take from the API to the
//! pipeline, closable without a race, so that a stopping server refuses new batches and
//! still stores every batch it already took.
//!
//! [`IntakeReceiver::close`] makes every later [`IntakeSender::send`] fail with
//! [`SendError::Closed`]; a send already under way when it is called either fails the
//! same way or lands in the queue, and [`IntakeReceiver::drain`] waits for those.

use crate::ack::AckedBatch;
use crossbeam_channel::{Receiver, SendTimeoutError, Sender, TrySendError, bounded};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Why a batch was not queued; it comes back to the caller untouched (ack unanswered).
#[derive(Debug)]
pub enum SendError {
    /// The queue stayed full for the whole wait.
    Full(AckedBatch),
    /// The intake is closed (the pipeline is stopping); nothing more is taken.
    Closed(AckedBatch),
}

#[derive(Default)]
struct Gate {
    closed: AtomicBool,
    /// Sends between their check of `closed` and their return.
    sending: AtomicUsize,
}

/// The API's end; cheap to clone.
#[derive(Clone)]
pub struct IntakeSender {
    tx: Sender<AckedBatch>,
    gate: Arc<Gate>,
}

/// The pipeline's end.
pub struct IntakeReceiver {
    rx: Receiver<AckedBatch>,
    gate: Arc<Gate>,
}

/// A queue holding up to `capacity` batches.
pub fn intake(capacity: usize) -> (IntakeSender, IntakeReceiver) {
    let (tx, rx) = bounded(capacity.max(1));
    let gate = Arc::new(Gate::default());
    (
        IntakeSender {
            tx,
            gate: gate.clone(),
        },
        IntakeReceiver { rx, gate },
    )
}

impl IntakeSender {
    /// Queues a batch, waiting at most `wait` for room (zero: not at all).
    pub fn send(&self, batch: AckedBatch, wait: Duration) -> Result<(), SendError> {
        // SeqCst on both sides: either this send sees `closed`, or `close` sees it in
        // `sending` and the drain waits for it.
        self.gate.sending.fetch_add(1, Ordering::SeqCst);
        let result = if self.gate.closed.load(Ordering::SeqCst) {
            Err(SendError::Closed(batch))
        } else if wait.is_zero() {
            self.tx.try_send(batch).map_err(|e| match e {
                TrySendError::Full(b) => SendError::Full(b),
                TrySendError::Disconnected(b) => SendError::Closed(b),
            })
        } else {
            self.tx.send_timeout(batch, wait).map_err(|e| match e {
                SendTimeoutError::Timeout(b) => SendError::Full(b),
                SendTimeoutError::Disconnected(b) => SendError::Closed(b),
            })
        };
        self.gate.sending.fetch_sub(1, Ordering::SeqCst);
        result
    }

    /// Batches waiting, and how many the queue holds.
    pub fn queue(&self) -> (usize, usize) {
        (self.tx.len(), self.tx.capacity().unwrap_or(0))
    }

    /// Whether the intake has been closed.
    pub fn is_closed(&self) -> bool {
        self.gate.closed.load(Ordering::SeqCst)
    }
}

impl IntakeReceiver {
    /// The queue, for `select!` alongside other channels.
    pub fn receiver(&self) -> &Receiver<AckedBatch> {
        &self.rx
    }

    /// Refuses every later send.
    pub fn close(&self) {
        self.gate.closed.store(true, Ordering::SeqCst);
    }

    /// After [`IntakeReceiver::close`]: hands every batch still queued, or still being
    /// queued by a send that began before the close, to `each`, in order.
    pub fn drain(&self, mut each: impl FnMut(AckedBatch)) {
        loop {
            while let Ok(batch) = self.rx.try_recv() {
                each(batch);
            }
            if self.gate.sending.load(Ordering::SeqCst) == 0 && self.rx.is_empty() {
                return;
            }
            // A send is under way (waiting for the room this drain just made).
            if let Ok(batch) = self.rx.recv_timeout(Duration::from_millis(5)) {
                each(batch);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::Ack;

    fn batch() -> AckedBatch {
        AckedBatch {
            events: Vec::new(),
            records: Vec::new(),
            ack: Ack::new(|_| {}),
        }
    }

    #[test]
    fn after_close_sends_are_refused_and_everything_taken_before_is_drained() {
        let (tx, rx) = intake(4);
        tx.send(batch(), Duration::ZERO).unwrap();
        tx.send(batch(), Duration::ZERO).unwrap();
        rx.close();
        assert!(matches!(
            tx.send(batch(), Duration::ZERO),
            Err(SendError::Closed(_))
        ));
        let mut n = 0;
        rx.drain(|_| n += 1);
        assert_eq!(n, 2);
    }

    #[test]
    fn a_send_racing_the_close_is_either_refused_or_drained_never_lost() {
        for _ in 0..50 {
            let (tx, rx) = intake(1);
            tx.send(batch(), Duration::ZERO).unwrap();
            let racing = {
                let tx = tx.clone();
                std::thread::spawn(move || tx.send(batch(), Duration::from_secs(10)).is_ok())
            };
            while tx.gate.sending.load(Ordering::SeqCst) == 0 && !racing.is_finished() {
                std::thread::yield_now();
            }
            rx.close();
            let mut n = 0;
            rx.drain(|_| n += 1);
            let taken = racing.join().unwrap();
            assert_eq!(n, 1 + usize::from(taken));
        }
    }
}
