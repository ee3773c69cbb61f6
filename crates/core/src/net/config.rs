//! The `[network]` configuration: capture settings and the tuning of every network stage,
//! with documented defaults. Unknown keys are refused so a typo never silently does nothing.

use crate::Severity;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Everything under `[network]`. Each sub-table is optional; missing keys take defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    pub capture: CaptureConfig,
    pub flows: FlowConfig,
    pub rollups: RollupConfig,
    /// How many packets per second go on to the store's recent-packets table.
    pub packets: SamplerConfig,
    pub scan: ScanConfig,
    pub discovery: DiscoveryConfig,
    pub syn_flood: SynFloodConfig,
    pub brute_force: BruteForceConfig,
    pub arp_spoof: ArpSpoofConfig,
    pub traffic_spike: SpikeConfig,
}

/// `[network.capture]`: live capture with libpcap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaptureConfig {
    /// Capture at all. `--no-capture` turns it off for one run.
    pub enabled: bool,
    /// Interfaces to capture on; `any` is every interface (Linux cooked capture).
    pub interfaces: Vec<String>,
    /// A BPF filter in tcpdump syntax, e.g. `not port 22`. Empty or absent: everything.
    pub filter: Option<String>,
    /// Bytes kept of each packet. Headers are all NetSnoop reads, so the default keeps
    /// Ethernet + VLAN + IPv6 with options + a full TCP header and no payload.
    pub snaplen: u32,
    /// Kernel ring buffer in MiB. A large buffer rides out bursts without kernel drops.
    pub buffer_mib: u32,
    /// Put the interfaces in promiscuous mode (see traffic not addressed to this host).
    pub promiscuous: bool,
    /// Leave NetSnoop's own API/dashboard traffic (its listen port) out of the figures.
    pub exclude_own_traffic: bool,
    /// Packets per batch handed to the pipeline.
    pub batch_size: usize,
    /// A partial batch is sent after this long, so a quiet link is still reported promptly.
    pub batch_timeout_ms: u64,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            enabled: true,
            interfaces: vec!["any".to_string()],
            filter: None,
            snaplen: 160,
            buffer_mib: 32,
            promiscuous: false,
            exclude_own_traffic: true,
            batch_size: 512,
            batch_timeout_ms: 50,
        }
    }
}

/// `[network.flows]`: the bidirectional flow table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlowConfig {
    /// Most flows tracked at once; beyond it the oldest flow is closed as `evicted`
    /// (and counted), so a scan or flood cannot exhaust memory.
    pub max_flows: usize,
    /// An established TCP flow with no packet for this long ends (Zeek's 5 minutes).
    pub tcp_idle_secs: u64,
    /// A TCP flow that never completed its handshake ends sooner: scans leave many.
    pub tcp_attempt_idle_secs: u64,
    pub udp_idle_secs: u64,
    /// ICMP and other IP protocols.
    pub other_idle_secs: u64,
    /// A flow still going after this long is reported (`active`) and counted afresh, so
    /// long transfers show up before they end.
    pub active_timeout_secs: u64,
    /// After FIN from both sides or a RST, late packets are still attributed to the flow
    /// for this long before it is reported.
    pub close_linger_secs: u64,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 262_144,
            tcp_idle_secs: 300,
            tcp_attempt_idle_secs: 30,
            udp_idle_secs: 60,
            other_idle_secs: 30,
            active_timeout_secs: 1800,
            close_linger_secs: 2,
        }
    }
}

/// `[network.rollups]`: per-second traffic counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RollupConfig {
    /// Most distinct sources (and destinations) listed for one second; the rest are summed
    /// into an `other` row so totals stay exact during a sweep or flood.
    pub max_hosts_per_second: usize,
}

impl Default for RollupConfig {
    fn default() -> Self {
        RollupConfig {
            max_hosts_per_second: 4096,
        }
    }
}

