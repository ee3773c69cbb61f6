//! The sampling loop ([`run_rounds`], for any way of delivering samples) and a ready-made
//! thread around it ([`spawn`]) that sends batches on a channel without blocking.

use super::Sampler;
use crossbeam_channel::{Sender, TrySendError};
use netsnoop_core::{Event, Loss, ResourceSample, Ts};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

/// Live counters of a sampling loop, shared with whoever reports them.
#[derive(Debug, Default)]
pub struct Counters {
    rounds: AtomicU64,
    vanished: AtomicU64,
    unreadable: AtomicU64,
    errors: AtomicU64,
    dropped: AtomicU64,
}

impl Counters {
    pub fn snapshot(&self) -> SamplerStats {
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
    stop: Arc<AtomicBool>,
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
        self.stop.store(true, Relaxed);
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

/// Runs `sampler` every `interval` on a thread named `resource-sampler`, sending each
/// round as `vec![Event::Resources(..)]` on `tx` without blocking: a round that does not
/// fit is dropped, counted, and reported as an `Event::Loss` with the next batch. Stops
/// when the handle is dropped or the receiver goes away.
pub fn spawn(
    mut sampler: Sampler,
    interval: Duration,
    tx: Sender<Vec<Event>>,
) -> io::Result<SamplerHandle> {
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let (flag, shared) = (Arc::clone(&stop), Arc::clone(&counters));
    let thread = std::thread::Builder::new()
        .name("resource-sampler".into())
        .spawn(move || {
            let mut lost: u64 = 0;
            let send = |sample: ResourceSample, now: Ts| {
                let mut batch = Vec::with_capacity(2);
                if lost > 0 {
                    batch.push(Event::Loss(Loss {
                        host: None,
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
                        shared.dropped.fetch_add(1, Relaxed);
                    }
                    Err(TrySendError::Disconnected(_)) => return false,
                }
                true
            };
            let stopped = || flag.load(Relaxed);
            run_rounds(&mut sampler, interval, send, stopped, &shared);
        })?;
    Ok(SamplerHandle {
        stop,
        thread: Some(thread),
        counters,
    })
}

/// How often a waiting sampler looks at its stop condition: shutdown stays well under
/// the pipeline's 2 s budget.
const STOP_POLL: Duration = Duration::from_millis(100);

/// The sampling loop, for any way of delivering samples: one round per `interval`,
/// handed to `send` with its time; ends when `stopped()` or when `send` returns false
/// (the pipeline is gone). Failed rounds are counted and logged (the first and then
/// every 60th), never fatal.
pub fn run_rounds(
    sampler: &mut Sampler,
    interval: Duration,
    mut send: impl FnMut(ResourceSample, Ts) -> bool,
    stopped: impl Fn() -> bool,
    counters: &Counters,
) {
    let mut next = Instant::now();
    loop {
        next += interval;
        loop {
            if stopped() {
                return;
            }
            let left = next.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(STOP_POLL));
        }
        // After a stall (suspend, a stopped process) start afresh instead of catching up.
        if Instant::now() > next + interval {
            next = Instant::now();
        }
        let now = Ts::now();
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
        if !send(sample, now) {
            return;
        }
    }
}
