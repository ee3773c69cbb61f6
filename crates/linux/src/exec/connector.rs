//! The proc connector backend: the netlink proc connector (fork, exec, exit, uid, comm),
//! its socket guarded by a dedicated reader thread that never touches /proc and enriched on
//! a second thread, with the /proc polling backend (`poll.rs`) as its fallback.

use super::enrich::Enricher;
use super::message::{RawEvent, decode};
use super::netlink::BufferSize;
use super::netlink::ConnectorSocket;
use super::stats::{ExecCounters, ExecStats};
use super::{intake, poll, priority};
use crate::proc_pid::ProcFs;
use crossbeam_channel::{Receiver, Sender};
use netsnoop_core::Event;
use netsnoop_core::process::config::{SourceConfig, TableConfig};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Why exact exec events are not available and /proc is polled instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorUnavailable {
    #[error("polling was asked for in the config ([process.source] force_polling = true)")]
    Forced,
    #[error(
        "the kernel has no proc connector ({0}); a kernel built with CONFIG_PROC_EVENTS gives exact exec events"
    )]
    NotInKernel(String),
    #[error(
        "no permission to subscribe to process events: run as root or `setcap cap_net_admin+eip` the binary"
    )]
    PermissionDenied,
    #[error(
        "the proc connector did not answer: NetSnoop runs outside the host's user or PID namespace; run it on the host (containers: --pid=host --privileged)"
    )]
    NoAnswer,
    #[error("the proc connector socket failed: {0}")]
    Socket(String),
}

/// How exec events are being collected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecMode {
    Connector {
        buffer: BufferSize,
    },
    /// Degraded: short-lived processes are missed (and counted as lost).
    Polling {
        reason: ConnectorUnavailable,
    },
}

