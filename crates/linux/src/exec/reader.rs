//! Reading the proc connector socket: receive datagrams, decode them, check the per-CPU
//! sequence numbers and turn them into raw events and loss markers. Never touches /proc.

use super::message::{DecodeError, RawEvent, RawMsg, decode};
use super::netlink::ConnectorSocket;
use super::stats::ExecStats;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

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

/// The socket end of the connector source: receives datagrams without waiting, decodes
/// them and checks the per-CPU sequence numbers.
pub struct SocketReader {
    socket: Arc<ConnectorSocket>,
    gaps: SeqGaps,
    buf: Vec<u8>,
    stats: Arc<ExecStats>,
}

impl SocketReader {
    pub fn new(socket: Arc<ConnectorSocket>, stats: Arc<ExecStats>) -> SocketReader {
        SocketReader {
            socket,
            gaps: SeqGaps::default(),
            buf: vec![0u8; 64 * 1024],
            stats,
        }
    }

    /// Receives up to `limit` datagrams of what the socket holds, appending their events
    /// and loss markers to `into`. Returns how many it received; an error is fatal.
    pub fn drain(&mut self, into: &mut Vec<RawItem>, limit: usize) -> io::Result<usize> {
        let mut received = 0;
        while received < limit {
            let n = match self.socket.try_recv(&mut self.buf) {
                Ok(n) => n,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.stats.overruns.fetch_add(1, Relaxed);
                    // The count shows up as sequence gaps; this makes the enricher resync.
                    into.push(RawItem::Lost {
                        count: 0,
                        reason: REASON_OVERRUN,
                    });
                    received += 1;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            };
            received += 1;
            self.decode(n, into);
        }
        Ok(received)
    }

    fn decode(&mut self, n: usize, into: &mut Vec<RawItem>) {
        for m in decode(&self.buf[..n]) {
            match m {
                Ok(m) => {
                    self.stats.messages.fetch_add(1, Relaxed);
                    let (lost, wanted) = self.gaps.admit(m);
                    if lost > 0 {
                        self.stats.lost_seq.fetch_add(lost, Relaxed);
                        into.push(RawItem::Lost {
                            count: lost,
                            reason: REASON_GAP,
                        });
                    }
                    if let Some(m) = wanted {
                        into.push(RawItem::Msg(m));
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
