//! Secret redaction in process arguments: the `[redact]` rules and the [`Redactor`] that
//! applies them to argv and command lines before anything stores or shows them.
//!
//! Pure logic: no I/O. The binary applies it once, where events enter the pipeline, so
//! every sink (store, API, stream, terminal, logs) only ever sees redacted arguments.

mod rules;

use crate::Event;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// The `[redact]` section: which arguments hold secrets. Names compare case-insensitively.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedactConfig {
    /// Redact at all (default true). Off, argv is kept exactly as the process had it.
    pub enabled: bool,
    /// HTTP headers whose value is a secret, wherever an argument carries `Name: value`
    /// (`curl -H "Authorization: Bearer …"`, `wget --header=…`). An authentication
    /// scheme word (Bearer, Basic, …) is kept; what follows it is redacted.
    pub headers: Vec<String>,
    /// Long options whose value is a secret, without the dashes: `--password=X` and
    /// `--password X` both lose X.
    pub options: Vec<String>,
    /// Per program (the basename of argv[0], or of a later argument such as after `sudo`):
    /// short option letters whose value is a secret. `"p"` redacts a glued value only
    /// (`mysql -pX`; mysql's `-p X` names a database), `"p+"` also the next argument
    /// (`sshpass -p X`).
    pub short_options: BTreeMap<String, Vec<String>>,
    /// `NAME=value` arguments (as given to `env`, `docker -e`, `export`) whose NAME contains
    /// one of these lose their value; `-` counts as `_`. Comma-separated lists of
    /// `key=value` (`mount -o user=a,password=b`) are checked item by item.
    pub env_names: Vec<String>,
    /// Redact the password of URLs with credentials (`https://user:pass@host`): the user
    /// is kept.
    pub url_credentials: bool,
}

impl Default for RedactConfig {
    fn default() -> Self {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        let mut short_options = BTreeMap::new();
        for tool in [
            "mysql",
            "mysqldump",
            "mysqladmin",
            "mariadb",
            "mariadb-dump",
        ] {
            short_options.insert(tool.to_string(), vec!["p".to_string()]);
        }
        short_options.insert("sshpass".to_string(), vec!["p+".to_string()]);
        RedactConfig {
            enabled: true,
            headers: strings(&[
                "authorization",
                "proxy-authorization",
                "cookie",
                "x-api-key",
                "x-auth-token",
                "private-token",
            ]),
            options: strings(&[
                "password",
                "passwd",
                "token",
                "secret",
                "api-key",
                "apikey",
                "access-token",
                "auth-token",
                "client-secret",
            ]),
            short_options,
            env_names: strings(&[
                "TOKEN",
                "SECRET",
                "PASSWORD",
                "PASSWD",
                "PASSPHRASE",
                "API_KEY",
                "APIKEY",
                "PRIVATE_KEY",
                "CREDENTIAL",
            ]),
            url_credentials: true,
        }
    }
}

/// A value of `[redact]` that cannot work, with the key it is under.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct RedactConfigError {
    pub key: String,
    pub problem: String,
}

impl RedactConfig {
    /// Checks what serde cannot: no empty names, one letter per short option.
    pub fn validate(&self) -> Result<(), RedactConfigError> {
        let bad = |key: &str, problem: String| {
            Err(RedactConfigError {
                key: key.to_string(),
                problem,
            })
        };
        for (key, list) in [
            ("headers", &self.headers),
            ("options", &self.options),
            ("env_names", &self.env_names),
        ] {
            if list.iter().any(|s| s.trim().is_empty()) {
                return bad(
                    key,
                    "an empty name would match everything; remove it".into(),
                );
            }
        }
        if let Some(o) = self.options.iter().find(|o| o.starts_with('-')) {
            return bad(
                "options",
                format!("{o:?}: write option names without their dashes"),
            );
        }
        for (tool, letters) in &self.short_options {
            for l in letters {
                let letter = l.strip_suffix('+').unwrap_or(l);
                if letter.chars().count() != 1 || letter == "-" {
                    return bad(
                        &format!("short_options.{tool}"),
                        format!(
                            "{l:?}: expected one option letter, optionally followed by + (e.g. \"p\" or \"p+\")"
                        ),
                    );
                }
            }
        }
        Ok(())
    }
}

