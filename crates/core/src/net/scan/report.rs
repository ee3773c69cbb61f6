//! What a scan alert says: message, severity, scan type and the details for machines.

use super::ScanKind;
use super::probes::ProbeKind;
use super::sources::Contact;
use super::sources::Source;
use crate::Severity;
use crate::alert::Subject;
use crate::episodes::Raise;
use crate::net::addr::{self, AddrKey};
use crate::net::config::ScanConfig;
use crate::net::packet::Protocol;
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::json;
use std::collections::BTreeSet;

const SAMPLE_PORTS: usize = 20;
const SAMPLE_TARGETS: usize = 10;

/// The scan type named from the failing probes (see the module doc of `scan`).
pub(super) fn scan_type(s: &Source) -> &'static str {
    let Some(kind) = s.dominant_kind(|k| k != ProbeKind::Echo) else {
        return "icmp-echo";
    };
    if kind != ProbeKind::Syn {
        return kind.label();
    }
    if s.half_open > s.completed {
        "syn"
    } else if s.completed > s.half_open {
        "connect"
    } else if s.syn_probes >= 4 && s.sport_repeats * 2 >= s.syn_probes {
        "syn"
    } else {
        "connect"
    }
}

fn stealthy(scan_type: &str) -> bool {
    matches!(scan_type, "fin" | "null" | "xmas" | "odd-flags" | "maimon")
}

pub(super) fn describe(s: &Source, cfg: &ScanConfig, scanner: AddrKey, kind: ScanKind) -> Raise {
    let scanner_ip = addr::ip(scanner);
    let stype = scan_type(s);
    // Which contacts belong to this episode: the targets or ports over the threshold.
    let in_episode = |c: &Contact| -> bool {
        match kind {
            ScanKind::PortScan => {
                !is_icmp(c.proto)
                    && (s.ports_on(c.target) >= cfg.vertical_ports
                        || s.evidence_ports_on(c.target) >= cfg.trw_vertical_ports)
            }
            ScanKind::Sweep => {
                !is_icmp(c.proto) && s.hosts_on(c.proto, c.port) >= cfg.horizontal_hosts
            }
            ScanKind::PingSweep => is_icmp(c.proto),
        }
    };
    let mut ports: BTreeSet<u16> = BTreeSet::new();
    let mut per_target: FxHashMap<AddrKey, u32> = FxHashMap::default();
    let mut probes = 0u64;
    // The window's failures, and for a port scan the walk's evidence too: a scan slower
    // than the window is described by what the walk remembers of it.
    let mut seen: FxHashSet<Contact> = FxHashSet::default();
    let evidence = s.evidence.iter().map(|(_, c)| c);
    let extra = evidence.filter(|_| kind == ScanKind::PortScan);
    for c in s.contacts().chain(extra).filter(|c| in_episode(c)) {
        if !seen.insert(*c) {
            continue;
        }
        probes += 1;
        if !is_icmp(c.proto) {
            ports.insert(c.port);
        }
        *per_target.entry(c.target).or_default() += 1;
    }
    let mut targets: Vec<(AddrKey, u32)> = per_target.into_iter().collect();
    targets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let (n_ports, n_hosts) = (ports.len(), targets.len());
    let sample_ports: Vec<u16> = ports.iter().copied().take(SAMPLE_PORTS).collect();
    let sample_targets: Vec<String> = targets
        .iter()
        .take(SAMPLE_TARGETS)
        .map(|(t, _)| addr::ip(*t).to_string())
        .collect();
    let single_target = (n_hosts == 1).then(|| addr::ip(targets[0].0));
    let type_label = type_words(stype);
    let (message, severity) = match kind {
        ScanKind::PortScan => {
            let on = match single_target {
                Some(t) => t.to_string(),
                None => format!("{n_hosts} hosts"),
            };
            let sev = if stealthy(stype) || n_ports >= 100 || n_hosts >= 5 {
                Severity::High
            } else {
                Severity::Medium
            };
            (
                format!("Port scan from {scanner_ip}: {n_ports} ports on {on} ({type_label})"),
                sev,
            )
        }
        ScanKind::Sweep => {
            let port_list = if n_ports == 1 {
                format!("port {}", sample_ports[0])
            } else {
                format!("{n_ports} ports")
            };
            let sev = if stealthy(stype) || n_hosts >= 100 {
                Severity::High
            } else {
                Severity::Medium
            };
            (
                format!("Sweep from {scanner_ip}: {port_list} on {n_hosts} hosts ({type_label})"),
                sev,
            )
        }
        ScanKind::PingSweep => {
            let sev = if n_hosts >= 100 {
                Severity::Medium
            } else {
                Severity::Low
            };
            (
                format!(
                    "Ping sweep from {scanner_ip}: {n_hosts} hosts left echo requests unanswered"
                ),
                sev,
            )
        }
    };
    let scan_type = if kind == ScanKind::PingSweep {
        "icmp-echo"
    } else {
        stype
    };
    Raise {
        kind: kind.kind(),
        severity,
        label: None,
        subject: Subject {
            src_ip: Some(scanner_ip),
            dst_ip: single_target,
            ..Subject::default()
        },
        message,
        details: json!({
            "scanner": scanner_ip.to_string(),
            "scan_type": scan_type,
            "targets": sample_targets,
            "hosts": n_hosts,
            "ports": n_ports,
            "sample_ports": sample_ports,
            "failed_probes": probes,
            "answered_probes": s.successes,
            "window_secs": cfg.window_secs,
        }),
    }
}

/// True when `new` describes less of an episode than `peak` did: no more hosts and no
/// more ports, and fewer of one of them.
pub(super) fn smaller(new: &serde_json::Value, peak: &serde_json::Value) -> bool {
    let size = |v: &serde_json::Value| {
        (
            v["hosts"].as_u64().unwrap_or(0),
            v["ports"].as_u64().unwrap_or(0),
        )
    };
    let ((h, p), (ph, pp)) = (size(new), size(peak));
    h <= ph && p <= pp && (h, p) != (ph, pp)
}

fn is_icmp(p: Protocol) -> bool {
    matches!(p, Protocol::Icmp | Protocol::Icmpv6)
}

fn type_words(stype: &str) -> &'static str {
    match stype {
        "syn" => "TCP SYN scan",
        "connect" => "TCP connect scan",
        "fin" => "TCP FIN scan",
        "null" => "TCP NULL scan",
        "xmas" => "TCP Xmas scan",
        // nmap's ACK (-sA) and Window (-sW) scans send the very same probe (a bare ACK,
        // window 1024): they differ only in how nmap reads the RSTs, never on the wire.
        "ack" => "TCP ACK or Window scan",
        "maimon" => "TCP Maimon scan",
        "odd-flags" => "TCP odd-flags scan",
        "udp" => "UDP scan",
        _ => "ICMP echo",
    }
}
