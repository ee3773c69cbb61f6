//! The analysis run: the same network stages a live run uses (packet timestamps as
//! time), split over two threads, and the summary folded from their records.

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

/// Packets the reader parsed, and the records its half of the stages made of them.
#[derive(Default)]
struct Batch {
    packets: Vec<PacketMeta>,
    records: Vec<Record>,
}

/// What the reader thread hands back at the end: its half of the stages, finished.
struct ReaderEnd {
    damage: Option<Damage>,
    stages: NetworkStages,
    records: Vec<Record>,
    first: Option<Ts>,
    last: Option<Ts>,
}

/// The work is split so both cores stay busy: the reader thread reads and parses each
/// packet and runs the detection half of the stages on it while it is hot; this thread
/// runs the traffic half (flow table, rollups) and folds every record into the summary.
/// The summary does not depend on how the two halves' records interleave, so the result
/// is the same as with one thread.
pub fn run(path: &Path, cfg: &NetworkConfig, progress: &Progress) -> anyhow::Result<Analysis> {
    let started = Instant::now();
    let mut file = CaptureFile::open(path)?;
    let (mut traffic, mut detection) = NetworkStages::split(cfg);
    let (full_tx, full_rx) = bounded::<Batch>(IN_FLIGHT);
    let (empty_tx, empty_rx) = bounded::<Batch>(IN_FLIGHT + 2);
    for _ in 0..IN_FLIGHT {
        let _ = empty_tx.send(Batch::default());
    }
    let reader_progress = progress.clone();
    let reader = std::thread::Builder::new()
        .name("analyze-reader".into())
        .spawn(move || -> ReaderEnd {
            let (mut first, mut last) = (None::<Ts>, None::<Ts>);
            let mut damage = None;
            while let Ok(mut batch) = empty_rx.recv() {
                // Packets are parsed in place into the recycled slots: no copy per packet.
                batch.packets.resize_with(BATCH, PacketMeta::default);
                let mut filled = 0;
                let mut end = false;
                while filled < BATCH {
                    match file.next_packet() {
                        Ok(Some(raw)) => {
                            let meta = &mut batch.packets[filled];
                            meta.time = raw.time;
                            meta.iface = raw.iface;
                            meta.wire_len = raw.wire_len;
                            parse_into(raw.link, raw.data, meta);
                            detection.packet(meta, &mut batch.records);
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
                batch.packets.truncate(filled);
                reader_progress.store(file.offset(), Ordering::Relaxed);
                // Captures are not always in time order (several interfaces, a merge,
                // a clock step), so the range is the batch's extremes, not its ends.
                for p in &batch.packets {
                    first = Some(first.map_or(p.time, |f| f.min(p.time)));
                    last = Some(last.map_or(p.time, |l| l.max(p.time)));
                }
                let sent = full_tx.send(batch).is_ok();
                if !sent || end || damage.is_some() {
                    break;
                }
            }
            let mut records = Vec::new();
            detection.finish_into(last.unwrap_or_default(), &mut records);
            ReaderEnd {
                damage,
                stages: detection,
                records,
                first,
                last,
            }
        })?;

    let mut summary = SummaryBuilder::new();
    let mut records: Vec<Record> = Vec::new();
    let mut packets = 0u64;
    for mut batch in full_rx.iter() {
        for m in &batch.packets {
            traffic.packet(m, &mut records);
        }
        packets += batch.packets.len() as u64;
        for r in records.drain(..).chain(batch.records.drain(..)) {
            summary.add(&r);
        }
        let _ = empty_tx.send(batch);
    }
    let end = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the capture reader thread panicked"))?;
    traffic.finish_into(end.last.unwrap_or_default(), &mut records);
    for r in records.iter().chain(&end.records) {
        summary.add(r);
    }
    Ok(Analysis {
        summary: summary.build(),
        packets,
        first_packet: end.first,
        last_packet: end.last,
        damage: end.damage,
        stats: traffic.joint_stats(&end.stages),
        elapsed: started.elapsed(),
    })
}
