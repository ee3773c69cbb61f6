//! The eBPF exec source's threads: a reader drains the ring buffer and turns kernel-side
//! drops into losses; the exec source's enricher (shared with the proc connector) seeds
//! the processes already running, adds ancestry, resyncs from /proc after a loss, batches.

use super::convert::{BootClock, to_process_event};
use super::loader::{EbpfUnavailable, Loaded, load};
use super::wire::parse;
use crate::exec::enrich::Enricher;
use crate::exec::handoff::{Feeder, handoff};
use crate::exec::message::{Captured, RawEvent, RawMsg};
use crate::exec::reader::RawItem;
use crate::exec::stats::{ExecCounters, ExecStats};
use crate::proc_pid::{ProcFs, UserNames};
use crossbeam_channel::Sender;
use netsnoop_core::Event;
use netsnoop_core::process::config::TableConfig;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::time::{ClockId, clock_gettime};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The `source` of this source's [`netsnoop_core::Loss`] events; the process monitor
/// counts losses of sources named `proc*` towards `process.events_lost`.
pub const LOSS_SOURCE: &str = "proc_ebpf";

/// How long one wait for records lasts. The kernel side wakes us only when 64 KiB are
/// waiting, so this bounds the delivery delay of a quiet stream (and of a stop request).
const WAIT: Duration = Duration::from_millis(25);
/// How often the kernel's drop counter and the boot-clock offset are re-read.
const HOUSEKEEPING: Duration = Duration::from_secs(1);
/// Most records gathered from the ring buffer before they are handed to the enricher.
const HAND_OVER_AT: usize = 1024;

/// Settings of the eBPF exec source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EbpfConfig {
    /// Ring buffer size in bytes (rounded up to a power of two, at least a page). A typical
    /// exec record is 350 to 400 bytes; the default 16 MiB holds about 40,000 of them,
    /// seconds of a storm even while the pipeline stalls.
    pub ring_buffer_bytes: u32,
    /// Events queued between the ring-buffer reader and the enricher (default 65536).
    pub queue_capacity: usize,
}

impl Default for EbpfConfig {
    fn default() -> Self {
        EbpfConfig {
            ring_buffer_bytes: 16 << 20,
            queue_capacity: 65_536,
        }
    }
}

/// The exec program, loaded and attached, not yet delivering: loading is where the
/// verifier and permissions have their say, so source selection can fall back on failure.
pub struct EbpfExecSource {
    loaded: Loaded,
    config: EbpfConfig,
}

/// The running source; dropping it stops the threads and detaches the programs.
pub struct SourceHandle {
    stop: Arc<AtomicBool>,
    stats: Arc<ExecStats>,
    threads: Vec<JoinHandle<()>>,
}

impl EbpfExecSource {
    pub fn load(config: &EbpfConfig) -> Result<Self, EbpfUnavailable> {
        let bytes = config.ring_buffer_bytes.max(4096).next_power_of_two();
        Ok(EbpfExecSource {
            loaded: load(bytes)?,
            config: config.clone(),
        })
    }

    /// Starts delivering batches to `out` and returns once the processes already running
    /// (`Existing`) are sent; then fork, exec and exit events and `Event::Loss` (source
    /// [`LOSS_SOURCE`]) for anything the kernel could not deliver.
    pub fn spawn(
        self,
        table: &TableConfig,
        out: Sender<Vec<Event>>,
    ) -> std::io::Result<SourceHandle> {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(ExecStats::default());
        let (raw_tx, raw_rx) = handoff(self.config.queue_capacity.max(16));
        let enricher = Enricher::new(ProcFs::default(), table, out, stats.clone(), LOSS_SOURCE);
        let mut threads = Vec::new();
        let st = stop.clone();
        let (seeded_tx, seeded_rx) = crossbeam_channel::bounded(1);
        threads.push(
            std::thread::Builder::new()
                .name("exec-enrich".into())
                .spawn(move || enricher.run(raw_rx, st, seeded_tx))?,
        );
        let (st, counters) = (stop.clone(), stats.clone());
        threads.push(
            std::thread::Builder::new()
                .name("exec-ebpf".into())
                .spawn(move || read(self.loaded, &raw_tx, &counters, &st))?,
        );
        // Like the proc connector source: return once the running processes are sent, so
        // the pipeline knows every parent before the first new child arrives.
        let _ = seeded_rx.recv_timeout(Duration::from_secs(30));
        Ok(SourceHandle {
            stop,
            stats,
            threads,
        })
    }
}

