//! The live hub: the pipeline hands it every batch of records; it keeps the current
//! snapshot for `/system`, `/processes` and `/health`, updates the metrics, and fans out
//! the live stream to SSE clients without ever blocking the pipeline.
//!
//! Stream events (SSE `event:` names, `data:` is JSON):
//! - `alert`: an alert opened, updated or resolved (same shape as `/alerts` items)
//! - `process`: an exec event (pid, ppid, user, exe, argv, ancestry, …)
//! - `system`: one resource sampling round (system figures, top 5 by CPU and by memory)
//! - `traffic`: one closed second of traffic counters (a second that a late packet
//!   reopened comes again with its additions)
//! - `tick`: every second, counters and open alerts, even when nothing else happens

mod fanout;
pub mod snapshot;

use crate::metrics::Metrics;
use crate::views::AlertView;
use fanout::Fanout;
use jiff::tz::TimeZone;
use netsnoop_core::{Event, ProcEventKind, Protocol, Record, Ts};
use serde::Serialize;
use snapshot::{DegradedMode, LiveState, SourceStatus};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Messages buffered per client before a slow one is dropped.
pub const STREAM_BUFFER: usize = 1024;

/// One server-sent event, serialized once for all clients.
#[derive(Clone, Debug)]
pub struct LiveMessage {
    pub event: &'static str,
    pub data: Arc<str>,
}

/// Cheap to clone; every clone shares the same snapshot, metrics and stream.
#[derive(Clone)]
pub struct LiveHub {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<LiveState>,
    metrics: Metrics,
    stream: Fanout,
    started: Instant,
    started_at: Ts,
    timezone: TimeZone,
    outputs: Mutex<Option<crate::outputs::OutputsProbe>>,
}

impl Default for LiveHub {
    fn default() -> Self {
        LiveHub::new(TimeZone::UTC)
    }
}

impl LiveHub {
    pub fn new(timezone: TimeZone) -> LiveHub {
        LiveHub::with_history(timezone, snapshot::SYSTEM_HISTORY)
    }

    /// A hub keeping `system_samples` system samples for `/system` (oldest dropped).
    pub fn with_history(timezone: TimeZone, system_samples: usize) -> LiveHub {
        let stream = Fanout::default();
        let now = Ts::now().micros();
        LiveHub {
            inner: Arc::new(Inner {
                state: Mutex::new(LiveState::new(system_samples)),
                metrics: Metrics::new(),
                stream,
                started: Instant::now(),
                started_at: Ts(now),
                timezone,
                outputs: Mutex::new(None),
            }),
        }
    }

    /// Takes one batch of pipeline output. Never blocks on clients: the stream is a
    /// bounded queue per client, and a client whose queue is full is dropped at once.
    pub fn publish(&self, records: &[Record]) {
        let mut by_protocol = [(0u64, 0u64); Protocol::ALL.len()];
        let live = self.inner.stream.clients() > 0;
        let mut messages = Vec::new();
        {
            let mut st = self.state();
            for record in records {
                match record {
                    Record::Alert(a) => {
                        let label = crate::metrics::AlertLabel {
                            kind: a.kind.clone(),
                            severity: a.severity.as_str(),
                        };
                        let m = &self.inner.metrics;
                        if !a.is_active() {
                            m.alerts_resolved.get_or_create(&label).inc();
                        } else if !st.active_alerts.contains_key(&a.id) {
                            m.alerts_raised.get_or_create(&label).inc();
                        }
                        m.alerts.get_or_create(&label).inc();
                        st.track_alert(a);
                        if live {
                            messages.push(
                                self.message("alert", &AlertView::new(a, &self.inner.timezone)),
                            );
                        }
                    }
                    Record::Event(e) => {
                        self.take_event(&mut st, e, &mut by_protocol, live, &mut messages)
                    }
                }
            }
            self.inner
                .metrics
                .alerts_active
                .set(st.active_alerts.len() as i64);
        }
        for (i, (packets, bytes)) in by_protocol.into_iter().enumerate() {
            if packets > 0 {
                self.inner
                    .metrics
                    .add_packets(Protocol::ALL[i], packets, bytes);
            }
        }
        for m in messages.into_iter().flatten() {
            self.send(&m);
        }
    }

