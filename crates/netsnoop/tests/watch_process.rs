//! End to end, as root: `netsnoop watch --format jsonl` on the real proc connector reports
//! a script's burst of children — each exec with its parent, argv, user and ancestry — and
//! one burst alert naming the script as instigator.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use netsnoop_test_support::recv_until;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

mod common;

use common::start_watch;

#[test]
fn watch_jsonl_reports_every_child_of_a_burst_and_names_the_script_behind_it() {
    netsnoop_test_support::require_root("the proc connector requires CAP_NET_ADMIN");
    let watch = start_watch("[process.source]\nexec_source = \"netlink\"\n");
    let (dir, out, banner) = (&watch.dir, &watch.out, &watch.banner);
    assert!(
        banner.iter().any(|l| l.contains("exec source: netlink")),
        "{banner:#?}"
    );

    let script = dir.path().join("burst.sh");
    std::fs::write(&script, "for i in $(seq 12); do sleep 0.5$i & done\nwait\n").unwrap();
    let mut sh = Command::new("/bin/sh").arg(&script).spawn().unwrap();
    let sh_pid = sh.id() as u64;

    let mut execs: Vec<Value> = Vec::new();
    let mut burst: Option<Value> = None;
    let done = recv_until(out, Duration::from_secs(30), |line| {
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v["type"] == "process"
            && v["kind"] == "exec"
            && v["ppid"] == sh_pid
            && v["comm"] == "sleep"
        {
            execs.push(v);
        } else if v["type"] == "alert" && v["kind"] == "process.burst" && v["pid"] == sh_pid {
            burst.get_or_insert(v);
        }
        (execs.len() >= 12 && burst.is_some()).then_some(())
    });
    assert!(done.is_some(), "saw {} execs, burst {burst:?}", execs.len());
    assert!(sh.wait().unwrap().success());

    let mut argvs: Vec<String> = execs
        .iter()
        .map(|e| {
            assert_eq!(e["user"], "root", "{e}");
            assert_eq!(e["uid"], 0, "{e}");
            assert_eq!(e["exe"], "/usr/bin/sleep", "{e}");
            assert_eq!(e["argv_complete"], true, "{e}");
            assert_eq!(e["ancestry"][0]["pid"], sh_pid, "{e}");
            assert!(e["time"].as_str().is_some_and(|t| t.contains('T')), "{e}");
            let argv: Vec<&str> = e["argv"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            argv.join(" ")
        })
        .collect();
    argvs.sort();
    let mut want: Vec<String> = (1..=12).map(|i| format!("sleep 0.5{i}")).collect();
    want.sort();
    assert_eq!(argvs, want);

    let burst = burst.unwrap();
    assert!(
        matches!(burst["severity"].as_str(), Some("medium" | "high")),
        "{burst}"
    );
    assert_eq!(
        burst["details"]["instigator"]["why"]["kind"], "script",
        "{burst}"
    );
    assert_eq!(burst["details"]["instigator"]["pid"], sh_pid, "{burst}");
    assert!(
        burst["message"].as_str().unwrap().contains("burst.sh (PID"),
        "{burst}"
    );

    let status = watch.stop();
    assert_eq!(status.code(), Some(0));
}
