//! Alerts and output configs the delivery tests share.
#![allow(dead_code)]

use netsnoop_core::{Alert, AlertState, Severity, Subject, Ts};
use netsnoop_deliver::OutputConfig;
use netsnoop_deliver::config::{FalcoConfig, WebhookConfig, WebhookFormat};

/// An active alert numbered `n` about process `burn[n]`.
pub fn alert(n: u32, kind: &str, severity: Severity) -> Alert {
    let now = Ts::now();
    Alert {
        host: None,
        id: format!("{kind}/{n}/{}", now.micros()),
        kind: kind.into(),
        severity,
        label: None,
        state: AlertState::Active,
        first_seen: now,
        last_seen: now,
        subject: Subject::process(n, "burn"),
        message: format!("alert number {n}"),
        details: serde_json::json!({ "n": n }),
    }
}

pub fn resolved(a: &Alert) -> Alert {
    let mut r = a.clone();
    r.state = AlertState::Resolved;
    r.last_seen = Ts::now();
    r
}

pub fn webhook(name: &str, url: &str, group_secs: f64) -> OutputConfig {
    let mut c = OutputConfig::named(name);
    c.group_secs = Some(group_secs);
    c.webhook = Some(WebhookConfig {
        url: url.into(),
        format: WebhookFormat::Alertmanager,
        bearer_token: None,
        bearer_token_file: None,
        headers: Default::default(),
    });
    c
}

pub fn falco(name: &str, url: &str) -> OutputConfig {
    let mut c = OutputConfig::named(name);
    c.falco = Some(FalcoConfig {
        url: url.into(),
        headers: Default::default(),
        tags: vec!["lab".into()],
    });
    c
}

/// An RFC 3339 time Alertmanager and Falco parsers take.
pub fn is_rfc3339(v: &serde_json::Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.parse::<jiff::Timestamp>().is_ok())
}
