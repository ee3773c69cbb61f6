//! The eBPF exec source's thread: drains the ring buffer into batches of events, and turns
//! kernel-side drops (and unparsable records) into [`Loss`] events.

use super::convert::{BootClock, UserNames, to_process_event};
use super::loader::{EbpfUnavailable, Loaded, load};
use super::wire::parse;
use crossbeam_channel::{SendTimeoutError, Sender};
use netsnoop_core::{Event, Loss, Ts};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::time::{ClockId, clock_gettime};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The `source` of this source's [`Loss`] events; the process monitor counts losses of
/// sources named `proc*` towards `process.events_lost`.
pub const LOSS_SOURCE: &str = "proc_ebpf";

/// How long one wait for records lasts. The kernel side wakes us only when 64 KiB are
/// waiting, so this bounds the delivery delay of a quiet stream (and of a stop request).
const WAIT: Duration = Duration::from_millis(25);
/// How often the kernel's drop counter and the boot-clock offset are re-read.
const HOUSEKEEPING: Duration = Duration::from_secs(1);

/// Settings of the eBPF exec source (config section `[process.ebpf]` in the binary).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EbpfConfig {
    /// Ring buffer size in bytes (a power of two, at least a page). A typical exec record
    /// is 350 to 400 bytes; the default 16 MiB holds about 40,000 of them, several seconds
    /// of a storm even if the pipeline stalls.
    pub ring_buffer_bytes: u32,
    /// Most events per batch sent to the pipeline.
    pub batch_max: usize,
}

impl Default for EbpfConfig {
    fn default() -> Self {
        EbpfConfig {
            ring_buffer_bytes: 16 << 20,
            batch_max: 512,
        }
    }
}

/// The exec program, loaded and attached, not yet delivering: loading is where the
/// verifier and permissions have their say, so source selection can fall back on failure.
pub struct EbpfExecSource {
    loaded: Loaded,
    config: EbpfConfig,
}

/// Stops the source's thread (and detaches the programs) when dropped.
pub struct SourceHandle {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EbpfExecSource {
    pub fn load(config: &EbpfConfig) -> Result<Self, EbpfUnavailable> {
        let bytes = config.ring_buffer_bytes.max(4096).next_power_of_two();
        Ok(EbpfExecSource {
            loaded: load(bytes)?,
            config: config.clone(),
        })
    }

    /// Starts delivering batches of `Event::Process` (fork, exec, exit) and `Event::Loss`.
    pub fn spawn(self, tx: Sender<Vec<Event>>) -> std::io::Result<SourceHandle> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("exec-ebpf".into())
            .spawn(move || run(self, tx, &flag))?;
        Ok(SourceHandle {
            stop,
            thread: Some(thread),
        })
    }
}

impl SourceHandle {
    /// Whether the thread has ended (the pipeline went away, or the source failed).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for SourceHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(source: EbpfExecSource, tx: Sender<Vec<Event>>, stop: &AtomicBool) {
    let EbpfExecSource { loaded, config } = source;
    let Loaded {
        ebpf: _programs,
        mut events,
        events_fd,
        lost,
    } = loaded;
    let mut users = UserNames::default();
    let mut clock = boot_clock();
    let mut lost_reported = 0u64;
    let mut malformed = 0u64;
    let mut last_housekeeping = Instant::now();
    let mut batch = Vec::with_capacity(config.batch_max);
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [PollFd::new(events_fd.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(WAIT).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                tracing::error!("eBPF exec source: waiting on the ring buffer failed: {e}");
                return;
            }
        }
        while let Some(record) = events.next() {
            match parse(&record) {
                Ok(raw) => batch.push(Event::Process(to_process_event(raw, clock, &mut users))),
                Err(e) => {
                    malformed += 1;
                    tracing::warn!("eBPF exec source: dropped a record: {e}");
                }
            }
            drop(record);
            if batch.len() >= config.batch_max && !send(&tx, &mut batch, stop) {
                return;
            }
        }
        if last_housekeeping.elapsed() >= HOUSEKEEPING {
            last_housekeeping = Instant::now();
            clock = boot_clock();
            let total: u64 = lost.get(&0, 0).map(|v| v.iter().sum()).unwrap_or(0);
            if total > lost_reported {
                batch.push(loss(clock, total - lost_reported, "ring buffer full"));
                lost_reported = total;
            }
            if malformed > 0 {
                batch.push(loss(clock, malformed, "malformed record"));
                malformed = 0;
            }
        }
        if !batch.is_empty() && !send(&tx, &mut batch, stop) {
            return;
        }
    }
}

/// Blocks while the pipeline is behind (the ring buffer absorbs the backlog, and counts
/// what it cannot), but keeps noticing a stop request. False when the pipeline is gone.
fn send(tx: &Sender<Vec<Event>>, batch: &mut Vec<Event>, stop: &AtomicBool) -> bool {
    let mut out = std::mem::take(batch);
    loop {
        match tx.send_timeout(out, WAIT) {
            Ok(()) => return true,
            Err(SendTimeoutError::Disconnected(_)) => return false,
            Err(SendTimeoutError::Timeout(back)) if !stop.load(Ordering::Relaxed) => out = back,
            Err(SendTimeoutError::Timeout(_)) => return false,
        }
    }
}

fn loss(clock: BootClock, count: u64, reason: &str) -> Event {
    let now = clock_gettime(ClockId::CLOCK_BOOTTIME)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .map(|ns| clock.ts(ns))
        .unwrap_or(Ts(0));
    Event::Loss(Loss {
        time: now,
        source: LOSS_SOURCE.to_string(),
        count,
        reason: reason.to_string(),
    })
}

/// Re-read each second: the wall clock can be stepped (NTP, suspend) while boot time runs on.
fn boot_clock() -> BootClock {
    let us = |id| {
        clock_gettime(id)
            .map(|t| t.tv_sec() * 1_000_000 + t.tv_nsec() / 1_000)
            .unwrap_or(0)
    };
    BootClock {
        realtime_minus_boot_us: us(ClockId::CLOCK_REALTIME) - us(ClockId::CLOCK_BOOTTIME),
    }
}
