//! The live state the pipeline publishes for readers on other threads (the HTTP API, the
//! dashboard): a small snapshot behind a lock, replaced piecewise as events flow.

use crate::{Alert, Ts, health::Degraded};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// What a reader can see of a running pipeline. Kept small: history lives in the store.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveSnapshot {
    pub started_at: Ts,
    /// Time of the newest event the pipeline has seen.
    pub last_event: Option<Ts>,
    pub degraded: Vec<Degraded>,
    /// Names of the running sources and sinks, as printed at start.
    pub sources: Vec<String>,
    pub sinks: Vec<String>,
    /// Events received, by event type (`process`, `packet`, …).
    pub events: BTreeMap<String, u64>,
    /// Events lost, by source, as reported through `Event::Loss`.
    pub losses: BTreeMap<String, u64>,
    /// Alerts whose episode is open, by id.
    pub active_alerts: BTreeMap<String, Alert>,
    /// Alert records (opened, updated, resolved) seen since start.
    pub alerts_total: u64,
}

/// The handle the pipeline writes and readers clone.
pub type SharedLive = Arc<RwLock<LiveSnapshot>>;
