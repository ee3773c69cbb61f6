//! Reading the config file: TOML syntax, types, unknown keys and ranges, each refused with
//! the file, the key and the reason.

use super::Config;
use std::fmt;
use std::path::{Path, PathBuf};

/// One thing wrong with a config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key (`logs.keep`), when the problem belongs to one.
    pub key: Option<String>,
    pub reason: String,
    /// 1-based line and column, when known.
    pub at: Option<(usize, usize)>,
}

#[derive(Debug)]
pub struct ConfigError {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config file {}", self.file.display())?;
        let one = self.problems.len() == 1;
        if !one {
            write!(f, " has {} problems", self.problems.len())?;
        }
        for p in &self.problems {
            f.write_str(if one { ": " } else { "\n  - " })?;
            if let Some(key) = &p.key {
                write!(f, "key `{key}`: ")?;
            }
            f.write_str(&p.reason)?;
            if let Some((line, col)) = p.at {
                write!(f, " (line {line}, column {col})")?;
            }
        }
        if !one {
            writeln!(f)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A config and where it came from.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub config: Config,
    pub path: PathBuf,
    /// False when the file does not exist and the defaults are in use.
    pub found: bool,
}

/// Reads `path`; a missing file means the defaults.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Loaded {
            config: parse(&text, path)?,
            path: path.to_path_buf(),
            found: true,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Loaded {
            config: Config::default(),
            path: path.to_path_buf(),
            found: false,
        }),
        Err(e) => Err(ConfigError {
            file: path.to_path_buf(),
            problems: vec![Problem {
                key: None,
                reason: format!("cannot read it: {e}"),
                at: None,
            }],
        }),
    }
}

/// Parses and validates config text; `file` only names it in errors.
pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
    let fail = |problems| ConfigError {
        file: file.to_path_buf(),
        problems,
    };
    let de = toml::Deserializer::parse(text).map_err(|e| {
        fail(vec![Problem {
            key: None,
            reason: format!("not valid TOML: {}", e.message().trim()),
            at: e.span().map(|s| line_col(text, s.start)),
        }])
    })?;
    let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let reason = inner.message().trim().to_string();
        fail(vec![Problem {
            key: key_of(&path, &reason),
            reason,
            at: inner.span().map(|s| line_col(text, s.start)),
        }])
    })?;
    let problems = config.problems();
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(fail(
            problems
                .into_iter()
                .map(|(key, reason)| Problem {
                    key: Some(key.clone()),
                    at: locate_key(text, &key),
                    reason,
                })
                .collect(),
        ))
    }
}

/// The dotted key a serde error is about. For an unknown field serde reports the table it
/// is in, so the field's own name is added from the message.
fn key_of(path: &str, reason: &str) -> Option<String> {
    let parent = if path == "." || path.is_empty() {
        None
    } else {
        Some(path)
    };
    let unknown = reason
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next());
    match (parent, unknown) {
        (Some(p), Some(u)) if !p.ends_with(u) => Some(format!("{p}.{u}")),
        (None, Some(u)) => Some(u.to_string()),
        (p, _) => p.map(str::to_string),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Finds `name = …` inside `[section]` so range errors point at a line too.
fn locate_key(text: &str, dotted: &str) -> Option<(usize, usize)> {
    let (section, name) = dotted.split_once('.')?;
    let mut in_section = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            in_section = t.trim_matches(|c| c == '[' || c == ']').trim() == section;
        } else if in_section
            && t.split_once('=')
                .is_some_and(|(k, _)| k.trim().trim_matches('"') == name)
        {
            return Some((i + 1, line.len() - line.trim_start().len() + 1));
        }
    }
    None
}
