//! SYN floods: a target port receiving far more new SYNs than it completes.
//!
//! # The rule
//!
//! Per target (address, port), over windows of `window_secs`: the new SYNs (a
//! retransmission is the same first contact), the handshakes completed (the client's ACK
//! after the SYN-ACK) and the distinct sources. A window is a flood when both hold:
//! - at least `syns_per_sec` new SYNs a second, and
//! - at most `max_completed_share` of them completed.
//!
//! A busy, healthy server takes as many SYNs and completes nearly all of them, so it is
//! never one. The alert gives the rate, the completed share and the share of sources seen
//! once in the window: near 1 for spoofed sources (one SYN from each random address),
//! low for a flood from a few real hosts. One episode per target port, updated at most
//! every `scan.update_interval_secs` while it goes on and resolved after
//! `scan.resolve_after_secs` without a flooded window.

use crate::alert::Subject;
use crate::episodes::{Episodes, Raise};
use crate::net::addr::{self, AddrKey};
use crate::net::config::SynFloodConfig;
use crate::time::Span;
use crate::{Record, Severity, Ts};
use rustc_hash::{FxHashMap, FxHasher};
use serde_json::json;
use std::hash::{Hash, Hasher};

type Target = (AddrKey, u16);

/// One slot of the fixed table of target ports: every SYN costs an array index, never a
/// map insertion, so a sweep over thousands of ports costs nothing more than one port.
/// A port that finds its slot taken wears the holder's count down and takes the slot
/// when it reaches 0 (Misra–Gries): a port taking a flood holds its slot.
#[derive(Clone, Copy, Default)]
struct Slot {
    target: Option<Target>,
    syns: u32,
    completed: u32,
}

/// Sources of a port that got busy this window (only those are counted one by one).
#[derive(Default)]
struct Hot {
    sources: FxHashMap<AddrKey, u32>,
    overflow: u64,
}

struct Open {
    last_emit: Ts,
    last_flood: Ts,
}

pub struct SynFlood {
    cfg: SynFloodConfig,
    slots: Vec<Slot>,
    hot: FxHashMap<usize, Hot>,
    hot_level: u32,
    window_start: Option<Ts>,
    open: FxHashMap<Target, Open>,
    episodes: Episodes,
    window: Span,
    update_interval: Span,
    resolve_after: Span,
    displaced: u64,
}

impl SynFlood {
    pub fn new(cfg: SynFloodConfig, update_interval: Span, resolve_after: Span) -> SynFlood {
        let n = cfg.max_targets.max(16).next_power_of_two();
        let per_window = u64::from(cfg.syns_per_sec) * cfg.window_secs;
        SynFlood {
            slots: vec![Slot::default(); n],
            hot: FxHashMap::default(),
            // Sources are counted once a port has a tenth of a flood's SYNs this window.
            hot_level: (per_window / 10).clamp(1, u64::from(u32::MAX)) as u32,
            window_start: None,
            open: FxHashMap::default(),
            episodes: Episodes::new(),
            window: Span::secs(cfg.window_secs as i64),
            update_interval,
            resolve_after,
            displaced: 0,
            cfg,
        }
    }

    /// Target ports that lost their slot to another.
    pub fn evicted(&self) -> u64 {
        self.displaced
    }

    fn slot_of(&self, t: Target) -> usize {
        let mut h = FxHasher::default();
        t.hash(&mut h);
        (h.finish() as usize) & (self.slots.len() - 1)
    }

    /// A new SYN from `source` to `target:port`.
    pub fn syn(&mut self, source: AddrKey, target: AddrKey, port: u16, now: Ts) {
        if !self.cfg.enabled {
            return;
        }
        self.window_start.get_or_insert(now);
        let t = (target, port);
        let i = self.slot_of(t);
        let slot = &mut self.slots[i];
        match slot.target {
            Some(held) if held == t => slot.syns += 1,
            Some(_) if slot.syns > 1 => {
                slot.syns -= 1;
                return;
            }
            held => {
                if held.is_some() {
                    self.displaced += 1;
                    self.hot.remove(&i);
                }
                *slot = Slot {
                    target: Some(t),
                    syns: 1,
                    completed: 0,
                };
            }
        }
        if slot.syns >= self.hot_level {
            let cap = self.cfg.max_sources_per_target;
            let hot = self.hot.entry(i).or_default();
            if hot.sources.len() < cap || hot.sources.contains_key(&source) {
                *hot.sources.entry(source).or_default() += 1;
            } else {
                hot.overflow += 1;
            }
        }
    }

