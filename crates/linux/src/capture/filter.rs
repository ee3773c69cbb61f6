//! The capture filter actually installed: the user's BPF expression, minus NetSnoop's own
//! API/dashboard traffic so the figures show the host, not the monitor watching it.

use std::net::SocketAddr;

/// Combines the user's filter with the exclusion of `own` (the listen address).
/// A wildcard listen address excludes the port on every address.
pub fn effective_filter(user: Option<&str>, own: Option<SocketAddr>) -> Option<String> {
    let user = user.map(str::trim).filter(|s| !s.is_empty());
    let exclusion = own.map(|addr| {
        let port = addr.port();
        if addr.ip().is_unspecified() {
            format!("not (tcp port {port})")
        } else {
            format!("not (tcp port {port} and host {})", addr.ip())
        }
    });
    match (user, exclusion) {
        (None, None) => None,
        (Some(u), None) => Some(u.to_string()),
        (None, Some(x)) => Some(x),
        (Some(u), Some(x)) => Some(format!("({u}) and {x}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listen_port_on_loopback_is_excluded_by_default_shape() {
        let own: SocketAddr = "127.0.0.1:8000".parse().unwrap();
        assert_eq!(
            effective_filter(None, Some(own)).as_deref(),
            Some("not (tcp port 8000 and host 127.0.0.1)")
        );
        assert_eq!(
            effective_filter(Some("udp"), Some(own)).as_deref(),
            Some("(udp) and not (tcp port 8000 and host 127.0.0.1)")
        );
    }

    #[test]
    fn a_wildcard_listener_excludes_its_port_everywhere_and_no_listener_nothing() {
        let own: SocketAddr = "[::]:9000".parse().unwrap();
        assert_eq!(
            effective_filter(None, Some(own)).as_deref(),
            Some("not (tcp port 9000)")
        );
        assert_eq!(effective_filter(Some("  "), None), None);
        assert_eq!(
            effective_filter(Some("icmp"), None).as_deref(),
            Some("icmp")
        );
    }
}
