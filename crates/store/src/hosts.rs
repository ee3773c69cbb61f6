//! The hosts registry's types: one row per host of a fleet (its identity, its agent's
//! hashed key and the highest batch committed for it), and the mark a committed agent
//! batch leaves behind.

use netsnoop_core::fleet::AgentStatus;
use netsnoop_core::{Host, Ts};
use serde::Serialize;

/// A host as the registry knows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostRow {
    /// Its id and hostname.
    pub host: Host,
    /// True for the store's own host (the one `serve` or `run` runs on).
    pub local: bool,
    /// The agent's version from its last batch; None for a host without an agent.
    pub agent_version: Option<String>,
    /// When the store first heard of it.
    pub first_seen: Ts,
    /// When the host last reported (its last committed batch).
    pub last_seen: Ts,
    /// The newest record time among its committed batches.
    pub newest_record: Option<Ts>,
    /// Highest batch sequence committed for it.
    pub committed_seq: u64,
    /// Whether the host has an agent key.
    pub enrolled: bool,
    /// Whether that key was revoked.
    pub revoked: bool,
    /// What the agent reported with its last batch.
    pub status: Option<AgentStatus>,
}

/// What the server needs to check an agent's request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentKey {
    /// Hex SHA-256 of the key the agent was given.
    pub key_hash: String,
    /// Revoked keys are refused.
    pub revoked: bool,
    /// Highest batch sequence stored for the host.
    pub committed_seq: u64,
}

/// The mark a committed agent batch leaves, written in the same transaction as its
/// records: the host's `committed_seq` rises to `seq` (never falls) and its status,
/// version and last-seen time are updated.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchMark {
    /// The agent's host.
    pub host: Host,
    /// The batch's sequence.
    pub seq: u64,
    /// The agent's version.
    pub agent_version: String,
    /// When the server took the batch.
    pub received: Ts,
    /// The newest record time in the batch.
    pub newest_record: Option<Ts>,
    /// What the agent reported with it.
    pub status: AgentStatus,
}
