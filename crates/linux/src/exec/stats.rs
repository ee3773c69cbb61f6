//! Counters the exec source keeps for metrics: what it received, enriched and lost.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// Shared between the source's threads; read with [`ExecStats::snapshot`].
#[derive(Debug, Default)]
pub struct ExecStats {
    pub messages: AtomicU64,
    pub forks: AtomicU64,
    pub execs: AtomicU64,
    pub exits: AtomicU64,
    /// Exec events whose argv could not be read (the process was already gone).
    pub argv_incomplete: AtomicU64,
    /// ENOBUFS / NLMSG_OVERRUN occurrences.
    pub overruns: AtomicU64,
    /// Events missing from the per-CPU sequence numbers.
    pub lost_seq: AtomicU64,
    /// Events dropped because the enricher queue was full.
    pub lost_queue: AtomicU64,
    /// Short-lived processes a /proc poll could not see (forks minus processes found).
    pub missed_by_polling: AtomicU64,
    pub resyncs: AtomicU64,
    pub decode_errors: AtomicU64,
    /// The socket failed for good; the source has stopped.
    pub fatal: AtomicBool,
}

/// A plain copy of [`ExecStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecCounters {
    pub messages: u64,
    pub forks: u64,
    pub execs: u64,
    pub exits: u64,
    pub argv_incomplete: u64,
    pub overruns: u64,
    pub lost_seq: u64,
    pub lost_queue: u64,
    pub missed_by_polling: u64,
    pub resyncs: u64,
    pub decode_errors: u64,
    pub fatal: bool,
}

impl ExecCounters {
    /// Every event known lost, whatever the cause.
    pub fn lost(&self) -> u64 {
        self.lost_seq + self.lost_queue + self.missed_by_polling
    }
}

impl ExecStats {
    pub fn snapshot(&self) -> ExecCounters {
        ExecCounters {
            messages: self.messages.load(Relaxed),
            forks: self.forks.load(Relaxed),
            execs: self.execs.load(Relaxed),
            exits: self.exits.load(Relaxed),
            argv_incomplete: self.argv_incomplete.load(Relaxed),
            overruns: self.overruns.load(Relaxed),
            lost_seq: self.lost_seq.load(Relaxed),
            lost_queue: self.lost_queue.load(Relaxed),
            missed_by_polling: self.missed_by_polling.load(Relaxed),
            resyncs: self.resyncs.load(Relaxed),
            decode_errors: self.decode_errors.load(Relaxed),
            fatal: self.fatal.load(Relaxed),
        }
    }
}
