//! Addresses as fixed-size integers, so hash keys are cheap to build, hash and compare.

use std::net::{IpAddr, Ipv6Addr};

/// An IP address as a u128: IPv6 as is, IPv4 mapped into `::ffff:a.b.c.d`.
pub type AddrKey = u128;

pub fn key(ip: IpAddr) -> AddrKey {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The inverse of [`key`]. A literal v4-mapped IPv6 address comes back as IPv4, which is
/// the same host for every purpose here.
pub fn ip(key: AddrKey) -> IpAddr {
    let v6 = Ipv6Addr::from(key);
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

/// Multicast, broadcast and unspecified destinations: nobody answers a first contact
/// there, so they say nothing about scanning.
pub fn is_group_or_unspecified(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified() || v4.octets()[3] == 255
        }
        IpAddr::V6(v6) => v6.is_multicast() || v6.is_unspecified(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_survive_the_round_trip() {
        for s in ["10.1.2.3", "::1", "fe80::1", "0.0.0.0"] {
            let a: IpAddr = s.parse().unwrap();
            assert_eq!(ip(key(a)), a);
        }
    }
}
