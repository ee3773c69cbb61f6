//! The socket attribution source of `run` and `watch`: eBPF, else /proc scans (or the one
//! forced in `[attribution] source`), forwarding its `connection` batches to the pipeline.

use crate::sources::{Outlet, Source, StopFlag};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use netsnoop_core::owner::{OwnerConfig, OwnerSourceKind};
use netsnoop_core::{Degraded, Event};
use netsnoop_linux::sock::{RunningSockSource, SockSourceConfig, start_sock_source};
use std::time::Duration;

/// Batches the source may queue before the pipeline takes them (the start-up dump is one).
const QUEUE_BATCHES: usize = 1024;

pub struct SockEvents {
    kind: OwnerSourceKind,
    rx: Receiver<Vec<Event>>,
    running: Option<RunningSockSource>,
}

pub struct Started {
    pub source: SockEvents,
    pub degraded: Vec<Degraded>,
    /// One line: which source runs and why a better one did not.
    pub note: String,
}

/// Starts the configured source; `Ok(None)` when attribution is off.
pub fn start(cfg: &OwnerConfig) -> anyhow::Result<Option<Started>> {
    if cfg.source == netsnoop_core::owner::OwnerSourceChoice::Off {
        return Ok(None);
    }
    let (tx, rx) = crossbeam_channel::bounded(QUEUE_BATCHES);
    let running = start_sock_source(
        &SockSourceConfig {
            choice: cfg.source,
            ring_buffer_bytes: cfg.ring_buffer_kib.saturating_mul(1024),
            scan_interval: Duration::from_secs(cfg.scan_interval_secs),
        },
        &tx,
    )?;
    let degraded = match running.kind {
        OwnerSourceKind::Ebpf => Vec::new(),
        OwnerSourceKind::ProcNet => vec![Degraded::NoSocketEbpf],
    };
    Ok(Some(Started {
        note: running.summary(),
        degraded,
        source: SockEvents {
            kind: running.kind,
            rx,
            running: Some(running),
        },
    }))
}

impl Source for SockEvents {
    fn name(&self) -> String {
        format!("attribution ({})", self.kind)
    }

    fn run(mut self: Box<Self>, out: &mut Outlet, stop: &StopFlag) -> anyhow::Result<()> {
        while !stop.is_stopped() {
            match self.rx.recv_timeout(Duration::from_millis(100)) {
                Ok(batch) => {
                    if out.send(batch, netsnoop_core::Ts::now()).is_err() {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.running.take();
        Ok(())
    }
}
