//! End to end (needs root, nmap, hping3, sshd): real attacks between two network
//! namespaces this test creates (a veth pair, private addresses inside them only), with
//! `netsnoop watch` capturing on the target side. Every nmap scan type, host discovery
//! by ARP, ICMP echo, TCP SYN and ACK pings, an IP protocol scan, a bounded SYN flood, an
//! SSH brute force against a real sshd and an ARP spoof of the gateway each raise the
//! right alert kind within the stated number of probes. About a minute in all.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

#[path = "detect_live/lab.rs"]
mod lab;

use lab::Lab;
use netsnoop_test_support::{KillOnDrop, recv_until};
use serde_json::Value;
use std::process::Stdio;
use std::sync::mpsc::Receiver;
use std::time::Duration;

/// The target side's `netsnoop watch --format jsonl` on its end of the veth pair.
fn watch(lab: &mut Lab, dir: &std::path::Path) -> Receiver<String> {
    let gateway = format!("10.213.{}.254", lab.n);
    let config =
        format!("[general]\ntimezone = \"UTC\"\n[network.arp_spoof]\ngateways = [\"{gateway}\"]\n");
    std::fs::write(dir.join("c.toml"), config).unwrap();
    let mut c = lab.cmd(&lab.target.clone(), env!("CARGO_BIN_EXE_netsnoop"));
    c.args(["watch", "--format", "jsonl", "--interface", "vT"])
        .arg("--data-dir")
        .arg(dir)
        .arg("--config")
        .arg(dir.join("c.toml"))
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("netsnoop starts");
    let out = netsnoop_test_support::lines(child.stdout.take().unwrap());
    let err = netsnoop_test_support::lines(child.stderr.take().unwrap());
    lab.children.push(KillOnDrop(child));
    let mut banner = Vec::new();
    let ready = recv_until(&err, Duration::from_secs(30), |line| {
        let ready = line.contains("running; press Ctrl+C");
        banner.push(line);
        ready.then_some(())
    });
    assert!(ready.is_some(), "no ready line: {banner:#?}");
    out
}

/// Waits for the first alert of `kind` from `src` that `fits`, keeping every alert seen.
fn expect_alert(
    rx: &Receiver<String>,
    seen: &mut Vec<Value>,
    kind: &str,
    src: &str,
    fits: impl Fn(&Value) -> bool,
) -> Value {
    let matches = |v: &Value| v["kind"] == kind && v["src_ip"] == src && fits(v);
    if let Some(v) = seen.iter().find(|v| matches(v)) {
        return v.clone();
    }
    let found = recv_until(rx, Duration::from_secs(20), |line| {
        let v: Value = serde_json::from_str(&line).ok()?;
        if v["type"] != "alert" {
            return None;
        }
        seen.push(v.clone());
        matches(&v).then_some(v)
    });
    found.unwrap_or_else(|| {
        let got: Vec<_> = seen
            .iter()
            .map(|v| format!("{} {} {}", v["kind"], v["src_ip"], v["message"]))
            .collect();
        panic!("no {kind} from {src}; alerts so far: {got:#?}")
    })
}

