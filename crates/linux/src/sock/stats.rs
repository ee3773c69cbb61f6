//! Counters of the socket attribution source, for /health and /metrics.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct SockStats {
    pub events: AtomicU64,
    /// Records the kernel could not put into the full ring buffer.
    pub lost: AtomicU64,
    pub decode_errors: AtomicU64,
    /// /proc scans done (start-up dump and the fallback's rounds).
    pub scans: AtomicU64,
    /// Sockets a /proc scan found without a process holding them.
    pub unowned: AtomicU64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SockCounters {
    pub events: u64,
    pub lost: u64,
    pub decode_errors: u64,
    pub scans: u64,
    pub unowned: u64,
}

impl SockStats {
    pub fn snapshot(&self) -> SockCounters {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SockCounters {
            events: g(&self.events),
            lost: g(&self.lost),
            decode_errors: g(&self.decode_errors),
            scans: g(&self.scans),
            unowned: g(&self.unowned),
        }
    }
}