/// `[network.packets]`: the rate limit on packets stored individually.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplerConfig {
    /// Packets per second kept for the recent-packets table; above it an even sample is
    /// kept. Counts and statistics always use every packet.
    pub max_per_second: u32,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            max_per_second: 1000,
        }
    }
}

/// `[network.scan]`: port-scan and sweep detection (the rule is in [`crate::net::scan`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanConfig {
    /// Off also turns off `[network.discovery]` and `[network.syn_flood]`: they read the
    /// probe outcomes this detector follows.
    pub enabled: bool,
    /// Failed first contacts are remembered this long. Zeek uses 5 minutes; a slow scan
    /// at one probe every few seconds still reaches the thresholds inside it.
    pub window_secs: u64,
    /// A probe with no answer after this long counts as failed (unanswered).
    pub probe_timeout_secs: u64,
    /// Distinct failed ports on one host that make a vertical scan (`net.portscan`).
    pub vertical_ports: u32,
    /// Distinct hosts failed on one port that make a horizontal sweep (`net.sweep`).
    pub horizontal_hosts: u32,
    /// Distinct hosts that left an echo request unanswered: a ping sweep (`net.pingsweep`).
    pub ping_hosts: u32,
    /// Threshold Random Walk: chance that a benign host's first contact succeeds (θ0).
    pub trw_benign_success: f64,
    /// Chance that a scanner's first contact succeeds (θ1).
    pub trw_scanner_success: f64,
    /// Wanted detection probability (P_D) and false-positive probability (P_F); they set
    /// the walk's thresholds: about 4 failures in a row mark a scanner at the defaults.
    pub trw_detection: f64,
    pub trw_false_positive: f64,
    /// The quick vertical decision: once the walk says "scanner", this many distinct
    /// failed ports on one host make a `net.portscan` (the breadth rule,
    /// `vertical_ports`, stays as the backstop). Counted failures are TCP probes refused
    /// or unanswered and UDP probes refused (ICMP port unreachable): UDP silence alone
    /// is what one-way telemetry (syslog, NetFlow, statsd) looks like, so it waits for
    /// the backstop. At most 16.
    pub trw_vertical_ports: u32,
    /// How long the walk remembers a source's evidence (its last 16 failed contacts)
    /// after they leave `window`, so a scan slower than the window (one probe every
    /// 5 minutes, nmap -T0) still adds up.
    pub trw_memory_secs: u64,
    /// An open scan alert is re-emitted with fresh counts at most this often.
    pub update_interval_secs: u64,
    /// A scan episode with no new failed probe for this long is resolved.
    pub resolve_after_secs: u64,
    /// Most sources tracked at once (oldest evicted, counted).
    pub max_sources: usize,
    /// Most distinct failed contacts remembered per source (oldest dropped, counted).
    pub max_contacts_per_source: usize,
    /// Most probes awaiting an answer (oldest counted as unanswered early).
    pub max_pending_probes: usize,
    /// Sources never reported (e.g. your own vulnerability scanner).
    pub ignore_sources: Vec<IpAddr>,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            enabled: true,
            window_secs: 300,
            probe_timeout_secs: 5,
            vertical_ports: 15,
            horizontal_hosts: 25,
            ping_hosts: 25,
            trw_benign_success: 0.8,
            trw_scanner_success: 0.2,
            trw_detection: 0.99,
            trw_false_positive: 0.01,
            trw_vertical_ports: 5,
            trw_memory_secs: 3600,
            update_interval_secs: 10,
            resolve_after_secs: 120,
            max_sources: 65_536,
            max_contacts_per_source: 8192,
            max_pending_probes: 262_144,
            ignore_sources: Vec::new(),
        }
    }
}

