//! netsnoop-deliver: alert delivery. Each `[[outputs]]` section becomes a route, a
//! bounded queue and a worker thread sending to its receiver (Alertmanager, a webhook,
//! Falco-shaped JSON, email or a program); the pipeline only ever does a non-blocking
//! send, so a slow or dead receiver never slows it. Drops are counted and raised once
//! as a `delivery.dropped` alert ([`DropWatch`]).

#![forbid(unsafe_code)]

pub mod config;
mod dropwatch;
pub mod group;
pub mod mutes;
pub mod outputs;
pub mod route;
pub mod secret;
pub mod stats;
#[cfg(test)]
mod testkit;
mod worker;

pub use config::OutputConfig;
pub use dropwatch::DropWatch;
pub use stats::OutputCounts;

use crossbeam_channel::{Sender, TrySendError};
use group::{GroupRules, Grouper};
use netsnoop_core::time::Span;
use netsnoop_core::{Alert, Ts};
use outputs::{BuildError, Context, SendError};
use route::Route;
use stats::Counters;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long unsent alerts get at shutdown.
pub const DRAIN: Duration = Duration::from_secs(1);

/// Why delivery could not start; names the output and the fix.
#[derive(Debug, thiserror::Error)]
#[error("output {name:?}: {error}")]
pub struct StartError {
    pub name: String,
    pub error: BuildError,
}

struct Handle {
    name: String,
    kind: &'static str,
    route: Route,
    tx: Option<Sender<Alert>>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

/// Every output, started. Dropping it closes them (see [`Delivery::close`]).
pub struct Delivery {
    host: String,
    outputs: Vec<Handle>,
    closing: Arc<AtomicBool>,
    mutes: Arc<mutes::Mutes>,
}

impl Delivery {
    /// Builds every output (reading its secrets) and starts its worker thread.
    pub fn start(cfgs: &[OutputConfig], host: &str) -> Result<Delivery, StartError> {
        let closing = Arc::new(AtomicBool::new(false));
        let mutes = Arc::new(mutes::Mutes::default());
        let mut outputs = Vec::new();
        for cfg in cfgs {
            let err = |error| StartError {
                name: cfg.name.clone(),
                error,
            };
            let route = Route::new(cfg)
                .map_err(|e| err(BuildError::Invalid(format!("a route glob is invalid: {e}"))))?;
            let output = outputs::build(cfg).map_err(err)?;
            let (tx, rx) = crossbeam_channel::bounded(cfg.queue);
            let counters = Arc::new(Counters::default());
            let worker = worker::Worker {
                name: cfg.name.clone(),
                host: host.to_string(),
                rx,
                grouper: Grouper::new(GroupRules {
                    window: Span::secs_f64(cfg.group_window()),
                    repeat: Span::secs_f64(cfg.repeat_interval()),
                    send_resolved: cfg.send_resolved,
                }),
                output,
                counters: counters.clone(),
                hold_max: cfg.queue,
                retry_max: Duration::from_secs_f64(cfg.retry_max_secs),
                closing: closing.clone(),
                drain: DRAIN,
                mutes: mutes.clone(),
            };
            let thread = std::thread::Builder::new()
                .name(format!("output:{}", cfg.name))
                .spawn(move || worker.run())
                .map_err(|e| err(BuildError::Invalid(format!("cannot start its thread: {e}"))))?;
            outputs.push(Handle {
                name: cfg.name.clone(),
                kind: cfg.kind(),
                route,
                tx: Some(tx),
                counters,
                thread: Some(thread),
            });
        }
        Ok(Delivery {
            host: host.to_string(),
            outputs,
            closing,
            mutes,
        })
    }

    /// Hands `alert` to every output whose route takes it. Never blocks: an output
    /// whose queue is full drops it and counts the drop.
    pub fn offer(&self, alert: &Alert) {
        let muted = self.mutes.mutes(alert, &self.host, Ts::now());
        for o in &self.outputs {
            let Some(tx) = &o.tx else { continue };
            if !o.route.matches(alert, &self.host) {
                continue;
            }
            if muted {
                Counters::add(&o.counters.silenced, 1);
                continue;
            }
            // A full queue drops without paying for the copy.
            if tx.is_full() {
                Counters::add(&o.counters.dropped, 1);
                continue;
            }
            match tx.try_send(alert.clone()) {
                Ok(()) => {}
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                    Counters::add(&o.counters.dropped, 1);
                }
            }
        }
    }

