//! What every receiver shares: an alert's labels and annotations, its one-line summary,
//! and HTML escaping for untrusted strings.

use crate::route::subject_label;
use netsnoop_core::Alert;
use serde_json::{Map, Value, json};

/// The labels an alert carries to Alertmanager and webhook receivers.
pub fn labels(a: &Alert, host: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("alertname".into(), json!(a.kind));
    m.insert("kind".into(), json!(a.kind));
    m.insert("severity".into(), json!(a.severity.as_str()));
    m.insert("host".into(), json!(host));
    m.insert("subject".into(), json!(subject_label(a)));
    m.insert("episode".into(), json!(a.id));
    m
}

/// `message` and `details` (the structured facts, as compact JSON).
pub fn annotations(a: &Alert) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("message".into(), json!(a.message));
    m.insert("details".into(), json!(a.details.to_string()));
    m
}

/// `FIRING` or `RESOLVED`.
pub fn status_word(a: &Alert) -> &'static str {
    if a.is_active() { "FIRING" } else { "RESOLVED" }
}

/// One line: `[FIRING] HIGH cpu.process.critical stress[42]: message`.
pub fn line(a: &Alert) -> String {
    format!(
        "[{}] {} {} {}: {}",
        status_word(a),
        a.display_label(),
        a.kind,
        subject_label(a),
        a.message
    )
}

/// A subject line for a group: `[FIRING:2] cpu.process.critical, net.portscan on web-1`.
pub fn summary(alerts: &[Alert], host: &str) -> String {
    let firing = alerts.iter().filter(|a| a.is_active()).count();
    let status = if firing > 0 {
        format!("FIRING:{firing}")
    } else {
        format!("RESOLVED:{}", alerts.len())
    };
    let mut kinds: Vec<&str> = alerts.iter().map(|a| a.kind.as_str()).collect();
    kinds.dedup();
    kinds.truncate(3);
    format!("[{status}] {} on {host}", kinds.join(", "))
}

/// Escapes the five HTML metacharacters, so alert text is shown as text.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A 64-bit FNV-1a hash of the labels, as 16 hex digits (the webhook's `fingerprint`).
pub fn fingerprint(labels: &Map<String, Value>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in labels {
        for b in k
            .bytes()
            .chain([0xff])
            .chain(v.to_string().bytes())
            .chain([0xff])
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::alert;
    use netsnoop_core::Severity;

    #[test]
    fn html_metacharacters_are_escaped() {
        assert_eq!(
            html_escape("<script>a&b\"'</script>"),
            "&lt;script&gt;a&amp;b&quot;&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn a_group_summary_counts_the_firing_alerts() {
        let a = alert("a", "cpu.system", Severity::High);
        let b = alert("b", "net.portscan", Severity::High);
        assert_eq!(
            summary(&[a, b], "web-1"),
            "[FIRING:2] cpu.system, net.portscan on web-1"
        );
    }
}
