//! Live capture end to end (needs root): capture on `lo` while this test scans its own
//! loopback addresses with real connects and real SYNs (nmap), and the scan alerts come
//! out of the same stages a live run uses. Other tests share loopback, so the capture is
//! filtered to this test's own 127.77.x.y addresses.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use crossbeam_channel::bounded;
use netsnoop_core::net::config::CaptureConfig;
use netsnoop_core::net::{NetworkConfig, NetworkStages};
use netsnoop_core::{Alert, Event, Record, Ts};
use netsnoop_linux::capture::{CaptureError, LiveCapture};
use netsnoop_test_support::{poll, require_root};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::Duration;

/// Loopback addresses no other test uses: 127.77.<pid-derived>.{c..c+3}, as
/// (connect scanner, connect target, SYN scanner, SYN target).
fn own_addresses() -> [Ipv4Addr; 4] {
    let pid = std::process::id();
    let b = (pid % 250) as u8 + 1;
    let c = ((pid / 250) % 60) as u8 * 4 + 1;
    [0, 1, 2, 3].map(|i| Ipv4Addr::new(127, 77, b, c + i))
}

/// A plain connect() from a chosen source address, as a connect scanner does.
fn connect_from(src: Ipv4Addr, dst: SocketAddr) {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, connect, socket};
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )
    .expect("socket");
    bind(
        fd.as_raw_fd(),
        &SockaddrIn::from(std::net::SocketAddrV4::new(src, 0)),
    )
    .expect("bind");
    let SocketAddr::V4(dst) = dst else {
        unreachable!()
    };
    let _ = connect(fd.as_raw_fd(), &SockaddrIn::from(dst));
}

fn capture_cfg(filter: String) -> CaptureConfig {
    CaptureConfig {
        interfaces: vec!["lo".to_string()],
        filter: Some(filter),
        batch_timeout_ms: 20,
        ..CaptureConfig::default()
    }
}

#[test]
fn scanning_our_own_loopback_ports_raises_connect_and_syn_portscan_alerts() {
    require_root("live capture on lo");
    let [connect_src, connect_target, syn_src, syn_target] = own_addresses();
    let (tx, rx) = bounded(1024);
    let filter = format!("host {connect_target} or host {syn_target}");
    let capture = LiveCapture::start(&capture_cfg(filter), None, tx).expect("capture on lo");

    // One open port on the connect target, so the scan meets a listener too.
    let listener = TcpListener::bind((connect_target, 0)).expect("bind own address");
    let open_port = listener.local_addr().unwrap().port();

    let scanner = std::thread::spawn(move || {
        for port in (open_port.saturating_sub(30))..open_port.saturating_add(30) {
            connect_from(connect_src, SocketAddr::from((connect_target, port)));
        }
        let status = Command::new("nmap")
            .args([
                "-sS",
                "-Pn",
                "-n",
                "-e",
                "lo",
                "--max-retries",
                "0",
                "-p",
                "30100-30160",
            ])
            .args(["-S", &syn_src.to_string(), &syn_target.to_string()])
            .output()
            .expect("nmap is installed");
        assert!(status.status.success(), "nmap failed: {status:?}");
    });

    let mut stages = NetworkStages::new(&NetworkConfig::default());
    let mut alerts: Vec<Alert> = Vec::new();
    let found = |alerts: &[Alert], scanner: Ipv4Addr, target: Ipv4Addr, ty: &str| {
        alerts.iter().any(|a| {
            a.kind == "net.portscan"
                && a.subject.src_ip == Some(scanner.into())
                && a.subject.dst_ip == Some(target.into())
                && a.details["scan_type"] == ty
        })
    };
    let both = |alerts: &[Alert]| {
        found(alerts, connect_src, connect_target, "connect")
            && found(alerts, syn_src, syn_target, "syn")
    };
    // On a timeout the assertions below say which scan is missing.
    poll(Duration::from_secs(60), || {
        let mut out = Vec::new();
        if let Ok(batch) = rx.recv_timeout(Duration::from_millis(100)) {
            for e in batch {
                if let Event::Packet(m) = e {
                    stages.packet(&m, &mut out);
                }
            }
        }
        stages.tick_into(Ts::now(), &mut out);
        alerts.extend(out.into_iter().filter_map(|r| match r {
            Record::Alert(a) => Some(a),
            _ => None,
        }));
        both(&alerts).then_some(())
    });
    scanner.join().expect("scanner thread");
    let stats = capture.stop();
    assert!(stats[0].captured > 100, "captured: {stats:?}");
    assert_eq!(stats[0].channel_dropped, 0);
    assert!(
        found(&alerts, connect_src, connect_target, "connect"),
        "connect scan of {connect_target} not reported: {alerts:#?}"
    );
    assert!(
        found(&alerts, syn_src, syn_target, "syn"),
        "SYN scan of {syn_target} not reported: {alerts:#?}"
    );
    drop(listener);
}

#[test]
fn a_bad_filter_and_an_unknown_interface_are_typed_errors_naming_the_fix() {
    require_root("live capture on lo");
    let (tx, _rx) = bounded(1);
    let err = LiveCapture::start(&capture_cfg("host and and".into()), None, tx.clone())
        .err()
        .expect("bad filter refused");
    assert!(matches!(err, CaptureError::BadFilter { .. }), "{err}");
    assert!(err.to_string().contains("tcpdump syntax"), "{err}");
    let cfg = CaptureConfig {
        interfaces: vec!["nosuchif0".into()],
        ..CaptureConfig::default()
    };
    let err = LiveCapture::start(&cfg, None, tx)
        .err()
        .expect("unknown interface refused");
    assert!(!err.is_permission(), "{err}");
    assert!(err.to_string().contains("nosuchif0"), "{err}");
}

/// Runs itself again as `nobody` without capabilities; that child tries to capture and
/// prints the error it gets, which the parent checks.
#[test]
fn without_cap_net_raw_the_error_says_to_run_as_root_or_setcap() {
    if std::env::var_os("NETSNOOP_UNPRIVILEGED_CHILD").is_some() {
        let (tx, _rx) = bounded(1);
        match LiveCapture::start(&capture_cfg(String::new()), None, tx) {
            Ok(_) => println!("RESULT: capture opened"),
            Err(e) => println!("RESULT: permission={} {e}", e.is_permission()),
        }
        return;
    }
    require_root("live capture on lo");
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(&exe)
        .args([
            "--exact",
            "without_cap_net_raw_the_error_says_to_run_as_root_or_setcap",
        ])
        .arg("--nocapture")
        .env("NETSNOOP_UNPRIVILEGED_CHILD", "1")
        .output()
        .expect("setpriv runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("RESULT:"))
        .unwrap_or_else(|| {
            panic!(
                "child said nothing: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(line.contains("permission=true"), "{line}");
    assert!(
        line.contains("setcap cap_net_raw,cap_net_admin+eip"),
        "{line}"
    );
    assert!(line.contains("Run netsnoop as root"), "{line}");
}
