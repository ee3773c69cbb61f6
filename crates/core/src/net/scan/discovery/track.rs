//! One source's contacts by one discovery method: its baseline of known targets and the
//! new targets of the window, with which of them answered.

use crate::Ts;
use crate::net::addr::AddrKey;
use crate::time::Span;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;

pub struct Track {
    /// When this source was first seen using this method (for the warm-up).
    pub first_seen: Ts,
    pub last_contact: Ts,
    pub last_new: Ts,
    /// Every target contacted, with the time of the last contact: the baseline.
    known: FxHashMap<AddrKey, Ts>,
    /// The window's new targets, oldest first, and those that answered.
    fresh: VecDeque<(Ts, AddrKey)>,
    answered: FxHashSet<AddrKey>,
    /// New targets since the open episode began (its size), 0 when none is open.
    pub episode_targets: u64,
    pub episode_answered: u64,
    pub last_emit: Option<Ts>,
    pub emitted_targets: u64,
    pub forgotten: u64,
}

/// What the window holds when judged.
pub struct Judged {
    pub targets: usize,
    pub unanswered: usize,
    pub answered: usize,
}

impl Track {
    pub fn new(now: Ts) -> Track {
        Track {
            first_seen: now,
            last_contact: now,
            last_new: now,
            known: FxHashMap::default(),
            fresh: VecDeque::new(),
            answered: FxHashSet::default(),
            episode_targets: 0,
            episode_answered: 0,
            last_emit: None,
            emitted_targets: 0,
            forgotten: 0,
        }
    }

    /// Records a contact; returns true when the target is new (not in the baseline).
    pub fn contact(
        &mut self,
        target: AddrKey,
        answered: bool,
        now: Ts,
        baseline: Span,
        cap: usize,
    ) -> bool {
        self.last_contact = now;
        let new = self.known.get(&target).is_none_or(|t| now - *t >= baseline);
        if self.known.len() >= cap && !self.known.contains_key(&target) {
            let before = self.known.len();
            self.known.retain(|_, t| now - *t < baseline);
            if self.known.len() >= cap
                && let Some((&oldest, _)) = self.known.iter().min_by_key(|(_, t)| **t)
            {
                self.known.remove(&oldest);
            }
            self.forgotten += (before - self.known.len()) as u64;
        }
        self.known.insert(target, now);
        if new {
            self.fresh.push_back((now, target));
            self.last_new = now;
            if self.last_emit.is_some() {
                self.episode_targets += 1;
            }
        }
        if answered {
            self.mark_answered(target);
        }
        new
    }

    /// True when `target` was contacted within `timeout` (so a packet back is an answer).
    pub fn awaits(&self, target: AddrKey, now: Ts, timeout: Span) -> bool {
        self.known.get(&target).is_some_and(|t| now - *t < timeout)
    }

    pub fn mark_answered(&mut self, target: AddrKey) {
        if self.fresh.iter().any(|(_, t)| *t == target) && self.answered.insert(target) {
            self.episode_answered += 1;
        }
    }

    pub fn expire(&mut self, now: Ts, window: Span) {
        while let Some(&(t, target)) = self.fresh.front() {
            if now - t < window {
                break;
            }
            self.fresh.pop_front();
            self.answered.remove(&target);
        }
    }

    /// Something to judge: new targets in the window, or an open episode.
    pub fn busy(&self) -> bool {
        !self.fresh.is_empty() || self.last_emit.is_some()
    }

    /// Nothing in the window and nothing in the baseline: the entry can go.
    pub fn idle(&self, now: Ts, baseline: Span) -> bool {
        self.fresh.is_empty() && now - self.last_contact >= baseline
    }

    /// Counts the window; a target still pending counts as unanswered only once
    /// `timeout` has passed or at the end of the data.
    pub fn judge(&self, now: Ts, timeout: Span, end: bool) -> Judged {
        let answered = self.answered.len();
        let unanswered = self
            .fresh
            .iter()
            .filter(|(t, target)| (end || now - *t >= timeout) && !self.answered.contains(target))
            .count();
        Judged {
            targets: self.fresh.len(),
            unanswered,
            answered,
        }
    }

    /// Up to `n` of the window's targets, oldest first.
    pub fn sample(&self, n: usize) -> Vec<AddrKey> {
        self.fresh.iter().take(n).map(|(_, t)| *t).collect()
    }
}
