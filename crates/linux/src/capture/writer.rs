//! Writing capture files: classic pcap (microseconds) and a minimal pcapng, for tests,
//! fixtures and the benchmark's synthetic traffic.

use netsnoop_core::Ts;
use netsnoop_core::net::parse::LinkType;
use std::io::{self, Write};

/// Classic little-endian pcap with microsecond timestamps.
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut out: W, link: LinkType, snaplen: u32) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&snaplen.to_le_bytes());
        h.extend_from_slice(&link.dlt().to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter { out })
    }

    /// Writes one record; `wire_len` may exceed `data.len()` (a snaplen cut).
    pub fn write(&mut self, time: Ts, data: &[u8], wire_len: u32) -> io::Result<()> {
        let us = time.micros();
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&(us.div_euclid(1_000_000) as u32).to_le_bytes());
        h[4..8].copy_from_slice(&(us.rem_euclid(1_000_000) as u32).to_le_bytes());
        h[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        h[12..16].copy_from_slice(&wire_len.max(data.len() as u32).to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(data)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// pcapng with one section, the given interfaces (nanosecond resolution on the second
/// and later ones, to exercise `if_tsresol`) and enhanced packet blocks.
pub struct PcapNgWriter<W: Write> {
    out: W,
    nanos: Vec<bool>,
}

fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    let mut b = Vec::with_capacity(total as usize);
    b.extend_from_slice(&kind.to_le_bytes());
    b.extend_from_slice(&total.to_le_bytes());
    b.extend_from_slice(body);
    b.resize(8 + padded, 0);
    b.extend_from_slice(&total.to_le_bytes());
    b
}

impl<W: Write> PcapNgWriter<W> {
    pub fn new(mut out: W, links: &[LinkType]) -> io::Result<Self> {
        let mut shb = Vec::new();
        shb.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        out.write_all(&block(0x0A0D_0D0A, &shb))?;
        // A comment block in between, which readers must skip.
        out.write_all(&block(0x0000_0BAD, b"custom"))?;
        let mut nanos = Vec::new();
        for (i, link) in links.iter().enumerate() {
            let mut idb = Vec::new();
            idb.extend_from_slice(&(link.dlt() as u16).to_le_bytes());
            idb.extend_from_slice(&0u16.to_le_bytes());
            idb.extend_from_slice(&65535u32.to_le_bytes());
            if i > 0 {
                idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0]); // if_tsresol = 10^-9
                idb.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
            }
            out.write_all(&block(1, &idb))?;
            nanos.push(i > 0);
        }
        Ok(PcapNgWriter { out, nanos })
    }

    pub fn write(&mut self, iface: u32, time: Ts, data: &[u8], wire_len: u32) -> io::Result<()> {
        let nanos = self.nanos.get(iface as usize).copied().unwrap_or(false);
        let units = if nanos {
            time.micros() as u64 * 1000
        } else {
            time.micros() as u64
        };
        let mut epb = Vec::with_capacity(20 + data.len());
        epb.extend_from_slice(&iface.to_le_bytes());
        epb.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(units as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&wire_len.max(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(data);
        self.out.write_all(&block(6, &epb))
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}
