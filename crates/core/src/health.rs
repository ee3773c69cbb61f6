//! Degraded modes: the explicit reasons NetSnoop runs with less than it could, so the
//! start banner, `/health` and the dashboard all say the same thing.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One reason a capability is missing or reduced. Each names its fix in [`Degraded::fix`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Degraded {
    /// Live capture needs CAP_NET_RAW (and CAP_NET_ADMIN for some interfaces).
    NoCapturePermission,
    /// The netlink proc connector is unavailable; exec events come from /proc polling,
    /// which can miss processes that live shorter than one scan.
    NoProcConnector,
    /// /proc/pressure is absent (kernel without PSI), so pressure is not reported.
    NoPsi,
    /// The store could not be opened; alerts still reach the terminal and log files.
    NoStore,
    /// The eBPF exec source is unavailable (no CAP_BPF, no BTF, old kernel, verifier,
    /// built without clang); argv is read from /proc after the fact and can be missing
    /// for very short processes. The banner names the exact reason.
    NoEbpf,
    /// The eBPF socket attribution program cannot run; connections are tied to processes
    /// by scanning /proc, which misses connections shorter than one scan.
    NoSocketEbpf,
    /// The store is open but writes to it fail (disk full, read-only, I/O errors):
    /// records are lost (counted) and POST /packets answers 503 until a write succeeds.
    StoreFailing,
    /// Not root and no CAP_SYS_PTRACE: the executable, working directory and I/O of other
    /// users' processes cannot be read from /proc.
    NoPtrace,
}

impl Degraded {
    pub const ALL: [Degraded; 8] = [
        Degraded::NoCapturePermission,
        Degraded::NoProcConnector,
        Degraded::NoPsi,
        Degraded::NoStore,
        Degraded::NoEbpf,
        Degraded::NoSocketEbpf,
        Degraded::StoreFailing,
        Degraded::NoPtrace,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Degraded::NoCapturePermission => "no_capture_permission",
            Degraded::NoProcConnector => "no_proc_connector",
            Degraded::NoPsi => "no_psi",
            Degraded::NoStore => "no_store",
            Degraded::NoEbpf => "no_ebpf",
            Degraded::NoSocketEbpf => "no_socket_ebpf",
            Degraded::StoreFailing => "store_failing",
            Degraded::NoPtrace => "no_ptrace",
        }
    }

    /// What is lost, in one line.
    pub fn effect(self) -> &'static str {
        match self {
            Degraded::NoCapturePermission => "no live packet capture",
            Degraded::NoProcConnector => {
                "exec events come from /proc polling and may miss short-lived processes"
            }
            Degraded::NoPsi => "no CPU, memory and I/O pressure figures",
            Degraded::NoStore => "nothing is stored; alerts go to the terminal and log files only",
            Degraded::NoEbpf => {
                "argv is read from /proc after exec and can be missing for very short processes"
            }
            Degraded::NoSocketEbpf => {
                "connections are tied to processes by /proc scans: connections shorter than one scan show as unknown"
            }
            Degraded::StoreFailing => {
                "writes to the store fail: new records are lost (counted) and POST /packets answers 503 until a write succeeds"
            }
            Degraded::NoPtrace => {
                "the executable and working directory of other users' processes are not read"
            }
        }
    }

    /// What the user can do about it.
    pub fn fix(self) -> &'static str {
        match self {
            Degraded::NoCapturePermission => {
                "run as root, or: setcap cap_net_raw,cap_net_admin+eip $(command -v netsnoop)"
            }
            Degraded::NoProcConnector => "run as root (the proc connector needs CAP_NET_ADMIN)",
            Degraded::NoPsi => {
                "boot a kernel with CONFIG_PSI=y (or add psi=1 to the kernel command line)"
            }
            Degraded::NoStore => {
                "check store.database in the config and that the data dir is writable"
            }
            Degraded::NoEbpf => {
                "run as root on a kernel >= 5.8 with BTF (/sys/kernel/btf/vmlinux), built with clang"
            }
            Degraded::NoSocketEbpf => {
                "run as root on a kernel >= 5.8 (6.3 for accepted sockets and UDP) with BTF, built with clang; the banner names the exact reason"
            }
            Degraded::StoreFailing => {
                "free space on the data disk (or lower store.max_size_mb and the retention limits) and check that the database file is writable; writing resumes by itself"
            }
            Degraded::NoPtrace => {
                "run as root, or grant CAP_SYS_PTRACE (AmbientCapabilities= in the systemd unit)"
            }
        }
    }
}

impl fmt::Display for Degraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degraded_reasons_serialize_as_their_snake_case_names() {
        for d in Degraded::ALL {
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(json, format!("\"{}\"", d.as_str()));
            assert!(!d.fix().is_empty());
        }
    }
}