/// `[network.discovery]`: host discovery sweeps and IP protocol scans (the rule is in
/// [`crate::net::scan::discovery`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoveryConfig {
    pub enabled: bool,
    /// Distinct new targets are counted over this long, per source and method.
    pub window_secs: u64,
    /// Distinct new targets of one source by one method (ARP, ICMP echo, TCP SYN or ACK
    /// ping to one port) within the window that make a sweep (`net.discovery`).
    pub targets: u32,
    /// A contact still unanswered after this long counts as unanswered.
    pub answer_timeout_secs: u64,
    /// Share of the window's new targets that must stay unanswered for a sweep from a
    /// source seen for less than `warmup_secs`. A router refreshing its neighbours and a
    /// monitor pinging its hosts are answered; a sweep of a subnet mostly is not.
    pub min_unanswered_share: f64,
    /// After this long watching a source, answered sweeps count too: its baseline then
    /// holds every target it contacts routinely (the monitor's fixed set, the router's
    /// neighbours), so new targets in bulk are a sweep however they are answered.
    pub warmup_secs: u64,
    /// A target contacted within this long is part of the source's baseline, not new.
    pub baseline_secs: u64,
    /// Distinct IP protocols one host refuses to one source (ICMP protocol unreachable)
    /// within the window that make an IP protocol scan (`net.protoscan`, nmap -sO).
    /// Hosts rate-limit these ICMP errors (Linux: a burst of 6, then 1 a second), so the
    /// default stays low; nobody else collects protocol unreachables.
    pub protocols: u32,
    /// Most (source, method) pairs tracked at once (the oldest evicted, counted).
    pub max_sources: usize,
    /// Most targets remembered per source and method, baseline included (then the
    /// oldest are forgotten, counted).
    pub max_targets_per_source: usize,
    /// Sources never reported (your own monitoring or inventory system).
    pub ignore_sources: Vec<IpAddr>,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            enabled: true,
            window_secs: 60,
            targets: 25,
            answer_timeout_secs: 3,
            min_unanswered_share: 0.5,
            warmup_secs: 600,
            baseline_secs: 3600,
            protocols: 5,
            max_sources: 4096,
            max_targets_per_source: 1024,
            ignore_sources: Vec::new(),
        }
    }
}

/// `[network.syn_flood]`: a port receiving far more SYNs than it completes
/// (`net.synflood`; the rule is in [`crate::net::scan::flood`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynFloodConfig {
    pub enabled: bool,
    /// Each target port is judged over windows of this many seconds.
    pub window_secs: u64,
    /// New SYNs per second to one port (retransmissions count once) below which it is
    /// never a flood. A busy web server takes thousands a second, so the rate alone
    /// says little: the completion share decides.
    pub syns_per_sec: u32,
    /// A flood completes at most this share of its handshakes (the client's ACK after
    /// the SYN-ACK); a busy, healthy server completes nearly all of them.
    pub max_completed_share: f64,
    /// Slots of the fixed table target ports are counted in (rounded up to a power of
    /// two). A port whose slot a busier one holds is not counted (counted as evicted);
    /// a flooded port keeps its slot.
    pub max_targets: usize,
    /// Most distinct sources counted per busy target port and window, for the share of
    /// sources seen once (near 1 when the sources are spoofed).
    pub max_sources_per_target: usize,
}

impl Default for SynFloodConfig {
    fn default() -> Self {
        SynFloodConfig {
            enabled: true,
            window_secs: 5,
            syns_per_sec: 200,
            max_completed_share: 0.25,
            max_targets: 4096,
            max_sources_per_target: 4096,
        }
    }
}

/// `[network.brute_force]`: many short logins from one source to one login service
/// (`net.bruteforce`; the rule is in [`crate::net::bruteforce`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BruteForceConfig {
    pub enabled: bool,
    /// Login services watched: FTP, SSH, Telnet, SMB (139, 445), RDP, VNC.
    pub ports: Vec<u16>,
    /// Short connections from one source to one service within this many seconds…
    pub window_secs: u64,
    /// …at least this many of them make a brute force.
    pub attempts: u32,
    /// A connection that completed its handshake and closed within this long is short:
    /// a failed login (a password tried, refused, disconnected) takes a few seconds.
    pub short_secs: u64,
    /// A connection whose server sent more IP bytes than this was a real session (a
    /// transfer, a shell), not a failed login, and is not counted.
    pub max_server_bytes: u64,
    /// Most login connections followed at once (the oldest dropped, counted).
    pub max_connections: usize,
    /// Most (source, service) pairs tracked at once (the oldest evicted, counted).
    pub max_sources: usize,
    /// Sources never reported (a backup host logging in all day).
    pub ignore_sources: Vec<IpAddr>,
}

