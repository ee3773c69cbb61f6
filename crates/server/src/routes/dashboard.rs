//! The dashboard: the repository's web/ directory embedded in the binary and served at /.

use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::RustEmbed;

/// web/ without its development-only parts (npm packages, browser tests and their output).
#[derive(RustEmbed)]
#[folder = "../../web/"]
#[allow_missing = true]
#[exclude = "node_modules/*"]
#[exclude = "tests/*"]
#[exclude = "test-results/*"]
#[exclude = "playwright-report/*"]
#[exclude = "package.json"]
#[exclude = "package-lock.json"]
#[exclude = "*.md"]
struct WebAssets;

const NO_DASHBOARD: &str = "<!doctype html><meta charset=utf-8><title>NetSnoop</title>\
<p>This netsnoop was built without its dashboard (web/ was empty at build time). \
The API works: see <a href=\"/docs\">/docs</a>.</p>";

/// Serves index.html at / and any other embedded file by path.
pub async fn serve_asset(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    match WebAssets::get(path) {
        Some(asset) => {
            let mime = asset.metadata.mimetype().to_string();
            (
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, "no-cache".to_string()),
                ],
                asset.data,
            )
                .into_response()
        }
        None if path == "index.html" => Html(NO_DASHBOARD).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(crate::error::ErrorBody {
                error: "not_found",
                detail: format!("no such path /{path}: the API is described at /docs"),
            }),
        )
            .into_response(),
    }
}
