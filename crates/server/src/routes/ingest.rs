//! POST /packets: NetWatch agents' ingest, one packet or a JSON array of them, validated
//! field by field and handed to the pipeline in one batch. The answer waits until the
//! batch's transaction has committed: "stored" means durable.

use crate::error::{ApiError, ApiResult};
use crate::routes::lenient;
use crate::routes::params::Query;
use crate::routes::shape::Shape;
use crate::state::{AppState, IngestError};
use crate::timefmt::{TimeRefusal, packet_time};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use jiff::tz::TimeZone;
use netsnoop_core::{Event, Host, HostRef, PacketMeta, Protocol, Ts};
use netsnoop_store::{Ack, AckedBatch};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;
use utoipa::ToSchema;

/// Largest believable packet: 256 KiB covers GRO/TSO super-packets on loopback.
pub const MAX_PACKET_SIZE: i64 = 262_144;
/// Most packets one request may carry.
pub const MAX_BATCH: usize = 100_000;
/// How long a request waits for room in a full pipeline queue before answering 503.
const QUEUE_WAIT: Duration = Duration::from_secs(5);
/// How long a request waits for its transaction to commit before answering 503. A
/// commit normally takes milliseconds; this only ends waits on a stalled disk.
const COMMIT_WAIT: Duration = Duration::from_secs(60);

/// One packet as NetWatch's agent posts it. Unknown extra fields are ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PacketIn {
    /// RFC 3339, naive ISO 8601 (taken in the server's zone) or unix seconds (a number
    /// or a string). Missing means "now". Every form must lie between 2000-01-01 and
    /// `general.max_clock_skew` (default 5 minutes) ahead of the server clock.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "2026-11-21T12:00:00Z")]
    pub timestamp: Option<serde_json::Value>,
    #[schema(example = "192.168.1.10")]
    pub src_ip: String,
    #[schema(example = "10.0.0.1")]
    pub dst_ip: String,
    /// `TCP`, `UDP`, `ICMP`, `ICMPv6`, `ARP`; anything else is stored as `OTHER`.
    #[schema(example = "TCP")]
    pub protocol: String,
    /// Bytes on the wire, 0 to 262144; a numeric string (`"60"`) is read as a number,
    /// as NetWatch's model does.
    #[serde(deserialize_with = "lenient::whole")]
    #[schema(value_type = i64, example = 60, minimum = 0, maximum = 262144)]
    pub packet_size: i64,
    /// Give both ports or neither. Without them the packet's ports are unknown (null in
    /// every view) and NetWatch's packet-count rule judges it.
    #[serde(default, deserialize_with = "lenient::port")]
    #[schema(value_type = Option<u16>, example = 51234, minimum = 0, maximum = 65535)]
    pub src_port: Option<u16>,
    #[serde(default, deserialize_with = "lenient::port")]
    #[schema(value_type = Option<u16>, example = 443, minimum = 0, maximum = 65535)]
    pub dst_port: Option<u16>,
    /// TCP flags: the bits (2 = SYN, 18 = SYN+ACK) or letters (`"S"`, `"SA"`, `"RA"`).
    /// With ports, they let the scan detectors judge the packet.
    #[serde(default, deserialize_with = "lenient::tcp_flags")]
    #[schema(value_type = Option<TcpFlagsIn>, example = "S")]
    pub tcp_flags: Option<u8>,
    /// The host that saw the packet: 1 to 55 letters, digits, '.', '_' or '-'. Missing
    /// means `fleet.netwatch_host` (default `netwatch`). Its id is `netwatch-` + the
    /// name, and `?host=` takes either. One request names at most 64 hosts.
    #[serde(default)]
    #[schema(example = "web-1")]
    pub host: Option<String>,
}

/// What `tcp_flags` takes (for the schema; `lenient::tcp_flags` reads it).
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum TcpFlagsIn {
    /// The flag bits, 0 to 255.
    Bits(u8),
    /// Flag letters: `F S R P A U E C`, e.g. `"SA"`.
    Letters(String),
}

/// The body of POST /packets: one packet, or an array of 1 to 100,000 (for the schema;
/// [`parse_body`] reads it).
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum PacketBody {
    One(PacketIn),
    Many(Vec<PacketIn>),
}

/// NetWatch's answer: `{"status": "stored"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stored {
    /// Always `stored`: the packets are committed to the store (they survive a crash)
    /// and counted by `/stats/*`.
    pub status: &'static str,
}

/// NetWatch's answer plus how many packets were taken (`?extended=true`).
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredExtended {
    /// Always `stored`.
    pub status: &'static str,
    pub count: usize,
}

