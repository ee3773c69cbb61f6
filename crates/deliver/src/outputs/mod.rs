//! The receivers: each turns a group of alerts into what its receiver expects and sends
//! it, saying whether a failure is worth retrying.

pub mod alertmanager;
pub mod email;
pub mod falco;
mod http;
pub mod program;
pub mod text;
pub mod webhook;

use crate::config::OutputConfig;
use crate::secret::SecretError;
use netsnoop_core::{Alert, Ts};
use std::time::Duration;

/// Why one attempt failed. Messages never hold a secret (URLs are left out).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SendError {
    /// Worth retrying: connection refused, timeout, 5xx, 429.
    #[error("{0}")]
    Transient(String),
    /// Retrying would fail the same way: 4xx, a refused address.
    #[error("{0}")]
    Permanent(String),
}

/// Why an output could not be set up; names the fix.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{0}")]
    Invalid(String),
}

/// What every receiver is told besides the alerts.
#[derive(Clone, Debug)]
pub struct Context {
    /// The output's name (the webhook's `receiver`).
    pub output: String,
    /// The host the alerts were raised on.
    pub host: String,
    /// Send time: Alertmanager's `endsAt` of an open alert is counted from it.
    pub now: Ts,
}

/// One receiver.
pub trait Output: Send {
    /// Sends one group (or, if [`Output::per_alert`], one alert).
    fn send(&mut self, alerts: &[Alert], ctx: &Context) -> Result<(), SendError>;

    /// Whether each alert is its own message (Falco events, program lines), so a retry
    /// never repeats one already delivered.
    fn per_alert(&self) -> bool {
        false
    }
}

/// Builds the receiver of `cfg`, reading its secrets.
pub fn build(cfg: &OutputConfig) -> Result<Box<dyn Output>, BuildError> {
    let timeout = Duration::from_secs_f64(cfg.timeout_secs);
    let repeat = cfg.repeat_interval();
    if let Some(c) = &cfg.alertmanager {
        return Ok(Box::new(alertmanager::Alertmanager::new(
            c, timeout, repeat,
        )?));
    }
    if let Some(c) = &cfg.webhook {
        return Ok(Box::new(webhook::Webhook::new(c, timeout)?));
    }
    if let Some(c) = &cfg.falco {
        return Ok(Box::new(falco::Falco::new(c, timeout)?));
    }
    if let Some(c) = &cfg.email {
        return Ok(Box::new(email::Email::new(c, timeout)?));
    }
    if let Some(c) = &cfg.program {
        return Ok(Box::new(program::Program::new(c)));
    }
    Err(BuildError::Invalid(format!(
        "output {:?} has no receiver: add one of [outputs.alertmanager], [outputs.webhook], \
         [outputs.falco], [outputs.email] or [outputs.program]",
        cfg.name
    )))
}

/// An instant as RFC 3339 in UTC (`…Z`), as Alertmanager and Falco write it.
pub fn utc(ts: Ts) -> String {
    jiff::Timestamp::from_microsecond(ts.micros())
        .map(|t| t.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}
