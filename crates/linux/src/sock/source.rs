//! The eBPF socket source's reader thread: drains the ring buffer into
//! `Event::Connection` batches and turns kernel-side drops into `Event::Loss`.

use super::loader::{Loaded, load};
use super::stats::SockStats;
use super::wire::{RawSock, RawSockKind, parse};
use crate::exec::ebpf::{BootClock, EbpfUnavailable, boot_clock};
use crate::proc_pid::UserNames;
use crossbeam_channel::Sender;
use netsnoop_core::owner::{ConnKind, ConnectionEvent, SocketOwner};
use netsnoop_core::{Event, Loss, Protocol, Ts};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The `source` of this source's loss events.
pub const LOSS_SOURCE: &str = "sock_ebpf";
/// The longest a record waits in the ring buffer (no wakeups are requested per record).
const WAIT: Duration = Duration::from_millis(50);
const HOUSEKEEPING: Duration = Duration::from_secs(1);
const BATCH_MAX: usize = 4096;

/// The program, loaded and attached, not yet read.
pub struct EbpfSockSource {
    loaded: Loaded,
}

impl EbpfSockSource {
    /// `ring_buffer_bytes` is rounded up to a power of two, at least a page.
    pub fn load(ring_buffer_bytes: u32) -> Result<Self, EbpfUnavailable> {
        let bytes = ring_buffer_bytes.max(4096).next_power_of_two();
        Ok(EbpfSockSource {
            loaded: load(bytes)?,
        })
    }

    /// Optional tracepoints the kernel lacks (what is not seen without them).
    pub fn missing(&self) -> &[String] {
        &self.loaded.missing
    }

    /// Reads until `stop` is set or `out` hangs up.
    pub fn run(self, out: &Sender<Vec<Event>>, stats: &SockStats, stop: &AtomicBool) {
        read(self.loaded, out, stats, stop);
    }
}

pub(super) fn spawn_reader(
    src: EbpfSockSource,
    out: Sender<Vec<Event>>,
    stats: Arc<SockStats>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("sock-ebpf".into())
        .spawn(move || src.run(&out, &stats, &stop))
}

fn read(loaded: Loaded, out: &Sender<Vec<Event>>, stats: &SockStats, stop: &AtomicBool) {
    let Loaded {
        ebpf: _programs,
        missing: _,
        mut events,
        events_fd,
        lost,
    } = loaded;
    let mut users = UserNames::new();
    let mut clock = boot_clock();
    let mut lost_reported = 0u64;
    let mut last_housekeeping = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [PollFd::new(events_fd.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(WAIT).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                tracing::error!("eBPF socket source: waiting on the ring buffer failed: {e}");
                return;
            }
        }
        let mut batch = Vec::new();
        while let Some(record) = events.next() {
            match parse(&record) {
                Ok(raw) => {
                    stats.events.fetch_add(1, Ordering::Relaxed);
                    batch.push(Event::Connection(convert(raw, clock, &mut users)));
                }
                Err(e) => {
                    stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!("eBPF socket source: dropped a record: {e}");
                }
            }
            drop(record);
            if batch.len() >= BATCH_MAX {
                break;
            }
        }
        if last_housekeeping.elapsed() >= HOUSEKEEPING {
            last_housekeeping = Instant::now();
            clock = boot_clock();
            let total: u64 = lost.get(&0, 0).map(|v| v.iter().sum()).unwrap_or(0);
            if total > lost_reported {
                stats
                    .lost
                    .fetch_add(total - lost_reported, Ordering::Relaxed);
                batch.push(Event::Loss(Loss {
                    host: None,
                    time: Ts::now(),
                    source: LOSS_SOURCE.into(),
                    count: total - lost_reported,
                    reason: "eBPF socket ring buffer full".into(),
                }));
                lost_reported = total;
            }
        }
        if !batch.is_empty() && out.send(batch).is_err() {
            return;
        }
    }
}

pub(super) fn convert(raw: RawSock, clock: BootClock, users: &mut UserNames) -> ConnectionEvent {
    let kind = match raw.kind {
        RawSockKind::Connect => ConnKind::Connect,
        RawSockKind::Accept => ConnKind::Accept,
        RawSockKind::UdpSend => ConnKind::UdpSend,
        RawSockKind::Listen => ConnKind::Listen,
        RawSockKind::Close => ConnKind::Close,
    };
    let owner = (kind != ConnKind::Close).then(|| SocketOwner {
        pid: raw.pid,
        comm: raw.comm,
        uid: raw.uid,
        user: users.name(raw.uid),
        cgroup_id: raw.cgroup_id,
        ..SocketOwner::default()
    });
    let specified = |ip: std::net::IpAddr| (!ip.is_unspecified()).then_some(ip);
    ConnectionEvent {
        host: None,
        time: clock.ts(raw.time_ns),
        kind,
        protocol: if raw.tcp {
            Protocol::Tcp
        } else {
            Protocol::Udp
        },
        netns: raw.netns,
        local_ip: specified(raw.local),
        local_port: raw.local_port,
        remote_ip: specified(raw.remote),
        remote_port: raw.remote_port,
        owner,
        source: "ebpf".into(),
    }
}
