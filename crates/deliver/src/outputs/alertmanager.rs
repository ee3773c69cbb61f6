//! Alertmanager: each alert to `POST /api/v2/alerts` with our labels and annotations;
//! an open alert's `endsAt` lies four repeat intervals ahead (re-sent before then), a
//! resolved one's is when it ended.

use super::http::Http;
use super::text::{annotations, labels};
use super::{BuildError, Context, Output, SendError, utc};
use crate::config::AlertmanagerConfig;
use netsnoop_core::time::Span;
use netsnoop_core::{Alert, Ts};
use serde_json::{Value, json};
use std::time::Duration;

pub struct Alertmanager {
    http: Http,
    generator_url: String,
    /// How long an open alert stays firing without a re-send.
    lifetime: Span,
}

impl Alertmanager {
    pub fn new(
        c: &AlertmanagerConfig,
        timeout: Duration,
        repeat_secs: f64,
    ) -> Result<Alertmanager, BuildError> {
        let http = Http::new(&c.url, &c.headers, None, timeout)?.with_path("/api/v2/alerts");
        let repeat = if repeat_secs > 0.0 { repeat_secs } else { 60.0 };
        Ok(Alertmanager {
            http,
            generator_url: c.generator_url.clone().unwrap_or_default(),
            lifetime: Span::secs_f64(repeat * 4.0),
        })
    }
}

/// The body for Alertmanager's `POST /api/v2/alerts`.
pub fn body(alerts: &[Alert], host: &str, now: Ts, lifetime: Span, generator: &str) -> Value {
    let items: Vec<Value> = alerts
        .iter()
        .map(|a| {
            let ends = if a.is_active() {
                now + lifetime
            } else {
                a.last_seen.max(a.first_seen)
            };
            let mut v = json!({
                "labels": labels(a, host),
                "annotations": annotations(a),
                "startsAt": utc(a.first_seen),
                "endsAt": utc(ends),
            });
            if !generator.is_empty() {
                v["generatorURL"] = json!(generator);
            }
            v
        })
        .collect();
    Value::Array(items)
}

impl Output for Alertmanager {
    fn send(&mut self, alerts: &[Alert], ctx: &Context) -> Result<(), SendError> {
        let b = body(
            alerts,
            &ctx.host,
            ctx.now,
            self.lifetime,
            &self.generator_url,
        );
        self.http.post_json(&b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{alert, resolved};
    use netsnoop_core::Severity;

    #[test]
    fn an_open_alert_ends_after_its_lifetime_and_a_resolved_one_when_it_ended() {
        let a = alert("cpu/1", "cpu.process.critical", Severity::Critical);
        let b = body(
            &[a.clone(), resolved(&a, 1_030)],
            "web-1",
            Ts::from_secs(1_010),
            Span::secs(240),
            "",
        );
        assert_eq!(b[0]["labels"]["kind"], "cpu.process.critical");
        assert_eq!(b[0]["labels"]["severity"], "critical");
        assert_eq!(b[0]["labels"]["host"], "web-1");
        assert_eq!(b[0]["labels"]["subject"], "stress[42]");
        assert_eq!(b[0]["annotations"]["message"], a.message);
        assert_eq!(b[0]["annotations"]["details"], "{\"cpu\":99.5}");
        assert_eq!(b[0]["startsAt"], "1970-01-01T00:16:40Z");
        assert_eq!(b[0]["endsAt"], "1970-01-01T00:20:50Z");
        assert_eq!(b[1]["endsAt"], "1970-01-01T00:17:10Z");
        assert!(b[0].get("generatorURL").is_none());
    }
}
