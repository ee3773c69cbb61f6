//! The API's one error type and its JSON body: every failure says what was wrong and how to fix it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use netsnoop_core::fleet::UNKNOWN_HOST;
use serde::Serialize;
use utoipa::ToSchema;

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Short machine-readable code, e.g. `bad_json`, `invalid_field`, `unauthorized`.
    pub error: &'static str,
    /// One human sentence naming what was wrong and what to send instead.
    pub detail: String,
}

/// Everything a handler can fail with. Each variant maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON at all (syntax error, wrong content type).
    #[error("{0}")]
    BadJson(String),
    /// The body is JSON but a field is missing, has the wrong type or an impossible value.
    #[error("{0}")]
    InvalidField(String),
    /// A query parameter could not be understood.
    #[error("{0}")]
    BadQuery(String),
    /// The body exceeds the configured limit.
    #[error("{0}")]
    TooLarge(String),
    /// No token, or the wrong one.
    #[error("{0}")]
    Unauthorized(String),
    /// An agent key for a host this server has no record of (its database was replaced
    /// or wiped): the agent may enrol again with the enrolment secret.
    #[error("{0}")]
    UnknownHost(String),
    /// The thing asked for does not exist (e.g. an unknown pid).
    #[error("{0}")]
    NotFound(String),
    /// A browser-borne request from another origin, or for a host name this server does
    /// not answer to (DNS rebinding).
    #[error("{0}")]
    Forbidden(String),
    /// A state-changing request whose body is not declared as JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The pipeline cannot take more right now; nothing was accepted, so retrying is safe.
    #[error("{0}")]
    Busy(String),
    /// The store failed or is absent.
    #[error("{0}")]
    Store(String),
    /// A bug or a stopped background task.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadJson(_) | ApiError::BadQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::InvalidField(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized(_) | ApiError::UnknownHost(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Busy(_) | ApiError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadJson(_) => "bad_json",
            ApiError::InvalidField(_) => "invalid_field",
            ApiError::BadQuery(_) => "bad_query",
            ApiError::TooLarge(_) => "body_too_large",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::UnknownHost(_) => UNKNOWN_HOST,
            ApiError::NotFound(_) => "not_found",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Busy(_) => "busy",
            ApiError::Store(_) => "store_error",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        // A 503 Busy repeats for every request while its cause lasts (a full disk, a
        // stop, a full queue), and each cause is logged once where it arises.
        if let ApiError::Busy(_) = self {
            tracing::debug!(error = %self, "API request refused");
        } else if status.is_server_error() {
            tracing::warn!(error = %self, "API request failed");
        }
        let body = ErrorBody {
            error: self.code(),
            detail: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::Unauthorized(_) | ApiError::UnknownHost(_) = self {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        if let ApiError::Busy(_) = self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
