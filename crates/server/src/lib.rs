//! netsnoop-server: the axum HTTP API, SSE live stream, /metrics and the embedded dashboard.
