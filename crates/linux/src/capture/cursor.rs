//! The byte cursor both capture file formats (pcap in `file.rs`, pcapng in `pcapng.rs`)
//! read through, and what they return: a `RawPacket`, or `Damage` with its offset.

use netsnoop_core::Ts;
use netsnoop_core::net::parse::LinkType;
use std::io::{self, BufRead, Read};

/// Where a capture file stops making sense, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("damaged capture file at byte {offset}: {reason}")]
pub struct Damage {
    pub offset: u64,
    pub reason: String,
}

/// One record as read: timestamp, link type, interface and the captured bytes.
#[derive(Debug)]
pub struct RawPacket<'a> {
    pub time: Ts,
    pub link: LinkType,
    pub iface: u16,
    pub wire_len: u32,
    pub data: &'a [u8],
}

/// A byte source with the file offset of the next record and a scratch buffer for
/// records that do not lie whole in the source's own buffer.
pub(super) struct Cursor<R: BufRead> {
    pub(super) src: R,
    /// Bytes of `src`'s buffer the last record was read from in place, consumed at the
    /// next call.
    pub(super) in_place: usize,
    pub(super) offset: u64,
    pub(super) buf: Vec<u8>,
}

impl<R: BufRead> Cursor<R> {
    pub(super) fn new(src: R, offset: u64) -> Cursor<R> {
        Cursor {
            src,
            in_place: 0,
            offset,
            buf: Vec::with_capacity(4096),
        }
    }

    /// Reads exactly `n` more bytes onto `buf`; `Ok(false)` at end of file.
    pub(super) fn fill(&mut self, n: usize) -> Result<bool, io::Error> {
        let start = self.buf.len();
        self.buf.resize(start + n, 0);
        let got = read_full(&mut self.src, &mut self.buf[start..])?;
        self.buf.truncate(start + got);
        Ok(got == n)
    }
}

/// The 4 bytes at `at` as a number, in the byte order the file declared.
#[inline]
pub(super) fn u32_at(bytes: &[u8], at: usize, big_endian: bool) -> u32 {
    let b: [u8; 4] = bytes[at..at + 4].try_into().expect("4 bytes");
    if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

/// Reads until `buf` is full or the source ends; returns the bytes read.
pub(super) fn read_full(src: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match src.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The 2 bytes at `at` as a number, in the byte order the file declared.
#[inline]
pub(super) fn u16_at(bytes: &[u8], at: usize, big_endian: bool) -> u16 {
    let b: [u8; 2] = bytes[at..at + 2].try_into().expect("2 bytes");
    if big_endian {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    }
}
