//! /flows: the most recently finished flows and the largest ones, from the store.

use crate::error::ApiResult;
use crate::routes::params::Query;
use crate::routes::params::{Hosts, HostsDoc, Limit};
use crate::state::AppState;
use crate::timefmt::format_time;
use axum::Json;
use axum::extract::State;
use jiff::tz::TimeZone;
use netsnoop_core::{FlowRecord, Protocol};
use netsnoop_store::FlowOrder;
use serde::Serialize;
use utoipa::ToSchema;

/// One finished flow; the originator sent the first packet seen.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowView {
    pub first_seen: String,
    pub last_seen: String,
    pub duration_secs: f64,
    pub protocol: String,
    pub orig_ip: Option<String>,
    /// Null for protocols without ports (ICMP, other IP protocols).
    pub orig_port: Option<u16>,
    pub resp_ip: Option<String>,
    pub resp_port: Option<u16>,
    pub orig_packets: u64,
    pub orig_bytes: u64,
    pub resp_packets: u64,
    pub resp_bytes: u64,
    /// Zeek-style connection state (S0, SF, REJ, …).
    pub state: String,
    /// `fin`, `rst`, `idle`, `active`, `evicted` or `shutdown`.
    pub end_reason: String,
    /// The process owning the originator's end (`{"known": {pid, comm, exe, user, …}}`),
    /// or why none is known (`{"unknown": "not_local" | "not_seen" | "no_process"}`);
    /// null when no attribution ran or the protocol has no sockets.
    pub orig_owner: Option<netsnoop_core::owner::FlowOwner>,
    /// The same for the responder's end.
    pub resp_owner: Option<netsnoop_core::owner::FlowOwner>,
    /// The host that saw it (absent when the store knows no host identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<netsnoop_core::Host>,
}

impl FlowView {
    pub fn new(f: &FlowRecord, tz: &TimeZone) -> FlowView {
        let ports = matches!(f.protocol, Protocol::Tcp | Protocol::Udp);
        FlowView {
            first_seen: format_time(f.first_seen, tz),
            last_seen: format_time(f.last_seen, tz),
            duration_secs: f.last_seen.since(f.first_seen),
            protocol: f.protocol.as_str().to_string(),
            orig_ip: f.orig_ip.map(|ip| ip.to_string()),
            orig_port: ports.then_some(f.orig_port),
            resp_ip: f.resp_ip.map(|ip| ip.to_string()),
            resp_port: ports.then_some(f.resp_port),
            orig_packets: f.orig_packets,
            orig_bytes: f.orig_bytes,
            resp_packets: f.resp_packets,
            resp_bytes: f.resp_bytes,
            state: f.state.to_string(),
            end_reason: f.end_reason.to_string(),
            orig_owner: f.orig_owner.clone(),
            resp_owner: f.resp_owner.clone(),
            host: f.host.as_deref().cloned(),
        }
    }
}

/// `/flows`: both lists at once, so a dashboard needs one request.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowsResponse {
    /// Most recently active first.
    pub recent: Vec<FlowView>,
    /// Most bytes (both directions) first.
    pub top: Vec<FlowView>,
}

/// Recent and top finished flows
#[utoipa::path(get, path = "/flows", tag = "host", params(Limit, HostsDoc),
    responses((status = 200, body = FlowsResponse), (status = 422, body = crate::error::ErrorBody)))]
pub async fn flows(
    State(state): State<AppState>,
    Query(q): Query<Limit>,
    Hosts(hosts): Hosts,
) -> ApiResult<Json<FlowsResponse>> {
    let limit = q.resolve(20, 1000)? as u32;
    let tz = state.config.timezone.clone();
    let (recent, top) = state
        .query(move |store| {
            Ok((
                store.flows(limit, FlowOrder::LastSeen, &hosts)?,
                store.flows(limit, FlowOrder::Bytes, &hosts)?,
            ))
        })
        .await?;
    Ok(Json(FlowsResponse {
        recent: recent.iter().map(|f| FlowView::new(f, &tz)).collect(),
        top: top.iter().map(|f| FlowView::new(f, &tz)).collect(),
    }))
}
