//! The router: which path goes to which handler, and which layers (auth, host and
//! origin guard, body limit, compression, CORS) wrap them.

pub mod alerts;
pub mod dashboard;
pub mod docs;
pub mod fleet;
pub mod flows;
pub mod host;
pub mod ingest;
pub mod lenient;
pub mod owners;
pub mod params;
pub mod shape;
pub mod silences;
pub mod stats;
pub mod stream;

use crate::auth::{AuthPolicy, require_token};
use crate::guard::{Guard, check_host, check_request};
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Builds the whole app. Data endpoints sit behind the token check; the dashboard's static
/// files and the API docs hold no data and stay reachable so a browser can load them.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let policy = AuthPolicy::new(config.token.as_deref(), config.token_required_for_reads());
    let guard = Guard::new(&config.allowed_hosts, &config.cors_origins);
    let api = Router::new()
        .route(
            "/packets",
            // Only on the method taken, so other methods still get the router's 405.
            post(ingest::post_packets)
                .route_layer(middleware::from_fn_with_state(guard.clone(), check_request)),
        )
        .route("/packets/recent", get(stats::recent_packets))
        .route("/stats/summary", get(stats::summary))
        .route("/stats/top-talkers", get(stats::top_talkers))
        .route(
            "/stats/protocol-distribution",
            get(stats::protocol_distribution),
        )
        .route("/stats/traffic-over-time", get(stats::traffic_over_time))
        .route("/stats/top-processes", get(owners::top_processes))
        .route("/alerts", get(alerts::alerts))
        .route("/alerts/history", get(alerts::history))
        .route(
            "/alerts/{id}/ack",
            post(silences::ack)
                .route_layer(middleware::from_fn_with_state(guard.clone(), check_request)),
        )
        .route(
            "/silences",
            get(silences::list)
                .post(silences::create)
                .route_layer(middleware::from_fn_with_state(guard.clone(), check_request)),
        )
        .route("/flows", get(flows::flows))
        .route("/system", get(host::system))
        .route("/processes", get(host::processes))
        .route("/processes/{pid}", get(host::process))
        .route("/events/process", get(host::process_events))
        .route("/health", get(host::health))
        .route("/hosts", get(fleet::hosts))
        .route("/stream", get(stream::stream))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(policy, require_token));
    // Agents authenticate with the enrolment secret or their own key, not the API token.
    let agents = Router::new()
        .route("/api/v1/enroll", post(fleet::enroll))
        .route("/api/v1/ingest", post(fleet::ingest))
        .route_layer(middleware::from_fn_with_state(guard.clone(), check_request));
    let public = Router::new()
        .route("/openapi.json", get(docs::openapi_json))
        .route("/docs", get(docs::docs_page))
        .route("/docs/{file}", get(docs::docs_asset))
        .fallback(dashboard::serve_asset);
    let mut app = api
        .merge(agents)
        .merge(public)
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(middleware::from_fn_with_state(guard, check_host))
        // gzip for clients that ask: JSON histories and the chart library shrink 4-10x,
        // which keeps the dashboard's load small as its histories fill. The default
        // predicate leaves tiny bodies, images and the SSE stream (no buffering) alone.
        .layer(CompressionLayer::new().gzip(true))
        // Outermost, so refused requests (403, 401, 413) are counted with the rest.
        .layer(middleware::from_fn_with_state(
            state.hub.clone(),
            crate::metrics::http::track,
        ))
        .with_state(state);
    if !config.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = config
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        app = app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    }
    app
}

/// Prometheus metrics in the text exposition format
#[utoipa::path(get, path = "/metrics", tag = "live",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    state.hub.metrics().outputs.update(&state.hub.outputs());
    let writer = state.writer.as_ref().map(|w| w.stats());
    // Without a registry (no store, or one without it) the fleet families are empty.
    let hosts = state.query(|s| s.hosts()).await.unwrap_or_default();
    let now = netsnoop_core::Ts::now();
    let hosts: Vec<_> = hosts
        .into_iter()
        .map(|h| {
            let st = if h.local {
                crate::fleet::HostState::Up
            } else {
                crate::fleet::HostState::of(h.last_seen, now, &state.config.fleet)
            };
            (h, st)
        })
        .collect();
    let body = state.hub.metrics_text(writer.as_ref(), &hosts);
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], body)
}
