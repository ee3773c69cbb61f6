//! The owner table: sockets by (netns, protocol, local end, remote end), listeners by
//! (netns, protocol, port), each with the process the kernel named. Bounded (the oldest
//! socket makes room, counted) and expired: closed sockets after `keep_closed_secs`, idle
//! ones after their protocol's idle time.

use super::event::{
    ConnKind, ConnectionEvent, FlowOwner, SocketOwner, UnknownReason, container_of,
};
use super::procs::{ProcInfo, Procs};
use super::source::OwnerSourceChoice;
use crate::Ts;
use crate::event::ProcessEvent;
use crate::net::addr::{self, AddrKey};
use crate::net::packet::Protocol;
use crate::time::Span;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::net::IpAddr;

/// `[attribution]`: which source names socket owners, and the owner table's sizes and
/// lifetimes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OwnerConfig {
    /// `auto` (eBPF, else /proc scans), `ebpf`, `proc_net` or `off`.
    pub source: OwnerSourceChoice,
    /// eBPF ring buffer in KiB; a record is 88 bytes, so the default 4096 holds about
    /// 47,000 socket events while user space is busy.
    pub ring_buffer_kib: u32,
    /// How often the /proc fallback scans (seconds); connections shorter than this can
    /// be missed by it.
    pub scan_interval_secs: u64,
    /// Most sockets remembered; past it the oldest is forgotten (counted as evicted).
    pub max_sockets: usize,
    /// Most processes whose exec details are remembered.
    pub max_processes: usize,
    /// How long a closed socket (or exited process) is kept: its flow is reported only
    /// after the close linger or idle timeout, and must still find its owner then.
    pub keep_closed_secs: u64,
    /// A UDP socket not seen sending for this long is forgotten.
    pub udp_idle_secs: u64,
    /// A TCP socket whose close was never seen is forgotten after this long.
    pub tcp_idle_secs: u64,
}

impl Default for OwnerConfig {
    fn default() -> Self {
        OwnerConfig {
            source: OwnerSourceChoice::Auto,
            ring_buffer_kib: 4096,
            scan_interval_secs: 2,
            max_sockets: 65_536,
            max_processes: 32_768,
            keep_closed_secs: 300,
            udp_idle_secs: 600,
            tcp_idle_secs: 86_400,
        }
    }
}

impl OwnerConfig {
    /// The first value out of range, as (key, problem).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let bad = |key, what: &str| Err((key, what.to_string()));
        if self.max_sockets == 0 || self.max_processes == 0 {
            return bad(
                "max_sockets",
                "max_sockets and max_processes must be at least 1",
            );
        }
        if !(4..=1_048_576).contains(&self.ring_buffer_kib) {
            return bad("ring_buffer_kib", "must be between 4 and 1048576 (1 GiB)");
        }
        if self.scan_interval_secs == 0 {
            return bad("scan_interval_secs", "must be at least 1 second");
        }
        if self.udp_idle_secs == 0 || self.tcp_idle_secs == 0 {
            return bad(
                "udp_idle_secs",
                "udp_idle_secs and tcp_idle_secs must be at least 1",
            );
        }
        Ok(())
    }
}

/// Counters for /health and /metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OwnerStats {
    pub sockets: usize,
    pub listeners: usize,
    pub processes: usize,
    pub events: u64,
    /// Sockets forgotten because the table was full.
    pub evicted: u64,
    pub expired: u64,
    /// Closes of sockets the table never knew.
    pub closes_unmatched: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct SockKey {
    netns: u32,
    proto: Protocol,
    local: AddrKey,
    lport: u16,
    remote: AddrKey,
    rport: u16,
}

#[derive(Clone, Debug)]
struct Entry {
    owner: Option<SocketOwner>,
    seen: Ts,
    closed: Option<Ts>,
    seq: u64,
}

pub struct OwnerTable {
    cfg: OwnerConfig,
    sockets: FxHashMap<SockKey, Entry>,
    order: VecDeque<(SockKey, u64)>,
    next_seq: u64,
    listeners: FxHashMap<(u32, Protocol, u16), Entry>,
    /// Network namespaces in the order first seen; lookups try each.
    netns: Vec<u32>,
    local: FxHashSet<AddrKey>,
    procs: Procs,
    stats: OwnerStats,
}