/// A running exec source. Dropping it stops its threads.
pub struct ExecSource {
    mode: ExecMode,
    stats: Arc<ExecStats>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl ExecSource {
    /// Starts the proc connector, or the /proc poller when the connector is unavailable
    /// (see [`ExecSource::mode`]). Events go to `out` in batches: first the processes
    /// already running (`Existing`), then fork/exec/exit/uid/comm events and losses.
    /// Returns once the running processes have been sent, so `out` must have room for
    /// them or be read from another thread.
    pub fn start(
        source: &SourceConfig,
        table: &TableConfig,
        out: Sender<Vec<Event>>,
    ) -> io::Result<ExecSource> {
        if source.force_polling {
            return ExecSource::polling(source, table, out, ConnectorUnavailable::Forced);
        }
        match open_connector(source.receive_buffer_bytes) {
            Ok(opened) => ExecSource::run_connector(opened, source, table, out),
            Err(reason) => ExecSource::polling(source, table, out, reason),
        }
    }

    /// The proc connector or nothing: for source selection, which handles the fallback.
    pub fn connector(
        source: &SourceConfig,
        table: &TableConfig,
        out: Sender<Vec<Event>>,
    ) -> Result<ExecSource, ConnectorUnavailable> {
        let opened = open_connector(source.receive_buffer_bytes)?;
        ExecSource::run_connector(opened, source, table, out)
            .map_err(|e| ConnectorUnavailable::Socket(e.to_string()))
    }

    /// The /proc poller, saying why (printed once, at start).
    pub fn polling(
        source: &SourceConfig,
        table: &TableConfig,
        out: Sender<Vec<Event>>,
        reason: ConnectorUnavailable,
    ) -> io::Result<ExecSource> {
        tracing::warn!("degraded: polling /proc for new processes because {reason}");
        let (stats, stop, seeded_tx, seeded_rx) = shared();
        let enr = Enricher::new(ProcFs::default(), table, out, stats.clone(), "proc_poll");
        let interval = Duration::from_millis(source.poll_interval_ms.max(10));
        let st = stop.clone();
        let thread = std::thread::Builder::new()
            .name("exec-poll".into())
            .spawn(move || poll::run(enr, interval, st, seeded_tx))?;
        Ok(ExecSource::seeded(
            ExecMode::Polling { reason },
            stats,
            stop,
            vec![thread],
            seeded_rx,
        ))
    }

    fn run_connector(
        (socket, buffer): (ConnectorSocket, BufferSize),
        source: &SourceConfig,
        table: &TableConfig,
        out: Sender<Vec<Event>>,
    ) -> io::Result<ExecSource> {
        let (stats, stop, seeded_tx, seeded_rx) = shared();
        let (reader, feed) = intake::share(socket, source.queue_capacity, stats.clone());
        let nice = source.thread_nice;
        let st = stop.clone();
        let mut threads = vec![
            std::thread::Builder::new()
                .name("exec-reader".into())
                .spawn(move || {
                    raise_priority(nice);
                    reader.run(&st)
                })?,
        ];
        let enr = Enricher::new(
            ProcFs::default(),
            table,
            out,
            stats.clone(),
            "proc_connector",
        );
        let st = stop.clone();
        threads.push(
            std::thread::Builder::new()
                .name("exec-enrich".into())
                .spawn(move || {
                    raise_priority(nice);
                    enr.run(feed, st, seeded_tx)
                })?,
        );
        Ok(ExecSource::seeded(
            ExecMode::Connector { buffer },
            stats,
            stop,
            threads,
            seeded_rx,
        ))
    }

    /// Waits for the seed: from then on every process started is reported as new, and
    /// enrichment is not running behind the seed scan.
    fn seeded(
        mode: ExecMode,
        stats: Arc<ExecStats>,
        stop: Arc<AtomicBool>,
        threads: Vec<JoinHandle<()>>,
        seeded: Receiver<()>,
    ) -> ExecSource {
        let _ = seeded.recv_timeout(Duration::from_secs(30));
        ExecSource {
            mode,
            stats,
            stop,
            threads,
        }
    }

    pub fn mode(&self) -> &ExecMode {
        &self.mode
    }

    pub fn counters(&self) -> ExecCounters {
        self.stats.snapshot()
    }

    /// The live counters, for a metrics endpoint.
    pub fn stats(&self) -> Arc<ExecStats> {
        self.stats.clone()
    }

    /// Stops the threads and waits for them (at most a few hundred milliseconds unless the
    /// pipeline has stopped reading without hanging up).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for ExecSource {
    fn drop(&mut self) {
        self.halt();
    }
}

fn raise_priority(nice: i32) {
    if nice != 0
        && let Err(e) = priority::set_thread_nice(nice)
    {
        tracing::info!("exec source threads keep normal priority (nice {nice} refused: {e})");
    }
}

type Shared = (Arc<ExecStats>, Arc<AtomicBool>, Sender<()>, Receiver<()>);

fn shared() -> Shared {
    let (tx, rx) = crossbeam_channel::bounded(1);
    (Arc::default(), Arc::default(), tx, rx)
}

/// Opens, subscribes and waits for the kernel's ack, which proves events will flow.
fn open_connector(buffer: usize) -> Result<(ConnectorSocket, BufferSize), ConnectorUnavailable> {
    let classify = |e: io::Error| match e.raw_os_error() {
        Some(libc::EPROTONOSUPPORT | libc::EAFNOSUPPORT) => {
            ConnectorUnavailable::NotInKernel(e.to_string())
        }
        Some(libc::EPERM | libc::EACCES) => ConnectorUnavailable::PermissionDenied,
        _ => ConnectorUnavailable::Socket(e.to_string()),
    };
    let (socket, size) = ConnectorSocket::open(buffer).map_err(classify)?;
    socket
        .set_timeout(Duration::from_millis(200))
        .map_err(classify)?;
    socket.subscribe().map_err(classify)?;
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut buf = vec![0u8; 8192];
    while Instant::now() < deadline {
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(classify(e)),
        };
        // Events before the ack are covered by the /proc seed that follows.
        for m in decode(&buf[..n]).into_iter().flatten() {
            match m.event {
                RawEvent::Ack { err: 0 } => return Ok((socket, size)),
                RawEvent::Ack { err } if err as i32 == libc::EPERM => {
                    return Err(ConnectorUnavailable::PermissionDenied);
                }
                RawEvent::Ack { err } => {
                    return Err(ConnectorUnavailable::Socket(
                        io::Error::from_raw_os_error(err as i32).to_string(),
                    ));
                }
                _ => {}
            }
        }
    }
    Err(ConnectorUnavailable::NoAnswer)
}
