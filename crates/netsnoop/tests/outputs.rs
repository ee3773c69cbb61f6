//! Alert outputs end to end: a real CPU burner's alert reaches Debian's Alertmanager
//! and resolves there when the burner stops; `netsnoop alerts test --output NAME`.

#![allow(clippy::unwrap_used)]

use netsnoop_test_support::receiver::{Behaviour, Receiver};
use netsnoop_test_support::{KillOnDrop, http, wait_for};
use serde_json::Value;
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::time::Duration;

mod common;

use common::start_watch;

const AM_CONFIG: &str = "route:\n  receiver: none\nreceivers:\n  - name: none\n";

/// Debian's prometheus-alertmanager on a free loopback port, clustering off.
fn start_alertmanager(dir: &std::path::Path) -> (KillOnDrop, SocketAddr) {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = dir.join("am.yml");
    std::fs::write(&config, AM_CONFIG).unwrap();
    let child = Command::new("prometheus-alertmanager")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--cluster.listen-address=")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("prometheus-alertmanager is installed (scripts/setup.sh test)");
    let am = KillOnDrop(child);
    wait_for(Duration::from_secs(30), "Alertmanager to answer", || {
        (http(addr, "GET", "/api/v2/status", "").0 == 200).then_some(())
    });
    (am, addr)
}

/// Alertmanager's active alerts.
fn am_alerts(addr: SocketAddr) -> Vec<Value> {
    let (status, body) = http(addr, "GET", "/api/v2/alerts", "");
    assert_eq!(status, 200, "{body}");
    let body = dechunk(&body);
    serde_json::from_str::<Vec<Value>>(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// Alertmanager answers with chunked transfer encoding: the chunks joined.
fn dechunk(body: &str) -> String {
    if !body.contains("\r\n") {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_string();
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

#[test]
fn a_cpu_burners_alert_appears_in_alertmanager_and_resolves_there_when_it_stops() {
    netsnoop_test_support::require_root("exec events and the burner's raised priority");
    let dir = tempfile::tempdir().unwrap();
    let (_am, am) = start_alertmanager(dir.path());
    let watch = start_watch(&format!(
        "[[outputs]]\nname = \"am\"\nkinds = [\"cpu.process.*\"]\n\
         [outputs.alertmanager]\nurl = \"http://{am}\"\n"
    ));
    assert!(
        watch.banner.iter().any(|l| l.contains("am (alertmanager)")),
        "{:#?}",
        watch.banner
    );
    let mut burn = netsnoop_test_support::cpu_burner();
    let subject = format!("sh[{}]", burn.id());
    let alert = wait_for(
        Duration::from_secs(40),
        "the burner's alert in Alertmanager",
        || {
            am_alerts(am).into_iter().find(|a| {
                a["labels"]["subject"] == subject.as_str()
                    && a["labels"]["kind"] == "cpu.process.critical"
            })
        },
    );
    let labels = &alert["labels"];
    assert_eq!(labels["severity"], "critical", "{alert}");
    assert_eq!(
        labels["host"],
        netsnoop_deliver_hostname().as_str(),
        "{alert}"
    );
    assert_eq!(alert["status"]["state"], "active", "{alert}");
    let message = alert["annotations"]["message"].as_str().unwrap();
    assert!(message.starts_with("CRITICAL CPU: PID"), "{alert}");
    assert!(alert["annotations"]["details"].is_string(), "{alert}");
    let episode = labels["episode"].clone();

    // Open, it would stay firing for 4 minutes (4 × repeat_secs); its endsAt ends it now.
    burn.stop();
    wait_for(
        Duration::from_secs(40),
        "the alert to resolve in Alertmanager",
        || {
            (!am_alerts(am)
                .iter()
                .any(|a| a["labels"]["episode"] == episode))
            .then_some(())
        },
    );
    let status = watch.stop();
    assert!(status.success(), "{status:?}");
}

fn netsnoop_deliver_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

fn alerts_test(config: &str, output: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, config).unwrap();
    Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args(["alerts", "test", "--output", output, "--config"])
        .arg(&path)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap()
}

#[test]
fn alerts_test_sends_one_test_alert_through_the_named_output_and_reports_it() {
    let r = Receiver::start(Behaviour::Answer);
    let config = format!(
        "[[outputs]]\nname = \"hook\"\n[outputs.webhook]\nurl = \"{}/hook\"\n\n\
         [[outputs]]\nname = \"other\"\n[outputs.falco]\nurl = \"http://127.0.0.1:9\"\n",
        r.url()
    );
    let out = alerts_test(&config, "hook");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("test alert delivered through output hook (webhook)"),
        "{stdout}"
    );
    let req = r.requests.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(req.path, "/hook");
    let v: Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(v["alerts"][0]["labels"]["kind"], "netsnoop.test", "{v}");

    let missing = alerts_test(&config, "nope");
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert!(
        err.contains("no output named \"nope\"") && err.contains("[hook, other]"),
        "{err}"
    );
}

#[test]
fn alerts_test_reports_a_receiver_that_is_down_and_fails() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config =
        format!("[[outputs]]\nname = \"hook\"\n[outputs.webhook]\nurl = \"http://{port}\"\n");
    let out = alerts_test(&config, "hook");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("test alert through output hook (webhook) failed"),
        "{err}"
    );
    assert!(
        !err.contains(&port.to_string()),
        "the URL stays out of errors: {err}"
    );
}

