//! End to end: `netsnoop alerts` reads what a real SQLite store holds, honoring --since
//! and both formats.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use netsnoop_core::{Alert, AlertState, Record, Severity, Subject, Ts};
use netsnoop_store::OpenOptions;

fn alert(id: &str, name: &str, at: Ts) -> Record {
    Record::Alert(Alert {
        host: None,
        id: id.into(),
        kind: "process.burst".into(),
        severity: Severity::High,
        label: None,
        state: AlertState::Active,
        first_seen: at,
        last_seen: at,
        subject: Subject::process(4242, name),
        message: format!("{name}: 12 spawns in 3s"),
        details: serde_json::Value::Null,
    })
}

fn netsnoop(dir: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("netsnoop").unwrap();
    c.arg("alerts")
        .arg("--data-dir")
        .arg(dir)
        .arg("--config")
        .arg(dir.join("c.toml"))
        .env("NO_COLOR", "1");
    c
}

#[test]
fn stored_alerts_are_listed_within_the_since_window() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        "[general]\ntimezone = \"Asia/Kolkata\"\n",
    )
    .unwrap();
    let db = dir.path().join("netsnoop.db");
    let store = netsnoop_store::open(db.to_str().unwrap(), OpenOptions::default()).unwrap();
    let t = Ts::now();
    store
        .write_batch(&[
            alert("old", "ancient", Ts(t.0 - 3 * 3_600_000_000)),
            alert("new", "fresh\x1b[31m", Ts(t.0 - 60_000_000)),
        ])
        .unwrap();
    drop(store);

    let out = netsnoop(dir.path())
        .args(["--since", "1h", "--format", "jsonl"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["type"], "alert");
    assert_eq!(lines[0]["id"], "new");
    assert!(lines[0]["last_seen"].as_str().unwrap().ends_with("+05:30"));

    let out = netsnoop(dir.path()).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = text.lines().collect();
    assert_eq!(names.len(), 2, "{text}");
    assert!(
        names[0].contains("(ancient)") && names[1].contains("fresh\\e[31m"),
        "oldest first, escaped: {text}"
    );
    assert!(!text.contains('\x1b'), "{text:?}");
}

#[test]
fn listing_without_a_store_says_where_it_looked_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = netsnoop(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no store at") && err.contains("netsnoop run"),
        "{err}"
    );
    assert!(!dir.path().join("netsnoop.db").exists());
}
