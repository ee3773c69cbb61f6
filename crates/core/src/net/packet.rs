//! Packet metadata: the few header facts NetSnoop keeps of each packet.

use crate::Ts;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// NetWatch's labels (TCP, UDP, OTHER) plus the ones it could not see.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    #[serde(rename = "ICMPv6")]
    Icmpv6,
    Arp,
    #[default]
    Other,
}

impl Protocol {
    pub const ALL: [Protocol; 6] = [
        Protocol::Tcp,
        Protocol::Udp,
        Protocol::Icmp,
        Protocol::Icmpv6,
        Protocol::Arp,
        Protocol::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Icmp => "ICMP",
            Protocol::Icmpv6 => "ICMPv6",
            Protocol::Arp => "ARP",
            Protocol::Other => "OTHER",
        }
    }

    /// Parses a label case-insensitively; anything unknown is OTHER, as in NetWatch.
    pub fn from_label(s: &str) -> Protocol {
        Protocol::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .unwrap_or(Protocol::Other)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// TCP flag bits as on the wire (FIN=0x01 … CWR=0x80; ECE=0x40 is not read).
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const CWR: u8 = 0x80;
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PacketMeta {
    /// The host the record came from; absent on a single host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<crate::host::HostRef>,
    pub time: Ts,
    /// Index into the capture's interface list (0 for a single interface or a file).
    #[serde(default)]
    pub iface: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_ip: Option<IpAddr>,
    /// 0 when the protocol has no ports.
    #[serde(default)]
    pub src_port: u16,
    #[serde(default)]
    pub dst_port: u16,
    pub protocol: Protocol,
    /// TCP flag bits (see [`tcp_flags`]); 0 for other protocols.
    #[serde(default)]
    pub tcp_flags: u8,
    /// ICMP/ICMPv6 type and code; for errors (e.g. port unreachable) the quoted header's
    /// ports travel in `src_port`/`dst_port` of [`PacketMeta::quoted`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp: Option<IcmpInfo>,
    /// Length on the wire (NetWatch's `packet_size`).
    pub wire_len: u32,
    /// Length of the IP packet (header included), 0 when there is no IP layer.
    #[serde(default)]
    pub ip_len: u32,
    /// The sender gave no ports (a NetWatch agent's POST of a TCP or UDP packet): the
    /// ports are unknown, not 0. Captured packets always carry theirs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_ports: bool,
    /// For ARP: the operation and the hardware addresses (the IP addresses are in
    /// `src_ip`/`dst_ip`). Read by ARP-spoofing detection; JSON-lines packet events carry
    /// it, the database does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arp: Option<ArpInfo>,
}

/// What an ARP packet says beyond its IP addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArpInfo {
    /// 1 request, 2 reply.
    pub op: u16,
    /// Written `aa:bb:cc:dd:ee:ff` in JSON.
    #[serde(with = "mac_serde")]
    pub sender_mac: [u8; 6],
    #[serde(with = "mac_serde")]
    pub target_mac: [u8; 6],
}

/// MACs as `aa:bb:cc:dd:ee:ff` text in JSON.
mod mac_serde {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(mac: &[u8; 6], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::mac_text(*mac))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 6], D::Error> {
        let text = String::deserialize(d)?;
        crate::net::arpspoof::parse_mac(&text)
            .ok_or_else(|| D::Error::custom(format!("not a MAC address: {text:?}")))
    }
}

impl ArpInfo {
    pub const REQUEST: u16 = 1;
    pub const REPLY: u16 = 2;
}

/// A MAC address as text, `02:00:5e:10:00:01`.
pub fn mac_text(mac: [u8; 6]) -> String {
    let b = mac;
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5]
    )
}

impl PacketMeta {
    /// The ports as the packet carried them: `None` for protocols without ports (ICMP,
    /// ARP, OTHER) and for packets whose sender gave none. The numeric fields keep 0 in
    /// those cases so the hot paths (flow keys, rollups) stay plain integers; every view
    /// and export goes through this instead.
    pub fn ports(&self) -> Option<(u16, u16)> {
        let has = matches!(self.protocol, Protocol::Tcp | Protocol::Udp) && !self.no_ports;
        has.then_some((self.src_port, self.dst_port))
    }
}

/// ICMP type and code, and for error messages the header of the packet they quote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcmpInfo {
    pub icmp_type: u8,
    pub code: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted: Option<QuotedHeader>,
}

/// The original packet an ICMP error refers to: who sent it, to where, and which ports.
/// For a protocol without ports (`OTHER`), `dst_port` holds its IP protocol number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedHeader {
    pub src_ip: IpAddr,
    pub dst_ip: IpAddr,
    pub protocol: Protocol,
    pub src_port: u16,
    pub dst_port: u16,
}
