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
    /// How far ahead of this host's clock a packet's time may be. Later times are refused
    /// (POST /packets answers 422; the pipeline drops and counts them), so one packet
    /// from a broken clock cannot move the statistics' or detectors' clock.
    pub max_clock_skew: DurationSetting,
}

impl Default for General {
    fn default() -> Self {
        General {
            timezone: "local".into(),
            max_clock_skew: DurationSetting::try_from("5m".to_string()).expect("valid default"),
        }
    }
}

impl General {
    pub(super) fn check(&self, p: &mut Problems) {
        if let Err(e) = crate::time::zone(&self.timezone) {
            p.add("general.timezone", format!("{e:#}"));
        }
        let skew = self.max_clock_skew.get();
        if skew < Duration::from_secs(1) || skew > Duration::from_secs(86_400) {
            p.add("general.max_clock_skew", "must be between 1s and 1d");
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
    /// A group that may read the data dir and its files (2750/0640); none means only the
    /// owner (0700/0600). They hold every user's argv.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
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
pub const EVENT_TYPES: [&str; 7] = [
    "process",
    "resources",
    "packet",
    "flow",
    "traffic",
    "loss",
    "connection",
];

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
    /// strftime pattern for the timestamp column of anomalies.csv; absent means RFC 3339.
    /// `"%Y-%m-%d %H:%M:%S %Z"` writes the original NetSnoop's form, which its dashboard
    /// reads (with `general.timezone = "Asia/Kolkata"`: `2026-12-03 14:24:29 IST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv_time_format: Option<String>,
}

impl Default for Logs {
    fn default() -> Self {
        Logs {
            max_size_mb: 10,
            keep: 5,
            events: vec![
                "process".into(),
                "flow".into(),
                "loss".into(),
                "connection".into(),
            ],
            csv_time_format: None,
        }
    }
}

impl Logs {
    pub(super) fn check(&self, p: &mut Problems) {
        p.range("logs.max_size_mb", self.max_size_mb, 1, 100_000);
        p.range("logs.keep", self.keep, 0, 100);
        if let Some(pattern) = &self.csv_time_format {
            let sample = jiff::Timestamp::UNIX_EPOCH.to_zoned(jiff::tz::TimeZone::UTC);
            match jiff::fmt::strtime::format(pattern, &sample) {
                _ if pattern.trim().is_empty() => p.add(
                    "logs.csv_time_format",
                    "is empty: remove the key for RFC 3339, or give a strftime pattern such as \"%Y-%m-%d %H:%M:%S %Z\"".to_string(),
                ),
                Err(e) => p.add(
                    "logs.csv_time_format",
                    format!("{pattern:?} is not a strftime pattern jiff can render ({e}); e.g. \"%Y-%m-%d %H:%M:%S %Z\""),
                ),
                Ok(_) => {}
            }
        }
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

/// How long a kind of data is kept: a duration, or `"forever"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Age {
    text: String,
    value: Option<Duration>,
}

impl Age {
    /// `None` means no age limit.
    pub fn get(&self) -> Option<Duration> {
        self.value
    }

    fn days(d: u64) -> Age {
        Age::try_from(format!("{d}d")).expect("valid default")
    }
}

impl TryFrom<String> for Age {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        if text.trim() == "forever" {
            return Ok(Age { text, value: None });
        }
        let value =
            crate::time::parse_duration(&text).map_err(|e| format!("{e:#}, or \"forever\""))?;
        if value < Duration::from_secs(60) {
            return Err(format!("{text:?} is under a minute: keep data at least 1m"));
        }
        Ok(Age {
            text,
            value: Some(value),
        })
    }
}

impl From<Age> for String {
    fn from(a: Age) -> String {
        a.text
    }
}

/// `[store.keep]`: how long each kind of data is kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Keep {
    pub packets: Age,
    /// Per-second (and 10-second) traffic rollups.
    pub traffic: Age,
    /// Per-minute (and 10-minute) and per-hour traffic rollups: statistics over older
    /// ranges, at that resolution. The store never keeps them shorter than finer ones.
    pub traffic_minutes: Age,
    pub traffic_hours: Age,
    pub flows: Age,
    pub process_events: Age,
    pub system_samples: Age,
    pub process_samples: Age,
    pub alerts: Age,
    pub losses: Age,
}

impl Default for Keep {
    fn default() -> Self {
        // The store's own defaults: packets are the bulk, alerts what users come back for.
        Keep {
            packets: Age::days(1),
            traffic: Age::days(30),
            traffic_minutes: Age::days(90),
            traffic_hours: Age::days(400),
            flows: Age::days(7),
            process_events: Age::days(7),
            system_samples: Age::days(7),
            process_samples: Age::days(2),
            alerts: Age::days(90),
            losses: Age::days(90),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Store {
    /// `sqlite` (netsnoop.db in the data dir), `sqlite:PATH`, or `postgres://…`.
    pub database: String,
    /// The oldest data is deleted while the database is larger than this (0 = no limit).
    pub max_size_mb: u64,
    /// Most packet rows kept, oldest deleted first (0 = no limit).
    pub max_packet_rows: u64,
    /// How often retention runs.
    pub retention_every: DurationSetting,
    pub keep: Keep,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            database: "sqlite".into(),
            max_size_mb: 2048,
            max_packet_rows: 1_000_000,
            retention_every: DurationSetting::try_from("5m".to_string()).expect("valid default"),
            keep: Keep::default(),
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
        if self.max_size_mb != 0 && self.max_size_mb < 10 {
            p.add(
                "store.max_size_mb",
                format!(
                    "must be 0 (no limit) or at least 10, got {}",
                    self.max_size_mb
                ),
            );
        }
        let every = self.retention_every.get();
        if every < Duration::from_secs(10) || every > Duration::from_secs(86_400) {
            p.add("store.retention_every", "must be between 10s and 1d");
        }
    }

    /// The database spec for `netsnoop_store::open`: `sqlite` means netsnoop.db in the
    /// data dir.
    pub fn database_spec(&self, data_dir: &std::path::Path) -> String {
        if self.database == "sqlite" {
            format!("sqlite:{}", data_dir.join("netsnoop.db").display())
        } else {
            self.database.clone()
        }
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
    /// HTTPS: the certificate chain (PEM), with `tls_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM), with `tls_cert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Host names the API answers to besides IP addresses and `localhost`: a request for
    /// any other `Host:` is refused, so a DNS-rebinding page cannot read the API.
    pub allowed_hosts: Vec<String>,
    /// Most HTTP connections open at once; at the cap the oldest idle one is closed to
    /// make room, so health checks still get through a flood of idle connections.
    pub max_connections: usize,
    /// A client must send a request's headers within this long.
    pub header_timeout: DurationSetting,
    /// A keep-alive connection with no request in progress is closed after this long.
    pub idle_timeout: DurationSetting,
}

impl Default for Server {
    fn default() -> Self {
        let limits = netsnoop_server::connections::Limits::default();
        let secs = |d: Duration| {
            DurationSetting::try_from(format!("{}s", d.as_secs())).expect("valid default")
        };
        Server {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            token: None,
            tls_cert: None,
            tls_key: None,
            allowed_hosts: Vec::new(),
            max_connections: limits.max_connections,
            header_timeout: secs(limits.header_read_timeout),
            idle_timeout: secs(limits.idle_timeout),
        }
    }
}

impl Server {
    /// The PEM files to serve HTTPS with, when both are set.
    pub fn tls(&self) -> Option<netsnoop_server::tls::TlsFiles> {
        Some(netsnoop_server::tls::TlsFiles {
            cert: self.tls_cert.clone()?,
            key: self.tls_key.clone()?,
        })
    }

    /// `https` with TLS files, else `http`: what the start lines print.
    pub fn scheme(&self) -> &'static str {
        if self.tls().is_some() {
            "https"
        } else {
            "http"
        }
    }

    pub(super) fn check(&self, p: &mut Problems) {
        if let Some(t) = &self.token
            && (t.len() < 16 || t.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            p.add(
                "server.token",
                "must be at least 16 characters with no spaces (try: openssl rand -hex 24)",
            );
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            p.add(
                "server.tls_cert",
                "give both tls_cert and tls_key (PEM files), or neither for plain HTTP",
            );
        }
        p.range("server.max_connections", self.max_connections, 8, 100_000);
        for (key, d) in [
            ("server.header_timeout", self.header_timeout.get()),
            ("server.idle_timeout", self.idle_timeout.get()),
        ] {
            if d < Duration::from_secs(1) || d > Duration::from_secs(3600) {
                p.add(key, "must be between 1s and 1h");
            }
        }
        for name in &self.allowed_hosts {
            let bad = name.is_empty()
                || name.contains([':', '/', '[', ']'])
                || name.chars().any(|c| c.is_whitespace() || c.is_control());
            if bad {
                p.add(
                    "server.allowed_hosts",
                    format!("{name:?} is not a host name: give bare names such as \"monitor.example.org\" (no scheme or port)"),
                );
            }
        }
    }
}

/// Interface names in `network.capture.interfaces` must be names Linux could have, so a
/// typo is refused at start rather than by libpcap later.
pub(super) fn check_interfaces(names: &[String], p: &mut Problems) {
    for name in names {
        // Linux interface names are at most 15 bytes (IFNAMSIZ - 1), no '/' or spaces.
        let bad = name.is_empty()
            || name.len() > 15
            || name
                .chars()
                .any(|c| c == '/' || c.is_whitespace() || c.is_control());
        if bad {
            p.add(
                "network.capture.interfaces",
                format!("{name:?} is not an interface name (see `ip -br link`)"),
            );
        }
    }
}
