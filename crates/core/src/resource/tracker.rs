//! Shared parts of the resource detectors' level sets: what a level is called, the process
//! facts an alert names, and the small helpers both level sets use.

use super::level::LevelRule;
use crate::alert::Subject;
use crate::{Alert, ProcSample, Severity};
use serde_json::json;

/// One alert level: its rule and what its alerts are called.
#[derive(Clone, Debug, PartialEq)]
pub struct LevelSpec {
    pub kind: &'static str,
    pub severity: Severity,
    /// The original word, where it says more than the severity (SUSPICIOUS, EXTREME).
    pub label: Option<&'static str>,
    pub rule: LevelRule,
}

impl LevelSpec {
    /// The word a message starts with: the label, else the severity's label.
    pub fn word(&self) -> &'static str {
        self.label.unwrap_or(self.severity.label())
    }
}

/// The process facts an alert names; kept while the process has a level open, so the
/// resolution can still name it after the process exits.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcView {
    pub pid: u32,
    pub start_ticks: u64,
    pub comm: String,
    pub user: Option<String>,
    pub cmdline: String,
}

impl ProcView {
    pub(super) fn of(p: &ProcSample) -> ProcView {
        ProcView {
            pid: p.pid,
            start_ticks: p.start_ticks,
            comm: p.comm.clone(),
            user: p.user.clone(),
            cmdline: p.cmdline.clone(),
        }
    }

    pub fn subject(&self) -> Subject {
        Subject {
            user: self.user.clone(),
            command: Some(self.command().to_string()),
            ..Subject::process(self.pid, self.comm.clone())
        }
    }

    /// The command line, or the bracketed name for kernel threads (as ps shows them).
    pub fn command(&self) -> String {
        if self.cmdline.is_empty() {
            format!("[{}]", self.comm)
        } else {
            self.cmdline.clone()
        }
    }

    /// `→ <command> (user <name>)`, the tail every process alert ends with.
    pub fn tail(&self) -> String {
        format!(
            "→ {} (user {})",
            self.command(),
            self.user.as_deref().unwrap_or("?")
        )
    }
}

/// The key of the host's one episode per level.
pub(super) const HOST: &str = "host";

/// `cpu.system.critical` → `critical`.
pub(super) fn level_of(kind: &str) -> &str {
    kind.rsplit_once('.').map_or(kind, |(_, l)| l)
}

/// `cpu.process.critical` → `CPU`, `memory.process.high` → `MEMORY`.
pub(super) fn title_of(kind: &str) -> String {
    kind.split('.').next().unwrap_or(kind).to_ascii_uppercase()
}

pub(super) fn resolved_details(alert: &mut Alert, metric: &str, peak: f64) {
    if let serde_json::Value::Object(map) = &mut alert.details {
        map.insert(format!("peak_{metric}"), json!(round1(peak)));
    }
}

pub(super) fn merge(into: &mut serde_json::Value, from: &serde_json::Value) {
    if let (serde_json::Value::Object(a), serde_json::Value::Object(b)) = (into, from) {
        for (k, v) in b {
            a.insert(k.clone(), v.clone());
        }
    }
}

/// One decimal, so JSON details read like the messages.
pub fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}
