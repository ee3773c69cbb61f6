//! Which family a reported loss belongs to and with which bounded labels: a source's
//! `Event::Loss` names it and gives a human reason; `/metrics` needs the interface and the
//! place (capture), the exec source and the cause (exec), or the source and cause (others).

/// Where a capture drop happened: before capture, in libpcap's ring, or in our queue.
pub const CAPTURE_PLACES: [&str; 3] = ["kernel", "ring", "queue"];

/// Why exec events were lost, by source: `ring_full` (the eBPF ring buffer), `malformed`
/// (an unreadable eBPF record), `enobufs` (the netlink receive buffer overran), `seq_gap`
/// (the kernel skipped sequence numbers), `enricher_queue_full`, `poll_gap` (processes
/// that came and went between /proc scans), `queue` (the pipeline channel was full).
pub fn exec_causes(source: &str) -> &'static [&'static str] {
    match source {
        "ebpf" => &["ring_full", "malformed", "queue"],
        "netlink" => &["enobufs", "seq_gap", "enricher_queue_full", "queue"],
        _ => &["poll_gap", "queue"],
    }
}

/// The family a loss is counted in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LossArea {
    /// `capture:<interface>`: `netsnoop_capture_dropped_packets_total{interface, place}`.
    Capture(String),
    /// An exec source: `netsnoop_exec_events_lost_total{source, cause}`.
    Exec(&'static str),
    /// Anything else (resource sampler, clock): `netsnoop_lost_events_total{source, cause}`.
    Other(String),
}

/// The family of a loss reported by `source`.
pub fn area(source: &str) -> LossArea {
    if let Some(interface) = source.strip_prefix("capture:") {
        return LossArea::Capture(interface.to_string());
    }
    match exec_source(source) {
        Some(kind) => LossArea::Exec(kind),
        None => LossArea::Other(source.to_string()),
    }
}

/// The exec source kind behind a source name: the enrichers report as `proc_ebpf`,
/// `proc_connector` and `proc_poll` (`proc_seed` at start), the outlet as `exec (KIND)`.
pub fn exec_source(source: &str) -> Option<&'static str> {
    match source {
        "proc_ebpf" | "exec (ebpf)" => Some("ebpf"),
        "proc_connector" | "proc_seed" | "exec (netlink)" => Some("netlink"),
        "proc_poll" | "exec (poll)" => Some("poll"),
        _ => None,
    }
}

/// The bounded cause (or capture place) of a loss, from the reason its source gave.
pub fn cause(reason: &str) -> &'static str {
    let r = reason.to_ascii_lowercase();
    if r.contains("ps_ifdrop") {
        "kernel"
    } else if r.contains("ps_drop") {
        "ring"
    } else if r.starts_with("pipeline channel full") {
        "queue"
    } else if r.contains("ring buffer full") {
        "ring_full"
    } else if r.contains("malformed") {
        "malformed"
    } else if r.contains("enobufs") {
        "enobufs"
    } else if r.contains("sequence numbers") {
        "seq_gap"
    } else if r.contains("enricher queue full") {
        "enricher_queue_full"
    } else if r.contains("between /proc scans") {
        "poll_gap"
    } else if r.contains("ahead of this host's clock") {
        "clock_skew"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_the_sources_give_has_its_own_cause() {
        // The reasons as netsnoop-linux and the pipeline word them.
        let cases = [
            (
                "kernel buffer full (pcap ps_drop); raise network.capture.buffer_mib",
                "ring",
            ),
            (
                "dropped by the interface or driver (pcap ps_ifdrop)",
                "kernel",
            ),
            ("pipeline channel full", "queue"),
            ("pipeline channel full: resource samples dropped", "queue"),
            ("eBPF ring buffer full", "ring_full"),
            ("malformed ring buffer record", "malformed"),
            ("kernel receive buffer overrun (ENOBUFS)", "enobufs"),
            (
                "gap in the per-CPU sequence numbers (events the kernel did not deliver)",
                "seq_gap",
            ),
            ("enricher queue full", "enricher_queue_full"),
            (
                "forks (threads included) that started and ended between /proc scans",
                "poll_gap",
            ),
            (
                "packets stamped more than 5s ahead of this host's clock were dropped: fix the sender's clock (NTP) or raise general.max_clock_skew",
                "clock_skew",
            ),
            ("something new", "other"),
        ];
        for (reason, want) in cases {
            assert_eq!(cause(reason), want, "{reason}");
        }
    }

    #[test]
    fn sources_fall_into_capture_exec_or_other() {
        assert_eq!(area("capture:lo"), LossArea::Capture("lo".into()));
        assert_eq!(area("proc_connector"), LossArea::Exec("netlink"));
        assert_eq!(area("exec (ebpf)"), LossArea::Exec("ebpf"));
        assert_eq!(area("clock"), LossArea::Other("clock".into()));
    }
}
