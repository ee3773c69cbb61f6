//! Which host a record came from: the host identity every record of a fleet carries.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A monitored host: a stable id (from `/etc/machine-id`, or generated once and kept) and
/// its hostname. One `Arc` is shared by every record of the host.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Host {
    /// Stable id: 1–64 characters of `[A-Za-z0-9._-]`.
    pub id: String,
    /// The hostname the host reports (free text, at most 255 bytes).
    pub name: String,
}

/// The shared handle records carry.
pub type HostRef = Arc<Host>;

/// What the ids of hosts named by NetWatch's `POST /packets` start with: those senders
/// have no machine id, so their name makes one (`netwatch-web1` for `web1`).
pub const NETWATCH_ID_PREFIX: &str = "netwatch-";

/// Why a host identity was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HostError {
    #[error("host id must be 1 to 64 characters of letters, digits, '.', '_' or '-', got {0:?}")]
    BadId(String),
    #[error("hostname must be 1 to 255 bytes without control characters, got {0:?}")]
    BadName(String),
}

impl Host {
    /// A validated host identity.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Result<Host, HostError> {
        let (id, name) = (id.into(), name.into());
        let id_ok = (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !id_ok {
            return Err(HostError::BadId(id));
        }
        if name.is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
            return Err(HostError::BadName(name));
        }
        Ok(Host { id, name })
    }

    /// The host a NetWatch sender names: 1 to 55 characters of letters, digits, '.', '_'
    /// or '-', so that its id is the name behind [`NETWATCH_ID_PREFIX`].
    pub fn netwatch(name: &str) -> Result<Host, HostError> {
        if name.len() > 64 - NETWATCH_ID_PREFIX.len() {
            return Err(HostError::BadId(name.into()));
        }
        Host::new(format!("{NETWATCH_ID_PREFIX}{name}"), name)
    }

    /// Whether NetWatch's `POST /packets` named this host (its packets went through this
    /// server's own pipeline, unlike an agent's records).
    pub fn is_netwatch(&self) -> bool {
        self.id.starts_with(NETWATCH_ID_PREFIX)
    }

    /// The same, shared.
    pub fn shared(self) -> HostRef {
        Arc::new(self)
    }
}

/// A `?host=` filter: ids or hostnames; empty means every host.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HostFilter(pub Vec<String>);

impl HostFilter {
    /// Every host.
    pub fn all() -> HostFilter {
        HostFilter(Vec::new())
    }

    /// True when no host is named.
    pub fn is_all(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a host passes: named by id or by hostname. A record without a host passes
    /// only the empty filter.
    pub fn matches(&self, host: Option<&Host>) -> bool {
        self.is_all() || host.is_some_and(|h| self.0.iter().any(|s| *s == h.id || *s == h.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_validated() {
        assert!(Host::new("0123abcd", "web-1").is_ok());
        assert!(matches!(Host::new("", "x"), Err(HostError::BadId(_))));
        assert!(matches!(Host::new("a/b", "x"), Err(HostError::BadId(_))));
        assert!(matches!(
            Host::new("a".repeat(65), "x"),
            Err(HostError::BadId(_))
        ));
        assert!(matches!(Host::new("a", ""), Err(HostError::BadName(_))));
        assert!(matches!(Host::new("a", "x\ny"), Err(HostError::BadName(_))));
    }

    #[test]
    fn a_netwatch_sender_is_a_host_whose_id_is_its_name() {
        let h = Host::netwatch("web-1").unwrap();
        assert_eq!(
            (h.id.as_str(), h.name.as_str()),
            ("netwatch-web-1", "web-1")
        );
        assert!(h.is_netwatch());
        assert!(!Host::new("0123abcd", "web-1").unwrap().is_netwatch());
        assert!(Host::netwatch("web 1").is_err());
        assert!(Host::netwatch(&"a".repeat(56)).is_err());
        assert!(Host::netwatch(&"a".repeat(55)).is_ok());
    }

    #[test]
    fn a_filter_matches_by_id_or_name() {
        let h = Host::new("id1", "web").unwrap();
        assert!(HostFilter::all().matches(Some(&h)));
        assert!(HostFilter::all().matches(None));
        assert!(HostFilter(vec!["web".into()]).matches(Some(&h)));
        assert!(HostFilter(vec!["id1".into()]).matches(Some(&h)));
        assert!(!HostFilter(vec!["db".into()]).matches(Some(&h)));
        assert!(!HostFilter(vec!["web".into()]).matches(None));
    }
}
