//! Scan types named from the probes as they travel: Maimon apart from ACK/Window.

use super::*;

fn rst_answered(flags: u8) -> Vec<PacketMeta> {
    (0..20)
        .flat_map(|i| {
            let at = t(f64::from(i) * 0.01);
            vec![
                tcp(at, SCANNER, 50001, TARGET, 80 + i, flags),
                tcp(at, TARGET, 80 + i, SCANNER, 50001, RST),
            ]
        })
        .collect()
}

#[test]
fn a_maimon_scan_of_fin_acks_is_named_maimon_not_ack() {
    let alerts = run(&rst_answered(FIN | ACK));
    let last = *of_kind(&alerts, "net.portscan").last().expect("caught");
    assert_eq!(detail(last, "scan_type"), "maimon");
    assert!(last.message.contains("TCP Maimon scan"), "{}", last.message);
    assert_eq!(last.severity, crate::Severity::High);
}

#[test]
fn an_ack_or_window_scan_says_both_since_the_wire_cannot_tell_them_apart() {
    let alerts = run(&rst_answered(ACK));
    let last = *of_kind(&alerts, "net.portscan").last().expect("caught");
    assert_eq!(detail(last, "scan_type"), "ack");
    assert!(
        last.message.contains("TCP ACK or Window scan"),
        "{}",
        last.message
    );
}

#[test]
fn ordinary_closes_with_fin_ack_are_not_a_scan() {
    // Hundreds of connections closed both ways with FIN|ACK, each answered by an ACK.
    let client = "10.0.0.50";
    let mut pkts = Vec::new();
    for i in 0..300u16 {
        let at = t(f64::from(i) * 0.01);
        let sp = 30000 + i;
        pkts.push(tcp(at, client, sp, TARGET, 443, SYN));
        pkts.push(tcp(at, TARGET, 443, client, sp, SYN | ACK));
        pkts.push(tcp(at, client, sp, TARGET, 443, FIN | ACK));
        pkts.push(tcp(at, TARGET, 443, client, sp, FIN | ACK));
        pkts.push(tcp(at, client, sp, TARGET, 443, ACK));
    }
    assert!(run(&pkts).is_empty());
}
