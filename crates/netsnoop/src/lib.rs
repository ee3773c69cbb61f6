//! The `netsnoop` binary's library: command line, config, pipeline wiring, terminal output
//! and log writers. `main.rs` only parses arguments and dispatches to [`commands`].

pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod events;
pub mod exec_source;
pub mod fsmode;
pub mod jsonl;
pub mod live;
pub mod logs;
pub mod network;
pub mod pipeline;
pub mod proctree;
pub mod resource_source;
pub mod shutdown;
pub mod sinks;
pub mod sources;
pub mod term;
pub mod time;
