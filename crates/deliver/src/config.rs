//! The `[[outputs]]` config sections: one per output, its route and its receiver, with
//! documented defaults and unknown keys refused.

use crate::secret::SecretString;
use netsnoop_core::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One output: where alerts go (exactly one of the receiver tables), which alerts
/// (the route fields) and how hard to try.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// The output's name in `/health`, `/metrics`, logs and `alerts test --output NAME`.
    pub name: String,
    /// Alerts below this severity are not sent.
    #[serde(default)]
    pub min_severity: Severity,
    /// Alert kinds to send, as globs (`cpu.*`, `net.portscan`); empty sends every kind.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Host names to send for, as globs; empty sends every host.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Subjects to send for, as globs over pid, process name, user, command and IPs;
    /// empty sends every subject.
    #[serde(default)]
    pub subjects: Vec<String>,
    /// Alerts that arrive within this window go out as one message (0: each at once).
    /// Default: 10 s for webhooks and email, 0 for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_secs: Option<f64>,
    /// An alert still open is sent again after this long (Alertmanager needs it to
    /// keep the alert firing). 0: never. Default: 60 s for Alertmanager, else 3600 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_secs: Option<f64>,
    /// Whether the end of an episode is sent.
    #[serde(default = "defaults::yes")]
    pub send_resolved: bool,
    /// Alerts waiting for this output at most; more are dropped and counted.
    #[serde(default = "defaults::queue")]
    pub queue: usize,
    /// How long one attempt may take.
    #[serde(default = "defaults::timeout_secs")]
    pub timeout_secs: f64,
    /// The longest wait between retries (they start at 0.5 s and double, with jitter).
    #[serde(default = "defaults::retry_max_secs")]
    pub retry_max_secs: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alertmanager: Option<AlertmanagerConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub falco: Option<FalcoConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<ProgramConfig>,
}

mod defaults {
    pub fn yes() -> bool {
        true
    }
    pub fn queue() -> usize {
        1000
    }
    pub fn timeout_secs() -> f64 {
        10.0
    }
    pub fn retry_max_secs() -> f64 {
        60.0
    }
}

/// `[outputs.alertmanager]`: pushes to Alertmanager's `POST /api/v2/alerts`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    /// Alertmanager's base URL, e.g. `http://127.0.0.1:9093`.
    pub url: SecretString,
    /// Extra HTTP headers (values may be `${ENV}`), e.g. a proxy's Authorization.
    #[serde(default)]
    pub headers: BTreeMap<String, SecretString>,
    /// Where the alert can be seen (`generatorURL`), e.g. the dashboard.
    #[serde(default)]
    pub generator_url: Option<String>,
}

/// The body a webhook sends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// Alertmanager's webhook payload, version 4.
    #[default]
    Alertmanager,
    /// `{"text": …}` for Slack and Mattermost incoming webhooks.
    Slack,
    Mattermost,
    /// `{"content": …}` for Discord.
    Discord,
}

/// `[outputs.webhook]`: POSTs one JSON body per group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The receiver's URL (chat webhooks hold a secret in it: use `${ENV}`).
    pub url: SecretString,
    #[serde(default)]
    pub format: WebhookFormat,
    /// Sent as `Authorization: Bearer …`.
    #[serde(default)]
    pub bearer_token: Option<SecretString>,
    /// A file holding the bearer token (its first line).
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    #[serde(default)]
    pub headers: BTreeMap<String, SecretString>,
}

/// `[outputs.falco]`: POSTs each alert as a Falco event (falcosidekick's input).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FalcoConfig {
    pub url: SecretString,
    #[serde(default)]
    pub headers: BTreeMap<String, SecretString>,
    /// Added to every event's `tags`.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server lacks it.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on this host.
    None,
}

/// `[outputs.email]`: one message per group over SMTP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub host: String,
    /// Default: 587 for STARTTLS, 465 for TLS, 25 for none.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: SmtpTls,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<SecretString>,
    /// A file holding the password (its first line).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    pub from: String,
    pub to: Vec<String>,
    /// Put before every subject.
    #[serde(default = "subject_prefix")]
    pub subject_prefix: String,
}

