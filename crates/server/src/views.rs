//! The JSON shapes the API and the live stream return for packets, alerts, exec events and
//! system samples: exactly NetWatch's keys by default on NetWatch's paths, ours after them
//! with `?extended=true`, times as RFC 3339 with the configured offset.

use crate::timefmt::format_time;
use jiff::tz::TimeZone;
use netsnoop_core::resource::{top_by_cpu, top_by_memory};
use netsnoop_core::{Alert, PacketMeta, ProcSample, ProcessEvent, ResourceSample, SystemSample};
use serde::Serialize;
use utoipa::ToSchema;

/// One stored packet with exactly NetWatch's `/packets/recent` keys, in its order.
#[derive(Debug, Serialize, ToSchema)]
pub struct PacketView {
    /// RFC 3339 with offset.
    pub timestamp: String,
    /// Null only for packets without an IP layer (ARP).
    pub src_ip: Option<String>,
    pub dst_ip: Option<String>,
    /// `TCP`, `UDP`, `ICMP`, `ICMPv6`, `ARP` or `OTHER`.
    pub protocol: String,
    /// Bytes on the wire.
    pub packet_size: u32,
}

/// NetWatch's packet keys followed by ours (`?extended=true`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PacketViewExtended {
    #[serde(flatten)]
    pub netwatch: PacketView,
    /// Null when the packet has no ports: ICMP, ARP, other protocols, and packets POSTed
    /// without them (unknown, not 0).
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    /// The host that saw it (absent when the store knows no host identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<netsnoop_core::Host>,
}

/// A packet in NetWatch's shape, or with our fields added.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PacketRow {
    NetWatch(PacketView),
    Extended(PacketViewExtended),
}

impl PacketView {
    pub fn new(p: &PacketMeta, tz: &TimeZone) -> PacketView {
        PacketView {
            timestamp: format_time(p.time, tz),
            src_ip: p.src_ip.map(|ip| ip.to_string()),
            dst_ip: p.dst_ip.map(|ip| ip.to_string()),
            protocol: p.protocol.as_str().to_string(),
            packet_size: p.wire_len,
        }
    }
}

impl PacketRow {
    pub fn new(p: &PacketMeta, tz: &TimeZone, extended: bool) -> PacketRow {
        let netwatch = PacketView::new(p, tz);
        if !extended {
            return PacketRow::NetWatch(netwatch);
        }
        let ports = p.ports();
        PacketRow::Extended(PacketViewExtended {
            netwatch,
            src_port: ports.map(|(s, _)| s),
            dst_port: ports.map(|(_, d)| d),
            host: p.host.as_deref().cloned(),
        })
    }
}

/// One alert with exactly the keys NetWatch's detector returned, in its order.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetWatchAlert {
    /// Source address for network alerts; null for host alerts.
    pub src_ip: Option<String>,
    /// Packets counted by the detector (0 when it does not count packets).
    pub packet_count: u64,
    /// The one-line message.
    pub alert: String,
}

/// An alert in NetWatch's shape, or with our fields added (`?extended=true`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum AlertRow {
    NetWatch(NetWatchAlert),
    Extended(Box<AlertView>),
}

impl AlertRow {
    pub fn new(a: &Alert, tz: &TimeZone, extended: bool) -> AlertRow {
        if extended {
            return AlertRow::Extended(Box::new(AlertView::new(a, tz)));
        }
        AlertRow::NetWatch(NetWatchAlert {
            src_ip: a.subject.src_ip.map(|ip| ip.to_string()),
            packet_count: packet_count(&a.details),
            alert: a.message.clone(),
        })
    }
}

/// One alert: NetWatch's `{src_ip, packet_count, alert}` followed by NetSnoop's fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    /// Source address for network alerts; null for host alerts.
    pub src_ip: Option<String>,
    /// Packets counted by the detector (0 when it does not count packets).
    pub packet_count: u64,
    /// NetWatch's alert text: the one-line message.
    pub alert: String,
    pub id: String,
    /// Dotted kind, e.g. `net.portscan`, `net.traffic_spike`, `process.burst`.
    pub kind: String,
    /// `info`, `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// The original tools' word where it says more (`SUSPICIOUS`, `EXTREME`).
    pub label: String,
    /// `active` or `resolved`.
    pub state: String,
    pub first_seen: String,
    pub last_seen: String,
    /// Destination ports touched (port scans), when the detector reports them.
    pub ports: Vec<u16>,
    pub dst_ip: Option<String>,
    pub pid: Option<u32>,
    pub process_name: Option<String>,
    pub user: Option<String>,
    pub message: String,
    /// Structured facts from the detector (counts, thresholds, chains).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// A silence covered it while it was open: it was not delivered to the alert
    /// outputs (`/alerts/history` only; absent when false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub silenced: bool,
    /// Who acknowledged the episode (`/alerts/history` only; absent when nobody did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acked_by: Option<String>,
    /// The host that raised it (absent when the store knows no host identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<netsnoop_core::Host>,
}

