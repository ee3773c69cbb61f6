//! The store sink: hands every record to netsnoop-store's batching writer thread, and runs
//! retention on a thread of its own so deleting old rows never stalls the pipeline.

use super::{SessionEnd, Sink};
use crate::config::Store as StoreConfig;
use anyhow::Context;
use crossbeam_channel::{Sender, bounded};
use netsnoop_core::resource::trim_to_top_n;
use netsnoop_core::{Event, Record};
use netsnoop_store::{
    Ack, OpenOptions, RetentionConfig, Store, Writer, WriterOptions, spawn_writer,
};
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The retention limits the config asks for, in the store's terms (0 = no limit).
pub fn retention(cfg: &StoreConfig) -> RetentionConfig {
    let nonzero = |n: u64| (n > 0).then_some(n);
    let k = &cfg.keep;
    RetentionConfig {
        packets: k.packets.get(),
        max_packet_rows: nonzero(cfg.max_packet_rows),
        traffic: k.traffic.get(),
        traffic_minutes: k.traffic_minutes.get(),
        traffic_hours: k.traffic_hours.get(),
        flows: k.flows.get(),
        process_events: k.process_events.get(),
        system_samples: k.system_samples.get(),
        process_samples: k.process_samples.get(),
        alerts: k.alerts.get(),
        losses: k.losses.get(),
        max_db_bytes: nonzero(cfg.max_size_mb.saturating_mul(1024 * 1024)),
    }
}

/// Opens the configured store (creating an embedded one in the data dir if needed), its
/// rows without a host belonging to this host.
pub fn open(setup: &crate::setup::Setup) -> anyhow::Result<Arc<dyn Store>> {
    let (cfg, data_dir) = (&setup.config.store, setup.data_dir.as_path());
    let spec = cfg.database_spec(data_dir);
    let sqlite_path = spec
        .strip_prefix("sqlite://")
        .or_else(|| spec.strip_prefix("sqlite:"))
        .or((!spec.contains("://")).then_some(spec.as_str()));
    if let Some(path) = sqlite_path.filter(|p| !p.is_empty() && *p != ":memory:") {
        // Created here with the data dir's file mode (0600, or 0640 with a group): SQLite
        // gives its -wal and -shm files the database file's mode.
        let path = Path::new(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fsmode::create_dir(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        crate::fsmode::open_append(path)
            .with_context(|| format!("cannot create the database {}", path.display()))?;
    }
    let opts = OpenOptions {
        retention: retention(cfg),
        local_host: Some(setup.host()?),
        ..OpenOptions::default()
    };
    netsnoop_store::open(&spec, opts).map_err(|e| anyhow::anyhow!("cannot open the store: {e}"))
}

/// What is stored (here, or on the server an agent reports to) of `records`: resource
/// samples with their top `top_n` processes, and no attribution records.
pub fn for_storage(records: &[Record], top_n: usize) -> Vec<Record> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Event(Event::Resources(s)) => {
                Some(Record::Event(Event::Resources(trim_to_top_n(s, top_n))))
            }
            Record::Event(Event::Connection(_)) => None,
            other => Some(other.clone()),
        })
        .collect()
}

pub struct StoreSink {
    store: Arc<dyn Store>,
    writer: Option<Writer>,
    retention: Option<(Sender<()>, JoinHandle<()>)>,
    /// Processes kept per resource sample (top by CPU and top by memory).
    top_n: usize,
}

impl StoreSink {
    /// Starts the writer and the retention thread (first pass right away: a store left
    /// alone for a month should shrink at start, not five minutes later).
    pub fn start(store: Arc<dyn Store>, every: Duration) -> anyhow::Result<StoreSink> {
        let writer = spawn_writer(store.clone(), WriterOptions::default());
        let (stop_tx, stop_rx) = bounded::<()>(1);
        let st = store.clone();
        let counted = writer.handle();
        let thread = std::thread::Builder::new()
            .name("store-retention".into())
            .spawn(move || {
                loop {
                    match st.apply_retention(netsnoop_core::Ts::now()) {
                        Ok(report) => counted.record_retention(&report),
                        Err(e) => tracing::error!("store retention failed: {e}"),
                    }
                    // Wakes early (and ends) when the sink closes.
                    if !matches!(
                        stop_rx.recv_timeout(every),
                        Err(crossbeam_channel::RecvTimeoutError::Timeout)
                    ) {
                        return;
                    }
                }
            })?;
        Ok(StoreSink {
            store,
            writer: Some(writer),
            retention: Some((stop_tx, thread)),
            top_n: usize::MAX,
        })
    }

