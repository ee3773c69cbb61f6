//! The proc connector socket shared by the reader thread and the enricher. The reader
//! thread guarantees the socket is drained however long /proc reads take: it blocks on the
//! socket while the enricher is idle, and drains it every few milliseconds while the
//! enricher is busy. While events flow the enricher also drains the socket itself after
//! each short pause, so a storm costs one wake-up per pause instead of a reader wake-up plus
//! a hand-off wake-up.

use super::enrich::RawFeed;
use super::handoff::Closed;
use super::netlink::ConnectorSocket;
use super::reader::{REASON_QUEUE, RawItem, SocketReader};
use super::stats::ExecStats;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// While events flow, how long the enricher lets them gather between its drains. Longer
/// means fewer wake-ups but more short-lived processes gone before their argv is read.
const DRAIN_PAUSE: Duration = Duration::from_micros(200);
/// While the enricher is busy, how often the reader thread drains the socket regardless:
/// far less than the receive buffer holds at any realistic event rate.
const GUARD_PAUSE: Duration = Duration::from_millis(5);
/// How long the idle reader blocks before it looks at the stop flag again.
const IDLE_WAIT: Duration = Duration::from_millis(200);
/// Most datagrams one drain takes, so a huge backlog is handled in bounded batches.
const DRAIN_LIMIT: usize = 4096;

struct Queue {
    socket_reader: SocketReader,
    /// What the reader thread drained and the enricher has not taken yet.
    items: Vec<RawItem>,
    /// Events the full queue refused, reported once there is room.
    dropped: u64,
    enricher_waiting: bool,
    /// The socket failed for good, or the enricher has gone.
    closed: bool,
}

struct Shared {
    socket: Arc<ConnectorSocket>,
    queue: Mutex<Queue>,
    ready: Condvar,
    enricher_draining: AtomicBool,
    capacity: usize,
    stats: Arc<ExecStats>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Splits `socket` into the reader thread's part and the enricher's feed; the reader's
/// queue holds at most `capacity` events.
pub fn share(
    socket: ConnectorSocket,
    capacity: usize,
    stats: Arc<ExecStats>,
) -> (ReaderLoop, ConnectorFeed) {
    let socket = Arc::new(socket);
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue {
            socket_reader: SocketReader::new(socket.clone(), stats.clone()),
            items: Vec::new(),
            dropped: 0,
            enricher_waiting: false,
            closed: false,
        }),
        socket,
        ready: Condvar::new(),
        enricher_draining: AtomicBool::new(false),
        capacity: capacity.max(16),
        stats,
    });
    (
        ReaderLoop(shared.clone()),
        ConnectorFeed {
            shared,
            flowing: false,
        },
    )
}

/// The reader thread's side.
pub struct ReaderLoop(Arc<Shared>);

impl ReaderLoop {
    /// Runs until `stop`, a fatal socket error or the enricher's end.
    pub fn run(self, stop: &AtomicBool) {
        let sh = &*self.0;
        let mut scratch = Vec::new();
        while !stop.load(Relaxed) {
            if sh.enricher_draining.load(Relaxed) {
                std::thread::sleep(GUARD_PAUSE);
            } else {
                match sh.socket.wait_readable(IDLE_WAIT) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => return fail(sh, &e),
                }
            }
            let mut q = sh.lock();
            if q.closed {
                return;
            }
            if let Err(e) = q.socket_reader.drain(&mut scratch, DRAIN_LIMIT) {
                drop(q);
                return fail(sh, &e);
            }
            q.accept(&mut scratch, sh.capacity, &sh.stats);
            let wake = q.enricher_waiting && !q.items.is_empty();
            drop(q);
            if wake {
                sh.ready.notify_one();
            }
        }
    }
}

fn fail(sh: &Shared, e: &std::io::Error) {
    tracing::error!("proc connector receive failed, exec events stop: {e}");
    sh.stats.fatal.store(true, Relaxed);
    sh.lock().closed = true;
    sh.ready.notify_one();
}