impl AlertView {
    pub fn new(a: &Alert, tz: &TimeZone) -> AlertView {
        let count = packet_count(&a.details);
        let ports = ["ports", "sample_ports"]
            .iter()
            .filter_map(|k| a.details.get(*k).and_then(serde_json::Value::as_array))
            .next()
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| p.as_u64().and_then(|p| u16::try_from(p).ok()))
                    .collect()
            })
            .unwrap_or_default();
        AlertView {
            src_ip: a.subject.src_ip.map(|ip| ip.to_string()),
            packet_count: count,
            alert: a.message.clone(),
            id: a.id.clone(),
            kind: a.kind.clone(),
            severity: a.severity.as_str().to_string(),
            label: a.display_label().to_string(),
            state: match a.state {
                netsnoop_core::AlertState::Active => "active",
                netsnoop_core::AlertState::Resolved => "resolved",
            }
            .to_string(),
            first_seen: format_time(a.first_seen, tz),
            last_seen: format_time(a.last_seen, tz),
            ports,
            dst_ip: a.subject.dst_ip.map(|ip| ip.to_string()),
            pid: a.subject.pid,
            process_name: a.subject.process_name.clone(),
            user: a.subject.user.clone(),
            message: a.message.clone(),
            details: a.details.clone(),
            silenced: false,
            acked_by: None,
            host: a.host.as_deref().cloned(),
        }
    }

    /// Network alerts are the ones NetWatch's `/alerts` listed: about a source address.
    pub fn is_network(a: &Alert) -> bool {
        a.kind.starts_with("net.") || a.subject.src_ip.is_some()
    }
}

/// NetWatch's `packet_count`, from whichever count the detector reports: an explicit
/// packet count, the probes a scan detector judged, or a spike's threshold.
fn packet_count(details: &serde_json::Value) -> u64 {
    let get = |k: &str| details.get(k).and_then(serde_json::Value::as_u64);
    get("packet_count")
        .or_else(|| get("packets"))
        .or_else(|| match (get("failed_probes"), get("answered_probes")) {
            (None, None) => None,
            (f, a) => Some(f.unwrap_or(0) + a.unwrap_or(0)),
        })
        .or_else(|| get("threshold_packets").map(|t| t + 1))
        .unwrap_or(0)
}

/// A process event with its time as RFC 3339 (the core type carries microseconds).
pub fn process_event_json(e: &ProcessEvent, tz: &TimeZone) -> serde_json::Value {
    let mut v = serde_json::to_value(e).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("time".into(), format_time(e.time, tz).into());
    }
    v
}

/// One system sample with its time as RFC 3339.
#[derive(Debug, Serialize, ToSchema)]
pub struct SystemView {
    pub timestamp: String,
    #[serde(flatten)]
    pub sample: SystemSample,
}

impl SystemView {
    pub fn new(s: &SystemSample, tz: &TimeZone) -> SystemView {
        SystemView {
            timestamp: format_time(s.time, tz),
            sample: s.clone(),
        }
    }
}

/// The `system` stream event: one sampling round, with the top processes.
#[derive(Debug, Serialize, ToSchema)]
pub struct SystemTick {
    #[serde(flatten)]
    pub system: SystemView,
    pub top_cpu: Vec<ProcSample>,
    pub top_memory: Vec<ProcSample>,
}

impl SystemTick {
    pub fn new(r: &ResourceSample, tz: &TimeZone) -> SystemTick {
        SystemTick {
            system: SystemView::new(&r.system, tz),
            top_cpu: top_by_cpu(&r.processes, 5).into_iter().cloned().collect(),
            top_memory: top_by_memory(&r.processes, 5)
                .into_iter()
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: u32, cpu_pct: f64, rss_bytes: u64) -> ProcSample {
        ProcSample {
            pid,
            cpu_pct,
            rss_bytes,
            ..ProcSample::default()
        }
    }

    #[test]
    fn the_stream_ranks_tied_processes_as_core_top_n_does() {
        let sample = ResourceSample {
            host: None,
            system: SystemSample::default(),
            // Equal CPU: core ranks the larger RSS first, whatever the pid.
            processes: vec![proc(1, 50.0, 10), proc(2, 50.0, 900), proc(3, 0.0, 900)],
        };
        let tick = SystemTick::new(&sample, &TimeZone::UTC);
        let cpu: Vec<u32> = tick.top_cpu.iter().map(|p| p.pid).collect();
        assert_eq!(cpu, [2, 1, 3]);
        // Equal RSS: the busier process first.
        let mem: Vec<u32> = tick.top_memory.iter().map(|p| p.pid).collect();
        assert_eq!(mem, [2, 3, 1]);
    }
}
