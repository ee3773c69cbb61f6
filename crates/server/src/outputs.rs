//! Alert outputs as the server shows them: each output's delivered, failed, dropped and
//! queued counts for `/health` and `/metrics`, read through a probe the binary sets.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// One alert output (`[[outputs]]`) and how its deliveries went.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct OutputStatus {
    pub name: String,
    /// `alertmanager`, `webhook`, `falco`, `email` or `program`.
    pub kind: String,
    /// Alerts the receiver accepted.
    pub delivered: u64,
    /// Alerts given up on (refused by the receiver, or unsent at shutdown).
    pub failed: u64,
    /// Attempts that failed; each is retried with backoff unless given up.
    pub errors: u64,
    /// Alerts dropped because the output's queue was full.
    pub dropped: u64,
    /// Alerts not sent because a silence or an acknowledgement covered them.
    pub silenced: u64,
    /// Alerts waiting: queued, grouping or being retried.
    pub queued: u64,
    /// The last failure (never holds a secret).
    pub last_error: Option<String>,
}

/// Reads every output's figures when `/health` or `/metrics` is asked.
pub type OutputsProbe = Arc<dyn Fn() -> Vec<OutputStatus> + Send + Sync>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutputLabel {
    pub output: String,
    pub kind: String,
}

/// The output families of `/metrics`.
#[derive(Default)]
pub struct OutputMetrics {
    delivered: Family<OutputLabel, Counter>,
    failed: Family<OutputLabel, Counter>,
    errors: Family<OutputLabel, Counter>,
    dropped: Family<OutputLabel, Counter>,
    queued: Family<OutputLabel, Gauge>,
}

impl OutputMetrics {
    pub fn register(&self, r: &mut Registry) {
        r.register(
            "alert_output_delivered",
            "Alerts delivered, by output",
            self.delivered.clone(),
        );
        r.register(
            "alert_output_failed",
            "Alerts given up on (refused, or unsent at shutdown), by output",
            self.failed.clone(),
        );
        r.register(
            "alert_output_errors",
            "Failed delivery attempts, by output",
            self.errors.clone(),
        );
        r.register(
            "alert_output_dropped",
            "Alerts dropped because the output's queue was full, by output",
            self.dropped.clone(),
        );
        r.register(
            "alert_output_queued",
            "Alerts waiting for delivery, by output",
            self.queued.clone(),
        );
    }

    /// Brings the families up to the probe's figures (counters only move up).
    pub fn update(&self, outputs: &[OutputStatus]) {
        for o in outputs {
            let l = OutputLabel {
                output: o.name.clone(),
                kind: o.kind.clone(),
            };
            for (family, value) in [
                (&self.delivered, o.delivered),
                (&self.failed, o.failed),
                (&self.errors, o.errors),
                (&self.dropped, o.dropped),
            ] {
                let c = family.get_or_create(&l);
                c.inc_by(value.saturating_sub(c.get()));
            }
            self.queued
                .get_or_create(&l)
                .set(i64::try_from(o.queued).unwrap_or(i64::MAX));
        }
    }
}