fn subject_prefix() -> String {
    "[netsnoop]".into()
}

/// `[outputs.program]`: each alert as one JSON line on a command's stdin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramConfig {
    /// Run with `sh -c`; restarted if it exits.
    pub command: String,
}

impl OutputConfig {
    /// An output with the defaults and no receiver, for tests and `Default`-like use.
    pub fn named(name: &str) -> OutputConfig {
        OutputConfig {
            name: name.into(),
            min_severity: Severity::Info,
            kinds: Vec::new(),
            hosts: Vec::new(),
            subjects: Vec::new(),
            group_secs: None,
            repeat_secs: None,
            send_resolved: true,
            queue: defaults::queue(),
            timeout_secs: defaults::timeout_secs(),
            retry_max_secs: defaults::retry_max_secs(),
            alertmanager: None,
            webhook: None,
            falco: None,
            email: None,
            program: None,
        }
    }

    /// The receiver's type name, as in `/health`.
    pub fn kind(&self) -> &'static str {
        if self.alertmanager.is_some() {
            "alertmanager"
        } else if self.webhook.is_some() {
            "webhook"
        } else if self.falco.is_some() {
            "falco"
        } else if self.email.is_some() {
            "email"
        } else if self.program.is_some() {
            "program"
        } else {
            "none"
        }
    }

    /// The group window in effect, in seconds.
    pub fn group_window(&self) -> f64 {
        self.group_secs.unwrap_or(match self.kind() {
            "webhook" | "email" => 10.0,
            _ => 0.0,
        })
    }

    /// The repeat interval in effect, in seconds (0: never).
    pub fn repeat_interval(&self) -> f64 {
        self.repeat_secs.unwrap_or(match self.kind() {
            "alertmanager" => 60.0,
            _ => 3600.0,
        })
    }

    /// Every problem with this output, as `(key, reason naming the fix)`.
    pub fn problems(&self, index: usize) -> Vec<(String, String)> {
        let key = |k: &str| format!("outputs[{index}].{k}");
        let mut p = Vec::new();
        if self.name.trim().is_empty() {
            p.push((key("name"), "is empty: give the output a name".into()));
        }
        let receivers = [
            self.alertmanager.is_some(),
            self.webhook.is_some(),
            self.falco.is_some(),
            self.email.is_some(),
            self.program.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if receivers != 1 {
            p.push((
                key("type"),
                format!(
                    "has {receivers} receivers: add exactly one table of [outputs.alertmanager], \
                     [outputs.webhook], [outputs.falco], [outputs.email] or [outputs.program]"
                ),
            ));
        }
        for (k, v) in [
            ("group_secs", self.group_window()),
            ("repeat_secs", self.repeat_interval()),
        ] {
            if !(0.0..=86_400.0 * 7.0).contains(&v) {
                p.push((
                    key(k),
                    format!("{v} is out of range: use 0 to 604800 seconds"),
                ));
            }
        }
        for (k, v) in [
            ("timeout_secs", self.timeout_secs),
            ("retry_max_secs", self.retry_max_secs),
        ] {
            if !(0.01..=3600.0).contains(&v) {
                p.push((
                    key(k),
                    format!("{v} is out of range: use 0.01 to 3600 seconds"),
                ));
            }
        }
        if !(1..=1_000_000).contains(&self.queue) {
            p.push((
                key("queue"),
                format!("{} is out of range: use 1 to 1000000", self.queue),
            ));
        }
        for (k, globs) in [
            ("kinds", &self.kinds),
            ("hosts", &self.hosts),
            ("subjects", &self.subjects),
        ] {
            for g in globs {
                if let Err(e) = globset::Glob::new(g) {
                    p.push((
                        key(k),
                        format!("{g:?} is no glob ({e}): use * and ? wildcards"),
                    ));
                }
            }
        }
        if let Some(e) = &self.email {
            if e.to.is_empty() {
                p.push((
                    key("email.to"),
                    "is empty: list at least one address".into(),
                ));
            }
            if e.password.is_some() && e.password_file.is_some() {
                p.push((
                    key("email.password"),
                    "and password_file are both set: keep one".into(),
                ));
            }
        }
        p
    }
}
