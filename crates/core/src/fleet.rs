//! The agent ↔ server wire: enrolment and ingest bodies, shared by `agent` and `serve`.

use crate::host::Host;
use crate::{Record, Ts};
use serde::{Deserialize, Serialize};

/// Where an agent enrols (POST, JSON [`EnrollRequest`] → [`EnrollReply`]).
pub const ENROLL_PATH: &str = "/api/v1/enroll";
/// Where an agent ships batches (POST, gzip-compressed JSON [`IngestBatch`] → [`IngestReply`]).
pub const INGEST_PATH: &str = "/api/v1/ingest";
/// The wire version a batch carries; the server refuses others with 400.
pub const WIRE_VERSION: u32 = 1;
/// The header carrying an agent's key.
pub const AGENT_KEY_HEADER: &str = "x-netsnoop-agent-key";
/// The `error` code of a 401 for a host the server has no record of (its database was
/// replaced or wiped): an agent that holds the enrolment secret enrols again. A revoked
/// or mismatched key gets plain `unauthorized`, and the agent waits for its operator.
pub const UNKNOWN_HOST: &str = "unknown_host";

/// An agent presenting the enrolment secret once, for its own key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollRequest {
    pub secret: String,
    pub host: Host,
    pub agent_version: String,
}

/// The per-agent key (hex, shown once) and the highest sequence the server has committed
/// for this host (0 when new), so that a re-enrolled agent resumes where it was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollReply {
    pub key: String,
    pub committed: u64,
}

/// How the agent is doing, sent with every batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentStatus {
    /// Batches waiting in the agent's spool, not yet acknowledged.
    pub spool_batches: u64,
    pub spool_bytes: u64,
    /// Batches and records the spool dropped past its bound (since the agent's first start).
    pub spool_dropped_batches: u64,
    pub spool_dropped_records: u64,
    /// The agent's degraded modes (e.g. `exec:poll`, `capture:unavailable`).
    #[serde(default)]
    pub degraded: Vec<String>,
}

/// One batch of records from one agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestBatch {
    pub version: u32,
    pub host: Host,
    pub agent_version: String,
    /// Per-agent sequence, from 1, one more per batch.
    pub seq: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub sent_at: Ts,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub records: Vec<Record>,
    pub status: AgentStatus,
}

/// The highest sequence the server has committed for this agent: every batch up to it is
/// stored and may be forgotten.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestReply {
    pub committed: u64,
}