#[test]
fn every_attack_run_across_namespaces_raises_its_alert_on_the_target_side() {
    netsnoop_test_support::require_root("network namespaces and live capture");
    let mut lab = Lab::new();
    let dir = tempfile::tempdir().unwrap();
    let rx = watch(&mut lab, dir.path());
    let mut seen = Vec::new();
    let target = lab.link(2);

    // Port scans of the target's closed ports, each from its own address: decided by the
    // walk within 5 failed ports (the first alert's count), named by type.
    let scans: [(&str, &str, u8); 9] = [
        ("-sS", "syn", 10),
        ("-sF", "fin", 11),
        ("-sN", "null", 12),
        ("-sX", "xmas", 13),
        ("-sA", "ack", 14),
        ("-sW", "ack", 15),
        ("-sM", "maimon", 16),
        ("-sU", "udp", 17),
        ("-sT", "connect", 1),
    ];
    for (flag, stype, host) in scans {
        let src = lab.link(host);
        let ports = if flag == "-sU" { "1-30" } else { "1-60" };
        let mut args = vec![flag, "-n", "-Pn", "-T4", "--max-retries", "1", "-p", ports];
        if flag != "-sT" {
            args.extend(["-e", "vA", "-S", &src]);
        }
        args.push(&target);
        lab.attack(60, "nmap", &args);
        let a = expect_alert(&rx, &mut seen, "net.portscan", &src, |_| true);
        assert_eq!(a["details"]["scan_type"], stype, "{flag}: {a}");
        let ports = a["details"]["ports"].as_u64().unwrap();
        assert!(ports <= 5, "{flag} decided at its {ports}th port: {a}");
    }

    // IP protocol scan: decided at 5 protocols refused.
    let src = lab.link(18);
    lab.attack(
        60,
        "nmap",
        &[
            "-sO", "-n", "-Pn", "-T4", "-p", "1-60", "-e", "vA", "-S", &src, &target,
        ],
    );
    let a = expect_alert(&rx, &mut seen, "net.protoscan", &src, |_| true);
    assert_eq!(a["details"]["protocols"], 5, "{a}");

    // Host discovery: ARP on the link, echo to a silent range, SYN and ACK pings to a
    // range whose every address answers.
    let n = lab.n;
    let (link, live, silent) = (
        format!("10.213.{n}.0/24"),
        format!("10.214.{n}.0/24"),
        format!("10.215.{n}.0/24"),
    );
    lab.attack(60, "nmap", &["-sn", "-n", "-T4", &link]);
    let arp = lab.link(1);
    expect_alert(&rx, &mut seen, "net.discovery", &arp, |v| {
        v["details"]["method"] == "arp"
    });
    let pings: [(&str, &str, &str, u8); 3] = [
        ("-PE", &silent, "icmp-echo", 20),
        ("-PS443", &live, "tcp-syn", 21),
        ("-PA80", &live, "tcp-ack", 22),
    ];
    for (flag, range, method, host) in pings {
        let src = lab.link(host);
        let args = [
            "-sn",
            flag,
            "--send-ip",
            "-n",
            "-T4",
            "-e",
            "vA",
            "-S",
            &src,
            range,
        ];
        lab.attack(60, "nmap", &args);
        let a = expect_alert(&rx, &mut seen, "net.discovery", &src, |v| {
            v["details"]["method"] == method
        });
        // TCP pings are decided at the 25th host; echo waits for the 3 s answer timeout
        // to see its targets silent, so more are on the way by then.
        let hosts = a["details"]["hosts"].as_u64().unwrap();
        if method == "icmp-echo" {
            assert!(hosts >= 25, "{a}");
        } else {
            assert_eq!(hosts, 25, "{flag} decided at 25 hosts: {a}");
        }
    }

    // A spoofed SYN flood, 1,000 a second for 3 seconds.
    lab.attack(
        3,
        "hping3",
        &[
            "-q",
            "-S",
            "-p",
            "80",
            "-i",
            "u1000",
            "--rand-source",
            &target,
        ],
    );
    let flood = recv_until(&rx, Duration::from_secs(20), |line| {
        let v: Value = serde_json::from_str(&line).ok()?;
        (v["kind"] == "net.synflood").then_some(v)
    })
    .expect("a net.synflood alert");
    assert_eq!(flood["dst_ip"], target.as_str());
    assert_eq!(flood["details"]["spoofed_likely"], true, "{flood}");

    // SSH brute force against a real sshd in the target namespace: decided at the 10th
    // failed login.
    sshd(&mut lab, dir.path(), &target);
    let src = lab.link(30);
    let mut refused = 0;
    for _ in 0..40 {
        let out = lab.attack(
            10,
            "ssh",
            &[
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "PubkeyAuthentication=no",
                "-o",
                "ConnectTimeout=5",
                "-b",
                &src,
                &format!("nobody@{target}"),
                "true",
            ],
        );
        if String::from_utf8_lossy(&out.stderr).contains("Permission denied") {
            refused += 1;
            if refused == 12 {
                break;
            }
        }
    }
    assert_eq!(refused, 12, "sshd refused 12 logins");
    let a = expect_alert(&rx, &mut seen, "net.bruteforce", &src, |_| true);
    assert_eq!(a["details"]["service"], "SSH", "{a}");
    assert_eq!(a["details"]["attempts"], 10, "{a}");

    // ARP spoofing of the gateway: its address announced from one MAC, then from
    // another (the attacker's card given a new address, as a second machine would be).
    let gw = lab.link(254);
    lab.ip_in_attacker(&format!("addr add {gw}/24 dev vA"));
    let announce = ["-U", "-c", "2", "-I", "vA", "-s", &gw, &gw];
    lab.attack(10, "arping", &announce);
    lab.ip_in_attacker("link set vA address 02:66:66:66:66:66");
    lab.attack(10, "arping", &announce);
    let a = expect_alert(&rx, &mut seen, "net.arpspoof", &gw, |_| true);
    assert_eq!(a["details"]["gateway"], true, "{a}");
    assert_eq!(a["details"]["new_mac"], "02:66:66:66:66:66", "{a}");
    assert_eq!(a["severity"], "critical", "{a}");
}

/// A real sshd on the target, with a host key made for this test.
fn sshd(lab: &mut Lab, dir: &std::path::Path, addr: &str) {
    let key = dir.join("host_ed25519");
    let keygen = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", ""])
        .arg("-f")
        .arg(&key)
        .status()
        .unwrap();
    assert!(keygen.success());
    // sshd's privilege separation directory (Debian's package makes it at boot).
    std::fs::create_dir_all("/run/sshd").unwrap();
    let mut c = lab.cmd(&lab.target.clone(), "/usr/sbin/sshd");
    c.args(["-D", "-e", "-f", "/dev/null", "-h"])
        .arg(&key)
        .args(["-o", &format!("ListenAddress={addr}"), "-o", "PidFile=none"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    lab.children
        .push(KillOnDrop(c.spawn().expect("sshd starts")));
}
