//! The scan detector stage: packets to probe outcomes, outcomes to scan episodes.

use super::ScanKind;
use super::discovery::{Discovery, Method};
use super::flood::SynFlood;
use super::probes::{ProbeKey, ProbeKind, Probes, RecentFinAcks};
use super::sources::{Contact, Source};
use crate::alert::Alert;
use crate::episodes::{Episodes, Raise};
use crate::net::addr::{self, AddrKey};
use crate::net::config::{DiscoveryConfig, ScanConfig, SynFloodConfig};
use crate::net::packet::tcp_flags::{ACK, FIN, PSH, RST, SYN, URG};
use crate::net::packet::{PacketMeta, Protocol};
use crate::time::Span;
use crate::{Event, Record, Stage, Ts};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::collections::hash_map::Entry;

struct OpenEpisode {
    last_emit: Ts,
    dirty: bool,
}

/// Counters for the binary to show (bounded tables, what they dropped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    pub pending_probes: usize,
    pub pending_dropped: u64,
    pub sources: usize,
    pub sources_evicted: u64,
    pub contacts_dropped: u64,
    /// Host-discovery trackers: (source, method) pairs and protocol-scan pairs held,
    /// evicted to stay under `discovery.max_sources`, and baseline targets forgotten.
    pub discovery_sources: usize,
    pub discovery_sources_evicted: u64,
    pub discovery_targets_forgotten: u64,
    /// SYN-flood target ports evicted to stay under `syn_flood.max_targets`.
    pub flood_targets_evicted: u64,
}

pub struct ScanDetector {
    cfg: ScanConfig,
    probes: Probes,
    fin_acks: RecentFinAcks,
    sources: FxHashMap<AddrKey, Source>,
    order: VecDeque<(AddrKey, u64)>,
    next_seq: u64,
    /// One lifecycle per alert kind, keyed by the scanner's address.
    episodes: [Episodes; 3],
    open: FxHashMap<(AddrKey, ScanKind), OpenEpisode>,
    fail_step: f64,
    success_step: f64,
    llr_hi: f64,
    llr_lo: f64,
    window: Span,
    trw_memory: Span,
    update_interval: Span,
    resolve_after: Span,
    ignore: Vec<AddrKey>,
    sources_evicted: u64,
    /// Outcomes found while expiring probes, applied after the borrow ends.
    expired: Vec<(ProbeKey, ProbeKind)>,
    /// Host discovery and IP protocol scans, fed the probe outcomes seen here.
    discovery: Discovery,
    /// SYN floods, fed new SYNs and completed handshakes from the probe table.
    flood: SynFlood,
}

impl ScanDetector {
    /// The scan detector with host discovery at its defaults.
    pub fn new(cfg: ScanConfig) -> ScanDetector {
        ScanDetector::with_discovery(cfg, DiscoveryConfig::default())
    }

    pub fn with_discovery(cfg: ScanConfig, discovery: DiscoveryConfig) -> ScanDetector {
        ScanDetector::configured(cfg, discovery, SynFloodConfig::default())
    }

    pub fn configured(
        cfg: ScanConfig,
        discovery: DiscoveryConfig,
        flood: SynFloodConfig,
    ) -> ScanDetector {
        let (t0, t1) = (cfg.trw_benign_success, cfg.trw_scanner_success);
        let (pd, pf) = (cfg.trw_detection, cfg.trw_false_positive);
        let secs = |s: u64| Span::secs(s as i64);
        ScanDetector {
            probes: Probes::new(secs(cfg.probe_timeout_secs), cfg.max_pending_probes),
            fin_acks: RecentFinAcks::new(4096),
            sources: FxHashMap::default(),
            order: VecDeque::new(),
            next_seq: 0,
            episodes: [Episodes::new(), Episodes::new(), Episodes::new()],
            open: FxHashMap::default(),
            fail_step: ((1.0 - t1) / (1.0 - t0)).ln(),
            success_step: (t1 / t0).ln(),
            llr_hi: (pd / pf).ln(),
            llr_lo: ((1.0 - pd) / (1.0 - pf)).ln(),
            window: secs(cfg.window_secs),
            trw_memory: secs(cfg.trw_memory_secs.max(cfg.window_secs)),
            update_interval: secs(cfg.update_interval_secs),
            resolve_after: secs(cfg.resolve_after_secs),
            ignore: cfg.ignore_sources.iter().map(|ip| addr::key(*ip)).collect(),
            sources_evicted: 0,
            expired: Vec::new(),
            discovery: Discovery::new(
                discovery,
                secs(cfg.update_interval_secs),
                secs(cfg.resolve_after_secs),
            ),
            flood: SynFlood::new(
                flood,
                secs(cfg.update_interval_secs),
                secs(cfg.resolve_after_secs),
            ),
            cfg,
        }
    }

