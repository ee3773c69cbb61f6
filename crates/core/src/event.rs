//! The one event model every source produces and every sink consumes.

use crate::Alert;
use serde::{Deserialize, Serialize};

pub use crate::net::flow::FlowRecord;
pub use crate::net::packet::{PacketMeta, Protocol};
pub use crate::net::traffic::TrafficSecond;
pub use crate::owner::ConnectionEvent;
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
    /// A socket connected, accepted, sent UDP, listened or closed, with its process.
    Connection(ConnectionEvent),
}

impl Event {
    /// The time the event happened: what drives stages and ticks in a replay. A traffic
    /// second counts at its end (`second + 1`), when it is closed.
    pub fn time(&self) -> crate::Ts {
        match self {
            Event::Process(p) => p.time,
            Event::Resources(r) => r.system.time,
            Event::Packet(p) => p.time,
            Event::Flow(f) => f.last_seen,
            Event::Traffic(t) => crate::Ts::from_secs(t.second + 1),
            Event::Loss(l) => l.time,
            Event::Connection(c) => c.time,
        }
    }

    /// The host the event came from (None: this host).
    pub fn host(&self) -> Option<&crate::host::HostRef> {
        match self {
            Event::Process(e) => e.host.as_ref(),
            Event::Resources(e) => e.host.as_ref(),
            Event::Packet(e) => e.host.as_ref(),
            Event::Flow(e) => e.host.as_ref(),
            Event::Traffic(e) => e.host.as_ref(),
            Event::Loss(e) => e.host.as_ref(),
            Event::Connection(e) => e.host.as_ref(),
        }
    }

    /// Where the event's host is kept, to label what arrives from an agent.
    pub fn host_mut(&mut self) -> &mut Option<crate::host::HostRef> {
        match self {
            Event::Process(e) => &mut e.host,
            Event::Resources(e) => &mut e.host,
            Event::Packet(e) => &mut e.host,
            Event::Flow(e) => &mut e.host,
            Event::Traffic(e) => &mut e.host,
            Event::Loss(e) => &mut e.host,
            Event::Connection(e) => &mut e.host,
        }
    }

    /// The `type` tag the event carries in JSON (`process`, `packet`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::Process(_) => "process",
            Event::Resources(_) => "resources",
            Event::Packet(_) => "packet",
            Event::Flow(_) => "flow",
            Event::Traffic(_) => "traffic",
            Event::Loss(_) => "loss",
            Event::Connection(_) => "connection",
        }
    }
}

/// A count of events a source could not deliver, so that nothing is dropped silently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loss {
    /// The host the record came from; absent on a single host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<crate::host::HostRef>,
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

impl Record {
    /// The host the record came from (None: this host).
    pub fn host(&self) -> Option<&crate::host::HostRef> {
        match self {
            Record::Event(e) => e.host(),
            Record::Alert(a) => a.host.as_ref(),
        }
    }

    /// Where the record's host is kept.
    pub fn host_mut(&mut self) -> &mut Option<crate::host::HostRef> {
        match self {
            Record::Event(e) => e.host_mut(),
            Record::Alert(a) => &mut a.host,
        }
    }

    /// The time the record is about: an event's time, an alert's last sighting.
    pub fn time(&self) -> crate::Ts {
        match self {
            Record::Event(e) => e.time(),
            Record::Alert(a) => a.last_seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ts;

    #[test]
    fn type_names_match_the_json_tags() {
        let events = [
            Event::Process(ProcessEvent::default()),
            Event::Resources(ResourceSample::default()),
            Event::Packet(PacketMeta::default()),
            Event::Traffic(TrafficSecond::default()),
            Event::Loss(Loss {
                host: None,
                time: Ts(5),
                source: "s".into(),
                count: 1,
                reason: "r".into(),
            }),
        ];
        for e in &events {
            let v = serde_json::to_value(e).unwrap();
            assert_eq!(v["type"], e.type_name());
        }
        assert_eq!(events[4].time(), Ts(5));
    }

    #[test]
    fn a_traffic_second_happens_when_it_closes() {
        let t = TrafficSecond {
            second: 100,
            ..TrafficSecond::default()
        };
        assert_eq!(Event::Traffic(t).time(), Ts::from_secs(101));
    }
}
