//! The agents' endpoints: POST /api/v1/enroll (the enrolment secret for a key of the
//! agent's own), POST /api/v1/ingest (a batch of an agent's records, stored exactly once
//! however often it is sent) and GET /hosts (every host, its state and its agent's spool).

use crate::error::{ApiError, ApiResult};
use crate::fleet::{HostState, key_hash, key_matches, new_key, secret_matches};
use crate::state::AppState;
use crate::timefmt::format_time;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use netsnoop_core::fleet::{
    AGENT_KEY_HEADER, AgentStatus, EnrollReply, EnrollRequest, IngestBatch, IngestReply,
    WIRE_VERSION,
};
use netsnoop_core::{Host, Record, Ts};
use netsnoop_store::BatchMark;
use serde::Serialize;
use std::io::Read;
use std::sync::Arc;
use utoipa::ToSchema;

/// Enrol an agent: the enrolment secret for a key of its own
///
/// The key is shown once; the server keeps only its SHA-256. Enrolling again (with the
/// secret) replaces the key and lifts a revocation.
#[utoipa::path(post, path = "/api/v1/enroll", tag = "fleet", request_body = EnrollRequest,
    responses((status = 200, body = EnrollReply),
        (status = 400, description = "not JSON", body = crate::error::ErrorBody),
        (status = 401, description = "wrong enrolment secret", body = crate::error::ErrorBody),
        (status = 403, description = "enrolment is off on this server", body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody),
        (status = 415, body = crate::error::ErrorBody),
        (status = 422, description = "a field is missing or invalid", body = crate::error::ErrorBody),
        (status = 503, description = "no store", body = crate::error::ErrorBody)))]
pub async fn enroll(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<EnrollReply>> {
    let Some(secret) = state.config.fleet.enrollment_secret.clone() else {
        return Err(ApiError::Forbidden(
            "agent enrolment is off on this server: set NETSNOOP_ENROLL_SECRET (or enrollment_secret under [fleet]) for `netsnoop serve`".into(),
        ));
    };
    let body = body.map_err(|r| read_error(r, state.config.body_limit))?;
    let req: EnrollRequest = json(&body)?;
    if !secret_matches(&req.secret, &secret) {
        return Err(ApiError::Unauthorized(
            "wrong enrolment secret: give the agent the secret `netsnoop serve` was started with (NETSNOOP_ENROLL_SECRET)".into(),
        ));
    }
    let host = Host::new(req.host.id, req.host.name)
        .map_err(|e| ApiError::InvalidField(format!("host: {e}")))?;
    let key = new_key().map_err(|e| ApiError::Internal(format!("no randomness for a key: {e}")))?;
    let hash = key_hash(&key);
    let version = req.agent_version;
    let committed = state
        .query(move |s| s.enroll_host(&host, &version, &hash, Ts::now()))
        .await?;
    Ok(Json(EnrollReply { key, committed }))
}

/// Ship a batch of an agent's records
///
/// The body is JSON, gzip-compressed with `Content-Encoding: gzip` or plain; the agent's
/// key goes in the `x-netsnoop-agent-key` header. The answer is the highest sequence
/// stored for the agent: a batch at or below it was stored before and is not stored again.
#[utoipa::path(post, path = "/api/v1/ingest", tag = "fleet", request_body = IngestBatch,
    params(("x-netsnoop-agent-key" = String, Header, description = "the agent's key")),
    responses((status = 200, body = IngestReply),
        (status = 400, description = "not JSON, or a wire version this server does not speak", body = crate::error::ErrorBody),
        (status = 401, description = "no key, a wrong key, another host's key, or a revoked one (`unauthorized`); a host this server has no record of (`unknown_host`: enrol again)", body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 413, description = "over the size limit, compressed or not", body = crate::error::ErrorBody),
        (status = 415, description = "an encoding other than gzip", body = crate::error::ErrorBody),
        (status = 422, description = "a field is missing or invalid", body = crate::error::ErrorBody),
        (status = 503, description = "not stored (busy, stopping, or the store failed): retry", body = crate::error::ErrorBody)))]
