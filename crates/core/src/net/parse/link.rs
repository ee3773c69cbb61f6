//! Link layer: find the ether type and the start of the network layer for each link type.

use super::LinkType;
use super::ether_type::{IPV4, IPV6, QINQ, QINQ_OLD, VLAN};

/// At most this many stacked VLAN tags are unwrapped (QinQ is 2; 3 leaves headroom).
const MAX_VLAN_TAGS: usize = 3;

fn be16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at + 2)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

/// Returns the ether type and the bytes after the link header, or `None` when the frame
/// is too short or carries no ether type (802.3/LLC frames, unknown link types).
pub(super) fn network_layer(link: LinkType, data: &[u8]) -> Option<(u16, &[u8])> {
    match link {
        LinkType::Ethernet => ethernet(data),
        LinkType::RawIp => raw_ip(data),
        LinkType::Ipv4 => Some((IPV4, data)),
        LinkType::Ipv6 => Some((IPV6, data)),
        LinkType::LinuxSll => {
            let proto = be16(data, 14)?;
            after_cooked(proto, data.get(16..)?)
        }
        LinkType::LinuxSll2 => {
            let proto = be16(data, 0)?;
            after_cooked(proto, data.get(20..)?)
        }
        LinkType::Null => null_loopback(data),
        LinkType::Unknown(_) => None,
    }
}

fn ethernet(data: &[u8]) -> Option<(u16, &[u8])> {
    let mut ether_type = be16(data, 12)?;
    let mut rest = data.get(14..)?;
    for _ in 0..MAX_VLAN_TAGS {
        if !matches!(ether_type, VLAN | QINQ | QINQ_OLD) {
            break;
        }
        ether_type = be16(rest, 2)?;
        rest = rest.get(4..)?;
    }
    // Values up to 1500 are an 802.3 length, not a type: LLC/SNAP and friends.
    if ether_type <= 1500 {
        return None;
    }
    Some((ether_type, rest))
}

/// SLL/SLL2 protocol field: an ether type, except the Linux pseudo-types below 0x0600
/// (802.3, LLC, CAN, …) which carry no IP.
fn after_cooked(proto: u16, rest: &[u8]) -> Option<(u16, &[u8])> {
    if proto < 0x0600 {
        return None;
    }
    if matches!(proto, VLAN | QINQ | QINQ_OLD) {
        // Cooked captures may keep the VLAN tag in the payload.
        let inner = be16(rest, 2)?;
        return Some((inner, rest.get(4..)?));
    }
    Some((proto, rest))
}

fn raw_ip(data: &[u8]) -> Option<(u16, &[u8])> {
    match data.first()? >> 4 {
        4 => Some((IPV4, data)),
        6 => Some((IPV6, data)),
        _ => None,
    }
}

/// The 4-byte address family may be in either byte order; AF_INET is 2 everywhere and
/// AF_INET6 is 10, 24, 28 or 30 depending on the OS.
fn null_loopback(data: &[u8]) -> Option<(u16, &[u8])> {
    let fam = data.get(..4)?;
    let le = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
    let be = u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]]);
    let family = if le < 256 { le } else { be };
    let rest = &data[4..];
    match family {
        2 => Some((IPV4, rest)),
        10 | 24 | 28 | 30 => Some((IPV6, rest)),
        _ => None,
    }
}
