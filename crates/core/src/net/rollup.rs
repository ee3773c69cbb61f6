//! One closed second of traffic counters, so statistics never need a scan over packets.

use super::packet::Protocol;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Counts {
    pub packets: u64,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TrafficSecond {
    /// Unix seconds (UTC) this row covers.
    pub second: i64,
    pub total: Counts,
    pub by_protocol: Vec<(Protocol, Counts)>,
    pub by_src: Vec<(IpAddr, Counts)>,
    pub by_dst: Vec<(IpAddr, Counts)>,
}
