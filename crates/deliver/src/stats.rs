//! Each output's counters, shared by the pipeline side (drops), its worker thread
//! (delivered, failed, errors) and `/health` and `/metrics`.

use serde::Serialize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Counters {
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
    pub errors: AtomicU64,
    pub dropped: AtomicU64,
    /// Alerts not sent because a silence or an ack covered them.
    pub silenced: AtomicU64,
    /// Held by the worker (grouping and retrying); the channel's own length is added.
    pub held: AtomicU64,
    pub last_error: Mutex<Option<String>>,
}

impl Counters {
    pub fn add(n: &AtomicU64, by: usize) {
        n.fetch_add(by as u64, Ordering::Relaxed);
    }

    pub fn set_error(&self, e: &str) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
    }
}

/// One output's figures, as `/health` shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OutputCounts {
    pub name: String,
    /// `alertmanager`, `webhook`, `falco`, `email` or `program`.
    pub kind: String,
    /// Alerts the receiver accepted.
    pub delivered: u64,
    /// Alerts given up on: refused by the receiver, or still unsent at shutdown.
    pub failed: u64,
    /// Attempts that failed (each retried unless the alert was given up).
    pub errors: u64,
    /// Alerts dropped because the output's queue was full.
    pub dropped: u64,
    /// Alerts not sent because a silence or an acknowledgement covered them.
    pub silenced: u64,
    /// Alerts waiting: queued, grouping or being retried.
    pub queued: u64,
    /// The last failure, if any (never holds a secret).
    pub last_error: Option<String>,
}
