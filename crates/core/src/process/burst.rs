//! Burst windows: counts new children per parent in a sliding window and decides when a
//! burst episode opens, is worth re-emitting, and ends after the cooldown.

use crate::Severity;
use crate::process::config::BurstConfig;
use crate::process::table::ProcId;
use crate::time::{Span, Ts};
use std::collections::{HashMap, VecDeque};

/// A burst alert to emit (open or update) for one parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BurstNews {
    pub parent: ProcId,
    pub opened: bool,
    /// New children in the window right now.
    pub in_window: usize,
    /// Most children seen in one window during this episode.
    pub peak: usize,
    /// Children counted since the episode opened (those that opened it included).
    pub total: u64,
    pub severity: Severity,
}

#[derive(Debug)]
struct Episode {
    peak: usize,
    total: u64,
    last_emit: Ts,
    last_burst: Ts,
    severity: Severity,
}

#[derive(Debug, Default)]
struct Parent {
    times: VecDeque<Ts>,
    episode: Option<Episode>,
}

#[derive(Debug)]
pub struct BurstWindows {
    threshold: usize,
    high_above: usize,
    window: Span,
    cooldown: Span,
    update_every: Span,
    parents: HashMap<ProcId, Parent>,
}

impl BurstWindows {
    pub fn new(cfg: &BurstConfig) -> BurstWindows {
        BurstWindows {
            threshold: cfg.threshold,
            high_above: cfg.high_above,
            window: Span::secs_f64(cfg.window_secs),
            cooldown: Span::secs_f64(cfg.cooldown_secs),
            update_every: Span::secs_f64(cfg.update_every_secs),
            parents: HashMap::new(),
        }
    }

    /// Counts one new child of `parent`; returns news when an episode opens or an open
    /// one is due for an update.
    pub fn child(&mut self, parent: ProcId, now: Ts) -> Option<BurstNews> {
        let st = self.parents.entry(parent).or_default();
        st.times.push_back(now);
        while st.times.front().is_some_and(|t| now - *t >= self.window) {
            st.times.pop_front();
        }
        let n = st.times.len();
        let severity_of = |peak: usize| {
            if peak > self.high_above {
                Severity::High
            } else {
                Severity::Medium
            }
        };
        match &mut st.episode {
            None if n > self.threshold => {
                let severity = severity_of(n);
                st.episode = Some(Episode {
                    peak: n,
                    total: n as u64,
                    last_emit: now,
                    last_burst: now,
                    severity,
                });
                Some(BurstNews {
                    parent,
                    opened: true,
                    in_window: n,
                    peak: n,
                    total: n as u64,
                    severity,
                })
            }
            None => None,
            Some(ep) => {
                ep.total += 1;
                if n <= self.threshold {
                    return None;
                }
                ep.last_burst = now;
                ep.peak = ep.peak.max(n);
                let severity = severity_of(ep.peak);
                let due = now - ep.last_emit >= self.update_every || severity > ep.severity;
                if !due {
                    return None;
                }
                ep.last_emit = now;
                ep.severity = severity;
                Some(BurstNews {
                    parent,
                    opened: false,
                    in_window: n,
                    peak: ep.peak,
                    total: ep.total,
                    severity,
                })
            }
        }
    }

    /// Parents whose episode has had no burst for the cooldown: their episodes end now.
    /// Also forgets parents with nothing left to count.
    pub fn expire(&mut self, now: Ts) -> Vec<ProcId> {
        let mut ended = Vec::new();
        self.parents.retain(|id, st| {
            while st.times.front().is_some_and(|t| now - *t >= self.window) {
                st.times.pop_front();
            }
            if st
                .episode
                .as_ref()
                .is_some_and(|ep| now - ep.last_burst >= self.cooldown)
            {
                st.episode = None;
                ended.push(*id);
            }
            st.episode.is_some() || !st.times.is_empty()
        });
        ended.sort_unstable();
        ended
    }

    /// Parents currently tracked (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.parents.len()
    }
}
