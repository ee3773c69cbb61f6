//! The system-wide spawn-rate rule: forks per second over a window, one episode while the
//! rate stays above the threshold.

use crate::Severity;
use crate::alert::{Alert, Subject};
use crate::episodes::{Episodes, Raise};
use crate::process::config::SpawnRateConfig;
use crate::time::{Span, Ts};
use serde_json::json;
use std::collections::VecDeque;

const KEY: &str = "host";

pub struct SpawnRate {
    max_per_sec: f64,
    window_secs: i64,
    cooldown: Span,
    /// (second, forks counted in it), oldest first.
    buckets: VecDeque<(i64, u64)>,
    episodes: Episodes,
    last_above: Option<Ts>,
    last_emit: Option<Ts>,
    peak: f64,
}

impl SpawnRate {
    pub fn new(cfg: &SpawnRateConfig) -> SpawnRate {
        SpawnRate {
            max_per_sec: cfg.max_per_sec,
            window_secs: (cfg.window_secs.round() as i64).max(1),
            cooldown: Span::secs_f64(cfg.cooldown_secs),
            buckets: VecDeque::new(),
            episodes: Episodes::new(),
            last_above: None,
            last_emit: None,
            peak: 0.0,
        }
    }

    /// Counts `n` forks at `now`; returns an alert when an episode opens or is due for an
    /// update (at most once per window).
    pub fn add(&mut self, now: Ts, n: u64) -> Option<Alert> {
        let sec = now.secs();
        match self.buckets.back_mut() {
            Some((s, c)) if *s == sec => *c += n,
            _ => self.buckets.push_back((sec, n)),
        }
        self.evaluate(now)
    }

    /// Expires old seconds and resolves the episode after the cooldown below threshold.
    pub fn tick(&mut self, now: Ts) -> Option<Alert> {
        if let Some(alert) = self.evaluate(now) {
            return Some(alert);
        }
        let quiet = self.last_above.is_some_and(|t| now - t >= self.cooldown);
        if quiet && self.episodes.is_active(KEY) {
            self.last_above = None;
            self.peak = 0.0;
            return self.episodes.resolve(KEY, now);
        }
        None
    }

    /// Forks per second over the window ending at `now`.
    pub fn rate(&mut self, now: Ts) -> f64 {
        let oldest = now.secs() - self.window_secs + 1;
        while self.buckets.front().is_some_and(|(s, _)| *s < oldest) {
            self.buckets.pop_front();
        }
        let total: u64 = self.buckets.iter().map(|(_, c)| c).sum();
        total as f64 / self.window_secs as f64
    }

    fn evaluate(&mut self, now: Ts) -> Option<Alert> {
        let rate = self.rate(now);
        if rate <= self.max_per_sec {
            return None;
        }
        self.last_above = Some(now);
        self.peak = self.peak.max(rate);
        let opening = !self.episodes.is_active(KEY);
        if !opening
            && self
                .last_emit
                .is_some_and(|t| now - t < Span::secs(self.window_secs))
        {
            return None;
        }
        self.last_emit = Some(now);
        let raise = Raise {
            kind: "process.spawn_rate",
            severity: Severity::Medium,
            label: None,
            subject: Subject::host(),
            message: format!(
                "process Δ: {rate:.0} forks/s over {}s (threshold {})",
                self.window_secs, self.max_per_sec
            ),
            details: json!({
                "forks_per_sec": rate,
                "peak_per_sec": self.peak,
                "window_secs": self.window_secs,
                "threshold": self.max_per_sec,
            }),
        };
        Some(self.episodes.raise(KEY, now, raise))
    }
}
