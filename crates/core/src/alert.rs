//! Alerts: what a detector says when something looks wrong, with its active/resolved lifecycle.

use crate::{Severity, Ts};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Whether the condition behind an alert still holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    #[default]
    Active,
    Resolved,
}

/// Who or what an alert is about. Every field is optional so one shape fits process,
/// user and network alerts, and the JSON stays flat (`pid`, `src_ip`, … at top level).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Process name (comm) when the subject is a process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The command line, joined for display (CSV `command` column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_ip: Option<IpAddr>,
}

impl Subject {
    pub fn process(pid: u32, name: impl Into<String>) -> Subject {
        Subject {
            pid: Some(pid),
            process_name: Some(name.into()),
            ..Subject::default()
        }
    }

    pub fn source_ip(ip: IpAddr) -> Subject {
        Subject {
            src_ip: Some(ip),
            ..Subject::default()
        }
    }

    /// The host itself (system CPU, memory, load).
    pub fn host() -> Subject {
        Subject::default()
    }
}

/// One alert episode. Detectors emit it when it opens, again (same `id`) when it is
/// updated, and a last time with `state: resolved` when the condition clears.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The host the record came from; absent on a single host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<crate::host::HostRef>,
    /// Stable for the whole episode and deterministic (kind, subject key and start time),
    /// so a pcap replay produces the same ids as the live run.
    pub id: String,
    /// Dotted kind, e.g. `process.burst`, `cpu.process.critical`, `net.portscan`.
    pub kind: String,
    pub severity: Severity,
    /// The original tools' own word where it says more than the severity
    /// (`SUSPICIOUS`, `EXTREME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub state: AlertState,
    pub first_seen: Ts,
    pub last_seen: Ts,
    #[serde(flatten)]
    pub subject: Subject,
    /// One human line, in the originals' style.
    pub message: String,
    /// Structured facts for machines (counts, ports, chains, thresholds).
    #[serde(default)]
    pub details: serde_json::Value,
}

impl Alert {
    pub fn is_active(&self) -> bool {
        self.state == AlertState::Active
    }

    /// The label to print: the original word if there is one, else the severity's.
    pub fn display_label(&self) -> &str {
        self.label.as_deref().unwrap_or(self.severity.label())
    }
}
