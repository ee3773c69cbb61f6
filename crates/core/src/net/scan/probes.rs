//! Probes awaiting an answer: first contacts keyed by their 5-tuple, expiring in order.

use crate::Ts;
use crate::net::addr::AddrKey;
use crate::net::packet::Protocol;
use crate::time::Span;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::collections::hash_map::Entry;

/// What kind of first contact a probe was, which names the scan type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    Syn,
    Fin,
    Null,
    Xmas,
    /// A bare TCP segment with other odd flags and no ACK.
    OddFlags,
    Ack,
    Udp,
    Echo,
    /// FIN|ACK drawing a bare RST (Maimon's scan, nmap -sM).
    Maimon,
}

impl ProbeKind {
    pub const COUNT: usize = 9;

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(i: usize) -> ProbeKind {
        [
            ProbeKind::Syn,
            ProbeKind::Fin,
            ProbeKind::Null,
            ProbeKind::Xmas,
            ProbeKind::OddFlags,
            ProbeKind::Ack,
            ProbeKind::Udp,
            ProbeKind::Echo,
            ProbeKind::Maimon,
        ][i.min(Self::COUNT - 1)]
    }

    pub fn label(self) -> &'static str {
        match self {
            ProbeKind::Syn => "syn",
            ProbeKind::Fin => "fin",
            ProbeKind::Null => "null",
            ProbeKind::Xmas => "xmas",
            ProbeKind::OddFlags => "odd-flags",
            ProbeKind::Ack => "ack",
            ProbeKind::Udp => "udp",
            ProbeKind::Echo => "icmp-echo",
            ProbeKind::Maimon => "maimon",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProbeKey {
    pub scanner: AddrKey,
    pub target: AddrKey,
    pub sport: u16,
    pub dport: u16,
    pub proto: Protocol,
}

impl ProbeKey {
    /// The key of the probe this packet (travelling target → scanner) would answer.
    pub fn reversed(self) -> ProbeKey {
        ProbeKey {
            scanner: self.target,
            target: self.scanner,
            sport: self.dport,
            dport: self.sport,
            proto: self.proto,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Pending {
    pub kind: ProbeKind,
    /// The target answered SYN-ACK; the entry stays to see how the scanner closes.
    pub synacked: bool,
    seq: u64,
}

/// The pending-probe table, bounded; the oldest probe is dropped (counted) when full.
pub struct Probes {
    map: FxHashMap<ProbeKey, Pending>,
    expiry: VecDeque<(Ts, ProbeKey, u64)>,
    timeout: Span,
    max: usize,
    next_seq: u64,
    pub dropped: u64,
}

impl Probes {
    pub fn new(timeout: Span, max: usize) -> Probes {
        Probes {
            map: FxHashMap::default(),
            expiry: VecDeque::new(),
            timeout,
            max: max.max(1),
            next_seq: 0,
            dropped: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn get_mut(&mut self, key: &ProbeKey) -> Option<&mut Pending> {
        self.map.get_mut(key)
    }

    pub fn remove(&mut self, key: &ProbeKey) -> Option<Pending> {
        self.map.remove(key)
    }

    /// Starts tracking a probe unless one is already pending on that 5-tuple
    /// (retransmissions are the same first contact).
    /// Returns true when the probe is new.
    pub fn insert(&mut self, key: ProbeKey, kind: ProbeKind, now: Ts) -> bool {
        if self.map.len() >= self.max && self.map.contains_key(&key) {
            return false;
        }
        while self.map.len() >= self.max {
            match self.expiry.pop_front() {
                Some((_, k, seq)) => {
                    if self.map.get(&k).is_some_and(|p| p.seq == seq) {
                        self.map.remove(&k);
                        self.dropped += 1;
                    }
                }
                None => break,
            }
        }
        let Entry::Vacant(slot) = self.map.entry(key) else {
            return false;
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        slot.insert(Pending {
            kind,
            synacked: false,
            seq,
        });
        self.expiry.push_back((now + self.timeout, key, seq));
        true
    }

    /// Removes probes whose time is up; calls `unanswered` for each that never got a
    /// SYN-ACK (those are failures).
    pub fn expire(&mut self, now: Ts, unanswered: impl FnMut(ProbeKey, ProbeKind)) {
        self.expire_until(|deadline| deadline <= now, unanswered);
    }

    /// Removes every probe, oldest first, calling `unanswered` for each that never got a
    /// SYN-ACK: at the end of the data nothing more can answer them.
    pub fn drain(&mut self, unanswered: impl FnMut(ProbeKey, ProbeKind)) {
        self.expire_until(|_| true, unanswered);
    }

    fn expire_until(
        &mut self,
        due: impl Fn(Ts) -> bool,
        mut unanswered: impl FnMut(ProbeKey, ProbeKind),
    ) {
        while let Some(&(deadline, key, seq)) = self.expiry.front() {
            if !due(deadline) {
                break;
            }
            self.expiry.pop_front();
            if let Entry::Occupied(e) = self.map.entry(key)
                && e.get().seq == seq
            {
                let p = e.remove();
                if !p.synacked {
                    unanswered(key, p.kind);
                }
            }
        }
    }
}

/// The last FIN|ACK segments seen, by 5-tuple: a bare RST answering one names a Maimon
/// probe (nmap -sM) rather than an ACK probe. A fixed-size ring: every connection's close
/// passes through it, and only the last few seconds matter.
pub struct RecentFinAcks {
    set: rustc_hash::FxHashSet<ProbeKey>,
    ring: VecDeque<ProbeKey>,
    cap: usize,
}

impl RecentFinAcks {
    pub fn new(cap: usize) -> RecentFinAcks {
        RecentFinAcks {
            set: Default::default(),
            ring: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    pub fn insert(&mut self, key: ProbeKey) {
        if !self.set.insert(key) {
            return;
        }
        if self.ring.len() >= self.cap
            && let Some(old) = self.ring.pop_front()
        {
            self.set.remove(&old);
        }
        self.ring.push_back(key);
    }

    pub fn contains(&self, key: &ProbeKey) -> bool {
        self.set.contains(key)
    }
}
