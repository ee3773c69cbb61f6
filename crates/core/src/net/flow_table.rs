//! The bidirectional flow table: packets in, finished [`FlowRecord`]s out, as a [`Stage`].
//!
//! A flow is a 5-tuple seen from both directions. The originator is the side that sent
//! the first packet, except that a flow first seen at its SYN-ACK is turned around.
//! Flows end on FIN from both sides or RST (after a short linger for late packets), when
//! idle, when evicted because the table is full (oldest first, counted), or at shutdown;
//! long flows are also reported every `active_timeout` and counted afresh.

use super::addr::{self, AddrKey};
use super::config::FlowConfig;
use super::conn_state::{TcpHistory, connectionless_state};
use super::packet::tcp_flags::{ACK, SYN};
use super::packet::{PacketMeta, Protocol};
use crate::time::Span;
use crate::{Event, FlowRecord, Record, Stage, Ts};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::collections::hash_map::Entry;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FlowKey {
    lo: AddrKey,
    hi: AddrKey,
    lo_port: u16,
    hi_port: u16,
    proto: Protocol,
}

#[derive(Clone)]
struct Flow {
    /// The host of its first packet (None: this host's own capture).
    host: Option<crate::HostRef>,
    first: Ts,
    last: Ts,
    /// The originator is the `lo` end of the key.
    orig_is_lo: bool,
    orig_packets: u64,
    orig_bytes: u64,
    resp_packets: u64,
    resp_bytes: u64,
    tcp: TcpHistory,
    closed_at: Option<Ts>,
    /// Matches the eviction queue entry, so stale entries are recognized.
    seq: u64,
}

/// Counters the binary shows (active flows, evictions) next to capture drops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    pub active: usize,
    pub emitted: u64,
    pub evicted: u64,
}

pub struct FlowTable {
    cfg: FlowConfig,
    flows: FxHashMap<FlowKey, Flow>,
    /// Insertion order, for evicting the oldest flow when the table is full.
    order: VecDeque<(FlowKey, u64)>,
    next_seq: u64,
    next_sweep: Ts,
    stats: FlowStats,
}

impl FlowTable {
    pub fn new(cfg: FlowConfig) -> FlowTable {
        FlowTable {
            flows: FxHashMap::default(),
            order: VecDeque::new(),
            next_seq: 0,
            next_sweep: Ts(i64::MIN),
            stats: FlowStats::default(),
            cfg,
        }
    }

    pub fn stats(&self) -> FlowStats {
        FlowStats {
            active: self.flows.len(),
            ..self.stats
        }
    }

    fn key_of(meta: &PacketMeta) -> Option<(FlowKey, bool)> {
        let (src, dst) = (meta.src_ip?, meta.dst_ip?);
        // ARP has no conversation; a TCP or UDP packet POSTed without ports has no
        // 5-tuple (its ports are unknown), so it would only make up a flow on port 0.
        if meta.protocol == Protocol::Arp
            || (meta.no_ports && matches!(meta.protocol, Protocol::Tcp | Protocol::Udp))
        {
            return None;
        }
        let (s, d) = (
            (addr::key(src), meta.src_port),
            (addr::key(dst), meta.dst_port),
        );
        let src_is_lo = s <= d;
        let (lo, hi) = if src_is_lo { (s, d) } else { (d, s) };
        let key = FlowKey {
            lo: lo.0,
            hi: hi.0,
            lo_port: lo.1,
            hi_port: hi.1,
            proto: meta.protocol,
        };
        Some((key, src_is_lo))
    }

