//! Capture files: pcap and pcapng written here are read back packet for packet, and
//! damaged files report where the damage is after delivering everything before it.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use crossbeam_channel::unbounded;
use netsnoop_core::net::parse::{LinkType, parse};
use netsnoop_core::{Event, Protocol, Ts};
use netsnoop_linux::capture::{
    CaptureFile, FileError, FileProgress, PcapNgWriter, PcapWriter, read_file, synth,
};
use std::io::Write;
use std::net::Ipv4Addr;

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

fn frames() -> Vec<Vec<u8>> {
    vec![
        synth::tcp(A, 40000, B, 80, 0x02, 0),
        synth::udp(A, 5353, B, 53, 20),
        synth::ping(A, B, false),
        synth::port_unreachable(B, A, 33000, 161),
        synth::arp(A, B),
        synth::udp6(
            [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            1,
            [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb],
            5353,
            4,
        ),
    ]
}

fn t(i: usize) -> Ts {
    Ts(1_700_000_000_000_000 + i as i64 * 1_500)
}

fn pcap_bytes(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write(t(i), f, f.len() as u32).unwrap();
    }
    w.into_inner()
}

type ReadBack = (
    Vec<(Ts, u16, Vec<u8>)>,
    Option<netsnoop_linux::capture::Damage>,
);

fn read_all(bytes: &[u8]) -> ReadBack {
    let mut f = CaptureFile::new(bytes).expect("header");
    let mut got = Vec::new();
    loop {
        match f.next_packet() {
            Ok(Some(p)) => got.push((p.time, p.iface, p.data.to_vec())),
            Ok(None) => return (got, None),
            Err(d) => return (got, Some(d)),
        }
    }
}

#[test]
fn a_pcap_file_reads_back_every_frame_with_its_time() {
    let fr = frames();
    let (got, damage) = read_all(&pcap_bytes(&fr));
    assert_eq!(damage, None);
    assert_eq!(got.len(), fr.len());
    for (i, (time, iface, data)) in got.iter().enumerate() {
        assert_eq!((*time, *iface), (t(i), 0));
        assert_eq!(data, &fr[i]);
    }
    let protos: Vec<Protocol> = got
        .iter()
        .map(|(tm, _, d)| parse(LinkType::Ethernet, d, d.len() as u32, *tm, 0).protocol)
        .collect();
    use Protocol::*;
    assert_eq!(protos, vec![Tcp, Udp, Icmp, Icmp, Arp, Udp]);
}

#[test]
fn a_pcapng_file_with_two_interfaces_and_nanosecond_stamps_reads_back() {
    let fr = frames();
    let mut w = PcapNgWriter::new(Vec::new(), &[LinkType::Ethernet, LinkType::Ethernet]).unwrap();
    for (i, f) in fr.iter().enumerate() {
        w.write((i % 2) as u32, t(i), f, f.len() as u32).unwrap();
    }
    let (got, damage) = read_all(&w.into_inner());
    assert_eq!(damage, None);
    assert_eq!(got.len(), fr.len());
    for (i, (time, iface, data)) in got.iter().enumerate() {
        assert_eq!((*time, *iface as usize), (t(i), i % 2), "packet {i}");
        assert_eq!(data, &fr[i]);
    }
}

#[test]
fn a_truncated_pcap_reports_the_cut_record_and_keeps_the_ones_before() {
    let fr = frames();
    let bytes = pcap_bytes(&fr);
    let third_record = 24 + (16 + fr[0].len()) + (16 + fr[1].len());
    let cut = &bytes[..third_record + 16 + 5];
    let (got, damage) = read_all(cut);
    assert_eq!(got.len(), 2);
    let d = damage.expect("damage reported");
    assert_eq!(d.offset, third_record as u64);
    assert!(d.reason.contains("truncated"), "{}", d.reason);
}

