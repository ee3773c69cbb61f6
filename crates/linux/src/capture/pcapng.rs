//! pcapng blocks: section headers, interface descriptions (link type, timestamp
//! resolution) and the three packet block kinds; every other block is skipped.

use super::cursor::{Cursor, Damage, RawPacket, u16_at, u32_at};
use netsnoop_core::Ts;
use netsnoop_core::net::parse::LinkType;
use std::io::BufRead;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const OLD_PACKET: u32 = 2;
const SIMPLE_PACKET: u32 = 3;
const ENHANCED_PACKET: u32 = 6;
/// Larger blocks are damage: no packet block needs this much.
const MAX_BLOCK: u32 = 1 << 24;
const OPT_TSRESOL: u16 = 9;

#[derive(Clone, Copy, Debug)]
struct Iface {
    link: LinkType,
    /// Timestamp units per second as (power of 10) or (power of 2).
    resol: Resolution,
}

#[derive(Clone, Copy, Debug)]
enum Resolution {
    Pow10(u8),
    Pow2(u8),
}

impl Resolution {
    fn to_ts(self, units: u64) -> Ts {
        let micros = match self {
            Resolution::Pow10(6) => u128::from(units),
            Resolution::Pow10(p) if p > 6 => {
                u128::from(units) / 10u128.pow(u32::from(p - 6).min(30))
            }
            Resolution::Pow10(p) => u128::from(units) * 10u128.pow(u32::from(6 - p)),
            Resolution::Pow2(p) => (u128::from(units) * 1_000_000) >> p.min(127),
        };
        Ts(i64::try_from(micros).unwrap_or(i64::MAX))
    }
}

#[derive(Debug, Default)]
pub struct NgState {
    /// Bytes of the first block already read while sniffing the format.
    pub(super) prefix: Vec<u8>,
    big_endian: bool,
    ifaces: Vec<Iface>,
    last_time: Ts,
}

impl NgState {
    pub(super) fn with_prefix(prefix: Vec<u8>) -> NgState {
        NgState {
            prefix,
            ..NgState::default()
        }
    }
}

fn damage(offset: u64, reason: impl Into<String>) -> Damage {
    Damage {
        offset,
        reason: reason.into(),
    }
}

