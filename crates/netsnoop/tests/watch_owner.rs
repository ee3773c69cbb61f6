//! End to end (needs root): `netsnoop watch --interface lo --format jsonl` names the
//! process behind real loopback connections: `connection` records with the client's pid,
//! flows with the owner of both ends, and a port scan alert naming the scanning process.
//! The capture filter keeps to this test's own 127.79.x.y addresses.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_test_support::{lines, recv_until};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
fn watch_names_the_processes_behind_loopback_connections_flows_and_a_scan() {
    netsnoop_test_support::require_root("live capture on lo and eBPF");
    let me = std::process::id();
    let (b, c) = ((me % 250) as u8 + 1, ((me / 250) % 80) as u8 * 3 + 1);
    let server = Ipv4Addr::new(127, 79, b, c);
    let scanner = Ipv4Addr::new(127, 79, b, c + 1);
    let target = Ipv4Addr::new(127, 79, b, c + 2);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        "[general]\ntimezone = \"UTC\"\n[network.flows]\nclose_linger_secs = 1\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args([
            "watch",
            "--format",
            "jsonl",
            "--interface",
            "lo",
            "--filter",
        ])
        .arg(format!("host {server} or host {target}"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--config")
        .arg(dir.path().join("c.toml"))
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netsnoop starts");
    let rx = lines(child.stdout.take().unwrap());
    let erx = lines(child.stderr.take().unwrap());
    let mut banner = Vec::new();
    let ready = recv_until(&erx, Duration::from_secs(30), |line| {
        let ready = line.contains("running; press Ctrl+C");
        banner.push(line);
        ready.then_some(())
    });
    assert!(ready.is_some(), "no ready line: {banner:#?}");
    assert!(
        banner
            .iter()
            .any(|l| l.contains("owners:") && l.contains("socket attribution: ebpf")),
        "{banner:#?}"
    );

    // One short-lived client process talks to a server in this test.
    let listener = TcpListener::bind(SocketAddrV4::new(server, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import socket; s = socket.create_connection(('{server}', {port})); \
             s.sendall(b'ping'); s.recv(4); s.close()"
        ))
        .spawn()
        .unwrap();
    let (mut conn, _) = listener.accept().unwrap();
    let mut buf = [0u8; 4];
    conn.read_exact(&mut buf).unwrap();
    conn.write_all(b"pong").unwrap();
    assert!(client.wait().unwrap().success());
    drop(conn);
    let cpid = client.id();

    // Then a connect scan from another address of ours.
    for p in 20000..20040u16 {
        connect_from(scanner, SocketAddrV4::new(target, p));
    }

    let (mut connection, mut flow, mut alert) = (None::<Value>, None::<Value>, None::<Value>);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while (connection.is_none() || flow.is_none() || alert.is_none()) && Instant::now() < deadline {
        let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        let v: Value = serde_json::from_str(&line).expect("JSON lines");
        match v["type"].as_str() {
            Some("connection") if v["kind"] == "connect" && v["owner"]["pid"] == cpid => {
                connection = Some(v)
            }
            Some("flow") if v["resp_port"] == port => flow = Some(v),
            Some("alert") if v["kind"] == "net.portscan" => alert = Some(v),
            _ => {}
        }
        if seen.len() < 50 {
            seen.push(line);
        }
    }
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");

    let connection = connection.unwrap_or_else(|| panic!("no connection record: {seen:#?}"));
    assert_eq!(connection["owner"]["comm"], "python3");
    assert_eq!(connection["remote_port"], port);
    assert!(connection["time"].as_str().unwrap().ends_with("+00:00"));

    let flow = flow.unwrap_or_else(|| panic!("no flow record: {seen:#?}"));
    assert_eq!(flow["orig_owner"]["known"]["pid"], cpid, "{flow}");
    assert_eq!(flow["resp_owner"]["known"]["pid"], me, "{flow}");

    let alert = alert.unwrap_or_else(|| panic!("no portscan alert: {seen:#?}"));
    assert_eq!(alert["src_ip"], scanner.to_string());
    assert_eq!(
        alert["pid"], me,
        "the scan names this test process: {alert}"
    );
    assert!(
        alert["message"]
            .as_str()
            .unwrap()
            .contains(&format!("pid {me}")),
        "{alert}"
    );
}
