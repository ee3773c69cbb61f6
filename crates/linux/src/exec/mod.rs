//! Exec events: one selector and three backends, all feeding the same enricher, so the
//! pipeline gets the same `Event::Process` whichever runs.
//!
//! - `select.rs` and `start.rs`: the choice (`--exec-source auto|ebpf|netlink|poll`), best
//!   first, keeping the reason each better backend was passed over;
//! - `ebpf/`: the eBPF backend (BTF tracepoints, argv copied in the kernel);
//! - `connector.rs` (with `intake.rs`, `netlink.rs`, `reader.rs`): the proc connector;
//! - `poll.rs`: /proc polling, the last resort;
//! - shared by all three: `enrich.rs` (process table, ancestry, /proc seed and resync),
//!   `handoff.rs`, `message.rs`, `clock.rs`, `priority.rs`, `stats.rs`.

mod clock;
mod connector;
pub mod ebpf;
pub(crate) mod enrich;
pub(crate) mod handoff;
mod intake;
pub mod message;
pub mod netlink;
mod poll;
mod priority;
pub mod reader;
mod select;
mod start;
mod stats;

pub use connector::{ConnectorUnavailable, ExecMode, ExecSource};
pub use enrich::running_processes;
pub use netlink::BufferSize;
pub use select::{
    ExecSourceChoice, ExecSourceKind, PassedOver, SelectError, Selected, select_exec_source,
};
pub use start::{RunningExecSource, start_exec_source};
pub use stats::{ExecCounters, ExecStats};
