//! Falco-shaped events (`rule`, `priority`, `output`, `output_fields`, `time`,
//! `hostname`, `tags`, `source`), one POST per alert, as falcosidekick takes them.

use super::http::Http;
use super::text::line;
use super::{BuildError, Context, Output, SendError, utc};
use crate::config::FalcoConfig;
use netsnoop_core::{Alert, Severity};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

pub struct Falco {
    http: Http,
    tags: Vec<String>,
}

impl Falco {
    pub fn new(c: &FalcoConfig, timeout: Duration) -> Result<Falco, BuildError> {
        Ok(Falco {
            http: Http::new(&c.url, &c.headers, None, timeout)?,
            tags: c.tags.clone(),
        })
    }
}

/// Falco's priority names for our severities.
pub fn priority(s: Severity) -> &'static str {
    match s {
        Severity::Info => "Informational",
        Severity::Low => "Notice",
        Severity::Medium => "Warning",
        Severity::High => "Error",
        Severity::Critical => "Critical",
    }
}

/// One Falco event.
pub fn event(a: &Alert, host: &str, extra_tags: &[String]) -> Value {
    let mut fields = Map::new();
    fields.insert("netsnoop.id".into(), json!(a.id));
    fields.insert("netsnoop.kind".into(), json!(a.kind));
    fields.insert("netsnoop.severity".into(), json!(a.severity.as_str()));
    fields.insert(
        "netsnoop.state".into(),
        json!(if a.is_active() { "active" } else { "resolved" }),
    );
    fields.insert("netsnoop.first_seen".into(), json!(utc(a.first_seen)));
    let s = &a.subject;
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            fields.insert(k.into(), v);
        }
    };
    put("proc.pid", s.pid.map(|p| json!(p)));
    put("proc.name", s.process_name.as_ref().map(|v| json!(v)));
    put("proc.cmdline", s.command.as_ref().map(|v| json!(v)));
    put("user.name", s.user.as_ref().map(|v| json!(v)));
    put("fd.sip", s.src_ip.map(|ip| json!(ip.to_string())));
    put("fd.dip", s.dst_ip.map(|ip| json!(ip.to_string())));
    if let Value::Object(d) = &a.details {
        let sorted: BTreeMap<&String, &Value> = d.iter().collect();
        for (k, v) in sorted {
            fields.insert(format!("netsnoop.details.{k}"), v.clone());
        }
    }
    let mut tags = vec!["netsnoop".to_string()];
    tags.extend(a.kind.split('.').next().map(str::to_string));
    tags.extend(extra_tags.iter().cloned());
    json!({
        "rule": a.kind,
        "priority": priority(a.severity),
        "output": format!("{} {}", utc(a.last_seen), line(a)),
        "output_fields": fields,
        "time": utc(a.last_seen),
        "hostname": host,
        "tags": tags,
        "source": "netsnoop",
    })
}

impl Output for Falco {
    fn send(&mut self, alerts: &[Alert], ctx: &Context) -> Result<(), SendError> {
        for a in alerts {
            self.http.post_json(&event(a, &ctx.host, &self.tags))?;
        }
        Ok(())
    }

    fn per_alert(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::alert;

    #[test]
    fn a_falco_event_maps_severity_subject_and_details() {
        let a = alert("a", "cpu.process.critical", Severity::Critical);
        let e = event(&a, "web-1", &["prod".into()]);
        assert_eq!(e["rule"], "cpu.process.critical");
        assert_eq!(e["priority"], "Critical");
        assert_eq!(e["hostname"], "web-1");
        assert_eq!(e["source"], "netsnoop");
        assert_eq!(e["tags"], json!(["netsnoop", "cpu", "prod"]));
        assert_eq!(e["output_fields"]["proc.pid"], 42);
        assert_eq!(e["output_fields"]["proc.name"], "stress");
        assert_eq!(e["output_fields"]["netsnoop.details.cpu"], 99.5);
        assert_eq!(e["time"], "1970-01-01T00:16:40Z");
    }
}
