//! Host discovery sweeps (ARP, ICMP echo, TCP SYN and ACK pings) and IP protocol scans.
//!
//! # The rule
//!
//! A sweep of live hosts is still a sweep, even when every probe is answered, so this
//! counts contacts rather than failures: per source, discovery method (and port, for the
//! TCP pings), the distinct **new** targets of the last `window_secs`. The methods:
//!
//! | method | a contact | its answer |
//! |---|---|---|
//! | `arp` | an ARP packet sender → target (not gratuitous, not an address probe from 0.0.0.0) that answers nothing | an ARP packet back within `answer_timeout_secs` |
//! | `icmp-echo` | an echo request | the echo reply |
//! | `tcp-syn` | a SYN that was refused, went unanswered, or whose SYN-ACK the source closed with a bare RST (half-open: what raw-socket pingers do) | SYN-ACK or RST |
//! | `tcp-ack` | a bare ACK drawing a bare RST (never legitimate) | the RST |
//!
//! Benign look-alikes, and what keeps them out:
//! - **Multicast and broadcast** (mDNS, SSDP, LLMNR, DHCP) are never targets; ARP probes
//!   from 0.0.0.0 (DHCP clients checking an address) and gratuitous ARP are no contact,
//!   and an ARP reply answers a request rather than contacting anyone.
//! - **Baseline.** A target the source contacted within `baseline_secs` is not new: a
//!   monitor pinging a fixed set all day, or a router refreshing its neighbours, adds no
//!   new targets after its first round.
//! - **Warm-up.** Until a source has been watched for `warmup_secs`, its baseline is not
//!   known yet, so its sweep counts only when at least `min_unanswered_share` of the new
//!   targets settled so far (answered, or silent past `answer_timeout_secs`; at least
//!   `targets` of them) stay silent (a subnet sweep mostly meets empty addresses; a monitor's first
//!   round and a router's neighbours answer). After it, `targets` new targets in the
//!   window are a sweep however they are answered. TCP pings need no such care: what
//!   they count (refusals, silence, half-open closes, RSTs to stray ACKs) is never a
//!   healthy client's handshake.
//! - `ignore_sources` for your own inventory or monitoring system.
//!
//! **IP protocol scan** (nmap -sO): `protocols` distinct IP protocols that one host
//! refuses to one source (ICMP protocol unreachable, ICMPv6 unrecognised next header)
//! within the window raise `net.protoscan`.
//!
//! Alerts follow the scan detector's lifecycle: one episode per source, method and port
//! (`net.discovery`) or per source and target (`net.protoscan`), updated at most every
//! `scan.update_interval_secs` while it grows, resolved `scan.resolve_after_secs` after
//! its last new target. Memory is bounded by `max_sources` and `max_targets_per_source`.

pub(crate) mod bounded;
mod report;
mod track;

use crate::episodes::Episodes;
use crate::net::addr::{self, AddrKey};
use crate::net::config::DiscoveryConfig;
use crate::time::Span;
use crate::{Record, Ts};
use bounded::Bounded;
use track::Track;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Arp,
    Echo,
    SynPing,
    AckPing,
}

impl Method {
    pub fn label(self) -> &'static str {
        match self {
            Method::Arp => "arp",
            Method::Echo => "icmp-echo",
            Method::SynPing => "tcp-syn",
            Method::AckPing => "tcp-ack",
        }
    }
}

type TrackKey = (AddrKey, Method, u16);

/// The IP protocols one host refused to one source in the window, as a 256-bit set.
struct ProtoTrack {
    since: Ts,
    last: Ts,
    protos: [u64; 4],
    last_emit: Option<Ts>,
    emitted: u32,
}

impl ProtoTrack {
    fn count(&self) -> u32 {
        self.protos.iter().map(|w| w.count_ones()).sum()
    }
}

/// Counters for the binary to show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiscoveryStats {
    pub sources: usize,
    pub sources_evicted: u64,
    pub targets_forgotten: u64,
}

pub struct Discovery {
    cfg: DiscoveryConfig,
    tracks: Bounded<TrackKey, Track>,
    protos: Bounded<(AddrKey, AddrKey), ProtoTrack>,
    episodes: Episodes,
    window: Span,
    timeout: Span,
    warmup: Span,
    baseline: Span,
    update_interval: Span,
    resolve_after: Span,
    ignore: Vec<AddrKey>,
    forgotten: u64,
    last_cleanup: Ts,
}

