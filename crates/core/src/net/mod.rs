//! Network: packet metadata and parsing, flows, per-second traffic rollups, the per-packet
//! rate limit, detection (scans, host discovery, protocol scans, SYN floods, brute force,
//! traffic spikes), and their configuration.

pub mod addr;
pub mod arpspoof;
pub mod bruteforce;
pub mod config;
pub mod conn_state;
pub mod flow;
pub mod flow_table;
pub mod packet;
pub mod parse;

pub mod packet_limit;
pub mod rollups;
pub mod scan;
pub mod spike;
pub mod stages;
pub mod summary;
pub mod traffic;

#[cfg(test)]
pub(crate) mod testkit;

pub use config::NetworkConfig;
pub use stages::{NetworkStages, NetworkStats};
