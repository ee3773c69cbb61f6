//! The summary of an analysis (or of any stretch of records): totals, protocol
//! distribution, top talkers, flows by state and the alerts, built from the records the
//! network stages emit, so it needs no second pass over packets.

use super::addr::{self, AddrKey};
use super::packet::Protocol;
use super::traffic::Counts;
use crate::{Alert, Event, FlowRecord, Record};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;

const TOP: usize = 10;

#[derive(Default)]
pub struct SummaryBuilder {
    total: Counts,
    first_second: Option<i64>,
    last_second: Option<i64>,
    protocols: BTreeMap<Protocol, Counts>,
    by_src: FxHashMap<AddrKey, Counts>,
    by_dst: FxHashMap<AddrKey, Counts>,
    src_other: Counts,
    flows: u64,
    flow_states: BTreeMap<String, u64>,
    flow_protocols: BTreeMap<Protocol, u64>,
    flow_ends: BTreeMap<String, u64>,
    top_flows: Vec<FlowLine>,
    alerts: FxHashMap<String, Alert>,
    /// Scratch for formatting a flow's endpoints.
    endpoints: (String, String),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub packets: u64,
    pub bytes: u64,
    /// Unix seconds of the first and last traffic second seen.
    pub first_second: Option<i64>,
    pub last_second: Option<i64>,
    pub protocols: Vec<ProtocolShare>,
    pub unique_sources: usize,
    pub unique_destinations: usize,
    pub top_talkers: Vec<Talker>,
    pub top_destinations: Vec<Talker>,
    pub flows: FlowSummary,
    /// The last state of every alert episode, oldest first.
    pub alerts: Vec<Alert>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProtocolShare {
    pub protocol: Protocol,
    pub packets: u64,
    pub bytes: u64,
    /// Share of all packets, 0–100, two decimals.
    pub percent: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Talker {
    pub ip: IpAddr,
    pub packets: u64,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowSummary {
    pub total: u64,
    pub by_state: BTreeMap<String, u64>,
    pub by_protocol: BTreeMap<Protocol, u64>,
    pub by_end_reason: BTreeMap<String, u64>,
    /// Largest flows by bytes (both directions).
    pub largest: Vec<FlowLine>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowLine {
    pub protocol: Protocol,
    pub orig: String,
    pub resp: String,
    pub packets: u64,
    pub bytes: u64,
    pub state: String,
}

impl SummaryBuilder {
    pub fn new() -> SummaryBuilder {
        SummaryBuilder::default()
    }

    pub fn add(&mut self, record: &Record) {
        match record {
            Record::Event(Event::Traffic(t)) => {
                self.total.merge(t.total);
                self.first_second = Some(self.first_second.map_or(t.second, |f| f.min(t.second)));
                self.last_second = Some(self.last_second.map_or(t.second, |l| l.max(t.second)));
                for (p, c) in &t.by_protocol {
                    self.protocols.entry(*p).or_default().merge(*c);
                }
                for (ip, c) in &t.by_src {
                    self.by_src.entry(addr::key(*ip)).or_default().merge(*c);
                }
                for (ip, c) in &t.by_dst {
                    self.by_dst.entry(addr::key(*ip)).or_default().merge(*c);
                }
                self.src_other.merge(t.src_other);
            }
            Record::Event(Event::Flow(f)) => {
                self.flows += 1;
                bump(&mut self.flow_states, &f.state);
                *self.flow_protocols.entry(f.protocol).or_default() += 1;
                bump(&mut self.flow_ends, &f.end_reason);
                self.keep_largest(f);
            }
            Record::Alert(a) => {
                self.alerts.insert(a.id.clone(), a.clone());
            }
            _ => {}
        }
    }

    fn keep_largest(&mut self, f: &FlowRecord) {
        let (packets, bytes) = (f.orig_packets + f.resp_packets, f.orig_bytes + f.resp_bytes);
        let last = self
            .top_flows
            .last()
            .filter(|_| self.top_flows.len() == TOP);
        // Most flows are smaller than the smallest kept one, and many tie with it (equal
        // conversations): decide on sizes, then on endpoints formatted into reused
        // buffers, before allocating a line.
        if let Some(last) = last
            && (bytes, packets) < (last.bytes, last.packets)
        {
            return;
        }
        let (orig, resp) = &mut self.endpoints;
        endpoint(orig, f.orig_ip, f.orig_port);
        endpoint(resp, f.resp_ip, f.resp_port);
        if let Some(last) = last
            && (bytes, packets, orig.as_str(), resp.as_str())
                <= (
                    last.bytes,
                    last.packets,
                    last.orig.as_str(),
                    last.resp.as_str(),
                )
        {
            return;
        }
        let line = FlowLine {
            protocol: f.protocol,
            orig: orig.clone(),
            resp: resp.clone(),
            packets,
            bytes,
            state: f.state.to_string(),
        };
        let worse = |a: &FlowLine, b: &FlowLine| {
            (b.bytes, b.packets, &b.orig, &b.resp).cmp(&(a.bytes, a.packets, &a.orig, &a.resp))
        };
        if self.top_flows.len() < TOP {
            self.top_flows.push(line);
            self.top_flows.sort_by(worse);
        } else if worse(&line, self.top_flows.last().expect("full")).is_lt() {
            self.top_flows.pop();
            self.top_flows.push(line);
            self.top_flows.sort_by(worse);
        }
    }

    pub fn build(&self) -> Summary {
        let packets = self.total.packets;
        let protocols = self
            .protocols
            .iter()
            .map(|(p, c)| ProtocolShare {
                protocol: *p,
                packets: c.packets,
                bytes: c.bytes,
                percent: if packets == 0 {
                    0.0
                } else {
                    (c.packets as f64 * 10_000.0 / packets as f64).round() / 100.0
                },
            })
            .collect();
        let mut alerts: Vec<Alert> = self.alerts.values().cloned().collect();
        alerts.sort_by(|a, b| a.first_seen.cmp(&b.first_seen).then(a.id.cmp(&b.id)));
        Summary {
            packets,
            bytes: self.total.bytes,
            first_second: self.first_second,
            last_second: self.last_second,
            protocols,
            unique_sources: self.by_src.len(),
            unique_destinations: self.by_dst.len(),
            top_talkers: top(&self.by_src),
            top_destinations: top(&self.by_dst),
            flows: FlowSummary {
                total: self.flows,
                by_state: self.flow_states.clone(),
                by_protocol: self.flow_protocols.clone(),
                by_end_reason: self.flow_ends.clone(),
                largest: self.top_flows.clone(),
            },
            alerts,
        }
    }
}

/// Counts one more under `key`, copying the key only the first time it is seen.
fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

/// Writes `ip:port` (`[v6]:port`) over what `out` held.
fn endpoint(out: &mut String, ip: Option<IpAddr>, port: u16) {
    out.clear();
    let _ = match ip {
        Some(IpAddr::V6(v6)) => write!(out, "[{v6}]:{port}"),
        Some(v4) => write!(out, "{v4}:{port}"),
        None => write!(out, "?:{port}"),
    };
}

fn top(map: &FxHashMap<AddrKey, Counts>) -> Vec<Talker> {
    let mut rows: Vec<(&AddrKey, &Counts)> = map.iter().collect();
    rows.sort_unstable_by(|a, b| b.1.packets.cmp(&a.1.packets).then(a.0.cmp(b.0)));
    rows.into_iter()
        .take(TOP)
        .map(|(k, c)| Talker {
            ip: addr::ip(*k),
            packets: c.packets,
            bytes: c.bytes,
        })
        .collect()
}
