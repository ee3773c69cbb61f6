//! The fallback and start-up dump: the /proc/net TCP and UDP tables (inode, uid, state,
//! addresses; the procfs crate parses them) mapped to pids through a /proc/*/fd scan.
//! Each scan reports sockets it had not seen before, and TCP sockets gone since as closed.

use super::stats::SockStats;
use crate::proc_pid::UserNames;
use netsnoop_core::owner::{ConnKind, ConnectionEvent, SocketOwner};
use netsnoop_core::{Event, Protocol, Ts};
use procfs::net::{TcpState, UdpState};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;

/// One socket as a /proc/net table lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Listed {
    protocol: Protocol,
    listen: bool,
    local: SocketAddr,
    remote: SocketAddr,
    uid: u32,
}

/// What the last scan saw, so the next reports only what changed.
pub struct ProcNetScan {
    netns: u32,
    known: HashMap<u64, Listed>,
    users: UserNames,
}

impl Default for ProcNetScan {
    fn default() -> Self {
        ProcNetScan::new()
    }
}

/// The inode of our network namespace (`net:[4026531840]`), 0 when unreadable.
pub fn own_netns() -> u32 {
    std::fs::read_link("/proc/self/ns/net")
        .ok()
        .and_then(|p| {
            let s = p.to_string_lossy().into_owned();
            s.strip_prefix("net:[")?.strip_suffix(']')?.parse().ok()
        })
        .unwrap_or(0)
}

impl ProcNetScan {
    pub fn new() -> ProcNetScan {
        ProcNetScan {
            netns: own_netns(),
            known: HashMap::new(),
            users: UserNames::new(),
        }
    }

    /// One round: new sockets as `existing` (or `listen`) events with the process holding
    /// them where one is found, TCP sockets gone since the last round as `close`.
    pub fn scan(&mut self, now: Ts, stats: &SockStats) -> Vec<Event> {
        stats.scans.fetch_add(1, Ordering::Relaxed);
        let listed = list_sockets();
        let fresh: Vec<u64> = listed
            .keys()
            .filter(|i| !self.known.contains_key(i))
            .copied()
            .collect();
        let mut out = Vec::new();
        for (inode, old) in &self.known {
            if !listed.contains_key(inode) && old.protocol == Protocol::Tcp {
                out.push(Event::Connection(self.event(
                    now,
                    ConnKind::Close,
                    old,
                    None,
                )));
            }
        }
        if !fresh.is_empty() {
            let holders = inode_holders();
            for inode in fresh {
                let s = &listed[&inode];
                let owner = holders.get(&inode).map(|(pid, comm, exe)| SocketOwner {
                    pid: *pid,
                    comm: comm.clone(),
                    uid: s.uid,
                    user: self.users.name(s.uid),
                    exe: exe.clone(),
                    ..SocketOwner::default()
                });
                if owner.is_none() {
                    stats.unowned.fetch_add(1, Ordering::Relaxed);
                }
                let kind = if s.listen {
                    ConnKind::Listen
                } else {
                    ConnKind::Existing
                };
                out.push(Event::Connection(self.event(now, kind, s, owner)));
            }
        }
        self.known = listed;
        stats.events.fetch_add(out.len() as u64, Ordering::Relaxed);
        out
    }

    fn event(
        &self,
        now: Ts,
        kind: ConnKind,
        s: &Listed,
        owner: Option<SocketOwner>,
    ) -> ConnectionEvent {
        let specified = |ip: IpAddr| {
            let ip = ip.to_canonical();
            (!ip.is_unspecified()).then_some(ip)
        };
        ConnectionEvent {
            host: None,
            time: now,
            kind,
            protocol: s.protocol,
            netns: self.netns,
            local_ip: specified(s.local.ip()),
            local_port: s.local.port(),
            remote_ip: specified(s.remote.ip()),
            remote_port: s.remote.port(),
            owner,
            source: "proc_net".into(),
        }
    }
}

/// Every TCP and UDP socket of our namespace with an inode, by inode. A UDP socket that
/// is not connected counts as listening on its port.
fn list_sockets() -> HashMap<u64, Listed> {
    let mut out = HashMap::new();
    let tcp = procfs::net::tcp()
        .into_iter()
        .chain(procfs::net::tcp6())
        .flatten();
    for e in tcp {
        if e.inode == 0 || matches!(e.state, TcpState::TimeWait | TcpState::Close) {
            continue;
        }
        out.insert(
            e.inode,
            Listed {
                protocol: Protocol::Tcp,
                listen: e.state == TcpState::Listen,
                local: e.local_address,
                remote: e.remote_address,
                uid: e.uid,
            },
        );
    }
    let udp = procfs::net::udp()
        .into_iter()
        .chain(procfs::net::udp6())
        .flatten();
    for e in udp {
        if e.inode == 0 {
            continue;
        }
        out.insert(
            e.inode,
            Listed {
                protocol: Protocol::Udp,
                listen: e.state != UdpState::Established,
                local: e.local_address,
                remote: e.remote_address,
                uid: e.uid,
            },
        );
    }
    out
}

/// Socket inode -> (pid, comm, exe) of a process holding it, from /proc/*/fd.
fn inode_holders() -> HashMap<u64, (u32, String, Option<String>)> {
    let mut out = HashMap::new();
    let Ok(all) = procfs::process::all_processes() else {
        return out;
    };
    for p in all.flatten() {
        let Ok(fds) = p.fd() else { continue };
        let mut comm: Option<(String, Option<String>)> = None;
        for fd in fds.flatten() {
            if let procfs::process::FDTarget::Socket(inode) = fd.target {
                let (c, exe) = comm.get_or_insert_with(|| {
                    let c = p.stat().map(|s| s.comm).unwrap_or_default();
                    let exe = p.exe().ok().map(|e| e.to_string_lossy().into_owned());
                    (c, exe)
                });
                out.entry(inode)
                    .or_insert_with(|| (p.pid() as u32, c.clone(), exe.clone()));
            }
        }
    }
    out
}