impl Default for BruteForceConfig {
    fn default() -> Self {
        BruteForceConfig {
            enabled: true,
            ports: vec![21, 22, 23, 139, 445, 3389, 5900],
            window_secs: 300,
            attempts: 10,
            short_secs: 30,
            max_server_bytes: 20_000,
            max_connections: 65_536,
            max_sources: 16_384,
            ignore_sources: Vec::new(),
        }
    }
}

/// `[network.arp_spoof]`: IP-to-MAC changes, as arpwatch reports them (`net.arpspoof`;
/// the rule is in [`crate::net::arpspoof`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArpSpoofConfig {
    pub enabled: bool,
    /// A new MAC for an address whose old MAC was seen within this long is a conflict
    /// (a spoof, or a flip-flop); after it, the address simply moved to a new machine
    /// (a DHCP lease handed on, a replaced card).
    pub hold_secs: u64,
    /// One MAC claiming at least this many addresses within `hold_secs` is raised too
    /// (0: never). Proxy-ARP routers do it by design: list them in `ignore_macs`.
    pub max_ips_per_mac: u32,
    /// Your gateways: a spoof of one of them is critical (a machine in the middle of all
    /// off-link traffic). Without it, the address asked for by the most hosts (at least
    /// 3) is taken for the gateway.
    pub gateways: Vec<IpAddr>,
    /// MACs never reported (proxy-ARP routers, failover pairs), as `aa:bb:cc:dd:ee:ff`.
    pub ignore_macs: Vec<String>,
    /// Most addresses (and MACs) remembered (the oldest evicted, counted).
    pub max_hosts: usize,
}

impl Default for ArpSpoofConfig {
    fn default() -> Self {
        ArpSpoofConfig {
            enabled: true,
            hold_secs: 600,
            max_ips_per_mac: 16,
            gateways: Vec::new(),
            ignore_macs: Vec::new(),
            max_hosts: 16_384,
        }
    }
}

/// `[network.traffic_spike]`: NetWatch's old "port scan" rule, kept under its real name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpikeConfig {
    /// Off by default: a busy host trips it all the time, so it says little on its own.
    pub enabled: bool,
    /// Apply the rule to packets POSTed without ports even when `enabled` is false:
    /// packet counts are all a NetWatch agent sends, so for them it is the only rule
    /// there is (the scan detectors need ports and TCP flags).
    pub portless_packets: bool,
    /// More than this many packets from one source…
    pub packets: u32,
    /// …within this many seconds.
    pub window_secs: u64,
    pub severity: Severity,
    /// Most sources tracked at once.
    pub max_sources: usize,
}

impl Default for SpikeConfig {
    fn default() -> Self {
        SpikeConfig {
            enabled: false,
            portless_packets: true,
            packets: 50,
            window_secs: 10,
            severity: Severity::Low,
            max_sources: 65_536,
        }
    }
}

/// A setting that cannot work, with the key to fix.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("network.{key}: {problem}")]
pub struct ConfigError {
    pub key: &'static str,
    pub problem: String,
}

