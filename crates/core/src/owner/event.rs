//! The socket events the attribution sources send, and the owner a flow end carries.

use crate::Ts;
use crate::net::packet::Protocol;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// What happened to the socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConnKind {
    /// A TCP connect, seen in the connecting process once its source port was chosen.
    #[default]
    Connect,
    /// A TCP connection accepted, seen in the accepting process.
    Accept,
    /// A UDP datagram sent (reported once per destination every few seconds).
    UdpSend,
    /// A TCP socket started listening.
    Listen,
    /// A TCP socket closed (no process: the kernel may close it from an interrupt).
    Close,
    /// Already open when NetSnoop started (the start-up dump).
    Existing,
}

impl ConnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnKind::Connect => "connect",
            ConnKind::Accept => "accept",
            ConnKind::UdpSend => "udp_send",
            ConnKind::Listen => "listen",
            ConnKind::Close => "close",
            ConnKind::Existing => "existing",
        }
    }
}

/// The process behind a socket, taken when the kernel saw it used; the fields after
/// `cgroup_id` are filled in from exec events where the pid is known to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SocketOwner {
    /// Thread-group id: what user space calls the pid.
    pub pid: u32,
    /// The thread-group leader's comm.
    pub comm: String,
    pub uid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The cgroup v2 id (the cgroup directory's inode), 0 when unknown.
    #[serde(default)]
    pub cgroup_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// Container id or cgroup path, when the process runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<String>,
    /// The container id, when the cgroup path shows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

/// The container id in a cgroup as `ProcessEvent::cgroup` gives it: 12 hex digits.
pub fn container_of(cgroup: &str) -> Option<String> {
    (cgroup.len() == 12 && cgroup.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| cgroup.to_string())
}

/// One socket event, as an attribution source reported it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConnectionEvent {
    /// The host the record came from; absent on a single host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<crate::host::HostRef>,
    pub time: Ts,
    pub kind: ConnKind,
    pub protocol: Protocol,
    /// The network namespace's inode number (as in /proc/PID/ns/net), 0 when unknown.
    pub netns: u32,
    pub local_ip: Option<IpAddr>,
    pub local_port: u16,
    /// Unspecified for a listener and for an unconnected UDP socket's own address.
    pub remote_ip: Option<IpAddr>,
    pub remote_port: u16,
    /// None for a close, and for an existing socket whose process could not be found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<SocketOwner>,
    /// Which source saw it: `ebpf`, `proc_net`.
    pub source: String,
}

/// Why a flow end has no owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnknownReason {
    /// The address is not one of this host's.
    NotLocal,
    /// No socket event matched: the connection closed before it was seen, or was opened
    /// before NetSnoop started and was gone from the start-up dump.
    NotSeen,
    /// The socket was seen, but no process holding it could be found.
    NoProcess,
}

impl UnknownReason {
    pub fn as_str(self) -> &'static str {
        match self {
            UnknownReason::NotLocal => "not_local",
            UnknownReason::NotSeen => "not_seen",
            UnknownReason::NoProcess => "no_process",
        }
    }

    pub fn from_name(s: &str) -> Option<UnknownReason> {
        [
            UnknownReason::NotLocal,
            UnknownReason::NotSeen,
            UnknownReason::NoProcess,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// The owner of one end of a flow, or why there is none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FlowOwner {
    Known(SocketOwner),
    Unknown(UnknownReason),
}

impl FlowOwner {
    pub fn known(&self) -> Option<&SocketOwner> {
        match self {
            FlowOwner::Known(o) => Some(o),
            FlowOwner::Unknown(_) => None,
        }
    }
}
