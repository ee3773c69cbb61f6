//! Browser-borne attacks on a loopback API: the `Host` check against DNS rebinding, and
//! the content-type and `Origin` checks that keep other web pages from writing.
//!
//! - Every request must name a host this server answers to: an IP address (a rebinding
//!   page always uses its own domain name), `localhost`, or a name listed in
//!   `server.allowed_hosts`. A request without `Host` (HTTP/1.0 tools) passes, since
//!   browsers always send one.
//! - A state-changing request (POST: no route takes PUT, PATCH or DELETE) must declare a JSON body
//!   (`Content-Type: application/json`), which no page can send cross-origin without a
//!   CORS preflight this server never approves (unless `cors_origins` says so), and, when
//!   it carries an `Origin`, that origin must be the server's own (the scheme plus the
//!   `Host` asked for) or one of `cors_origins`.

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::sync::Arc;

/// What the guard accepts; built once from the server config.
#[derive(Clone, Debug)]
pub struct Guard {
    /// Host names (lower case, without port) accepted besides IP addresses and localhost.
    names: Arc<[String]>,
    /// Origins allowed besides the server's own (the CORS list).
    origins: Arc<[String]>,
}

impl Guard {
    pub fn new(allowed_hosts: &[String], cors_origins: &[String]) -> Guard {
        Guard {
            names: allowed_hosts
                .iter()
                .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                .collect(),
            origins: cors_origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        }
    }

    /// Checks one request's method and headers: [`Guard::check_host`], then for a
    /// state-changing method [`Guard::check_write`].
    pub fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
        self.check_host(headers)?;
        // POST is the only method a route here takes that changes data; any other
        // (PUT, DELETE, TRACE, …) is left to the router, which answers 405.
        if *method == Method::POST {
            self.check_write(headers)?;
        }
        Ok(())
    }

    /// The `Host` rule, for every request.
    pub fn check_host(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        match headers.get(header::HOST).map(|v| v.to_str()) {
            None => Ok(()),
            Some(Ok(host)) if self.host_allowed(host) => Ok(()),
            Some(host) => Err(unknown_host(host.unwrap_or("(not text)"))),
        }
    }

    /// The content-type and `Origin` rules for a request that changes data.
    pub fn check_write(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        if !is_json(headers) {
            return Err(ApiError::UnsupportedMediaType(
                "a request that changes data must send a JSON body with `Content-Type: application/json`".into(),
            ));
        }
        match headers.get(header::ORIGIN).map(|o| o.to_str()) {
            None => Ok(()),
            Some(Ok(origin)) if self.origin_allowed(origin, host) => Ok(()),
            Some(origin) => Err(ApiError::Forbidden(format!(
                "requests from the web page at {:?} may not change data here: only this server's own pages may; to allow another site add its origin to the server's cors_origins",
                origin.unwrap_or("(not text)")
            ))),
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        let name = host_name(host).trim_end_matches('.').to_ascii_lowercase();
        let is_ip = match name.strip_prefix('[') {
            Some(v6) => v6
                .strip_suffix(']')
                .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok()),
            None => name.parse::<IpAddr>().is_ok(),
        };
        is_ip || name == "localhost" || name.ends_with(".localhost") || self.names.contains(&name)
    }

    fn origin_allowed(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
        let own = host.is_some_and(|h| {
            let h = h.to_ascii_lowercase();
            origin == format!("http://{h}") || origin == format!("https://{h}")
        });
        own || self.origins.contains(&origin)
    }
}

/// The host part of a `Host` value: `[::1]:8000` → `[::1]`, `example:80` → `example`.
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

fn unknown_host(host: &str) -> ApiError {
    ApiError::Forbidden(format!(
        "this server does not answer to the host {host:?} (a page using DNS rebinding would): open it by IP address or localhost, or add the name to server.allowed_hosts in the config"
    ))
}

/// axum middleware applying [`Guard::check_host`] to every request.
pub async fn check_host(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    match guard.check_host(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// axum route middleware applying [`Guard::check`] to the requests a route takes (a
/// method no route takes is left to the router's 405).
pub async fn check_request(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    match guard.check(request.method(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn hosts_are_ip_addresses_localhost_or_configured_names() {
        let g = Guard::new(&["Monitor.Example".into()], &[]);
        for ok in [
            "127.0.0.1:8000",
            "[::1]:8000",
            "10.1.2.3",
            "localhost:8000",
            "monitor.example:8000",
            "MONITOR.EXAMPLE.",
        ] {
            assert!(
                g.check(&Method::GET, &headers(&[("host", ok)])).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "evil.example:8000",
            "127.0.0.1.evil.example",
            "monitor.example.evil",
            "[::1",
        ] {
            let err = g
                .check(&Method::GET, &headers(&[("host", bad)]))
                .unwrap_err();
            assert!(
                err.to_string().contains("server.allowed_hosts"),
                "{bad}: {err}"
            );
        }
        assert!(g.check(&Method::GET, &HeaderMap::new()).is_ok());
    }

    #[test]
    fn writes_need_a_json_body_and_no_foreign_origin() {
        let g = Guard::new(&[], &["https://dash.example".into()]);
        let host = ("host", "127.0.0.1:8000");
        let json = ("content-type", "application/json; charset=utf-8");
        assert!(g.check(&Method::POST, &headers(&[host, json])).is_ok());
        assert!(
            g.check(
                &Method::POST,
                &headers(&[host, json, ("origin", "http://127.0.0.1:8000")])
            )
            .is_ok()
        );
        assert!(
            g.check(
                &Method::POST,
                &headers(&[host, json, ("origin", "https://dash.example")])
            )
            .is_ok()
        );
        for origin in ["http://evil.example", "null", "http://127.0.0.1:9000"] {
            let err = g
                .check(&Method::POST, &headers(&[host, json, ("origin", origin)]))
                .unwrap_err();
            assert!(matches!(err, ApiError::Forbidden(_)), "{origin}");
        }
        for ct in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ] {
            let err = g
                .check(&Method::POST, &headers(&[host, ("content-type", ct)]))
                .unwrap_err();
            assert!(err.to_string().contains("application/json"), "{ct}: {err}");
        }
        assert!(
            g.check(&Method::POST, &headers(&[host])).is_err(),
            "no content type"
        );
    }
}
