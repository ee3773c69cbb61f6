//! The socket reader thread: receives datagrams, decodes them, checks per-CPU sequence
//! numbers and queues raw events. It never touches /proc, so it keeps up with fork storms.

use super::message::{DecodeError, RawEvent, RawMsg, decode};
use super::netlink::ConnectorSocket;
use super::stats::ExecStats;
use crossbeam_channel::{Sender, TrySendError};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// What the reader hands the enricher.
#[derive(Debug)]
pub enum RawItem {
    Msg(RawMsg),
    /// Events that will never arrive; the enricher reports them and resyncs from /proc.
    Lost {
        count: u64,
        reason: &'static str,
    },
}

pub const REASON_OVERRUN: &str = "kernel receive buffer overrun (ENOBUFS)";
/// The kernel numbers events per CPU for all listeners; a number we never see is an event
/// it did not deliver to us (it drops events when it cannot allocate, for instance).
pub const REASON_GAP: &str =
    "gap in the per-CPU sequence numbers (events the kernel did not deliver)";
pub const REASON_QUEUE: &str = "enricher queue full";

/// How long the reader lets events gather between drains while they flow.
const DRAIN_PAUSE: std::time::Duration = std::time::Duration::from_micros(200);

/// Per-CPU sequence tracking: the kernel numbers each CPU's events consecutively.
#[derive(Debug, Default)]
pub struct SeqGaps {
    last: Vec<Option<u32>>,
}

/// More CPUs than any machine has: a larger number in a message is not a CPU.
const MAX_CPUS: u32 = 1 << 16;

impl SeqGaps {
    /// One decoded message: how many events were lost before it, and the message if the
    /// enricher wants it. Recent kernels number the acknowledgement of any listener's
    /// subscription (ours, or forkstat's) in the same per-CPU sequence as events, so it
    /// must fill its place; older ones send it with cpu -1, outside the numbering.
    pub fn admit(&mut self, m: RawMsg) -> (u64, Option<RawMsg>) {
        let lost = self.check(m.cpu, m.seq);
        let wanted = !matches!(m.event, RawEvent::Ignored | RawEvent::Ack { .. });
        (lost, wanted.then_some(m))
    }

    /// Events missing before `seq` on `cpu`; the first event of a CPU sets the base.
    pub fn check(&mut self, cpu: u32, seq: u32) -> u64 {
        if cpu >= MAX_CPUS {
            return 0;
        }
        let cpu = cpu as usize;
        if self.last.len() <= cpu {
            self.last.resize(cpu + 1, None);
        }
        let gap = match self.last[cpu] {
            Some(prev) => {
                let d = seq.wrapping_sub(prev);
                // A step backwards (d huge) is a restarted counter, not loss.
                if d == 0 || d > u32::MAX / 2 {
                    0
                } else {
                    (d - 1) as u64
                }
            }
            None => 0,
        };
        self.last[cpu] = Some(seq);
        gap
    }
}

pub struct Reader {
    pub socket: ConnectorSocket,
    pub tx: Sender<RawItem>,
    pub stats: Arc<ExecStats>,
    pub stop: Arc<AtomicBool>,
}