/// The answer in NetWatch's shape or with the count added.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum StoredRow {
    NetWatch(Stored),
    Extended(StoredExtended),
}

/// Ingest one packet or a JSON array of packets
#[utoipa::path(post, path = "/packets", tag = "netwatch", params(Shape),
    request_body(content = PacketBody, description = "one packet object, or an array of them"),
    responses(
        (status = 200, body = StoredRow),
        (status = 400, description = "not JSON", body = crate::error::ErrorBody),
        (status = 401, description = "token missing or wrong", body = crate::error::ErrorBody),
        (status = 413, description = "body over the size limit", body = crate::error::ErrorBody),
        (status = 422, description = "a field is missing, mistyped or impossible", body = crate::error::ErrorBody),
        (status = 503, description = "not stored: the pipeline is busy, the server is stopping, or the store cannot write (see /health); retry", body = crate::error::ErrorBody),
    ),
    security((), ("bearer" = [])))]
pub async fn post_packets(
    State(state): State<AppState>,
    Query(shape): Query<Shape>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<StoredRow>> {
    let extended = shape.extended()?;
    let body = body.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!(
                "the body is larger than the limit of {} bytes: send smaller batches (a few thousand packets each)",
                state.config.body_limit
            ))
        } else {
            ApiError::BadJson(format!("could not read the body: {}", rejection.body_text()))
        }
    })?;
    let tz = state.config.timezone.clone();
    let now = Ts::now();
    let mut refused = TimeRefusals::default();
    let rules = Rules {
        tz: &tz,
        now,
        max_ahead: state.config.max_clock_skew,
        netwatch_host: &state.config.fleet.netwatch_host,
    };
    let parsed = parse_body_counting(&body, &rules, &mut refused);
    refused.publish(state.hub.metrics());
    let packets = parsed?;
    let count = packets.len();
    let ingest = state.ingest.clone().ok_or_else(|| {
        ApiError::Busy("this server takes no packets (no pipeline is attached); send them to `netsnoop run` or `netsnoop serve`".into())
    })?;
    store_durably(
        &state,
        ingest,
        packets.into_iter().map(Event::Packet).collect(),
        Vec::new(),
        None,
    )
    .await?;
    state.hub.metrics().ingested_packets.inc_by(count as u64);
    Ok(Json(if extended {
        StoredRow::Extended(StoredExtended {
            status: "stored",
            count,
        })
    } else {
        StoredRow::NetWatch(Stored { status: "stored" })
    }))
}

/// Hands events (run through the stages) and finished records (an agent's, with its
/// batch mark) to the pipeline, and waits until the store has committed them.
pub(crate) async fn store_durably(
    state: &AppState,
    ingest: std::sync::Arc<dyn crate::state::PacketIngest>,
    events: Vec<Event>,
    records: Vec<netsnoop_core::Record>,
    mark: Option<netsnoop_store::BatchMark>,
) -> ApiResult<()> {
    let (answer, stored) = tokio::sync::oneshot::channel();
    let mut ack = Ack::new(move |outcome| {
        let _ = answer.send(outcome);
    });
    if let Some(mark) = mark {
        ack = ack.marked(mark);
    }
    let batch = AckedBatch {
        events,
        records,
        ack,
    };
    match ingest.submit(batch, Duration::ZERO) {
        Ok(()) => {}
        Err(IngestError::Full(back)) => {
            let waited = tokio::task::spawn_blocking(move || ingest.submit(back, QUEUE_WAIT))
                .await
                .map_err(|e| ApiError::Internal(format!("ingest task failed: {e}")))?;
            if matches!(waited, Err(IngestError::Full(_))) {
                state.hub.metrics().intake_refused.inc();
            }
            waited.map_err(ingest_error)?;
        }
        Err(e) => return Err(ingest_error(e)),
    }
    match tokio::time::timeout(COMMIT_WAIT, stored).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(not_stored))) => return Err(ApiError::Busy(not_stored.0)),
        // The ack answers even when dropped, so a closed channel means it was lost.
        Ok(Err(_)) => {
            return Err(ApiError::Busy(
                "the batch was lost before it was stored; retry".into(),
            ));
        }
        Err(_) => {
            return Err(ApiError::Busy(format!(
                "the store did not confirm the batch within {} s (see /health); it may still be stored, so a retry may count it twice",
                COMMIT_WAIT.as_secs()
            )));
        }
    }
    Ok(())
}

fn ingest_error(e: IngestError) -> ApiError {
    match e {
        IngestError::Full(_) => ApiError::Busy(
            "the pipeline queue stayed full for 5 s; nothing from this request was taken, retry shortly or send smaller batches".into(),
        ),
        IngestError::Closed => ApiError::Busy("the server is shutting down; nothing from this request was taken: send it again once the server is back".into()),
    }
}

