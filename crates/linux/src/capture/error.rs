//! Why live capture could not start, each with the fix in its message.

/// A capture error. [`CaptureError::NoPermission`] is the one the binary turns into a
/// degraded mode (host monitors keep running, network monitoring is off).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(
        "packet capture on {interface} is not permitted ({detail}). Run netsnoop as root, or \
         give the binary the capabilities once: sudo setcap cap_net_raw,cap_net_admin+eip {exe}"
    )]
    NoPermission {
        interface: String,
        detail: String,
        exe: String,
    },
    #[error(
        "no capture interface {interface:?} ({detail}). List interfaces with `ip link`, \
         or use `any` for all of them"
    )]
    NoSuchInterface { interface: String, detail: String },
    #[error(
        "invalid capture filter {expr:?}: {detail}. Filters use tcpdump syntax, e.g. \
         `not port 22` or `tcp or udp`"
    )]
    BadFilter { expr: String, detail: String },
    #[error("packet capture on {interface} failed: {detail}")]
    Pcap { interface: String, detail: String },
}

impl CaptureError {
    /// Sorts a libpcap open/activate error into the cases a user can act on.
    pub(super) fn from_open(interface: &str, err: &pcap::Error) -> CaptureError {
        let detail = err.to_string();
        let lower = detail.to_ascii_lowercase();
        let interface = interface.to_string();
        if lower.contains("permission") || lower.contains("not permitted") {
            let exe = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "netsnoop".to_string());
            CaptureError::NoPermission {
                interface,
                detail,
                exe,
            }
        } else if lower.contains("no such device") || lower.contains("doesn't exist") {
            CaptureError::NoSuchInterface { interface, detail }
        } else {
            CaptureError::Pcap { interface, detail }
        }
    }

    pub fn is_permission(&self) -> bool {
        matches!(self, CaptureError::NoPermission { .. })
    }
}