impl Reader {
    pub fn run(self) {
        let mut buf = vec![0u8; 64 * 1024];
        let mut gaps = SeqGaps::default();
        let mut dropped: u64 = 0;
        // Idle, the reader blocks on the socket. Once events flow it drains what is queued,
        // pauses, and drains again: a storm then costs one wake-up per pause instead of one
        // per datagram (four per process), while the receive buffer holds the backlog.
        let mut flowing = false;
        while !self.stop.load(Relaxed) {
            let got = if flowing {
                self.socket.try_recv(&mut buf)
            } else {
                self.socket.recv(&mut buf)
            };
            let got = match got {
                Err(e) if flowing && e.kind() == io::ErrorKind::WouldBlock => {
                    self.flush_dropped(&mut dropped);
                    std::thread::sleep(DRAIN_PAUSE);
                    // Nothing queued during the pause: back to blocking.
                    self.socket.try_recv(&mut buf)
                }
                other => other,
            };
            flowing = match &got {
                Ok(_) => true,
                Err(e) => e.raw_os_error() == Some(libc::ENOBUFS),
            };
            let n = match got {
                Ok(n) => n,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.stats.overruns.fetch_add(1, Relaxed);
                    // The count shows up as sequence gaps; this makes the enricher resync.
                    self.push(
                        RawItem::Lost {
                            count: 0,
                            reason: REASON_OVERRUN,
                        },
                        &mut dropped,
                    );
                    continue;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) =>
                {
                    self.flush_dropped(&mut dropped);
                    continue;
                }
                Err(e) => {
                    tracing::error!("proc connector receive failed, exec events stop: {e}");
                    self.stats.fatal.store(true, Relaxed);
                    return;
                }
            };
            for m in decode(&buf[..n]) {
                match m {
                    Ok(m) => {
                        self.stats.messages.fetch_add(1, Relaxed);
                        let (lost, wanted) = gaps.admit(m);
                        if lost > 0 {
                            self.stats.lost_seq.fetch_add(lost, Relaxed);
                            self.push(
                                RawItem::Lost {
                                    count: lost,
                                    reason: REASON_GAP,
                                },
                                &mut dropped,
                            );
                        }
                        if let Some(m) = wanted {
                            self.push(RawItem::Msg(m), &mut dropped);
                        }
                    }
                    Err(DecodeError::Overrun) => {
                        self.stats.overruns.fetch_add(1, Relaxed);
                    }
                    Err(DecodeError::Truncated(_)) => {
                        self.stats.decode_errors.fetch_add(1, Relaxed);
                    }
                }
            }
            self.flush_dropped(&mut dropped);
        }
    }

    /// Queues without blocking; a full queue drops and counts, never stalls the socket.
    fn push(&self, item: RawItem, dropped: &mut u64) {
        match self.tx.try_send(item) {
            Ok(()) => {}
            Err(TrySendError::Full(RawItem::Lost { count, .. })) => *dropped += count,
            Err(TrySendError::Full(_)) => {
                *dropped += 1;
                self.stats.lost_queue.fetch_add(1, Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => self.stop.store(true, Relaxed),
        }
    }

    fn flush_dropped(&self, dropped: &mut u64) {
        if *dropped > 0
            && self
                .tx
                .try_send(RawItem::Lost {
                    count: *dropped,
                    reason: REASON_QUEUE,
                })
                .is_ok()
        {
            *dropped = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(event: RawEvent, cpu: u32, seq: u32) -> RawMsg {
        RawMsg {
            cpu,
            seq,
            ts_ns: 0,
            event,
        }
    }

    #[test]
    fn another_listeners_subscription_ack_in_the_sequence_is_no_loss_and_not_forwarded() {
        let mut g = SeqGaps::default();
        assert_eq!(g.admit(msg(RawEvent::Exec { pid: 7 }, 1, 10)).0, 0);
        let (lost, wanted) = g.admit(msg(RawEvent::Ack { err: 0 }, 1, 11));
        assert_eq!((lost, wanted.is_some()), (0, false));
        let (lost, wanted) = g.admit(msg(RawEvent::Exec { pid: 8 }, 1, 12));
        assert_eq!((lost, wanted.is_some()), (0, true), "the ack filled seq 11");
    }

    #[test]
    fn an_ack_outside_the_per_cpu_numbering_is_ignored() {
        let mut g = SeqGaps::default();
        assert_eq!(g.admit(msg(RawEvent::Exec { pid: 7 }, 0, 10)).0, 0);
        assert_eq!(g.admit(msg(RawEvent::Ack { err: 0 }, u32::MAX, 3)).0, 0);
        assert_eq!(g.admit(msg(RawEvent::Exec { pid: 8 }, 0, 11)).0, 0);
        assert_eq!(g.admit(msg(RawEvent::Exec { pid: 9 }, 0, 13)).0, 1);
    }

    #[test]
    fn gaps_in_one_cpus_sequence_count_the_missing_events() {
        let mut g = SeqGaps::default();
        assert_eq!(g.check(0, 100), 0, "first event sets the base");
        assert_eq!(g.check(0, 101), 0);
        assert_eq!(g.check(1, 7), 0, "each cpu has its own counter");
        assert_eq!(g.check(0, 105), 3);
        assert_eq!(g.check(1, 8), 0);
        assert_eq!(g.check(0, 104), 0, "a step back is not loss");
        assert_eq!(g.check(0, u32::MAX), 0);
        assert_eq!(g.check(0, 1), 1, "wraps around");
    }
}
