//! The log files under the data dir — anomalies.csv, alerts.jsonl, events.jsonl and
//! netsnoop.log — as one sink, each file rotated by size.

pub mod anomalies;
pub mod rotate;
pub mod session;

use crate::config::Logs;
use crate::sinks::jsonl;
use crate::sinks::{Change, Changes, SessionEnd, SessionStart, Sink};
use crate::time::TimeFmt;
use anyhow::Context;
use netsnoop_core::{Event, Record};
use rotate::RotatingFile;
use std::path::Path;

pub const ANOMALIES_CSV: &str = "anomalies.csv";
pub const ALERTS_JSONL: &str = "alerts.jsonl";
pub const EVENTS_JSONL: &str = "events.jsonl";
pub const SESSION_LOG: &str = "netsnoop.log";

pub struct LogFiles {
    anomalies: RotatingFile,
    alerts: RotatingFile,
    events: RotatingFile,
    session: RotatingFile,
    tf: TimeFmt,
    changes: Changes,
    event_types: Vec<String>,
    csv_time_format: Option<String>,
}

fn open_all(dir: &Path, cfg: &Logs) -> anyhow::Result<[RotatingFile; 4]> {
    crate::fsmode::create_dir(dir)
        .with_context(|| format!("cannot create the data dir {}", dir.display()))?;
    let open = |name: &str, header: &str| {
        let path = dir.join(name);
        RotatingFile::open(&path, cfg.max_size_bytes(), cfg.keep, header)
            .with_context(|| format!("cannot open log file {}", path.display()))
    };
    Ok([
        open(ANOMALIES_CSV, anomalies::HEADER)?,
        open(ALERTS_JSONL, "")?,
        open(EVENTS_JSONL, "")?,
        open(SESSION_LOG, session::HEADER)?,
    ])
}

/// Creates the data dir and every log file with its header, as `netsnoop init` does.
pub fn create_headers(dir: &Path, cfg: &Logs) -> anyhow::Result<()> {
    for mut f in open_all(dir, cfg)? {
        f.flush()?;
    }
    Ok(())
}

impl LogFiles {
    /// Opens (appending) every log in `dir` and writes the session start marker.
    pub fn open(
        dir: &Path,
        cfg: &Logs,
        tf: TimeFmt,
        start: &SessionStart,
    ) -> anyhow::Result<LogFiles> {
        let [anomalies, alerts, events, mut session] = open_all(dir, cfg)?;
        session.write_entry(session::start_marker(start, &tf).as_bytes())?;
        session.flush()?;
        Ok(LogFiles {
            anomalies,
            alerts,
            events,
            session,
            tf,
            changes: Changes::default(),
            event_types: cfg.events.clone(),
            csv_time_format: cfg.csv_time_format.clone(),
        })
    }

    fn files(&mut self) -> [&mut RotatingFile; 4] {
        [
            &mut self.anomalies,
            &mut self.alerts,
            &mut self.events,
            &mut self.session,
        ]
    }
}

impl Sink for LogFiles {
    fn name(&self) -> String {
        "log files".into()
    }

    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
        for r in records {
            match r {
                Record::Alert(a) => {
                    let change = self.changes.classify(a);
                    if !change.is_news() {
                        continue;
                    }
                    let line = jsonl::line(&jsonl::alert(a, Some(change), &self.tf));
                    self.alerts.write_entry(&line)?;
                    if matches!(change, Change::Opened | Change::Escalated) {
                        self.anomalies.write_entry(&anomalies::row(
                            a,
                            &self.tf,
                            self.csv_time_format.as_deref(),
                        ))?;
                    }
                    let entry = session::alert_entry(a, change, &self.tf);
                    self.session.write_entry(entry.as_bytes())?;
                }
                Record::Event(e) => {
                    if let Event::Loss(l) = e {
                        let entry = session::loss_entry(l, &self.tf);
                        self.session.write_entry(entry.as_bytes())?;
                    }
                    if self.event_types.iter().any(|t| t == e.type_name()) {
                        let line = jsonl::line(&jsonl::event(e, &self.tf));
                        self.events.write_entry(&line)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        for f in self.files() {
            f.flush()
                .with_context(|| format!("cannot write {}", f.path().display()))?;
        }
        Ok(())
    }

    fn close(&mut self, end: &SessionEnd) -> anyhow::Result<()> {
        let marker = session::end_marker(end, &self.tf);
        self.session.write_entry(marker.as_bytes())?;
        self.flush()
    }
}

#[cfg(test)]
mod tests;
