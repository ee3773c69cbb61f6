//! The analysis summary as text for people or one JSON document for machines. Every time
//! is RFC 3339 in the configured zone; packet-borne strings are escaped for terminals.

use super::engine::Analysis;
use crate::sinks::{jsonl, term};
use crate::time::TimeFmt;
use serde_json::{Value, json};
use std::fmt::Write;

pub fn json(file: &str, a: &Analysis, tf: &TimeFmt) -> Value {
    let s = &a.summary;
    let time = |t: Option<netsnoop_core::Ts>| t.map(|t| tf.rfc3339_precise(t));
    json!({
        "file": file,
        "packets": a.packets,
        "bytes": s.bytes,
        "first_packet": time(a.first_packet),
        "last_packet": time(a.last_packet),
        "protocols": s.protocols,
        "unique_sources": s.unique_sources,
        "unique_destinations": s.unique_destinations,
        "top_talkers": s.top_talkers,
        "top_destinations": s.top_destinations,
        "flows": s.flows,
        "alerts": s.alerts.iter().map(|al| jsonl::alert(al, None, tf)).collect::<Vec<_>>(),
        "damage": a.damage.as_ref().map(|d| json!({"offset": d.offset, "reason": d.reason})),
        "counters": {
            "flows_evicted": a.stats.flows.evicted,
            "scan_sources_evicted": a.stats.scan.sources_evicted,
            "scan_probes_dropped": a.stats.scan.pending_dropped,
            "scan_contacts_dropped": a.stats.scan.contacts_dropped,
            "discovery_sources_evicted": a.stats.scan.discovery_sources_evicted,
            "discovery_targets_forgotten": a.stats.scan.discovery_targets_forgotten,
        },
    })
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn text(file: &str, a: &Analysis, tf: &TimeFmt) -> String {
    let s = &a.summary;
    let mut o = String::new();
    let _ = writeln!(o, "Analysis of {}", term::escape(file));
    let span = match (a.first_packet, a.last_packet) {
        (Some(f), Some(l)) => format!(
            " from {} to {} ({:.1} s)",
            tf.rfc3339(f),
            tf.rfc3339(l),
            l.since(f)
        ),
        _ => String::new(),
    };
    let _ = writeln!(
        o,
        "  {} packets, {} bytes{span}",
        thousands(a.packets),
        thousands(s.bytes)
    );
    let _ = writeln!(
        o,
        "  {} sources, {} destinations",
        thousands(s.unique_sources as u64),
        thousands(s.unique_destinations as u64)
    );
    let _ = writeln!(o, "\nProtocols");
    for p in &s.protocols {
        let _ = writeln!(
            o,
            "  {:<7} {:>6.2}%  {:>12} packets  {:>14} bytes",
            p.protocol.as_str(),
            p.percent,
            thousands(p.packets),
            thousands(p.bytes)
        );
    }
    let _ = writeln!(o, "\nTop talkers");
    for t in &s.top_talkers {
        let _ = writeln!(
            o,
            "  {:<40} {:>12} packets  {:>14} bytes",
            t.ip.to_string(),
            thousands(t.packets),
            thousands(t.bytes)
        );
    }
    let f = &s.flows;
    let states: Vec<String> = f
        .by_state
        .iter()
        .map(|(k, v)| format!("{k} {}", thousands(*v)))
        .collect();
    let _ = writeln!(o, "\nFlows: {} ({})", thousands(f.total), states.join(", "));
    for l in f.largest.iter().take(5) {
        let _ = writeln!(
            o,
            "  {:<7} {} -> {}  {} packets, {} bytes, {}",
            l.protocol.as_str(),
            l.orig,
            l.resp,
            thousands(l.packets),
            thousands(l.bytes),
            l.state
        );
    }
    if a.stats.flows.evicted > 0 {
        let _ = writeln!(
            o,
            "  {} flows evicted (table full; raise network.flows.max_flows)",
            thousands(a.stats.flows.evicted)
        );
    }
    let _ = writeln!(o, "\nAlerts: {}", s.alerts.len());
    for al in &s.alerts {
        let _ = writeln!(o, "  {}", term::alert_line(al, tf));
    }
    if let Some(d) = &a.damage {
        let _ = writeln!(
            o,
            "\nDamaged at byte {}: {} (results cover everything before it)",
            d.offset,
            term::escape(&d.reason)
        );
    }
    o
}
