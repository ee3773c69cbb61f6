//! Packet parsing: raw captured bytes (any supported link type) to [`PacketMeta`], never
//! panicking and never failing — what cannot be read is counted as OTHER.
//!
//! The link layer (Ethernet with VLAN tags, Linux cooked capture SLL and SLL2, raw IP,
//! BSD loopback) is read here by hand because it is a few fixed offsets; IPv4 and IPv6
//! (with extension headers) and ARP go through etherparse's lax slicers, which accept the
//! header-only snaplen NetSnoop captures with. TCP, UDP and ICMP fields are read at fixed
//! offsets so a transport header cut short by the snaplen still yields ports and flags.

mod ip;
mod link;

use super::packet::{PacketMeta, Protocol};
use crate::Ts;

/// The link-layer header type of a capture (pcap's `LINKTYPE_*` / `DLT_*` numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// LINKTYPE_ETHERNET (1).
    Ethernet,
    /// Raw IP, version taken from the first nibble (LINKTYPE_RAW 101, DLT_RAW 12/14).
    RawIp,
    /// LINKTYPE_IPV4 (228).
    Ipv4,
    /// LINKTYPE_IPV6 (229).
    Ipv6,
    /// Linux cooked capture v1 (113), what `any` gives by default.
    LinuxSll,
    /// Linux cooked capture v2 (276).
    LinuxSll2,
    /// BSD loopback: a 4-byte address family in host order (0) or network order (108).
    Null,
    /// Anything else: every packet counts as OTHER.
    Unknown(u32),
}

impl LinkType {
    pub fn from_dlt(dlt: u32) -> LinkType {
        match dlt {
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::RawIp,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            0 | 108 => LinkType::Null,
            other => LinkType::Unknown(other),
        }
    }

    pub fn dlt(self) -> u32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::RawIp => 101,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Null => 0,
            LinkType::Unknown(n) => n,
        }
    }
}

/// Ether types the parser understands.
pub(crate) mod ether_type {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const IPV6: u16 = 0x86DD;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ: u16 = 0x88A8;
    pub const QINQ_OLD: u16 = 0x9100;
}

/// Parses one captured frame. `data` is what was captured (possibly cut by the snaplen),
/// `wire_len` the length the packet had on the wire.
pub fn parse(link: LinkType, data: &[u8], wire_len: u32, time: Ts, iface: u16) -> PacketMeta {
    let mut meta = PacketMeta {
        time,
        iface,
        protocol: Protocol::Other,
        wire_len,
        ..PacketMeta::default()
    };
    parse_into(link, data, &mut meta);
    meta
}

/// Like [`parse`], refilling a caller-owned `PacketMeta` (so hot loops reuse one).
/// Fields other than `time`, `iface` and `wire_len` are reset first.
pub fn parse_into(link: LinkType, data: &[u8], meta: &mut PacketMeta) {
    meta.src_ip = None;
    meta.dst_ip = None;
    meta.src_port = 0;
    meta.dst_port = 0;
    meta.protocol = Protocol::Other;
    meta.tcp_flags = 0;
    meta.icmp = None;
    meta.arp = None;
    meta.ip_len = 0;
    if let Some((ether_type, l3)) = link::network_layer(link, data) {
        ip::parse_l3(ether_type, l3, meta);
    }
}

#[cfg(test)]
mod tests;
