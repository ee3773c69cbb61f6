//! `netsnoop serve`: the API and dashboard over a store, taking packets from NetWatch agents
//! (POST /packets) through a pipeline of the network stages, so their traffic gets flows,
//! rollups and scan detection like captured traffic. Stops cleanly on SIGINT or SIGTERM.

use crate::api::{self, ApiParts};
use crate::cli::ServeArgs;
use crate::config::Overrides;
use crate::pipeline::{Clock, Pipeline};
use crate::setup::setup;
use crate::shutdown;
use crate::sinks::Sink;
use crate::sinks::hub::HubSink;
use crate::sinks::store::{self, StoreSink};
use crate::sources::StopFlag;
use anyhow::Context;
use netsnoop_core::net::NetworkStages;
use netsnoop_core::{Degraded, Stage};

/// POSTed batches the pipeline queue holds before POST answers 503 (retry later).
const CHANNEL_BATCHES: usize = 1024;

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let mut s = setup(
        &args.common,
        Overrides {
            listen: args.listen,
            ..Overrides::default()
        },
    )?;
    if let Some(db) = &args.database {
        s.config.store.database = db.clone();
    }
    let stop_rx = shutdown::install()?;

    crate::fsmode::prepare_data_dir(&s.data_dir, s.config.paths.group.as_deref())?;
    let st = store::open(&s)?;
    let sink = StoreSink::start(st, s.config.store.retention_every.get())
        .context("cannot start the store writer")?;
    let (store, writer) = (sink.store(), sink.writer_handle());
    let hub = api::hub(&s);
    let stages: Vec<Box<dyn Stage>> = vec![Box::new(NetworkStages::new(&s.config.network))];
    let mut degraded: Vec<Degraded> = Vec::new();
    let unwritable = sink.check_writable().err();
    if unwritable.is_some() {
        degraded.push(Degraded::StoreFailing);
    }
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(sink), Box::new(HubSink(hub.clone()))];

    // `serve` has no sources but the API: an event channel with no sender at all.
    let (_, rx) = crossbeam_channel::bounded(1);
    let (intake_tx, intake_rx) = netsnoop_store::intake::intake(CHANNEL_BATCHES);
    let server = api::start(
        &s,
        ApiParts {
            hub,
            ingest: intake_tx,
            store: Some(store.clone()),
            writer,
            degraded: degraded.clone(),
            sources: Vec::new(),
            source_notes: Vec::new(),
        },
    )?;
    eprintln!(
        "netsnoop serve: listening on {scheme}://{addr}/ (dashboard), {scheme}://{addr}/docs (API); store {backend} in {dir}; token {token}",
        addr = server.local_addr(),
        scheme = s.config.server.scheme(),
        backend = store.backend(),
        dir = s.data_dir.display(),
        token = api::token_rule(&s),
    );
    if let Some(e) = &unwritable {
        let d = Degraded::StoreFailing;
        eprintln!(
            "netsnoop serve: degraded: {d}: {} (fix: {}): {e:#}",
            d.effect(),
            d.fix()
        );
    }

    let mut pipeline = Pipeline::new(stages, sinks, Clock::Wall).with_intake(intake_rx);
    pipeline.max_clock_skew = s.config.general.max_clock_skew.get();
    pipeline.redactor = netsnoop_core::redact::Redactor::new(&s.config.redact);
    let sources_stop = StopFlag::new();
    let end = std::thread::Builder::new()
        .name("pipeline".into())
        .spawn(move || pipeline.run(rx, stop_rx, &sources_stop))?
        .join()
        .map_err(|_| anyhow::anyhow!("the pipeline thread panicked"))?;
    // The pipeline has drained what was queued; now stop taking requests.
    server
        .stop()
        .context("the API server ended with an error")?;
    eprintln!(
        "netsnoop: stopped ({}): {} events, {} alerts, {} sink errors",
        end.reason, end.events, end.alerts, end.sink_errors
    );
    Ok(())
}
