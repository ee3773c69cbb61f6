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

use super::discovery::bounded::Bounded;
use crate::alert::Subject;
use crate::episodes::{Episodes, Raise};
use crate::net::addr::{self, AddrKey};
use crate::net::config::SynFloodConfig;
use crate::time::Span;
use crate::{Record, Severity, Ts};
use rustc_hash::FxHashMap;
use serde_json::json;

struct Window {
    start: Ts,
    syns: u64,
    completed: u64,
    /// SYNs per source (up to the cap), for the share seen once.
    sources: FxHashMap<AddrKey, u32>,
    sources_overflow: u64,
    last_emit: Option<Ts>,
    last_flood: Option<Ts>,
}

pub struct SynFlood {
    cfg: SynFloodConfig,
    targets: Bounded<(AddrKey, u16), Window>,
    episodes: Episodes,
    window: Span,
    update_interval: Span,
    resolve_after: Span,
}

impl SynFlood {
    pub fn new(cfg: SynFloodConfig, update_interval: Span, resolve_after: Span) -> SynFlood {
        SynFlood {
            targets: Bounded::new(cfg.max_targets),
            episodes: Episodes::new(),
            window: Span::secs(cfg.window_secs as i64),
            update_interval,
            resolve_after,
            cfg,
        }
    }

    pub fn evicted(&self) -> u64 {
        self.targets.evicted
    }

    /// A new SYN from `source` to `target:port`.
    pub fn syn(&mut self, source: AddrKey, target: AddrKey, port: u16, now: Ts) {
        if !self.cfg.enabled {
            return;
        }
        let cap = self.cfg.max_sources_per_target;
        let w = self.targets.entry((target, port), || Window {
            start: now,
            syns: 0,
            completed: 0,
            sources: FxHashMap::default(),
            sources_overflow: 0,
            last_emit: None,
            last_flood: None,
        });
        w.syns += 1;
        if w.sources.len() < cap || w.sources.contains_key(&source) {
            *w.sources.entry(source).or_default() += 1;
        } else {
            w.sources_overflow += 1;
        }
    }

    /// A handshake to `target:port` completed.
    pub fn completed(&mut self, target: AddrKey, port: u16) {
        if let Some(w) = self.targets.get_mut(&(target, port)) {
            w.completed += 1;
        }
    }

    /// Judges every window that has run its length; resolves floods that stopped.
    pub fn sweep(&mut self, now: Ts, end: bool, out: &mut Vec<Record>) {
        if !self.cfg.enabled {
            return;
        }
        let mut keys = self.targets.keys();
        keys.sort();
        for key in keys {
            let Some(w) = self.targets.get_mut(&key) else {
                continue;
            };
            let span = now - w.start;
            if span < self.window && !end {
                continue;
            }
            let secs = (span.0 as f64 / 1e6).max(1.0);
            let rate = w.syns as f64 / secs;
            let share = w.completed.min(w.syns) as f64 / w.syns.max(1) as f64;
            let flood =
                rate >= f64::from(self.cfg.syns_per_sec) && share <= self.cfg.max_completed_share;
            let ep = format!("{}:{}", addr::ip(key.0), key.1);
            if flood {
                let raise = describe(key, w, rate, share);
                let alert = self.episodes.raise(&ep, now, raise);
                let due = w.last_emit.is_none_or(|t| now - t >= self.update_interval);
                if due || end {
                    w.last_emit = Some(now);
                    out.push(Record::Alert(alert));
                }
                w.last_flood = Some(now);
            } else if w.last_flood.is_some_and(|t| now - t >= self.resolve_after) {
                w.last_flood = None;
                w.last_emit = None;
                if let Some(a) = self.episodes.resolve(&ep, now) {
                    out.push(Record::Alert(a));
                }
            }
            w.start = now;
            w.syns = 0;
            w.completed = 0;
            w.sources.clear();
            w.sources_overflow = 0;
        }
        let (window, resolve_after) = (self.window, self.resolve_after);
        self.targets.retain(|_, w| {
            w.syns > 0 || w.last_flood.is_some() || now - w.start < window.max(resolve_after)
        });
    }
}

fn describe(key: (AddrKey, u16), w: &Window, rate: f64, completed: f64) -> Raise {
    let (target, port) = (addr::ip(key.0), key.1);
    let counted = w.sources.len() as u64;
    let once = w.sources.values().filter(|n| **n == 1).count() as u64;
    let once_share =
        (once + w.sources_overflow) as f64 / (counted + w.sources_overflow).max(1) as f64;
    let spoofed = once_share >= 0.9;
    let who = if spoofed {
        "mostly one-off (spoofed) sources".to_string()
    } else {
        format!("{} sources", counted + w.sources_overflow)
    };
    let mut top: Vec<(AddrKey, u32)> = w.sources.iter().map(|(k, n)| (*k, *n)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
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
            src_ip: (!spoofed && counted == 1)
                .then(|| top.first().and_then(|s| s.parse().ok()))
                .flatten(),
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
            "sources": counted + w.sources_overflow,
            "sources_seen_once_share": (once_share * 1000.0).round() / 1000.0,
            "spoofed_likely": spoofed,
            "top_sources": top,
        }),
    }
}
