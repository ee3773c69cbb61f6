//! Brute force against login services: many short connections from one source to one
//! service (SSH, FTP, Telnet, SMB, RDP, VNC), after Zeek's `detect-bruteforcing`.
//!
//! # The rule
//!
//! NetSnoop keeps packet headers only, so a failed password is seen in its shape: a
//! connection to a login port that completes its handshake and closes (FIN or RST,
//! either side) within `short_secs`, with the server sending at most `max_server_bytes`
//! (a transfer or a shell sends more). `attempts` such connections from one source to
//! one service (port) within `window_secs` are a brute force, whichever servers they
//! went to: one episode per source and service (`net.bruteforce`), updated while it goes
//! on, resolved after `scan.resolve_after_secs`-like quiet (`window_secs`). Refused
//! connections are the scan detector's business, not this one's.

use super::addr::{self, AddrKey};
use super::config::BruteForceConfig;
use super::packet::tcp_flags::{ACK, FIN, RST, SYN};
use super::packet::{PacketMeta, Protocol};
use crate::alert::Subject;
use crate::episodes::{Episodes, Raise};
use crate::time::Span;
use crate::{Record, Severity, Ts};
use rustc_hash::FxHashMap;
use serde_json::json;
use std::collections::VecDeque;

/// A login connection: client, server, client port, service port.
type ConnKey = (AddrKey, AddrKey, u16, u16);

struct Conn {
    start: Ts,
    established: bool,
    server_bytes: u64,
}

struct Pair {
    /// Short connections of the window: when, and to which server.
    attempts: VecDeque<(Ts, AddrKey)>,
    open_since: Option<Ts>,
    last_emit: Option<Ts>,
    emitted: usize,
    total: u64,
}

pub struct BruteForce {
    cfg: BruteForceConfig,
    conns: FxHashMap<ConnKey, Conn>,
    conn_order: VecDeque<(Ts, ConnKey)>,
    pairs: FxHashMap<(AddrKey, u16), Pair>,
    episodes: Episodes,
    window: Span,
    short: Span,
    update_interval: Span,
    ignore: Vec<AddrKey>,
    pub connections_dropped: u64,
    pub sources_dropped: u64,
}

/// The service's name for messages.
pub fn service(port: u16) -> &'static str {
    match port {
        21 => "FTP",
        22 => "SSH",
        23 => "Telnet",
        139 | 445 => "SMB",
        3389 => "RDP",
        5900 => "VNC",
        _ => "login",
    }
}

impl BruteForce {
    pub fn new(cfg: BruteForceConfig, update_interval: Span) -> BruteForce {
        BruteForce {
            conns: FxHashMap::default(),
            conn_order: VecDeque::new(),
            pairs: FxHashMap::default(),
            episodes: Episodes::new(),
            window: Span::secs(cfg.window_secs as i64),
            short: Span::secs(cfg.short_secs as i64),
            update_interval,
            ignore: cfg.ignore_sources.iter().map(|ip| addr::key(*ip)).collect(),
            connections_dropped: 0,
            sources_dropped: 0,
            cfg,
        }
    }

    pub fn packet(&mut self, m: &PacketMeta, now: Ts, out: &mut Vec<Record>) {
        if !self.cfg.enabled || m.protocol != Protocol::Tcp || m.no_ports {
            return;
        }
        let (Some(src), Some(dst)) = (m.src_ip, m.dst_ip) else {
            return;
        };
        let (s, d) = (addr::key(src), addr::key(dst));
        let to_service = self.cfg.ports.contains(&m.dst_port);
        if !to_service && !self.cfg.ports.contains(&m.src_port) {
            return;
        }
        let flags = m.tcp_flags;
        if to_service {
            let key = (s, d, m.src_port, m.dst_port);
            if flags & (SYN | ACK) == SYN {
                if !self.ignore.contains(&s) {
                    self.open(key, now);
                }
            } else if flags & (FIN | RST) != 0 {
                self.close(key, now, out);
            }
        } else {
            let key = (d, s, m.dst_port, m.src_port);
            if let Some(c) = self.conns.get_mut(&key) {
                if flags & (SYN | ACK) == SYN | ACK {
                    c.established = true;
                }
                c.server_bytes += u64::from(m.ip_len);
                if flags & (FIN | RST) != 0 {
                    self.close(key, now, out);
                }
            }
        }
    }

