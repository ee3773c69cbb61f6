//! `netsnoop run` and `netsnoop watch`: start the sources, the pipeline thread and the
//! sinks, print the banner, and stop cleanly on SIGINT or SIGTERM.

use super::banner;
use super::wiring::{self, Mode};
use crate::cli::{AgentArgs, CaptureArgs, RunArgs, WatchArgs};
use crate::config::Overrides;
use crate::pipeline::{Clock, Pipeline};
use crate::setup::{Setup, setup};
use crate::sinks::SessionStart;
use crate::sinks::hub::HubSink;
use crate::sources::{self, StopFlag};
use crate::{api, shutdown};
use std::time::Duration;

/// Batches the channel holds before sources start dropping (and counting) them.
const CHANNEL_BATCHES: usize = 1024;

fn overrides(c: &CaptureArgs) -> Overrides {
    Overrides {
        interfaces: c.interfaces.clone(),
        filter: c.filter.clone(),
        no_capture: c.no_capture,
        exec_source: c.exec_source,
        ..Overrides::default()
    }
}

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let mut o = overrides(&args.capture);
    o.listen = args.listen;
    let mut s = setup(&args.common, o)?;
    if let Some(db) = &args.database {
        s.config.store.database = db.clone();
    }
    monitor("run", Mode::Run, s, None)
}

pub fn agent(args: &AgentArgs) -> anyhow::Result<()> {
    let mut s = setup(&args.common, overrides(&args.capture))?;
    if let Some(ca) = &args.ca_file {
        s.config.agent.ca_file = Some(crate::setup::absolute(ca)?);
    }
    let server = crate::agent::server_url(args.server.as_deref(), &s)?;
    monitor("agent", Mode::Agent, s, Some(&server))
}

pub fn watch(args: &WatchArgs) -> anyhow::Result<()> {
    let s = setup(&args.common, overrides(&args.capture))?;
    monitor("watch", Mode::Watch(args.format), s, None)
}

fn monitor(command: &str, mode: Mode, setup: Setup, server: Option<&str>) -> anyhow::Result<()> {
    // Signals first: from the banner on, Ctrl+C must end the session cleanly.
    let stop_rx = shutdown::install()?;
    let started = netsnoop_core::Ts::now();
    let session = SessionStart {
        time: started,
        command: command.to_string(),
        config: setup.config_path.clone(),
        config_found: setup.config_found,
        data_dir: setup.data_dir.clone(),
    };
    let mut w = wiring::build(mode, &setup, &session, server)?;
    let (tx, rx) = crossbeam_channel::bounded(CHANNEL_BATCHES);
    let (intake_tx, intake_rx) = netsnoop_store::intake::intake(CHANNEL_BATCHES);
    // `run` serves the API on the same pipeline: POSTed packets enter like captured ones.
    let _server = match mode {
        Mode::Run => {
            let hub = api::hub(&setup);
            w.sinks.push(Box::new(HubSink(hub.clone())));
            // A receiver's clone only reads the depth: the channel still closes with
            // its last sender.
            let queue = rx.clone();
            hub.metrics().add_queue(
                "pipeline",
                Box::new(move || (queue.len(), queue.capacity().unwrap_or(0))),
            );
            if let Some(view) = w.outputs.clone() {
                hub.set_outputs(crate::sinks::deliver::probe(view));
            }
            let parts = api::ApiParts {
                hub,
                ingest: intake_tx,
                store: w.store.clone(),
                writer: w.writer.clone(),
                degraded: w.degraded.clone(),
                sources: w.sources.iter().map(|s| s.name()).collect(),
                source_notes: w.source_notes.clone(),
            };
            let server = api::start(&setup, parts)?;
            // The banner shows the address actually bound (matters with port 0).
            for (topic, note) in &mut w.notes {
                if *topic == "api" {
                    *note = format!(
                        "{1}://{0}/ (dashboard), {1}://{0}/docs (API)",
                        server.local_addr(),
                        setup.config.server.scheme()
                    );
                }
            }
            Some(server)
        }
        Mode::Watch(_) | Mode::Agent => None,
    };
    eprint!("{}", banner::render(command, &setup, &w, started));

    let stop = StopFlag::new();
    let shipper = w.shipper.take();
    let running = sources::spawn(w.sources, &tx, &stop)?;
    // Only sources (and the API) hold senders now: the channel closes when the last one
    // finishes.
    drop(tx);
    let mut pipeline = Pipeline::new(w.stages, w.sinks, Clock::Wall).with_intake(intake_rx);
    pipeline.max_clock_skew = setup.config.general.max_clock_skew.get();
    pipeline.redactor = netsnoop_core::redact::Redactor::new(&setup.config.redact);
    let pipeline_stop = stop.clone();
    let end = std::thread::Builder::new()
        .name("pipeline".into())
        .spawn(move || pipeline.run(rx, stop_rx, &pipeline_stop))?
        .join()
        .map_err(|_| anyhow::anyhow!("the pipeline thread panicked"))?;
    let (errors, stuck) = running.join(Duration::from_millis(300));
    if let Some(shipper) = shipper {
        shipper.stop();
    }
    for e in &errors {
        eprintln!("netsnoop: {e}");
    }
    if !stuck.is_empty() {
        eprintln!("netsnoop: sources still busy at exit: {}", stuck.join(", "));
    }
    eprintln!(
        "netsnoop: stopped ({}): {} events, {} alerts, {} lost, {} sink errors",
        end.reason, end.events, end.alerts, end.lost, end.sink_errors
    );
    Ok(())
}
