//! netsnoop.log: the human session log — start and end markers, every alert, every loss.
//! Plain text: no ANSI codes, untrusted text escaped, one line per entry.

use crate::sinks::term;
use crate::sinks::{Change, SessionEnd, SessionStart};
use crate::time::TimeFmt;
use netsnoop_core::Alert;
use netsnoop_core::event::Loss;

pub const HEADER: &str = "# NetSnoop session log (times RFC 3339 in the configured zone)\n";

pub fn start_marker(s: &SessionStart, tf: &TimeFmt) -> String {
    let config = if s.config_found {
        term::escape(&s.config.display().to_string())
    } else {
        format!(
            "{} (not found; defaults)",
            term::escape(&s.config.display().to_string())
        )
    };
    format!(
        "===== session start {} — netsnoop {} {} (pid {}) config {} data {} =====\n",
        tf.rfc3339(s.time),
        env!("CARGO_PKG_VERSION"),
        s.command,
        std::process::id(),
        config,
        term::escape(&s.data_dir.display().to_string()),
    )
}

pub fn end_marker(e: &SessionEnd, tf: &TimeFmt) -> String {
    format!(
        "===== session end {} — {}; {} events, {} alerts, {} lost =====\n",
        tf.rfc3339(e.time),
        term::escape(&e.reason),
        e.events,
        e.alerts,
        e.lost,
    )
}

pub fn alert_entry(a: &Alert, change: Change, tf: &TimeFmt) -> String {
    let what = match change {
        Change::Escalated => " (escalated)",
        _ => "",
    };
    format!("{}{what}\n", term::alert_line_plain(a, tf))
}

pub fn loss_entry(l: &Loss, tf: &TimeFmt) -> String {
    format!(
        "[{}] LOST {} events from {} ({})\n",
        tf.rfc3339(l.time),
        l.count,
        term::escape(&l.source),
        term::escape(&l.reason),
    )
}
