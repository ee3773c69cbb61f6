//! Packet capture: live on interfaces with libpcap, and from pcap/pcapng files with our
//! own reader; both produce batches of `Event::Packet` parsed by netsnoop-core.

mod cursor;
mod drops;
mod error;
mod file;
mod filter;
mod live;
mod pcapng;
mod source;
pub mod synth;
mod wait;
mod writer;

pub use cursor::{Damage, RawPacket};
pub use error::CaptureError;
pub use file::{CaptureFile, FileError, OpenError};
pub use filter::effective_filter;
pub use live::{CaptureCounters, CaptureStats, InterfaceCapture, LiveCapture};
pub use source::{FileOutcome, FileProgress, read_file};
pub use writer::{PcapNgWriter, PcapWriter};
