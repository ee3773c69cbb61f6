//! What a discovery or protocol-scan alert says: message, severity and details.

use super::track::{Judged, Track};
use super::{Method, TrackKey};
use crate::Severity;
use crate::alert::Subject;
use crate::episodes::Raise;
use crate::net::addr::{self, AddrKey};
use serde_json::json;

const SAMPLE_TARGETS: usize = 10;

fn words(m: Method, port: u16) -> String {
    match m {
        Method::Arp => "ARP requests".to_string(),
        Method::Echo => "ICMP echo requests".to_string(),
        Method::SynPing => format!("TCP SYN pings to port {port}"),
        Method::AckPing => format!("TCP ACK pings to port {port}"),
    }
}

pub(super) fn discovery(key: TrackKey, t: &Track, j: &Judged, window_secs: u64) -> Raise {
    let (source, method, port) = key;
    let ip = addr::ip(source);
    let n = t.episode_targets;
    let severity = if n >= 100 {
        Severity::Medium
    } else {
        Severity::Low
    };
    let sample: Vec<String> = t
        .sample(SAMPLE_TARGETS)
        .into_iter()
        .map(|k| addr::ip(k).to_string())
        .collect();
    Raise {
        kind: "net.discovery",
        severity,
        label: None,
        subject: Subject {
            src_ip: Some(ip),
            ..Subject::default()
        },
        message: format!(
            "Host discovery from {ip}: {} to {n} new hosts",
            words(method, port)
        ),
        details: json!({
            "scanner": ip.to_string(),
            "method": method.label(),
            "port": (port != 0).then_some(port),
            "hosts": n,
            "answered": t.episode_answered,
            "unanswered_in_window": j.unanswered,
            "targets": sample,
            "window_secs": window_secs,
        }),
    }
}

pub(super) fn protoscan(source: AddrKey, target: AddrKey, n: u32, window_secs: u64) -> Raise {
    let (src, dst) = (addr::ip(source), addr::ip(target));
    Raise {
        kind: "net.protoscan",
        severity: Severity::Medium,
        label: None,
        subject: Subject {
            src_ip: Some(src),
            dst_ip: Some(dst),
            ..Subject::default()
        },
        message: format!("IP protocol scan from {src}: {dst} refused {n} IP protocols"),
        details: json!({
            "scanner": src.to_string(),
            "targets": [dst.to_string()],
            "protocols": n,
            "window_secs": window_secs,
        }),
    }
}
