//! The exec event source of `run` and `watch`: picks eBPF, the netlink proc connector or
//! /proc polling (the best that starts, or the one forced in `[process.source]`) and
//! forwards its batches to the pipeline.

use crate::sources::{Outlet, Source, StopFlag};
use anyhow::Context;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use netsnoop_core::process::ProcessConfig;
use netsnoop_core::{Degraded, Event};
use netsnoop_linux::exec::{ExecSourceKind, RunningExecSource, start_exec_source};
use std::time::Duration;

/// Batches the exec source may queue before the pipeline takes them. The seed of every
/// running process goes through here before the pipeline starts.
const QUEUE_BATCHES: usize = 1024;

pub struct ExecEvents {
    kind: ExecSourceKind,
    rx: Receiver<Vec<Event>>,
    /// Keeps the running source alive; dropping it stops its threads.
    running: Option<RunningExecSource>,
}

/// What starting the exec source found out, for the banner and /health.
pub struct Started {
    pub source: ExecEvents,
    pub degraded: Vec<Degraded>,
    /// One line: which source runs and why better ones did not.
    pub note: String,
}

/// Starts the configured exec source (`[process.source] exec_source`, which
/// `--exec-source` overrides), falling back as `auto` allows.
pub fn start(cfg: &ProcessConfig) -> anyhow::Result<Started> {
    let (tx, rx) = crossbeam_channel::bounded(QUEUE_BATCHES);
    let selected = start_exec_source(&cfg.source, &cfg.table, &tx).context("no exec source")?;
    let mut degraded = match selected.kind {
        ExecSourceKind::Ebpf => Vec::new(),
        ExecSourceKind::Netlink => vec![Degraded::NoEbpf],
        ExecSourceKind::Poll => vec![Degraded::NoEbpf, Degraded::NoProcConnector],
    };
    if !netsnoop_linux::caps::has(netsnoop_linux::caps::CAP_SYS_PTRACE) {
        degraded.push(Degraded::NoPtrace);
    }
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
                    if out.send(batch, netsnoop_core::Ts::now()).is_err() {
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