    /// The silences and acks in force; the binary refreshes them from the store.
    pub fn mutes(&self) -> Arc<mutes::Mutes> {
        self.mutes.clone()
    }

    /// Every output's figures.
    pub fn counts(&self) -> Vec<OutputCounts> {
        self.view().counts()
    }

    /// A handle on the figures that outlives nothing: for `/health` and `/metrics`.
    pub fn view(&self) -> CountsView {
        CountsView(Arc::new(
            self.outputs
                .iter()
                .map(|o| (o.name.clone(), o.kind, o.counters.clone()))
                .collect(),
        ))
    }

    /// The stage that raises `delivery.dropped` once per drop episode of each output.
    pub fn drop_watch(&self) -> DropWatch {
        DropWatch::new(
            self.outputs
                .iter()
                .map(|o| (o.name.clone(), o.counters.clone()))
                .collect(),
        )
    }

    /// Stops taking alerts and gives what is unsent up to [`DRAIN`] to go; waits for
    /// the workers no longer than that (plus a little).
    pub fn close(&mut self) {
        self.closing.store(true, Ordering::SeqCst);
        for o in &mut self.outputs {
            o.tx = None;
        }
        let until = Instant::now() + DRAIN + Duration::from_millis(300);
        for o in &mut self.outputs {
            while o.thread.as_ref().is_some_and(|t| !t.is_finished()) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
            // A worker still stuck in a send past the deadline is left to end by itself.
            if let Some(t) = o.thread.take().filter(JoinHandle::is_finished) {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if self.outputs.iter().any(|o| o.thread.is_some()) {
            self.close();
        }
    }
}

/// A cheap, clonable handle on every output's figures.
#[derive(Clone)]
pub struct CountsView(Arc<Vec<(String, &'static str, Arc<Counters>)>>);

impl CountsView {
    pub fn counts(&self) -> Vec<OutputCounts> {
        self.0
            .iter()
            .map(|(name, kind, c)| OutputCounts {
                name: name.clone(),
                kind: kind.to_string(),
                delivered: c.delivered.load(Ordering::Relaxed),
                failed: c.failed.load(Ordering::Relaxed),
                errors: c.errors.load(Ordering::Relaxed),
                dropped: c.dropped.load(Ordering::Relaxed),
                silenced: c.silenced.load(Ordering::Relaxed),
                queued: c.held.load(Ordering::Relaxed),
                last_error: c
                    .last_error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone(),
            })
            .collect()
    }
}

/// Sends one test alert through the output `cfg` at once (no queue, no retry): what
/// `netsnoop alerts test --output NAME` runs.
pub fn send_test(cfg: &OutputConfig, host: &str) -> Result<(), String> {
    let mut out = outputs::build(cfg).map_err(|e| e.to_string())?;
    let now = Ts::now();
    let alert = Alert {
        host: None,
        id: format!("netsnoop.test/{}/{}", cfg.name, now.micros()),
        kind: "netsnoop.test".into(),
        severity: netsnoop_core::Severity::Info,
        label: None,
        state: netsnoop_core::AlertState::Active,
        first_seen: now,
        last_seen: now,
        subject: netsnoop_core::Subject::host(),
        message: format!(
            "test alert from netsnoop on {host} through output {}",
            cfg.name
        ),
        details: serde_json::json!({ "test": true }),
    };
    let ctx = Context {
        output: cfg.name.clone(),
        host: host.to_string(),
        now,
    };
    out.send(&[alert], &ctx).map_err(|e| match e {
        SendError::Transient(m) => format!("{m} (may work on a retry)"),
        SendError::Permanent(m) => m,
    })
}

/// This host's name, as alerts carry it (the kernel's hostname).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
