//! Terminal output: escaping untrusted strings and the colored alert line, in the original
//! tools' palette (critical red, high magenta, medium yellow, low/info cyan, resolved green).

use crate::time::TimeFmt;
use netsnoop_core::{Alert, AlertState, Severity};
use owo_colors::{OwoColorize, Style};
use std::fmt::Write as _;

/// Makes an untrusted string (argv, comm, path, packet data) safe to print: every control
/// character — ESC, BEL, CR, LF, NUL, DEL and the C1 range — becomes a visible escape, so
/// a crafted process name cannot move the cursor, recolor or clear the terminal, or fake
/// a line of output. Backslashes are doubled so the escapes cannot be forged either.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x1b' => out.push_str("\\e"),
            c if c.is_control() || is_bidi_override(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Bidirectional overrides can visually reorder a line (the "Trojan Source" trick).
fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The style of each severity, after the originals' palette.
pub fn severity_style(sev: Severity) -> Style {
    match sev {
        Severity::Critical => Style::new().bright_red().bold(),
        Severity::High => Style::new().bright_magenta().bold(),
        Severity::Medium => Style::new().bright_yellow(),
        Severity::Low => Style::new().bright_cyan(),
        Severity::Info => Style::new().cyan(),
    }
}

/// The original tools' marks, so a glance finds the worst line.
fn severity_mark(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "🧨",
        Severity::High => "🚩",
        Severity::Medium => "🔺",
        Severity::Low | Severity::Info => "•",
    }
}

/// One alert as a terminal line, with ANSI colors. Writers from `anstream` strip the
/// colors when stdout is not a terminal or NO_COLOR is set.
pub fn alert_line(alert: &Alert, tf: &TimeFmt) -> String {
    let time = tf.rfc3339(alert.last_seen);
    let label = alert.display_label();
    let subject = subject_text(alert);
    let message = escape(&alert.message);
    if alert.state == AlertState::Resolved {
        let done = Style::new().bright_green();
        return format!(
            "[{time}] {} {label} {}{subject}: {message}",
            "✔ RESOLVED".style(done),
            escape(&alert.kind),
        );
    }
    let style = severity_style(alert.severity);
    format!(
        "[{time}] {} {} {}{subject}: {message}",
        severity_mark(alert.severity),
        label.style(style),
        escape(&alert.kind).style(style),
    )
}

/// ` pid 42 (python3)` / ` from 10.0.0.5`: who the alert is about, escaped.
pub fn subject_text(alert: &Alert) -> String {
    let s = &alert.subject;
    let mut out = String::new();
    if let Some(pid) = s.pid {
        let _ = write!(out, " pid {pid}");
        if let Some(name) = &s.process_name {
            let _ = write!(out, " ({})", escape(name));
        }
    }
    if let Some(user) = &s.user {
        let _ = write!(out, " user {}", escape(user));
    }
    if let Some(ip) = s.src_ip {
        let _ = write!(out, " from {ip}");
    }
    if let Some(ip) = s.dst_ip {
        let _ = write!(out, " to {ip}");
    }
    out
}

/// The same line without any color, for files.
pub fn alert_line_plain(alert: &Alert, tf: &TimeFmt) -> String {
    strip_ansi(&alert_line(alert, tf))
}

/// Removes the SGR sequences this module adds. Untrusted text never contains a raw ESC at
/// this point (it went through [`escape`]), so every ESC here is ours.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsnoop_core::{Subject, Ts};

    fn alert(name: &str, sev: Severity) -> Alert {
        Alert {
            host: None,
            id: "cpu.process.critical/k/1".into(),
            kind: "cpu.process.critical".into(),
            severity: sev,
            label: None,
            state: AlertState::Active,
            first_seen: Ts::from_secs(1_795_262_453),
            last_seen: Ts::from_secs(1_795_262_453),
            subject: Subject::process(4242, name),
            message: format!("{name} at 98.5% CPU for 5+s"),
            details: serde_json::Value::Null,
        }
    }

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(escape("a\x1b[31mb"), "a\\e[31mb");
        assert_eq!(escape("x\ny\rz\t\0\x7f"), "x\\ny\\rz\\t\\u{0}\\u{7f}");
        assert_eq!(
            escape("c:\\e"),
            "c:\\\\e",
            "a literal backslash-e stays distinct"
        );
        assert_eq!(escape("\u{9b}31m"), "\\u{9b}31m", "C1 CSI is escaped too");
        assert_eq!(escape("abc\u{202e}def"), "abc\\u{202e}def");
        assert_eq!(escape("plain résumé ✓"), "plain résumé ✓");
    }

    #[test]
    fn a_process_name_with_an_escape_sequence_cannot_recolor_the_line() {
        let hostile = "evil\x1b[31m\x1b[2J";
        let line = alert_line(&alert(hostile, Severity::Low), &TimeFmt::utc());
        // Our own SGR codes remain; the hostile ones arrive as text.
        assert!(line.contains("evil\\e[31m\\e[2J"), "{line}");
        assert!(!line.contains("\x1b[31m"), "{line:?}");
        assert!(!line.contains("\x1b[2J"), "{line:?}");
        let plain = alert_line_plain(&alert(hostile, Severity::Low), &TimeFmt::utc());
        assert!(!plain.contains('\x1b'), "{plain:?}");
    }

    #[test]
    fn severities_get_the_original_palette() {
        let tf = TimeFmt::utc();
        let crit = alert_line(&alert("python3", Severity::Critical), &tf);
        assert!(
            crit.contains("\x1b[91;1mCRITICAL"),
            "bold bright red: {crit:?}"
        );
        let high = alert_line(&alert("python3", Severity::High), &tf);
        assert!(
            high.contains("\x1b[95;1mHIGH"),
            "bold bright magenta: {high:?}"
        );
        let med = alert_line(&alert("python3", Severity::Medium), &tf);
        assert!(med.contains("\x1b[93mMEDIUM"), "bright yellow: {med:?}");
    }

    #[test]
    fn an_alert_line_reads_like_the_originals() {
        let tf = TimeFmt::from_setting("Asia/Kolkata").unwrap();
        let mut a = alert("python3", Severity::Critical);
        insta::assert_snapshot!(alert_line_plain(&a, &tf));
        a.state = AlertState::Resolved;
        insta::assert_snapshot!("resolved", alert_line_plain(&a, &tf));
    }
}