    fn take_event(
        &self,
        st: &mut LiveState,
        event: &Event,
        by_protocol: &mut [(u64, u64); Protocol::ALL.len()],
        live: bool,
        messages: &mut Vec<Option<LiveMessage>>,
    ) {
        let m = &self.inner.metrics;
        // An agent's packets, samples, losses and sockets are its host's, not this
        // server's: they are stored and listed by host, but do not become this server's
        // capture counts, system gauges, process tree or losses. Packets POSTed by NetWatch
        // senders went through this server's pipeline, so they count here.
        if event.host().is_some_and(|h| !h.is_netwatch())
            && matches!(
                event,
                Event::Packet(_) | Event::Resources(_) | Event::Loss(_) | Event::Connection(_)
            )
        {
            return;
        }
        match event {
            Event::Packet(p) => {
                let i = Protocol::ALL
                    .iter()
                    .position(|x| *x == p.protocol)
                    .unwrap_or(Protocol::ALL.len() - 1);
                by_protocol[i].0 += 1;
                by_protocol[i].1 += u64::from(p.wire_len);
                st.count_packet(p.iface, p.wire_len);
                st.see(p.time);
            }
            Event::Process(pe) => {
                m.process_events
                    .get_or_create(&crate::metrics::ProcessKindLabel {
                        kind: pe.kind.as_str(),
                    })
                    .inc();
                m.redactions.inc_by(u64::from(pe.redacted));
                st.see(pe.time);
                if pe.kind == ProcEventKind::Exec {
                    if live {
                        let json = crate::views::process_event_json(pe, &self.inner.timezone);
                        messages.push(self.message("process", &json));
                    }
                    st.push_exec(pe.clone());
                }
            }
            Event::Resources(r) => {
                m.system_cpu.set(r.system.cpu_pct);
                m.memory_used
                    .set(i64::try_from(r.system.mem_used).unwrap_or(i64::MAX));
                m.memory_total
                    .set(i64::try_from(r.system.mem_total).unwrap_or(i64::MAX));
                m.load1.set(r.system.load1);
                st.see(r.system.time);
                st.push_system(r.system.clone());
                st.processes = r.processes.clone();
                st.processes_time = Some(r.system.time);
                if live {
                    messages.push(self.message(
                        "system",
                        &crate::views::SystemTick::new(r, &self.inner.timezone),
                    ));
                }
            }
            Event::Flow(_) => {
                m.flows.inc();
            }
            Event::Traffic(t) => {
                if live {
                    messages.push(self.message("traffic", t));
                }
            }
            Event::Loss(l) => {
                st.add_loss(&l.source, l.count, &l.reason);
            }
            Event::Connection(c) => st.see(c.time),
        }
    }

    fn message<T: Serialize + ?Sized>(
        &self,
        event: &'static str,
        value: &T,
    ) -> Option<LiveMessage> {
        match serde_json::to_string(value) {
            Ok(json) => Some(LiveMessage {
                event,
                data: json.into(),
            }),
            Err(e) => {
                tracing::warn!(error = %e, event, "could not serialize a live stream message");
                None
            }
        }
    }

    /// Sends the 1 s heartbeat with counters; called by the server's ticker task.
    pub fn tick(&self) {
        if self.inner.stream.clients() == 0 {
            return;
        }
        let tick = {
            let st = self.state();
            Tick {
                time: crate::timefmt::format_time(Ts::now(), &self.inner.timezone),
                uptime_secs: self.uptime_secs(),
                packets_seen: st.packets_seen,
                bytes_seen: st.bytes_seen,
                alerts_active: st.active_alerts.len(),
                clients: self.inner.stream.clients(),
            }
        };
        if let Some(m) = self.message("tick", &tick) {
            self.send(&m);
        }
    }

    /// A new stream client's queue; it ends when the client falls `STREAM_BUFFER`
    /// messages behind (counted in `sse_clients_dropped`).
    pub fn subscribe(&self) -> tokio::sync::mpsc::Receiver<LiveMessage> {
        self.inner.stream.subscribe(STREAM_BUFFER)
    }

    fn send(&self, message: &LiveMessage) {
        let dropped = self.inner.stream.send(message);
        if dropped > 0 {
            tracing::info!(dropped, "dropped live stream clients that fell behind");
            self.inner.metrics.sse_clients_dropped.inc_by(dropped);
        }
    }

    /// Records which sources run (the binary calls this at start and when one stops).
    pub fn set_sources(&self, sources: Vec<SourceStatus>) {
        let mut st = self.state();
        st.sources = sources;
        st.take_source_names();
    }

    /// Records the degraded modes NetSnoop runs in, with their fixes.
    pub fn set_degraded(&self, degraded: Vec<DegradedMode>) {
        self.state().degraded = degraded;
    }

    /// Sets where `/health` and `/metrics` read the alert outputs' figures.
    pub fn set_outputs(&self, probe: crate::outputs::OutputsProbe) {
        *self.inner.outputs.lock().unwrap_or_else(|e| e.into_inner()) = Some(probe);
    }

    /// Every alert output's figures (none when no output is configured).
    pub fn outputs(&self) -> Vec<crate::outputs::OutputStatus> {
        let probe = self
            .inner
            .outputs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        probe.map(|p| p()).unwrap_or_default()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The `/metrics` exposition: the live families, the counts `/health` reports (read
    /// from the same snapshot and `writer`), queue depths and the process metrics.
    /// `/metrics`; `hosts`: the fleet's hosts with their states (empty without agents).
    pub fn metrics_text(
        &self,
        writer: Option<&netsnoop_store::WriterStats>,
        hosts: &[(netsnoop_store::HostRow, crate::fleet::HostState)],
    ) -> String {
        let scraped = {
            let st = self.state();
            let mut s = crate::metrics::scrape::Scraped::read(&st, &self.inner.metrics, writer);
            s.fleet(hosts, Ts::now());
            s
        };
        self.inner.metrics.encode(scraped)
    }

    pub fn timezone(&self) -> &TimeZone {
        &self.inner.timezone
    }

    pub fn uptime_secs(&self) -> u64 {
        self.inner.started.elapsed().as_secs()
    }

    pub fn started_at(&self) -> Ts {
        self.inner.started_at
    }

    /// The snapshot, locked. Keep the guard short: the pipeline waits on it.
    pub fn state(&self) -> MutexGuard<'_, LiveState> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Serialize)]
struct Tick {
    time: String,
    uptime_secs: u64,
    packets_seen: u64,
    bytes_seen: u64,
    alerts_active: usize,
    clients: usize,
}