impl Discovery {
    pub fn new(cfg: DiscoveryConfig, update_interval: Span, resolve_after: Span) -> Discovery {
        let secs = |s: u64| Span::secs(s as i64);
        Discovery {
            tracks: Bounded::new(cfg.max_sources),
            protos: Bounded::new(cfg.max_sources),
            episodes: Episodes::new(),
            window: secs(cfg.window_secs),
            timeout: secs(cfg.answer_timeout_secs),
            warmup: secs(cfg.warmup_secs),
            baseline: secs(cfg.baseline_secs.max(cfg.window_secs)),
            update_interval,
            resolve_after,
            ignore: cfg.ignore_sources.iter().map(|ip| addr::key(*ip)).collect(),
            forgotten: 0,
            last_cleanup: Ts(0),
            cfg,
        }
    }

    pub fn stats(&self) -> DiscoveryStats {
        DiscoveryStats {
            sources: self.tracks.len() + self.protos.len(),
            sources_evicted: self.tracks.evicted + self.protos.evicted,
            targets_forgotten: self.forgotten,
        }
    }

    fn wanted(&self, source: AddrKey, target: AddrKey) -> bool {
        self.cfg.enabled && source != target && !self.ignore.contains(&source)
    }

    /// `source` contacted `target` by `method` (on `port` for the TCP pings); `answered`
    /// when the outcome is already known to be an answer.
    #[allow(clippy::too_many_arguments)]
    pub fn contact(
        &mut self,
        source: AddrKey,
        target: AddrKey,
        method: Method,
        port: u16,
        answered: bool,
        now: Ts,
        out: &mut Vec<Record>,
    ) {
        if !self.wanted(source, target) || addr::is_group_or_unspecified(addr::ip(target)) {
            return;
        }
        let (baseline, cap) = (self.baseline, self.cfg.max_targets_per_source);
        let key = (source, method, port);
        let track = self.tracks.entry(key, || Track::new(now));
        let before = track.forgotten;
        track.contact(target, answered, now, baseline, cap);
        self.forgotten += track.forgotten - before;
        self.judge(key, now, false, out);
    }

    /// A packet from `responder` to `requester` by `method`: true (and recorded) when it
    /// answers a contact made within the answer timeout.
    pub fn answer(
        &mut self,
        requester: AddrKey,
        responder: AddrKey,
        method: Method,
        now: Ts,
    ) -> bool {
        let timeout = self.timeout;
        match self.tracks.get_mut(&(requester, method, 0)) {
            Some(t) if t.awaits(responder, now, timeout) => {
                t.mark_answered(responder);
                true
            }
            _ => false,
        }
    }

    /// An ARP packet `sender` → `target`: an answer to the target's own contact, or a
    /// contact of its own.
    pub fn arp(&mut self, sender: AddrKey, target: AddrKey, now: Ts, out: &mut Vec<Record>) {
        if sender == target || addr::is_group_or_unspecified(addr::ip(sender)) {
            return; // gratuitous ARP, or an address probe (RFC 5227) from 0.0.0.0
        }
        if !self.answer(target, sender, Method::Arp, now) {
            self.contact(sender, target, Method::Arp, 0, false, now, out);
        }
    }

    /// `target` refused IP protocol `proto` from `source` (protocol unreachable).
    pub fn proto_unreachable(
        &mut self,
        source: AddrKey,
        target: AddrKey,
        proto: u8,
        now: Ts,
        out: &mut Vec<Record>,
    ) {
        if !self.wanted(source, target) {
            return;
        }
        let window = self.window;
        let t = self.protos.entry((source, target), || ProtoTrack {
            since: now,
            last: now,
            protos: [0; 4],
            last_emit: None,
            emitted: 0,
        });
        if t.last_emit.is_none() && now - t.since >= window {
            t.since = now;
            t.protos = [0; 4];
        }
        t.last = now;
        t.protos[usize::from(proto / 64)] |= 1u64 << (proto % 64);
        let n = t.count();
        let due = match t.last_emit {
            None => n >= self.cfg.protocols,
            Some(at) => n > t.emitted && now - at >= self.update_interval,
        };
        if due {
            t.last_emit = Some(now);
            t.emitted = n;
            let raise = report::protoscan(source, target, n, self.cfg.window_secs);
            let key = format!("{}>{}", addr::ip(source), addr::ip(target));
            out.push(Record::Alert(self.episodes.raise(&key, now, raise)));
        }
    }

