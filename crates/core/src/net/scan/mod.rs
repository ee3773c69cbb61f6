//! Port-scan and sweep detection, judged on failed or unanswered first contacts.
//!
//! # The rule
//!
//! NetWatch called any source sending more than 50 packets in 10 s a port scanner, so
//! every busy host was one and a slow scan never was. Scanners differ from busy hosts in
//! one way that is cheap to see: most of their first contacts fail. This detector
//! follows each *first contact* (a probe) to its outcome and counts only the failures:
//!
//! | probe | success | failure |
//! |---|---|---|
//! | TCP SYN | SYN-ACK | RST from the target, ICMP unreachable, no answer within `probe_timeout` |
//! | TCP FIN / NULL / Xmas (no ACK, no SYN: never legitimate) | — | RST, or no answer (open\|filtered) |
//! | TCP ACK (nmap -sA and -sW: the same probe) | — | a bare RST back (seen as the RST without ACK no connection explains) |
//! | TCP FIN\|ACK (Maimon, -sM) | — | a bare RST back right after a FIN\|ACK the other way |
//! | UDP datagram | any UDP reply | ICMP port unreachable, no answer within `probe_timeout` |
//! | ICMP echo request | echo reply | no answer within `probe_timeout` |
//!
//! Per source, the distinct failed contacts `(target, port, protocol)` of the last
//! `window` (5 min, Zeek's) are kept. A source is a scanner when both hold:
//!
//! 1. **Threshold Random Walk** (Jung, Paxson, Berger, Balakrishnan 2004): every
//!    resolved first contact moves a log-likelihood ratio, by ln((1-θ1)/(1-θ0)) on a
//!    failure and ln(θ1/θ0) on a success, with θ0 = 0.8 (a benign host's success rate)
//!    and θ1 = 0.2 (a scanner's). The walk is clamped between ln η0 and ln η1, with
//!    η1 = P_D/P_F and η0 = (1-P_D)/(1-P_F) for P_D = 0.99, P_F = 0.01; being at the
//!    upper bound means "scanner". At the defaults 4 failures in a row get there, and a
//!    host whose contacts mostly succeed (a web client, a load test) never does.
//! 2. **Breadth** (Zeek's thresholds): at least `vertical_ports` (15) distinct failed
//!    ports on one host → `net.portscan`; at least `horizontal_hosts` (25) distinct
//!    failed hosts on one port → `net.sweep`; at least `ping_hosts` (25) hosts leaving an
//!    echo request unanswered → `net.pingsweep`.
//!
//! Repeats to the same `(target, port)` count once, so a load test against one port
//! whose server starts refusing never counts as more than one failure. Multicast and
//! broadcast destinations are ignored (nobody answers them). A slow scan is caught as
//! long as its probes fall inside `window`: one every 5 s reaches 15 ports in 75 s.
//!
//! **Scan type.** From the failing probes: UDP; FIN, NULL or Xmas by their flags; ACK by
//! the bare RSTs (named "ACK or Window": nmap's -sA and -sW probes are identical on the
//! wire, a bare ACK with window 1024); Maimon by bare RSTs answering FIN|ACK; for SYN probes, `syn` (half-open) when the scanner answers a SYN-ACK
//! with a bare RST or reuses its source port across probes (raw-socket scanners do),
//! `connect` when it completes handshakes or uses a fresh ephemeral port per probe.
//!
//! **Alerts.** One episode per source and kind ([`crate::Episodes`]), opened when the
//! rule first holds, re-emitted with fresh counts at most every `update_interval` while
//! the scan goes on, and resolved `resolve_after` after its last failed probe. Details
//! carry scanner, targets, number of ports and hosts, sample ports, scan type and counts.

mod detector;
pub mod discovery;
pub mod flood;
mod probes;
mod report;
mod sources;

pub use detector::{ScanDetector, ScanStats};

/// The three alert kinds, one episode of each per source at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum ScanKind {
    PortScan,
    Sweep,
    PingSweep,
}

impl ScanKind {
    pub(super) fn kind(self) -> &'static str {
        match self {
            ScanKind::PortScan => "net.portscan",
            ScanKind::Sweep => "net.sweep",
            ScanKind::PingSweep => "net.pingsweep",
        }
    }
}

#[cfg(test)]
mod tests;
