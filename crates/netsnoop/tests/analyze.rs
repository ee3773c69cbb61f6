//! `netsnoop analyze`: a pcap generated here (mixed traffic plus scans) gives the JSON
//! summary in the snapshot; damaged files give the result before the damage and its
//! offset; a file that is not a capture is refused naming the fix.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use netsnoop_core::Ts;
use netsnoop_core::net::parse::LinkType;
use netsnoop_linux::capture::{PcapNgWriter, PcapWriter, synth};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;

fn netsnoop(dir: &Path) -> Command {
    let cfg = dir.join("config.toml");
    std::fs::write(&cfg, "[general]\ntimezone = \"UTC\"\n").unwrap();
    let mut c = Command::cargo_bin("netsnoop").unwrap();
    c.env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .env("XDG_DATA_HOME", dir.join("xdg-data"))
        .env("NO_COLOR", "1")
        .arg("analyze")
        .arg("--config")
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.join("data"));
    c
}

/// Frames with their times (seconds after a fixed start): a web client, DNS, ARP and
/// IPv6 chatter, then a SYN scan of 30 ports and, from another host, a UDP scan of 20.
fn mixed_traffic() -> Vec<(f64, Vec<u8>)> {
    let client = Ipv4Addr::new(10, 0, 0, 10);
    let web = Ipv4Addr::new(93, 184, 216, 34);
    let dns = Ipv4Addr::new(10, 0, 0, 53);
    let scanner = Ipv4Addr::new(10, 0, 0, 66);
    let udp_scanner = Ipv4Addr::new(10, 0, 0, 67);
    let victim = Ipv4Addr::new(10, 0, 0, 20);
    let mut f = Vec::new();
    for i in 0..20u16 {
        let (sp, t) = (40000 + i, f64::from(i) * 0.1);
        f.push((t, synth::udp(client, sp, dns, 53, 32)));
        f.push((t + 0.01, synth::udp(dns, 53, client, sp, 96)));
        f.push((t + 0.02, synth::tcp(client, sp, web, 443, SYN, 0)));
        f.push((t + 0.03, synth::tcp(web, 443, client, sp, SYN | ACK, 0)));
        f.push((t + 0.04, synth::tcp(client, sp, web, 443, ACK, 200)));
        f.push((t + 0.05, synth::tcp(web, 443, client, sp, ACK, 1400)));
        f.push((t + 0.06, synth::tcp(client, sp, web, 443, FIN | ACK, 0)));
        f.push((t + 0.07, synth::tcp(web, 443, client, sp, FIN | ACK, 0)));
    }
    f.push((0.5, synth::arp(client, dns)));
    let ll = |x: u8| [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, x];
    f.push((0.6, synth::udp6(ll(1), 546, ll(2), 547, 40)));
    for i in 0..30u16 {
        let t = 3.0 + f64::from(i) * 0.01;
        f.push((t, synth::tcp(scanner, 55555, victim, 1000 + i, SYN, 0)));
        f.push((
            t + 0.001,
            synth::tcp(victim, 1000 + i, scanner, 55555, RST | ACK, 0),
        ));
    }
    for i in 0..20u16 {
        let t = 4.0 + f64::from(i) * 0.01;
        f.push((t, synth::udp(udp_scanner, 55556, victim, 2000 + i, 0)));
        f.push((
            t + 0.001,
            synth::port_unreachable(victim, udp_scanner, 55556, 2000 + i),
        ));
    }
    f.sort_by(|a, b| a.0.total_cmp(&b.0));
    f
}

fn t(secs: f64) -> Ts {
    Ts::from_secs_f64(1_767_225_600.0 + secs) // 2026-01-01T00:00:00Z
}

fn write_pcap(path: &Path, frames: &[(f64, Vec<u8>)]) -> Vec<u64> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).unwrap();
    let mut offsets = Vec::new();
    let mut at = 24u64;
    for (secs, frame) in frames {
        offsets.push(at);
        w.write(t(*secs), frame, frame.len() as u32).unwrap();
        at += 16 + frame.len() as u64;
    }
    std::fs::write(path, w.into_inner()).unwrap();
    offsets
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn in_dir(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

#[test]
fn analyzing_a_pcap_gives_totals_protocols_talkers_flows_and_alerts_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = in_dir(dir.path(), "mixed.pcap");
    write_pcap(&pcap, &mixed_traffic());
    let out = netsnoop(dir.path())
        .arg(&pcap)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let mut doc = json_of(&out);
    doc["file"] = "mixed.pcap".into();
    insta::assert_json_snapshot!("analyze_mixed_pcap", doc);
}

#[test]
fn a_pcapng_file_gives_the_same_summary_as_the_pcap() {
    let dir = tempfile::tempdir().unwrap();
    let frames = mixed_traffic();
    let pcap = in_dir(dir.path(), "m.pcap");
    write_pcap(&pcap, &frames);
    let mut w = PcapNgWriter::new(Vec::new(), &[LinkType::Ethernet]).unwrap();
    for (secs, f) in &frames {
        w.write(0, t(*secs), f, f.len() as u32).unwrap();
    }
    let ng = in_dir(dir.path(), "m.pcapng");
    std::fs::write(&ng, w.into_inner()).unwrap();
    let mut a = json_of(
        &netsnoop(dir.path())
            .arg(&pcap)
            .args(["--format", "json"])
            .output()
            .unwrap(),
    );
    let mut b = json_of(
        &netsnoop(dir.path())
            .arg(&ng)
            .args(["--format", "json"])
            .output()
            .unwrap(),
    );
    a["file"] = "x".into();
    b["file"] = "x".into();
    assert_eq!(a, b);
    assert_eq!(a["alerts"].as_array().unwrap().len(), 2);
}

