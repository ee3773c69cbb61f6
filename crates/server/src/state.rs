//! What every handler can reach: the live hub, the pipeline's ingest channel, the store and
//! the config.

use crate::config::ServerConfig;
use crate::error::{ApiError, ApiResult};
use crate::hub::LiveHub;
use netsnoop_store::intake::{self, IntakeSender};
use netsnoop_store::{AckedBatch, Store, StoreError, WriterHandle};
use std::sync::Arc;
use std::time::Duration;

/// Why a batch could not be handed over. Nothing was accepted in either case (its ack
/// is unanswered), so the client may safely retry.
#[derive(Debug)]
pub enum IngestError {
    /// The queue stayed full for the whole wait; the batch comes back to the caller.
    Full(AckedBatch),
    /// The pipeline is stopping or has stopped.
    Closed,
}

/// Where POSTed packets go: normally the pipeline's intake, so rollups and detectors see
/// them exactly like captured packets, and the pipeline's store writer answers each
/// batch's ack once its transaction commits.
pub trait PacketIngest: Send + Sync + 'static {
    /// Hands over one batch, waiting at most `wait` for room.
    fn submit(&self, batch: AckedBatch, wait: Duration) -> Result<(), IngestError>;
}

impl PacketIngest for IntakeSender {
    fn submit(&self, batch: AckedBatch, wait: Duration) -> Result<(), IngestError> {
        self.send(batch, wait).map_err(|e| match e {
            intake::SendError::Full(batch) => IngestError::Full(batch),
            intake::SendError::Closed(_) => IngestError::Closed,
        })
    }
}

/// Shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub hub: LiveHub,
    /// None when this server takes no packets (POST /packets then answers 503).
    pub ingest: Option<Arc<dyn PacketIngest>>,
    /// None when no store could be opened (degraded mode): statistics then answer 503.
    pub store: Option<Arc<dyn Store>>,
    /// The store writer's counters, shown by /health.
    pub writer: Option<WriterHandle>,
    pub config: Arc<ServerConfig>,
    /// Flipped to true when the server shuts down, so endless SSE streams end and the
    /// graceful shutdown can finish.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// One batch at a time per agent.
    pub host_locks: Arc<crate::fleet::HostLocks>,
}

impl AppState {
    pub fn new(config: ServerConfig, hub: LiveHub) -> AppState {
        AppState {
            hub,
            ingest: None,
            store: None,
            writer: None,
            config: Arc::new(config),
            closing: Arc::new(tokio::sync::watch::Sender::new(false)),
            host_locks: Arc::default(),
        }
    }

    pub fn with_ingest(mut self, ingest: impl PacketIngest) -> AppState {
        self.ingest = Some(Arc::new(ingest));
        self
    }

    pub fn with_store(mut self, store: Arc<dyn Store>) -> AppState {
        self.store = Some(store);
        self
    }

    pub fn with_writer(mut self, writer: WriterHandle) -> AppState {
        self.writer = Some(writer);
        self
    }

    /// Runs a store query off the async threads (SQLite calls block).
    pub async fn query<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone().ok_or_else(|| {
            ApiError::Store("no store is open (see /health for why); statistics need one: check store.database in the config and that the data dir is writable".into())
        })?;
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| ApiError::Internal(format!("store query task failed: {e}")))?
            .map_err(|e| ApiError::Store(e.to_string()))
    }
}
