//! What `run` and `watch` start: the sources, stages and sinks for a config, and the
//! degraded modes found on the way. New capabilities plug in here, each in its own block.

use crate::setup::Setup;
use crate::sinks::logs::LogFiles;
use crate::sinks::sampled::SampledPackets;
use crate::sinks::store::{self, StoreSink};
use crate::sinks::terminal::{Format, Terminal};
use crate::sinks::{SessionStart, Sink};
use crate::sources::Source;
use netsnoop_core::net::NetworkStages;
use netsnoop_core::process::stage::ProcessMonitor;
use netsnoop_core::{Degraded, Stage};
use netsnoop_store::{Store, WriterHandle};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Everything, with the API server.
    Run,
    /// Terminal only.
    Watch(Format),
    /// Everything but a store: records go to the central server.
    Agent,
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
    /// Notes on sources for /health: (source name, why it is the one running).
    pub source_notes: Vec<(String, String)>,
    /// The open store and a handle on its writer, for the API server (run only).
    pub store: Option<Arc<dyn Store>>,
    pub writer: Option<WriterHandle>,
    /// The alert outputs' figures, for `/health` and `/metrics` (when any is configured).
    pub outputs: Option<netsnoop_deliver::CountsView>,
    /// The agent's shipper (agent only).
    pub shipper: Option<crate::agent::ShipperHandle>,
}

