//! The resource sampler of `run` and `watch`: /proc read once per interval on its own
//! thread, forwarded to the pipeline; missing PSI is reported as a degraded mode.

use crate::sources::{StopFn, Threaded};
use anyhow::Context;
use netsnoop_core::Degraded;
use netsnoop_core::resource::ResourceConfig;
use netsnoop_linux::sampler::{self, Sampler};
use std::time::Duration;

/// What starting the sampler found out, for the banner and /health.
pub struct Started {
    pub source: Threaded,
    pub degraded: Vec<Degraded>,
    /// One line for the banner.
    pub note: String,
}

/// Takes the sampler's first reading (so the first sample already has CPU deltas) and
/// prepares the source; it starts sampling when the pipeline starts the source.
pub fn start(cfg: &ResourceConfig) -> anyhow::Result<Started> {
    let sampler = Sampler::new().context("cannot start the resource sampler")?;
    let degraded = sampler
        .degraded()
        .iter()
        .map(|d| match d {
            sampler::Degraded::NoPressure { .. } => Degraded::NoPsi,
        })
        .collect();
    let mut note = format!("every {} ms", cfg.interval_ms);
    for d in sampler.degraded() {
        note.push_str(&format!("; {d}"));
    }
    let interval = Duration::from_millis(cfg.interval_ms);
    let source = Threaded::new("resources", move |tx| {
        let handle = sampler::spawn(sampler, interval, tx)?;
        Ok(Box::new(move || {
            let stats = handle.stop();
            if stats.errors > 0 || stats.dropped > 0 {
                tracing::warn!(
                    rounds = stats.rounds,
                    failed = stats.errors,
                    dropped = stats.dropped,
                    "resource sampler: some rounds were lost"
                );
            }
        }) as StopFn)
    });
    Ok(Started {
        source,
        degraded,
        note,
    })
}
