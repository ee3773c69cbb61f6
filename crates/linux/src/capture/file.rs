//! Reading capture files (classic pcap and pcapng) ourselves, record by record.
//!
//! libpcap's reader stops at the first bad record and cannot say where it was; this one
//! reports the byte offset of the damage and has delivered everything before it. It is
//! also faster (see BENCHMARKS.md): a pcap record that lies whole in the read buffer is
//! handed out from there, without a copy.

use super::cursor::{Cursor, Damage, RawPacket, read_full, u32_at};
use super::pcapng::NgState;
use netsnoop_core::Ts;
use netsnoop_core::net::parse::LinkType;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

/// Records larger than this are damage, whatever the header says (libpcap's own limit).
pub(super) const MAX_RECORD: u32 = 262_144;
const READ_BUFFER: usize = 1 << 20;

/// Why a capture file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}")]
    Io { path: String, source: io::Error },
    #[error(
        "{path} is not a pcap or pcapng file (starts with {magic:02x?}); give a capture \
         written by tcpdump, Wireshark or netsnoop"
    )]
    NotPcap { path: String, magic: Vec<u8> },
    #[error("{path}: {damage}")]
    Damaged { path: String, damage: Damage },
}

/// What the pcap file header declared.
#[derive(Clone, Copy)]
struct PcapHeader {
    swapped: bool,
    nanos: bool,
    link: LinkType,
    snaplen: u32,
}

enum Format {
    Pcap(PcapHeader),
    PcapNg(NgState),
}

/// A capture file reader over any byte source.
pub struct CaptureFile<R: BufRead> {
    cursor: Cursor<R>,
    format: Format,
}

impl CaptureFile<BufReader<File>> {
    pub fn open(path: &Path) -> Result<Self, FileError> {
        let shown = path.display().to_string();
        let file = File::open(path).map_err(|source| FileError::Io {
            path: shown.clone(),
            source,
        })?;
        CaptureFile::new(BufReader::with_capacity(READ_BUFFER, file)).map_err(|e| e.at(&shown))
    }
}

/// A header problem before a path is attached.
#[derive(Debug)]
pub enum OpenError {
    Io(io::Error),
    NotPcap(Vec<u8>),
    Damaged(Damage),
}

impl OpenError {
    fn at(self, path: &str) -> FileError {
        let path = path.to_string();
        match self {
            OpenError::Io(source) => FileError::Io { path, source },
            OpenError::NotPcap(magic) => FileError::NotPcap { path, magic },
            OpenError::Damaged(damage) => FileError::Damaged { path, damage },
        }
    }
}

impl<R: BufRead> CaptureFile<R> {
    pub fn new(mut src: R) -> Result<Self, OpenError> {
        let mut head = [0u8; 24];
        let got = read_full(&mut src, &mut head).map_err(OpenError::Io)?;
        let magic4 = [head[0], head[1], head[2], head[3]];
        if got >= 12 && magic4 == [0x0a, 0x0d, 0x0d, 0x0a] {
            let state = NgState::with_prefix(head[..got].to_vec());
            return Ok(CaptureFile {
                cursor: Cursor::new(src, 0),
                format: Format::PcapNg(state),
            });
        }
        let (swapped, nanos) = match u32::from_le_bytes(magic4) {
            0xa1b2_c3d4 => (false, false),
            0xa1b2_3c4d => (false, true),
            0xd4c3_b2a1 => (true, false),
            0x4d3c_b2a1 => (true, true),
            _ => return Err(OpenError::NotPcap(head[..got.min(8)].to_vec())),
        };
        if got < 24 {
            return Err(OpenError::Damaged(Damage {
                offset: 0,
                reason: format!("file header needs 24 bytes, file has {got}"),
            }));
        }
        let word = |at: usize| u32_at(&head, at, swapped);
        Ok(CaptureFile {
            cursor: Cursor::new(src, 24),
            format: Format::Pcap(PcapHeader {
                swapped,
                nanos,
                snaplen: word(16),
                // The top bits may carry FCS information; the link type is the low 16.
                link: LinkType::from_dlt(word(20) & 0xffff),
            }),
        })
    }