#[test]
fn a_truncated_file_reports_where_it_ends_and_the_result_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let frames = mixed_traffic();
    let pcap = in_dir(dir.path(), "cut.pcap");
    let offsets = write_pcap(&pcap, &frames);
    let bytes = std::fs::read(&pcap).unwrap();
    let cut_at = offsets[200];
    std::fs::write(&pcap, &bytes[..cut_at as usize + 10]).unwrap();
    let out = netsnoop(dir.path())
        .arg(&pcap)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let doc = json_of(&out);
    assert_eq!(doc["packets"], 200);
    assert_eq!(doc["damage"]["offset"], cut_at);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("damaged at byte {cut_at}")), "{err}");
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn garbage_in_the_middle_is_reported_at_its_offset_with_the_result_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let frames = mixed_traffic();
    let pcap = in_dir(dir.path(), "garbage.pcap");
    let offsets = write_pcap(&pcap, &frames);
    let mut bytes = std::fs::read(&pcap).unwrap();
    let at = offsets[250] as usize;
    for (i, b) in bytes[at..at + 64].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37) | 0x80;
    }
    std::fs::write(&pcap, &bytes).unwrap();
    let out = netsnoop(dir.path()).arg(&pcap).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("250 packets"), "{text}");
    assert!(text.contains(&format!("Damaged at byte {at}")), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("damaged at byte {at}")), "{err}");
}

#[test]
fn the_text_summary_lists_protocols_talkers_flows_and_the_scan_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = in_dir(dir.path(), "mixed.pcap");
    write_pcap(&pcap, &mixed_traffic());
    let out = netsnoop(dir.path()).arg(&pcap).output().unwrap();
    assert!(out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).replace(&pcap.display().to_string(), "mixed.pcap");
    insta::assert_snapshot!("analyze_mixed_text", text);
}

#[test]
fn a_file_that_is_not_a_capture_is_refused_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = in_dir(dir.path(), "notes.pcap");
    std::fs::write(&bogus, "just some text, not packets").unwrap();
    let out = netsnoop(dir.path()).arg(&bogus).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a pcap or pcapng file"), "{err}");
    assert!(err.contains("tcpdump"), "{err}");
}

#[test]
fn out_of_order_timestamps_give_the_earliest_to_latest_range_and_a_positive_duration() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = in_dir(dir.path(), "unordered.pcap");
    let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let frames: Vec<(f64, Vec<u8>)> = [5.0, 1.0, 3.0, 2.0]
        .into_iter()
        .map(|t| (t, synth::udp(a, 1000, b, 53, 10)))
        .collect();
    write_pcap(&pcap, &frames);
    let out = netsnoop(dir.path()).arg(&pcap).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("from 2026-01-01T00:00:01+00:00 to 2026-01-01T00:00:05+00:00 (4.0 s)"),
        "{text}"
    );
}

fn alert_kinds(doc: &serde_json::Value) -> Vec<String> {
    let alerts = doc["alerts"].as_array().unwrap();
    alerts
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_one_way_capture_of_29_syns_ending_within_the_probe_timeout_is_a_port_scan() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = in_dir(dir.path(), "oneway.pcap");
    let (scanner, victim) = (Ipv4Addr::new(10, 0, 0, 66), Ipv4Addr::new(10, 0, 0, 5));
    let ports = [
        21u16, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 465, 587, 993, 995, 1433,
        1723, 3306, 3389, 5432, 5900, 6379, 8000, 8080, 8443, 9000, 9200,
    ];
    let frames: Vec<_> = ports
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            (
                i as f64 * 0.1,
                synth::tcp(scanner, 61000, victim, p, SYN, 0),
            )
        })
        .collect();
    write_pcap(&pcap, &frames);
    let out = netsnoop(dir.path())
        .arg(&pcap)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let doc = json_of(&out);
    assert_eq!(alert_kinds(&doc), ["net.portscan"], "{doc}");
    assert_eq!(doc["alerts"][0]["details"]["ports"], 29);
}

#[test]
fn a_one_second_syn_ping_sweep_of_256_hosts_is_a_sweep_and_host_discovery() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = in_dir(dir.path(), "sweep.pcap");
    let scanner = Ipv4Addr::new(10, 0, 0, 66);
    let frames: Vec<_> = (0..256u32)
        .map(|h| {
            let dst = Ipv4Addr::new(10, 1, (h / 200) as u8, (1 + h % 200) as u8);
            let sp = 40000 + h as u16;
            (
                f64::from(h) / 256.0,
                synth::tcp(scanner, sp, dst, 80, SYN, 0),
            )
        })
        .collect();
    write_pcap(&pcap, &frames);
    let out = netsnoop(dir.path())
        .arg(&pcap)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let doc = json_of(&out);
    let mut kinds = alert_kinds(&doc);
    kinds.sort();
    assert_eq!(kinds, ["net.discovery", "net.sweep"], "{doc}");
}
