//! The fleet's families, read at scrape time from the hosts registry: hosts by state, and
//! per agent its last report, lag, committed batches and spool, labelled with the host
//! (hostname and id: two hosts may share a name).

use super::scrape::{Scraped, Value, labels};
use crate::fleet::HostState;
use netsnoop_core::Ts;
use netsnoop_store::HostRow;
use prometheus_client::metrics::MetricType;

impl Scraped {
    /// `hosts`: every host the store knows with its state (empty without a registry).
    pub(crate) fn fleet(&mut self, hosts: &[(HostRow, HostState)], now: Ts) {
        let by_state = self.add(
            "fleet_hosts",
            "Hosts the server knows, by state: up, stale or down (fleet.stale_after, fleet.down_after), revoked",
            MetricType::Gauge,
        );
        for state in ["up", "stale", "down", "revoked"] {
            let n = hosts.iter().filter(|(h, s)| status(h, *s) == state).count();
            by_state
                .rows
                .push((labels([("status", state)]), Value::Int(n as u64)));
        }
        // Enrolled agents only: hosts that NetWatch's POST /packets named have no agent, and
        // are bounded by nothing an operator controls.
        let agents: Vec<&HostRow> = (hosts.iter().map(|(h, _)| h))
            .filter(|h| !h.local && h.enrolled)
            .collect();
        let secs = |t: Ts| now.since(t).max(0.0) as u64;
        let families: [(&'static str, &'static str, MetricType, PerAgent); 5] = [
            (
                "agent_silent_seconds",
                "Seconds since each agent's last stored batch",
                MetricType::Gauge,
                &|h| Some(secs(h.last_seen)),
            ),
            (
                "agent_lag_seconds",
                "Seconds from each agent's newest stored record to now",
                MetricType::Gauge,
                &|h| h.newest_record.map(secs),
            ),
            (
                "agent_batches",
                "Each agent's highest stored batch sequence (it rises by one per batch)",
                MetricType::Counter,
                &|h| Some(h.committed_seq),
            ),
            (
                "agent_spool_batches",
                "Batches waiting in each agent's spool, as its last batch reported",
                MetricType::Gauge,
                &|h| h.status.as_ref().map(|s| s.spool_batches),
            ),
            (
                "agent_spool_dropped_records",
                "Records each agent's spool dropped past its bound (agent.spool_max_mb, spool_max_age)",
                MetricType::Counter,
                &|h| h.status.as_ref().map(|s| s.spool_dropped_records),
            ),
        ];
        for (name, help, kind, value) in families {
            let family = self.add(name, help, kind);
            for h in &agents {
                if let Some(v) = value(h) {
                    family.rows.push((
                        labels([("host", &h.host.name), ("host_id", &h.host.id)]),
                        Value::Int(v),
                    ));
                }
            }
        }
    }
}

/// One agent's value in a family, if it has one.
type PerAgent<'a> = &'a dyn Fn(&HostRow) -> Option<u64>;

fn status(h: &HostRow, s: HostState) -> &'static str {
    match s {
        _ if h.revoked => "revoked",
        HostState::Up => "up",
        HostState::Stale => "stale",
        HostState::Down => "down",
    }
}
