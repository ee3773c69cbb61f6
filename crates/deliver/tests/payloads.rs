//! Webhook (Alertmanager payload v4, chat templates) and Falco payloads, as a real HTTP
//! receiver on loopback records them, checked against their documented schemas.

#![allow(clippy::unwrap_used)]

mod common;

use common::{alert, falco, is_rfc3339, resolved, webhook};
use netsnoop_core::Severity;
use netsnoop_deliver::Delivery;
use netsnoop_deliver::config::WebhookFormat;
use netsnoop_test_support::receiver::{Behaviour, Receiver};
use serde_json::Value;
use std::time::Duration;

fn next(r: &Receiver) -> (netsnoop_test_support::receiver::Received, Value) {
    let req = r
        .requests
        .recv_timeout(Duration::from_secs(10))
        .expect("a request within 10 s");
    let v: Value = serde_json::from_str(&req.body).unwrap_or_else(|e| panic!("{e}: {}", req.body));
    (req, v)
}

#[test]
fn a_webhook_burst_arrives_as_one_alertmanager_v4_payload() {
    let r = Receiver::start(Behaviour::Answer);
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "tok-123\n").unwrap();
    let mut cfg = webhook("hook", &r.url(), 0.5);
    cfg.webhook.as_mut().unwrap().bearer_token_file = Some(token);
    let mut d = Delivery::start(&[cfg], "web-1").unwrap();
    let a = alert(1, "cpu.process.critical", Severity::Critical);
    let b = alert(2, "cpu.process.critical", Severity::Critical);
    d.offer(&a);
    d.offer(&b);
    let (req, v) = next(&r);
    assert_eq!(req.method, "POST");
    assert_eq!(req.headers.get("authorization").unwrap(), "Bearer tok-123");
    assert_eq!(req.headers.get("content-type").unwrap(), "application/json");
    // Alertmanager's webhook_config payload, version 4: every documented field.
    assert_eq!(v["version"], "4");
    assert!(v["groupKey"].is_string(), "{v}");
    assert_eq!(v["truncatedAlerts"], 0);
    assert_eq!(v["status"], "firing");
    assert_eq!(v["receiver"], "hook");
    assert!(v["groupLabels"].is_object());
    assert_eq!(v["commonLabels"]["kind"], "cpu.process.critical");
    assert_eq!(v["commonLabels"]["severity"], "critical");
    assert_eq!(v["commonLabels"]["host"], "web-1");
    assert!(v["commonAnnotations"].is_object());
    assert!(v["externalURL"].is_string());
    let alerts = v["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2, "one message for the burst: {v}");
    for (item, a) in alerts.iter().zip([&a, &b]) {
        assert_eq!(item["status"], "firing");
        assert_eq!(item["labels"]["episode"], a.id.as_str());
        assert_eq!(
            item["labels"]["subject"],
            format!("burn[{}]", a.subject.pid.unwrap())
        );
        assert_eq!(item["annotations"]["message"], a.message.as_str());
        assert!(
            is_rfc3339(&item["startsAt"]) && is_rfc3339(&item["endsAt"]),
            "{item}"
        );
        assert!(item["generatorURL"].is_string());
        assert_eq!(item["fingerprint"].as_str().unwrap().len(), 16);
    }
    // The resolution follows as its own group, and updates of a sent episode do not.
    d.offer(&a);
    d.offer(&resolved(&a));
    let (_, v) = next(&r);
    assert_eq!(v["status"], "resolved");
    assert_eq!(v["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(v["alerts"][0]["labels"]["episode"], a.id.as_str());
    d.close();
    assert_eq!(d.counts()[0].delivered, 3);
    assert!(r.requests.try_recv().is_err(), "nothing more was sent");
}

#[test]
fn slack_and_discord_templates_send_text_and_content() {
    let r = Receiver::start(Behaviour::Answer);
    let mut slack = webhook("slack", &r.url(), 0.0);
    slack.webhook.as_mut().unwrap().format = WebhookFormat::Slack;
    let mut discord = webhook("discord", &r.url(), 0.0);
    discord.webhook.as_mut().unwrap().format = WebhookFormat::Discord;
    let mut d = Delivery::start(&[slack], "web-1").unwrap();
    d.offer(&alert(7, "net.portscan", Severity::High));
    let (_, v) = next(&r);
    let text = v["text"].as_str().unwrap();
    assert!(
        text.starts_with("[FIRING:1] net.portscan on web-1\n"),
        "{text}"
    );
    assert!(
        text.contains("HIGH net.portscan burn[7]: alert number 7"),
        "{text}"
    );
    d.close();
    let mut d = Delivery::start(&[discord], "web-1").unwrap();
    d.offer(&alert(8, "net.portscan", Severity::High));
    let (_, v) = next(&r);
    assert!(v["content"].as_str().unwrap().contains("burn[8]"), "{v}");
    d.close();
}

#[test]
fn falco_events_carry_every_field_of_falcos_output_schema() {
    let r = Receiver::start(Behaviour::Answer);
    let mut d = Delivery::start(&[falco("falco", &r.url())], "web-1").unwrap();
    d.offer(&alert(3, "net.portscan", Severity::High));
    d.offer(&alert(4, "process.burst", Severity::Medium));
    let priorities = [
        "Emergency",
        "Alert",
        "Critical",
        "Error",
        "Warning",
        "Notice",
        "Informational",
        "Debug",
    ];
    for (n, rule, priority) in [
        (3, "net.portscan", "Error"),
        (4, "process.burst", "Warning"),
    ] {
        let (_, v) = next(&r);
        assert_eq!(v["rule"], rule);
        assert!(priorities.contains(&v["priority"].as_str().unwrap()));
        assert_eq!(v["priority"], priority);
        assert!(
            v["output"]
                .as_str()
                .unwrap()
                .contains(&format!("alert number {n}"))
        );
        assert!(v["output_fields"].is_object());
        assert_eq!(v["output_fields"]["proc.pid"], n);
        assert_eq!(v["output_fields"]["proc.name"], "burn");
        assert_eq!(v["output_fields"]["netsnoop.details.n"], n);
        let time = v["time"].as_str().unwrap();
        assert!(time.ends_with('Z') && is_rfc3339(&v["time"]), "{time}");
        assert_eq!(v["hostname"], "web-1");
        assert_eq!(v["tags"][0], "netsnoop");
        assert!(v["tags"].as_array().unwrap().contains(&"lab".into()));
        assert_eq!(v["source"], "netsnoop");
    }
    d.close();
    assert_eq!(d.counts()[0].delivered, 2);
}

#[test]
fn routes_send_only_the_severities_and_kinds_they_name() {
    let r = Receiver::start(Behaviour::Answer);
    let mut cfg = falco("falco", &r.url());
    cfg.min_severity = Severity::High;
    cfg.kinds = vec!["net.*".into()];
    let mut d = Delivery::start(&[cfg], "web-1").unwrap();
    d.offer(&alert(1, "net.portscan", Severity::Medium));
    d.offer(&alert(2, "cpu.system", Severity::Critical));
    d.offer(&alert(3, "net.sweep", Severity::High));
    let (_, v) = next(&r);
    assert_eq!(v["rule"], "net.sweep");
    d.close();
    assert!(r.requests.try_recv().is_err());
    assert_eq!(d.counts()[0].delivered, 1);
}

#[test]
fn an_output_with_a_url_that_is_no_http_url_is_refused_at_start() {
    let cfg = webhook("hook", "ftp://nowhere", 0.0);
    let err = Delivery::start(&[cfg], "h")
        .err()
        .expect("a bad URL is refused");
    assert!(err.to_string().contains("http://"), "{err}");
    assert!(err.to_string().contains("\"hook\""), "{err}");
}
