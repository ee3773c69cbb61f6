//! anomalies.csv: one row per alert when its episode opens and when its severity rises, in
//! the original tool's columns, quoted by the csv crate and defanged for terminals and
//! spreadsheets.

use crate::time::TimeFmt;
use netsnoop_core::Alert;
use std::fmt::Write as _;

pub const HEADER: &str = "timestamp,process_name,pid,reason,severity,user,command\n";

/// One CSV row (with its line end) for `alert`; the time by `time_format` (strftime,
/// `logs.csv_time_format`) or else RFC 3339.
pub fn row(alert: &Alert, tf: &TimeFmt, time_format: Option<&str>) -> Vec<u8> {
    let s = &alert.subject;
    let pid = s.pid.map(|p| p.to_string()).unwrap_or_default();
    let time = match time_format {
        Some(pattern) => tf.strftime(alert.last_seen, pattern),
        None => tf.rfc3339(alert.last_seen),
    };
    let fields = [
        time,
        cell(s.process_name.as_deref().unwrap_or("")),
        pid,
        cell(&alert.message),
        alert.display_label().to_string(),
        cell(s.user.as_deref().unwrap_or("")),
        cell(s.command.as_deref().unwrap_or("")),
    ];
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::with_capacity(128));
    // Writing to a Vec cannot fail.
    let _ = w.write_record(&fields);
    w.into_inner().unwrap_or_default()
}

/// Makes one untrusted value safe as a cell. A line break becomes `\n` (and CR `\r`), so
/// every row is one line and `grep` or `tail` can never show a forged one; a tab stays
/// (the csv crate quotes it); every other control character, ESC above all, becomes a
/// visible escape so `cat anomalies.csv` cannot drive the terminal. A leading `=`, `+`,
/// `@`, TAB or CR gets a `'` so spreadsheets show a process name instead of running it as
/// a formula (`-` is left alone: login shells are named `-bash`).
pub fn cell(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 1);
    if value.starts_with(['=', '+', '@', '\t', '\r']) {
        out.push('\'');
    }
    for c in value.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push(c),
            '\x1b' => out.push_str("\\e"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsnoop_core::{AlertState, Severity, Subject, Ts};

    fn hostile_alert() -> Alert {
        Alert {
            host: None,
            id: "x".into(),
            kind: "process.burst".into(),
            severity: Severity::High,
            label: Some("SUSPICIOUS".into()),
            state: AlertState::Active,
            first_seen: Ts::from_secs(1_795_262_453),
            last_seen: Ts::from_secs(1_795_262_453),
            subject: Subject {
                pid: Some(4242),
                process_name: Some("a,b \"quoted\"".into()),
                user: Some("=HYPERLINK(\"http://x\")".into()),
                command: Some("sh -c 'echo hi\nrm -rf /tmp/x'\x1b[31m\x07\0".into()),
                ..Subject::default()
            },
            message: "12 spawns, in 3s; \"burst\"".into(),
            details: serde_json::Value::Null,
        }
    }

    #[test]
    fn hostile_strings_are_quoted_and_read_back_as_one_row() {
        let tf = TimeFmt::from_setting("Asia/Kolkata").unwrap();
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend(row(&hostile_alert(), &tf, None));
        assert!(!bytes.contains(&0x1b), "no raw ESC reaches the file");
        assert!(
            !bytes.contains(&0x07) && !bytes.contains(&0),
            "no BEL or NUL either"
        );

        let mut r = csv::Reader::from_reader(bytes.as_slice());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        let got: Vec<&str> = rows[0].iter().collect();
        assert_eq!(
            got,
            vec![
                "2026-11-21T17:30:53+05:30",
                "a,b \"quoted\"",
                "4242",
                "12 spawns, in 3s; \"burst\"",
                "SUSPICIOUS",
                "'=HYPERLINK(\"http://x\")",
                "sh -c 'echo hi\\nrm -rf /tmp/x'\\e[31m\\u{7}\\u{0}",
            ]
        );
    }

    #[test]
    fn a_row_is_always_one_line_and_a_leading_tab_or_cr_is_defanged() {
        let mut a = hostile_alert();
        a.subject.command =
            Some("x\n2026-01-01T00:00:00+00:00,evil,1,forged,CRITICAL,root,y\r\n".into());
        a.subject.process_name = Some("\t=cmd".into());
        a.subject.user = Some("\r@x".into());
        let text = String::from_utf8(row(&a, &TimeFmt::utc(), None)).unwrap();
        assert_eq!(text.matches('\n').count(), 1, "{text:?}");
        assert!(text.ends_with('\n'));
        assert!(!text.contains('\r'), "{text:?}");
        assert!(
            text.contains("'\t=cmd") && text.contains("'\\r@x"),
            "{text:?}"
        );
    }

    #[test]
    fn the_row_text_is_stable() {
        let tf = TimeFmt::from_setting("Asia/Kolkata").unwrap();
        insta::assert_snapshot!(String::from_utf8(row(&hostile_alert(), &tf, None)).unwrap());
    }

    #[test]
    fn a_host_alert_leaves_the_process_columns_empty() {
        let mut a = hostile_alert();
        a.subject = Subject::host();
        a.message = "system CPU 97%".into();
        a.label = None;
        a.severity = Severity::Critical;
        let text = String::from_utf8(row(&a, &TimeFmt::utc(), None)).unwrap();
        assert_eq!(
            text,
            "2026-11-21T12:00:53+00:00,,,system CPU 97%,CRITICAL,,\n"
        );
    }

    #[test]
    fn the_original_form_is_written_byte_for_byte_with_its_pattern_and_zone() {
        // 2026-12-03 08:54:29 UTC is 14:24:29 in Kolkata.
        let mut a = hostile_alert();
        a.last_seen = Ts::from_secs(1_796_288_069);
        a.subject = Subject::process(4242, "xmrig");
        a.message = "CPU 97%".into();
        let tf = TimeFmt::from_setting("Asia/Kolkata").unwrap();
        let text = String::from_utf8(row(&a, &tf, Some("%Y-%m-%d %H:%M:%S %Z"))).unwrap();
        assert_eq!(
            text,
            "2026-12-03 14:24:29 IST,xmrig,4242,CPU 97%,SUSPICIOUS,,\n"
        );
    }
}
