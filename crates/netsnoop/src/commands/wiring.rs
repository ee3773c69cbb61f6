//! What `run` and `watch` start: the sources, stages and sinks for a config, and the
//! degraded modes found on the way. New capabilities plug in here, each in its own block.

use super::{NotBuiltYet, Setup};
use crate::logs::LogFiles;
use crate::sinks::terminal::{Format, Terminal};
use crate::sinks::{SessionStart, Sink};
use crate::sources::Source;
use netsnoop_core::{Degraded, Stage};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Everything, with the API server.
    Run,
    /// Terminal only.
    Watch(Format),
}

/// The parts of one session, ready to start.
#[derive(Default)]
pub struct Wiring {
    pub sources: Vec<Box<dyn Source>>,
    pub stages: Vec<Box<dyn Stage>>,
    pub sinks: Vec<Box<dyn Sink>>,
    pub degraded: Vec<Degraded>,
    /// Extra banner lines: (topic, what is going on), e.g. ("capture", "off").
    pub notes: Vec<(&'static str, String)>,
}

pub fn build(mode: Mode, setup: &Setup, session: &SessionStart) -> anyhow::Result<Wiring> {
    let cfg = &setup.config;
    let mut w = Wiring::default();

    // Sources. Each reports what it could not do as a Degraded reason, not an error.
    if cfg.network.capture.enabled {
        return Err(NotBuiltYet(
            "packet capture (run with --no-capture, or set network.capture.enabled = false)".into(),
        )
        .into());
    }
    w.notes.push((
        "capture",
        "off (--no-capture or network.capture.enabled = false)".into(),
    ));

    // Stages (detectors, flow table, rollups) go here, built from their config sections.

    // Sinks, in the order they receive records: files first, so a stuck terminal never
    // delays what is recorded.
    w.sinks.push(Box::new(LogFiles::open(
        &setup.data_dir,
        &cfg.logs,
        setup.tf.clone(),
        session,
    )?));
    let format = match mode {
        Mode::Run => Format::Text,
        Mode::Watch(f) => f,
    };
    w.sinks.push(Box::new(Terminal::stdout(
        format,
        setup.tf.clone(),
        cfg.logs.events.clone(),
    )));
    w.notes.push((
        "store",
        "not built yet (alerts go to the terminal and log files)".into(),
    ));

    if mode == Mode::Run {
        w.notes.push((
            "api",
            format!("not built yet (server.listen = {})", cfg.server.listen),
        ));
    }
    Ok(w)
}
