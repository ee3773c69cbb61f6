//! End to end on PostgreSQL: `netsnoop serve --database postgres://…` stores POSTed
//! NetWatch packets in a throwaway PostgreSQL cluster and answers the statistics from
//! it; the password comes from PGPASSWORD, then from a password file, with the URL in
//! the config's `store.database`.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_test_support::pg;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn spawn(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, String)],
) -> (Child, mpsc::Receiver<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netsnoop"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(dir)
        .arg("--config")
        .arg(dir.join("c.toml"))
        .env("NO_COLOR", "1")
        .env_remove("NETSNOOP_TOKEN")
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("netsnoop starts");
    let rx = netsnoop_test_support::lines(child.stderr.take().unwrap());
    (child, rx)
}

fn bound_addr(rx: &mpsc::Receiver<String>) -> SocketAddr {
    netsnoop_test_support::await_announced_addr(rx, Duration::from_secs(30))
}

fn get_json(
    addr: SocketAddr,
    path: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = netsnoop_test_support::http(addr, "GET", path, "");
        if status == 200 {
            let start = body.find(['{', '[']).unwrap_or(0);
            let end = body.rfind(['}', ']']).map_or(body.len(), |e| e + 1);
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&body[start..end])
                && ok(&v)
            {
                return v;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{path} never matched; last: {status} {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn stop(mut child: Child) -> std::process::ExitStatus {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running 10 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serve_with_a_postgres_database_stores_posted_packets_and_answers_statistics_from_it() {
    let cluster = pg::cluster();
    let with_password = cluster.fresh_database();
    // The URL without its password: PGPASSWORD supplies it.
    let url = with_password.replacen(&format!(":{}@", pg::PASSWORD), "@", 1);
    assert!(!url.contains(pg::PASSWORD));
    let dir = tempfile::tempdir().unwrap();
    let (child, rx) = spawn(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--database", &url],
        &[("PGPASSWORD", pg::PASSWORD.to_string())],
    );
    let addr = bound_addr(&rx);

    let now = jiff::Timestamp::now().as_second() - 10;
    let batch = format!(
        "[{}]",
        (0..12)
            .map(|i| {
                let (src, proto, size) = if i < 9 {
                    ("192.168.1.11", "UDP", 100)
                } else {
                    ("192.168.1.10", "TCP", 60)
                };
                format!(
                    r#"{{"timestamp":{},"src_ip":"{src}","dst_ip":"10.0.0.1","protocol":"{proto}","packet_size":{size}}}"#,
                    now + i % 3
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    );
    let (status, body) = netsnoop_test_support::http(addr, "POST", "/packets", &batch);
    assert_eq!(status, 200, "{body}");

    let summary = get_json(addr, "/stats/summary", |v| v["total_packets"] == 12);
    assert_eq!(summary["unique_sources"], 2);
    assert_eq!(summary["total_bytes"], 9 * 100 + 3 * 60);
    let talkers = get_json(addr, "/stats/top-talkers", |v| {
        v.as_array().is_some_and(|a| a.len() == 2)
    });
    assert_eq!(talkers[0]["src_ip"], "192.168.1.11");
    assert_eq!(talkers[0]["count"], 9);
    let protocols = get_json(addr, "/stats/protocol-distribution", |v| {
        v.as_array().is_some_and(|a| a.len() == 2)
    });
    assert_eq!(protocols[0]["protocol"], "UDP");
    let recent = get_json(addr, "/packets/recent?limit=1", |v| {
        v.as_array().is_some_and(|a| a.len() == 1)
    });
    assert!(recent[0]["protocol"].is_string());
    let traffic = get_json(addr, "/stats/traffic-over-time", |v| {
        v.as_array().is_some_and(|a| a.len() == 12)
    });
    assert!(traffic[0]["packet_size"].is_number(), "{traffic}");
    get_json(addr, "/health", |v| v["store"] == "postgres");
    assert_eq!(stop(child).code(), Some(0));

    // Again with the URL in the config and the password in a password file: the
    // packets are still there.
    let pgpass = dir.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "127.0.0.1:{}:*:{}:{}\n",
            cluster.port(),
            pg::SUPERUSER,
            pg::PASSWORD
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        format!("[store]\ndatabase = \"{url}\"\n"),
    )
    .unwrap();
    let (child, rx) = spawn(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0"],
        &[("PGPASSFILE", pgpass.display().to_string())],
    );
    let addr = bound_addr(&rx);
    get_json(addr, "/stats/summary", |v| v["total_packets"] == 12);
    assert_eq!(stop(child).code(), Some(0));
}

#[test]
fn serve_with_an_unreachable_postgres_fails_with_one_line_naming_what_to_check() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(format!("postgres://ns:secret-pw@127.0.0.1:{port}/netsnoop"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--config")
        .arg(dir.path().join("c.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach the server"), "{err}");
    assert!(!err.contains("secret-pw"), "{err}");
}
