//! /openapi.json and the Swagger UI at /docs, from assets vendored in the crate, so the
//! documentation works on machines without internet.

use crate::openapi::ApiDoc;
use axum::Json;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::RustEmbed;
use utoipa::OpenApi;

/// swagger-ui-dist's bundle, stylesheet and license, copied from the npm package.
#[derive(RustEmbed)]
#[folder = "assets/swagger/"]
struct SwaggerAssets;

/// The OpenAPI 3.1 description of this API
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>NetSnoop API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"#;

/// Kept out of the HTML so a strict Content-Security-Policy (no inline scripts) works.
const INIT_JS: &str = r##"window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
"##;

pub async fn docs_page() -> Html<&'static str> {
    Html(DOCS_PAGE)
}

pub async fn docs_asset(Path(file): Path<String>) -> Response {
    if file == "init.js" {
        return ([(header::CONTENT_TYPE, "text/javascript")], INIT_JS).into_response();
    }
    match SwaggerAssets::get(&file) {
        Some(asset) => {
            let mime = asset.metadata.mimetype().to_string();
            (
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, "public, max-age=86400".into()),
                ],
                asset.data,
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
