//! The shipper thread: enrols once (the secret for a key kept in the data dir), then sends
//! the spool's batches in order, gzip-compressed, forgetting each only once the server
//! says it is stored. While the server is away it backs off with jitter; a backlog is
//! replayed at a bounded rate.

use super::spool::{Spool, Spooled};
use anyhow::Context;
use crossbeam_channel::Receiver;
use flate2::Compression;
use flate2::write::GzEncoder;
use netsnoop_core::fleet::{
    AGENT_KEY_HEADER, AgentStatus, ENROLL_PATH, EnrollReply, EnrollRequest, INGEST_PATH,
    IngestReply, UNKNOWN_HOST, WIRE_VERSION,
};
use netsnoop_core::{Host, Ts};
use netsnoop_pipeline::StopFlag;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The file in the data dir that keeps the agent's key (0600).
pub const KEY_FILE: &str = "agent-key";

/// How long the shipper keeps sending after the agent is told to stop.
const STOP_GRACE: Duration = Duration::from_secs(3);

pub struct Shipper {
    pub spool: Arc<Spool>,
    pub client: reqwest::blocking::Client,
    /// The server's base URL, without a trailing slash.
    pub server: String,
    pub key_file: PathBuf,
    pub host: Host,
    pub secret: Option<String>,
    pub degraded: Vec<String>,
    pub replay_per_sec: u32,
    pub retry_max: Duration,
    pub wake: Receiver<()>,
    pub stop: StopFlag,
}

/// Why a request did not succeed.
enum Failure {
    /// Network trouble, 5xx, 408, 429: try again later.
    Retry(String),
    /// 401: the key (or secret) is wrong or revoked.
    Refused(String),
    /// 401 `unknown_host`: the server has no record of this host (a new or wiped
    /// database), so the agent enrols again.
    Forgotten(String),
    /// Another 4xx: this batch can never be stored.
    Bad(String),
}

