//! Acknowledgements: the promise, carried with a batch from the API through the pipeline
//! to the writer thread, to tell the waiting client whether its records were committed.
//!
//! An [`Ack`] is answered exactly once. The writer answers `Ok` after the transaction
//! holding the batch commits, or `Err` when it fails. An `Ack` dropped unanswered (the
//! batch was refused, the queue closed, a thread stopped) answers `Err` by itself, so a
//! client is never told "stored" by mistake and never waits forever.

use crate::BatchMark;
use netsnoop_core::{Event, Record};
use std::fmt;

/// Why a batch was not stored. The message is shown to the client and names the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotStored(pub String);

impl fmt::Display for NotStored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type Answer = Box<dyn FnOnce(Result<(), NotStored>) + Send>;

/// A client waiting for its records to be durable; an agent's batch also carries its
/// mark, which the writer commits in the same transaction as the records.
pub struct Ack(Option<Answer>, Option<Box<BatchMark>>);

impl Ack {
    /// `answer` is called once with the outcome, from whichever thread settles it.
    pub fn new(answer: impl FnOnce(Result<(), NotStored>) + Send + 'static) -> Ack {
        Ack(Some(Box::new(answer)), None)
    }

    /// The same, for an agent's batch: `mark` is stored with its records.
    pub fn marked(mut self, mark: BatchMark) -> Ack {
        self.1 = Some(Box::new(mark));
        self
    }

    /// The batch mark this ack carries, if any.
    pub fn mark(&self) -> Option<&BatchMark> {
        self.1.as_deref()
    }

    /// The records are committed.
    pub fn stored(mut self) {
        if let Some(answer) = self.0.take() {
            answer(Ok(()));
        }
    }

    /// The records are not stored, for the reason given.
    pub fn fail(mut self, why: impl Into<String>) {
        if let Some(answer) = self.0.take() {
            answer(Err(NotStored(why.into())));
        }
    }
}

impl Drop for Ack {
    fn drop(&mut self) {
        if let Some(answer) = self.0.take() {
            answer(Err(NotStored(
                "the batch was dropped before it was stored (the server is stopping or its store writer stopped); nothing from it is acknowledged: retry".into(),
            )));
        }
    }
}

impl fmt::Debug for Ack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Ack(waiting)"
        } else {
            "Ack(answered)"
        })
    }
}

/// Events whose sender waits until they are stored (POST /packets, agent batches).
#[derive(Debug)]
pub struct AckedBatch {
    /// The events, in order: they run through the stages.
    pub events: Vec<Event>,
    /// Records an agent's own stages already made: they go to the sinks as they are.
    pub records: Vec<Record>,
    /// Answered once the records made from `events` are committed (or cannot be).
    pub ack: Ack,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn an_ack_dropped_unanswered_answers_not_stored() {
        let (tx, rx) = mpsc::channel();
        drop(Ack::new(move |r| tx.send(r).unwrap()));
        let answer = rx.recv().unwrap();
        assert!(
            answer
                .unwrap_err()
                .0
                .contains("dropped before it was stored")
        );
    }

    #[test]
    fn an_ack_is_answered_once_with_what_happened() {
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        Ack::new(move |r| tx.send(r).unwrap()).stored();
        Ack::new(move |r| tx2.send(r).unwrap()).fail("disk full");
        assert_eq!(rx.recv().unwrap(), Ok(()));
        assert_eq!(rx.recv().unwrap(), Err(NotStored("disk full".into())));
        assert!(rx.try_recv().is_err());
    }
}