/// Packets of a refused request whose time broke the rule, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeRefusals {
    pub unreadable: u64,
    pub too_early: u64,
    pub ahead: u64,
}

impl TimeRefusals {
    fn count(&mut self, why: TimeRefusal) {
        match why {
            TimeRefusal::Unreadable => self.unreadable += 1,
            TimeRefusal::TooEarly => self.too_early += 1,
            TimeRefusal::Ahead => self.ahead += 1,
        }
    }

    /// Adds the counts to `/metrics` (and so to `/health`).
    pub fn publish(&self, metrics: &crate::metrics::Metrics) {
        for (why, n) in [
            (TimeRefusal::Unreadable, self.unreadable),
            (TimeRefusal::TooEarly, self.too_early),
            (TimeRefusal::Ahead, self.ahead),
        ] {
            if n > 0 {
                metrics.time_refused(why.as_str(), n);
            }
        }
    }
}

/// What a POSTed packet is judged by.
pub struct Rules<'a> {
    /// The zone of naive times.
    pub tz: &'a TimeZone,
    pub now: Ts,
    /// How far ahead of `now` a time may be.
    pub max_ahead: Duration,
    /// The host of packets that name none.
    pub netwatch_host: &'a str,
}

/// Parses and validates the whole body before anything is handed over, so a bad packet
/// anywhere refuses the request as a whole and nothing is half-stored. Times may run at
/// most [`crate::config::DEFAULT_MAX_CLOCK_SKEW`] ahead of `now`; packets without a host
/// are [`crate::fleet::DEFAULT_NETWATCH_HOST`]'s.
pub fn parse_body(body: &[u8], tz: &TimeZone, now: Ts) -> ApiResult<Vec<PacketMeta>> {
    let rules = Rules {
        tz,
        now,
        max_ahead: crate::config::DEFAULT_MAX_CLOCK_SKEW,
        netwatch_host: crate::fleet::DEFAULT_NETWATCH_HOST,
    };
    parse_body_counting(body, &rules, &mut TimeRefusals::default())
}

/// [`parse_body`] by the given rules, counting packets refused for their time (every
/// such packet of the request, not only the first one reported).
pub fn parse_body_counting(
    body: &[u8],
    rules: &Rules,
    refused: &mut TimeRefusals,
) -> ApiResult<Vec<PacketMeta>> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let (raw, is_batch): (Vec<PacketIn>, bool) = match first {
        None => {
            return Err(ApiError::BadJson(
                "the body is empty: send a packet object or an array of them".into(),
            ));
        }
        Some(b'[') => (from_json(body)?, true),
        Some(_) => (vec![from_json(body)?], false),
    };
    if raw.is_empty() {
        return Err(ApiError::InvalidField(
            "the array is empty: send at least one packet".into(),
        ));
    }
    if raw.len() > MAX_BATCH {
        return Err(ApiError::InvalidField(format!(
            "{} packets in one request; send at most {MAX_BATCH} per request",
            raw.len()
        )));
    }
    let mut packets = Vec::with_capacity(raw.len());
    let mut first_error = None;
    let mut hosts = Senders::default();
    for (i, p) in raw.into_iter().enumerate() {
        match validate(p, rules, &mut hosts) {
            Ok(m) if first_error.is_none() => packets.push(m),
            Ok(_) => {}
            Err((why, msg)) => {
                if let Some(why) = why {
                    refused.count(why);
                }
                if first_error.is_none() {
                    let at = if is_batch {
                        format!("[{i}].")
                    } else {
                        String::new()
                    };
                    first_error = Some(ApiError::InvalidField(format!("{at}{msg}")));
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(packets),
    }
}

fn from_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at = if path == "." {
            String::new()
        } else {
            format!("{path}: ")
        };
        if inner.is_syntax() || inner.is_eof() {
            ApiError::BadJson(format!(
                "the body is not valid JSON ({inner}); send a packet object or an array of them"
            ))
        } else {
            ApiError::InvalidField(format!("{at}{inner}"))
        }
    })
}

/// Most distinct hosts one request may name: a NetWatch agent posts its own packets, so
/// a batch naming more is refused rather than registering a host per packet.
pub const MAX_HOSTS_PER_REQUEST: usize = 64;

/// The hosts a request's packets name, each made once and shared by its packets.
#[derive(Default)]
struct Senders(HashMap<String, HostRef>);

