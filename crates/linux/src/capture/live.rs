//! Live capture with libpcap: one thread per interface reading packets, parsing their
//! headers and handing batches to the pipeline. Kernel drops (pcap_stats) and our own
//! drops (pipeline channel full) are counted and reported as `Event::Loss`.

use super::error::CaptureError;
use super::filter::effective_filter;
use crossbeam_channel::{Sender, TrySendError};
use netsnoop_core::net::config::CaptureConfig;
use netsnoop_core::net::parse::{LinkType, parse};
use netsnoop_core::{Event, Loss, Ts};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Counters of one interface, readable while capture runs.
#[derive(Debug, Default)]
struct Counters {
    captured: AtomicU64,
    kernel_dropped: AtomicU64,
    if_dropped: AtomicU64,
    channel_dropped: AtomicU64,
}

/// What one interface has seen and lost so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureStats {
    pub interface: String,
    /// Packets read from the kernel and parsed.
    pub captured: u64,
    /// Dropped by the kernel because its buffer was full (pcap_stats ps_drop).
    pub kernel_dropped: u64,
    /// Dropped by the interface or driver (ps_ifdrop).
    pub if_dropped: u64,
    /// Dropped by us because the pipeline's channel was full.
    pub channel_dropped: u64,
}

/// A running capture. Dropping it stops the threads (a drop guard), `stop` also joins.
pub struct LiveCapture {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    counters: Vec<(String, Arc<Counters>)>,
    filter: Option<String>,
}

fn wall_now() -> Ts {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Ts(d.as_micros() as i64)
}

