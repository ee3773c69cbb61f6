//! Network: packet metadata and parsing, flows, per-second rollups, the packet sampler,
//! scan and traffic-spike detection, and their configuration.

pub mod flow;
pub mod packet;
pub mod parse;
pub mod rollup;
