//! SYN floods: rate and completed share at their edges, spoofed or not, and the busy
//! healthy server that is never one.

use super::*;

/// `rate` new SYNs a second to TARGET:80 for `secs`, every one SYN-ACKed; `completed`
/// of each 10 ACKed by the client; sources from `source(i)`.
fn syns(rate: u32, secs: u32, completed: u32, source: impl Fn(u32) -> String) -> Vec<PacketMeta> {
    let mut v = Vec::new();
    for i in 0..rate * secs {
        let at = t(f64::from(i) / f64::from(rate));
        let (src, sp) = (source(i), 1024 + (i % 60000) as u16);
        v.push(tcp(at, &src, sp, TARGET, 80, SYN));
        v.push(tcp(at, TARGET, 80, &src, sp, SYN | ACK));
        if i % 10 < completed {
            v.push(tcp(at, &src, sp, TARGET, 80, ACK));
        }
    }
    v
}

fn spoofed(i: u32) -> String {
    format!(
        "{}.{}.{}.{}",
        11 + i % 200,
        (i / 200) % 250,
        (i / 50_000) % 250,
        1 + i % 251
    )
}

fn floods(alerts: &[Alert]) -> Vec<&Alert> {
    of_kind(alerts, "net.synflood")
}

#[test]
fn a_spoofed_syn_flood_is_caught_with_its_rate_and_one_off_sources() {
    let alerts = run_with(ScanConfig::default(), &syns(1000, 10, 0, spoofed), 12.0);
    let f = floods(&alerts);
    assert!(
        !f.is_empty(),
        "{:?}",
        alerts.iter().map(|a| &a.kind).collect::<Vec<_>>()
    );
    assert_eq!(f[0].subject.dst_ip, Some(ip(TARGET)));
    assert_eq!(detail(f[0], "port"), 80);
    assert_eq!(detail(f[0], "spoofed_likely"), true);
    let rate = detail(f[0], "syn_per_sec").as_f64().unwrap();
    assert!((900.0..=1100.0).contains(&rate), "{rate}");
    assert!(f.iter().all(|a| a.id == f[0].id), "one episode");
}

#[test]
fn a_busy_healthy_server_completing_its_handshakes_is_not_a_flood() {
    let alerts = run_with(ScanConfig::default(), &syns(2000, 10, 10, spoofed), 12.0);
    assert!(floods(&alerts).is_empty());
}

#[test]
fn a_server_completing_thirty_percent_is_not_a_flood_and_twenty_percent_is() {
    let at = |c| run_with(ScanConfig::default(), &syns(1000, 6, c, spoofed), 8.0);
    assert!(floods(&at(3)).is_empty());
    assert!(!floods(&at(2)).is_empty());
}

#[test]
fn just_below_the_rate_is_not_a_flood_and_just_above_is() {
    let at = |r| run_with(ScanConfig::default(), &syns(r, 6, 0, spoofed), 8.0);
    assert!(floods(&at(190)).is_empty());
    assert!(!floods(&at(210)).is_empty());
}

#[test]
fn a_flood_from_one_host_names_it_and_is_not_called_spoofed() {
    let alerts = run_with(
        ScanConfig::default(),
        &syns(500, 6, 0, |_| SCANNER.into()),
        8.0,
    );
    let f = floods(&alerts);
    assert!(!f.is_empty());
    assert_eq!(detail(f[0], "spoofed_likely"), false);
    assert_eq!(f[0].subject.src_ip, Some(ip(SCANNER)));
}

#[test]
fn a_flood_resolves_after_it_stops() {
    let alerts = run_with(ScanConfig::default(), &syns(1000, 6, 0, spoofed), 200.0);
    let last = *floods(&alerts).last().unwrap();
    assert_eq!(last.state, AlertState::Resolved);
}
