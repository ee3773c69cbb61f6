//! Tests of the log-file sink as a whole: what each file gets, markers and rotation.

use super::*;
use netsnoop_core::event::Loss;
use netsnoop_core::{Alert, AlertState, PacketMeta, ProcessEvent, Severity, Subject, Ts};
use std::fs;

fn start(dir: &Path) -> SessionStart {
    SessionStart {
        time: Ts::from_secs(1_795_262_453),
        command: "run".into(),
        config: dir.join("c.toml"),
        config_found: false,
        data_dir: dir.to_path_buf(),
    }
}

fn alert(sev: Severity, state: AlertState, t: i64) -> Record {
    Record::Alert(Alert {
        host: None,
        id: "process.burst/1".into(),
        kind: "process.burst".into(),
        severity: sev,
        label: None,
        state,
        first_seen: Ts::from_secs(1_795_262_453),
        last_seen: Ts::from_secs(t),
        subject: Subject::process(77, "evil\x1b[31mname"),
        message: "12 spawns in 3s".into(),
        details: serde_json::Value::Null,
    })
}

fn kolkata() -> TimeFmt {
    TimeFmt::from_setting("Asia/Kolkata").unwrap()
}

#[test]
fn each_log_gets_its_records_and_the_session_is_bracketed_by_markers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut logs = LogFiles::open(d, &Logs::default(), kolkata(), &start(d)).unwrap();
    let t = 1_795_262_453;
    logs.accept(&[
        alert(Severity::Medium, AlertState::Active, t),
        alert(Severity::Medium, AlertState::Active, t + 1),
        Record::Event(Event::Packet(PacketMeta::default())),
        Record::Event(Event::Process(ProcessEvent::default())),
        Record::Event(Event::Loss(Loss {
            host: None,
            time: Ts::from_secs(t + 2),
            source: "capture:lo".into(),
            count: 9,
            reason: "pipeline channel full".into(),
        })),
        alert(Severity::High, AlertState::Active, t + 3),
        alert(Severity::High, AlertState::Resolved, t + 4),
    ])
    .unwrap();
    logs.close(&SessionEnd {
        time: Ts::from_secs(t + 5),
        reason: "SIGINT".into(),
        events: 3,
        alerts: 4,
        lost: 9,
        sink_errors: 0,
    })
    .unwrap();

    let csv = fs::read_to_string(d.join(ANOMALIES_CSV)).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "header, opened, escalated: {csv}");
    assert_eq!(lines[0], anomalies::HEADER.trim_end());
    assert!(
        lines[1].ends_with(",MEDIUM,,") && lines[2].ends_with(",HIGH,,"),
        "{csv}"
    );

    let alerts = fs::read_to_string(d.join(ALERTS_JSONL)).unwrap();
    let changes: Vec<String> = alerts
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["type"], "alert");
            v["change"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(changes, ["opened", "escalated", "resolved"]);

    let events = fs::read_to_string(d.join(EVENTS_JSONL)).unwrap();
    let types: Vec<String> = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["type"].to_string())
        .collect();
    assert_eq!(
        types,
        ["\"process\"", "\"loss\""],
        "packets are not logged by default"
    );

    let log = fs::read_to_string(d.join(SESSION_LOG)).unwrap();
    assert!(
        !log.contains('\x1b'),
        "no ANSI codes in the session log: {log:?}"
    );
    let body: Vec<&str> = log.lines().skip(1).collect();
    assert!(
        body[0].starts_with("===== session start 2026-11-21T17:30:53+05:30"),
        "{log}"
    );
    assert!(
        body.last()
            .unwrap()
            .starts_with("===== session end 2026-11-21T17:30:58+05:30 — SIGINT"),
        "{log}"
    );
    assert!(log.contains("evil\\e[31mname"), "{log}");
    assert!(log.contains("LOST 9 events from capture:lo"), "{log}");
    assert_eq!(
        body.len(),
        2 + 3 + 1,
        "markers, three alert lines, one loss: {log}"
    );
}

#[test]
fn a_rotated_csv_starts_with_its_header_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = Logs {
        max_size_mb: 1,
        keep: 2,
        ..Logs::default()
    };
    let mut logs = LogFiles::open(d, &cfg, kolkata(), &start(d)).unwrap();
    // Distinct episodes, each opening: one CSV row each, ~200 bytes, well past 1 MiB.
    let t = 1_795_262_453;
    for i in 0..8000 {
        let Record::Alert(mut a) = alert(Severity::High, AlertState::Active, t) else {
            unreachable!()
        };
        a.id = format!("process.burst/{i}");
        a.message = format!("episode {i} {}", "x".repeat(100));
        logs.accept(&[Record::Alert(a)]).unwrap();
    }
    logs.close(&SessionEnd::default()).unwrap();
    let current = fs::read_to_string(d.join(ANOMALIES_CSV)).unwrap();
    let older = fs::read_to_string(rotate::numbered(&d.join(ANOMALIES_CSV), 1)).unwrap();
    for text in [&current, &older] {
        assert!(text.starts_with(anomalies::HEADER), "{}", &text[..80]);
        assert!(text.len() as u64 <= cfg.max_size_bytes());
    }
    assert!(current.contains("episode 7999 "));
    assert!(!rotate::numbered(&d.join(ANOMALIES_CSV), 3).exists());
}

#[test]
fn init_creates_the_data_dir_and_the_headers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("a/b");
    create_headers(&d, &Logs::default()).unwrap();
    assert_eq!(
        fs::read_to_string(d.join(ANOMALIES_CSV)).unwrap(),
        anomalies::HEADER
    );
    assert_eq!(
        fs::read_to_string(d.join(SESSION_LOG)).unwrap(),
        session::HEADER
    );
    assert!(d.join(ALERTS_JSONL).exists() && d.join(EVENTS_JSONL).exists());
}

#[test]
fn anomalies_csv_with_the_original_pattern_reads_exactly_like_the_original_netsnoop() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = Logs {
        csv_time_format: Some("%Y-%m-%d %H:%M:%S %Z".into()),
        ..Logs::default()
    };
    let mut logs = LogFiles::open(d, &cfg, kolkata(), &start(d)).unwrap();
    // 2026-12-03 08:54:29 UTC: 14:24:29 in Kolkata.
    let mut a = alert(Severity::High, AlertState::Active, 1_796_288_069);
    if let Record::Alert(a) = &mut a {
        a.subject = Subject::process(4242, "xmrig");
    }
    logs.accept(&[a]).unwrap();
    logs.flush().unwrap();
    let bytes = fs::read(d.join(ANOMALIES_CSV)).unwrap();
    let want = format!(
        "{}2026-12-03 14:24:29 IST,xmrig,4242,12 spawns in 3s,HIGH,,\n",
        anomalies::HEADER
    );
    assert_eq!(String::from_utf8(bytes).unwrap(), want);
}
