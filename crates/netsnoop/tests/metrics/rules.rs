//! The shipped Prometheus rules (contrib/prometheus): `promtool check rules` passes,
//! `promtool test rules` passes (each alert firing and not firing), and every NetSnoop
//! metric they name is one /metrics exports.

use crate::prometheus::rules_dir;
use std::process::Command;

fn promtool(args: &[&str]) -> String {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(rules_dir())
        .output()
        .expect("promtool runs (scripts/setup.sh test installs Debian's prometheus)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}:\n{text}");
    text
}

#[test]
fn promtool_checks_the_shipped_rules() {
    let text = promtool(&["check", "rules", "netsnoop.rules.yml"]);
    assert!(text.contains("SUCCESS"), "{text}");
}

#[test]
fn promtool_unit_tests_fire_and_hold_each_shipped_alert() {
    let text = promtool(&["test", "rules", "tests/netsnoop.rules.test.yml"]);
    assert!(text.contains("SUCCESS"), "{text}");
    // Every alerting rule has a test.
    let rules = std::fs::read_to_string(rules_dir().join("netsnoop.rules.yml")).unwrap();
    let tests = std::fs::read_to_string(rules_dir().join("tests/netsnoop.rules.test.yml")).unwrap();
    for line in rules.lines() {
        if let Some(name) = line.trim().strip_prefix("- alert: ") {
            assert!(
                tests.contains(&format!("alertname: {name}")),
                "{name} has no promtool test"
            );
        }
    }
}

#[test]
fn every_metric_the_rules_name_is_exported() {
    let run = crate::run::Run::start();
    let text = run.metrics();
    let rules = std::fs::read_to_string(rules_dir().join("netsnoop.rules.yml")).unwrap();
    let mut names: Vec<String> = Vec::new();
    for word in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("netsnoop_") && !names.iter().any(|n| n == word) {
            names.push(word.to_string());
        }
    }
    assert!(names.len() >= 6, "{names:?}");
    for name in names {
        // A family with series, or one declared without any yet: the per-agent families
        // (`netsnoop_agent_*`) get a series per agent once agents report.
        let family = name.strip_suffix("_total").unwrap_or(&name);
        let declared = format!("# TYPE {family} ");
        let per_agent = name.starts_with("netsnoop_agent_");
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{name}{{"))
                || l.starts_with(&format!("{name} "))
                || (per_agent && l.starts_with(&declared))),
            "the rules use {name}, which /metrics does not export"
        );
    }
}
