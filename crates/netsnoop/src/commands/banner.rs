//! The start banner: where config, data and logs are, what runs, and what is degraded.

use super::wiring::Wiring;
use crate::setup::Setup;
use crate::sinks::logs::{ALERTS_JSONL, ANOMALIES_CSV, EVENTS_JSONL, SESSION_LOG};
use crate::sinks::term::escape;
use netsnoop_core::Ts;
use std::fmt::Write as _;

/// The line tests and scripts wait for: the session is up and signals are handled.
pub const READY: &str = "netsnoop: running; press Ctrl+C to stop";

pub fn render(command: &str, setup: &Setup, w: &Wiring, started: Ts) -> String {
    let mut b = String::new();
    let path = |p: &std::path::Path| escape(&p.display().to_string());
    let _ = writeln!(
        b,
        "netsnoop {} {command}: started {}",
        env!("CARGO_PKG_VERSION"),
        setup.tf.rfc3339(started)
    );
    let config = if setup.config_found {
        path(&setup.config_path)
    } else {
        format!(
            "{} (not found: using the defaults; `netsnoop init` writes one)",
            path(&setup.config_path)
        )
    };
    let _ = writeln!(b, "  config:   {config}");
    let _ = writeln!(b, "  data:     {}", path(&setup.data_dir));
    let _ = writeln!(
        b,
        "  logs:     {ANOMALIES_CSV}, {ALERTS_JSONL}, {EVENTS_JSONL}, {SESSION_LOG} (in the data dir)"
    );
    let list = |names: Vec<String>| {
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    let _ = writeln!(
        b,
        "  sources:  {}",
        list(w.sources.iter().map(|s| s.name()).collect())
    );
    let _ = writeln!(
        b,
        "  stages:   {}",
        list(w.stages.iter().map(|s| s.name().to_string()).collect())
    );
    let _ = writeln!(
        b,
        "  sinks:    {}",
        list(w.sinks.iter().map(|s| s.name()).collect())
    );
    for (topic, note) in &w.notes {
        let _ = writeln!(b, "  {:<9} {note}", format!("{topic}:"));
    }
    if w.degraded.is_empty() {
        let _ = writeln!(b, "  degraded: none");
    }
    for d in &w.degraded {
        let _ = writeln!(b, "  degraded: {d}: {} (fix: {})", d.effect(), d.fix());
    }
    b.push_str(READY);
    b.push('\n');
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::time::TimeFmt;
    use netsnoop_core::Degraded;

    #[test]
    fn the_banner_says_where_things_are_what_runs_and_what_is_degraded() {
        let setup = Setup {
            config: Config::default(),
            config_path: "/etc/netsnoop/config.toml".into(),
            config_found: false,
            data_dir: "/var/lib/netsnoop".into(),
            tf: TimeFmt::from_setting("Asia/Kolkata").unwrap(),
        };
        let w = Wiring {
            degraded: vec![Degraded::NoPsi, Degraded::NoProcConnector],
            notes: vec![("capture", "off (--no-capture)".into())],
            ..Wiring::default()
        };
        insta::assert_snapshot!(render("run", &setup, &w, Ts::from_secs(1_795_262_453)));
    }
}
