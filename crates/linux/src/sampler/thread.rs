//! The sampler's own thread: one round per interval, sent as a batch without blocking;
//! a full channel drops the round and reports the count as a `Loss` event later.

use super::Sampler;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError, bounded};
use netsnoop_core::{Event, Loss, Ts};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the thread has done so far (live, for `/health` and the exit summary).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SamplerStats {
    pub rounds: u64,
    /// Processes that exited mid-read (skipped), summed over all rounds.
    pub vanished: u64,
    /// Processes skipped because their files could not be read or parsed.
    pub unreadable: u64,
    /// Rounds that failed to read a system file.
    pub errors: u64,
    /// Rounds dropped because the pipeline's channel was full.
    pub dropped: u64,
}

#[derive(Default)]
struct Counters {
    rounds: AtomicU64,
    vanished: AtomicU64,
    unreadable: AtomicU64,
    errors: AtomicU64,
    dropped: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> SamplerStats {
        SamplerStats {
            rounds: self.rounds.load(Relaxed),
            vanished: self.vanished.load(Relaxed),
            unreadable: self.unreadable.load(Relaxed),
            errors: self.errors.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
        }
    }
}

/// Stops the sampler thread when dropped (or with [`SamplerHandle::stop`]).
pub struct SamplerHandle {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl SamplerHandle {
    /// The counters so far.
    pub fn stats(&self) -> SamplerStats {
        self.counters.snapshot()
    }

    /// Stops the thread and returns its final counters.
    pub fn stop(mut self) -> SamplerStats {
        self.shutdown();
        self.stats()
    }

    fn shutdown(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
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
    let counters = Arc::new(Counters::default());
    let shared = Arc::clone(&counters);
    let thread = std::thread::Builder::new()
        .name("resource-sampler".into())
        .spawn(move || run(sampler, interval, tx, stop_rx, &shared))?;
    Ok(SamplerHandle {
        stop: Some(stop_tx),
        thread: Some(thread),
        counters,
    })
}

fn run(
    mut sampler: Sampler,
    interval: Duration,
    tx: Sender<Vec<Event>>,
    stop: Receiver<()>,
    counters: &Counters,
) {
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
                let n = counters.errors.fetch_add(1, Relaxed) + 1;
                if n == 1 || n.is_multiple_of(60) {
                    tracing::warn!(error = %e, failures = n, "resource sample failed");
                }
                continue;
            }
        };
        let skipped = sampler.last_round();
        counters.rounds.fetch_add(1, Relaxed);
        counters.vanished.fetch_add(skipped.vanished, Relaxed);
        counters.unreadable.fetch_add(skipped.unreadable, Relaxed);
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
                counters.dropped.fetch_add(1, Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => break,
        }
    }
}