    fn open(&mut self, key: ConnKey, now: Ts) {
        if self.conns.contains_key(&key) {
            return;
        }
        while self.conns.len() >= self.cfg.max_connections.max(1) {
            let Some((_, old)) = self.conn_order.pop_front() else {
                break;
            };
            if self.conns.remove(&old).is_some() {
                self.connections_dropped += 1;
            }
        }
        self.conns.insert(
            key,
            Conn {
                start: now,
                established: false,
                server_bytes: 0,
            },
        );
        self.conn_order.push_back((now, key));
    }

    fn close(&mut self, key: ConnKey, now: Ts, out: &mut Vec<Record>) {
        let Some(c) = self.conns.remove(&key) else {
            return;
        };
        let short = now - c.start < self.short;
        if !(c.established && short && c.server_bytes <= self.cfg.max_server_bytes) {
            return;
        }
        let (client, server, port) = (key.0, key.1, key.3);
        if !self.pairs.contains_key(&(client, port)) && self.pairs.len() >= self.cfg.max_sources {
            self.sources_dropped += 1;
            return;
        }
        let window = self.window;
        let p = self.pairs.entry((client, port)).or_insert_with(|| Pair {
            attempts: VecDeque::new(),
            open_since: None,
            last_emit: None,
            emitted: 0,
            total: 0,
        });
        while p.attempts.front().is_some_and(|(t, _)| now - *t >= window) {
            p.attempts.pop_front();
        }
        p.attempts.push_back((now, server));
        p.total += 1;
        let n = p.attempts.len();
        let due = match p.last_emit {
            None => n >= self.cfg.attempts as usize,
            Some(at) => now - at >= self.update_interval && p.total as usize > p.emitted,
        };
        if due {
            if p.open_since.is_none() {
                p.open_since = Some(now);
                p.total = n as u64;
            }
            p.last_emit = Some(now);
            p.emitted = p.total as usize;
            let raise = describe(client, port, p, self.cfg.window_secs);
            let ep = format!("{}/{}", addr::ip(client), port);
            out.push(Record::Alert(self.episodes.raise(&ep, now, raise)));
        }
    }

    /// Forgets connections that stayed open past `short_secs` (real sessions) and
    /// resolves episodes quiet for a whole window.
    pub fn sweep(&mut self, now: Ts, out: &mut Vec<Record>) {
        if !self.cfg.enabled {
            return;
        }
        while let Some(&(t, key)) = self.conn_order.front() {
            if now - t < self.short {
                break;
            }
            self.conn_order.pop_front();
            if self.conns.get(&key).is_some_and(|c| c.start == t) {
                self.conns.remove(&key);
            }
        }
        let window = self.window;
        let mut done = Vec::new();
        self.pairs.retain(|k, p| {
            let last = p.attempts.back().map(|(t, _)| *t);
            let quiet = last.is_none_or(|t| now - t >= window);
            if quiet && p.open_since.is_some() {
                done.push(*k);
            }
            !quiet
        });
        done.sort();
        for (client, port) in done {
            let ep = format!("{}/{}", addr::ip(client), port);
            if let Some(a) = self.episodes.resolve(&ep, now) {
                out.push(Record::Alert(a));
            }
        }
    }
}

fn describe(client: AddrKey, port: u16, p: &Pair, window_secs: u64) -> Raise {
    let ip = addr::ip(client);
    let mut servers: Vec<AddrKey> = p.attempts.iter().map(|(_, s)| *s).collect();
    servers.sort();
    servers.dedup();
    let name = service(port);
    let on = match servers.as_slice() {
        [one] => addr::ip(*one).to_string(),
        many => format!("{} hosts", many.len()),
    };
    Raise {
        kind: "net.bruteforce",
        severity: if p.total >= 100 {
            Severity::High
        } else {
            Severity::Medium
        },
        label: None,
        subject: Subject {
            src_ip: Some(ip),
            dst_ip: (servers.len() == 1).then(|| addr::ip(servers[0])),
            ..Subject::default()
        },
        message: format!(
            "{name} brute force from {ip}: {} short logins on {on} (port {port})",
            p.total
        ),
        details: json!({
            "source": ip.to_string(),
            "service": name,
            "port": port,
            "attempts": p.total,
            "attempts_in_window": p.attempts.len(),
            "targets": servers.iter().take(10).map(|s| addr::ip(*s).to_string()).collect::<Vec<_>>(),
            "window_secs": window_secs,
        }),
    }
}

#[cfg(test)]
mod tests;