const MAX_NETNS: usize = 64;
const MAX_LOCAL_ADDRS: usize = 4096;

fn key_of(ip: Option<IpAddr>) -> AddrKey {
    match ip {
        Some(ip) if !ip.is_unspecified() => addr::key(ip.to_canonical()),
        _ => 0,
    }
}

impl OwnerTable {
    pub fn new(cfg: OwnerConfig) -> OwnerTable {
        OwnerTable {
            procs: Procs::new(cfg.max_processes, Span::secs(cfg.keep_closed_secs as i64)),
            cfg,
            sockets: FxHashMap::default(),
            order: VecDeque::new(),
            next_seq: 0,
            listeners: FxHashMap::default(),
            netns: Vec::new(),
            local: FxHashSet::default(),
            stats: OwnerStats::default(),
        }
    }

    pub fn stats(&self) -> OwnerStats {
        OwnerStats {
            sockets: self.sockets.len(),
            listeners: self.listeners.len(),
            processes: self.procs.len(),
            evicted: self.stats.evicted + self.procs.evicted,
            ..self.stats
        }
    }

    /// Exec events fill in exe, argv, user and ancestry of the pids sockets name.
    pub fn note_process(&mut self, p: &ProcessEvent) {
        self.procs.note(p);
    }

    pub fn process(&self, pid: u32) -> Option<&ProcInfo> {
        self.procs.get(pid)
    }

