//! The HTTP client every HTTP receiver shares: a JSON POST with headers and a timeout,
//! and which failures are worth retrying. Errors leave the URL out (it may hold a token).

use super::{BuildError, SendError};
use crate::secret::SecretString;
use reqwest::blocking::Client;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::collections::BTreeMap;
use std::time::Duration;

pub struct Http {
    client: Client,
    url: String,
}

impl Http {
    pub fn new(
        url: &SecretString,
        headers: &BTreeMap<String, SecretString>,
        bearer: Option<String>,
        timeout: Duration,
    ) -> Result<Http, BuildError> {
        let url = url.resolve()?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(BuildError::Invalid(
                "the url does not start with http:// or https://: write the receiver's full URL"
                    .into(),
            ));
        }
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                BuildError::Invalid(format!("{k:?} is no HTTP header name: use letters and -"))
            })?;
            let value = HeaderValue::from_str(&v.resolve()?).map_err(|_| {
                BuildError::Invalid(format!(
                    "the value of header {k} holds characters HTTP refuses"
                ))
            })?;
            map.insert(name, value);
        }
        if let Some(token) = bearer {
            let mut v = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                BuildError::Invalid("the bearer token holds characters HTTP refuses".into())
            })?;
            v.set_sensitive(true);
            map.insert(reqwest::header::AUTHORIZATION, v);
        }
        let client = Client::builder()
            .timeout(timeout)
            .default_headers(map)
            .user_agent(concat!("netsnoop/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BuildError::Invalid(format!("cannot set up HTTP: {}", e.without_url())))?;
        Ok(Http { client, url })
    }

    /// The URL with `path` appended (no doubled slash).
    pub fn with_path(mut self, path: &str) -> Http {
        self.url = format!("{}{}", self.url.trim_end_matches('/'), path);
        self
    }

    pub fn post_json(&self, body: &serde_json::Value) -> Result<(), SendError> {
        let resp = self
            .client
            .post(&self.url)
            .json(body)
            .send()
            .map_err(|e| SendError::Transient(e.without_url().to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let text: String = resp.text().unwrap_or_default().chars().take(200).collect();
        let msg = format!("receiver answered {status}: {}", text.trim());
        if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            Err(SendError::Transient(msg))
        } else {
            Err(SendError::Permanent(msg))
        }
    }
}
