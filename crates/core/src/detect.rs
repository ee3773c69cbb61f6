//! The detector contract: a pure state machine fed `(event, now)` that returns alerts.

use crate::{Alert, Event, Ts};

/// Every detector is driven the same way, so one harness (the pipeline, or a test with
/// scripted events) can run any of them. Time is the event's own time, never a clock.
pub trait Detector: Send {
    /// A short stable name, used in metrics and logs.
    fn name(&self) -> &'static str;

    /// Feeds one event; returns alerts opened, updated or resolved by it.
    fn ingest(&mut self, event: &Event, now: Ts) -> Vec<Alert>;

    /// Called about once a second (and at shutdown) so windows can expire and episodes
    /// resolve even when no events arrive.
    fn tick(&mut self, _now: Ts) -> Vec<Alert> {
        Vec::new()
    }
}
