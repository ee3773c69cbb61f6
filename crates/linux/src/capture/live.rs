//! Live capture with libpcap: one [`InterfaceCapture`] per interface reads packets,
//! parses their headers and hands batches to the pipeline through an [`Outlet`]. Kernel
//! drops (pcap_stats) and our own drops (pipeline channel full) are counted and reported
//! as `Event::Loss`. [`LiveCapture`] runs them on threads of their own.

use super::error::CaptureError;
use super::filter::effective_filter;
use crate::outlet::Outlet;
use crossbeam_channel::Sender;
use netsnoop_core::net::config::CaptureConfig;
use netsnoop_core::net::parse::{LinkType, parse};
use netsnoop_core::{Event, Ts};
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

/// One opened interface, ready to run on a thread of its own.
pub struct InterfaceCapture {
    name: String,
    index: u16,
    cap: pcap::Capture<pcap::Active>,
    batch_size: usize,
    batch_timeout: Duration,
    counters: Arc<Counters>,
}

/// A cheap handle on one interface's counters, readable from any thread.
#[derive(Clone, Debug)]
pub struct CaptureCounters {
    name: String,
    counters: Arc<Counters>,
}

impl CaptureCounters {
    pub fn snapshot(&self) -> CaptureStats {
        let c = &self.counters;
        CaptureStats {
            interface: self.name.clone(),
            captured: c.captured.load(Ordering::Relaxed),
            kernel_dropped: c.kernel_dropped.load(Ordering::Relaxed),
            if_dropped: c.if_dropped.load(Ordering::Relaxed),
            channel_dropped: c.channel_dropped.load(Ordering::Relaxed),
        }
    }
}

impl InterfaceCapture {
    /// Opens every configured interface with the effective filter (the user's, minus
    /// `own_listen` when `exclude_own_traffic` is set). Permission, interface and filter
    /// problems come back here, typed, before any thread starts.
    pub fn open_all(
        cfg: &CaptureConfig,
        own_listen: Option<SocketAddr>,
    ) -> Result<(Vec<InterfaceCapture>, Option<String>), CaptureError> {
        let own = own_listen.filter(|_| cfg.exclude_own_traffic);
        let filter = effective_filter(cfg.filter.as_deref(), own);
        let caps = cfg
            .interfaces
            .iter()
            .enumerate()
            .map(|(i, name)| InterfaceCapture::open(name, i as u16, cfg, filter.as_deref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((caps, filter))
    }

    /// Opens one interface; `index` becomes `PacketMeta::iface`.
    pub fn open(
        name: &str,
        index: u16,
        cfg: &CaptureConfig,
        filter: Option<&str>,
    ) -> Result<InterfaceCapture, CaptureError> {
        Ok(InterfaceCapture {
            name: name.to_string(),
            index,
            cap: open(name, cfg, filter)?,
            batch_size: cfg.batch_size.max(1),
            batch_timeout: Duration::from_millis(cfg.batch_timeout_ms.max(1)),
            counters: Arc::new(Counters::default()),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn counters(&self) -> CaptureCounters {
        CaptureCounters {
            name: self.name.clone(),
            counters: self.counters.clone(),
        }
    }

    /// Captures until `stop()` says so (checked at least every batch timeout) or the
    /// pipeline hangs up. Returns an error only if libpcap fails mid-capture.
    pub fn run(mut self, out: &mut Outlet, stop: &dyn Fn() -> bool) -> Result<(), CaptureError> {
        let link = LinkType::from_dlt(self.cap.get_datalink().0 as u32);
        let mut batch: Vec<Event> = Vec::with_capacity(self.batch_size);
        let mut batch_started = Instant::now();
        let mut last_stats = Instant::now();
        let mut kernel_drops = super::drops::KernelDrops::for_interface(&self.name);
        let mut seen_ifdrop = 0u32;
        let dropped_by_outlet = out.dropped_counter();
        while !stop() {
            match self.cap.next_packet() {
                Ok(p) => {
                    let ts = p.header.ts;
                    let time = Ts(ts.tv_sec * 1_000_000 + ts.tv_usec);
                    if batch.is_empty() {
                        batch_started = Instant::now();
                    }
                    let meta = parse(link, p.data, p.header.len, time, self.index);
                    batch.push(Event::Packet(meta));
                    self.counters.captured.fetch_add(1, Ordering::Relaxed);
                }
                Err(pcap::Error::TimeoutExpired) => {
                    super::wait::readable(self.cap.as_fd(), self.batch_timeout);
                }
                Err(e) => {
                    if !batch.is_empty() {
                        let _ = out.send(batch, Ts::now());
                    }
                    return Err(CaptureError::Pcap {
                        interface: self.name.clone(),
                        detail: format!("capture stopped: {e}"),
                    });
                }
            }
            if last_stats.elapsed() >= Duration::from_secs(1) {
                last_stats = Instant::now();
                if let Ok(st) = self.cap.stats() {
                    // libpcap's counters are 32-bit and wrap; wrapping_sub handles that.
                    let d = kernel_drops.advance(st.dropped);
                    let i = u64::from(st.if_dropped.wrapping_sub(seen_ifdrop));
                    seen_ifdrop = st.if_dropped;
                    out.report_loss(d, KERNEL_DROP);
                    out.report_loss(i, IF_DROP);
                    self.counters.kernel_dropped.fetch_add(d, Ordering::Relaxed);
                    self.counters.if_dropped.fetch_add(i, Ordering::Relaxed);
                    if d + i > 0 && batch.is_empty() {
                        // Report the loss now even if no packet is waiting to carry it.
                        if out.send(Vec::new(), Ts::now()).is_err() {
                            return Ok(());
                        }
                    }
                }
            }
            let due = batch.len() >= self.batch_size
                || (!batch.is_empty() && batch_started.elapsed() >= self.batch_timeout);
            if due {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(self.batch_size));
                let sent = out.send(full, Ts::now());
                self.counters
                    .channel_dropped
                    .store(dropped_by_outlet.load(Ordering::Relaxed), Ordering::Relaxed);
                if sent.is_err() {
                    return Ok(());
                }
            }
        }
        if !batch.is_empty() {
            let _ = out.send(batch, Ts::now());
        }
        Ok(())
    }
}

const KERNEL_DROP: &str = "kernel buffer full (pcap ps_drop); raise network.capture.buffer_mib";
const IF_DROP: &str = "dropped by the interface or driver (pcap ps_ifdrop)";

/// Live capture on every configured interface, each on its own thread with its own
/// outlet (`capture:<interface>`). Dropping it stops the threads; `stop` also joins.
pub struct LiveCapture {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    counters: Vec<CaptureCounters>,
    filter: Option<String>,
}

impl LiveCapture {
    pub fn start(
        cfg: &CaptureConfig,
        own_listen: Option<SocketAddr>,
        tx: Sender<Vec<Event>>,
    ) -> Result<LiveCapture, CaptureError> {
        let (caps, filter) = InterfaceCapture::open_all(cfg, own_listen)?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let mut counters = Vec::new();
        for cap in caps {
            counters.push(cap.counters());
            let name = cap.name().to_string();
            let mut outlet = Outlet::new(format!("capture:{name}"), tx.clone());
            let stop = stop.clone();
            let handle = std::thread::Builder::new()
                .name(format!("capture:{name}"))
                .spawn(move || {
                    if let Err(e) = cap.run(&mut outlet, &|| stop.load(Ordering::Relaxed)) {
                        tracing::error!("{e}");
                    }
                    outlet.close(Ts::now(), Duration::from_millis(200));
                })
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
            .map(CaptureCounters::snapshot)
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
