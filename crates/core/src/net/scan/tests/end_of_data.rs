//! The end of the data (end of a file, shutdown) judges every probe still pending.

use super::*;

/// Feeds packets and ends the data at the last packet, as `analyze` does at the end of a
/// file: no tick after it, so no probe timeout runs out on its own.
fn run_to_end(pkts: &[PacketMeta]) -> Vec<Alert> {
    let mut d = ScanDetector::new(ScanConfig::default());
    let mut out = Vec::new();
    for p in pkts {
        out.extend(d.ingest(&Event::Packet(p.clone()), p.time));
    }
    out.extend(d.finish(pkts.last().expect("packets").time));
    out.into_iter()
        .filter_map(|r| match r {
            Record::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

const WELL_KNOWN: [u16; 29] = [
    21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 465, 587, 993, 995, 1433, 1723,
    3306, 3389, 5432, 5900, 6379, 8000, 8080, 8443, 9000, 9200,
];

#[test]
fn a_one_way_capture_of_29_syns_in_3_seconds_is_a_portscan_at_the_end_of_the_file() {
    let pkts: Vec<_> = WELL_KNOWN
        .iter()
        .enumerate()
        .map(|(i, &p)| tcp(t(i as f64 * 0.1), SCANNER, 61000, TARGET, p, SYN))
        .collect();
    let alerts = run_to_end(&pkts);
    let scans = of_kind(&alerts, "net.portscan");
    assert!(!scans.is_empty(), "judged at the end: {alerts:?}");
    let last = scans.last().unwrap();
    assert_eq!(detail(last, "ports"), 29);
    assert_eq!(detail(last, "scan_type"), "syn");
}

#[test]
fn a_one_second_syn_ping_sweep_of_256_hosts_is_a_sweep_at_the_end_of_the_file() {
    let pkts: Vec<_> = (0..256u32)
        .map(|h| {
            let dst = format!("10.5.{}.{}", h / 200, 1 + h % 200);
            tcp(t(f64::from(h) / 256.0), SCANNER, 61001, &dst, 80, SYN)
        })
        .collect();
    let alerts = run_to_end(&pkts);
    let sweeps = of_kind(&alerts, "net.sweep");
    assert!(!sweeps.is_empty(), "judged at the end: {alerts:?}");
    assert_eq!(detail(sweeps.last().unwrap(), "hosts"), 256);
}

#[test]
fn a_client_cut_off_mid_handshake_at_the_end_is_not_a_scanner() {
    // Hundreds of answered connections, then the file ends with three SYNs in flight.
    let client = "10.0.0.50";
    let mut pkts = Vec::new();
    for i in 0..200u16 {
        let at = t(f64::from(i) * 0.01);
        let server = format!("10.3.0.{}", 1 + i % 200);
        pkts.push(tcp(at, client, 30000 + i, &server, 443, SYN));
        pkts.push(tcp(at, &server, 443, client, 30000 + i, SYN | ACK));
    }
    for i in 0..3u16 {
        pkts.push(tcp(t(2.5), client, 31000 + i, "10.3.1.1", 443 + i, SYN));
    }
    assert!(run_to_end(&pkts).is_empty());
}

#[test]
fn probes_answered_before_the_end_are_not_judged_again() {
    // 29 SYN-ACKed probes (open ports, a connect scan of a busy server) pending at the end.
    let pkts: Vec<_> = WELL_KNOWN
        .iter()
        .flat_map(|&p| {
            [
                tcp(t(0.5), SCANNER, 40000 + p, TARGET, p, SYN),
                tcp(t(0.5), TARGET, p, SCANNER, 40000 + p, SYN | ACK),
            ]
        })
        .collect();
    assert!(run_to_end(&pkts).is_empty());
}
