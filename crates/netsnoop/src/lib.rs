//! The `netsnoop` binary's library: command line, config, pipeline wiring, terminal output
//! and log writers. `main.rs` only parses arguments and dispatches to [`commands`].

#![forbid(unsafe_code)]

pub mod agent;
pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod fsmode;
pub mod identity;
pub use netsnoop_pipeline as pipeline;
pub mod setup;
pub mod shutdown;
pub mod sinks;
pub mod sources;
pub mod time;
pub mod version;
