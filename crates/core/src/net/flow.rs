//! A finished bidirectional flow, as the flow table hands it to sinks.

use super::packet::Protocol;
use crate::Ts;
use crate::owner::FlowOwner;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::net::IpAddr;

/// The originator is the side that sent the first packet seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FlowRecord {
    /// The host the record came from; absent on a single host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<crate::host::HostRef>,
    pub first_seen: Ts,
    pub last_seen: Ts,
    pub protocol: Protocol,
    pub orig_ip: Option<IpAddr>,
    pub orig_port: u16,
    pub resp_ip: Option<IpAddr>,
    pub resp_port: u16,
    pub orig_packets: u64,
    pub orig_bytes: u64,
    pub resp_packets: u64,
    pub resp_bytes: u64,
    /// Zeek-style connection state (S0, S1, SF, REJ, RSTO, RSTR, SH, OTH, …). A label
    /// the flow table borrows, so ending a flow allocates nothing; owned when read back.
    pub state: Cow<'static, str>,
    /// Why the flow was closed: `fin`, `rst`, `idle`, `active`, `evicted`, `shutdown`.
    pub end_reason: Cow<'static, str>,
    /// The process owning the originator's end, or why none is known; None when no
    /// attribution runs (a pcap file) or the protocol has no sockets (ICMP, ARP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orig_owner: Option<FlowOwner>,
    /// The same for the responder's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp_owner: Option<FlowOwner>,
}
