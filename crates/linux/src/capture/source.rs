//! Capture files as a source: read, parse and hand batches of packets on, with progress
//! for a progress bar and the damage (if any) at the end.

use super::cursor::Damage;
use super::file::{CaptureFile, FileError};
use crossbeam_channel::Sender;
use netsnoop_core::net::parse::parse_into;
use netsnoop_core::{Event, PacketMeta};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes and packets read so far, updated once per batch.
#[derive(Debug, Default)]
pub struct FileProgress {
    pub bytes: AtomicU64,
    pub packets: AtomicU64,
}

/// How reading a capture file ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileOutcome {
    pub packets: u64,
    pub bytes_read: u64,
    /// Where the file is damaged; everything before it was delivered.
    pub damage: Option<Damage>,
}

/// Reads the whole file into `tx` as batches of `Event::Packet`. Stops early (without
/// error) if the receiver goes away.
pub fn read_file(
    path: &Path,
    batch_size: usize,
    tx: &Sender<Vec<Event>>,
    progress: &FileProgress,
) -> Result<FileOutcome, FileError> {
    let mut file = CaptureFile::open(path)?;
    let batch_size = batch_size.max(1);
    let mut batch = Vec::with_capacity(batch_size);
    let mut packets = 0u64;
    let mut meta = PacketMeta::default();
    let damage = loop {
        match file.next_packet() {
            Ok(Some(raw)) => {
                meta.time = raw.time;
                meta.iface = raw.iface;
                meta.wire_len = raw.wire_len;
                parse_into(raw.link, raw.data, &mut meta);
                batch.push(Event::Packet(meta.clone()));
                packets += 1;
                if batch.len() >= batch_size {
                    progress.bytes.store(file.offset(), Ordering::Relaxed);
                    progress.packets.store(packets, Ordering::Relaxed);
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                    if tx.send(full).is_err() {
                        break None;
                    }
                }
            }
            Ok(None) => break None,
            Err(d) => break Some(d),
        }
    };
    if !batch.is_empty() {
        let _ = tx.send(batch);
    }
    progress.bytes.store(file.offset(), Ordering::Relaxed);
    progress.packets.store(packets, Ordering::Relaxed);
    Ok(FileOutcome {
        packets,
        bytes_read: file.offset(),
        damage,
    })
}
