//! The live snapshot the hub keeps: recent system history, the latest process list, recent
//! execs, open alerts, loss counters and health facts. Bounded everywhere.

use netsnoop_core::{Alert, ProcSample, ProcessEvent, SystemSample, Ts};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use utoipa::ToSchema;

/// System samples kept in memory unless the hub is given another size: 15 minutes at 1 s
/// (the binary passes `resources.history_secs` at the sampling interval).
pub const SYSTEM_HISTORY: usize = 900;
/// Exec events kept for `/events/process` and `/processes/{pid}`.
pub const EXEC_HISTORY: usize = 1000;
/// Open alerts kept; past this the oldest are forgotten (and counted).
pub const MAX_ACTIVE_ALERTS: usize = 10_000;

/// One source of events and whether it runs.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct SourceStatus {
    /// e.g. `proc_connector`, `proc_sampler`, `capture:eth0`, `api`.
    pub name: String,
    pub running: bool,
    /// Why it is not running, or how it runs (e.g. `/proc polling fallback`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One degraded mode: what is missing and how to fix it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct DegradedMode {
    /// Stable name, e.g. `no_capture_permission`.
    pub mode: String,
    /// What is lost.
    pub effect: String,
    /// What the user can do.
    pub fix: String,
}

impl From<netsnoop_core::Degraded> for DegradedMode {
    fn from(d: netsnoop_core::Degraded) -> Self {
        DegradedMode {
            mode: d.as_str().to_string(),
            effect: d.effect().to_string(),
            fix: d.fix().to_string(),
        }
    }
}

/// What one capture interface delivered and lost (`/health` `capture`, and the
/// `netsnoop_capture_*` families).
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct CaptureCounts {
    /// Packets captured on the interface that reached the pipeline.
    pub packets: u64,
    /// Their bytes on the wire.
    pub bytes: u64,
    /// Packets lost, by place: `kernel` (the interface or driver, pcap ps_ifdrop), `ring`
    /// (the capture buffer was full, pcap ps_drop), `queue` (our pipeline channel was full).
    pub dropped: BTreeMap<&'static str, u64>,
}

/// Events lost by one source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct LossCount {
    pub count: u64,
    /// The reason given with the latest loss.
    pub reason: String,
}

#[derive(Debug)]
pub struct LiveState {
    pub system: VecDeque<SystemSample>,
    /// How many system samples `system` keeps (at least 1).
    pub system_capacity: usize,
    pub processes: Vec<ProcSample>,
    pub processes_time: Option<Ts>,
    pub execs: VecDeque<ProcessEvent>,
    pub active_alerts: BTreeMap<String, Alert>,
    pub active_alerts_evicted: u64,
    pub losses: BTreeMap<String, LossCount>,
    pub sources: Vec<SourceStatus>,
    pub degraded: Vec<DegradedMode>,
    pub last_event: Option<Ts>,
    pub packets_seen: u64,
    pub bytes_seen: u64,
    /// Capture interfaces in `PacketMeta::iface` order (from the `capture:*` sources).
    pub interfaces: Vec<String>,
    /// Packets and bytes by `PacketMeta::iface` (POSTed packets are not among them).
    pub by_iface: Vec<(u64, u64)>,
    /// The exec source running (`ebpf`, `netlink`, `poll`), from the sources.
    pub exec_source: Option<&'static str>,
    /// Losses by source and bounded cause (`metrics::losses::cause`); they add up to
    /// `losses`.
    pub loss_causes: BTreeMap<(String, &'static str), u64>,
}

impl Default for LiveState {
    fn default() -> Self {
        LiveState::new(SYSTEM_HISTORY)
    }
}

impl LiveState {
    /// An empty state keeping `system_capacity` system samples (at least 1).
    pub fn new(system_capacity: usize) -> LiveState {
        LiveState {
            system: VecDeque::new(),
            system_capacity: system_capacity.max(1),
            processes: Vec::new(),
            processes_time: None,
            execs: VecDeque::new(),
            active_alerts: BTreeMap::new(),
            active_alerts_evicted: 0,
            losses: BTreeMap::new(),
            sources: Vec::new(),
            degraded: Vec::new(),
            last_event: None,
            packets_seen: 0,
            bytes_seen: 0,
            interfaces: Vec::new(),
            by_iface: Vec::new(),
            exec_source: None,
            loss_causes: BTreeMap::new(),
        }
    }

    pub fn push_system(&mut self, s: SystemSample) {
        while self.system.len() >= self.system_capacity {
            self.system.pop_front();
        }
        self.system.push_back(s);
    }