#[test]
fn a_record_claiming_more_than_a_capture_holds_is_damage_even_under_a_huge_snaplen() {
    // Found by fuzzing (pcap_reader): the header's snaplen let one record claim 300 MB,
    // allocated in full before the read found the file ends.
    let fr = frames();
    let mut bytes = pcap_bytes(&fr[..1]);
    bytes[16..20].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let second = bytes.len();
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&300_000_000u32.to_le_bytes());
    bytes.extend_from_slice(&60u32.to_le_bytes());
    let (got, damage) = read_all(&bytes);
    assert_eq!(got.len(), 1);
    let d = damage.expect("damage");
    assert_eq!(d.offset, second as u64);
    assert!(d.reason.contains("corrupt record header"), "{}", d.reason);
}

#[test]
fn garbage_in_the_middle_of_a_pcap_is_reported_at_its_offset() {
    let fr = frames();
    let mut bytes = pcap_bytes(&fr);
    let fourth = 24 + fr[..3].iter().map(|f| 16 + f.len()).sum::<usize>();
    for b in &mut bytes[fourth..fourth + 40] {
        *b = 0xA5;
    }
    let (got, damage) = read_all(&bytes);
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].2, fr[2]);
    let d = damage.expect("damage");
    assert_eq!(d.offset, fourth as u64);
    assert!(d.reason.contains("corrupt"), "{}", d.reason);
}

#[test]
fn damaged_pcapng_blocks_are_reported_at_their_offset() {
    let fr = frames();
    let mut w = PcapNgWriter::new(Vec::new(), &[LinkType::Ethernet]).unwrap();
    for (i, f) in fr.iter().enumerate() {
        w.write(0, t(i), f, f.len() as u32).unwrap();
    }
    let bytes = w.into_inner();
    // Find the start of the third enhanced packet block by walking block lengths.
    let mut at = 0usize;
    let mut epb = Vec::new();
    while at < bytes.len() {
        let kind = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let total = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if kind == 6 {
            epb.push(at);
        }
        at += total;
    }
    let (got, damage) = read_all(&bytes[..epb[2] + 20]);
    assert_eq!(
        (got.len(), damage.map(|d| d.offset)),
        (2, Some(epb[2] as u64))
    );
    let mut garbled = bytes.clone();
    garbled[epb[3] + 4..epb[3] + 8].copy_from_slice(&[0xff, 0xff, 0xff, 0x7f]);
    let (got, damage) = read_all(&garbled);
    let damage = damage.expect("damage reported");
    assert_eq!((got.len(), damage.offset), (3, epb[3] as u64));
    // A packet block too long for any packet names the packet's length, not a "block".
    assert!(
        damage.reason.contains("packet block claims") && damage.reason.contains("captured length"),
        "{}",
        damage.reason
    );
}

#[test]
fn a_file_that_is_not_a_capture_is_refused_with_what_it_starts_with() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, b"hello, this is text").unwrap();
    let err = CaptureFile::open(&path).err().expect("refused");
    assert!(matches!(err, FileError::NotPcap { .. }), "{err}");
    assert!(
        err.to_string().contains("not a pcap or pcapng file"),
        "{err}"
    );
}

#[test]
fn read_file_sends_parsed_batches_and_reports_damage_with_the_count_before_it() {
    let fr = frames();
    let mut bytes = pcap_bytes(&fr);
    bytes.truncate(bytes.len() - 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pcap");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&bytes)
        .unwrap();
    let (tx, rx) = unbounded();
    let progress = FileProgress::default();
    let outcome = read_file(&path, 4, &tx, &progress).unwrap();
    drop(tx);
    let events: Vec<Event> = rx.iter().flatten().collect();
    assert_eq!(outcome.packets, fr.len() as u64 - 1);
    assert_eq!(events.len(), fr.len() - 1);
    assert!(outcome.damage.is_some());
    let Event::Packet(first) = &events[0] else {
        panic!("packet")
    };
    assert_eq!((first.protocol, first.dst_port), (Protocol::Tcp, 80));
}