    /// A handshake to `target:port` completed.
    pub fn completed(&mut self, target: AddrKey, port: u16) {
        let t = (target, port);
        let i = self.slot_of(t);
        let slot = &mut self.slots[i];
        if slot.target == Some(t) {
            slot.completed += 1;
        }
    }

    /// Once a window has run its length (or at the end of the data): judges every busy
    /// port, then starts the next window; resolves floods that stopped.
    pub fn sweep(&mut self, now: Ts, end: bool, out: &mut Vec<Record>) {
        if !self.cfg.enabled {
            return;
        }
        let Some(start) = self.window_start else {
            return;
        };
        let span = now - start;
        if span < self.window && !end {
            return;
        }
        let secs = (span.0 as f64 / 1e6).max(1.0);
        let need = f64::from(self.cfg.syns_per_sec) * secs;
        let mut floods = Vec::new();
        for (i, slot) in self.slots.iter().enumerate() {
            let Some(t) = slot.target else { continue };
            if f64::from(slot.syns) < need {
                continue;
            }
            let share = f64::from(slot.completed.min(slot.syns)) / f64::from(slot.syns.max(1));
            if share <= self.cfg.max_completed_share {
                floods.push((t, i, f64::from(slot.syns) / secs, share));
            }
        }
        floods.sort_by_key(|f| f.0);
        let empty = Hot::default();
        for (t, i, rate, share) in floods {
            let raise = describe(t, self.hot.get(&i).unwrap_or(&empty), rate, share);
            let ep = format!("{}:{}", addr::ip(t.0), t.1);
            let alert = self.episodes.raise(&ep, now, raise);
            let interval = self.update_interval;
            let open = self.open.entry(t).or_insert(Open {
                last_emit: now - interval,
                last_flood: now,
            });
            open.last_flood = now;
            if now - open.last_emit >= interval || end {
                open.last_emit = now;
                out.push(Record::Alert(alert));
            }
        }
        self.slots.iter_mut().for_each(|s| *s = Slot::default());
        self.hot.clear();
        self.window_start = Some(now);
        let after = self.resolve_after;
        let mut done: Vec<Target> = self
            .open
            .iter()
            .filter(|(_, o)| now - o.last_flood >= after)
            .map(|(t, _)| *t)
            .collect();
        done.sort();
        for t in done {
            self.open.remove(&t);
            let ep = format!("{}:{}", addr::ip(t.0), t.1);
            if let Some(a) = self.episodes.resolve(&ep, now) {
                out.push(Record::Alert(a));
            }
        }
    }
}

fn describe(t: Target, hot: &Hot, rate: f64, completed: f64) -> Raise {
    let (target, port) = (addr::ip(t.0), t.1);
    let counted = hot.sources.len() as u64;
    let once = hot.sources.values().filter(|n| **n == 1).count() as u64;
    let all = counted + hot.overflow;
    let once_share = (once + hot.overflow) as f64 / all.max(1) as f64;
    let spoofed = all > 0 && once_share >= 0.9;
    let who = if spoofed {
        "mostly one-off (spoofed) sources".to_string()
    } else {
        format!("{all} sources")
    };
    let mut top: Vec<(AddrKey, u32)> = hot.sources.iter().map(|(k, n)| (*k, *n)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let single = (!spoofed && counted == 1).then(|| addr::ip(top[0].0));
    let top: Vec<String> = top
        .iter()
        .take(5)
        .map(|(k, _)| addr::ip(*k).to_string())
        .collect();
    Raise {
        kind: "net.synflood",
        severity: Severity::High,
        label: None,
        subject: Subject {
            dst_ip: Some(target),
            src_ip: single,
            ..Subject::default()
        },
        message: format!(
            "SYN flood on {target} port {port}: {rate:.0} SYN/s, {:.0}% completed, from {who}",
            completed * 100.0
        ),
        details: json!({
            "target": target.to_string(),
            "port": port,
            "syn_per_sec": rate.round(),
            "completed_share": (completed * 1000.0).round() / 1000.0,
            "sources": all,
            "sources_seen_once_share": (once_share * 1000.0).round() / 1000.0,
            "spoofed_likely": spoofed,
            "top_sources": top,
        }),
    }
}
