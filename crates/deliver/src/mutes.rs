//! Silences and acknowledgements in force, as delivery sees them: refreshed from the
//! store by the binary, consulted before an alert is queued and before a repeat is sent.

use netsnoop_core::silence::Silence;
use netsnoop_core::{Alert, Ts};
use std::collections::HashSet;
use std::sync::RwLock;

#[derive(Debug, Default)]
pub struct Mutes {
    silences: RwLock<Vec<Silence>>,
    acked: RwLock<HashSet<String>>,
}

impl Mutes {
    /// Replaces what is in force.
    pub fn set(&self, silences: Vec<Silence>, acked: HashSet<String>) {
        *self.silences.write().unwrap_or_else(|p| p.into_inner()) = silences;
        *self.acked.write().unwrap_or_else(|p| p.into_inner()) = acked;
    }

    /// Whether `alert` (raised on `host`) is silenced at `now` or its episode acknowledged.
    pub fn mutes(&self, alert: &Alert, host: &str, now: Ts) -> bool {
        if self
            .acked
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&alert.id)
        {
            return true;
        }
        self.silences
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|s| s.is_active(now) && s.matcher.matches(alert, host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::alert;
    use netsnoop_core::Severity;
    use netsnoop_core::silence::Matcher;

    #[test]
    fn a_silence_mutes_matching_alerts_while_in_force_and_an_ack_its_episode() {
        let m = Mutes::default();
        let a = alert("cpu/1", "cpu.system", Severity::High);
        let b = alert("net/1", "net.portscan", Severity::High);
        assert!(!m.mutes(&a, "h", Ts::from_secs(5)));
        let silence = Silence {
            id: 1,
            matcher: Matcher {
                kind: Some("cpu.*".into()),
                ..Matcher::default()
            },
            starts_at: Ts::from_secs(0),
            ends_at: Ts::from_secs(10),
            author: "ann".into(),
            comment: String::new(),
        };
        m.set(vec![silence], HashSet::from(["net/1".to_string()]));
        assert!(m.mutes(&a, "h", Ts::from_secs(5)));
        assert!(!m.mutes(&a, "h", Ts::from_secs(10)), "expired by itself");
        assert!(m.mutes(&b, "h", Ts::from_secs(50)), "acknowledged");
    }
}
