//! Host endpoints served from the live snapshot: /system, /processes, /processes/{pid},
//! /events/process and /health.

use crate::error::{ApiError, ApiResult};
use crate::hub::snapshot::{CaptureCounts, DegradedMode, LossCount, SourceStatus};
use crate::routes::params::Query;
use crate::routes::params::{Hosts, HostsDoc, Limit};
use crate::state::AppState;
use crate::timefmt::format_time;
use crate::views::{SystemView, process_event_json};
use axum::Json;
use axum::extract::{Path, State};
use jiff::tz::TimeZone;
use netsnoop_core::ProcSample;
use netsnoop_core::resource::{top_by_cpu, top_by_memory};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// How many processes the top lists hold.
const TOP: usize = 10;

/// `/system`: the newest sample and up to 15 minutes of 1 s history, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SystemResponse {
    pub current: Option<SystemView>,
    pub history: Vec<SystemView>,
}

/// Current system metrics and recent history at 1 s (`?limit=N`: the newest N samples;
/// default all 15 minutes)
#[utoipa::path(get, path = "/system", tag = "host",
    params(Limit),
    responses((status = 200, body = SystemResponse), (status = 422, body = crate::error::ErrorBody)))]
pub async fn system(
    State(state): State<AppState>,
    Query(q): Query<Limit>,
) -> ApiResult<Json<SystemResponse>> {
    let tz = state.hub.timezone().clone();
    let st = state.hub.state();
    let limit = q.resolve(st.system_capacity, st.system_capacity)?;
    let skip = st.system.len().saturating_sub(limit);
    Ok(Json(SystemResponse {
        current: st.system.back().map(|s| SystemView::new(s, &tz)),
        history: st
            .system
            .iter()
            .skip(skip)
            .map(|s| SystemView::new(s, &tz))
            .collect(),
    }))
}

/// One node of the live process tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessNode {
    #[serde(flatten)]
    pub process: ProcSample,
    #[schema(no_recursion)]
    pub children: Vec<ProcessNode>,
}

/// `/processes`: the tree of the newest sample, and the top processes by CPU and memory.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessesResponse {
    pub timestamp: Option<String>,
    pub count: usize,
    pub tree: Vec<ProcessNode>,
    pub top_cpu: Vec<ProcSample>,
    pub top_memory: Vec<ProcSample>,
}

/// The live process tree, and the top processes by CPU and by memory
#[utoipa::path(get, path = "/processes", tag = "host", responses((status = 200, body = ProcessesResponse)))]
pub async fn processes(State(state): State<AppState>) -> Json<ProcessesResponse> {
    let tz = state.hub.timezone().clone();
    let (procs, time) = {
        let st = state.hub.state();
        (st.processes.clone(), st.processes_time)
    };
    Json(ProcessesResponse {
        timestamp: time.map(|t| format_time(t, &tz)),
        count: procs.len(),
        top_cpu: top_by_cpu(&procs, TOP).into_iter().cloned().collect(),
        top_memory: top_by_memory(&procs, TOP).into_iter().cloned().collect(),
        tree: build_tree(procs),
    })
}

/// Roots are processes whose parent is not in the sample (pid 1, kthreadd, orphans).
fn build_tree(procs: Vec<ProcSample>) -> Vec<ProcessNode> {
    let pids: std::collections::HashSet<u32> = procs.iter().map(|p| p.pid).collect();
    let mut children: HashMap<u32, Vec<ProcSample>> = HashMap::new();
    let mut roots = Vec::new();
    for p in procs {
        if p.ppid != p.pid && pids.contains(&p.ppid) {
            children.entry(p.ppid).or_default().push(p);
        } else {
            roots.push(p);
        }
    }
    // Iterative, so a very deep chain cannot overflow the stack while building.
    fn attach(
        p: ProcSample,
        children: &mut HashMap<u32, Vec<ProcSample>>,
        depth: usize,
    ) -> ProcessNode {
        let mut kids = children.remove(&p.pid).unwrap_or_default();
        kids.sort_by_key(|k| k.pid);
        let children_nodes = if depth > 256 {
            Vec::new()
        } else {
            kids.into_iter()
                .map(|k| attach(k, children, depth + 1))
                .collect()
        };
        ProcessNode {
            process: p,
            children: children_nodes,
        }
    }
    roots.sort_by_key(|r| r.pid);
    roots
        .into_iter()
        .map(|r| attach(r, &mut children, 0))
        .collect()
}

