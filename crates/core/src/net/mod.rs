//! Network: packet metadata and parsing, flows, per-second rollups, the packet sampler,
//! scan and traffic-spike detection, and their configuration.

pub mod addr;
pub mod config;
pub mod conn_state;
pub mod flow;
pub mod flow_table;
pub mod packet;
pub mod parse;
pub mod rollup;
pub mod rollups;
pub mod sampler;
pub mod scan;
pub mod spike;
pub mod stages;
pub mod summary;

#[cfg(test)]
pub(crate) mod testkit;

pub use config::NetworkConfig;
pub use stages::{NetworkStages, NetworkStats};
