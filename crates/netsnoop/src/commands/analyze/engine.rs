//! The analysis run: one thread reads and parses the capture file, this one feeds every
//! packet to the same network stages a live run uses (packet timestamps as time) and
//! folds their records into a summary.

use crossbeam_channel::bounded;
use netsnoop_core::net::parse::parse_into;
use netsnoop_core::net::summary::{Summary, SummaryBuilder};
use netsnoop_core::net::{NetworkConfig, NetworkStages, NetworkStats};
use netsnoop_core::{PacketMeta, Record, Ts};
use netsnoop_linux::capture::{CaptureFile, Damage};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const BATCH: usize = 4096;
/// Batches in flight between the reader and the stages (and recycled back).
const IN_FLIGHT: usize = 8;

pub struct Analysis {
    pub summary: Summary,
    pub packets: u64,
    pub first_packet: Option<Ts>,
    pub last_packet: Option<Ts>,
    /// Where the file is damaged; the summary covers everything before it.
    pub damage: Option<Damage>,
    pub stats: NetworkStats,
    pub elapsed: Duration,
}

/// Bytes of the file read so far, for the progress bar.
pub type Progress = Arc<AtomicU64>;

pub fn run(path: &Path, cfg: &NetworkConfig, progress: &Progress) -> anyhow::Result<Analysis> {
    let started = Instant::now();
    let mut file = CaptureFile::open(path)?;
    let (full_tx, full_rx) = bounded::<Vec<PacketMeta>>(IN_FLIGHT);
    let (empty_tx, empty_rx) = bounded::<Vec<PacketMeta>>(IN_FLIGHT + 2);
    for _ in 0..IN_FLIGHT {
        let _ = empty_tx.send(Vec::with_capacity(BATCH));
    }
    let reader_progress = progress.clone();
    let reader = std::thread::Builder::new()
        .name("analyze-reader".into())
        .spawn(move || -> Option<Damage> {
            loop {
                let Ok(mut batch) = empty_rx.recv() else {
                    return None;
                };
                // Packets are parsed in place into the recycled slots: no copy per packet.
                batch.resize_with(BATCH, PacketMeta::default);
                let mut filled = 0;
                let mut damage = None;
                let mut end = false;
                while filled < BATCH {
                    match file.next_packet() {
                        Ok(Some(raw)) => {
                            let meta = &mut batch[filled];
                            meta.time = raw.time;
                            meta.iface = raw.iface;
                            meta.wire_len = raw.wire_len;
                            parse_into(raw.link, raw.data, meta);
                            filled += 1;
                        }
                        Ok(None) => {
                            end = true;
                            break;
                        }
                        Err(d) => {
                            damage = Some(d);
                            break;
                        }
                    }
                }
                batch.truncate(filled);
                reader_progress.store(file.offset(), Ordering::Relaxed);
                if !batch.is_empty() && full_tx.send(batch).is_err() {
                    return None;
                }
                if end || damage.is_some() {
                    return damage;
                }
            }
        })?;

    let mut stages = NetworkStages::new(cfg);
    let mut summary = SummaryBuilder::new();
    let mut records: Vec<Record> = Vec::new();
    let (mut packets, mut first, mut last) = (0u64, None::<Ts>, None::<Ts>);
    for batch in full_rx.iter() {
        for m in &batch {
            stages.packet(m, &mut records);
        }
        packets += batch.len() as u64;
        if let (Some(a), Some(b)) = (batch.first(), batch.last()) {
            first = Some(first.map_or(a.time, |f| f.min(a.time)));
            last = Some(last.map_or(b.time, |l| l.max(b.time)));
        }
        for r in records.drain(..) {
            summary.add(&r);
        }
        let _ = empty_tx.send(batch);
    }
    let damage = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the capture reader thread panicked"))?;
    stages.finish_into(last.unwrap_or_default(), &mut records);
    for r in records.drain(..) {
        summary.add(&r);
    }
    Ok(Analysis {
        summary: summary.build(),
        packets,
        first_packet: first,
        last_packet: last,
        damage,
        stats: stages.stats(),
        elapsed: started.elapsed(),
    })
}