    pub fn stats(&self) -> ScanStats {
        let d = self.discovery.stats();
        ScanStats {
            pending_probes: self.probes.len(),
            pending_dropped: self.probes.dropped,
            sources: self.sources.len(),
            sources_evicted: self.sources_evicted,
            contacts_dropped: self.sources.values().map(|s| s.dropped).sum(),
            discovery_sources: d.sources,
            discovery_sources_evicted: d.sources_evicted,
            discovery_targets_forgotten: d.targets_forgotten,
            flood_targets_evicted: self.flood.evicted(),
        }
    }

    /// Feeds one packet; appends alerts opened or updated by it.
    pub fn packet(&mut self, m: &PacketMeta, now: Ts, out: &mut Vec<Record>) {
        if !self.cfg.enabled {
            return;
        }
        self.expire_probes(now, out);
        let (Some(src), Some(dst)) = (m.src_ip, m.dst_ip) else {
            return;
        };
        let key = ProbeKey {
            scanner: addr::key(src),
            target: addr::key(dst),
            sport: m.src_port,
            dport: m.dst_port,
            proto: m.protocol,
        };
        match m.protocol {
            Protocol::Tcp => self.tcp(
                key,
                m.tcp_flags,
                addr::is_group_or_unspecified(dst),
                now,
                out,
            ),
            Protocol::Udp => {
                if self.probes.remove(&key.reversed()).is_some() {
                    self.success(key.target, now);
                } else if !addr::is_group_or_unspecified(dst) && !traceroute_port(key.dport) {
                    self.probes.insert(key, ProbeKind::Udp, now);
                }
            }
            Protocol::Icmp | Protocol::Icmpv6 => self.icmp(m, key, now, out),
            Protocol::Arp => self.discovery.arp(key.scanner, key.target, now, out),
            _ => {}
        }
    }

    fn tcp(&mut self, key: ProbeKey, flags: u8, group: bool, now: Ts, out: &mut Vec<Record>) {
        let probe_kind = match flags & (SYN | ACK | RST) {
            SYN => Some(ProbeKind::Syn),
            0 => Some(match flags & (FIN | PSH | URG) {
                0 => ProbeKind::Null,
                FIN => ProbeKind::Fin,
                x if x == FIN | PSH | URG => ProbeKind::Xmas,
                _ => ProbeKind::OddFlags,
            }),
            _ => None,
        };
        if let Some(kind) = probe_kind {
            if !group && self.probes.insert(key, kind, now) && kind == ProbeKind::Syn {
                self.flood.syn(key.scanner, key.target, key.dport, now);
            }
            return;
        }
        if flags & (SYN | ACK) == SYN | ACK {
            let rev = key.reversed();
            if let Some(p) = self.probes.get_mut(&rev)
                && !p.synacked
            {
                p.synacked = true;
                self.success(rev.scanner, now);
            }
            return;
        }
        if flags & RST == 0 {
            // The scanner ACKs the SYN-ACK: a completed handshake, a connect. The probe
            // is settled and leaves the table, which keeps the table to the probes
            // still awaiting an answer or a close (small, so this lookup stays cheap).
            if flags & (SYN | FIN) == 0
                && let Some(p) = self.probes.get_mut(&key)
                && p.synacked
                && p.kind == ProbeKind::Syn
            {
                self.probes.remove(&key);
                self.flood.completed(key.target, key.dport);
                if let Some(s) = self.sources.get_mut(&key.scanner) {
                    s.completed += 1;
                }
            }
            if flags & (FIN | ACK | PSH | URG) == FIN | ACK && !group {
                self.fin_acks.insert(key);
            }
            return;
        }
        // RST from the scanner closing a probe the target accepted: half-open or not.
        if let Some(p) = self.probes.get_mut(&key) {
            if p.synacked && p.kind == ProbeKind::Syn {
                p.kind = ProbeKind::OddFlags; // count each probe's close once
                let s = self.source(key.scanner, now);
                if flags & ACK == 0 {
                    s.half_open += 1;
                    let d = &mut self.discovery;
                    d.contact(
                        key.scanner,
                        key.target,
                        Method::SynPing,
                        key.dport,
                        true,
                        now,
                        out,
                    );
                } else {
                    s.completed += 1;
                }
            }
            return;
        }
        // RST from the target: the probe failed (closed port).
        let rev = key.reversed();
        if let Some(p) = self.probes.get_mut(&rev) {
            if !p.synacked {
                let kind = p.kind;
                self.probes.remove(&rev);
                self.failure(rev, kind, true, now, out);
            }
            return;
        }
        // A bare RST no probe explains answers an ACK probe from its receiver, or a
        // FIN|ACK one (Maimon) when that is what went the other way just before.
        if flags & ACK == 0 {
            let kind = if self.fin_acks.contains(&rev) {
                ProbeKind::Maimon
            } else {
                ProbeKind::Ack
            };
            self.failure(rev, kind, true, now, out);
        }
    }