    /// Decides on one track: opens or updates its episode when the rule holds.
    fn judge(&mut self, key: TrackKey, now: Ts, end: bool, out: &mut Vec<Record>) {
        let (window, timeout, warmup) = (self.window, self.timeout, self.warmup);
        let Some(t) = self.tracks.get_mut(&key) else {
            return;
        };
        t.expire(now, window);
        let j = t.judge(now, timeout, end);
        let emit = match t.last_emit {
            Some(at) => {
                t.episode_targets > t.emitted_targets && (end || now - at >= self.update_interval)
            }
            None => {
                let need = self.cfg.targets as usize;
                let enough = j.targets >= need;
                // The share is of the contacts already settled (answered or timed out),
                // and only once as many have settled as the threshold asks.
                let settled = j.unanswered + j.answered;
                let share = j.unanswered as f64 / settled.max(1) as f64;
                let sure = matches!(key.1, Method::AckPing | Method::SynPing)
                    || now - t.first_seen >= warmup
                    || (settled >= need && share >= self.cfg.min_unanswered_share);
                if enough && sure {
                    t.episode_targets = j.targets as u64;
                    t.episode_answered = j.answered as u64;
                }
                enough && sure
            }
        };
        if !emit {
            return;
        }
        t.last_emit = Some(now);
        t.emitted_targets = t.episode_targets;
        let raise = report::discovery(key, t, &j, self.cfg.window_secs);
        let ep = format!("{}/{}/{}", addr::ip(key.0), key.1.label(), key.2);
        out.push(Record::Alert(self.episodes.raise(&ep, now, raise)));
    }

    /// Once a second: pending contacts time out, episodes update or resolve, idle entries go.
    pub fn sweep(&mut self, now: Ts, out: &mut Vec<Record>) {
        self.tick(now, false, out);
    }

    /// End of the data: every pending contact is unanswered; changed episodes are emitted.
    pub fn end_of_data(&mut self, now: Ts, out: &mut Vec<Record>) {
        self.tick(now, true, out);
    }

    fn tick(&mut self, now: Ts, end: bool, out: &mut Vec<Record>) {
        if !self.cfg.enabled {
            return;
        }
        // Only tracks with something to judge, so a quiet second costs a scan of the
        // table and no sorting of it.
        let mut keys: Vec<TrackKey> = self
            .tracks
            .iter()
            .filter(|(_, t)| t.busy())
            .map(|(k, _)| *k)
            .collect();
        keys.sort();
        for key in keys {
            self.judge(key, now, end, out);
            let resolve_after = self.resolve_after;
            let Some(t) = self.tracks.get_mut(&key) else {
                continue;
            };
            if t.last_emit.is_some() && now - t.last_new >= resolve_after {
                t.last_emit = None;
                t.episode_targets = 0;
                t.emitted_targets = 0;
                let ep = format!("{}/{}/{}", addr::ip(key.0), key.1.label(), key.2);
                if let Some(a) = self.episodes.resolve(&ep, now) {
                    out.push(Record::Alert(a));
                }
            }
        }
        // Idle entries go every 10 s of packet time, not every second.
        if now - self.last_cleanup < Span::secs(10) && !end {
            return;
        }
        self.last_cleanup = now;
        let baseline = self.baseline;
        self.tracks
            .retain(|_, t| t.last_emit.is_some() || !t.idle(now, baseline));
        let mut done = Vec::new();
        let (window, resolve_after) = (self.window, self.resolve_after);
        self.protos.retain(|k, t| {
            let quiet = now - t.last >= resolve_after.max(window);
            if quiet && t.last_emit.is_some() {
                done.push(*k);
            }
            !quiet
        });
        done.sort();
        for (s, d) in done {
            let key = format!("{}>{}", addr::ip(s), addr::ip(d));
            if let Some(a) = self.episodes.resolve(&key, now) {
                out.push(Record::Alert(a));
            }
        }
    }
}

#[cfg(test)]
mod tests;
