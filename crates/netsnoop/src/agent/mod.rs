//! `netsnoop agent`: the monitors of `run`, reporting to a central `netsnoop serve`
//! instead of a store of their own. Records wait in a spool until the server has stored
//! them (`spool`), batched by a sink (`sink`) and sent by a thread (`shipper`).

pub mod shipper;
pub mod sink;
pub mod spool;

use crate::setup::Setup;
use anyhow::Context;
use netsnoop_core::Degraded;
use netsnoop_pipeline::StopFlag;
use std::sync::Arc;
use std::thread::JoinHandle;

/// What `wiring` needs to run an agent: the sink for the pipeline, and the shipper.
pub struct AgentParts {
    pub sink: sink::ShipSink,
    pub shipper: ShipperHandle,
    /// For the banner: where it reports, as which host, and the spool's backlog.
    pub note: String,
}

/// The shipper thread; stop it after the pipeline has ended (it sends what it can of the
/// last batches, then leaves the rest in the spool).
pub struct ShipperHandle {
    stop: StopFlag,
    thread: JoinHandle<()>,
}

impl ShipperHandle {
    pub fn stop(self) {
        self.stop.stop();
        if self.thread.join().is_err() {
            eprintln!("netsnoop agent: the shipper thread panicked");
        }
    }
}

/// Opens the spool and starts the shipper for `server`.
pub fn start(setup: &Setup, server: &str, degraded: &[Degraded]) -> anyhow::Result<AgentParts> {
    let cfg = &setup.config.agent;
    let host = setup.host()?;
    let path = setup.data_dir.join(spool::SPOOL_FILE);
    // Created with the data dir's private mode; SQLite gives its journals the same.
    crate::fsmode::open_append(&path)
        .with_context(|| format!("cannot create the agent spool {}", path.display()))?;
    let spool = Arc::new(spool::Spool::open(
        &path,
        spool::Bounds {
            max_bytes: cfg.spool_max_mb.saturating_mul(1024 * 1024),
            max_age: cfg.spool_max_age.get(),
        },
    )?);
    let backlog = spool.stats()?;
    let mut client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .user_agent(concat!("netsnoop-agent/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &cfg.ca_file {
        let pem = std::fs::read(ca)
            .with_context(|| format!("cannot read agent.ca_file {}", ca.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .with_context(|| format!("agent.ca_file {} is not a PEM certificate", ca.display()))?;
        client = client.add_root_certificate(cert);
    }
    let client = client
        .build()
        .map_err(|e| anyhow::anyhow!("cannot set up HTTP: {}", e.without_url()))?;
    let (wake_tx, wake_rx) = crossbeam_channel::bounded(1);
    let stop = StopFlag::new();
    let shipper = shipper::Shipper {
        spool: spool.clone(),
        client,
        server: server.trim_end_matches('/').to_string(),
        key_file: setup.data_dir.join(shipper::KEY_FILE),
        host: host.clone(),
        secret: cfg.secret(),
        degraded: degraded.iter().map(|d| d.to_string()).collect(),
        replay_per_sec: cfg.replay_batches_per_sec,
        retry_max: cfg.retry_max.get(),
        wake: wake_rx,
        stop: stop.clone(),
    };
    let thread = std::thread::Builder::new()
        .name("shipper".into())
        .spawn(move || shipper.run())?;
    Ok(AgentParts {
        sink: sink::ShipSink::new(spool, cfg, setup.config.resources.top_n, wake_tx),
        shipper: ShipperHandle { stop, thread },
        note: format!(
            "reports to {server} as host {} ({}); spool: {} batches waiting, {} dropped so far",
            host.id, host.name, backlog.batches, backlog.dropped_batches
        ),
    })
}

/// The server to report to: `--server`, else `agent.server`.
pub fn server_url(flag: Option<&str>, setup: &Setup) -> anyhow::Result<String> {
    let url = flag
        .map(str::to_string)
        .or_else(|| setup.config.agent.server.clone())
        .context("no server to report to: pass --server URL (or set agent.server), e.g. --server http://monitor:8000")?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        anyhow::bail!("--server {url:?} is not a URL: write http://HOST:PORT or https://HOST:PORT");
    }
    Ok(url)
}
