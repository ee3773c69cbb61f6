//! A process lifecycle event (fork, exec, exit), enriched with what could be read about it.

use crate::Ts;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProcEventKind {
    Fork,
    #[default]
    Exec,
    Exit,
    Comm,
    Uid,
    /// Already running when a /proc scan saw it (the start-up seed, or a resync after
    /// lost events): fills the process table, never counts as a new process.
    Existing,
}

impl ProcEventKind {
    pub const ALL: [ProcEventKind; 6] = [
        ProcEventKind::Fork,
        ProcEventKind::Exec,
        ProcEventKind::Exit,
        ProcEventKind::Comm,
        ProcEventKind::Uid,
        ProcEventKind::Existing,
    ];

    /// The lower-case name used in JSON and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcEventKind::Fork => "fork",
            ProcEventKind::Exec => "exec",
            ProcEventKind::Exit => "exit",
            ProcEventKind::Comm => "comm",
            ProcEventKind::Uid => "uid",
            ProcEventKind::Existing => "existing",
        }
    }

    pub fn from_name(name: &str) -> Option<ProcEventKind> {
        ProcEventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One link of an ancestry chain, nearest parent first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ancestor {
    pub pid: u32,
    pub comm: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcessEvent {
    /// The host the record came from; absent on a single host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::host::Host>))]
    pub host: Option<crate::host::HostRef>,
    /// Microseconds since the epoch; the API sends it as RFC 3339 text.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub time: Ts,
    pub kind: ProcEventKind,
    pub pid: u32,
    pub ppid: u32,
    /// Start time in clock ticks since boot (field 22 of /proc/PID/stat); with `pid` it
    /// identifies a process even when the pid is reused. 0 when unknown.
    #[serde(default)]
    pub start_ticks: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub comm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    #[serde(default)]
    pub argv: Vec<String>,
    /// False when the process was gone (or the read failed) before argv could be read.
    #[serde(default)]
    pub argv_complete: bool,
    /// How many secrets were redacted from `argv` (see `crate::redact`); 0 is not shown.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub redacted: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Container id or cgroup path, when the process runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<String>,
    /// Exit code, for exit events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Parent first, up to pid 1.
    #[serde(default)]
    pub ancestry: Vec<Ancestor>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