/// `server`: where an agent reports (agent only).
pub fn build(
    mode: Mode,
    setup: &Setup,
    session: &SessionStart,
    server: Option<&str>,
) -> anyhow::Result<Wiring> {
    let cfg = &setup.config;
    let mut w = Wiring::default();

    // Sources. Each reports what it could not do as a Degraded reason, not an error.
    let capture_on = if cfg.network.capture.enabled {
        // In `run` our own API port is on the wire too: keep it out of the figures.
        let own = (mode == Mode::Run).then_some(cfg.server.listen);
        match crate::sources::capture::capture_sources(&cfg.network, own) {
            Ok(capture) => {
                let on = cfg.network.capture.interfaces.join(", ");
                let filter = capture
                    .filter
                    .map(|f| format!(" (filter: {f})"))
                    .unwrap_or_default();
                w.notes.push(("capture", format!("on {on}{filter}")));
                w.sources.extend(capture.sources);
                true
            }
            // No CAP_NET_RAW: the host monitors keep running; the message names the fix.
            Err(e) if e.is_permission() => {
                w.degraded.push(Degraded::NoCapturePermission);
                w.notes.push(("capture", format!("off: {e}")));
                false
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        w.notes.push((
            "capture",
            "off (--no-capture or network.capture.enabled = false)".into(),
        ));
        false
    };

    // Exec events: eBPF, the proc connector or /proc polling, whichever starts.
    let exec = crate::sources::exec::start(&cfg.process)?;
    w.notes.push(("exec", exec.note));
    w.degraded.extend(exec.degraded);
    w.sources.push(Box::new(exec.source));

    // Socket attribution (which process owns each connection), wherever flows are made.
    let network_on = mode == Mode::Run || capture_on;
    let attribution = if network_on {
        match crate::sources::owner::start(&cfg.attribution)? {
            Some(sock) => {
                w.notes.push(("owners", sock.note.clone()));
                w.degraded.extend(sock.degraded);
                w.source_notes.push((sock.source.name(), sock.note));
                w.sources.push(Box::new(sock.source));
                Some(netsnoop_core::owner::Attribution::new(
                    cfg.attribution.clone(),
                ))
            }
            None => {
                w.notes
                    .push(("owners", "off (attribution.source = \"off\")".into()));
                None
            }
        }
    } else {
        None
    };

    // Resources: /proc sampled once per interval (CPU, memory, load, pressure).
    if cfg.resources.enabled {
        let res = crate::sources::resources::start(&cfg.resources)?;
        w.notes.push(("resources", res.note));
        w.degraded.extend(res.degraded);
        w.sources.push(Box::new(res.source));
    } else {
        w.notes
            .push(("resources", "off (resources.enabled = false)".into()));
    }

    // Stages: pure state machines from netsnoop-core, each built from its config section.
    // They sit idle until their source delivers events.
    w.stages.push(Box::new(
        ProcessMonitor::new(cfg.process.clone()).with_self_pid(std::process::id()),
    ));
    if cfg.resources.enabled {
        w.stages
            .extend(netsnoop_core::resource::detectors(&cfg.resources));
    }
    // Network stages (flows, per-second rollups, scan and spike detection) whenever packets
    // can arrive: from capture, and in `run` always over POST /packets.
    if network_on {
        let stages = NetworkStages::new(&cfg.network);
        w.stages.push(Box::new(match attribution {
            Some(a) => stages.with_attribution(a),
            None => stages,
        }));
    }

    // Sinks, in the order they receive records: files first, so a stuck terminal never
    // delays what is recorded. They hold every user's argv: the data dir is private.
    crate::fsmode::prepare_data_dir(&setup.data_dir, cfg.paths.group.as_deref())?;
    w.sinks.push(Box::new(LogFiles::open(
        &setup.data_dir,
        &cfg.logs,
        setup.tf.clone(),
        session,
    )?));
    let format = match mode {
        Mode::Run | Mode::Agent => Format::Text,
        Mode::Watch(f) => f,
    };
    let terminal = Terminal::stdout(format, setup.tf.clone(), cfg.logs.events.clone())
        .with_resource_samples(&cfg.resources);
    let terminal = match mode {
        Mode::Watch(_) => terminal.with_process_tree(cfg.process.burst.group_secs),
        Mode::Run | Mode::Agent => terminal,
    };
    // Packets printed one by one (logs.events = ["packet", …]) are rate-limited.
    w.sinks.push(Box::new(SampledPackets::new(
        terminal,
        cfg.network.packets.clone(),
    )));
    if mode == Mode::Run {
        match store::open(setup)
            .and_then(|st| StoreSink::start(st, cfg.store.retention_every.get()))
            .map(|sink| sink.with_top_n(cfg.resources.top_n))
        {
            Ok(sink) => {
                if let Err(e) = sink.check_writable() {
                    w.degraded.push(Degraded::StoreFailing);
                    w.notes.push(("store", format!("writes fail: {e:#}")));
                }
                w.store = Some(sink.store());
                w.writer = sink.writer_handle();
                // Before the terminal: what is recorded must not wait for a slow tty.
                let at = w.sinks.len() - 1;
                let sampled = SampledPackets::new(sink, cfg.network.packets.clone());
                w.sinks.insert(at, Box::new(sampled));
            }
            Err(e) => {
                w.degraded.push(Degraded::NoStore);
                w.notes.push(("store", format!("{e:#}")));
            }
        }
    }
    if mode == Mode::Agent {
        let server = server.ok_or_else(|| anyhow::anyhow!("an agent needs a server"))?;
        let agent = crate::agent::start(setup, server, &w.degraded)?;
        w.notes.push(("server", agent.note));
        // Where `run` has its store: before the terminal, packets rate-limited alike.
        let at = w.sinks.len() - 1;
        let sampled = SampledPackets::new(agent.sink, cfg.network.packets.clone());
        w.sinks.insert(at, Box::new(sampled));
        w.shipper = Some(agent.shipper);
    }

    // Alert outputs: each its own queue and thread, so a dead receiver never slows us.
    if !cfg.outputs.is_empty() {
        let host = netsnoop_deliver::hostname();
        let delivery = netsnoop_deliver::Delivery::start(&cfg.outputs, &host)?;
        let names: Vec<String> = cfg
            .outputs
            .iter()
            .map(|o| format!("{} ({})", o.name, o.kind()))
            .collect();
        w.notes.push(("outputs", names.join(", ")));
        w.stages.push(Box::new(delivery.drop_watch()));
        // Silences and acks live in the store (`netsnoop alerts ack|silence`).
        if let Some(store) = &w.store {
            crate::sinks::deliver::refresh_mutes(store.clone(), delivery.mutes())?;
        }
        w.outputs = Some(delivery.view());
        // First: it never blocks, and a stuck terminal must not delay a notification.
        let sink = crate::sinks::deliver::DeliverySink(delivery);
        w.sinks.insert(0, Box::new(sink));
    }

    if mode == Mode::Run {
        w.notes.push((
            "api",
            format!(
                "{1}://{0}/ (dashboard), {1}://{0}/docs (API)",
                cfg.server.listen,
                cfg.server.scheme()
            ),
        ));
    }
    Ok(w)
}