impl Shipper {
    pub fn run(self) {
        let mut key = std::fs::read_to_string(&self.key_file)
            .ok()
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty());
        let mut pause = Backoff::new(self.retry_max);
        let mut stopping_since: Option<Instant> = None;
        let mut last_refusal = String::new();
        loop {
            if self.stop.is_stopped() {
                let since = *stopping_since.get_or_insert_with(Instant::now);
                if since.elapsed() > STOP_GRACE {
                    return;
                }
            }
            let Some(k) = key.clone() else {
                match self.enroll() {
                    Ok(k) => {
                        eprintln!(
                            "netsnoop agent: enrolled with {} as host {} ({})",
                            self.server, self.host.id, self.host.name
                        );
                        key = Some(k);
                        pause.reset();
                    }
                    Err(_) if stopping_since.is_some() => return,
                    Err(e) => {
                        self.say_once(&mut last_refusal, &e);
                        self.sleep(pause.next());
                    }
                }
                continue;
            };
            let batch = match self.spool.next_after(0) {
                Ok(Some(b)) => b,
                Ok(None) if stopping_since.is_some() => return,
                Ok(None) => {
                    let _ = self.wake.recv_timeout(Duration::from_millis(500));
                    continue;
                }
                Err(e) => {
                    eprintln!("netsnoop agent: cannot read the spool: {e:#}");
                    self.sleep(pause.next());
                    continue;
                }
            };
            match self.ship(&k, &batch) {
                Ok(committed) => {
                    pause.reset();
                    last_refusal.clear();
                    let forgotten = self
                        .spool
                        .forget_through(committed.max(batch.seq))
                        .and_then(|()| self.spool.continue_after(committed));
                    if let Err(e) = forgotten {
                        eprintln!("netsnoop agent: cannot update the spool: {e:#}");
                    }
                    // A backlog drains at a bounded rate; live batches go at once.
                    if matches!(self.spool.next_after(batch.seq), Ok(Some(_))) {
                        self.sleep(Duration::from_secs(1) / self.replay_per_sec.max(1));
                    }
                }
                // Stopping: what is left stays in the spool for the next start.
                Err(Failure::Retry(_) | Failure::Refused(_) | Failure::Forgotten(_))
                    if stopping_since.is_some() =>
                {
                    return;
                }
                Err(Failure::Forgotten(why)) if self.secret.is_some() => {
                    eprintln!("netsnoop agent: {why}; enrolling again");
                    key = None;
                }
                Err(Failure::Forgotten(why)) => {
                    self.say_once(
                        &mut last_refusal,
                        &anyhow::anyhow!(
                            "{why}; this agent has no enrolment secret to enrol again with: set NETSNOOP_ENROLL_SECRET"
                        ),
                    );
                    self.sleep(self.retry_max);
                }
                Err(Failure::Retry(why)) => {
                    self.say_once(&mut last_refusal, &anyhow::anyhow!("{why}"));
                    self.sleep(pause.next());
                }
                Err(Failure::Refused(why)) => {
                    self.say_once(
                        &mut last_refusal,
                        &anyhow::anyhow!("the server refused this agent (401): {why}"),
                    );
                    self.sleep(self.retry_max);
                }
                Err(Failure::Bad(why)) => {
                    eprintln!(
                        "netsnoop agent: the server refused batch {} ({} records) as malformed; it is dropped and counted: {why}",
                        batch.seq, batch.records
                    );
                    if let Err(e) = self.spool.drop_refused(batch.seq) {
                        eprintln!("netsnoop agent: cannot update the spool: {e:#}");
                    }
                }
            }
        }
    }

    /// Logs a problem when it differs from the last one (a server away for an hour is
    /// one line, not thousands).
    fn say_once(&self, last: &mut String, e: &anyhow::Error) {
        let text = format!("{e:#}");
        if *last != text {
            eprintln!("netsnoop agent: {text} (retrying)");
            *last = text;
        }
    }

    /// Sleeps, waking early when the agent stops.
    fn sleep(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stop.is_stopped() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }

    fn enroll(&self) -> anyhow::Result<String> {
        let secret = self.secret.clone().context(
            "this agent has no key yet and no enrolment secret: set NETSNOOP_ENROLL_SECRET (or agent.enrollment_secret) to the secret `netsnoop serve` was given",
        )?;
        let req = EnrollRequest {
            secret,
            host: self.host.clone(),
            agent_version: env!("CARGO_PKG_VERSION").into(),
        };
        let resp = self
            .client
            .post(format!("{}{ENROLL_PATH}", self.server))
            .json(&req)
            .send()
            .map_err(|e| anyhow::anyhow!("cannot reach {}: {}", self.server, why(e)))?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().unwrap_or_default();
            anyhow::bail!("enrolment refused ({status}): {}", detail(&text));
        }
        let reply: EnrollReply = resp.json().context("the enrolment answer is not JSON")?;
        self.spool.continue_after(reply.committed)?;
        crate::fsmode::write_private(&self.key_file, &format!("{}\n", reply.key))
            .with_context(|| format!("cannot keep the agent key in {}", self.key_file.display()))?;
        Ok(reply.key)
    }

    fn ship(&self, key: &str, batch: &Spooled) -> Result<u64, Failure> {
        let body = self
            .body(batch)
            .map_err(|e| Failure::Retry(format!("{e:#}")))?;
        let resp = self
            .client
            .post(format!("{}{INGEST_PATH}", self.server))
            .header(AGENT_KEY_HEADER, key)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::CONTENT_ENCODING, "gzip")
            .body(body)
            .send()
            .map_err(|e| Failure::Retry(format!("cannot reach {}: {}", self.server, why(e))))?;
        let status = resp.status();
        if status.is_success() {
            let reply: IngestReply = resp
                .json()
                .map_err(|e| Failure::Retry(format!("the answer is not JSON: {e}")))?;
            return Ok(reply.committed);
        }
        let text = resp.text().unwrap_or_default();
        let why = format!("{status}: {}", detail(&text));
        Err(match status.as_u16() {
            401 if unknown_host(&text) => Failure::Forgotten(why),
            401 => Failure::Refused(why),
            408 | 429 => Failure::Retry(why),
            400..=499 => Failure::Bad(why),
            _ => Failure::Retry(format!("the server answered {why}")),
        })
    }

    /// The batch on the wire: the spooled records inside an `IngestBatch`, gzipped.
    fn body(&self, batch: &Spooled) -> anyhow::Result<Vec<u8>> {
        let stats = self.spool.stats()?;
        let head = serde_json::json!({
            "version": WIRE_VERSION,
            "host": self.host,
            "agent_version": env!("CARGO_PKG_VERSION"),
            "seq": batch.seq,
            "sent_at": Ts::now(),
            "status": AgentStatus {
                spool_batches: stats.batches,
                spool_bytes: stats.bytes,
                spool_dropped_batches: stats.dropped_batches,
                spool_dropped_records: stats.dropped_records,
                degraded: self.degraded.clone(),
            },
        });
        let mut gz = GzEncoder::new(
            Vec::with_capacity(batch.body.len() / 4),
            Compression::fast(),
        );
        let head = serde_json::to_vec(&head)?;
        // `{…head…,"records":[…]}`: the spooled array goes in as it is.
        gz.write_all(&head[..head.len() - 1])?;
        gz.write_all(b",\"records\":")?;
        gz.write_all(&batch.body)?;
        gz.write_all(b"}")?;
        Ok(gz.finish()?)
    }
}