    pub fn push_exec(&mut self, e: ProcessEvent) {
        if self.execs.len() == EXEC_HISTORY {
            self.execs.pop_front();
        }
        self.execs.push_back(e);
    }

    /// Keeps open episodes by id; a resolved record closes its episode.
    pub fn track_alert(&mut self, a: &Alert) {
        if a.is_active() {
            if !self.active_alerts.contains_key(&a.id)
                && self.active_alerts.len() >= MAX_ACTIVE_ALERTS
            {
                let oldest = self
                    .active_alerts
                    .iter()
                    .min_by_key(|(_, a)| a.last_seen)
                    .map(|(id, _)| id.clone());
                if let Some(id) = oldest {
                    self.active_alerts.remove(&id);
                    self.active_alerts_evicted += 1;
                }
            }
            self.active_alerts.insert(a.id.clone(), a.clone());
        } else {
            self.active_alerts.remove(&a.id);
        }
    }

    pub fn add_loss(&mut self, source: &str, count: u64, reason: &str) {
        let entry = self.losses.entry(source.to_string()).or_default();
        entry.count += count;
        entry.reason = reason.to_string();
        let cause = crate::metrics::losses::cause(reason);
        *self
            .loss_causes
            .entry((source.to_string(), cause))
            .or_default() += count;
    }

    /// Counts one captured packet of `iface` (POSTed ones carry `metrics::API_IFACE`).
    pub fn count_packet(&mut self, iface: u16, wire_len: u32) {
        self.packets_seen += 1;
        self.bytes_seen += u64::from(wire_len);
        let i = usize::from(iface);
        if i < self.interfaces.len() {
            if self.by_iface.len() <= i {
                self.by_iface.resize(i + 1, (0, 0));
            }
            let c = &mut self.by_iface[i];
            c.0 += 1;
            c.1 += u64::from(wire_len);
        }
    }

    /// Takes the capture interfaces and the exec source from the source names
    /// (`capture:<interface>`, `exec (<kind>)`), in order.
    pub fn take_source_names(&mut self) {
        self.interfaces = self
            .sources
            .iter()
            .filter_map(|s| s.name.strip_prefix("capture:").map(str::to_string))
            .collect();
        self.exec_source = self
            .sources
            .iter()
            .find_map(|s| crate::metrics::losses::exec_source(&s.name));
    }

    /// Every capture interface's packets, bytes and drops by place (zeros included).
    pub fn capture_counts(&self) -> BTreeMap<String, CaptureCounts> {
        let mut out: BTreeMap<String, CaptureCounts> = BTreeMap::new();
        for (i, name) in self.interfaces.iter().enumerate() {
            let (packets, bytes) = self.by_iface.get(i).copied().unwrap_or_default();
            let dropped = crate::metrics::losses::CAPTURE_PLACES
                .iter()
                .map(|p| (*p, 0))
                .collect();
            out.insert(
                name.clone(),
                CaptureCounts {
                    packets,
                    bytes,
                    dropped,
                },
            );
        }
        for ((source, cause), n) in &self.loss_causes {
            if let Some(name) = source.strip_prefix("capture:") {
                let c = out.entry(name.to_string()).or_default();
                *c.dropped.entry(cause).or_default() += n;
            }
        }
        out
    }

    pub fn see(&mut self, t: Ts) {
        if self.last_event.is_none_or(|last| t > last) {
            self.last_event = Some(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsnoop_core::{AlertState, Severity, Subject};

    fn alert(id: &str, state: AlertState) -> Alert {
        Alert {
            host: None,
            id: id.into(),
            kind: "net.portscan".into(),
            severity: Severity::High,
            label: None,
            state,
            first_seen: Ts(1),
            last_seen: Ts(2),
            subject: Subject::default(),
            message: "scan".into(),
            details: serde_json::Value::Null,
        }
    }

    #[test]
    fn a_resolved_record_closes_the_open_episode() {
        let mut s = LiveState::default();
        s.track_alert(&alert("a", AlertState::Active));
        s.track_alert(&alert("b", AlertState::Active));
        s.track_alert(&alert("a", AlertState::Resolved));
        assert_eq!(s.active_alerts.keys().collect::<Vec<_>>(), vec!["b"]);
    }

    #[test]
    fn system_history_keeps_only_the_newest_samples() {
        let mut s = LiveState::default();
        for i in 0..(SYSTEM_HISTORY as i64 + 5) {
            s.push_system(SystemSample {
                time: Ts::from_secs(i),
                ..SystemSample::default()
            });
        }
        assert_eq!(s.system.len(), SYSTEM_HISTORY);
        assert_eq!(s.system.front().unwrap().time, Ts::from_secs(5));
    }
}
