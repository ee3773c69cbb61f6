//! ARP spoofing, as arpwatch sees it: an address whose MAC changes while the old one is
//! still about, gratuitous ARP against the known mapping, and one MAC claiming many
//! addresses.
//!
//! # The rule
//!
//! Every ARP packet says "address S is at MAC M" (its sender fields; probes from 0.0.0.0
//! say nothing). The first M seen for S is learnt. A different M while the learnt one was
//! seen within `hold_secs` is a conflict: `net.arpspoof` for S with the old and the new
//! MAC, marked gratuitous when the packet was (sender = target address), and critical
//! when S is a gateway (`gateways`, else the address most hosts ask for, by at least 3).
//! Flipping back and forth (a spoofer against the real owner) updates the same episode.
//! After `hold_secs` of silence from the old MAC, S simply moved (a lease handed on, a
//! new card): learnt without an alert. One MAC claiming `max_ips_per_mac` addresses
//! within `hold_secs` is raised under the MAC. Episodes resolve after
//! `scan.resolve_after_secs` without a new conflict.

use super::addr::{self, AddrKey};
use super::config::ArpSpoofConfig;
use super::packet::{ArpInfo, PacketMeta, Protocol, mac_text};
use super::scan::discovery::bounded::Bounded;
use crate::alert::Subject;
use crate::episodes::{Episodes, Raise};
use crate::time::Span;
use crate::{Record, Severity, Ts};
use serde_json::json;
use std::collections::VecDeque;

type Mac = [u8; 6];

/// Parses `aa:bb:cc:dd:ee:ff` (or with `-`).
pub fn parse_mac(s: &str) -> Option<Mac> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    let mut mac = [0u8; 6];
    if parts.len() != 6 {
        return None;
    }
    for (b, p) in mac.iter_mut().zip(parts) {
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    Some(mac)
}

struct Host {
    mac: Mac,
    last_seen: Ts,
}

struct Open {
    last_conflict: Ts,
    last_emit: Ts,
}

pub struct ArpSpoof {
    cfg: ArpSpoofConfig,
    hosts: Bounded<AddrKey, Host>,
    /// Per MAC, the addresses it claimed lately (distinct, newest last).
    claims: Bounded<Mac, VecDeque<(Ts, AddrKey)>>,
    /// Per address asked for, up to 8 distinct requesters (the gateway heuristic).
    asked: Bounded<AddrKey, Vec<AddrKey>>,
    open: Bounded<String, Open>,
    episodes: Episodes,
    ignore: Vec<Mac>,
    gateways: Vec<AddrKey>,
    hold: Span,
    update_interval: Span,
    resolve_after: Span,
}

impl ArpSpoof {
    pub fn new(cfg: ArpSpoofConfig, update_interval: Span, resolve_after: Span) -> ArpSpoof {
        let cap = cfg.max_hosts;
        ArpSpoof {
            hosts: Bounded::new(cap),
            claims: Bounded::new(cap),
            asked: Bounded::new(cap),
            open: Bounded::new(cap),
            episodes: Episodes::new(),
            ignore: cfg
                .ignore_macs
                .iter()
                .filter_map(|m| parse_mac(m))
                .collect(),
            gateways: cfg.gateways.iter().map(|ip| addr::key(*ip)).collect(),
            hold: Span::secs(cfg.hold_secs as i64),
            update_interval,
            resolve_after,
            cfg,
        }
    }

    /// Addresses and MACs forgotten to stay under `max_hosts`.
    pub fn evicted(&self) -> u64 {
        self.hosts.evicted + self.claims.evicted
    }

    pub fn packet(&mut self, m: &PacketMeta, now: Ts, out: &mut Vec<Record>) {
        if !self.cfg.enabled || m.protocol != Protocol::Arp {
            return;
        }
        let (Some(info), Some(src), Some(dst)) = (m.arp, m.src_ip, m.dst_ip) else {
            return;
        };
        let mac = info.sender_mac;
        if src.is_unspecified() || mac == [0; 6] || mac == [0xff; 6] || self.ignore.contains(&mac) {
            return;
        }
        let (s, t) = (addr::key(src), addr::key(dst));
        if info.op == ArpInfo::REQUEST && s != t {
            let who = self.asked.entry(t, Vec::new);
            if who.len() < 8 && !who.contains(&s) {
                who.push(s);
            }
        }
        let hold = self.hold;
        let host = self.hosts.entry(s, || Host {
            mac,
            last_seen: now,
        });
        if host.mac == mac {
            host.last_seen = now;
        } else {
            let (old, seen) = (host.mac, host.last_seen);
            host.mac = mac;
            host.last_seen = now;
            if now - seen < hold {
                let gratuitous = s == t;
                self.conflict(s, old, mac, gratuitous, now, out);
            }
        }
        self.claim(mac, s, now, out);
    }