impl SourceHandle {
    pub fn counters(&self) -> ExecCounters {
        self.stats.snapshot()
    }

    /// The live counters, for a metrics endpoint.
    pub fn stats(&self) -> Arc<ExecStats> {
        self.stats.clone()
    }

    /// Whether a thread has ended (the pipeline went away, or the source failed).
    pub fn is_finished(&self) -> bool {
        self.threads.iter().any(|t| t.is_finished())
    }
}

impl Drop for SourceHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn read(loaded: Loaded, tx: &Feeder<RawItem>, stats: &ExecStats, stop: &AtomicBool) {
    let Loaded {
        ebpf: _programs,
        mut events,
        events_fd,
        lost,
    } = loaded;
    let mut users = UserNames::new();
    let mut clock = boot_clock();
    let mut lost_reported = 0u64;
    let mut last_housekeeping = Instant::now();
    let mut batch = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [PollFd::new(events_fd.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(WAIT).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                tracing::error!("eBPF exec source: waiting on the ring buffer failed: {e}");
                stats.fatal.store(true, Ordering::Relaxed);
                return;
            }
        }
        while let Some(record) = events.next() {
            stats.messages.fetch_add(1, Ordering::Relaxed);
            let item = match parse(&record) {
                Ok(raw) => RawItem::Msg(RawMsg {
                    cpu: 0,
                    seq: 0,
                    ts_ns: 0,
                    event: RawEvent::Captured(Captured(Box::new(to_process_event(
                        raw, clock, &mut users,
                    )))),
                }),
                Err(e) => {
                    stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!("eBPF exec source: dropped a record: {e}");
                    RawItem::Lost {
                        count: 1,
                        reason: "malformed ring buffer record",
                    }
                }
            };
            drop(record);
            batch.push(item);
            if batch.len() >= HAND_OVER_AT && !send(tx, &mut batch, stop) {
                return;
            }
        }
        if !send(tx, &mut batch, stop) {
            return;
        }
        if last_housekeeping.elapsed() >= HOUSEKEEPING {
            last_housekeeping = Instant::now();
            clock = boot_clock();
            let total: u64 = lost.get(&0, 0).map(|v| v.iter().sum()).unwrap_or(0);
            if total > lost_reported {
                let count = total - lost_reported;
                lost_reported = total;
                stats.overruns.fetch_add(count, Ordering::Relaxed);
                batch.push(RawItem::Lost {
                    count,
                    reason: "eBPF ring buffer full",
                });
                if !send(tx, &mut batch, stop) {
                    return;
                }
            }
        }
    }
}

/// Hands `batch` over, waiting while the enricher is behind (the ring buffer absorbs the
/// backlog, and counts what it cannot hold), but keeps noticing a stop request. False when
/// it should end.
fn send(tx: &Feeder<RawItem>, batch: &mut Vec<RawItem>, stop: &AtomicBool) -> bool {
    loop {
        if tx.send(batch).is_err() {
            return false;
        }
        if batch.is_empty() {
            return true;
        }
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Re-read each second: the wall clock can be stepped (NTP, suspend) while boot time runs on.
pub(crate) fn boot_clock() -> BootClock {
    let us = |id| {
        clock_gettime(id)
            .map(|t| t.tv_sec() * 1_000_000 + t.tv_nsec() / 1_000)
            .unwrap_or(0)
    };
    BootClock {
        realtime_minus_boot_us: us(ClockId::CLOCK_REALTIME) - us(ClockId::CLOCK_BOOTTIME),
    }
}