    /// Keeps only the top `n` processes by CPU and by memory of each resource sample
    /// (`resources.top_n`); the system figures are always kept whole.
    pub fn with_top_n(mut self, n: usize) -> StoreSink {
        self.top_n = n;
        self
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// What the store keeps of `records`. Per-process rows are kept for the top processes
    /// only: trimming here also spares copying a thousand process samples a second into
    /// the queue. Attribution records are not stored: they live on in the flows they are
    /// joined into, so the writer counts only records that reach a table.
    fn trimmed(&self, records: &[Record]) -> Vec<Record> {
        for_storage(records, self.top_n)
    }

    /// Whether a write reaches the disk now; a failure is the `store_failing` degraded
    /// mode (also in /health until a write succeeds).
    pub fn check_writable(&self) -> anyhow::Result<()> {
        match &self.writer {
            Some(w) => Ok(w.check_writable()?),
            None => Ok(()),
        }
    }

    /// A handle other threads (the API's ingest endpoints) can write through.
    pub fn writer_handle(&self) -> Option<netsnoop_store::WriterHandle> {
        self.writer.as_ref().map(Writer::handle)
    }
}

impl Sink for StoreSink {
    fn name(&self) -> String {
        format!("store ({})", self.store.backend())
    }

    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
        // A full writer queue drops and counts (WriterStats::records_dropped), shown at exit.
        if let Some(w) = &self.writer {
            w.send(self.trimmed(records));
        }
        Ok(())
    }

    fn accept_durable(&mut self, records: &[Record], acks: &mut Vec<Ack>) -> anyhow::Result<()> {
        // Waits for room rather than dropping: the senders wait for the commit anyway.
        // Without a writer the acks stay behind and answer "not stored".
        if let Some(w) = &self.writer {
            w.send_durable(self.trimmed(records), std::mem::take(acks));
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        // The writer commits on its own within 200 ms; waiting here would stall the pipeline.
        Ok(())
    }

    fn close(&mut self, _end: &SessionEnd) -> anyhow::Result<()> {
        if let Some((stop, thread)) = self.retention.take() {
            let _ = stop.send(());
            // A pass deleting millions of rows must not hold up exit past the 2 s promise;
            // left behind, its transaction simply rolls back when the process ends.
            let deadline = std::time::Instant::now() + Duration::from_millis(300);
            while !thread.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if thread.is_finished() {
                let _ = thread.join();
            } else {
                eprintln!("netsnoop: store: a retention pass was still running; it is abandoned");
            }
        }
        if let Some(w) = self.writer.take() {
            let s = w.shutdown();
            eprintln!(
                "netsnoop: store: {} records written, {} dropped (queue full), {} failed",
                s.records_written, s.records_dropped, s.records_failed
            );
            if s.records_failed > 0 {
                anyhow::bail!(
                    "{} records could not be written to the store",
                    s.records_failed
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsnoop_core::{ProcSample, ResourceSample, SystemSample, Ts};
    use netsnoop_store::TimeRange;

    fn proc(pid: u32, cpu_pct: f64, rss_bytes: u64) -> ProcSample {
        ProcSample {
            pid,
            start_ticks: u64::from(pid),
            comm: format!("p{pid}"),
            cpu_pct,
            rss_bytes,
            ..ProcSample::default()
        }
    }

    #[test]
    fn the_store_keeps_only_the_top_processes_by_cpu_and_by_memory() {
        let dir = tempfile::tempdir().unwrap();
        let setup = crate::setup::Setup {
            config: crate::config::Config::default(),
            config_path: dir.path().join("none.toml"),
            config_found: false,
            data_dir: dir.path().to_path_buf(),
            tf: crate::time::TimeFmt::from_setting("UTC").unwrap(),
        };
        let st = open(&setup).unwrap();
        let mut sink = StoreSink::start(st.clone(), Duration::from_secs(3600))
            .unwrap()
            .with_top_n(2);
        let sample = ResourceSample {
            host: None,
            system: SystemSample {
                time: Ts::from_secs(1_700_000_000),
                ..SystemSample::default()
            },
            processes: vec![
                proc(1, 90.0, 10),
                proc(2, 50.0, 20),
                proc(3, 1.0, 9_000),
                proc(4, 0.5, 8_000),
                proc(5, 0.1, 30),
                proc(6, 0.0, 40),
            ],
        };
        sink.accept(&[Record::Event(Event::Resources(sample))])
            .unwrap();
        let end = SessionEnd {
            time: Ts::from_secs(1_700_000_001),
            reason: "end of input".into(),
            events: 1,
            alerts: 0,
            lost: 0,
            sink_errors: 0,
        };
        sink.close(&end).unwrap();
        let mut pids: Vec<u32> = st
            .process_samples(TimeRange::ALL, 100)
            .unwrap()
            .iter()
            .map(|r| r.sample.pid)
            .collect();
        pids.sort_unstable();
        assert_eq!(pids, [1, 2, 3, 4]);
        assert_eq!(st.system_samples(TimeRange::ALL, 10).unwrap().len(), 1);
    }
}
