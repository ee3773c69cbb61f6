//! Attribution as the network stages run it: socket and exec events fill the owner table,
//! finished flows get the owner of each local end, and scan and spike alerts name the
//! process behind a local scanner and the listeners on scanned local ports.

use super::event::{FlowOwner, SocketOwner};
use super::table::{OwnerConfig, OwnerStats, OwnerTable};
use crate::net::packet::Protocol;
use crate::time::Span;
use crate::{Alert, Event, FlowRecord, Loss, Record, Ts};

/// The `source` of the loss events for owner-table evictions.
pub const LOSS_SOURCE: &str = "owner_table";
use serde_json::{Value, json};

/// Most listeners an alert against a local host names.
const MAX_LISTENERS: usize = 20;

/// The owner table plus the work of applying it to what the network stages emit.
pub struct Attribution {
    table: OwnerTable,
    next_expire: Option<Ts>,
    /// Evictions already reported as a loss.
    evictions_reported: u64,
}

impl Attribution {
    pub fn new(cfg: OwnerConfig) -> Attribution {
        Attribution {
            table: OwnerTable::new(cfg),
            next_expire: None,
            evictions_reported: 0,
        }
    }

    pub fn table(&self) -> &OwnerTable {
        &self.table
    }

    pub fn stats(&self) -> OwnerStats {
        self.table.stats()
    }

    /// Takes what the table learns from: socket events and process events.
    pub fn ingest(&mut self, event: &Event) {
        match event {
            Event::Connection(c) => self.table.add(c),
            Event::Process(p) => self.table.note_process(p),
            _ => {}
        }
    }

    /// Expires old entries, at most once a second; sockets and processes forgotten
    /// because the table was full come back as a loss (`owner_table`), never silently.
    pub fn tick(&mut self, now: Ts) -> Option<Loss> {
        if self.next_expire.is_some_and(|t| now < t) {
            return None;
        }
        self.next_expire = Some(now + Span::secs(1));
        self.table.expire(now);
        let evicted = self.table.stats().evicted;
        (evicted > self.evictions_reported).then(|| {
            let count = evicted - self.evictions_reported;
            self.evictions_reported = evicted;
            Loss {
                host: None,
                time: now,
                source: LOSS_SOURCE.into(),
                count,
                reason:
                    "owner table full: oldest sockets forgotten (raise attribution.max_sockets)"
                        .into(),
            }
        })
    }

    /// Writes owners into the flows and alerts among `records`.
    pub fn annotate(&self, records: &mut [Record]) {
        for r in records {
            match r {
                Record::Event(Event::Flow(f)) => self.flow(f),
                Record::Alert(a) if a.kind.starts_with("net.") => self.alert(a),
                _ => {}
            }
        }
    }

    fn flow(&self, f: &mut FlowRecord) {
        if !matches!(f.protocol, Protocol::Tcp | Protocol::Udp) {
            return;
        }
        let (Some(orig), Some(resp)) = (f.orig_ip, f.resp_ip) else {
            return;
        };
        let (o, r) = ((orig, f.orig_port), (resp, f.resp_port));
        f.orig_owner = Some(self.table.owner_of(f.protocol, o, r, false));
        f.resp_owner = Some(self.table.owner_of(f.protocol, r, o, true));
    }

    fn alert(&self, a: &mut Alert) {
        let Some(src) = a.subject.src_ip else {
            return;
        };
        if self.table.is_local(src) {
            if let Some(o) = self.table.latest_client(src, a.subject.dst_ip) {
                let described = self.describe(&o);
                a.message = format!("{} by {}", a.message, one_line(&described));
                a.subject.pid = Some(o.pid);
                a.subject.process_name = Some(o.comm.clone());
                if a.subject.user.is_none() {
                    a.subject.user = o.user.clone();
                }
                a.subject.command =
                    described["argv"]
                        .as_array()
                        .filter(|v| !v.is_empty())
                        .map(|v| {
                            v.iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(" ")
                        });
                set(a, "process", described);
            } else {
                set(
                    a,
                    "process",
                    json!({"unknown": "no socket seen (raw socket, or closed before seen)"}),
                );
            }
        }
        let target_local = a.subject.dst_ip.is_some_and(|d| self.table.is_local(d));
        if target_local {
            let proto = if a.details["scan_type"] == "udp" {
                Protocol::Udp
            } else {
                Protocol::Tcp
            };
            let listeners: Vec<Value> = self
                .table
                .listeners(proto, MAX_LISTENERS)
                .into_iter()
                .map(|(port, o)| {
                    let mut d = self.describe(&o);
                    d["port"] = json!(port);
                    d
                })
                .collect();
            if !listeners.is_empty() {
                set(a, "listeners", Value::Array(listeners));
            }
        }
    }

    /// The owner with its argv and instigator chain, as alert details show it.
    fn describe(&self, o: &SocketOwner) -> Value {
        let info = self.table.process(o.pid);
        let argv = info.map(|p| p.argv.clone()).unwrap_or_default();
        let chain: Vec<Value> = info
            .map(|p| {
                p.ancestry
                    .iter()
                    .map(|a| json!({"pid": a.pid, "comm": a.comm}))
                    .collect()
            })
            .unwrap_or_default();
        json!({
            "pid": o.pid,
            "comm": o.comm,
            "exe": o.exe,
            "user": o.user,
            "uid": o.uid,
            "cgroup": o.cgroup,
            "container": o.container,
            "argv": argv,
            "chain": chain,
        })
    }
}

/// "nmap -sS 10.0.0.1 (pid 42, user alice) run by bash 40 < sshd 12"
fn one_line(d: &Value) -> String {
    let argv: Vec<&str> = d["argv"]
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let what = if argv.is_empty() {
        d["comm"].as_str().unwrap_or("?").to_string()
    } else {
        argv.join(" ")
    };
    let mut s = format!("{what} (pid {}", d["pid"]);
    if let Some(u) = d["user"].as_str() {
        s.push_str(&format!(", user {u}"));
    }
    s.push(')');
    let chain: Vec<String> = d["chain"]
        .as_array()
        .map(|v| {
            v.iter()
                .take(4)
                .map(|a| format!("{} {}", a["comm"].as_str().unwrap_or("?"), a["pid"]))
                .collect()
        })
        .unwrap_or_default();
    if !chain.is_empty() {
        s.push_str(&format!(" run by {}", chain.join(" < ")));
    }
    s
}

fn set(a: &mut Alert, key: &str, v: Value) {
    if !a.details.is_object() {
        a.details = json!({});
    }
    a.details[key] = v;
}

impl FlowOwner {
    /// The pid, when known.
    pub fn pid(&self) -> Option<u32> {
        self.known().map(|o| o.pid)
    }
}
