//! Acknowledgements and silences: `POST /alerts/{id}/ack`, `POST /silences` and
//! `GET /silences`. Setting either needs a token to be configured (who did it must mean
//! something); a silenced or acknowledged alert is still stored and shown, only not
//! delivered to the alert outputs.

use crate::error::{ApiError, ApiResult};
use crate::routes::params::Query;
use crate::state::AppState;
use crate::timefmt::format_time;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use netsnoop_core::Ts;
use netsnoop_core::silence::{Ack, Matcher, Silence};
use netsnoop_core::time::Span;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The longest silence: a year.
const MAX_SILENCE_SECS: u64 = 366 * 86_400;

/// `POST /alerts/{id}/ack` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckBody {
    pub author: String,
    #[serde(default)]
    pub comment: String,
}

/// An acknowledgement as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct AckView {
    pub alert_id: String,
    pub author: String,
    pub comment: String,
    pub at: String,
}

/// `POST /silences` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SilenceBody {
    pub matcher: Matcher,
    /// How long it lasts, from now (1 s to a year).
    pub duration_secs: u64,
    pub author: String,
    pub comment: String,
}

/// A silence as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct SilenceView {
    pub id: i64,
    pub matcher: Matcher,
    pub starts_at: String,
    pub ends_at: String,
    pub author: String,
    pub comment: String,
    /// Whether it is in force now (it expires by itself at `ends_at`).
    pub active: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SilencesQuery {
    /// `true` lists expired silences too.
    pub all: Option<String>,
}

/// This host's name, which silences' `host` globs match.
pub fn local_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Without a configured token no request can carry valid credentials: 401, naming the fix.
fn need_token(state: &AppState) -> ApiResult<()> {
    if state.config.token.is_none() {
        return Err(ApiError::Unauthorized(
            "acknowledging and silencing need a token so that who did it means something: set NETSNOOP_TOKEN (or server.token) and send it as `Authorization: Bearer …`".into(),
        ));
    }
    Ok(())
}

fn body<T: for<'de> Deserialize<'de>>(bytes: &Bytes) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::InvalidField(format!("{e}")))
}

fn non_empty(field: &str, v: &str) -> ApiResult<()> {
    if v.trim().is_empty() {
        return Err(ApiError::InvalidField(format!("{field} is empty: say who")));
    }
    Ok(())
}

/// Acknowledge an alert episode
///
/// It is no longer delivered to the alert outputs; it stays stored and shown.
#[utoipa::path(post, path = "/alerts/{id}/ack", tag = "host",
    params(("id" = String, Path, description = "The alert's id")),
    request_body = AckBody,
    responses((status = 200, body = AckView), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn ack(
    State(state): State<AppState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<AckView>> {
    need_token(&state)?;
    let b: AckBody = body(&bytes)?;
    non_empty("author", &b.author)?;
    let ack = Ack {
        alert_id: id.clone(),
        author: b.author,
        comment: b.comment,
        at: Ts::now(),
    };
    let stored = ack.clone();
    if !state.query(move |s| s.ack_alert(&stored)).await? {
        return Err(ApiError::NotFound(format!(
            "no stored alert has id {id:?}: /alerts/history lists the ids"
        )));
    }
    let tz = state.config.timezone.clone();
    Ok(Json(AckView {
        alert_id: ack.alert_id,
        author: ack.author,
        comment: ack.comment,
        at: format_time(ack.at, &tz),
    }))
}

fn view(s: Silence, now: Ts, tz: &jiff::tz::TimeZone) -> SilenceView {
    SilenceView {
        active: s.is_active(now),
        id: s.id,
        matcher: s.matcher,
        starts_at: format_time(s.starts_at, tz),
        ends_at: format_time(s.ends_at, tz),
        author: s.author,
        comment: s.comment,
    }
}

/// Silence matching alerts for a while
///
/// Alerts the matcher covers (kind, host, subject: globs) are not delivered until it
/// ends; they stay stored and shown.
#[utoipa::path(post, path = "/silences", tag = "host", request_body = SilenceBody,
    responses((status = 201, body = SilenceView), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<SilenceView>)> {
    need_token(&state)?;
    let b: SilenceBody = body(&bytes)?;
    b.matcher
        .validate()
        .map_err(|e| ApiError::InvalidField(format!("matcher: {e}")))?;
    non_empty("author", &b.author)?;
    if b.comment.trim().is_empty() {
        return Err(ApiError::InvalidField(
            "comment is empty: say why the alerts are silenced".into(),
        ));
    }
    if !(1..=MAX_SILENCE_SECS).contains(&b.duration_secs) {
        return Err(ApiError::InvalidField(format!(
            "duration_secs {} is out of range: use 1 to {MAX_SILENCE_SECS}",
            b.duration_secs
        )));
    }
    let now = Ts::now();
    let mut silence = Silence {
        id: 0,
        matcher: b.matcher,
        starts_at: now,
        ends_at: now + Span::secs(b.duration_secs as i64),
        author: b.author,
        comment: b.comment,
    };
    let stored = silence.clone();
    silence.id = state.query(move |s| s.add_silence(&stored)).await?;
    let tz = state.config.timezone.clone();
    Ok((StatusCode::CREATED, Json(view(silence, now, &tz))))
}

/// Silences, newest first
///
/// Those in force now; `all=true` adds the expired ones.
#[utoipa::path(get, path = "/silences", tag = "host", params(SilencesQuery),
    responses((status = 200, body = Vec<SilenceView>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<SilencesQuery>,
) -> ApiResult<Json<Vec<SilenceView>>> {
    let all = match q.all.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(v) => {
            return Err(ApiError::BadQuery(format!(
                "all={v:?} is not a boolean: use true or false"
            )));
        }
    };
    let now = Ts::now();
    let rows = state
        .query(move |s| s.silences((!all).then_some(now), netsnoop_store::MAX_LIMIT))
        .await?;
    let tz = state.config.timezone.clone();
    Ok(Json(rows.into_iter().map(|s| view(s, now, &tz)).collect()))
}
