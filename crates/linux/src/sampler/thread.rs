//! The sampler's own thread: one round per interval, sent as a batch without blocking;
//! a full channel drops the round and reports the count as a `Loss` event later.

use super::Sampler;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError, bounded};
use netsnoop_core::{Event, Loss, Ts};
use std::io;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the thread did, returned when it stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SamplerStats {
    pub rounds: u64,
    /// Processes that exited mid-read, summed over all rounds.
    pub vanished: u64,
    /// Rounds that failed to read a system file.
    pub errors: u64,
    /// Rounds dropped because the pipeline's channel was full.
    pub dropped: u64,
}

/// Stops the sampler thread when dropped (or with [`SamplerHandle::stop`]).
pub struct SamplerHandle {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<SamplerStats>>,
}

impl SamplerHandle {
    /// Stops the thread and returns its counters.
    pub fn stop(mut self) -> SamplerStats {
        self.shutdown()
    }

    fn shutdown(&mut self) -> SamplerStats {
        self.stop.take();
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for SamplerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The wall clock as a [`Ts`].
pub fn wall_now() -> Ts {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Ts(d.as_micros() as i64)
}

/// Runs `sampler` every `interval` on a thread named `resource-sampler`, sending each
/// round as `vec![Event::Resources(..)]` on `tx`. Stops when the handle is dropped or
/// the receiver goes away.
pub fn spawn(
    sampler: Sampler,
    interval: Duration,
    tx: Sender<Vec<Event>>,
) -> io::Result<SamplerHandle> {
    let (stop_tx, stop_rx) = bounded::<()>(0);
    let thread = std::thread::Builder::new()
        .name("resource-sampler".into())
        .spawn(move || run(sampler, interval, tx, stop_rx))?;
    Ok(SamplerHandle {
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

fn run(
    mut sampler: Sampler,
    interval: Duration,
    tx: Sender<Vec<Event>>,
    stop: Receiver<()>,
) -> SamplerStats {
    let mut stats = SamplerStats::default();
    let mut lost: u64 = 0;
    let mut next = Instant::now();
    loop {
        next += interval;
        let wait = next.saturating_duration_since(Instant::now());
        match stop.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => break,
        }
        // After a stall (suspend, a stopped process) start afresh instead of catching up.
        if Instant::now() > next + interval {
            next = Instant::now();
        }
        let now = wall_now();
        let sample = match sampler.sample(now) {
            Ok(s) => s,
            Err(e) => {
                stats.errors += 1;
                if stats.errors == 1 || stats.errors % 60 == 0 {
                    tracing::warn!(error = %e, failures = stats.errors, "resource sample failed");
                }
                continue;
            }
        };
        stats.rounds += 1;
        stats.vanished += sample.vanished;
        let mut batch = Vec::with_capacity(2);
        if lost > 0 {
            batch.push(Event::Loss(Loss {
                time: now,
                source: "resource_sampler".into(),
                count: lost,
                reason: "pipeline channel full: resource samples dropped".into(),
            }));
        }
        batch.push(Event::Resources(sample));
        match tx.try_send(batch) {
            Ok(()) => lost = 0,
            Err(TrySendError::Full(_)) => {
                lost += 1;
                stats.dropped += 1;
            }
            Err(TrySendError::Disconnected(_)) => break,
        }
    }
    stats
}