/// `/processes/{pid}`: the sampled process, its ancestry (parent first) and its last exec.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessDetail {
    #[schema(value_type = Option<Object>)]
    pub process: Option<ProcSample>,
    /// Parent first, up to pid 1, from the newest sample (or the exec event's chain).
    #[schema(value_type = Vec<Object>)]
    pub ancestry: Vec<netsnoop_core::process::event::Ancestor>,
    pub children: Vec<u32>,
    /// The newest exec event seen for this pid, with argv, exe and user.
    #[schema(value_type = Option<Object>)]
    pub exec: Option<serde_json::Value>,
    /// Its finished flows (it owned one end), newest first, up to 100.
    pub connections: Vec<crate::routes::flows::FlowView>,
    /// Its traffic summed over all its stored flows; null when it has none.
    pub traffic: Option<crate::routes::owners::ProcessTrafficView>,
}

/// Details and ancestry of one process
#[utoipa::path(get, path = "/processes/{pid}", tag = "host",
    params(("pid" = u32, Path, description = "process id")),
    responses((status = 200, body = ProcessDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn process(
    State(state): State<AppState>,
    Path(pid): Path<String>,
) -> ApiResult<Json<ProcessDetail>> {
    let pid: u32 = pid.parse().map_err(|_| {
        ApiError::BadQuery(format!(
            "{pid:?} is not a process id: give a number such as 1234"
        ))
    })?;
    // Connections are extra: a store that cannot answer leaves the live details.
    let (connections, traffic) = crate::routes::owners::of_process(&state, pid, 100)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!("/processes/{pid}: no connections from the store: {e}");
            (Vec::new(), None)
        });
    let (process, ancestry, children, exec) = {
        let st = state.hub.state();
        let by_pid: HashMap<u32, &ProcSample> = st.processes.iter().map(|p| (p.pid, p)).collect();
        let process = by_pid.get(&pid).map(|p| (*p).clone());
        let tz = state.hub.timezone().clone();
        let exec = st.execs.iter().rev().find(|e| e.pid == pid);
        let mut ancestry = Vec::new();
        let mut cur = process.as_ref().map(|p| p.ppid);
        while let Some(ppid) = cur.filter(|p| *p != 0 && ancestry.len() < 256) {
            match by_pid.get(&ppid) {
                Some(parent) => {
                    ancestry.push(netsnoop_core::process::event::Ancestor {
                        pid: parent.pid,
                        comm: parent.comm.clone(),
                    });
                    cur = (parent.ppid != parent.pid).then_some(parent.ppid);
                }
                None => break,
            }
        }
        if let (true, Some(e)) = (ancestry.is_empty(), exec) {
            ancestry = e.ancestry.clone();
        }
        let exec = exec.map(|e| process_event_json(e, &tz));
        let mut children: Vec<u32> = st
            .processes
            .iter()
            .filter(|p| p.ppid == pid && p.pid != pid)
            .map(|p| p.pid)
            .collect();
        children.sort_unstable();
        (process, ancestry, children, exec)
    };
    if process.is_none() && exec.is_none() && connections.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no process {pid} in the newest sample, the recent execs or the stored flows; list live ones at /processes"
        )));
    }
    Ok(Json(ProcessDetail {
        process,
        ancestry,
        children,
        exec,
        connections,
        traffic,
    }))
}

