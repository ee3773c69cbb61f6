//! Webhooks: Alertmanager's webhook payload (version 4), so its receivers and bridges
//! work unchanged, or a `{"text"}`/`{"content"}` body for Slack, Mattermost or Discord.

use super::http::Http;
use super::text::{annotations, fingerprint, labels, line, summary};
use super::{BuildError, Context, Output, SendError, utc};
use crate::config::{WebhookConfig, WebhookFormat};
use crate::secret::value_or_file;
use netsnoop_core::Alert;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Discord refuses longer messages.
const DISCORD_MAX: usize = 2000;
/// Alertmanager's "zero time" for an alert still firing.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

pub struct Webhook {
    http: Http,
    format: WebhookFormat,
}

impl Webhook {
    pub fn new(c: &WebhookConfig, timeout: Duration) -> Result<Webhook, BuildError> {
        let bearer = value_or_file(c.bearer_token.as_ref(), c.bearer_token_file.as_deref())?;
        Ok(Webhook {
            http: Http::new(&c.url, &c.headers, bearer, timeout)?,
            format: c.format,
        })
    }
}

/// Labels (or annotations) every alert of the group shares.
fn common(maps: &[Map<String, Value>]) -> Map<String, Value> {
    let Some(first) = maps.first() else {
        return Map::new();
    };
    first
        .iter()
        .filter(|(k, v)| maps.iter().all(|m| m.get(*k) == Some(v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Alertmanager's webhook payload, version 4.
pub fn alertmanager_v4(alerts: &[Alert], ctx: &Context) -> Value {
    let labels: Vec<Map<String, Value>> = alerts.iter().map(|a| labels(a, &ctx.host)).collect();
    let annots: Vec<Map<String, Value>> = alerts.iter().map(annotations).collect();
    let items: Vec<Value> = alerts
        .iter()
        .zip(&labels)
        .zip(&annots)
        .map(|((a, l), n)| {
            json!({
                "status": if a.is_active() { "firing" } else { "resolved" },
                "labels": l,
                "annotations": n,
                "startsAt": utc(a.first_seen),
                "endsAt": if a.is_active() { ZERO_TIME.to_string() } else { utc(a.last_seen) },
                "generatorURL": "",
                "fingerprint": fingerprint(l),
            })
        })
        .collect();
    let firing = alerts.iter().any(Alert::is_active);
    let mut group_labels = Map::new();
    group_labels.insert("host".into(), json!(ctx.host));
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{host=\"{}\"}}", ctx.host),
        "truncatedAlerts": 0,
        "status": if firing { "firing" } else { "resolved" },
        "receiver": ctx.output,
        "groupLabels": group_labels,
        "commonLabels": common(&labels),
        "commonAnnotations": common(&annots),
        "externalURL": "",
        "alerts": items,
    })
}

/// The chat message: the group's summary, then one line per alert.
pub fn chat_text(alerts: &[Alert], ctx: &Context) -> String {
    let mut text = summary(alerts, &ctx.host);
    for a in alerts {
        text.push('\n');
        text.push_str(&line(a));
    }
    text
}

impl Output for Webhook {
    fn send(&mut self, alerts: &[Alert], ctx: &Context) -> Result<(), SendError> {
        let body = match self.format {
            WebhookFormat::Alertmanager => alertmanager_v4(alerts, ctx),
            WebhookFormat::Slack | WebhookFormat::Mattermost => {
                json!({ "text": chat_text(alerts, ctx) })
            }
            WebhookFormat::Discord => {
                let text: String = chat_text(alerts, ctx).chars().take(DISCORD_MAX).collect();
                json!({ "content": text })
            }
        };
        self.http.post_json(&body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{alert, resolved};
    use netsnoop_core::{Severity, Ts};

    fn ctx() -> Context {
        Context {
            output: "hook".into(),
            host: "web-1".into(),
            now: Ts::from_secs(2_000),
        }
    }

    #[test]
    fn the_v4_payload_has_group_status_common_labels_and_per_alert_fields() {
        let a = alert("a", "cpu.system", Severity::High);
        let b = resolved(&alert("b", "cpu.system", Severity::High), 1_050);
        let v = alertmanager_v4(&[a, b], &ctx());
        assert_eq!(v["version"], "4");
        assert_eq!(v["status"], "firing");
        assert_eq!(v["receiver"], "hook");
        assert_eq!(v["commonLabels"]["kind"], "cpu.system");
        assert!(v["commonLabels"].get("episode").is_none());
        assert_eq!(v["alerts"][0]["status"], "firing");
        assert_eq!(v["alerts"][0]["endsAt"], ZERO_TIME);
        assert_eq!(v["alerts"][1]["status"], "resolved");
        assert_eq!(v["alerts"][1]["endsAt"], "1970-01-01T00:17:30Z");
        assert_ne!(v["alerts"][0]["fingerprint"], v["alerts"][1]["fingerprint"]);
    }

    #[test]
    fn chat_text_has_a_summary_and_a_line_per_alert() {
        let a = alert("a", "cpu.system", Severity::High);
        assert_eq!(
            chat_text(&[a], &ctx()),
            "[FIRING:1] cpu.system on web-1\n[FIRING] HIGH cpu.system stress[42]: cpu.system on stress[42]"
        );
    }
}
