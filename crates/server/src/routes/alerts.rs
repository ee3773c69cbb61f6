//! /alerts (NetWatch's active network alerts, or everything with ?all=true) and
//! /alerts/history (paginated, filtered by kind, severity, state and time).

use crate::error::{ApiError, ApiResult};
use crate::routes::params::Query;
use crate::routes::params::{Hosts, HostsDoc, Range, parse_limit};
use crate::routes::shape::Shape;
use crate::state::AppState;
use crate::views::{AlertRow, AlertView};
use axum::Json;
use axum::extract::State;
use netsnoop_core::{AlertState, Severity};
use netsnoop_store::AlertFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertsQuery {
    /// `true` adds host alerts and resolved episodes (most recently seen first).
    pub all: Option<String>,
    /// At most this many (default 100, at most 10,000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 2147483647)]
    pub limit: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Active network alerts
///
/// NetWatch's `{src_ip, packet_count, alert}`; `extended=true` adds our fields (id,
/// kind, severity, state, times, ports, details) after them.
#[utoipa::path(get, path = "/alerts", tag = "netwatch", params(AlertsQuery, Shape, HostsDoc),
    responses((status = 200, body = Vec<AlertRow>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    Query(q): Query<AlertsQuery>,
    Query(shape): Query<Shape>,
    Hosts(hosts): Hosts,
) -> ApiResult<Json<Vec<AlertRow>>> {
    let extended = shape.extended()?;
    let all = parse_bool("all", q.all.as_deref())?;
    let limit = parse_limit(q.limit.as_deref(), 100, 10_000)? as u32;
    let tz = state.config.timezone.clone();
    let w = Range {
        since: q.since,
        until: q.until,
    }
    .resolve(&tz)?;
    let filter = AlertFilter {
        state: (!all).then_some(AlertState::Active),
        since: w.since,
        until: w.until,
        limit: if all {
            limit
        } else {
            netsnoop_store::MAX_LIMIT
        },
        hosts,
        ..AlertFilter::default()
    };
    let rows = state.query(move |store| store.alerts(&filter)).await?;
    Ok(Json(
        rows.iter()
            .filter(|a| all || AlertView::is_network(a))
            .take(limit as usize)
            .map(|a| AlertRow::new(a, &tz, extended))
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Exact kind, e.g. `net.portscan`.
    pub kind: Option<String>,
    /// This severity or worse: info, low, medium, high, critical.
    pub severity: Option<String>,
    /// `active` or `resolved`.
    pub state: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// Page size (default 100, at most 1000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 2147483647)]
    pub limit: Option<String>,
    /// Rows to skip (from `next_offset` of the previous page).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 2147483647)]
    pub offset: Option<String>,
}

/// One page of alert history.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertPage {
    pub items: Vec<AlertView>,
    pub limit: u32,
    pub offset: u32,
    /// Pass as `offset` for the next page; null on the last page.
    pub next_offset: Option<u32>,
}

/// Every alert, newest first, one page at a time
#[utoipa::path(get, path = "/alerts/history", tag = "host", params(HistoryQuery, HostsDoc),
    responses((status = 200, body = AlertPage), (status = 422, body = crate::error::ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    Query(q): Query<HistoryQuery>,
    Hosts(hosts): Hosts,
) -> ApiResult<Json<AlertPage>> {
    let tz = state.config.timezone.clone();
    let limit = parse_limit(q.limit.as_deref(), 100, 1000)? as u32;
    let offset = match q.offset.as_deref().map(str::trim) {
        None => 0,
        Some(t) => t
            .parse::<u32>()
            .ok()
            .filter(|n| i64::from(*n) <= crate::routes::params::MAX_COUNT)
            .ok_or_else(|| {
                ApiError::InvalidField(format!(
                    "offset={t:?}: give a whole number of rows to skip, 0 to 2147483647"
                ))
            })?,
    };
    let min_severity = q
        .severity
        .as_deref()
        .map(|s| {
            s.parse::<Severity>()
                .map_err(|e| ApiError::InvalidField(format!("severity: {e}")))
        })
        .transpose()?;
    let alert_state = match q.state.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("active") => Some(AlertState::Active),
        Some("resolved") => Some(AlertState::Resolved),
        Some(other) => {
            return Err(ApiError::InvalidField(format!(
                "state={other:?}: give `active` or `resolved`"
            )));
        }
    };
    let w = Range {
        since: q.since,
        until: q.until,
    }
    .resolve(&tz)?;
    let filter = AlertFilter {
        kind: q.kind.filter(|k| !k.trim().is_empty()),
        min_severity,
        state: alert_state,
        since: w.since,
        until: w.until,
        // One extra row tells whether another page exists.
        limit: limit + 1,
        hosts,
        offset,
    };
    let (mut rows, silences, acks) = state
        .query(move |store| {
            let rows = store.alerts(&filter)?;
            // A backend that keeps no silences or acks yet marks nothing.
            let silences = store
                .silences(None, netsnoop_store::MAX_LIMIT)
                .unwrap_or_default();
            let acks = store.acks(netsnoop_store::MAX_LIMIT).unwrap_or_default();
            Ok((rows, silences, acks))
        })
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let host = crate::routes::silences::local_host();
    let now = netsnoop_core::Ts::now();
    Ok(Json(AlertPage {
        items: rows
            .iter()
            .map(|a| {
                let mut v = AlertView::new(a, &tz);
                // Open until now if still active.
                let open_until = if a.is_active() { now } else { a.last_seen };
                v.silenced = silences.iter().any(|s| {
                    s.starts_at <= open_until
                        && a.first_seen < s.ends_at
                        && s.matcher.matches(a, &host)
                });
                v.acked_by = acks
                    .iter()
                    .find(|k| k.alert_id == a.id)
                    .map(|k| k.author.clone());
                v
            })
            .collect(),
        limit,
        offset,
        next_offset: more.then_some(offset + limit),
    }))
}

pub fn parse_bool(name: &str, v: Option<&str>) -> ApiResult<bool> {
    match v.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("false") | Some("0") | Some("no") => Ok(false),
        Some("true") | Some("1") | Some("yes") => Ok(true),
        Some(other) => Err(ApiError::InvalidField(format!(
            "{name}={other:?}: give true or false"
        ))),
    }
}
