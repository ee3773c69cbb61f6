//! One output's thread: takes routed alerts from its bounded queue, groups them, sends
//! each group with retry, exponential backoff and jitter, and holds no more than its
//! queue bound while the receiver is away (the queue then fills and drops are counted).

use crate::group::Grouper;
use crate::outputs::{Context, Output, SendError};
use crate::stats::Counters;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use netsnoop_core::{Alert, Ts};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The first retry waits this long; each next one twice as long, up to the maximum.
const FIRST_RETRY: Duration = Duration::from_millis(500);
/// How often the worker looks at the closing flag while it waits.
const POLL: Duration = Duration::from_millis(100);

pub struct Worker {
    pub name: String,
    pub host: String,
    pub rx: Receiver<Alert>,
    pub grouper: Grouper,
    pub output: Box<dyn Output>,
    pub counters: Arc<Counters>,
    /// Most alerts held past the queue (grouping and retrying).
    pub hold_max: usize,
    pub retry_max: Duration,
    /// Set by `Delivery::close`; from then on, unsent alerts get until `drain` to go.
    pub closing: Arc<AtomicBool>,
    pub drain: Duration,
    /// Silences and acks: checked again before a group or repeat goes out.
    pub mutes: Arc<crate::mutes::Mutes>,
}

/// The wait before retry number `attempt` (1-based): doubling, capped, ±20% jitter.
pub fn backoff(attempt: u32, max: Duration) -> Duration {
    let base = FIRST_RETRY.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    base.min(max).mul_f64(0.8 + 0.4 * fastrand::f64())
}

impl Worker {
    pub fn run(mut self) {
        let mut outbox: VecDeque<Vec<Alert>> = VecDeque::new();
        let mut attempt: u32 = 0;
        let mut disconnected = false;
        let mut deadline: Option<Instant> = None;
        loop {
            if deadline.is_none() && (disconnected || self.closing.load(Ordering::SeqCst)) {
                deadline = Some(Instant::now() + self.drain);
            }
            self.publish_held(&outbox);
            if let Some(batch) = outbox.front() {
                let ctx = Context {
                    output: self.name.clone(),
                    host: self.host.clone(),
                    now: Ts::now(),
                };
                match self.output.send(batch, &ctx) {
                    Ok(()) => {
                        Counters::add(&self.counters.delivered, batch.len());
                        if attempt > 0 {
                            tracing::info!(output = %self.name, "alert delivery works again");
                        }
                        attempt = 0;
                        outbox.pop_front();
                    }
                    Err(SendError::Permanent(e)) => {
                        Counters::add(&self.counters.errors, 1);
                        Counters::add(&self.counters.failed, batch.len());
                        self.counters.set_error(&e);
                        tracing::warn!(output = %self.name, "alerts refused, not retried: {e}");
                        attempt = 0;
                        outbox.pop_front();
                    }
                    Err(SendError::Transient(e)) => {
                        Counters::add(&self.counters.errors, 1);
                        self.counters.set_error(&e);
                        if attempt == 0 {
                            tracing::warn!(output = %self.name, "alert delivery failed, retrying: {e}");
                        }
                        attempt += 1;
                        if deadline.is_some_and(|d| Instant::now() >= d) {
                            self.give_up(&mut outbox);
                            return;
                        }
                        let wait = backoff(attempt, self.retry_max);
                        self.pause(wait, deadline, &outbox);
                    }
                }
                continue;
            }
            if disconnected {
                let rest = self.grouper.take_pending(Ts::now());
                if rest.is_empty() {
                    return;
                }
                self.enqueue(&mut outbox, rest);
                continue;
            }
            let now = Ts::now();
            let wait = self
                .grouper
                .next_due()
                .map(|t| Duration::from_micros(u64::try_from((t - now).0).unwrap_or(0)))
                .unwrap_or(POLL)
                .min(POLL);
            if self.grouper.pending() >= self.hold_max {
                std::thread::sleep(wait);
            } else {
                match self.rx.recv_timeout(wait) {
                    Ok(a) => {
                        self.grouper.offer(a, Ts::now());
                        while self.grouper.pending() < self.hold_max {
                            let Ok(a) = self.rx.try_recv() else { break };
                            self.grouper.offer(a, Ts::now());
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => disconnected = true,
                }
            }
            let now = Ts::now();
            let mut due = self.grouper.due(now);
            let before = due.len();
            due.retain(|a| !self.mutes.mutes(a, &self.host, now));
            Counters::add(&self.counters.silenced, before - due.len());
            self.enqueue(&mut outbox, due);
        }
    }

    /// The `queued` figure: in the channel, grouping and being retried.
    fn publish_held(&self, outbox: &VecDeque<Vec<Alert>>) {
        let held =
            outbox.iter().map(Vec::len).sum::<usize>() + self.grouper.pending() + self.rx.len();
        self.counters.held.store(held as u64, Ordering::Relaxed);
    }

    fn enqueue(&self, outbox: &mut VecDeque<Vec<Alert>>, alerts: Vec<Alert>) {
        if alerts.is_empty() {
        } else if self.output.per_alert() {
            outbox.extend(alerts.into_iter().map(|a| vec![a]));
        } else {
            outbox.push_back(alerts);
        }
    }

    /// Sleeps `d`, waking early once closing starts (and at the drain deadline).
    fn pause(&self, d: Duration, deadline: Option<Instant>, outbox: &VecDeque<Vec<Alert>>) {
        let until = Instant::now() + d;
        let until = deadline.map_or(until, |dl| until.min(dl));
        let was_closing = self.closing.load(Ordering::SeqCst);
        while Instant::now() < until {
            if !was_closing && self.closing.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
            self.publish_held(outbox);
        }
    }

    /// At the drain deadline: everything still here counts as failed.
    fn give_up(&mut self, outbox: &mut VecDeque<Vec<Alert>>) {
        let mut lost: usize = outbox.drain(..).map(|b| b.len()).sum();
        lost += self.grouper.take_pending(Ts::now()).len();
        lost += self.rx.try_iter().count();
        Counters::add(&self.counters.failed, lost);
        self.counters.held.store(0, Ordering::Relaxed);
        if lost > 0 {
            tracing::warn!(output = %self.name, "{lost} alerts not delivered before shutdown");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum_with_jitter() {
        let max = Duration::from_secs(8);
        for _ in 0..50 {
            let first = backoff(1, max);
            assert!(first >= Duration::from_millis(400) && first <= Duration::from_millis(600));
            let third = backoff(3, max);
            assert!(third >= Duration::from_millis(1600) && third <= Duration::from_millis(2400));
            assert!(backoff(30, max) <= max.mul_f64(1.2));
        }
    }
}