/// The rules, compiled once: lower- and upper-cased for case-insensitive matching.
#[derive(Clone, Debug)]
pub struct Redactor {
    enabled: bool,
    headers: Vec<String>,
    options: Vec<String>,
    short_options: BTreeMap<String, Vec<ShortOption>>,
    env_names: Vec<String>,
    url_credentials: bool,
}

#[derive(Clone, Copy, Debug)]
struct ShortOption {
    letter: char,
    /// `-p X` as well as `-pX`.
    separate: bool,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new(&RedactConfig::default())
    }
}

/// Redaction passes over one argv at most (each pass only removes secrets, so two are
/// enough for every input the fuzzer has found).
const MAX_PASSES: usize = 4;

impl Redactor {
    pub fn new(cfg: &RedactConfig) -> Redactor {
        // Empty names would match everywhere; `validate` refuses them, and they are
        // dropped here for configs that were never validated.
        let lower = |v: &[String]| {
            v.iter()
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Redactor {
            enabled: cfg.enabled,
            headers: lower(&cfg.headers),
            options: lower(&cfg.options),
            short_options: cfg
                .short_options
                .iter()
                .map(|(tool, letters)| {
                    let opts = letters
                        .iter()
                        .filter_map(|l| {
                            let separate = l.ends_with('+');
                            let letter = l.trim_end_matches('+').chars().next()?;
                            Some(ShortOption { letter, separate })
                        })
                        .collect();
                    (tool.clone(), opts)
                })
                .collect(),
            env_names: cfg
                .env_names
                .iter()
                .map(|s| s.trim().to_uppercase().replace('-', "_"))
                .filter(|s| !s.is_empty())
                .collect(),
            url_credentials: cfg.url_credentials,
        }
    }

    /// Redacts every secret in `argv` in place; returns how many were redacted.
    pub fn redact_argv(&self, argv: &mut [String]) -> u32 {
        if !self.enabled {
            return 0;
        }
        // One rule's redaction can expose another's pattern (a URL password holding the
        // `=` of a glued `--name=value`): passes repeat until one finds nothing, so
        // redacting again never changes anything more.
        let mut total = 0;
        for _ in 0..MAX_PASSES {
            let n = rules::redact_args(self, argv, false);
            total += n;
            if n == 0 {
                break;
            }
        }
        total
    }

    /// Redacts a command line joined with spaces (as `ps` shows it). Its arguments are
    /// taken to be the space-separated words, so `Authorization: Bearer X` spans three.
    pub fn redact_line(&self, line: &mut String) -> u32 {
        if !self.enabled || line.is_empty() {
            return 0;
        }
        let mut total = 0;
        for _ in 0..MAX_PASSES {
            let mut words: Vec<String> = line.split(' ').map(str::to_string).collect();
            let n = rules::redact_args(self, &mut words, true);
            if n == 0 {
                break;
            }
            total += n;
            *line = words.join(" ");
        }
        total
    }

    /// Redacts the arguments an event carries: a process event's argv (its `redacted`
    /// field says how many secrets went) and each sampled process's command line.
    /// Returns the process event's count: samples repeat the same processes every
    /// second, so counting them again would say nothing new.
    pub fn redact_event(&self, event: &mut Event) -> u32 {
        match event {
            Event::Process(p) => {
                let n = self.redact_argv(&mut p.argv);
                p.redacted = p.redacted.saturating_add(n);
                n
            }
            Event::Resources(r) => {
                for p in &mut r.processes {
                    self.redact_line(&mut p.cmdline);
                }
                0
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests;
