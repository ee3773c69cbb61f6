//! The `Sink` contract the pipeline hands records to, and every sink this binary has:
//! terminal output (`terminal`, with `term`, `proctree` and `jsonl` formatting), the log
//! files (`logs`), the store writer (`store`), the live API hub (`hub`) and the packet
//! rate limit in front of per-packet sinks (`sampled`) and the alert outputs (`deliver`).

mod changes;
pub mod deliver;
pub mod hub;
pub mod jsonl;
pub mod logs;
pub mod proctree;
pub mod sampled;
pub mod store;
pub mod term;
pub mod terminal;

pub use changes::{Change, Changes};
pub use netsnoop_pipeline::sink::{SessionEnd, Sink};

use netsnoop_core::Ts;
use std::path::PathBuf;

/// How a session started, for sinks that record it (the session log's start marker).
#[derive(Clone, Debug)]
pub struct SessionStart {
    pub time: Ts,
    /// The subcommand (`run`, `watch`, …).
    pub command: String,
    pub config: PathBuf,
    pub config_found: bool,
    pub data_dir: PathBuf,
}
