//! Secrets in output configs (URLs with tokens, passwords): `${ENV}` references and
//! `*_file` values resolved once at start, and never shown by `Debug` or in errors.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// A config string that may hold a secret. `${NAME}` anywhere in it is replaced by the
/// environment variable NAME when the output starts.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> SecretString {
        SecretString(s.to_string())
    }
}

/// Why a secret could not be read; names the variable or file, never the value.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SecretError {
    #[error("environment variable {0} is not set: export it before starting netsnoop")]
    MissingEnv(String),
    #[error("unclosed ${{ in a config value: write ${{NAME}}")]
    Unclosed,
    #[error(
        "cannot read secret file {path}: {error} (the file must exist and be readable by netsnoop)"
    )]
    File { path: String, error: String },
}

impl SecretString {
    /// The value with every `${NAME}` replaced from the environment.
    pub fn resolve(&self) -> Result<String, SecretError> {
        expand(&self.0, |name| std::env::var(name).ok())
    }
}

fn expand(s: &str, env: impl Fn(&str) -> Option<String>) -> Result<String, SecretError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after.find('}').ok_or(SecretError::Unclosed)?;
        let name = &after[..end];
        out.push_str(&env(name).ok_or_else(|| SecretError::MissingEnv(name.to_string()))?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The first line of a secret file, without its line ending.
pub fn read_secret_file(path: &Path) -> Result<String, SecretError> {
    let text = std::fs::read_to_string(path).map_err(|e| SecretError::File {
        path: path.display().to_string(),
        error: e.kind().to_string(),
    })?;
    Ok(text.lines().next().unwrap_or("").to_string())
}

/// One of a value or a file, resolved (`None` if neither is set).
pub fn value_or_file(
    value: Option<&SecretString>,
    file: Option<&Path>,
) -> Result<Option<String>, SecretError> {
    match (value, file) {
        (Some(v), _) => v.resolve().map(Some),
        (None, Some(f)) => read_secret_file(f).map(Some),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_references_are_replaced_wherever_they_stand() {
        let env = |n: &str| (n == "TOKEN").then(|| "s3cr3t".to_string());
        assert_eq!(
            expand("https://hooks.example/${TOKEN}/x", env),
            Ok("https://hooks.example/s3cr3t/x".into())
        );
        assert_eq!(expand("plain", env), Ok("plain".into()));
    }

    #[test]
    fn a_missing_variable_is_named_and_its_value_never_shown() {
        let e = expand("${NOPE}", |_| None).unwrap_err();
        assert_eq!(e, SecretError::MissingEnv("NOPE".into()));
        assert!(e.to_string().contains("export it"));
        assert_eq!(expand("${OPEN", |_| None), Err(SecretError::Unclosed));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let s = SecretString::from("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn a_secret_file_gives_its_first_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("pw");
        std::fs::write(&p, "pa ss\nignored\n").expect("write");
        assert_eq!(read_secret_file(&p), Ok("pa ss".into()));
        let missing = read_secret_file(&dir.path().join("none")).unwrap_err();
        assert!(missing.to_string().contains("cannot read secret file"));
    }
}