impl Queue {
    /// Queues what fits of `items` (a full queue drops and counts, never stalls the socket).
    fn accept(&mut self, items: &mut Vec<RawItem>, capacity: usize, stats: &ExecStats) {
        if self.dropped > 0 && self.items.len() < capacity {
            self.items.push(RawItem::Lost {
                count: std::mem::take(&mut self.dropped),
                reason: REASON_QUEUE,
            });
        }
        let room = capacity.saturating_sub(self.items.len()).min(items.len());
        self.items.extend(items.drain(..room));
        for refused in items.drain(..) {
            match refused {
                RawItem::Lost { count, .. } => self.dropped += count,
                RawItem::Msg(_) => {
                    self.dropped += 1;
                    stats.lost_queue.fetch_add(1, Relaxed);
                }
            }
        }
    }
}

/// The enricher's side.
pub struct ConnectorFeed {
    shared: Arc<Shared>,
    /// The last drain found events: pause briefly and drain again rather than wait.
    flowing: bool,
}

impl RawFeed for ConnectorFeed {
    fn next(&mut self, wait: Duration, into: &mut Vec<RawItem>) -> Result<(), Closed> {
        let sh = &*self.shared;
        if self.flowing {
            std::thread::sleep(DRAIN_PAUSE.min(wait));
        }
        let mut q = sh.lock();
        if !self.flowing && q.items.is_empty() && !q.closed {
            q.enricher_waiting = true;
            q = sh
                .ready
                .wait_timeout_while(q, wait, |q| q.items.is_empty() && !q.closed)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            q.enricher_waiting = false;
        }
        // Older events first: what the reader thread queued, then what is still on the socket.
        into.append(&mut q.items);
        if !q.closed
            && let Err(e) = q.socket_reader.drain(into, DRAIN_LIMIT)
        {
            drop(q);
            fail(sh, &e);
            q = sh.lock();
        }
        let closed = q.closed;
        drop(q);
        self.flowing = !into.is_empty();
        sh.enricher_draining.store(self.flowing, Relaxed);
        if closed && into.is_empty() {
            return Err(Closed);
        }
        Ok(())
    }
}

impl Drop for ConnectorFeed {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::message::{RawEvent, RawMsg};

    fn exec(pid: u32) -> RawItem {
        RawItem::Msg(RawMsg {
            cpu: 0,
            seq: pid,
            ts_ns: 0,
            event: RawEvent::Exec { pid },
        })
    }

    fn queue() -> Queue {
        let (socket, _) =
            ConnectorSocket::open(1 << 16).expect("a netlink socket (no subscription needed)");
        Queue {
            socket_reader: SocketReader::new(Arc::new(socket), Arc::default()),
            items: Vec::new(),
            dropped: 0,
            enricher_waiting: false,
            closed: false,
        }
    }

    fn pids(items: &[RawItem]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                RawItem::Msg(m) => format!("{:?}", m.event),
                RawItem::Lost { count, reason } => format!("lost {count} ({reason})"),
            })
            .collect()
    }

    #[test]
    fn a_full_queue_refuses_and_counts_and_reports_the_loss_once_there_is_room() {
        let stats = ExecStats::default();
        let mut q = queue();
        q.accept(&mut vec![exec(1), exec(2), exec(3)], 2, &stats);
        assert_eq!(pids(&q.items), ["Exec { pid: 1 }", "Exec { pid: 2 }"]);
        assert_eq!((q.dropped, stats.lost_queue.load(Relaxed)), (1, 1));
        q.items.clear(); // the enricher took them
        q.accept(&mut vec![exec(4)], 2, &stats);
        assert_eq!(
            pids(&q.items),
            [
                format!("lost 1 ({REASON_QUEUE})"),
                "Exec { pid: 4 }".to_string()
            ]
        );
        assert_eq!(q.dropped, 0);
    }
}
