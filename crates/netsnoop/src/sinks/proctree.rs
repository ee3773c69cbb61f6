//! `watch`'s picture of a new process, as the original NetSnoop drew it: the ancestry from
//! the root down, indented, then the executable and command line. Every string is escaped.

use crate::sinks::term::{escape, severity_style, strip_ansi};
use crate::time::TimeFmt;
use netsnoop_core::{Alert, ProcessEvent, Severity};
use owo_colors::{OwoColorize, Style};
use std::fmt::Write as _;

/// The tree for one exec event, ending with a newline. Colors are stripped by anstream
/// when stdout is no terminal.
pub fn render(p: &ProcessEvent, tf: &TimeFmt) -> String {
    let info = severity_style(Severity::Info);
    let mut out = format!(
        "[{}] {}\n",
        tf.rfc3339(p.time),
        "🔧 New Process Detected:".style(info)
    );
    let mut depth = 1;
    for a in p.ancestry.iter().rev() {
        let _ = writeln!(
            out,
            "{}└── {} (PID {})",
            indent(depth),
            escape(&a.comm),
            a.pid
        );
        depth += 1;
    }
    let user = p
        .user
        .clone()
        .or(p.uid.map(|u| u.to_string()))
        .unwrap_or_else(|| "?".into());
    let name = if p.comm.is_empty() { "?" } else { &p.comm };
    let _ = writeln!(
        out,
        "{}└── {} (PID {}, User: {})",
        indent(depth),
        escape(name).style(Style::new().bold()),
        p.pid,
        escape(&user)
    );
    let exe = p.exe.as_deref().unwrap_or("?");
    let _ = writeln!(out, "{}├── Executable: {}", indent(depth + 1), escape(exe));
    let cmd = if p.argv_complete {
        escape(&p.argv.join(" "))
    } else {
        let gone = "(exited before its command line could be read)";
        format!("{}", gone.style(severity_style(Severity::Medium)))
    };
    let _ = writeln!(out, "{}└── CmdLine: {cmd}", indent(depth + 1));
    out
}

fn indent(depth: usize) -> String {
    "    ".repeat(depth)
}

/// Burst alerts gathered over the grouping window, as the original's grouped block.
pub fn grouped(alerts: &[Alert], tf: &TimeFmt) -> String {
    let style = severity_style(alerts.iter().map(|a| a.severity).max().unwrap_or_default());
    let mut out = format!(
        "{}\n",
        "⚠️  Multiple Anomalies Detected (Grouped):".style(style)
    );
    for a in alerts {
        let _ = writeln!(
            out,
            "  • [{}] {}",
            tf.rfc3339(a.last_seen),
            escape(&a.message)
        );
    }
    out
}

/// [`render`] without colors, for tests and files.
pub fn render_plain(p: &ProcessEvent, tf: &TimeFmt) -> String {
    strip_ansi(&render(p, tf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsnoop_core::process::event::Ancestor;
    use netsnoop_core::{ProcEventKind, Ts};

    fn event() -> ProcessEvent {
        let anc = |pid, comm: &str| Ancestor {
            pid,
            comm: comm.into(),
        };
        ProcessEvent {
            time: Ts::from_secs(1_795_262_453),
            kind: ProcEventKind::Exec,
            pid: 9101,
            ppid: 5678,
            uid: Some(1000),
            user: Some("ana".into()),
            comm: "python3".into(),
            exe: Some("/usr/bin/python3".into()),
            argv: vec!["python3".into(), "my_script.py".into()],
            argv_complete: true,
            ancestry: vec![anc(5678, "bash"), anc(1234, "sshd"), anc(1, "systemd")],
            ..ProcessEvent::default()
        }
    }

    #[test]
    fn a_new_process_is_drawn_root_first_like_the_original() {
        insta::assert_snapshot!(render_plain(&event(), &TimeFmt::utc()));
    }

    #[test]
    fn a_process_gone_before_enrichment_says_so() {
        let mut e = event();
        e.argv.clear();
        e.argv_complete = false;
        e.exe = None;
        let tree = render_plain(&e, &TimeFmt::utc());
        assert!(tree.contains("Executable: ?"), "{tree}");
        assert!(tree.contains("CmdLine: (exited before"), "{tree}");
    }

    #[test]
    fn escape_sequences_in_names_and_arguments_are_shown_not_obeyed() {
        let mut e = event();
        e.comm = "x\x1b[2J".into();
        e.argv = vec!["x\x1b[31mred".into(), "\x1b]0;title\x07".into()];
        e.ancestry[0].comm = "b\x1b[1Aup".into();
        let tree = render(&e, &TimeFmt::utc());
        for bad in ["\x1b[2J", "\x1b[31m", "\x1b]0", "\x07", "\x1b[1A"] {
            assert!(
                !tree.contains(bad),
                "{bad:?} reached the terminal: {tree:?}"
            );
        }
        assert!(tree.contains("x\\e[31mred \\e]0;title\\u{7}"), "{tree:?}");
    }
}