pub async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<IngestReply>> {
    let key = headers
        .get(AGENT_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized(format!(
                "no agent key: send the key the agent got at enrolment in the {AGENT_KEY_HEADER} header"
            ))
        })?
        .to_string();
    let body = body.map_err(|r| read_error(r, state.config.body_limit))?;
    let body = decompress(&headers, &body, state.config.fleet.max_batch_bytes)?;
    let batch: IngestBatch = json(&body)?;
    if batch.version != WIRE_VERSION {
        return Err(ApiError::BadJson(format!(
            "wire version {} is not spoken here (this server speaks {WIRE_VERSION}): run the same netsnoop version on agents and server",
            batch.version
        )));
    }
    let host = Host::new(batch.host.id.clone(), batch.host.name.clone())
        .map_err(|e| ApiError::InvalidField(format!("host: {e}")))?;
    let ingest = state.ingest.clone().ok_or_else(|| {
        ApiError::Busy("this server takes no batches (no pipeline is attached)".into())
    })?;

    // The key first: only enrolled hosts get a lock (no map entry per forged id).
    let id = host.id.clone();
    let known = state.query(move |s| s.agent_key(&id)).await?;
    match known {
        None => {
            return Err(ApiError::UnknownHost(format!(
                "this server has no record of host {:?} (a new or wiped database): the agent enrols again if it has the enrolment secret",
                host.id
            )));
        }
        Some(k) if !key_matches(&key, &k.key_hash) => {
            return Err(ApiError::Unauthorized(format!(
                "this key is not the key of host {:?}: enrol the agent (it needs the enrolment secret once)",
                host.id
            )));
        }
        Some(_) => {}
    }
    let lock = state.host_locks.of(&host.id);
    let _one_at_a_time = lock.lock().await;
    // Read again under the lock: a batch before this one may just have been stored, or
    // the key revoked.
    let id = host.id.clone();
    let known = state
        .query(move |s| s.agent_key(&id))
        .await?
        .filter(|k| key_matches(&key, &k.key_hash))
        .ok_or_else(|| {
            ApiError::Unauthorized(format!("host {:?} enrolled again with a new key", host.id))
        })?;
    if known.revoked {
        return Err(ApiError::Unauthorized(format!(
            "host {:?}'s agent key was revoked: enrol it again with the enrolment secret if it should report",
            host.id
        )));
    }
    if batch.seq <= known.committed_seq {
        // A retry of a batch already stored (its answer was lost): nothing to do.
        return Ok(Json(IngestReply {
            committed: known.committed_seq,
        }));
    }
    let seq = batch.seq;
    let (records, mark) = labelled(batch, host);
    crate::routes::ingest::store_durably(&state, ingest, Vec::new(), records, Some(mark)).await?;
    Ok(Json(IngestReply { committed: seq }))
}

/// The batch's records, each naming its host (alert ids get the host id in front, so
/// two hosts' episodes never share an id), and the batch's mark.
fn labelled(batch: IngestBatch, host: Host) -> (Vec<Record>, BatchMark) {
    let shared = Arc::new(host.clone());
    let mut records = batch.records;
    let mut newest: Option<Ts> = None;
    for r in &mut records {
        *r.host_mut() = Some(shared.clone());
        if let Record::Alert(a) = r
            && !a.id.starts_with(&format!("{}:", host.id))
        {
            a.id = format!("{}:{}", host.id, a.id);
        }
        newest = newest.max(Some(r.time()));
    }
    let mark = BatchMark {
        host,
        seq: batch.seq,
        agent_version: batch.agent_version,
        received: Ts::now(),
        newest_record: newest,
        status: batch.status,
    };
    (records, mark)
}

/// One host as `GET /hosts` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct HostView {
    pub id: String,
    pub hostname: String,
    /// The host this server runs on.
    pub local: bool,
    pub agent_version: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    /// up, stale or down, by the time since its last batch (`[fleet]` thresholds).
    pub status: HostState,
    /// Seconds from its newest stored record to now.
    pub lag_secs: Option<f64>,
    /// Highest batch sequence stored.
    pub committed_seq: u64,
    pub enrolled: bool,
    pub revoked: bool,
    /// The agent's spool and degraded modes, from its last batch.
    pub agent: Option<AgentStatus>,
}

/// Every host: its agent, state, lag and spool
#[utoipa::path(get, path = "/hosts", tag = "fleet",
    responses((status = 200, body = Vec<HostView>),
        (status = 401, body = crate::error::ErrorBody),
        (status = 503, description = "no store, or a store without the hosts registry", body = crate::error::ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn hosts(State(state): State<AppState>) -> ApiResult<Json<Vec<HostView>>> {
    let rows = state.query(|s| s.hosts()).await?;
    let now = Ts::now();
    let tz = state.config.timezone.clone();
    let cfg = &state.config.fleet;
    Ok(Json(
        rows.into_iter()
            .map(|r| HostView {
                status: if r.local {
                    HostState::Up
                } else {
                    HostState::of(r.last_seen, now, cfg)
                },
                lag_secs: r.newest_record.map(|t| now.since(t).max(0.0)),
                id: r.host.id,
                hostname: r.host.name,
                local: r.local,
                agent_version: r.agent_version,
                first_seen: format_time(r.first_seen, &tz),
                last_seen: format_time(r.last_seen, &tz),
                committed_seq: r.committed_seq,
                enrolled: r.enrolled,
                revoked: r.revoked,
                agent: r.status,
            })
            .collect(),
    ))
}

fn read_error(rejection: BytesRejection, limit: usize) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(format!(
            "the body is larger than the limit of {limit} bytes: ship smaller batches"
        ))
    } else {
        ApiError::BadJson(format!(
            "could not read the body: {}",
            rejection.body_text()
        ))
    }
}

/// The body as sent, or gunzipped, refusing more than `max` bytes once inflated.
fn decompress(headers: &HeaderMap, body: &Bytes, max: usize) -> ApiResult<Vec<u8>> {
    let encoding = headers
        .get(axum::http::header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("identity") => Ok(body.to_vec()),
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .take(max as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| ApiError::BadJson(format!("the gzip body is damaged: {e}")))?;
            if out.len() > max {
                return Err(ApiError::TooLarge(format!(
                    "the batch inflates to more than {max} bytes: ship smaller batches"
                )));
            }
            Ok(out)
        }
        Some(other) => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Encoding {other:?} is not supported: send gzip or no encoding"
        ))),
    }
}

fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::BadJson(format!("the body is not valid JSON: {inner}"))
        } else {
            ApiError::InvalidField(format!("{path}: {inner}"))
        }
    })
}
