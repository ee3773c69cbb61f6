//! The stage contract: a pure state machine fed `(event, now)` that returns records —
//! alerts (detectors) or derived events (flow table, traffic rollups).

use crate::{Event, Record, Ts};

/// Every detector and every derived-data builder is driven the same way, so one harness
/// (the pipeline, or a test with scripted events) can run any of them. Time is the
/// event's own time, never a clock.
///
/// Records returned go to the sinks; they are not fed back into other stages.
pub trait Stage: Send {
    /// A short stable name, used in metrics and logs.
    fn name(&self) -> &'static str;

    /// Feeds one event; returns alerts opened, updated or resolved by it, and any
    /// derived events (finished flows, closed traffic seconds).
    fn ingest(&mut self, event: &Event, now: Ts) -> Vec<Record>;

    /// Called about once a second (and with the final time at shutdown) so windows can
    /// expire and episodes resolve even when no events arrive.
    fn tick(&mut self, _now: Ts) -> Vec<Record> {
        Vec::new()
    }

    /// Called once at shutdown: flush partial state (open flows, the current second).
    fn finish(&mut self, now: Ts) -> Vec<Record> {
        self.tick(now)
    }

    /// Hands out what the stage has counted but not yet emitted, as records that add to
    /// those emitted before (the open second's rollup so far), so a caller that must make
    /// every event so far durable and queryable can; state stays open. Default: nothing.
    fn checkpoint(&mut self, _now: Ts) -> Vec<Record> {
        Vec::new()
    }
}