    /// Byte offset of the next record (for progress and damage reports).
    pub fn offset(&self) -> u64 {
        self.cursor.offset
    }

    /// The next record, `None` at a clean end of file, or where the file is damaged.
    pub fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, Damage> {
        match &mut self.format {
            Format::Pcap(h) => next_pcap(&mut self.cursor, *h),
            Format::PcapNg(st) => super::pcapng::next(&mut self.cursor, st),
        }
    }
}

/// The next pcap record.
fn next_pcap<R: BufRead>(
    c: &mut Cursor<R>,
    h: PcapHeader,
) -> Result<Option<RawPacket<'_>>, Damage> {
    let PcapHeader {
        swapped,
        nanos,
        link,
        snaplen,
    } = h;
    // The previous record was read in place; the reader moves past it only now.
    c.src.consume(std::mem::take(&mut c.in_place));
    let at = c.offset;
    let damage = |reason: String| Damage { offset: at, reason };
    let header = |head: &[u8; 16]| record_header(head, swapped, nanos, snaplen);
    // Most records lie whole in the reader's buffer: use them there, without a copy.
    let buffered = c.src.fill_buf().map_err(|e| damage(e.to_string()))?;
    if let Some(head) = buffered.first_chunk::<16>() {
        let (time, incl, orig) = header(head).map_err(damage)?;
        let end = 16 + incl as usize;
        if buffered.len() >= end {
            c.in_place = end;
            c.offset = at + end as u64;
            let data = &c.src.fill_buf().map_err(|e| damage(e.to_string()))?[16..end];
            return Ok(Some(RawPacket {
                time,
                link,
                iface: 0,
                wire_len: orig.max(incl),
                data,
            }));
        }
    }
    let mut head = [0u8; 16];
    let got = read_full(&mut c.src, &mut head).map_err(|e| damage(e.to_string()))?;
    if got == 0 {
        return Ok(None);
    }
    if got < 16 {
        return Err(damage(format!(
            "truncated: record header needs 16 bytes, file ends after {got}"
        )));
    }
    let (time, incl, orig) = header(&head).map_err(damage)?;
    c.buf.clear();
    let complete = c.fill(incl as usize).map_err(|e| damage(e.to_string()))?;
    if !complete {
        return Err(damage(format!(
            "truncated: record needs {incl} bytes, file ends after {}",
            c.buf.len()
        )));
    }
    c.offset = at + 16 + u64::from(incl);
    Ok(Some(RawPacket {
        time,
        link,
        iface: 0,
        wire_len: orig.max(incl),
        data: &c.buf,
    }))
}

/// A pcap record header: time, captured and original length, checked for sense.
fn record_header(
    head: &[u8; 16],
    swapped: bool,
    nanos: bool,
    snaplen: u32,
) -> Result<(Ts, u32, u32), String> {
    let word = |at: usize| u32_at(head, at, swapped);
    let (sec, frac, incl, orig) = (word(0), word(4), word(8), word(12));
    let frac_limit = if nanos { 1_000_000_000 } else { 1_000_000 };
    // The header's snaplen is the file's word too: trusting a huge one let a single record
    // claim gigabytes, all allocated before the read found the file shorter.
    if incl > MAX_RECORD {
        return Err(format!(
            "record claims {incl} captured bytes, more than the {MAX_RECORD} a capture can hold \
             (snaplen {snaplen}): corrupt record header"
        ));
    }
    if frac >= frac_limit {
        return Err(format!(
            "record timestamp fraction {frac} is out of range: corrupt record header"
        ));
    }
    let micros = if nanos {
        i64::from(frac) / 1000
    } else {
        i64::from(frac)
    };
    Ok((Ts(i64::from(sec) * 1_000_000 + micros), incl, orig))
}
