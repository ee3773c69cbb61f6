//! Network: packet metadata, flows and per-second rollups; parsing, the flow table and scan
//! detection arrive with the network-monitoring work.

pub mod flow;
pub mod packet;
pub mod rollup;