    fn icmp(&mut self, m: &PacketMeta, key: ProbeKey, now: Ts, out: &mut Vec<Record>) {
        let Some(info) = &m.icmp else {
            return;
        };
        let v6 = m.protocol == Protocol::Icmpv6;
        let (request, reply) = if v6 { (128, 129) } else { (8, 0) };
        if info.icmp_type == request {
            if !addr::is_group_or_unspecified(m.dst_ip.expect("checked")) {
                self.probes.insert(key, ProbeKind::Echo, now);
                let d = &mut self.discovery;
                d.contact(key.scanner, key.target, Method::Echo, 0, false, now, out);
            }
        } else if info.icmp_type == reply {
            self.discovery
                .answer(key.target, key.scanner, Method::Echo, now);
            if self.probes.remove(&key.reversed()).is_some() {
                self.success(key.target, now);
            }
        } else if let Some(q) = &info.quoted
            && q.protocol == Protocol::Other
            && (info.icmp_type, info.code) == if v6 { (4, 1) } else { (3, 2) }
        {
            // Protocol unreachable: the quoted header carries the IP protocol number
            // in its destination port (see `QuotedHeader`).
            let (s, t) = (addr::key(q.src_ip), addr::key(q.dst_ip));
            self.discovery
                .proto_unreachable(s, t, q.dst_port as u8, now, out);
        } else if let Some(q) = &info.quoted
            && info.icmp_type == if v6 { 1 } else { 3 }
        {
            // An error about a probe: unreachable port, host or prohibited. (Time
            // exceeded is traceroute's answer, not a refusal: it says nothing.)
            let probe = ProbeKey {
                scanner: addr::key(q.src_ip),
                target: addr::key(q.dst_ip),
                sport: q.src_port,
                dport: q.dst_port,
                proto: q.protocol,
            };
            if q.protocol == Protocol::Udp && traceroute_port(q.dst_port) {
                self.probes.remove(&probe);
                return;
            }
            let kind = match self.probes.remove(&probe) {
                Some(p) if p.synacked => return,
                Some(p) => p.kind,
                None if q.protocol == Protocol::Udp => ProbeKind::Udp,
                None if q.protocol == Protocol::Tcp => ProbeKind::Syn,
                None => return,
            };
            self.failure(probe, kind, true, now, out);
        }
    }

    fn expire_probes(&mut self, now: Ts, out: &mut Vec<Record>) {
        let mut expired = std::mem::take(&mut self.expired);
        self.probes.expire(now, |k, kind| expired.push((k, kind)));
        for (key, kind) in expired.drain(..) {
            self.failure(key, kind, false, now, out);
        }
        self.expired = expired;
    }

