//! Socket ownership: which process a connection belongs to, as the kernel reported it at
//! the moment the socket was used, and how flows and alerts are tied to it.
//!
//! - `event.rs`: [`ConnectionEvent`] (what the socket sources send) and [`SocketOwner`];
//! - `table.rs`: [`OwnerTable`], keyed by (netns, 5-tuple), bounded, with expiry;
//! - `procs.rs`: what exec events said about each pid (exe, argv, user, ancestry);
//! - `attach.rs`: owners written into finished flows and scan alerts;
//! - `source.rs`: the attribution source names and the choice between them.

mod attach;
mod event;
mod procs;
mod source;
mod table;

pub use attach::Attribution;
pub use event::{ConnKind, ConnectionEvent, FlowOwner, SocketOwner, UnknownReason, container_of};
pub use procs::ProcInfo;
pub use source::{OwnerSourceChoice, OwnerSourceKind};
pub use table::{OwnerConfig, OwnerStats, OwnerTable};

#[cfg(test)]
mod tests;
