//! The one event model every source produces and every sink consumes.

use crate::Alert;
use serde::{Deserialize, Serialize};

pub use crate::net::flow::FlowRecord;
pub use crate::net::packet::{PacketMeta, Protocol};
pub use crate::net::rollup::TrafficSecond;
pub use crate::process::event::{Ancestor, ProcEventKind, ProcessEvent};
pub use crate::resource::sample::{ProcSample, ResourceSample, SystemSample};

/// What sources send to the pipeline, in owned batches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// fork, exec, exit, comm or uid change of a process.
    Process(ProcessEvent),
    /// One sampling round of system and per-process resources.
    Resources(ResourceSample),
    /// Metadata of one captured (or POSTed, or replayed) packet.
    Packet(PacketMeta),
    /// A flow that finished (timed out, closed or was evicted).
    Flow(FlowRecord),
    /// One second of traffic counters, closed.
    Traffic(TrafficSecond),
    /// A source lost events it could not deliver (kernel buffer overrun, full channel).
    Loss(Loss),
}

/// A count of events a source could not deliver, so that nothing is dropped silently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loss {
    pub time: crate::Ts,
    /// Which source lost them, e.g. `proc_connector`, `capture:lo`.
    pub source: String,
    pub count: u64,
    pub reason: String,
}

/// What the pipeline hands to sinks: the events it saw and the alerts they raised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Record {
    Event(Event),
    Alert(Alert),
}