    fn source(&mut self, scanner: AddrKey, now: Ts) -> &mut Source {
        if self.sources.len() >= self.cfg.max_sources.max(1) && !self.sources.contains_key(&scanner)
        {
            while self.sources.len() >= self.cfg.max_sources.max(1) {
                let Some((k, seq)) = self.order.pop_front() else {
                    break;
                };
                if self.sources.get(&k).is_some_and(|s| s.seq == seq) {
                    self.sources.remove(&k);
                    self.sources_evicted += 1;
                }
            }
        }
        match self.sources.entry(scanner) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(slot) => {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.order.push_back((scanner, seq));
                slot.insert(Source::new(now, 0.0, seq))
            }
        }
    }

    fn success(&mut self, scanner: AddrKey, now: Ts) {
        if self.ignore.contains(&scanner) {
            return;
        }
        let (step, lo) = (self.success_step, self.llr_lo);
        let s = self.source(scanner, now);
        s.successes += 1;
        s.llr = (s.llr + step).max(lo);
    }

    /// A failed first contact; `refused` when the target said no (RST, ICMP unreachable)
    /// rather than staying silent.
    fn failure(
        &mut self,
        probe: ProbeKey,
        kind: ProbeKind,
        refused: bool,
        now: Ts,
        out: &mut Vec<Record>,
    ) {
        let ping = match kind {
            ProbeKind::Syn => Some((Method::SynPing, refused)),
            ProbeKind::Ack => Some((Method::AckPing, true)),
            _ => None,
        };
        if let Some((method, answered)) = ping {
            let (s, t, port) = (probe.scanner, probe.target, probe.dport);
            self.discovery
                .contact(s, t, method, port, answered, now, out);
        }
        if self.ignore.contains(&probe.scanner) {
            return;
        }
        let contact = Contact {
            target: probe.target,
            port: if kind == ProbeKind::Echo {
                0
            } else {
                probe.dport
            },
            proto: probe.proto,
        };
        let (window, cap) = (self.window, self.cfg.max_contacts_per_source);
        let (step, hi, memory) = (self.fail_step, self.llr_hi, self.trw_memory);
        let s = self.source(probe.scanner, now);
        s.expire(now, window);
        s.expire_evidence(now, memory);
        if !s.add_failure(contact, kind, now, cap) {
            return;
        }
        // Evidence for the quick vertical decision: UDP silence is not (one-way
        // telemetry looks just like it), every other failure is.
        if contact.proto == Protocol::Tcp || (contact.proto == Protocol::Udp && refused) {
            s.add_evidence(contact, now);
        }
        s.llr = (s.llr + step).min(hi);
        if kind == ProbeKind::Syn {
            s.syn_probes += 1;
            if s.last_syn_sport == Some(probe.sport) {
                s.sport_repeats += 1;
            }
            s.last_syn_sport = Some(probe.sport);
        }
        let scanner_now = s.llr >= hi - 1e-9;
        let hits = self.breadth_hits(probe.scanner, &contact);
        for kind in [ScanKind::PortScan, ScanKind::Sweep, ScanKind::PingSweep] {
            let ep_key = (probe.scanner, kind);
            if let Some(ep) = self.open.get_mut(&ep_key) {
                ep.dirty = true;
                if now - ep.last_emit >= self.update_interval {
                    self.emit(probe.scanner, kind, now, out);
                }
            } else if scanner_now && hits.contains(&kind) {
                self.emit(probe.scanner, kind, now, out);
            }
        }
    }

    /// Which breadth thresholds this new failure makes true for its source.
    fn breadth_hits(&self, scanner: AddrKey, c: &Contact) -> Vec<ScanKind> {
        let s = &self.sources[&scanner];
        let mut hits = Vec::new();
        if matches!(c.proto, Protocol::Icmp | Protocol::Icmpv6) {
            let hosts = s.hosts_on(Protocol::Icmp, 0) + s.hosts_on(Protocol::Icmpv6, 0);
            if hosts >= self.cfg.ping_hosts {
                hits.push(ScanKind::PingSweep);
            }
            return hits;
        }
        if s.ports_on(c.target) >= self.cfg.vertical_ports
            || s.evidence_ports_on(c.target) >= self.cfg.trw_vertical_ports
        {
            hits.push(ScanKind::PortScan);
        }
        let on_port = s.hosts_on(c.proto, c.port);
        if on_port >= self.cfg.horizontal_hosts {
            hits.push(ScanKind::Sweep);
        }
        hits
    }

    fn emit(&mut self, scanner: AddrKey, kind: ScanKind, now: Ts, out: &mut Vec<Record>) {
        let alert = self.raise(scanner, kind, now);
        self.open.insert(
            (scanner, kind),
            OpenEpisode {
                last_emit: now,
                dirty: false,
            },
        );
        out.push(Record::Alert(alert));
    }

    fn raise(&mut self, scanner: AddrKey, kind: ScanKind, now: Ts) -> Alert {
        let mut raise: Raise =
            super::report::describe(&self.sources[&scanner], &self.cfg, scanner, kind);
        let key = addr::ip(scanner).to_string();
        // The window slides past an episode's early contacts while it goes on; it is
        // described at its peak, never by what is left in the window (down to nothing).
        if let Some(peak) = self.episodes[kind as usize].get(&key)
            && super::report::smaller(&raise.details, &peak.details)
        {
            raise.severity = raise.severity.max(peak.severity);
            raise.subject = peak.subject.clone();
            raise.message = peak.message.clone();
            raise.details = peak.details.clone();
        }
        self.episodes[kind as usize].raise(&key, now, raise)
    }

    /// Expires windows and probes, re-emits changed episodes, resolves finished ones.
    pub fn sweep(&mut self, now: Ts, out: &mut Vec<Record>) {
        if !self.cfg.enabled {
            return;
        }
        self.expire_probes(now, out);
        self.discovery.sweep(now, out);
        self.flood.sweep(now, false, out);
        let mut keys: Vec<(AddrKey, ScanKind)> = self.open.keys().copied().collect();
        keys.sort();
        for (scanner, kind) in keys {
            let last_failure = self.sources.get(&scanner).map(|s| s.last_failure);
            let ep = &self.open[&(scanner, kind)];
            let (dirty, last_emit) = (ep.dirty, ep.last_emit);
            let done = last_failure.is_none_or(|t| now - t >= self.resolve_after);
            if done {
                if dirty && last_failure.is_some() {
                    self.raise(scanner, kind, now);
                }
                let key = addr::ip(scanner).to_string();
                self.open.remove(&(scanner, kind));
                if let Some(a) = self.episodes[kind as usize].resolve(&key, now) {
                    out.push(Record::Alert(a));
                }
            } else if dirty {
                // Described every tick while it has news, so its peak is kept even when
                // the next update comes after the window has slid past it.
                let alert = self.raise(scanner, kind, now);
                if now - last_emit >= self.update_interval {
                    self.open.insert(
                        (scanner, kind),
                        OpenEpisode {
                            last_emit: now,
                            dirty: false,
                        },
                    );
                    out.push(Record::Alert(alert));
                }
            }
        }
        let (window, memory, open) = (self.window, self.trw_memory, &self.open);
        self.sources.retain(|k, s| {
            s.expire(now, window);
            s.expire_evidence(now, memory);
            // A source whose walk leans towards "scanner" is kept as long as its
            // evidence is, so a scan slower than the window still adds up.
            let leaning = s.llr > 0.0 && !s.evidence.is_empty();
            let busy = !s.is_empty() || now - s.last_failure < window || leaning;
            busy || open.contains_key(&(*k, ScanKind::PortScan))
                || open.contains_key(&(*k, ScanKind::Sweep))
                || open.contains_key(&(*k, ScanKind::PingSweep))
        });
    }
}