impl NetworkConfig {
    /// Checks values serde cannot: ranges and relations between fields.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key, problem: &str| {
            Err(ConfigError {
                key,
                problem: problem.to_string(),
            })
        };
        let s = &self.scan;
        let prob = |p: f64| p > 0.0 && p < 1.0;
        if !(prob(s.trw_benign_success) && prob(s.trw_scanner_success)) {
            return bad("scan.trw_*_success", "must be between 0 and 1 (exclusive)");
        }
        if s.trw_scanner_success >= s.trw_benign_success {
            return bad(
                "scan.trw_scanner_success",
                "must be below trw_benign_success",
            );
        }
        if !(prob(s.trw_detection) && prob(s.trw_false_positive))
            || s.trw_false_positive >= s.trw_detection
        {
            return bad(
                "scan.trw_detection",
                "needs 0 < trw_false_positive < trw_detection < 1",
            );
        }
        if s.trw_vertical_ports == 0 || s.trw_vertical_ports > 16 {
            return bad("scan.trw_vertical_ports", "must be between 1 and 16");
        }
        if s.vertical_ports == 0 || s.horizontal_hosts == 0 || s.ping_hosts == 0 {
            return bad("scan", "thresholds must be at least 1");
        }
        if s.window_secs == 0 || s.probe_timeout_secs == 0 {
            return bad("scan.window_secs", "must be at least 1 second");
        }
        let d = &self.discovery;
        if d.targets == 0 || d.protocols == 0 {
            return bad("discovery", "thresholds must be at least 1");
        }
        if d.window_secs == 0 || d.answer_timeout_secs == 0 {
            return bad("discovery.window_secs", "must be at least 1 second");
        }
        if !(0.0..=1.0).contains(&d.min_unanswered_share) {
            return bad("discovery.min_unanswered_share", "must be between 0 and 1");
        }
        if (d.max_targets_per_source as u64) < u64::from(d.targets) {
            return bad(
                "discovery.max_targets_per_source",
                "must be at least discovery.targets",
            );
        }
        let f = &self.syn_flood;
        if f.window_secs == 0 || f.syns_per_sec == 0 {
            return bad(
                "syn_flood.window_secs",
                "window and rate must be at least 1",
            );
        }
        if !(0.0..1.0).contains(&f.max_completed_share) {
            return bad(
                "syn_flood.max_completed_share",
                "must be at least 0 and below 1",
            );
        }
        let b = &self.brute_force;
        if b.attempts == 0 || b.window_secs == 0 || b.short_secs == 0 {
            return bad(
                "brute_force",
                "attempts, window_secs and short_secs must be at least 1",
            );
        }
        for mac in &self.arp_spoof.ignore_macs {
            if super::arpspoof::parse_mac(mac).is_none() {
                return bad(
                    "arp_spoof.ignore_macs",
                    "a MAC is written aa:bb:cc:dd:ee:ff",
                );
            }
        }
        if self.flows.max_flows == 0 {
            return bad("flows.max_flows", "must be at least 1");
        }
        if self.capture.snaplen < 64 {
            return bad("capture.snaplen", "below 64 bytes headers are cut; use 160");
        }
        if self.traffic_spike.window_secs == 0 {
            return bad("traffic_spike.window_secs", "must be at least 1 second");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_the_documented_values() {
        let c = NetworkConfig::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.scan.vertical_ports, 15);
        assert_eq!(c.scan.horizontal_hosts, 25);
        assert_eq!(c.scan.window_secs, 300);
        assert_eq!(
            (c.traffic_spike.packets, c.traffic_spike.window_secs),
            (50, 10)
        );
        assert!(!c.traffic_spike.enabled);
    }

    #[test]
    fn a_partial_section_takes_defaults_for_the_rest() {
        let c: NetworkConfig = serde_json::from_str(r#"{"scan": {"vertical_ports": 30}}"#).unwrap();
        assert_eq!(c.scan.vertical_ports, 30);
        assert_eq!(c.scan.horizontal_hosts, 25);
        assert_eq!(c.capture.interfaces, vec!["any".to_string()]);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e =
            serde_json::from_str::<NetworkConfig>(r#"{"scan": {"vertical_port": 3}}"#).unwrap_err();
        assert!(e.to_string().contains("vertical_port"), "{e}");
    }

    #[test]
    fn impossible_probabilities_name_the_key() {
        let mut c = NetworkConfig::default();
        c.scan.trw_scanner_success = 0.9;
        let e = c.validate().unwrap_err();
        assert_eq!(e.key, "scan.trw_scanner_success");
    }
}
