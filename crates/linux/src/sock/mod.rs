//! Socket attribution: which process owns each connection. Best first:
//!
//! - eBPF (`bpf/sock.bpf.c`, `loader.rs`, `wire.rs`, `source.rs`), BTF tracepoints only:
//!   `inet_sock_set_state` (connect: the process at SYN_SENT, reported once the tuple is
//!   complete; listen; close) and `sock_send_length`/`sock_recv_length` (the first use of
//!   an accepted socket, UDP sends), each record with the 5-tuple, netns, tgid with its
//!   leader's comm, uid and cgroup id at that moment;
//! - /proc (`procnet.rs`): the /proc/net tables mapped to pids by a /proc fd scan, every
//!   interval; also the start-up dump of the sockets already open under eBPF.
//!
//! Both send `Event::Connection`; the pipeline's owner table (core `owner`) joins them to
//! flows.

mod loader;
mod procnet;
mod source;
mod stats;
mod wire;

pub use crate::exec::ebpf::EbpfUnavailable;
pub use loader::unavailable_at_build;
pub use procnet::{ProcNetScan, own_netns};
pub use source::{EbpfSockSource, LOSS_SOURCE};
pub use stats::{SockCounters, SockStats};
pub use wire::{RawSock, RawSockKind, SockWireError, parse as decode_record};

use crossbeam_channel::Sender;
use netsnoop_core::Event;
use netsnoop_core::owner::{OwnerSourceChoice, OwnerSourceKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Settings of the attribution source (`[attribution]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SockSourceConfig {
    pub choice: OwnerSourceChoice,
    /// eBPF ring buffer size in bytes; a record is 88 bytes (default 4 MiB).
    pub ring_buffer_bytes: u32,
    /// How often the /proc fallback scans.
    pub scan_interval: Duration,
}

impl Default for SockSourceConfig {
    fn default() -> Self {
        SockSourceConfig {
            choice: OwnerSourceChoice::Auto,
            ring_buffer_bytes: 4 << 20,
            scan_interval: Duration::from_secs(2),
        }
    }
}

/// The attribution source could not start as asked.
#[derive(Debug, thiserror::Error)]
pub enum SockSourceError {
    #[error("socket attribution forced to ebpf, which cannot run: {0}; use `source = \"auto\"`")]
    EbpfForced(EbpfUnavailable),
    #[error("socket attribution is off")]
    Off,
    #[error("could not start the socket attribution thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// The running source; dropping it stops its thread (and detaches the programs).
pub struct RunningSockSource {
    pub kind: OwnerSourceKind,
    /// Why eBPF was passed over, when it was.
    pub passed_over: Option<EbpfUnavailable>,
    /// Optional eBPF tracepoints this kernel lacks.
    pub missing: Vec<String>,
    pub stats: Arc<SockStats>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RunningSockSource {
    /// One line for the banner: what runs, and why the better source does not.
    pub fn summary(&self) -> String {
        match (&self.kind, &self.passed_over) {
            (OwnerSourceKind::Ebpf, _) if self.missing.is_empty() => {
                "socket attribution: ebpf (connect, accept, UDP send, state changes)".into()
            }
            (OwnerSourceKind::Ebpf, _) => format!(
                "socket attribution: ebpf without {} (kernel older than 6.3: accepted sockets \
                 and UDP are attributed from the start-up dump only)",
                self.missing.join(", ")
            ),
            (kind, Some(why)) => format!("socket attribution: {kind} (ebpf passed over: {why})"),
            (kind, None) => format!("socket attribution: {kind}"),
        }
    }

    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for RunningSockSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the best source the choice allows. Under eBPF the sockets already open are
/// dumped once from /proc after the programs are attached, so none falls in between.
pub fn start_sock_source(
    cfg: &SockSourceConfig,
    out: &Sender<Vec<Event>>,
) -> Result<RunningSockSource, SockSourceError> {
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(SockStats::default());
    let ebpf = match cfg.choice {
        OwnerSourceChoice::Off => return Err(SockSourceError::Off),
        OwnerSourceChoice::ProcNet => None,
        OwnerSourceChoice::Ebpf => {
            Some(EbpfSockSource::load(cfg.ring_buffer_bytes).map_err(SockSourceError::EbpfForced)?)
        }
        OwnerSourceChoice::Auto => match EbpfSockSource::load(cfg.ring_buffer_bytes) {
            Ok(s) => Some(s),
            Err(why) => {
                return start_proc_net(cfg, out, stop, stats, Some(why));
            }
        },
    };
    let Some(src) = ebpf else {
        return start_proc_net(cfg, out, stop, stats, None);
    };
    let mut dump = ProcNetScan::new();
    let existing = dump.scan(netsnoop_core::Ts::now(), &stats);
    if !existing.is_empty() {
        let _ = out.send(existing);
    }
    let missing = src.missing().to_vec();
    let thread = source::spawn_reader(src, out.clone(), stats.clone(), stop.clone())?;
    Ok(RunningSockSource {
        kind: OwnerSourceKind::Ebpf,
        passed_over: None,
        missing,
        stats,
        stop,
        thread: Some(thread),
    })
}

fn start_proc_net(
    cfg: &SockSourceConfig,
    out: &Sender<Vec<Event>>,
    stop: Arc<AtomicBool>,
    stats: Arc<SockStats>,
    passed_over: Option<EbpfUnavailable>,
) -> Result<RunningSockSource, SockSourceError> {
    let (out, st, counters, every) = (out.clone(), stop.clone(), stats.clone(), cfg.scan_interval);
    let thread = std::thread::Builder::new()
        .name("sock-procnet".into())
        .spawn(move || {
            let mut scan = ProcNetScan::new();
            while !st.load(Ordering::Relaxed) {
                let batch = scan.scan(netsnoop_core::Ts::now(), &counters);
                if !batch.is_empty() && out.send(batch).is_err() {
                    return;
                }
                // Short naps, so a stop request is seen within 100 ms.
                let mut left = every;
                while !left.is_zero() && !st.load(Ordering::Relaxed) {
                    let nap = left.min(Duration::from_millis(100));
                    std::thread::sleep(nap);
                    left -= nap;
                }
            }
        })?;
    Ok(RunningSockSource {
        kind: OwnerSourceKind::ProcNet,
        passed_over,
        missing: Vec::new(),
        stats,
        stop,
        thread: Some(thread),
    })
}
