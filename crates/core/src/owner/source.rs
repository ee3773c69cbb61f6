//! The socket attribution sources, best first, and the user's choice among them
//! (`[attribution] source`). Starting them is netsnoop-linux's job.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A socket attribution source, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerSourceKind {
    /// In-kernel: connect, accept, UDP send and state changes, each with its process at
    /// that moment. Sees even the shortest connection.
    Ebpf,
    /// /proc/net tables mapped to pids through a /proc fd scan, repeated every interval:
    /// misses connections shorter than one scan.
    ProcNet,
}

impl OwnerSourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ebpf => "ebpf",
            Self::ProcNet => "proc_net",
        }
    }
}

impl fmt::Display for OwnerSourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerSourceChoice {
    /// The best source that starts.
    #[default]
    Auto,
    /// This source or none: a forced source that fails to start is an error.
    Ebpf,
    ProcNet,
    /// No attribution: flows carry no owners.
    Off,
}

impl FromStr for OwnerSourceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "ebpf" => Ok(Self::Ebpf),
            "proc_net" => Ok(Self::ProcNet),
            "off" => Ok(Self::Off),
            other => Err(format!(
                "unknown attribution source {other:?}: use one of auto, ebpf, proc_net, off"
            )),
        }
    }
}
