//! The exec event source of `run` and `watch`: picks eBPF, the netlink proc connector or
//! /proc polling (the best that starts, or the one forced in `[process.source]`) and
//! forwards its batches to the pipeline.

use crate::sources::{Outlet, Source, StopFlag};
use anyhow::Context;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use netsnoop_core::process::ProcessConfig;
use netsnoop_core::{Degraded, Event};
use netsnoop_linux::ebpf::{
    EbpfConfig, EbpfExecSource, ExecSourceChoice, ExecSourceKind, SourceHandle, select_exec_source,
};
use netsnoop_linux::exec::{ConnectorUnavailable, ExecSource, running_processes};
use std::time::Duration;

/// Batches the exec source may queue before the pipeline takes them. The seed of every
/// running process goes through here before the pipeline starts.
const QUEUE_BATCHES: usize = 1024;

/// Keeps the running source alive; dropping it stops its threads.
enum Running {
    Netlink(#[allow(dead_code)] ExecSource),
    Ebpf(#[allow(dead_code)] SourceHandle),
}

pub struct ExecEvents {
    kind: ExecSourceKind,
    rx: Receiver<Vec<Event>>,
    running: Option<Running>,
}

/// What starting the exec source found out, for the banner and /health.
pub struct Started {
    pub source: ExecEvents,
    pub degraded: Vec<Degraded>,
    /// One line: which source runs and why better ones did not.
    pub note: String,
}

/// Starts the configured exec source, falling back as `exec_source = "auto"` allows.
pub fn start(cfg: &ProcessConfig) -> anyhow::Result<Started> {
    let choice: ExecSourceChoice = cfg
        .source
        .exec_source
        .parse()
        .map_err(|e: String| anyhow::anyhow!("process.source.exec_source: {e}"))?;
    let (tx, rx) = crossbeam_channel::bounded(QUEUE_BATCHES);
    let selected = select_exec_source(choice, |kind| match kind {
        ExecSourceKind::Ebpf => {
            let loaded = EbpfExecSource::load(&EbpfConfig::default()).map_err(|e| e.to_string())?;
            // eBPF sends no seed of its own: send the running processes first.
            let seed = running_processes(&cfg.table);
            for batch in seed.chunks(512) {
                tx.send(batch.to_vec()).map_err(|e| e.to_string())?;
            }
            loaded
                .spawn(tx.clone())
                .map(Running::Ebpf)
                .map_err(|e| e.to_string())
        }
        ExecSourceKind::Netlink => ExecSource::connector(&cfg.source, &cfg.table, tx.clone())
            .map(Running::Netlink)
            .map_err(|e| e.to_string()),
        ExecSourceKind::Poll => {
            let reason = if choice == ExecSourceChoice::Poll {
                ConnectorUnavailable::Forced
            } else {
                ConnectorUnavailable::Socket("the connector did not start".into())
            };
            ExecSource::polling(&cfg.source, &cfg.table, tx.clone(), reason)
                .map(Running::Netlink)
                .map_err(|e| e.to_string())
        }
    })
    .context("no exec source")?;
    let degraded = if selected.kind == ExecSourceKind::Poll {
        vec![Degraded::NoProcConnector]
    } else {
        Vec::new()
    };
    Ok(Started {
        note: selected.summary(),
        degraded,
        source: ExecEvents {
            kind: selected.kind,
            rx,
            running: Some(selected.source),
        },
    })
}

impl Source for ExecEvents {
    fn name(&self) -> String {
        format!("exec ({})", self.kind)
    }

    fn run(mut self: Box<Self>, out: &mut Outlet, stop: &StopFlag) -> anyhow::Result<()> {
        while !stop.is_stopped() {
            match self.rx.recv_timeout(Duration::from_millis(100)) {
                Ok(batch) => {
                    if out.send(batch, crate::time::now()).is_err() {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        // Stops the source's threads before the outlet closes.
        self.running.take();
        Ok(())
    }
}