impl LiveCapture {
    /// Opens every configured interface (so permission and filter errors come back
    /// here, typed) and starts one capture thread each. `own_listen` is NetSnoop's
    /// API address, excluded from capture when `exclude_own_traffic` is set.
    pub fn start(
        cfg: &CaptureConfig,
        own_listen: Option<SocketAddr>,
        tx: Sender<Vec<Event>>,
    ) -> Result<LiveCapture, CaptureError> {
        let own = own_listen.filter(|_| cfg.exclude_own_traffic);
        let filter = effective_filter(cfg.filter.as_deref(), own);
        let mut opened = Vec::new();
        for name in &cfg.interfaces {
            let cap = open(name, cfg, filter.as_deref())?;
            opened.push((name.clone(), cap));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let mut counters = Vec::new();
        for (index, (name, cap)) in opened.into_iter().enumerate() {
            let c = Arc::new(Counters::default());
            counters.push((name.clone(), c.clone()));
            let worker = Worker {
                name: name.clone(),
                iface: index as u16,
                cap,
                tx: tx.clone(),
                stop: stop.clone(),
                counters: c,
                batch_size: cfg.batch_size.max(1),
                batch_timeout: Duration::from_millis(cfg.batch_timeout_ms.max(1)),
            };
            let handle = std::thread::Builder::new()
                .name(format!("capture:{name}"))
                .spawn(move || worker.run())
                .map_err(|e| CaptureError::Pcap {
                    interface: name.clone(),
                    detail: format!("cannot start capture thread: {e}"),
                })?;
            threads.push(handle);
        }
        Ok(LiveCapture {
            stop,
            threads,
            counters,
            filter,
        })
    }

    /// The BPF filter installed on every interface, if any.
    pub fn filter(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    pub fn stats(&self) -> Vec<CaptureStats> {
        self.counters
            .iter()
            .map(|(name, c)| CaptureStats {
                interface: name.clone(),
                captured: c.captured.load(Ordering::Relaxed),
                kernel_dropped: c.kernel_dropped.load(Ordering::Relaxed),
                if_dropped: c.if_dropped.load(Ordering::Relaxed),
                channel_dropped: c.channel_dropped.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Stops the threads (within one batch timeout) and returns the final counters.
    pub fn stop(mut self) -> Vec<CaptureStats> {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.stats()
    }
}

impl Drop for LiveCapture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn open(
    name: &str,
    cfg: &CaptureConfig,
    filter: Option<&str>,
) -> Result<pcap::Capture<pcap::Active>, CaptureError> {
    let buffer = (u64::from(cfg.buffer_mib) << 20).min(i32::MAX as u64) as i32;
    let mut cap = pcap::Capture::from_device(name)
        .and_then(|c| {
            c.snaplen(cfg.snaplen.min(i32::MAX as u32) as i32)
                .buffer_size(buffer)
                .promisc(cfg.promiscuous)
                .timeout(cfg.batch_timeout_ms.clamp(1, 1000) as i32)
                .open()
        })
        .map_err(|e| CaptureError::from_open(name, &e))?;
    if let Some(expr) = filter {
        cap.filter(expr, true)
            .map_err(|e| CaptureError::BadFilter {
                expr: expr.to_string(),
                detail: e.to_string(),
            })?;
    }
    cap.setnonblock()
        .map_err(|e| CaptureError::from_open(name, &e))
}

struct Worker {
    name: String,
    iface: u16,
    cap: pcap::Capture<pcap::Active>,
    tx: Sender<Vec<Event>>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    batch_size: usize,
    batch_timeout: Duration,
}

/// Losses not yet delivered to the pipeline (they ride with the next batch that is).
#[derive(Default)]
struct PendingLoss {
    channel: u64,
    kernel: u64,
    interface: u64,
}

impl Worker {
    fn run(mut self) {
        let link = LinkType::from_dlt(self.cap.get_datalink().0 as u32);
        let source = format!("capture:{}", self.name);
        let mut batch: Vec<Event> = Vec::with_capacity(self.batch_size);
        let mut batch_started = Instant::now();
        let mut last_stats = Instant::now();
        let (mut seen_drop, mut seen_ifdrop) = (0u32, 0u32);
        let mut pending = PendingLoss::default();
        while !self.stop.load(Ordering::Relaxed) {
            match self.cap.next_packet() {
                Ok(p) => {
                    let ts = p.header.ts;
                    let time = Ts(ts.tv_sec * 1_000_000 + ts.tv_usec);
                    if batch.is_empty() {
                        batch_started = Instant::now();
                    }
                    batch.push(Event::Packet(parse(
                        link,
                        p.data,
                        p.header.len,
                        time,
                        self.iface,
                    )));
                    self.counters.captured.fetch_add(1, Ordering::Relaxed);
                }
                Err(pcap::Error::TimeoutExpired) => {
                    super::wait::readable(self.cap.as_raw_fd(), self.batch_timeout);
                }
                Err(e) => {
                    tracing::error!(interface = %self.name, error = %e, "capture stopped");
                    break;
                }
            }
            if last_stats.elapsed() >= Duration::from_secs(1) {
                last_stats = Instant::now();
                if let Ok(st) = self.cap.stats() {
                    // Counters are 32-bit in libpcap and wrap; wrapping_sub handles it.
                    let (d, i) = (
                        st.dropped.wrapping_sub(seen_drop),
                        st.if_dropped.wrapping_sub(seen_ifdrop),
                    );
                    (seen_drop, seen_ifdrop) = (st.dropped, st.if_dropped);
                    pending.kernel += u64::from(d);
                    pending.interface += u64::from(i);
                    self.counters
                        .kernel_dropped
                        .fetch_add(u64::from(d), Ordering::Relaxed);
                    self.counters
                        .if_dropped
                        .fetch_add(u64::from(i), Ordering::Relaxed);
                }
            }
            let has_loss = pending.kernel + pending.interface + pending.channel > 0;
            let due = batch.len() >= self.batch_size
                || ((!batch.is_empty() || has_loss)
                    && batch_started.elapsed() >= self.batch_timeout);
            if due {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(self.batch_size));
                if !self.send(full, &source, &mut pending) {
                    break;
                }
                batch_started = Instant::now();
            }
        }
        if !batch.is_empty() {
            self.send(batch, &source, &mut pending);
        }
    }

    /// Sends a batch with any undelivered losses in front. Returns false when the
    /// pipeline is gone.
    fn send(&self, mut batch: Vec<Event>, source: &str, pending: &mut PendingLoss) -> bool {
        let now = wall_now();
        let losses = [
            (
                pending.kernel,
                "kernel buffer full (pcap ps_drop); raise network.capture.buffer_mib",
            ),
            (
                pending.interface,
                "dropped by the interface or driver (pcap ps_ifdrop)",
            ),
            (pending.channel, "pipeline busy: capture channel full"),
        ];
        let mut front: Vec<Event> = losses
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, reason)| {
                Event::Loss(Loss {
                    time: now,
                    source: source.to_string(),
                    count: *n,
                    reason: reason.to_string(),
                })
            })
            .collect();
        if !front.is_empty() {
            front.append(&mut batch);
            batch = front;
        }
        let packets = batch
            .iter()
            .filter(|e| matches!(e, Event::Packet(_)))
            .count() as u64;
        match self.tx.try_send(batch) {
            Ok(()) => {
                *pending = PendingLoss::default();
                true
            }
            Err(TrySendError::Full(_)) => {
                pending.channel += packets;
                self.counters
                    .channel_dropped
                    .fetch_add(packets, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }
}
