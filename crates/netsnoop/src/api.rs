//! Starting the HTTP API from `run` and `serve`: the server built from the config (token
//! from NETSNOOP_TOKEN or `server.token`) and the live hub the pipeline feeds.

use crate::setup::Setup;
use anyhow::Context;
use netsnoop_core::Degraded;
use netsnoop_server::{AppState, LiveHub, ServerConfig, ServerHandle, SourceStatus};
use netsnoop_store::intake::IntakeSender;
use netsnoop_store::{Store, WriterHandle};
use std::sync::Arc;

/// Environment variable holding the bearer token; it wins over `server.token`.
pub const TOKEN_ENV: &str = "NETSNOOP_TOKEN";

/// The configured zone (already validated by `setup`, so the fallback is never used).
fn zone(setup: &Setup) -> jiff::tz::TimeZone {
    crate::time::zone(&setup.config.general.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// A hub in the configured time zone, keeping `resources.history_secs` of system samples.
pub fn hub(setup: &Setup) -> LiveHub {
    LiveHub::with_history(zone(setup), setup.config.resources.history_len())
}

/// The token to require: NETSNOOP_TOKEN if set and non-empty, else `server.token`.
pub fn token(setup: &Setup) -> Option<String> {
    std::env::var(TOKEN_ENV)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .or_else(|| setup.config.server.token.clone())
}

/// What the token is required for, as the start line says it.
pub fn token_rule(setup: &Setup) -> &'static str {
    let beyond_loopback = !setup.config.server.listen.ip().is_loopback();
    match (token(setup).is_some(), beyond_loopback) {
        (true, true) => "required for every data request",
        (true, false) => "required for POST (reads are open on loopback)",
        (false, _) => "not set (loopback only; POST needs a JSON body and no foreign Origin)",
    }
}

/// What the server needs from the session being started.
pub struct ApiParts {
    pub hub: LiveHub,
    /// The pipeline's intake: POST /packets sends here, and is answered once stored.
    pub ingest: IntakeSender,
    pub store: Option<Arc<dyn Store>>,
    pub writer: Option<WriterHandle>,
    pub degraded: Vec<Degraded>,
    pub sources: Vec<String>,
    /// (source name, note) for sources that say why they are the one running.
    pub source_notes: Vec<(String, String)>,
}

/// Checks the token rules, binds `server.listen` and serves on a thread of its own.
/// Dropping the handle stops the server.
pub fn start(setup: &Setup, parts: ApiParts) -> anyhow::Result<ServerHandle> {
    let config = ServerConfig {
        listen: setup.config.server.listen,
        token: token(setup),
        timezone: zone(setup),
        max_clock_skew: setup.config.general.max_clock_skew.get(),
        fleet: netsnoop_server::fleet::FleetConfig {
            enrollment_secret: setup.config.fleet.secret(),
            stale_after: setup.config.fleet.stale_after.get(),
            down_after: setup.config.fleet.down_after.get(),
            local_host: setup.host().ok(),
            netwatch_host: setup.config.fleet.netwatch_host.clone(),
            ..Default::default()
        },
        allowed_hosts: setup.config.server.allowed_hosts.clone(),
        tls: setup.config.server.tls(),
        limits: netsnoop_server::connections::Limits {
            header_read_timeout: setup.config.server.header_timeout.get(),
            idle_timeout: setup.config.server.idle_timeout.get(),
            max_connections: setup.config.server.max_connections,
        },
        ..ServerConfig::default()
    };
    // A failing store is live: /health takes it from the writer while it lasts.
    parts.hub.set_degraded(
        parts
            .degraded
            .iter()
            .copied()
            .filter(|d| *d != Degraded::StoreFailing)
            .map(Into::into)
            .collect(),
    );
    let mut sources: Vec<SourceStatus> = parts
        .sources
        .into_iter()
        .map(|name| SourceStatus {
            note: (parts.source_notes.iter())
                .find(|(n, _)| *n == name)
                .map(|(_, note)| note.clone()),
            name,
            running: true,
        })
        .collect();
    sources.push(SourceStatus {
        name: "api (POST /packets)".into(),
        running: true,
        note: None,
    });
    parts.hub.set_sources(sources);
    let intake = parts.ingest.clone();
    let metrics = parts.hub.metrics();
    metrics.add_queue("intake", Box::new(move || intake.queue()));
    if let Some(writer) = parts.writer.clone() {
        metrics.add_queue("store", Box::new(move || writer.queue()));
    }
    let mut state = AppState::new(config, parts.hub).with_ingest(parts.ingest);
    if let Some(store) = parts.store {
        state = state.with_store(store);
    }
    if let Some(writer) = parts.writer {
        state = state.with_writer(writer);
    }
    ServerHandle::start(state).context("cannot start the API server")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::time::TimeFmt;
    use netsnoop_core::{Record, ResourceSample, SystemSample, Ts};

    fn setup(config: Config) -> Setup {
        Setup {
            config,
            config_path: "/nonexistent/config.toml".into(),
            config_found: false,
            data_dir: "/nonexistent".into(),
            tf: TimeFmt::utc(),
        }
    }

    #[test]
    fn resources_history_secs_sizes_the_live_system_history() {
        let mut config = Config::default();
        config.resources.history_secs = 5;
        config.resources.interval_ms = 500;
        let hub = hub(&setup(config));
        for i in 0..30 {
            hub.publish(&[Record::Event(netsnoop_core::Event::Resources(
                ResourceSample {
                    host: None,
                    system: SystemSample {
                        time: Ts::from_millis(i * 500),
                        ..SystemSample::default()
                    },
                    processes: vec![],
                },
            ))]);
        }
        // 5 s at two samples a second.
        assert_eq!(hub.state().system.len(), 10);
        let default_hub = super::hub(&setup(Config::default()));
        assert_eq!(default_hub.state().system_capacity, 900);
    }

    fn listening(listen: &str) -> Setup {
        let mut config = Config::default();
        config.server.listen = listen.parse().unwrap();
        config.server.token = Some("a-token-of-enough-length".into());
        setup(config)
    }

    #[test]
    fn the_start_line_says_reads_need_the_token_too_beyond_loopback() {
        assert_eq!(
            token_rule(&listening("0.0.0.0:8000")),
            "required for every data request"
        );
        assert_eq!(
            token_rule(&listening("127.0.0.1:8000")),
            "required for POST (reads are open on loopback)"
        );
    }
}
