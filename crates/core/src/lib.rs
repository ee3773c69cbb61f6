//! netsnoop-core: the data model and every piece of NetSnoop logic that needs no OS.
//!
//! No I/O and no threads live here. Time is always passed in as an argument ([`Ts`]), so
//! every detector can be driven by scripted events at fixed times, and a pcap replay gives
//! the same alerts as the live run.

#![forbid(unsafe_code)]

pub mod alert;
pub mod detect;
pub mod episodes;
pub mod event;
pub mod fleet;
pub mod health;
pub mod host;
pub mod net;
pub mod owner;
pub mod process;
pub mod redact;
pub mod resource;
pub mod severity;
pub mod silence;
pub mod time;

pub use alert::{Alert, AlertState, Subject};
pub use detect::Stage;
pub use episodes::Episodes;
pub use event::{
    Event, FlowRecord, Loss, PacketMeta, ProcEventKind, ProcSample, ProcessEvent, Protocol, Record,
    ResourceSample, SystemSample, TrafficSecond,
};
pub use health::Degraded;
pub use host::{Host, HostFilter, HostRef};
pub use severity::Severity;
pub use time::Ts;
