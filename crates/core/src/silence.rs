//! Silences and acknowledgements: who muted which alerts, until when and why. A
//! silenced or acknowledged alert is still stored and shown, only not delivered.

use crate::{Alert, Ts};
use serde::{Deserialize, Serialize};

/// Which alerts a silence covers: every given field must match (globs with `*` and `?`);
/// a field left out matches anything. At least one field must be given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    /// Alert kind, e.g. `cpu.*` or `net.portscan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Any subject field: pid, process name, user, command, source or destination IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// Why a matcher was refused; names the fix.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MatcherError {
    #[error("the matcher is empty: give at least one of kind, host or subject")]
    Empty,
    #[error("{field} {glob:?} is no glob ({error}): use * and ? wildcards")]
    BadGlob {
        field: &'static str,
        glob: String,
        error: String,
    },
}

fn glob(field: &'static str, g: &str) -> Result<globset::GlobMatcher, MatcherError> {
    globset::Glob::new(g)
        .map(|g| g.compile_matcher())
        .map_err(|e| MatcherError::BadGlob {
            field,
            glob: g.to_string(),
            error: e.kind().to_string(),
        })
}

impl Matcher {
    /// Checks the matcher can be used.
    pub fn validate(&self) -> Result<(), MatcherError> {
        if self.kind.is_none() && self.host.is_none() && self.subject.is_none() {
            return Err(MatcherError::Empty);
        }
        for (field, g) in [
            ("kind", &self.kind),
            ("host", &self.host),
            ("subject", &self.subject),
        ] {
            if let Some(g) = g {
                glob(field, g)?;
            }
        }
        Ok(())
    }

    /// Whether `alert`, raised on `host`, is covered. An invalid glob matches nothing.
    pub fn matches(&self, alert: &Alert, host: &str) -> bool {
        let one = |field: &'static str, g: &Option<String>, values: &[String]| match g {
            None => true,
            Some(g) => glob(field, g).is_ok_and(|m| values.iter().any(|v| m.is_match(v))),
        };
        let s = &alert.subject;
        let mut subjects = Vec::new();
        subjects.extend(s.pid.map(|p| p.to_string()));
        subjects.extend(s.process_name.clone());
        subjects.extend(s.user.clone());
        subjects.extend(s.command.clone());
        subjects.extend(s.src_ip.map(|ip| ip.to_string()));
        subjects.extend(s.dst_ip.map(|ip| ip.to_string()));
        one("kind", &self.kind, std::slice::from_ref(&alert.kind))
            && one("host", &self.host, &[host.to_string()])
            && one("subject", &self.subject, &subjects)
    }
}

/// A silence: alerts matching it are not delivered from `starts_at` until `ends_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    /// Given by the store (0 before it is stored).
    pub id: i64,
    pub matcher: Matcher,
    pub starts_at: Ts,
    pub ends_at: Ts,
    pub author: String,
    pub comment: String,
}

impl Silence {
    pub fn is_active(&self, now: Ts) -> bool {
        self.starts_at <= now && now < self.ends_at
    }
}

/// An acknowledgement: someone is on it, so the episode is not delivered again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub alert_id: String,
    pub author: String,
    pub comment: String,
    pub at: Ts,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AlertState, Severity, Subject};

    fn alert() -> Alert {
        Alert {
            host: None,
            id: "a".into(),
            kind: "cpu.process.critical".into(),
            severity: Severity::Critical,
            label: None,
            state: AlertState::Active,
            first_seen: Ts(0),
            last_seen: Ts(0),
            subject: Subject::process(42, "stress"),
            message: String::new(),
            details: serde_json::Value::Null,
        }
    }

    #[test]
    fn every_given_field_must_match_and_absent_ones_match_anything() {
        let m = Matcher {
            kind: Some("cpu.*".into()),
            subject: Some("stress".into()),
            host: None,
        };
        assert!(m.matches(&alert(), "web-1"));
        let other_host = Matcher {
            host: Some("db-*".into()),
            ..m.clone()
        };
        assert!(!other_host.matches(&alert(), "web-1"));
        let pid = Matcher {
            subject: Some("42".into()),
            ..Matcher::default()
        };
        assert!(pid.matches(&alert(), "web-1"));
    }

    #[test]
    fn an_empty_matcher_or_a_bad_glob_is_refused() {
        assert_eq!(Matcher::default().validate(), Err(MatcherError::Empty));
        let bad = Matcher {
            kind: Some("cpu.[".into()),
            ..Matcher::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("kind \"cpu.[\"")
        );
        assert!(!bad.matches(&alert(), "h"));
    }

    #[test]
    fn a_silence_is_active_from_its_start_until_its_end() {
        let s = Silence {
            id: 1,
            matcher: Matcher::default(),
            starts_at: Ts::from_secs(10),
            ends_at: Ts::from_secs(20),
            author: "ann".into(),
            comment: "maintenance".into(),
        };
        assert!(!s.is_active(Ts::from_secs(9)));
        assert!(s.is_active(Ts::from_secs(10)));
        assert!(!s.is_active(Ts::from_secs(20)));
    }
}
