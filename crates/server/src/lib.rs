//! netsnoop-server: the axum HTTP API (NetWatch-compatible and host endpoints), the SSE
//! live stream, Prometheus `/metrics`, OpenAPI with an offline Swagger UI, and the
//! embedded dashboard, all on one port.
//!
//! The binary builds an [`AppState`] (live hub, ingest channel, store, config), then either
//! awaits [`serve`] on its own runtime or starts a [`ServerHandle`] from synchronous code.
//! The pipeline calls [`LiveHub::publish`] with every batch of records.

#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod connections;
pub mod error;
pub mod fleet;
pub mod guard;
pub mod hub;
pub mod metrics;
pub mod openapi;
pub mod outputs;
pub mod routes;
pub mod state;
pub mod timefmt;
pub mod tls;
pub mod views;

mod handle;

pub use config::{DEFAULT_LISTEN, ServerConfig, StartError};
pub use handle::ServerHandle;
pub use hub::LiveHub;
pub use hub::snapshot::{DegradedMode, SourceStatus};
pub use routes::router;

/// The commit this build was made from (12 hex digits, or "unknown" outside git).
pub const BUILD_COMMIT: &str = env!("NETSNOOP_COMMIT");
/// The day this build was made (UTC, or SOURCE_DATE_EPOCH's day).
pub const BUILD_DATE: &str = env!("NETSNOOP_BUILD_DATE");
pub use state::{AppState, IngestError, PacketIngest};

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Serves the app on `listener` until `shutdown` completes, then lets open requests
/// finish and ends live streams. Background tasks (the 1 s stream tick) stop when this
/// returns, however it returns.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let _ticker = AbortOnDrop(tokio::spawn(tick_every_second(state.hub.clone())));
    let closing = state.closing.clone();
    let limits = state.config.limits;
    let metrics = Arc::new(state.hub.clone());
    let tls = state.config.tls.as_ref().map(tls::TlsFiles::acceptor);
    let tls = tls.transpose()?;
    let app = router(state);
    connections::serve(listener, tls, app, limits, metrics, async move {
        shutdown.await;
        closing.send_replace(true);
    })
    .await;
    Ok(())
}

/// Checks the token rules, then binds the listen address.
pub async fn bind(config: &ServerConfig) -> Result<TcpListener, StartError> {
    config.check()?;
    if let Some(files) = &config.tls {
        files.acceptor()?;
    }
    TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })
}

async fn tick_every_second(hub: LiveHub) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        every.tick().await;
        hub.tick();
    }
}

/// Stops a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
