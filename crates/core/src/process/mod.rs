//! Processes: the event type, the process table and ancestry, burst detection, instigator
//! tracing, the spawn-rate rule and the `[process]` config section.

pub mod burst;
pub mod config;
pub mod event;
pub mod exec_source;
pub mod group;
pub mod instigator;
pub mod rate;
pub mod stage;
pub mod table;

#[cfg(test)]
mod tests;

pub use config::ProcessConfig;
pub use instigator::{Instigator, Tracer, Why};
pub use stage::{ProcessCounters, ProcessMonitor};
pub use table::{Applied, Proc, ProcId, ProcessTable, TableStats};
