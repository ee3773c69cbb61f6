//! The fleet's server side: its settings, agent keys (random, kept only as SHA-256,
//! compared in constant time), one batch at a time per host, and each host's status.

use netsnoop_core::Ts;
use netsnoop_core::time::Span;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use subtle::ConstantTimeEq;

/// Whom POSTed packets belong to when neither the config nor the packet names a host.
pub const DEFAULT_NETWATCH_HOST: &str = "netwatch";

/// `[fleet]`: enrolment and the host status thresholds.
#[derive(Clone, Debug)]
pub struct FleetConfig {
    /// The secret an agent presents once to get its key; None: enrolment is off.
    pub enrollment_secret: Option<String>,
    /// A host that has not reported for this long is `stale`.
    pub stale_after: Duration,
    /// … and for this long, `down`.
    pub down_after: Duration,
    /// Largest batch body once decompressed.
    pub max_batch_bytes: usize,
    /// The host this server runs on: records without a host are its own.
    pub local_host: Option<netsnoop_core::Host>,
    /// The host NetWatch's `POST /packets` packets belong to when they name none
    /// (`fleet.netwatch_host`).
    pub netwatch_host: String,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            enrollment_secret: None,
            stale_after: Duration::from_secs(60),
            down_after: Duration::from_secs(300),
            max_batch_bytes: 64 * 1024 * 1024,
            local_host: None,
            netwatch_host: DEFAULT_NETWATCH_HOST.into(),
        }
    }
}

/// A new agent key: 32 random bytes, hex.
pub fn new_key() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// What the store keeps of a key: its SHA-256, hex.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Whether `key` hashes to `stored`, in time independent of where they differ.
pub fn key_matches(key: &str, stored: &str) -> bool {
    key_hash(key).as_bytes().ct_eq(stored.as_bytes()).into()
}

/// Whether two secrets are equal, comparing their hashes so neither the position of a
/// difference nor the length shows in the time taken.
pub fn secret_matches(given: &str, expected: &str) -> bool {
    Sha256::digest(given.as_bytes())
        .ct_eq(&Sha256::digest(expected.as_bytes()))
        .into()
}

/// One lock per host: its batches are checked against the committed sequence and stored
/// one at a time, so a retry racing its original is answered, not stored twice.
#[derive(Default)]
pub struct HostLocks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl HostLocks {
    pub fn of(&self, host_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(host_id.to_string()).or_default().clone()
    }
}

/// Whether a host reports on time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HostState {
    Up,
    Stale,
    Down,
}

impl HostState {
    pub fn of(last_seen: Ts, now: Ts, cfg: &FleetConfig) -> HostState {
        let silent = now - last_seen;
        if silent >= Span::from(cfg.down_after) {
            HostState::Down
        } else if silent >= Span::from(cfg.stale_after) {
            HostState::Stale
        } else {
            HostState::Up
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_match_only_their_own_hash() {
        let (a, b) = (new_key().unwrap(), new_key().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        let stored = key_hash(&a);
        assert_ne!(stored, a, "the key itself is never stored");
        assert!(key_matches(&a, &stored));
        assert!(!key_matches(&b, &stored));
        assert!(!key_matches("", &stored));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(secret_matches("s3cret", "s3cret"));
        assert!(!secret_matches("s3cre", "s3cret"));
        assert!(!secret_matches("s3cret!", "s3cret"));
    }

    #[test]
    fn a_host_goes_stale_then_down_as_it_stays_silent() {
        let cfg = FleetConfig::default();
        let now = Ts::from_secs(1_000);
        assert_eq!(HostState::of(Ts::from_secs(990), now, &cfg), HostState::Up);
        assert_eq!(
            HostState::of(Ts::from_secs(900), now, &cfg),
            HostState::Stale
        );
        assert_eq!(
            HostState::of(Ts::from_secs(600), now, &cfg),
            HostState::Down
        );
    }
}
