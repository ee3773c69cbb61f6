//! Which alerts an output takes: minimum severity, and globs over kinds, hosts and
//! subjects.

use crate::config::OutputConfig;
use globset::{Glob, GlobSet, GlobSetBuilder};
use netsnoop_core::{Alert, Severity};

/// A compiled route; an empty glob list matches everything.
#[derive(Clone, Debug)]
pub struct Route {
    min_severity: Severity,
    kinds: Option<GlobSet>,
    hosts: Option<GlobSet>,
    subjects: Option<GlobSet>,
}

fn compile(globs: &[String]) -> Result<Option<GlobSet>, globset::Error> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(Glob::new(g)?);
    }
    b.build().map(Some)
}

impl Route {
    pub fn new(cfg: &OutputConfig) -> Result<Route, globset::Error> {
        Ok(Route {
            min_severity: cfg.min_severity,
            kinds: compile(&cfg.kinds)?,
            hosts: compile(&cfg.hosts)?,
            subjects: compile(&cfg.subjects)?,
        })
    }

    /// Whether `alert`, raised on `host`, goes to this output.
    pub fn matches(&self, alert: &Alert, host: &str) -> bool {
        if alert.severity < self.min_severity {
            return false;
        }
        if let Some(k) = &self.kinds
            && !k.is_match(&alert.kind)
        {
            return false;
        }
        if let Some(h) = &self.hosts
            && !h.is_match(host)
        {
            return false;
        }
        if let Some(s) = &self.subjects {
            return subject_strings(alert).iter().any(|v| s.is_match(v));
        }
        true
    }
}

/// Every subject field of an alert as text: pid, process name, user, command, IPs.
pub fn subject_strings(alert: &Alert) -> Vec<String> {
    let s = &alert.subject;
    let mut out = Vec::new();
    out.extend(s.pid.map(|p| p.to_string()));
    out.extend(s.process_name.clone());
    out.extend(s.user.clone());
    out.extend(s.command.clone());
    out.extend(s.src_ip.map(|ip| ip.to_string()));
    out.extend(s.dst_ip.map(|ip| ip.to_string()));
    out
}

/// The subject in one short string, for labels and subjects lines: the process
/// (`name[pid]`), else the source IP, user or destination, else `host`.
pub fn subject_label(alert: &Alert) -> String {
    let s = &alert.subject;
    match (&s.process_name, s.pid) {
        (Some(n), Some(p)) => format!("{n}[{p}]"),
        (None, Some(p)) => format!("pid {p}"),
        _ => s
            .src_ip
            .map(|ip| ip.to_string())
            .or_else(|| s.user.clone())
            .or_else(|| s.dst_ip.map(|ip| ip.to_string()))
            .unwrap_or_else(|| "host".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::alert;

    fn route(f: impl FnOnce(&mut OutputConfig)) -> Route {
        let mut c = OutputConfig::named("t");
        f(&mut c);
        Route::new(&c).expect("valid globs")
    }

    #[test]
    fn alerts_below_the_minimum_severity_are_not_routed() {
        let r = route(|c| c.min_severity = Severity::High);
        assert!(!r.matches(&alert("a", "cpu.system", Severity::Medium), "h"));
        assert!(r.matches(&alert("a", "cpu.system", Severity::High), "h"));
    }

    #[test]
    fn kinds_hosts_and_subjects_match_as_globs() {
        let r = route(|c| {
            c.kinds = vec!["cpu.*".into()];
            c.hosts = vec!["web-*".into()];
            c.subjects = vec!["stress*".into()];
        });
        let a = alert("a", "cpu.process.critical", Severity::High);
        assert!(r.matches(&a, "web-1"));
        assert!(!r.matches(&a, "db-1"));
        assert!(!r.matches(&alert("a", "net.portscan", Severity::High), "web-1"));
        let mut other = a.clone();
        other.subject.process_name = Some("bash".into());
        assert!(!r.matches(&other, "web-1"));
    }

    #[test]
    fn the_subject_label_names_the_process_or_the_source() {
        let a = alert("a", "cpu.process.critical", Severity::High);
        assert_eq!(subject_label(&a), "stress[42]");
        let mut n = a.clone();
        n.subject = netsnoop_core::Subject::source_ip([10, 0, 0, 9].into());
        assert_eq!(subject_label(&n), "10.0.0.9");
        n.subject = netsnoop_core::Subject::host();
        assert_eq!(subject_label(&n), "host");
    }
}
