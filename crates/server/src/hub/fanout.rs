//! Per-client bounded queues for the live stream. A client whose queue is full is dropped
//! at publish time, so a reader that stalls (its socket full, the HTTP body no longer
//! polled) can neither hold the pipeline back nor linger unnoticed.

use super::LiveMessage;
use std::sync::Mutex;
use tokio::sync::mpsc::{self, error::TrySendError};

#[derive(Default)]
pub struct Fanout {
    clients: Mutex<Vec<mpsc::Sender<LiveMessage>>>,
}

impl Fanout {
    /// A new client's queue of `capacity` messages.
    pub fn subscribe(&self, capacity: usize) -> mpsc::Receiver<LiveMessage> {
        let (tx, rx) = mpsc::channel(capacity);
        self.lock().push(tx);
        rx
    }

    pub fn clients(&self) -> usize {
        self.lock().len()
    }

    /// Queues `message` for every client; returns how many were dropped for being full.
    /// Clients that went away are forgotten without being counted.
    pub fn send(&self, message: &LiveMessage) -> u64 {
        let mut dropped = 0;
        self.lock().retain(|tx| match tx.try_send(message.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                dropped += 1;
                false
            }
            Err(TrySendError::Closed(_)) => false,
        });
        dropped
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<mpsc::Sender<LiveMessage>>> {
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> LiveMessage {
        LiveMessage {
            event: "tick",
            data: "{}".into(),
        }
    }

    #[test]
    fn a_client_that_does_not_read_is_dropped_once_its_queue_is_full() {
        let f = Fanout::default();
        let mut reader = f.subscribe(2);
        let _stalled = f.subscribe(2);
        assert_eq!(f.send(&msg()), 0);
        assert!(reader.try_recv().is_ok());
        assert_eq!(f.send(&msg()), 0);
        assert!(reader.try_recv().is_ok());
        assert_eq!(f.send(&msg()), 1, "the stalled client's queue was full");
        assert_eq!(f.clients(), 1);
        assert!(reader.try_recv().is_ok());
    }

    #[test]
    fn a_client_that_went_away_is_forgotten_without_counting_a_drop() {
        let f = Fanout::default();
        drop(f.subscribe(2));
        assert_eq!(f.send(&msg()), 0);
        assert_eq!(f.clients(), 0);
    }
}
