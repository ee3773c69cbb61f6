//! Failure episodes of the writer: from the first transaction that fails for a reason of
//! the database or its disk (full, read-only, I/O error, locked) to the next one that
//! commits. Logged once when it begins and once when it ends, with counts, never once
//! per record; shown by `/health` as a degraded mode while it lasts.

use netsnoop_core::Ts;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The store is failing: writes have failed since `since` and none has committed yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteFailing {
    /// When the first failure of this episode happened.
    pub since: Ts,
    /// What the latest failure said (it names the fix).
    pub error: String,
    /// Transactions that failed in this episode.
    pub transactions_failed: u64,
    /// Records lost with them (acknowledged batches among them were answered 503).
    pub records_failed: u64,
}

/// How often a record that fails on its own (a bug somewhere upstream) is logged.
const RECORD_LOG_EVERY: Duration = Duration::from_secs(60);

#[derive(Default)]
pub(super) struct Episodes {
    current: Mutex<Option<(Instant, WriteFailing)>>,
    bad_records: Mutex<BadRecords>,
}

#[derive(Default)]
struct BadRecords {
    last_logged: Option<Instant>,
    since_logged: u64,
}

fn now() -> Ts {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    Ts(i64::try_from(micros).unwrap_or(i64::MAX))
}

impl Episodes {
    /// A transaction of `records` records failed because of the database or its disk.
    pub(super) fn failed(&self, records: u64, error: &str) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        match &mut *current {
            Some((_, f)) => {
                f.transactions_failed += 1;
                f.records_failed += records;
                error.clone_into(&mut f.error);
            }
            None => {
                tracing::error!(
                    "store writes are failing: {error}. Until a write succeeds, the records of \
                     every failed transaction are lost (counted in /health and /metrics) and \
                     POST /packets answers 503; this is logged again, with counts, when writes \
                     work again"
                );
                *current = Some((
                    Instant::now(),
                    WriteFailing {
                        since: now(),
                        error: error.to_string(),
                        transactions_failed: 1,
                        records_failed: records,
                    },
                ));
            }
        }
    }

    /// A transaction committed: any failure episode is over.
    pub(super) fn committed(&self) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((began, f)) = current.take() {
            tracing::warn!(
                "store writes work again after {:.1} s of failures: {} records in {} \
                 transactions were lost (last error: {})",
                began.elapsed().as_secs_f64(),
                f.records_failed,
                f.transactions_failed,
                f.error
            );
        }
    }

    /// The episode under way, if any.
    pub(super) fn current(&self) -> Option<WriteFailing> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        current.as_ref().map(|(_, f)| f.clone())
    }

    /// One record failed on its own (a value SQLite cannot hold): not an episode, since
    /// the store works; logged at most once a minute with the count since the last line.
    pub(super) fn bad_record(&self, error: &str) {
        let mut b = self.bad_records.lock().unwrap_or_else(|p| p.into_inner());
        b.since_logged += 1;
        if b.last_logged
            .is_none_or(|t| t.elapsed() >= RECORD_LOG_EVERY)
        {
            tracing::error!(
                records = b.since_logged,
                "records could not be stored and were skipped: {error}"
            );
            b.last_logged = Some(Instant::now());
            b.since_logged = 0;
        }
    }
}