/// Recent exec events, newest first
#[utoipa::path(get, path = "/events/process", tag = "host",
    params(Limit, HostsDoc),
    responses((status = 200, body = Vec<netsnoop_core::ProcessEvent>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn process_events(
    State(state): State<AppState>,
    Query(q): Query<Limit>,
    Hosts(hosts): Hosts,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let limit = q.resolve(50, crate::hub::snapshot::EXEC_HISTORY)?;
    let tz = state.hub.timezone().clone();
    let local = state.config.fleet.local_host.as_ref();
    let st = state.hub.state();
    Ok(Json(
        st.execs
            .iter()
            .rev()
            // Events without a host are this server's own.
            .filter(|e| hosts.matches(e.host.as_deref().or(local)))
            .take(limit)
            .map(|e| process_event_json(e, &tz))
            .collect(),
    ))
}

/// `/health`: is everything running, and what is missing or lost.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when a degraded mode applies or a source is down.
    pub status: &'static str,
    pub version: &'static str,
    pub started_at: String,
    pub uptime_secs: u64,
    pub sources: Vec<SourceStatus>,
    pub degraded: Vec<DegradedMode>,
    /// Events lost, by source (capture drops are sources named `capture:…`).
    pub losses: BTreeMap<String, LossCount>,
    /// Each capture interface: packets and bytes that reached the pipeline, and packets
    /// dropped by place (the same numbers as `losses`, split by where they were lost).
    pub capture: BTreeMap<String, CaptureCounts>,
    pub last_event: Option<String>,
    pub packets_seen: u64,
    pub alerts_active: usize,
    /// Open alerts forgotten because more than 10,000 were open at once.
    pub alerts_active_evicted: u64,
    /// Live stream clients dropped for falling behind.
    pub stream_clients_dropped: u64,
    /// The clock rule for packet times: how far ahead of this server's clock a time may
    /// be, and how many POSTed packets were refused for their time, by reason (`ahead`,
    /// `too_early`: before 2000, `unreadable`). Captured packets dropped for the same
    /// rule are under `losses.clock`.
    pub packet_times: PacketTimes,
    /// Secrets redacted from process arguments since start (`[redact]`).
    pub redactions: u64,
    /// `sqlite`, `postgres`, or null when no store is open.
    pub store: Option<&'static str>,
    /// The store writer's counters: records written, dropped (queue full) and failed.
    #[schema(value_type = Option<Object>)]
    pub writer: Option<netsnoop_store::WriterStats>,
    /// Alert outputs (`[[outputs]]`): delivered, failed, dropped and queued per output.
    pub outputs: Vec<crate::outputs::OutputStatus>,
}

/// See [`Health::packet_times`].
#[derive(Debug, Serialize, ToSchema)]
pub struct PacketTimes {
    pub max_clock_skew_secs: u64,
    pub refused: BTreeMap<&'static str, u64>,
}

/// Version, uptime, sources, degraded modes, drops and losses
#[utoipa::path(get, path = "/health", tag = "host", responses((status = 200, body = Health)))]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    let hub = &state.hub;
    let tz = hub.timezone().clone();
    let st = hub.state();
    let writer = state.writer.as_ref().map(|w| w.stats());
    let mut modes = st.degraded.clone();
    if let Some(failing) = writer.as_ref().and_then(|w| w.failing.as_ref()) {
        modes.retain(|m| m.mode != netsnoop_core::Degraded::StoreFailing.as_str());
        modes.push(store_failing(failing, &tz));
    }
    let degraded =
        !modes.is_empty() || st.sources.iter().any(|s| !s.running) || state.store.is_none();
    Json(Health {
        status: if degraded { "degraded" } else { "ok" },
        version: env!("CARGO_PKG_VERSION"),
        started_at: format_time(hub.started_at(), &tz),
        uptime_secs: hub.uptime_secs(),
        sources: st.sources.clone(),
        degraded: modes,
        losses: st.losses.clone(),
        capture: st.capture_counts(),
        last_event: st.last_event.map(|t| format_time(t, &tz)),
        packets_seen: st.packets_seen,
        alerts_active: st.active_alerts.len(),
        alerts_active_evicted: st.active_alerts_evicted,
        stream_clients_dropped: hub.metrics().sse_clients_dropped.get(),
        packet_times: PacketTimes {
            max_clock_skew_secs: state.config.max_clock_skew.as_secs(),
            refused: hub.metrics().time_refused_counts(),
        },
        redactions: hub.metrics().redactions.get(),
        store: state.store.as_ref().map(|s| s.backend()),
        writer,
        outputs: hub.outputs(),
    })
}

/// The store's failure episode as a degraded mode, with what it has cost so far.
fn store_failing(f: &netsnoop_store::WriteFailing, tz: &TimeZone) -> DegradedMode {
    let d = netsnoop_core::Degraded::StoreFailing;
    DegradedMode {
        mode: d.as_str().to_string(),
        effect: format!(
            "{} (since {}: {} records lost in {} failed transactions; last error: {})",
            d.effect(),
            format_time(f.since, tz),
            f.records_failed,
            f.transactions_failed,
            f.error
        ),
        fix: d.fix().to_string(),
    }
}
