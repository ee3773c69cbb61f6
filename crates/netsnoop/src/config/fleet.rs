//! `[fleet]` (what `serve` needs to take agents, and this host's identity) and `[agent]`
//! (where `netsnoop agent` reports, and its spool).

use super::sections::DurationSetting;
use super::validate::Problems;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Environment variable holding the enrolment secret; it wins over the config keys.
pub const ENROLL_SECRET_ENV: &str = "NETSNOOP_ENROLL_SECRET";

fn setting(text: &str) -> DurationSetting {
    DurationSetting::try_from(text.to_string()).expect("valid default")
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fleet {
    /// The secret an agent presents once to enrol (`serve`); none: enrolment is off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment_secret: Option<String>,
    /// A host silent for this long is `stale`, and for `down_after`, `down`.
    pub stale_after: DurationSetting,
    pub down_after: DurationSetting,
    /// This host's id and name, when /etc/machine-id and the hostname will not do (clones
    /// of one image share a machine id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The host of packets POSTed to `/packets` that name none (NetWatch agents).
    pub netwatch_host: String,
}

impl Default for Fleet {
    fn default() -> Self {
        Fleet {
            enrollment_secret: None,
            stale_after: setting("1m"),
            down_after: setting("5m"),
            host_id: None,
            hostname: None,
            netwatch_host: netsnoop_server::fleet::DEFAULT_NETWATCH_HOST.into(),
        }
    }
}

impl Fleet {
    pub(super) fn check(&self, p: &mut Problems) {
        check_secret(
            "fleet.enrollment_secret",
            self.enrollment_secret.as_deref(),
            p,
        );
        let (stale, down) = (self.stale_after.get(), self.down_after.get());
        if stale < Duration::from_secs(5) || stale > Duration::from_secs(86_400) {
            p.add("fleet.stale_after", "must be between 5s and 1d");
        }
        if down <= stale || down > Duration::from_secs(7 * 86_400) {
            p.add(
                "fleet.down_after",
                "must be longer than fleet.stale_after and at most 7d",
            );
        }
        if let Some(id) = &self.host_id
            && let Err(e) = netsnoop_core::Host::new(id.clone(), "x")
        {
            p.add("fleet.host_id", e.to_string());
        }
        if netsnoop_core::Host::netwatch(&self.netwatch_host).is_err() {
            p.add(
                "fleet.netwatch_host",
                "must be 1 to 55 letters, digits, '.', '_' or '-' (e.g. \"netwatch\")",
            );
        }
    }

    /// The secret `serve` enrols agents with: NETSNOOP_ENROLL_SECRET, else the key.
    pub fn secret(&self) -> Option<String> {
        env_secret().or_else(|| self.enrollment_secret.clone())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Agent {
    /// The central `netsnoop serve` (`--server` wins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The secret to enrol with, used once (NETSNOOP_ENROLL_SECRET wins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment_secret: Option<String>,
    /// A PEM file of the CA that signed the server's certificate (a private CA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Records gather for this long (or `batch_records`) before they form a batch.
    pub batch_interval: DurationSetting,
    pub batch_records: usize,
    /// The spool's bound: past either, the oldest batches are dropped and counted.
    pub spool_max_mb: u64,
    pub spool_max_age: DurationSetting,
    /// Batches shipped per second at most while a backlog drains, so a returning agent
    /// does not flood the server.
    pub replay_batches_per_sec: u32,
    /// Retries while the server is away back off up to this, with jitter.
    pub retry_max: DurationSetting,
}

impl Default for Agent {
    fn default() -> Self {
        Agent {
            server: None,
            enrollment_secret: None,
            ca_file: None,
            batch_interval: setting("1s"),
            batch_records: 5_000,
            spool_max_mb: 1_024,
            spool_max_age: setting("24h"),
            replay_batches_per_sec: 20,
            retry_max: setting("10s"),
        }
    }
}

impl Agent {
    pub(super) fn check(&self, p: &mut Problems) {
        check_secret(
            "agent.enrollment_secret",
            self.enrollment_secret.as_deref(),
            p,
        );
        if let Some(url) = &self.server
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            p.add(
                "agent.server",
                format!("{url:?} is not a URL: write http://HOST:PORT or https://HOST:PORT"),
            );
        }
        let interval = self.batch_interval.get();
        // The pipeline flushes its sinks once a second: a batch cannot close sooner.
        if interval < Duration::from_secs(1) || interval > Duration::from_secs(60) {
            p.add("agent.batch_interval", "must be between 1s and 1m");
        }
        p.range("agent.batch_records", self.batch_records, 10, 100_000);
        p.range("agent.spool_max_mb", self.spool_max_mb, 1, 1_048_576);
        let age = self.spool_max_age.get();
        if age < Duration::from_secs(60) || age > Duration::from_secs(30 * 86_400) {
            p.add("agent.spool_max_age", "must be between 1m and 30d");
        }
        p.range(
            "agent.replay_batches_per_sec",
            self.replay_batches_per_sec,
            1,
            10_000,
        );
        let retry = self.retry_max.get();
        if retry < Duration::from_secs(1) || retry > Duration::from_secs(3_600) {
            p.add("agent.retry_max", "must be between 1s and 1h");
        }
    }

    /// The secret to enrol with: NETSNOOP_ENROLL_SECRET, else the key.
    pub fn secret(&self) -> Option<String> {
        env_secret().or_else(|| self.enrollment_secret.clone())
    }
}

fn env_secret() -> Option<String> {
    std::env::var(ENROLL_SECRET_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
}

fn check_secret(key: &str, secret: Option<&str>, p: &mut Problems) {
    if let Some(s) = secret
        && (s.len() < 16 || s.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        p.add(
            key,
            "must be at least 16 characters with no spaces (try: openssl rand -hex 24)",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn problems(toml_text: &str) -> Vec<String> {
        let config: Config = toml::from_str(toml_text).unwrap();
        config.problems().into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn fleet_and_agent_values_out_of_range_are_named() {
        assert!(problems("").is_empty());
        assert_eq!(
            problems("[agent]\nserver = \"monitor:8000\"\nbatch_interval = \"200ms\"\n"),
            ["agent.server", "agent.batch_interval"]
        );
        assert_eq!(
            problems(
                "[fleet]\nenrollment_secret = \"short\"\nstale_after = \"2m\"\ndown_after = \"1m\"\n"
            ),
            ["fleet.enrollment_secret", "fleet.down_after"]
        );
        assert_eq!(problems("[fleet]\nhost_id = \"a b\"\n"), ["fleet.host_id"]);
    }
}
