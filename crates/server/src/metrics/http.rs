//! API request counts and latency by route: a middleware labels each request with the
//! router's matched template (never the raw path, which holds pids and whatever a client
//! typed) and the status class.

use crate::hub::LiveHub;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::OnceLock;
use std::time::Instant;

/// Templates served besides the documented API, and the labels for the fallback (the
/// dashboard's files and unknown paths) and for a template found nowhere else.
const UNDOCUMENTED: [&str; 5] = [
    "/openapi.json",
    "/docs",
    "/docs/{file}",
    "dashboard",
    "other",
];

/// Every route label: the OpenAPI document's paths (which list every data route) and
/// [`UNDOCUMENTED`]. Read once per process.
pub fn routes() -> &'static [&'static str] {
    static ROUTES: OnceLock<Vec<&'static str>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        use utoipa::OpenApi;
        let doc = crate::openapi::ApiDoc::openapi();
        let mut routes: Vec<&'static str> = doc
            .paths
            .paths
            .keys()
            .map(|p| &*Box::leak(p.clone().into_boxed_str()))
            .collect();
        routes.extend(UNDOCUMENTED);
        routes
    })
}

/// Status classes, so the label set is known from the start.
pub const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Latency bucket bounds in seconds: 1 ms to 10 s.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteStatus {
    pub route: &'static str,
    pub status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    pub route: &'static str,
}

type Latency = Family<RouteLabel, Histogram, fn() -> Histogram>;

pub struct HttpMetrics {
    pub requests: Family<RouteStatus, Counter>,
    pub latency: Latency,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        let new: fn() -> Histogram = || Histogram::new(BUCKETS);
        HttpMetrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(new),
        }
    }
}

impl HttpMetrics {
    pub(super) fn zero_known_series(&self) {
        for route in routes().iter().copied() {
            let _ = self.latency.get_or_create(&RouteLabel { route });
            for status in STATUS_CLASSES {
                let _ = self.requests.get_or_create(&RouteStatus { route, status });
            }
        }
    }

    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "http_requests",
            "API requests answered, by route template and status class",
            self.requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to answer an API request (to the response head), by route template",
            self.latency.clone(),
        );
    }

    /// Counts one answered request.
    pub fn observe(&self, route: Option<&str>, status: u16, seconds: f64) {
        let route = label(route);
        let status = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.requests
            .get_or_create(&RouteStatus { route, status })
            .inc();
        self.latency
            .get_or_create(&RouteLabel { route })
            .observe(seconds);
    }
}

/// The bounded label for a matched template.
fn label(matched: Option<&str>) -> &'static str {
    match matched {
        None => "dashboard",
        Some(m) => routes()
            .iter()
            .find(|r| **r == m)
            .copied()
            .unwrap_or("other"),
    }
}

/// The middleware: times the request to its response head and counts it.
pub async fn track(State(hub): State<LiveHub>, req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let started = Instant::now();
    let response = next.run(req).await;
    hub.metrics().http.observe(
        matched.as_ref().map(MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_outside_the_known_templates_is_labelled_other_or_dashboard() {
        assert_eq!(label(Some("/processes/{pid}")), "/processes/{pid}");
        assert_eq!(label(Some("/processes/4242")), "other");
        assert_eq!(label(None), "dashboard");
    }
}
