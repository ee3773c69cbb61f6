//! The sections of the config file this binary owns, with their defaults and range checks.
//! Detector sections are defined next to their detectors in netsnoop-core.

use super::validate::Problems;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct General {
    /// Zone for every time shown (`"local"` or an IANA name); storage is always UTC.
    pub timezone: String,
}

impl Default for General {
    fn default() -> Self {
        General {
            timezone: "local".into(),
        }
    }
}

impl General {
    pub(super) fn check(&self, p: &mut Problems) {
        if let Err(e) = crate::time::zone(&self.timezone) {
            p.add("general.timezone", format!("{e:#}"));
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Paths {
    /// Where logs and the embedded database live; `None` means the per-user or system
    /// default (see `config::locate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

impl Paths {
    pub(super) fn check(&self, p: &mut Problems) {
        if let Some(dir) = &self.data_dir
            && !dir.is_absolute()
        {
            p.add(
                "paths.data_dir",
                format!(
                    "must be an absolute path, got {:?}",
                    dir.display().to_string()
                ),
            );
        }
    }
}

/// Event types `logs.events` may name (the `type` field of events.jsonl).
pub const EVENT_TYPES: [&str; 6] = ["process", "resources", "packet", "flow", "traffic", "loss"];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Logs {
    /// A log file is rotated when it would grow past this size, so logs never fill a disk.
    pub max_size_mb: u64,
    /// Rotated files kept per log; older ones are deleted.
    pub keep: u32,
    /// Event types written to events.jsonl. Packets and resource samples come many per
    /// second, so by default they go only to the store.
    pub events: Vec<String>,
}

impl Default for Logs {
    fn default() -> Self {
        Logs {
            max_size_mb: 10,
            keep: 5,
            events: vec!["process".into(), "flow".into(), "loss".into()],
        }
    }
}

impl Logs {
    pub(super) fn check(&self, p: &mut Problems) {
        p.range("logs.max_size_mb", self.max_size_mb, 1, 100_000);
        p.range("logs.keep", self.keep, 0, 100);
        for e in &self.events {
            if !EVENT_TYPES.contains(&e.as_str()) {
                p.add(
                    "logs.events",
                    format!("unknown event type {e:?}: expected some of {EVENT_TYPES:?}"),
                );
            }
        }
    }

    pub fn max_size_bytes(&self) -> u64 {
        self.max_size_mb.saturating_mul(1024 * 1024)
    }
}

/// A duration written the human way (`7d`, `12h`) in the file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DurationSetting {
    text: String,
    value: Duration,
}

impl DurationSetting {
    pub fn get(&self) -> Duration {
        self.value
    }
}

impl TryFrom<String> for DurationSetting {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let value = crate::time::parse_duration(&text).map_err(|e| format!("{e:#}"))?;
        Ok(DurationSetting { text, value })
    }
}

impl From<DurationSetting> for String {
    fn from(d: DurationSetting) -> String {
        d.text
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Store {
    /// `sqlite` (netsnoop.db in the data dir), `sqlite:PATH`, or `postgres://…`.
    pub database: String,
    /// Data older than this is deleted.
    pub max_age: DurationSetting,
    /// The oldest data is deleted while the database is larger than this.
    pub max_size_mb: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            database: "sqlite".into(),
            max_age: DurationSetting::try_from("7d".to_string()).expect("valid default"),
            max_size_mb: 1024,
        }
    }
}

impl Store {
    pub(super) fn check(&self, p: &mut Problems) {
        let db = self.database.as_str();
        let known = db == "sqlite"
            || db.starts_with("sqlite:")
            || db.starts_with("postgres://")
            || db.starts_with("postgresql://");
        if !known {
            p.add(
                "store.database",
                format!("unknown database {db:?}: use \"sqlite\", \"sqlite:/path/file.db\" or \"postgres://user@host/db\""),
            );
        }
        if self.max_age.get() < Duration::from_secs(60) {
            p.add("store.max_age", "must be at least 1m");
        }
        p.range("store.max_size_mb", self.max_size_mb, 10, 10_000_000);
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Server {
    /// Address of the API and dashboard. Loopback by default: exposing it is a choice.
    pub listen: SocketAddr,
    /// Bearer token agents and API clients must send; none means no check (loopback use).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            token: None,
        }
    }
}

impl Server {
    pub(super) fn check(&self, p: &mut Problems) {
        if let Some(t) = &self.token
            && (t.len() < 16 || t.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            p.add(
                "server.token",
                "must be at least 16 characters with no spaces (try: openssl rand -hex 24)",
            );
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Capture {
    /// Whether `run` and `watch` capture packets (`--no-capture` turns it off).
    pub enabled: bool,
    /// Interfaces to capture on; empty means every interface that is up.
    pub interfaces: Vec<String>,
    /// BPF filter expression (tcpdump syntax); empty captures everything.
    pub filter: String,
    /// Bytes kept of each packet: headers are all NetSnoop reads.
    pub snaplen: u32,
}

impl Default for Capture {
    fn default() -> Self {
        Capture {
            enabled: true,
            interfaces: Vec::new(),
            filter: String::new(),
            snaplen: 256,
        }
    }
}

impl Capture {
    pub(super) fn check(&self, p: &mut Problems) {
        p.range("capture.snaplen", self.snaplen, 64, 65_535);
        for name in &self.interfaces {
            // Linux interface names are at most 15 bytes (IFNAMSIZ - 1), no '/' or spaces.
            let bad = name.is_empty()
                || name.len() > 15
                || name
                    .chars()
                    .any(|c| c == '/' || c.is_whitespace() || c.is_control());
            if bad {
                p.add(
                    "capture.interfaces",
                    format!("{name:?} is not an interface name (see `ip -br link`)"),
                );
            }
        }
    }
}