    /// Adds one packet; returns a flow it ended (eviction, or a reused closed 5-tuple).
    pub fn add(&mut self, meta: &PacketMeta, now: Ts, out: &mut Vec<Record>) {
        let Some((key, src_is_lo)) = Self::key_of(meta) else {
            return;
        };
        let flags = meta.tcp_flags;
        let fresh_syn = meta.protocol == Protocol::Tcp && flags & (SYN | ACK) == SYN;
        let room = self.flows.len() < self.cfg.max_flows;
        let seq = self.next_seq;
        // One hash lookup for the common cases: a packet of a known flow, or a new flow
        // while the table has room.
        match self.flows.entry(key) {
            Entry::Occupied(mut e) => {
                if !(fresh_syn && e.get().closed_at.is_some()) {
                    Self::update(e.get_mut(), meta, src_is_lo, now);
                    return;
                }
                // A new connection on a closed 5-tuple: report the old one first.
                let old = e.remove();
                out.push(self.record(&key, &old, end_reason(&old)));
            }
            Entry::Vacant(slot) if room => {
                slot.insert(Self::new_flow(meta, src_is_lo, now, seq));
                self.track(key, seq);
                return;
            }
            Entry::Vacant(_) => {}
        }
        if self.flows.len() >= self.cfg.max_flows {
            self.evict_oldest(out);
        }
        self.flows
            .insert(key, Self::new_flow(meta, src_is_lo, now, seq));
        self.track(key, seq);
    }

    fn new_flow(meta: &PacketMeta, src_is_lo: bool, now: Ts, seq: u64) -> Flow {
        // Seen first at its SYN-ACK: the receiver is the originator.
        let synack_first =
            meta.protocol == Protocol::Tcp && meta.tcp_flags & (SYN | ACK) == SYN | ACK;
        let mut flow = Flow {
            host: meta.host.clone(),
            first: now,
            last: now,
            orig_is_lo: src_is_lo != synack_first,
            orig_packets: 0,
            orig_bytes: 0,
            resp_packets: 0,
            resp_bytes: 0,
            tcp: TcpHistory::default(),
            closed_at: None,
            seq,
        };
        Self::update(&mut flow, meta, src_is_lo, now);
        flow
    }

    /// Queues a new flow for eviction in age order.
    fn track(&mut self, key: FlowKey, seq: u64) {
        self.next_seq = seq + 1;
        self.order.push_back((key, seq));
        if self.order.len() > 2 * self.cfg.max_flows.max(1024) {
            let flows = &self.flows;
            self.order
                .retain(|(k, s)| flows.get(k).is_some_and(|f| f.seq == *s));
        }
    }

    fn update(flow: &mut Flow, meta: &PacketMeta, src_is_lo: bool, now: Ts) {
        let from_orig = src_is_lo == flow.orig_is_lo;
        let bytes = u64::from(meta.wire_len);
        if from_orig {
            flow.orig_packets += 1;
            flow.orig_bytes += bytes;
        } else {
            flow.resp_packets += 1;
            flow.resp_bytes += bytes;
        }
        if now > flow.last {
            flow.last = now;
        }
        if meta.protocol == Protocol::Tcp {
            flow.tcp.note(meta.tcp_flags, from_orig);
            if flow.closed_at.is_none() && flow.tcp.is_closed() {
                flow.closed_at = Some(now);
            }
        }
    }

    fn evict_oldest(&mut self, out: &mut Vec<Record>) {
        while let Some((key, seq)) = self.order.pop_front() {
            if self.flows.get(&key).is_some_and(|f| f.seq == seq) {
                let flow = self.flows.remove(&key).expect("present");
                self.stats.evicted += 1;
                out.push(self.record(&key, &flow, "evicted"));
                return;
            }
        }
    }

