//! Query parameters shared by several endpoints (limits, time ranges), parsed leniently in
//! form and strictly in value, with errors that say what to send.

use crate::error::{ApiError, ApiResult};
use crate::timefmt::parse_time;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jiff::tz::TimeZone;
use netsnoop_core::{HostFilter, Ts};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

/// `axum::extract::Query` with its rejections (a duplicated or unreadable parameter)
/// answered as this API's JSON error, naming the parameters to send.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(q) => Ok(Query(q.0)),
            Err(e) => Err(ApiError::BadQuery(format!(
                "{}: give each parameter once, as documented at /docs",
                e.body_text()
            ))),
        }
    }
}

/// `?limit=N`. Kept as text so a bad value gets our message, not serde's.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Limit {
    /// How many rows; values above the endpoint's cap are lowered to the cap.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 2147483647)]
    pub limit: Option<String>,
}

impl Limit {
    pub fn resolve(&self, default: usize, cap: usize) -> ApiResult<usize> {
        parse_limit(self.limit.as_deref(), default, cap)
    }
}

/// The largest `limit` (and `offset`) read, as documented: 2^31 - 1.
pub const MAX_COUNT: i64 = i32::MAX as i64;

/// Parses a limit: absent → `default`; 1 to [`MAX_COUNT`] → itself, lowered to `cap`;
/// zero, negative, non-numeric or above [`MAX_COUNT`] → 422.
pub fn parse_limit(text: Option<&str>, default: usize, cap: usize) -> ApiResult<usize> {
    let Some(text) = text else { return Ok(default) };
    match text.trim().parse::<i64>() {
        Ok(n) if (1..=MAX_COUNT).contains(&n) => Ok((n as usize).min(cap)),
        Ok(n) => Err(ApiError::InvalidField(format!(
            "limit={n} is out of range: give a number from 1 to {cap} (larger ones up to {MAX_COUNT} are lowered to {cap})"
        ))),
        Err(_) => Err(ApiError::InvalidField(format!(
            "limit={text:?} is not a number: give a number from 1 to {cap}"
        ))),
    }
}

/// `?since=&until=`: RFC 3339 or unix seconds.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Range {
    /// Start (inclusive), RFC 3339 or unix seconds.
    pub since: Option<String>,
    /// End (exclusive), RFC 3339 or unix seconds.
    pub until: Option<String>,
}

/// A resolved `[since, until)`; `None` sides are open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub since: Option<Ts>,
    pub until: Option<Ts>,
}

impl Range {
    pub fn resolve(&self, tz: &TimeZone) -> ApiResult<Window> {
        let one = |name: &str, v: &Option<String>| -> ApiResult<Option<Ts>> {
            v.as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    parse_time(s, tz).map_err(|e| ApiError::InvalidField(format!("{name}: {e}")))
                })
                .transpose()
        };
        let w = Window {
            since: one("since", &self.since)?,
            until: one("until", &self.until)?,
        };
        if let (Some(s), Some(u)) = (w.since, w.until)
            && s > u
        {
            return Err(ApiError::InvalidField(
                "since is after until: swap them, or leave one out".into(),
            ));
        }
        Ok(w)
    }
}

/// `?host=`: hosts by id or hostname, repeatable (`?host=a&host=b`) or comma-separated;
/// none means every host. Read from the raw query, so it sits beside a [`Query`].
pub struct Hosts(pub HostFilter);

/// The documentation of [`Hosts`].
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HostsDoc {
    /// Only these hosts (id or hostname); repeat it or separate by commas. Default: all.
    #[param(value_type = Option<Vec<String>>, explode = true)]
    pub host: Option<Vec<String>>,
}

impl<S: Send + Sync> FromRequestParts<S> for Hosts {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let names: Vec<String> = form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k == "host")
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            })
            .collect();
        Ok(Hosts(HostFilter(names)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_cap_and_refuse_nonsense() {
        assert_eq!(parse_limit(None, 20, 1000).unwrap(), 20);
        assert_eq!(parse_limit(Some("5"), 20, 1000).unwrap(), 5);
        assert_eq!(parse_limit(Some("5000"), 20, 1000).unwrap(), 1000);
        assert_eq!(parse_limit(Some("2147483647"), 20, 1000).unwrap(), 1000);
        for bad in ["0", "-3", "ten", "2147483648", "99999999999999999999"] {
            assert!(parse_limit(Some(bad), 20, 1000).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_range_whose_start_is_after_its_end_is_refused() {
        let r = Range {
            since: Some("200".into()),
            until: Some("100".into()),
        };
        assert!(r.resolve(&TimeZone::UTC).is_err());
    }
}