/// A request's failure with every cause under it (the TLS or connection error that the
/// top-level "error sending request" hides), without the URL, which the caller names.
fn why(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// The `detail` of a JSON error answer, else its first 200 characters.
fn detail(text: &str) -> String {
    error_field(text, "detail").unwrap_or_else(|| text.chars().take(200).collect())
}

/// Whether a 401's JSON answer says the server has no record of this host.
fn unknown_host(text: &str) -> bool {
    error_field(text, "error").is_some_and(|code| code == UNKNOWN_HOST)
}

fn error_field(text: &str, field: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get(field).and_then(|d| d.as_str()).map(str::to_string))
}

/// Exponential backoff from 250 ms up to a ceiling, each pause drawn between half and all
/// of its step, so agents cut off together do not come back together.
struct Backoff {
    step: Duration,
    max: Duration,
}

impl Backoff {
    fn new(max: Duration) -> Backoff {
        Backoff {
            step: Duration::from_millis(250),
            max,
        }
    }

    fn reset(&mut self) {
        self.step = Duration::from_millis(250);
    }

    fn next(&mut self) -> Duration {
        let mut r = [0u8; 2];
        let _ = getrandom::fill(&mut r);
        let share = 0.5 + f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX) / 2.0;
        let pause = self.step.mul_f64(share);
        self.step = (self.step * 2).min(self.max);
        pause
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_its_ceiling() {
        let mut b = Backoff::new(Duration::from_secs(2));
        let pauses: Vec<Duration> = (0..8).map(|_| b.next()).collect();
        assert!(pauses[0] >= Duration::from_millis(125) && pauses[0] <= Duration::from_millis(250));
        assert!(pauses[2] >= Duration::from_millis(500) && pauses[2] <= Duration::from_secs(1));
        assert!(pauses.iter().all(|p| *p <= Duration::from_secs(2)));
        assert!(pauses[7] >= Duration::from_secs(1), "{pauses:?}");
        b.reset();
        assert!(b.next() <= Duration::from_millis(250));
    }

    #[test]
    fn an_error_answer_shows_its_detail() {
        assert_eq!(
            detail(r#"{"error":"unauthorized","detail":"revoked"}"#),
            "revoked"
        );
        assert_eq!(detail("plain text"), "plain text");
        assert!(unknown_host(
            r#"{"error":"unknown_host","detail":"new database"}"#
        ));
        assert!(!unknown_host(
            r#"{"error":"unauthorized","detail":"revoked"}"#
        ));
        assert!(!unknown_host("unknown_host"));
    }
}
