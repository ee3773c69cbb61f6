//! End to end: the command line's promises — init writes a config `run` accepts, bad
//! config is refused naming file and key, and unfinished commands say so.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use std::path::Path;

fn netsnoop(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("netsnoop").unwrap();
    // Never touch the real user's or system's files.
    c.env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .env("XDG_DATA_HOME", dir.join("xdg-data"))
        .env("NO_COLOR", "1");
    c
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn init_writes_the_template_and_the_log_headers_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = d.join("etc/c.toml");
    let data = d.join("data");
    netsnoop(d)
        .args(["init", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(&data)
        .assert()
        .success();
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        text.contains(&format!("data_dir = \"{}\"", data.display())),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("anomalies.csv")).unwrap(),
        "timestamp,process_name,pid,reason,severity,user,command\n"
    );

    let out = netsnoop(d)
        .args(["init", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    netsnoop(d)
        .args(["init", "--force", "--config"])
        .arg(&cfg)
        .assert()
        .success();
}

#[test]
fn a_bad_config_stops_run_naming_the_file_the_key_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[logs]\nkeep = 1000\n").unwrap();
    let out = netsnoop(dir.path())
        .args(["run", "--no-capture", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(&cfg.display().to_string()), "{err}");
    assert!(
        err.contains("key `logs.keep`: must be between 0 and 100, got 1000"),
        "{err}"
    );
}

#[test]
fn an_agent_without_a_server_says_how_to_name_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (args, want) in [
        (&["agent"][..], "pass --server URL"),
        (&["agent", "--server", "monitor:8000"][..], "is not a URL"),
    ] {
        let out = netsnoop(d)
            .args(args)
            .arg("--data-dir")
            .arg(d)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_bad_duration_is_refused_by_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = netsnoop(dir.path())
        .args(["alerts", "--since", "ages"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("10m"), "{}", stderr(&out));
}
