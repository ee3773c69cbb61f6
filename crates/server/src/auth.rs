//! Bearer-token checks: writes always need the token when one is set, reads need it when
//! the server listens beyond loopback.

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// What the middleware needs to decide; built once from the server config.
#[derive(Clone, Debug)]
pub struct AuthPolicy {
    token: Option<Arc<str>>,
    reads_need_token: bool,
}

impl AuthPolicy {
    pub fn new(token: Option<&str>, reads_need_token: bool) -> AuthPolicy {
        AuthPolicy {
            token: token.map(Arc::from),
            reads_need_token,
        }
    }

    fn needs_token(&self, method: &Method) -> bool {
        let is_read = method == Method::GET || method == Method::HEAD;
        self.token.is_some() && (!is_read || self.reads_need_token)
    }

    /// Checks one request. Browsers' EventSource cannot send headers, so reads may also
    /// pass the token as `?token=`.
    pub fn check(
        &self,
        method: &Method,
        headers: &header::HeaderMap,
        query: Option<&str>,
    ) -> Result<(), ApiError> {
        if !self.needs_token(method) {
            return Ok(());
        }
        let Some(expected) = self.token.as_deref() else {
            return Ok(());
        };
        let from_header = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_credentials);
        let from_query = (method == Method::GET)
            .then(|| query.and_then(token_from_query))
            .flatten();
        match from_header.or(from_query.as_deref()) {
            Some(given) if constant_time_eq(given.as_bytes(), expected.as_bytes()) => Ok(()),
            Some(_) => Err(ApiError::Unauthorized(
                "the bearer token is wrong: send the value of NETSNOOP_TOKEN (or [server] token) as `Authorization: Bearer TOKEN`".into(),
            )),
            None => Err(ApiError::Unauthorized(format!(
                "this request needs the token: send `Authorization: Bearer TOKEN` with the value of NETSNOOP_TOKEN (or [server] token){}",
                if method == Method::GET { ", or add ?token=TOKEN" } else { "" }
            ))),
        }
    }
}

/// The credentials of an `Authorization: Bearer …` value. The scheme is matched
/// without regard to case (RFC 9110 §11.1): `BEARER x` and `bearer x` work too.
fn bearer_credentials(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

fn token_from_query(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "token").then(|| percent_decode(v))
    })
}

/// Minimal decoding for the token parameter (tokens are usually hex, but `+`/`%xx` must work).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Compares without returning early, so response time does not reveal how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// axum middleware applying [`AuthPolicy`] to every route it wraps.
pub async fn require_token(
    State(policy): State<AuthPolicy>,
    request: Request,
    next: Next,
) -> Response {
    match policy.check(request.method(), request.headers(), request.uri().query()) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn bearer(t: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
        );
        h
    }

    #[test]
    fn without_a_configured_token_everything_is_open() {
        let p = AuthPolicy::new(None, false);
        assert!(p.check(&Method::POST, &HeaderMap::new(), None).is_ok());
    }

    #[test]
    fn on_loopback_posts_need_the_token_but_reads_do_not() {
        let p = AuthPolicy::new(Some("abc"), false);
        assert!(p.check(&Method::GET, &HeaderMap::new(), None).is_ok());
        assert!(p.check(&Method::POST, &HeaderMap::new(), None).is_err());
        assert!(p.check(&Method::POST, &bearer("abd"), None).is_err());
        assert!(p.check(&Method::POST, &bearer("abc"), None).is_ok());
        // A query token is for EventSource reads only, never for writes.
        assert!(
            p.check(&Method::POST, &HeaderMap::new(), Some("token=abc"))
                .is_err()
        );
    }

    #[test]
    fn the_bearer_scheme_is_matched_in_any_case() {
        let p = AuthPolicy::new(Some("abc"), false);
        for value in ["BEARER abc", "bearer abc", "BeArEr   abc"] {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            assert!(p.check(&Method::POST, &h, None).is_ok(), "{value}");
        }
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(p.check(&Method::POST, &h, None).is_err());
    }

    #[test]
    fn beyond_loopback_reads_need_the_token_too_and_may_pass_it_in_the_query() {
        let p = AuthPolicy::new(Some("a b%"), true);
        assert!(p.check(&Method::GET, &HeaderMap::new(), None).is_err());
        assert!(
            p.check(&Method::GET, &HeaderMap::new(), Some("x=1&token=a+b%25"))
                .is_ok()
        );
        assert!(p.check(&Method::GET, &bearer("a b%"), None).is_ok());
    }
}
