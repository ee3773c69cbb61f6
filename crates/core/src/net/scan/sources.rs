//! What each source's first contacts came to: the random walk and the distinct failures
//! of the window, counted per target host and per target port.

use super::probes::ProbeKind;
use crate::Ts;
use crate::net::addr::AddrKey;
use crate::net::packet::Protocol;
use crate::time::Span;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;

/// One distinct failed contact: target host, port (0 for ICMP) and protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Contact {
    pub target: AddrKey,
    pub port: u16,
    pub proto: Protocol,
}

#[derive(Debug)]
pub struct Source {
    /// Threshold Random Walk log-likelihood ratio, clamped to [ln η0, ln η1].
    pub llr: f64,
    /// The failures of the window, allocated at the first one: most sources only ever
    /// succeed, and without it their entry in the table of sources stays small.
    failed: Option<Box<Window>>,
    pub successes: u64,
    pub failures: u64,
    /// Scanner closed a SYN-ACKed probe with a bare RST (half-open) / completed it.
    pub half_open: u32,
    pub completed: u32,
    pub syn_probes: u32,
    pub sport_repeats: u32,
    pub last_syn_sport: Option<u16>,
    pub last_failure: Ts,
    pub seq: u64,
    pub dropped: u64,
    /// The walk's own memory: the last [`TRW_MEMORY`] distinct failed first contacts that
    /// count as evidence for the quick vertical decision, kept past `window` for
    /// `trw_memory_secs` so a scan slower than the window (nmap -T0) still adds up.
    /// Fixed size: a scanner's entry never grows with its scan.
    pub evidence: VecDeque<(Ts, Contact)>,
}

/// Distinct failed contacts each source keeps for the walk's quick vertical decision.
pub const TRW_MEMORY: usize = 16;

/// The distinct failed contacts of the window, counted per target host and port.
#[derive(Debug, Default)]
struct Window {
    recent: VecDeque<(Ts, Contact, ProbeKind)>,
    contacts: FxHashSet<Contact>,
    /// Distinct failed TCP/UDP ports per target host.
    ports_per_host: FxHashMap<AddrKey, u32>,
    /// Distinct failed hosts per (protocol, port); ICMP echo is (Icmp, 0).
    hosts_per_port: FxHashMap<(Protocol, u16), u32>,
    /// Failures in the window by probe kind.
    kinds: [u32; ProbeKind::COUNT],
}

impl Source {
    pub fn new(now: Ts, llr: f64, seq: u64) -> Source {
        Source {
            llr,
            failed: None,
            successes: 0,
            failures: 0,
            half_open: 0,
            completed: 0,
            syn_probes: 0,
            sport_repeats: 0,
            last_syn_sport: None,
            last_failure: now,
            seq,
            dropped: 0,
            evidence: VecDeque::new(),
        }
    }

    /// Remembers a failed contact as evidence for the walk (duplicates once, oldest out).
    pub fn add_evidence(&mut self, c: Contact, now: Ts) {
        if let Some(i) = self.evidence.iter().position(|(_, e)| *e == c) {
            self.evidence.remove(i);
        } else if self.evidence.len() >= TRW_MEMORY {
            self.evidence.pop_front();
        }
        self.evidence.push_back((now, c));
    }

    /// Forgets evidence older than `memory`.
    pub fn expire_evidence(&mut self, now: Ts, memory: Span) {
        while self
            .evidence
            .front()
            .is_some_and(|(t, _)| now - *t >= memory)
        {
            self.evidence.pop_front();
        }
    }

    /// Distinct ports of the walk's evidence on `host`.
    pub fn evidence_ports_on(&self, host: AddrKey) -> u32 {
        self.evidence
            .iter()
            .filter(|(_, c)| c.target == host)
            .count() as u32
    }

    /// Adds a failed contact; returns false when it was already counted in the window.
    pub fn add_failure(&mut self, c: Contact, kind: ProbeKind, now: Ts, cap: usize) -> bool {
        let w = self.failed.get_or_insert_with(Box::default);
        if !w.contacts.insert(c) {
            return false;
        }
        if w.recent.len() >= cap {
            w.pop_oldest();
            self.dropped += 1;
        }
        w.recent.push_back((now, c, kind));
        if c.proto != Protocol::Icmp && c.proto != Protocol::Icmpv6 {
            *w.ports_per_host.entry(c.target).or_default() += 1;
        }
        *w.hosts_per_port.entry((c.proto, c.port)).or_default() += 1;
        w.kinds[kind.index()] += 1;
        self.failures += 1;
        self.last_failure = now;
        true
    }

    /// Forgets failures older than the window.
    pub fn expire(&mut self, now: Ts, window: Span) {
        let Some(w) = &mut self.failed else {
            return;
        };
        while w.recent.front().is_some_and(|(t, _, _)| now - *t >= window) {
            w.pop_oldest();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.failed.as_ref().is_none_or(|w| w.recent.is_empty())
    }

    /// Distinct failed contacts in the window, oldest first.
    pub fn contacts(&self) -> impl Iterator<Item = &Contact> {
        self.failed
            .iter()
            .flat_map(|w| w.recent.iter().map(|(_, c, _)| c))
    }

    /// Distinct failed TCP/UDP ports on `host` in the window.
    pub fn ports_on(&self, host: AddrKey) -> u32 {
        let w = self.failed.as_ref();
        w.and_then(|w| w.ports_per_host.get(&host).copied())
            .unwrap_or(0)
    }

    /// Distinct failed hosts on `(proto, port)` in the window.
    pub fn hosts_on(&self, proto: Protocol, port: u16) -> u32 {
        let w = self.failed.as_ref();
        w.and_then(|w| w.hosts_per_port.get(&(proto, port)).copied())
            .unwrap_or(0)
    }

    /// Most common failing probe kind among those `keep` accepts.
    pub fn dominant_kind(&self, keep: impl Fn(ProbeKind) -> bool) -> Option<ProbeKind> {
        let kinds = self.failed.as_ref()?.kinds;
        (0..ProbeKind::COUNT)
            .map(ProbeKind::from_index)
            .filter(|k| keep(*k) && kinds[k.index()] > 0)
            .max_by_key(|k| (kinds[k.index()], std::cmp::Reverse(k.index())))
    }
}

impl Window {
    fn pop_oldest(&mut self) {
        let Some((_, c, kind)) = self.recent.pop_front() else {
            return;
        };
        self.contacts.remove(&c);
        if let Some(n) = self.ports_per_host.get_mut(&c.target) {
            *n -= 1;
            if *n == 0 {
                self.ports_per_host.remove(&c.target);
            }
        }
        let pk = (c.proto, c.port);
        if let Some(n) = self.hosts_per_port.get_mut(&pk) {
            *n -= 1;
            if *n == 0 {
                self.hosts_per_port.remove(&pk);
            }
        }
        self.kinds[kind.index()] -= 1;
    }
}
