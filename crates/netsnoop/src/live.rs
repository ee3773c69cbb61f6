//! Keeps the shared live snapshot (netsnoop-core's `LiveSnapshot`) up to date from the
//! records the pipeline produces. One write lock per batch, held briefly.

use crate::events;
use netsnoop_core::{AlertState, Degraded, Event, LiveSnapshot, Record, SharedLive, Ts};
use std::sync::{Arc, RwLock};

/// A fresh snapshot for a session starting at `started_at`.
pub fn shared(started_at: Ts, degraded: Vec<Degraded>) -> SharedLive {
    Arc::new(RwLock::new(LiveSnapshot {
        started_at,
        degraded,
        ..LiveSnapshot::default()
    }))
}

/// Folds one batch of records into the snapshot.
pub fn observe(live: &SharedLive, records: &[Record]) {
    // A reader that panicked while holding the lock leaves it poisoned; the data is still
    // a consistent snapshot (writes are whole-field), so keep going.
    let mut s = live.write().unwrap_or_else(|p| p.into_inner());
    for r in records {
        match r {
            Record::Event(e) => {
                *s.events
                    .entry(events::type_name(e).to_string())
                    .or_default() += 1;
                let t = events::time(e);
                if s.last_event.is_none_or(|last| t > last) {
                    s.last_event = Some(t);
                }
                if let Event::Loss(l) = e {
                    *s.losses.entry(l.source.clone()).or_default() += l.count;
                }
            }
            Record::Alert(a) => {
                s.alerts_total += 1;
                if a.state == AlertState::Resolved {
                    s.active_alerts.remove(&a.id);
                } else {
                    s.active_alerts.insert(a.id.clone(), a.clone());
                }
            }
        }
    }
}

/// Reads a copy of the snapshot (for the API, the banner and tests).
pub fn read(live: &SharedLive) -> LiveSnapshot {
    live.read().unwrap_or_else(|p| p.into_inner()).clone()
}