/// `netsnoop run` on `config` with the API on a free port; (child, its address, its lines).
fn start_run(
    dir: &std::path::Path,
    config: &str,
    env: (&str, &str),
) -> (KillOnDrop, SocketAddr, std::sync::mpsc::Receiver<String>) {
    let path = dir.join("c.toml");
    std::fs::write(&path, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args([
            "run",
            "--no-capture",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir)
        .arg("--config")
        .arg(&path)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "debug")
        .env(env.0, env.1)
        .env_remove("NETSNOOP_TOKEN")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = netsnoop_test_support::lines(child.stderr.take().unwrap());
    let child = KillOnDrop(child);
    let addr = netsnoop_test_support::await_announced_addr(&lines, Duration::from_secs(30));
    (child, addr, lines)
}

#[test]
fn an_outputs_failures_show_in_health_and_metrics_and_its_secret_url_never_in_logs() {
    netsnoop_test_support::require_root("exec events for the process burst");
    let dir = tempfile::tempdir().unwrap();
    // Held until netsnoop has bound its own port (it asks for any free one, which could
    // otherwise be this one), then closed: connections to it are refused.
    let reserved = TcpListener::bind("127.0.0.1:0").unwrap();
    let down = reserved.local_addr().unwrap();
    let secret = "s3cr3t-hook-path-4711";
    let config = format!(
        "[[outputs]]\nname = \"hook\"\nkinds = [\"process.*\"]\ngroup_secs = 0\n\
         [outputs.webhook]\nurl = \"http://{down}/${{NETSNOOP_TEST_HOOK}}\"\n"
    );
    let (mut child, addr, lines) = start_run(dir.path(), &config, ("NETSNOOP_TEST_HOOK", secret));
    drop(reserved);
    // A process burst: 20 children of one shell within a second.
    let status = Command::new("sh")
        .args(["-c", "for i in $(seq 20); do /bin/sleep 0.5 & done; wait"])
        .status()
        .unwrap();
    assert!(status.success());
    let health = wait_for(
        Duration::from_secs(30),
        "a failed attempt in /health",
        || {
            let (code, body) = http(addr, "GET", "/health", "");
            let v: Value = serde_json::from_str(&body).ok()?;
            (code == 200 && v["outputs"][0]["errors"].as_u64() >= Some(1)).then_some(v)
        },
    );
    let out = &health["outputs"][0];
    assert_eq!(out["name"], "hook", "{health}");
    assert_eq!(out["kind"], "webhook", "{health}");
    assert_eq!(out["delivered"], 0, "{health}");
    assert!(out["queued"].as_u64().unwrap() >= 1, "{health}");
    let last_error = out["last_error"].as_str().unwrap();
    assert!(!last_error.contains(secret), "{last_error}");
    let (_, metrics) = http(addr, "GET", "/metrics", "");
    let errors = metrics
        .lines()
        .find(|l| {
            l.starts_with("netsnoop_alert_output_errors_total{") && l.contains("output=\"hook\"")
        })
        .unwrap_or_else(|| panic!("no errors counter for hook:\n{metrics}"));
    assert!(!errors.ends_with(" 0"), "{errors}");
    assert!(
        metrics.contains("netsnoop_alert_output_queued{"),
        "{metrics}"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let _ = child.0.wait();
    let logged: Vec<String> = lines.try_iter().collect();
    assert!(
        logged
            .iter()
            .any(|l| l.contains("alert delivery failed, retrying")),
        "{logged:#?}"
    );
    assert!(!logged.iter().any(|l| l.contains(secret)), "{logged:#?}");
}

fn netsnoop(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_netsnoop"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .arg("--config")
        .arg(dir.join("c.toml"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn silenced_alerts_are_stored_and_shown_but_not_delivered() {
    netsnoop_test_support::require_root("exec events for the process bursts");
    let dir = tempfile::tempdir().unwrap();
    let r = Receiver::start(Behaviour::Answer);
    let config = format!(
        "[[outputs]]\nname = \"hook\"\nkinds = [\"process.*\"]\ngroup_secs = 0\n\
         [outputs.webhook]\nurl = \"{}\"\n",
        r.url()
    );
    let (_child, addr, _lines) = start_run(dir.path(), &config, ("NETSNOOP_UNUSED", ""));
    let (ok, out, err) = netsnoop(
        dir.path(),
        &[
            "alerts",
            "silence",
            "--kind",
            "process.*",
            "--for",
            "1h",
            "--author",
            "ann",
            "--comment",
            "load test",
        ],
    );
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("netsnoop: silence 1 until") && out.contains("by ann"),
        "{out}"
    );
    let (ok, listed, _) = netsnoop(dir.path(), &["alerts", "silences"]);
    assert!(ok && listed.starts_with("1\tactive\t"), "{listed}");
    assert!(
        listed.contains("{\"kind\":\"process.*\"}\tann\tload test"),
        "{listed}"
    );

    // Bursts until one reaches the outputs silenced: the silence is in force. (Alerts
    // raised before it was read, within 2 s, may have gone out: other programs on this
    // machine spawn too.)
    let burst = || {
        Command::new("sh")
            .args(["-c", "for i in $(seq 12); do /bin/sleep 0.2 & done; wait"])
            .status()
            .unwrap()
    };
    let output = |min_silenced: u64| {
        wait_for(
            Duration::from_secs(40),
            "a silenced alert in /health",
            || {
                burst();
                let (_, body) = http(addr, "GET", "/health", "");
                let v: Value = serde_json::from_str(&body).ok()?;
                let o = v["outputs"][0].clone();
                (o["silenced"].as_u64() >= Some(min_silenced)).then_some(o)
            },
        )
    };
    let before = output(1);
    while r.requests.try_recv().is_ok() {}
    let after = output(before["silenced"].as_u64().unwrap() + 1);
    assert_eq!(
        after["delivered"], before["delivered"],
        "{before} then {after}"
    );
    assert!(
        r.requests.try_recv().is_err(),
        "a silenced alert was delivered"
    );
    let (_, history) = http(addr, "GET", "/alerts/history", "");
    assert!(
        history.contains("process.burst"),
        "stored and shown: {history}"
    );

    let (ok, _, err) = netsnoop(dir.path(), &["alerts", "ack", "no-such-id"]);
    assert!(!ok);
    assert!(
        err.contains("no stored alert has id \"no-such-id\""),
        "{err}"
    );
}
