//! The `Sink` contract the pipeline hands records to, and how a session ended.

use netsnoop_core::{Record, Ts};
use netsnoop_store::Ack;

/// How a session ended, for the end marker and summaries.
#[derive(Clone, Debug, Default)]
pub struct SessionEnd {
    pub time: Ts,
    /// Why: `SIGINT`, `SIGTERM`, `end of input`, `error: …`.
    pub reason: String,
    pub events: u64,
    pub alerts: u64,
    /// Events lost by sources (sum of `Event::Loss` counts).
    pub lost: u64,
    /// Errors sinks returned (each counted, the first of each sink shown).
    pub sink_errors: u64,
}

/// Where records go. The pipeline thread owns every sink and calls them in order; a sink
/// that returns an error is counted and logged, and keeps receiving (a full disk must not
/// stop the terminal alerts).
pub trait Sink: Send {
    /// A short stable name for the start banner and error counts.
    fn name(&self) -> String;

    /// Takes one batch: the events of one source batch and the records stages derived.
    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()>;

    /// Takes a batch whose senders wait for it to be durable (POST /packets). A sink that
    /// stores records takes the acks out of `acks` and answers them once the records are
    /// committed; every other sink takes the records as usual and leaves the acks alone.
    fn accept_durable(&mut self, records: &[Record], acks: &mut Vec<Ack>) -> anyhow::Result<()> {
        let _ = acks;
        self.accept(records)
    }

    /// Makes what was accepted durable or visible; called about once a second.
    fn flush(&mut self) -> anyhow::Result<()>;

    /// Called once, last: flush and write any end marker.
    fn close(&mut self, end: &SessionEnd) -> anyhow::Result<()>;
}