    /// Ends closed, idle and over-long flows. Runs at most once a second of packet time.
    pub fn sweep(&mut self, now: Ts, out: &mut Vec<Record>) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now + Span::secs(1);
        let cfg = &self.cfg;
        let linger = Span::secs(cfg.close_linger_secs as i64);
        let active = Span::secs(cfg.active_timeout_secs as i64);
        let mut ended: Vec<(FlowKey, Flow, &'static str)> = Vec::new();
        let mut restart: Vec<FlowKey> = Vec::new();
        // Ended flows are taken out in the same pass that finds them: no second lookup.
        self.flows.retain(|key, flow| {
            let reason = match flow.closed_at {
                Some(closed) if now - closed >= linger => end_reason(flow),
                _ if now - flow.last >= idle_limit(cfg, key, flow) => "idle",
                _ => {
                    if now - flow.first >= active {
                        restart.push(*key);
                    }
                    return true;
                }
            };
            ended.push((*key, flow.clone(), reason));
            false
        });
        // seq is unique, so an unstable sort gives the one order: oldest first.
        ended.sort_unstable_by_key(|(_, flow, _)| flow.seq);
        for (key, flow, reason) in ended {
            out.push(self.record(&key, &flow, reason));
        }
        for key in restart {
            let flow = self.flows.remove(&key).expect("present");
            out.push(self.record(&key, &flow, "active"));
            let flow = self.flows.entry(key).or_insert(flow);
            flow.first = now;
            (flow.orig_packets, flow.orig_bytes) = (0, 0);
            (flow.resp_packets, flow.resp_bytes) = (0, 0);
        }
    }

    /// Reports every open flow (`shutdown`), oldest first.
    pub fn flush(&mut self, out: &mut Vec<Record>) {
        let mut all: Vec<(FlowKey, Flow)> = self.flows.drain().collect();
        all.sort_unstable_by_key(|(_, f)| f.seq);
        self.order.clear();
        for (key, flow) in all {
            let reason = if flow.closed_at.is_some() {
                end_reason(&flow)
            } else {
                "shutdown"
            };
            out.push(self.record(&key, &flow, reason));
        }
    }

    fn record(&mut self, key: &FlowKey, flow: &Flow, reason: &'static str) -> Record {
        self.stats.emitted += 1;
        let lo = (addr::ip(key.lo), key.lo_port);
        let hi = (addr::ip(key.hi), key.hi_port);
        let (orig, resp) = if flow.orig_is_lo { (lo, hi) } else { (hi, lo) };
        let state = if key.proto == Protocol::Tcp {
            flow.tcp.state()
        } else {
            connectionless_state(flow.resp_packets)
        };
        Record::Event(Event::Flow(FlowRecord {
            host: flow.host.clone(),
            first_seen: flow.first,
            last_seen: flow.last,
            protocol: key.proto,
            orig_ip: Some(orig.0),
            orig_port: orig.1,
            resp_ip: Some(resp.0),
            resp_port: resp.1,
            orig_packets: flow.orig_packets,
            orig_bytes: flow.orig_bytes,
            resp_packets: flow.resp_packets,
            resp_bytes: flow.resp_bytes,
            state: Cow::Borrowed(state),
            end_reason: Cow::Borrowed(reason),
            orig_owner: None,
            resp_owner: None,
        }))
    }
}

fn idle_limit(cfg: &FlowConfig, key: &FlowKey, flow: &Flow) -> Span {
    let secs = match key.proto {
        Protocol::Tcp if flow.tcp.handshake_answered() => cfg.tcp_idle_secs,
        Protocol::Tcp if flow.resp_packets > 0 => cfg.tcp_idle_secs,
        Protocol::Tcp => cfg.tcp_attempt_idle_secs,
        Protocol::Udp => cfg.udp_idle_secs,
        _ => cfg.other_idle_secs,
    };
    Span::secs(secs as i64)
}

fn end_reason(flow: &Flow) -> &'static str {
    if flow.tcp.was_reset() { "rst" } else { "fin" }
}

impl Stage for FlowTable {
    fn name(&self) -> &'static str {
        "flows"
    }

    fn ingest(&mut self, event: &Event, now: Ts) -> Vec<Record> {
        let mut out = Vec::new();
        if let Event::Packet(meta) = event {
            self.add(meta, now, &mut out);
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
        self.flush(&mut out);
        out
    }
}

#[cfg(test)]
mod tests;
