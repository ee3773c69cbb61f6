//! Per-process traffic from the flows' owner columns: GET /stats/top-processes, and the
//! connections and traffic parts of GET /processes/{pid}.

use crate::error::ApiResult;
use crate::routes::flows::FlowView;
use crate::routes::params::{Hosts, HostsDoc, Query, Range, parse_limit};
use crate::routes::stats::time_range;
use crate::state::AppState;
use crate::timefmt::format_time;
use axum::Json;
use axum::extract::State;
use jiff::tz::TimeZone;
use netsnoop_core::HostFilter;
use netsnoop_store::{ProcessTraffic, TimeRange};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Traffic of one process over the flows it owned an end of.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessTrafficView {
    /// The host the process ran on (absent when the store knows no host identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<netsnoop_core::Host>,
    /// Null for the unattributed bucket: local flow ends whose process is unknown.
    pub pid: Option<u32>,
    /// The thread-group leader's name when the socket was used; `<unknown>` for the
    /// unattributed bucket.
    pub comm: String,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub packets_in: u64,
    pub packets_out: u64,
    /// Flow ends counted.
    pub flows: u64,
    pub last_seen: String,
}

impl ProcessTrafficView {
    pub fn new(t: &ProcessTraffic, tz: &TimeZone) -> ProcessTrafficView {
        ProcessTrafficView {
            host: t.host.as_deref().cloned(),
            pid: t.pid,
            comm: t.comm.clone().unwrap_or_else(|| "<unknown>".into()),
            bytes_in: t.bytes_in,
            bytes_out: t.bytes_out,
            packets_in: t.packets_in,
            packets_out: t.packets_out,
            flows: t.flows,
            last_seen: format_time(t.last_seen, tz),
        }
    }
}

/// `?since=&until=&limit=` of /stats/top-processes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopProcessesQuery {
    /// Start (inclusive), RFC 3339 or unix seconds; default: everything stored.
    pub since: Option<String>,
    /// End (exclusive), RFC 3339 or unix seconds.
    pub until: Option<String>,
    /// How many processes (default 10, at most 1000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 2147483647)]
    pub limit: Option<String>,
}

/// Processes by traffic (bytes in + out over flows that ended in the range), the
/// unattributed bucket among them
#[utoipa::path(get, path = "/stats/top-processes", tag = "host", params(TopProcessesQuery, HostsDoc),
    responses((status = 200, body = Vec<ProcessTrafficView>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn top_processes(
    State(state): State<AppState>,
    Query(q): Query<TopProcessesQuery>,
    Hosts(hosts): Hosts,
) -> ApiResult<Json<Vec<ProcessTrafficView>>> {
    let limit = parse_limit(q.limit.as_deref(), 10, 1000)? as u32;
    let tz = state.config.timezone.clone();
    let range = time_range(
        Range {
            since: q.since,
            until: q.until,
        }
        .resolve(&tz)?,
    );
    let rows = state
        .query(move |store| store.process_traffic(range, limit, None, &hosts))
        .await?;
    Ok(Json(
        rows.iter()
            .map(|t| ProcessTrafficView::new(t, &tz))
            .collect(),
    ))
}

/// The flows `pid` owned an end of (newest first, at most `limit`) and its traffic
/// summed over all its stored flows; empty without a store.
pub async fn of_process(
    state: &AppState,
    pid: u32,
    limit: u32,
) -> ApiResult<(Vec<FlowView>, Option<ProcessTrafficView>)> {
    if state.store.is_none() {
        return Ok((Vec::new(), None));
    }
    let tz = state.config.timezone.clone();
    // The pid is this server's: an agent's process with the same pid is another one.
    let here = (state.config.fleet.local_host.as_ref())
        .map_or_else(HostFilter::all, |h| HostFilter(vec![h.id.clone()]));
    let (flows, traffic) = state
        .query(move |store| {
            Ok((
                store.process_flows(pid, TimeRange::ALL, limit)?,
                store.process_traffic(TimeRange::ALL, 1, Some(pid), &here)?,
            ))
        })
        .await?;
    Ok((
        flows.iter().map(|f| FlowView::new(f, &tz)).collect(),
        traffic.first().map(|t| ProcessTrafficView::new(t, &tz)),
    ))
}
