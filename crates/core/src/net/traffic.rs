//! One closed second of traffic counters, so statistics never need a scan over packets.

use super::packet::Protocol;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Counts {
    pub packets: u64,
    pub bytes: u64,
}

impl Counts {
    pub fn add(&mut self, bytes: u64) {
        self.packets += 1;
        self.bytes += bytes;
    }

    pub fn merge(&mut self, other: Counts) {
        self.packets += other.packets;
        self.bytes += other.bytes;
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TrafficSecond {
    /// The host the record came from; absent on a single host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<crate::host::HostRef>,
    /// Unix seconds (UTC) this row covers.
    pub second: i64,
    pub total: Counts,
    pub by_protocol: Vec<(Protocol, Counts)>,
    /// Most packets first. At most `max_hosts_per_second` rows; the rest is in `src_other`.
    pub by_src: Vec<(IpAddr, Counts)>,
    pub by_dst: Vec<(IpAddr, Counts)>,
    /// Distinct source and destination addresses seen this second (a lower bound when
    /// the `*_other` rows are not empty).
    #[serde(default)]
    pub unique_src: u64,
    #[serde(default)]
    pub unique_dst: u64,
    /// Traffic of sources/destinations beyond the per-second row cap, and of packets
    /// without an IP address (non-IP frames).
    #[serde(default)]
    pub src_other: Counts,
    #[serde(default)]
    pub dst_other: Counts,
}