/// The next packet block's record; other blocks are read and applied on the way.
pub(super) fn next<'c, R: BufRead>(
    f: &'c mut Cursor<R>,
    st: &mut NgState,
) -> Result<Option<RawPacket<'c>>, Damage> {
    loop {
        let at = f.offset;
        let prefix = std::mem::take(&mut st.prefix);
        f.buf.clear();
        f.buf.extend_from_slice(&prefix);
        if f.buf.len() < 12 {
            let need = 12 - f.buf.len();
            let complete = f.fill(need).map_err(|e| damage(at, e.to_string()))?;
            if !complete {
                if f.buf.is_empty() {
                    return Ok(None);
                }
                return Err(damage(
                    at,
                    format!("truncated: block header cut after {} bytes", f.buf.len()),
                ));
            }
        }
        let raw_type = u32::from_le_bytes(f.buf[0..4].try_into().expect("4 bytes"));
        if raw_type == SHB {
            let bom = u32::from_le_bytes(f.buf[8..12].try_into().expect("4 bytes"));
            st.big_endian = match bom {
                0x1A2B_3C4D => false,
                0x4D3C_2B1A => true,
                _ => return Err(damage(at, "section header has no valid byte-order magic")),
            };
        }
        let be = st.big_endian;
        let word = |b: &[u8], i: usize| u32_at(b, i, be);
        let half = |b: &[u8], i: usize| u16_at(b, i, be);
        let block_type = word(&f.buf, 0);
        let total = word(&f.buf, 4);
        if total > MAX_BLOCK && matches!(block_type, ENHANCED_PACKET | OLD_PACKET) {
            return Err(damage(
                at,
                format!(
                    "packet block claims {total} bytes, more than any packet needs (at most {MAX_BLOCK}): its captured length or block length is corrupt"
                ),
            ));
        }
        if total < 12 || total % 4 != 0 || total > MAX_BLOCK {
            return Err(damage(
                at,
                format!("block length {total} is impossible: corrupt block header"),
            ));
        }
        let have = f.buf.len();
        if (total as usize) < have || (block_type == SHB && total < 28) {
            return Err(damage(
                at,
                format!("block length {total} is too short for its block"),
            ));
        }
        let complete = f
            .fill(total as usize - have)
            .map_err(|e| damage(at, e.to_string()))?;
        if !complete {
            return Err(damage(
                at,
                format!(
                    "truncated: block needs {total} bytes, file ends after {}",
                    f.buf.len()
                ),
            ));
        }
        let total = total as usize;
        if word(&f.buf, total - 4) as usize != total {
            return Err(damage(
                at,
                "block's trailing length does not match its header",
            ));
        }
        f.offset = at + total as u64;
        let body_end = total - 4;
        match block_type {
            SHB => st.ifaces.clear(),
            IDB => {
                if total < 20 {
                    return Err(damage(at, "interface description block too short"));
                }
                let link = LinkType::from_dlt(u32::from(half(&f.buf, 8)));
                let resol = tsresol(&f.buf[16..body_end], half);
                st.ifaces.push(Iface { link, resol });
            }
            ENHANCED_PACKET | OLD_PACKET => {
                if total < 32 {
                    return Err(damage(at, "packet block too short"));
                }
                let iface = if block_type == OLD_PACKET {
                    u32::from(half(&f.buf, 8))
                } else {
                    word(&f.buf, 8)
                };
                let units = (u64::from(word(&f.buf, 12)) << 32) | u64::from(word(&f.buf, 16));
                let (cap, orig) = (word(&f.buf, 20) as usize, word(&f.buf, 24));
                if 28 + cap > body_end {
                    return Err(damage(
                        at,
                        format!("packet claims {cap} bytes, block holds {}", body_end - 28),
                    ));
                }
                let Some(desc) = st.ifaces.get(iface as usize).copied() else {
                    let n = st.ifaces.len();
                    return Err(damage(
                        at,
                        format!("packet refers to interface {iface}, only {n} described"),
                    ));
                };
                let time = desc.resol.to_ts(units);
                st.last_time = time;
                return Ok(Some(RawPacket {
                    time,
                    link: desc.link,
                    iface: u16::try_from(iface).unwrap_or(u16::MAX),
                    wire_len: orig.max(cap as u32),
                    data: &f.buf[28..28 + cap],
                }));
            }
            SIMPLE_PACKET => {
                let orig = word(&f.buf, 8);
                let cap = (orig as usize).min(body_end.saturating_sub(12));
                let Some(desc) = st.ifaces.first().copied() else {
                    return Err(damage(at, "simple packet block before any interface"));
                };
                let time = st.last_time;
                return Ok(Some(RawPacket {
                    time,
                    link: desc.link,
                    iface: 0,
                    wire_len: orig,
                    data: &f.buf[12..12 + cap],
                }));
            }
            _ => {}
        }
    }
}

/// Finds `if_tsresol` among an interface block's options; microseconds by default.
fn tsresol(mut opts: &[u8], half: impl Fn(&[u8], usize) -> u16) -> Resolution {
    while opts.len() >= 4 {
        let (code, len) = (half(opts, 0), half(opts, 2) as usize);
        let padded = 4 + len.div_ceil(4) * 4;
        if code == 0 || opts.len() < 4 + len {
            break;
        }
        if code == OPT_TSRESOL && len >= 1 {
            let v = opts[4];
            return if v & 0x80 != 0 {
                Resolution::Pow2(v & 0x7f)
            } else {
                Resolution::Pow10(v)
            };
        }
        opts = opts.get(padded..).unwrap_or(&[]);
    }
    Resolution::Pow10(6)
}