impl ScanDetector {
    /// The end of the data (end of a file, shutdown): every probe still pending is judged
    /// as what it is, unanswered up to the last packet, so a capture that stops before
    /// `probe_timeout` runs out (or a one-way capture) still has its scans reported.
    /// Then every changed episode is emitted with its final counts.
    pub fn end_of_data(&mut self, now: Ts, out: &mut Vec<Record>) {
        if !self.cfg.enabled {
            return;
        }
        let mut expired = std::mem::take(&mut self.expired);
        self.probes.drain(|k, kind| expired.push((k, kind)));
        for (key, kind) in expired.drain(..) {
            self.failure(key, kind, false, now, out);
        }
        self.expired = expired;
        self.discovery.end_of_data(now, out);
        self.flood.sweep(now, true, out);
        self.flush(now, out);
    }

    /// Emits the latest counts of every episode that changed since it was last emitted,
    /// so the final word on a scan is never an early count (end of a file, shutdown).
    pub fn flush(&mut self, now: Ts, out: &mut Vec<Record>) {
        let mut dirty: Vec<(AddrKey, ScanKind)> = self
            .open
            .iter()
            .filter(|(_, ep)| ep.dirty)
            .map(|(k, _)| *k)
            .collect();
        dirty.sort();
        for (scanner, kind) in dirty {
            self.emit(scanner, kind, now, out);
        }
    }
}

/// UDP ports traceroute aims at (33434–33534, IANA's "traceroute"): its probes to them are
/// answered by ICMP port unreachable at the last hop by design, and are no scan.
fn traceroute_port(port: u16) -> bool {
    (33434..=33534).contains(&port)
}

impl Stage for ScanDetector {
    fn name(&self) -> &'static str {
        "scan"
    }

    fn ingest(&mut self, event: &Event, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        if let Event::Packet(m) = event {
            self.packet(m, now, &mut out);
        }
        out
    }

    fn tick(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        self.sweep(now, &mut out);
        out
    }

    fn finish(&mut self, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        self.sweep(now, &mut out);
        self.end_of_data(now, &mut out);
        out
    }
}