    fn is_gateway(&self, ip: AddrKey) -> bool {
        if !self.gateways.is_empty() {
            return self.gateways.contains(&ip);
        }
        let most = self
            .asked
            .keys()
            .into_iter()
            .filter_map(|k| {
                let n = self.asked.get(&k).map_or(0, Vec::len);
                (n >= 3).then_some((n, k))
            })
            .max();
        most.is_some_and(|(_, k)| k == ip)
    }

    fn conflict(
        &mut self,
        ip: AddrKey,
        old: Mac,
        new: Mac,
        gratuitous: bool,
        now: Ts,
        out: &mut Vec<Record>,
    ) {
        let gateway = self.is_gateway(ip);
        let claims = self.claims.get(&new).map_or(0, VecDeque::len);
        let text = addr::ip(ip);
        let who = if gateway { " (gateway)" } else { "" };
        let how = if gratuitous { " by gratuitous ARP" } else { "" };
        let raise = Raise {
            kind: "net.arpspoof",
            severity: if gateway {
                Severity::Critical
            } else {
                Severity::High
            },
            label: None,
            subject: Subject {
                src_ip: Some(text),
                ..Subject::default()
            },
            message: format!(
                "ARP spoofing: {text}{who} claimed by {}{how}, was {}",
                mac_text(new),
                mac_text(old)
            ),
            details: json!({
                "ip": text.to_string(),
                "old_mac": mac_text(old),
                "new_mac": mac_text(new),
                "gateway": gateway,
                "gratuitous": gratuitous,
                "new_mac_claims": claims,
            }),
        };
        self.emit(text.to_string(), raise, now, out);
    }

    fn claim(&mut self, mac: Mac, ip: AddrKey, now: Ts, out: &mut Vec<Record>) {
        let (hold, limit) = (self.hold, self.cfg.max_ips_per_mac as usize);
        let list = self.claims.entry(mac, VecDeque::new);
        while list.front().is_some_and(|(t, _)| now - *t >= hold) {
            list.pop_front();
        }
        if let Some(i) = list.iter().position(|(_, k)| *k == ip) {
            list.remove(i);
        } else if list.len() >= limit.max(1) * 2 {
            list.pop_front();
        }
        list.push_back((now, ip));
        let n = list.len();
        if limit == 0 || n < limit {
            return;
        }
        let sample: Vec<String> = list
            .iter()
            .rev()
            .take(10)
            .map(|(_, k)| addr::ip(*k).to_string())
            .collect();
        let text = mac_text(mac);
        let raise = Raise {
            kind: "net.arpspoof",
            severity: Severity::High,
            label: None,
            subject: Subject::default(),
            message: format!("ARP: {text} claims {n} addresses"),
            details: json!({
                "mac": text,
                "claims": n,
                "addresses": sample,
            }),
        };
        self.emit(format!("mac {text}"), raise, now, out);
    }

    fn emit(&mut self, key: String, raise: Raise, now: Ts, out: &mut Vec<Record>) {
        let alert = self.episodes.raise(&key, now, raise);
        let interval = self.update_interval;
        let mut fresh = false;
        let open = self.open.entry(key, || {
            fresh = true;
            Open {
                last_conflict: now,
                last_emit: now,
            }
        });
        open.last_conflict = now;
        if fresh || now - open.last_emit >= interval {
            open.last_emit = now;
            out.push(Record::Alert(alert));
        }
    }

    /// Resolves episodes without a conflict for `scan.resolve_after_secs`.
    pub fn sweep(&mut self, now: Ts, out: &mut Vec<Record>) {
        let after = self.resolve_after;
        let mut done = Vec::new();
        self.open.retain(|k, o| {
            let quiet = now - o.last_conflict >= after;
            if quiet {
                done.push(k.clone());
            }
            !quiet
        });
        done.sort();
        for key in done {
            if let Some(a) = self.episodes.resolve(&key, now) {
                out.push(Record::Alert(a));
            }
        }
    }
}

#[cfg(test)]
mod tests;
