//! End to end (needs root): `netsnoop watch --interface lo --format jsonl` captures real
//! packets while this test connect-scans its own loopback addresses, and the scan alert
//! comes out as a JSON line; SIGINT then ends the session cleanly. The capture filter
//! keeps it to this test's own 127.78.x.y addresses (loopback is shared with other tests).

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_test_support::{KillOnDrop, recv_until, wait_for};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::time::Duration;

fn connect_from(src: Ipv4Addr, dst: SocketAddrV4) {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, connect, socket};
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )
    .unwrap();
    bind(fd.as_raw_fd(), &SockaddrIn::from(SocketAddrV4::new(src, 0))).unwrap();
    let _ = connect(fd.as_raw_fd(), &SockaddrIn::from(dst));
}

#[test]
fn watch_prints_a_portscan_alert_for_a_real_scan_on_loopback() {
    netsnoop_test_support::require_root("live capture on lo");
    let pid = std::process::id();
    let (b, c) = ((pid % 250) as u8 + 1, ((pid / 250) % 120) as u8 * 2 + 1);
    let (scanner, target) = (
        Ipv4Addr::new(127, 78, b, c),
        Ipv4Addr::new(127, 78, b, c + 1),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), "[general]\ntimezone = \"UTC\"\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args([
            "watch",
            "--format",
            "jsonl",
            "--interface",
            "lo",
            "--filter",
        ])
        .arg(format!("host {target}"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--config")
        .arg(dir.path().join("c.toml"))
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netsnoop starts");
    let rx = netsnoop_test_support::lines(child.stdout.take().unwrap());
    let erx = netsnoop_test_support::lines(child.stderr.take().unwrap());
    let mut child = KillOnDrop(child);
    // Wait until capture is running (the ready line comes after the sources started).
    let mut banner = Vec::new();
    let ready = recv_until(&erx, Duration::from_secs(30), |line| {
        let ready = line.contains("running; press Ctrl+C");
        banner.push(line);
        ready.then_some(())
    });
    assert!(ready.is_some(), "no ready line: {banner:#?}");
    assert!(banner.iter().any(|l| l.contains("on lo")), "{banner:#?}");

    // Scan until the alert shows up (capture may take a moment to see the first packets).
    let mut port = 40000u16;
    let alert = wait_for(Duration::from_secs(60), "a net.portscan alert line", || {
        for _ in 0..20 {
            connect_from(scanner, SocketAddrV4::new(target, port));
            port += 1;
        }
        recv_until(&rx, Duration::from_millis(200), |line| {
            let v: serde_json::Value = serde_json::from_str(&line).expect("JSON lines");
            (v["type"] == "alert" && v["kind"] == "net.portscan").then_some(v)
        })
    });
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.0.wait().unwrap();
    assert_eq!(alert["src_ip"], scanner.to_string());
    assert_eq!(alert["dst_ip"], target.to_string());
    assert_eq!(alert["details"]["scan_type"], "connect");
    assert!(alert["first_seen"].as_str().unwrap().ends_with("+00:00"));
    assert!(status.success(), "{status:?}");
}
