//! End to end on `netsnoop run` (needs root for eBPF): /health names the socket
//! attribution source with its note, and a forced /proc fallback is a degraded mode with
//! the same note in the banner.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Run {
    child: Child,
    addr: SocketAddr,
    banner: Vec<String>,
}

impl Run {
    fn start(source: &str) -> (Run, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("c.toml"),
            format!("[general]\ntimezone = \"UTC\"\n[attribution]\nsource = \"{source}\"\n"),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
            .args([
                "run",
                "--no-capture",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(dir.path())
            .arg("--config")
            .arg(dir.path().join("c.toml"))
            .env("NO_COLOR", "1")
            .env_remove("NETSNOOP_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("netsnoop starts");
        let rx = netsnoop_test_support::lines(child.stderr.take().unwrap());
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut banner = Vec::new();
        let mut addr = None;
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                if addr.is_none() {
                    addr = netsnoop_test_support::announced_addr(&line);
                }
                let ready = line.contains("running; press Ctrl+C");
                banner.push(line);
                if ready {
                    break;
                }
            }
        }
        let addr = addr.unwrap_or_else(|| panic!("no address announced: {banner:#?}"));
        (
            Run {
                child,
                addr,
                banner,
            },
            dir,
        )
    }

    fn health(&self) -> Value {
        let (status, body) = netsnoop_test_support::http(self.addr, "GET", "/health", "");
        assert_eq!(status, 200, "{body}");
        let start = body.find('{').unwrap();
        serde_json::from_str(&body[start..]).unwrap()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

fn attribution_source(health: &Value) -> Value {
    health["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str().unwrap().starts_with("attribution"))
        .cloned()
        .unwrap_or_else(|| panic!("no attribution source in {health:#}"))
}

#[test]
fn health_names_the_ebpf_attribution_source_and_a_forced_fallback_is_degraded() {
    netsnoop_test_support::require_root("eBPF socket attribution");
    let (run, _dir) = Run::start("auto");
    let src = attribution_source(&run.health());
    assert_eq!(src["name"], "attribution (ebpf)");
    assert!(
        src["note"]
            .as_str()
            .unwrap()
            .contains("socket attribution: ebpf"),
        "{src}"
    );
    drop(run);

    let (run, _dir) = Run::start("proc_net");
    assert!(
        run.banner
            .iter()
            .any(|l| l.contains("owners:") && l.contains("proc_net")),
        "{:#?}",
        run.banner
    );
    let health = run.health();
    assert_eq!(
        attribution_source(&health)["name"],
        "attribution (proc_net)"
    );
    let degraded: Vec<&str> = health["degraded"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["mode"].as_str())
        .collect();
    assert!(degraded.contains(&"no_socket_ebpf"), "{health:#}");
}
