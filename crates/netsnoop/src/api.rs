//! Starting the HTTP API from `run` and `serve`: the live-hub sink the pipeline feeds, and
//! the server built from the config (token from NETSNOOP_TOKEN or `server.token`).

use crate::commands::Setup;
use crate::sinks::{SessionEnd, Sink};
use anyhow::Context;
use crossbeam_channel::Sender;
use netsnoop_core::{Degraded, Event, Record};
use netsnoop_server::{AppState, LiveHub, ServerConfig, ServerHandle, SourceStatus};
use netsnoop_store::{Store, WriterHandle};
use std::sync::Arc;

/// Environment variable holding the bearer token; it wins over `server.token`.
pub const TOKEN_ENV: &str = "NETSNOOP_TOKEN";

/// Hands every batch to the live hub: /system, /processes, /health, /metrics and /stream.
pub struct HubSink(pub LiveHub);

impl Sink for HubSink {
    fn name(&self) -> String {
        "live api".into()
    }

    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
        self.0.publish(records);
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    fn close(&mut self, _end: &SessionEnd) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The configured zone (already validated by `setup`, so the fallback is never used).
fn zone(setup: &Setup) -> jiff::tz::TimeZone {
    crate::time::zone(&setup.config.general.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// A hub in the configured time zone.
pub fn hub(setup: &Setup) -> LiveHub {
    LiveHub::new(zone(setup))
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
    /// The pipeline's input: POST /packets sends here, like a capture source.
    pub ingest: Sender<Vec<Event>>,
    pub store: Option<Arc<dyn Store>>,
    pub writer: Option<WriterHandle>,
    pub degraded: Vec<Degraded>,
    pub sources: Vec<String>,
}

/// Checks the token rules, binds `server.listen` and serves on a thread of its own.
/// Dropping the handle stops the server.
pub fn start(setup: &Setup, parts: ApiParts) -> anyhow::Result<ServerHandle> {
    let config = ServerConfig {
        listen: setup.config.server.listen,
        token: token(setup),
        timezone: zone(setup),
        max_clock_skew: setup.config.general.max_clock_skew.get(),
        allowed_hosts: setup.config.server.allowed_hosts.clone(),
        limits: netsnoop_server::connections::Limits {
            header_read_timeout: setup.config.server.header_timeout.get(),
            idle_timeout: setup.config.server.idle_timeout.get(),
            max_connections: setup.config.server.max_connections,
        },
        ..ServerConfig::default()
    };
    parts
        .hub
        .set_degraded(parts.degraded.iter().copied().map(Into::into).collect());
    let mut sources: Vec<SourceStatus> = parts
        .sources
        .into_iter()
        .map(|name| SourceStatus {
            name,
            running: true,
            note: None,
        })
        .collect();
    sources.push(SourceStatus {
        name: "api (POST /packets)".into(),
        running: true,
        note: None,
    });
    parts.hub.set_sources(sources);
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

    fn setup(listen: &str) -> Setup {
        let mut config = Config::default();
        config.server.listen = listen.parse().unwrap();
        config.server.token = Some("a-token-of-enough-length".into());
        Setup {
            config,
            config_path: "/etc/netsnoop/config.toml".into(),
            config_found: true,
            data_dir: "/var/lib/netsnoop".into(),
            tf: TimeFmt::utc(),
        }
    }

    #[test]
    fn the_start_line_says_reads_need_the_token_too_beyond_loopback() {
        assert_eq!(
            token_rule(&setup("0.0.0.0:8000")),
            "required for every data request"
        );
        assert_eq!(
            token_rule(&setup("127.0.0.1:8000")),
            "required for POST (reads are open on loopback)"
        );
    }
}
