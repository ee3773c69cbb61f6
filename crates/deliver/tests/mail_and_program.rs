//! Email through a real SMTP server (Debian's python3-aiosmtpd on loopback) and the
//! program output through a real shell command.

#![allow(clippy::unwrap_used)]

mod common;

use common::{alert, resolved};
use netsnoop_core::Severity;
use netsnoop_deliver::config::{EmailConfig, ProgramConfig, SmtpTls};
use netsnoop_deliver::{Delivery, OutputConfig};
use netsnoop_test_support::{KillOnDrop, wait_for};
use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

/// Reads an mbox with Python's own parser: each message's headers and decoded parts.
const READ_MBOX: &str = r#"
import json, mailbox, sys
out = []
for m in mailbox.Maildir(sys.argv[1], factory=None):
    parts = {}
    for p in m.walk():
        if not p.is_multipart():
            parts[p.get_content_type()] = p.get_payload(decode=True).decode()
    out.append({"subject": m["Subject"], "from": m["From"], "to": m["To"],
                "type": m.get_content_type(), "parts": parts})
print(json.dumps(out))
"#;

#[test]
fn one_email_per_group_reaches_a_real_smtp_server_with_text_and_html_parts() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("mbox");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _smtp = KillOnDrop(
        Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&mbox)
            .spawn()
            .expect("python3-aiosmtpd is installed (scripts/setup.sh test)"),
    );
    wait_for(Duration::from_secs(20), "aiosmtpd to listen", || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    let mut cfg = OutputConfig::named("mail");
    cfg.group_secs = Some(0.5);
    cfg.email = Some(EmailConfig {
        host: "127.0.0.1".into(),
        port: Some(port),
        tls: SmtpTls::None,
        username: None,
        password: None,
        password_file: None,
        from: "NetSnoop <netsnoop@example.org>".into(),
        to: vec!["ops@example.org".into(), "oncall@example.org".into()],
        subject_prefix: "[netsnoop]".into(),
    });
    let mut d = Delivery::start(&[cfg], "web-1").unwrap();
    let mut a = alert(1, "cpu.process.critical", Severity::Critical);
    a.message = "CPU <b>99%</b> & rising".into();
    d.offer(&a);
    d.offer(&alert(2, "cpu.process.critical", Severity::Critical));
    wait_for(Duration::from_secs(15), "the message", || {
        (d.counts()[0].delivered == 2).then_some(())
    });
    d.close();
    let out = Command::new("/usr/bin/python3")
        .args(["-c", READ_MBOX])
        .arg(&mbox)
        .output()
        .unwrap();
    let msgs: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let msgs = msgs.as_array().unwrap();
    assert_eq!(msgs.len(), 1, "one message for the group: {msgs:#?}");
    let m = &msgs[0];
    assert_eq!(
        m["subject"],
        "[netsnoop] [FIRING:2] cpu.process.critical on web-1"
    );
    assert_eq!(m["from"], "NetSnoop <netsnoop@example.org>");
    assert_eq!(m["to"], "ops@example.org, oncall@example.org");
    assert_eq!(m["type"], "multipart/alternative");
    let text = m["parts"]["text/plain"].as_str().unwrap();
    assert!(
        text.contains("[FIRING] CRITICAL cpu.process.critical burn[1]: CPU <b>99%</b> & rising"),
        "{text}"
    );
    assert!(text.contains("burn[2]: alert number 2"), "{text}");
    assert!(text.contains("host: web-1"), "{text}");
    let html = m["parts"]["text/html"].as_str().unwrap();
    assert!(
        html.contains("CPU &lt;b&gt;99%&lt;/b&gt; &amp; rising"),
        "{html}"
    );
    assert!(!html.contains("<b>99%"), "{html}");
}

#[test]
fn the_program_output_gets_one_json_line_per_alert_on_its_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lines");
    let mut cfg = OutputConfig::named("prog");
    cfg.program = Some(ProgramConfig {
        command: format!("cat >> '{}'", file.display()),
    });
    let mut d = Delivery::start(&[cfg], "web-1").unwrap();
    let a = alert(5, "process.burst", Severity::High);
    let lines = |n: usize| {
        wait_for(Duration::from_secs(10), format!("{n} lines"), || {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            (text.lines().count() == n).then_some(())
        })
    };
    d.offer(&a);
    lines(1);
    d.offer(&a); // an update of the same episode is not sent again
    d.offer(&resolved(&a));
    lines(2);
    d.close();
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "alert");
    assert_eq!(lines[0]["id"], a.id.as_str());
    assert_eq!(lines[0]["state"], "active");
    assert_eq!(lines[0]["host"], "web-1");
    assert_eq!(lines[0]["pid"], 5);
    assert!(lines[0]["first_seen"].as_str().unwrap().ends_with('Z'));
    assert_eq!(lines[1]["state"], "resolved");
}
