//! End to end, as root: a real process with a bearer token, a URL password and a
//! `--password=` in its argv runs under `netsnoop run`; the API, the stream's sources (the
//! live hub), the store, the log files and stderr only ever hold them redacted, the
//! redactions are counted in /health and /metrics, and the data dir and its files are
//! private to their owner.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One HTTP/1.1 GET on a fresh connection; returns (status, body).
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    netsnoop_test_support::http(addr, "GET", path, "")
}

/// Polls `path` until `ok` holds for its body (20 s at most).
fn wait_for(addr: SocketAddr, path: &str, ok: impl Fn(&str) -> bool) -> String {
    netsnoop_test_support::wait_for(
        Duration::from_secs(20),
        format_args!("{path} to match"),
        || {
            let (status, body) = get(addr, path);
            (status == 200 && ok(&body)).then_some(body)
        },
    )
}

fn start_run(data: &Path, config: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args([
            "run",
            "--no-capture",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data)
        .arg("--config")
        .arg(config)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "debug")
        .env_remove("NETSNOOP_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netsnoop starts");
    let (tx, rx) = mpsc::channel();
    let outputs: [Box<dyn Read + Send>; 2] = [
        Box::new(child.stderr.take().expect("piped")),
        Box::new(child.stdout.take().expect("piped")),
    ];
    for r in outputs {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(r).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    (child, rx)
}

/// Waits for the line announcing the bound address (`http://ADDR/ (dashboard)`).
fn bound_addr(rx: &mpsc::Receiver<String>) -> SocketAddr {
    netsnoop_test_support::await_announced_addr(rx, Duration::from_secs(30))
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_bearer_token_in_argv_never_reaches_the_api_the_store_or_the_logs() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test needs root (exec events need the proc connector or eBPF): run it as root"
    );
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = tmp.path().join("c.toml");
    std::fs::write(&config, "").unwrap();
    let (mut child, lines) = start_run(&data, &config);
    let addr = bound_addr(&lines);

    let token = format!(
        "tok{}x{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    );
    let marker = format!("redaction-marker-{}", std::process::id());
    // A real process whose argv holds three secrets; it lives a while so the resource
    // sampler sees its command line too.
    let mut proc = Command::new("/bin/sh")
        .args([
            "-c",
            "sleep 3",
            &marker,
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("https://alice:{token}@127.0.0.1/x"),
            &format!("--password={token}"),
        ])
        .spawn()
        .unwrap();

    let events = wait_for(addr, "/events/process?limit=1000", |b| b.contains(&marker));
    let v: serde_json::Value = serde_json::from_str(&events).unwrap();
    let list = v
        .as_array()
        .or(v["events"].as_array())
        .expect("a list of events");
    let ev = list
        .iter()
        .find(|e| e["argv"].to_string().contains(&marker))
        .expect("the exec event");
    assert_eq!(ev["argv"][5], "Authorization: Bearer <redacted>", "{ev}");
    assert_eq!(
        ev["argv"][6], "https://alice:<redacted>@127.0.0.1/x",
        "{ev}"
    );
    assert_eq!(ev["argv"][7], "--password=<redacted>", "{ev}");
    assert_eq!(ev["redacted"], 3, "{ev}");

    let health = wait_for(addr, "/health", |b| {
        serde_json::from_str::<serde_json::Value>(b)
            .is_ok_and(|h| h["redactions"].as_u64().is_some_and(|n| n >= 3))
    });
    let metrics = wait_for(addr, "/metrics", |b| {
        b.contains("netsnoop_redactions_total")
    });
    let counted: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("netsnoop_redactions_total "))
        .and_then(|n| n.trim().parse().ok())
        .expect("a redactions counter");
    assert!(counted >= 3.0, "{metrics}");
    let pid_path = format!("/processes/{}", proc.id());
    let (_, by_pid) = get(addr, &pid_path);
    let (_, processes) = get(addr, "/processes");
    for (what, body) in [
        ("/events/process", &events),
        ("/health", &health),
        ("/processes/{pid}", &by_pid),
        ("/processes", &processes),
    ] {
        assert!(!body.contains(&token), "{what} leaks the token: {body}");
    }

    assert!(proc.wait().unwrap().success());
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    assert!(child.wait().unwrap().success());

    let output: Vec<String> = lines.try_iter().collect();
    assert!(
        !output.iter().any(|l| l.contains(&token)),
        "stderr/stdout leak the token"
    );
    // The store (database and WAL), events.jsonl, anomalies.csv, the session log: none
    // holds the token, and each is private to its owner.
    let all = files(&data);
    assert!(all.iter().any(|p| p.ends_with("netsnoop.db")), "{all:?}");
    let mut process_rows = 0;
    for p in &all {
        let bytes = std::fs::read(p).unwrap();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "{} holds the token",
            p.display()
        );
        process_rows += bytes
            .windows(marker.len())
            .filter(|w| *w == marker.as_bytes())
            .count();
        let mode = std::fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", p.display());
    }
    assert!(
        process_rows > 0,
        "the exec event was recorded somewhere on disk"
    );
    let dir_mode = std::fs::metadata(&data).unwrap().mode() & 0o7777;
    assert_eq!(dir_mode, 0o700, "data dir mode {dir_mode:o}");
}

#[test]
fn init_writes_the_config_and_the_data_files_private_to_their_owner() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("etc/c.toml");
    let data = tmp.path().join("var/data");
    // An old world-readable config, as earlier versions wrote it, is replaced 0600.
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "").unwrap();
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args(["init", "--force", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o7777;
    assert_eq!(mode(&config), 0o600);
    assert_eq!(mode(&data), 0o700);
    let all = files(&data);
    assert!(all.len() >= 4, "{all:?}");
    for p in all {
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
}