impl Senders {
    fn get(&mut self, name: &str) -> Result<HostRef, (Option<TimeRefusal>, String)> {
        if let Some(h) = self.0.get(name) {
            return Ok(h.clone());
        }
        if self.0.len() >= MAX_HOSTS_PER_REQUEST {
            return Err((
                None,
                format!(
                    "host: a request may name at most {MAX_HOSTS_PER_REQUEST} hosts; send each host's packets in requests of their own"
                ),
            ));
        }
        let host = Host::netwatch(name).map_err(|_| {
            (
                None,
                format!("host: {name:?} is not a host name: give 1 to 55 letters, digits, '.', '_' or '-' (e.g. \"web-1\")"),
            )
        })?;
        let host = host.shared();
        self.0.insert(name.to_string(), host.clone());
        Ok(host)
    }
}

/// One packet's fields; an error carries the time rule broken, if that was the problem.
fn validate(
    p: PacketIn,
    rules: &Rules,
    hosts: &mut Senders,
) -> Result<PacketMeta, (Option<TimeRefusal>, String)> {
    let time = match &p.timestamp {
        None | Some(serde_json::Value::Null) => rules.now,
        Some(v) => packet_time(v, rules.tz, rules.now, rules.max_ahead)
            .map_err(|(why, msg)| (Some(why), format!("timestamp: {msg}")))?,
    };
    let host = hosts.get(p.host.as_deref().unwrap_or(rules.netwatch_host))?;
    let ip = |field: &str, text: &str| -> Result<IpAddr, (Option<TimeRefusal>, String)> {
        text.trim().parse().map_err(|_| {
            (
                None,
                format!("{field}: {text:?} is not an IP address (e.g. 192.168.1.10 or fe80::1)"),
            )
        })
    };
    let src_ip = ip("src_ip", &p.src_ip)?;
    let dst_ip = ip("dst_ip", &p.dst_ip)?;
    if !(0..=MAX_PACKET_SIZE).contains(&p.packet_size) {
        return Err((
            None,
            format!(
                "packet_size: {} is impossible; give the bytes on the wire, 0 to {MAX_PACKET_SIZE}",
                p.packet_size
            ),
        ));
    }
    let no_ports = match (p.src_port, p.dst_port) {
        (Some(_), Some(_)) => false,
        (None, None) => true,
        _ => {
            return Err((
                None,
                "src_port and dst_port: give both ports, or neither when they are unknown".into(),
            ));
        }
    };
    Ok(PacketMeta {
        time,
        src_ip: Some(src_ip),
        dst_ip: Some(dst_ip),
        src_port: p.src_port.unwrap_or(0),
        dst_port: p.dst_port.unwrap_or(0),
        protocol: Protocol::from_label(p.protocol.trim()),
        tcp_flags: p.tcp_flags.unwrap_or(0),
        wire_len: p.packet_size as u32,
        no_ports,
        iface: crate::metrics::API_IFACE,
        host: Some(host),
        ..PacketMeta::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> ApiResult<Vec<PacketMeta>> {
        parse_body(
            body.as_bytes(),
            &TimeZone::UTC,
            Ts::from_secs(1_795_262_400),
        )
    }

    #[test]
    fn a_single_netwatch_packet_becomes_packet_meta() {
        let p = parse(r#"{"timestamp":"2026-11-21T12:00:00","src_ip":"10.0.0.1","dst_ip":"10.0.0.2","protocol":"tcp","packet_size":60}"#).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].protocol, Protocol::Tcp);
        assert_eq!(p[0].wire_len, 60);
        assert_eq!(p[0].src_ip, Some("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn one_bad_packet_in_a_batch_is_named_by_its_index() {
        let err = parse(r#"[{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","protocol":"UDP","packet_size":1},
                           {"src_ip":"10.0.0.1","dst_ip":"nope","protocol":"UDP","packet_size":1}]"#)
        .unwrap_err();
        assert!(matches!(err, ApiError::InvalidField(_)));
        assert!(err.to_string().starts_with("[1].dst_ip"), "{err}");
    }

    #[test]
    fn wrong_types_and_impossible_sizes_are_invalid_fields_but_broken_json_is_bad_json() {
        let wrong_type = parse(
            r#"{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","protocol":"UDP","packet_size":"big"}"#,
        )
        .unwrap_err();
        assert!(
            wrong_type.to_string().contains("packet_size"),
            "{wrong_type}"
        );
        let negative =
            parse(r#"{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","protocol":"UDP","packet_size":-1}"#)
                .unwrap_err();
        assert!(negative.to_string().contains("impossible"), "{negative}");
        assert!(matches!(parse("{\"src_ip\":"), Err(ApiError::BadJson(_))));
        assert!(matches!(parse("[]"), Err(ApiError::InvalidField(_))));
    }
}