    pub fn add(&mut self, e: &ConnectionEvent) {
        self.stats.events += 1;
        if !self.netns.contains(&e.netns) && self.netns.len() < MAX_NETNS {
            self.netns.push(e.netns);
        }
        let local = key_of(e.local_ip);
        if local != 0 && self.local.len() < MAX_LOCAL_ADDRS {
            self.local.insert(local);
        }
        let owner = e.owner.clone().map(|o| self.enrich(o));
        if e.kind == ConnKind::Listen {
            let entry = Entry {
                owner,
                seen: e.time,
                closed: None,
                seq: 0,
            };
            self.listeners
                .insert((e.netns, e.protocol, e.local_port), entry);
            return;
        }
        let key = SockKey {
            netns: e.netns,
            proto: e.protocol,
            local,
            lport: e.local_port,
            remote: key_of(e.remote_ip),
            rport: e.remote_port,
        };
        if e.kind == ConnKind::Close {
            match self.sockets.get_mut(&key) {
                Some(entry) => entry.closed = Some(e.time),
                None => match self.listeners.get_mut(&(e.netns, e.protocol, e.local_port)) {
                    Some(l) if key.remote == 0 => l.closed = Some(e.time),
                    _ => self.stats.closes_unmatched += 1,
                },
            }
            return;
        }
        if let Some(entry) = self.sockets.get_mut(&key) {
            entry.seen = e.time;
            entry.closed = None;
            if owner.is_some() {
                entry.owner = owner;
            }
            return;
        }
        if self.sockets.len() >= self.cfg.max_sockets.max(1) {
            self.evict_oldest();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.sockets.insert(
            key,
            Entry {
                owner,
                seen: e.time,
                closed: None,
                seq,
            },
        );
        self.order.push_back((key, seq));
    }

    fn evict_oldest(&mut self) {
        while let Some((key, seq)) = self.order.pop_front() {
            if self.sockets.get(&key).is_some_and(|e| e.seq == seq) {
                self.sockets.remove(&key);
                self.stats.evicted += 1;
                return;
            }
        }
    }

    /// The exec details of the owner's pid, where known; the kernel's fields stay.
    fn enrich(&self, mut o: SocketOwner) -> SocketOwner {
        if let Some(p) = self.procs.get(o.pid) {
            o.exe = o.exe.or_else(|| p.exe.clone());
            o.user = o.user.or_else(|| p.user.clone());
            o.cgroup = o.cgroup.or_else(|| p.cgroup.clone());
        }
        if o.container.is_none() {
            o.container = o.cgroup.as_deref().and_then(container_of);
        }
        o
    }

    /// Whether `ip` is this host's: loopback, or the local address of a socket seen.
    pub fn is_local(&self, ip: IpAddr) -> bool {
        ip.to_canonical().is_loopback() || self.local.contains(&key_of(Some(ip)))
    }

    /// The owner of the `local` end of a conversation with `remote`. `responder`: the
    /// local end answered (so a listener on its port owns it if no socket matched).
    pub fn owner_of(
        &self,
        proto: Protocol,
        local: (IpAddr, u16),
        remote: (IpAddr, u16),
        responder: bool,
    ) -> FlowOwner {
        if !self.is_local(local.0) {
            return FlowOwner::Unknown(UnknownReason::NotLocal);
        }
        let (l, r) = (key_of(Some(local.0)), key_of(Some(remote.0)));
        let found = self.netns.iter().find_map(|&netns| {
            let exact = SockKey {
                netns,
                proto,
                local: l,
                lport: local.1,
                remote: r,
                rport: remote.1,
            };
            // An unconnected UDP socket (or one bound to the wildcard) has no local address.
            let wildcard = SockKey { local: 0, ..exact };
            self.sockets
                .get(&exact)
                .or_else(|| self.sockets.get(&wildcard))
                .or_else(|| {
                    // A bound UDP socket owns its port both ways; a TCP listener only
                    // the connections made to it.
                    (responder || proto == Protocol::Udp)
                        .then(|| self.listeners.get(&(netns, proto, local.1)))
                        .flatten()
                })
        });
        match found {
            Some(Entry { owner: Some(o), .. }) => FlowOwner::Known(self.enrich(o.clone())),
            Some(_) => FlowOwner::Unknown(UnknownReason::NoProcess),
            None => FlowOwner::Unknown(UnknownReason::NotSeen),
        }
    }

    /// The process that most recently opened a connection from `local_ip` to `remote_ip`
    /// (any remote when None): who is behind a scan from a local address.
    pub fn latest_client(
        &self,
        local_ip: IpAddr,
        remote_ip: Option<IpAddr>,
    ) -> Option<SocketOwner> {
        let (l, r) = (key_of(Some(local_ip)), remote_ip.map(|ip| key_of(Some(ip))));
        self.sockets
            .iter()
            .filter(|(k, e)| {
                (k.local == l || k.local == 0)
                    && r.is_none_or(|r| k.remote == r)
                    && e.owner.is_some()
            })
            .max_by_key(|(_, e)| (e.seen, e.seq))
            .and_then(|(_, e)| e.owner.clone())
            .map(|o| self.enrich(o))
    }

    /// The open listeners of `proto` with their processes, by port (at most `max`):
    /// who answers a scan against this host.
    pub fn listeners(&self, proto: Protocol, max: usize) -> Vec<(u16, SocketOwner)> {
        let mut v: Vec<(u16, SocketOwner)> = self
            .listeners
            .iter()
            .filter(|(k, e)| k.1 == proto && e.closed.is_none())
            .filter_map(|(k, e)| Some((k.2, self.enrich(e.owner.clone()?))))
            .collect();
        v.sort_by_key(|(port, o)| (*port, o.pid));
        v.dedup_by_key(|(port, _)| *port);
        v.truncate(max);
        v
    }

    /// Forgets closed, idle and exited entries.
    pub fn expire(&mut self, now: Ts) {
        let keep = Span::secs(self.cfg.keep_closed_secs as i64);
        let udp = Span::secs(self.cfg.udp_idle_secs as i64);
        let tcp = Span::secs(self.cfg.tcp_idle_secs as i64);
        let gone = |proto: Protocol, e: &Entry| match e.closed {
            Some(at) => now - at >= keep,
            None if proto == Protocol::Udp => now - e.seen >= udp,
            None => now - e.seen >= tcp,
        };
        let before = self.sockets.len() + self.listeners.len();
        self.sockets.retain(|k, e| !gone(k.proto, e));
        self.listeners.retain(|k, e| !gone(k.1, e));
        let removed = before - self.sockets.len() - self.listeners.len();
        if removed > 0 {
            self.stats.expired += removed as u64;
            let sockets = &self.sockets;
            self.order
                .retain(|(k, s)| sockets.get(k).is_some_and(|e| e.seq == *s));
        }
        self.procs.expire(now);
    }
}
