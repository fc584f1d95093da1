//! The API's one error type.
//!
//! Policy: a client's mistake (bad JSON, no permission, unknown id, too many attempts) gets a 4xx
//! with a message the UI can show as is. A fault of ours (database down, a bug) is logged with its
//! details and answered with a bare 500 or 503 that leaks nothing; 503 means "retry", and is what
//! transient database errors (locks, serialization failures) become, so sync clients retry them.
//! Text the database cannot hold (a NUL byte, on PostgreSQL) came from the client and is a 400.
//! Axum's own rejections get the same JSON shape through [`json_client_errors`].

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or its values are not acceptable.
    #[error("{0}")]
    BadRequest(String),
    /// Not signed in, or the session ended.
    #[error("请先登录")]
    Unauthorized,
    /// Signed in, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// No such thing (or not visible to this user).
    #[error("找不到{0}")]
    NotFound(String),
    /// The request conflicts with the current state (e.g. a gap in mutation ids).
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than the server accepts.
    #[error("请求内容过大")]
    PayloadTooLarge,
    /// An upload of a type the server does not accept.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A user's share of something (stored uploads) is used up.
    #[error("{0}")]
    QuotaExceeded(String),
    /// Throttled; try again after this many seconds.
    #[error("尝试次数过多，请{}后再试", wait_text(*.0))]
    TooManyRequests(u64),
    /// A transient failure: retry.
    #[error("服务器繁忙，请稍后重试")]
    Unavailable(#[source] sqlx::Error),
    /// A database fault.
    #[error("服务器内部错误")]
    Database(#[source] sqlx::Error),
    /// Any other fault of ours.
    #[error("服务器内部错误")]
    Internal(#[source] anyhow::Error),
}

/// "15分钟" rather than "900秒": the wait as people say it.
fn wait_text(secs: u64) -> String {
    if secs >= 60 {
        format!("{}分钟", secs.div_ceil(60))
    } else {
        format!("{secs}秒")
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_transient(&e) {
            ApiError::Unavailable(e)
        } else if unstorable_text(&e) {
            ApiError::from_unstorable()
        } else {
            ApiError::Database(e)
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        // Domain code wraps database errors in anyhow; text the database refused is still the
        // client's mistake.
        match e.downcast_ref::<sqlx::Error>() {
            Some(db) if unstorable_text(db) => ApiError::from_unstorable(),
            _ => ApiError::Internal(e),
        }
    }
}

impl ApiError {
    fn from_unstorable() -> ApiError {
        ApiError::BadRequest("内容含有无法保存的字符（如 NUL）".into())
    }
}

/// PostgreSQL refuses a NUL character in text (SQLite stores it). Every text we bind comes from
/// a request, so this is the client's mistake, not our fault: a 400, never a 500.
fn unstorable_text(e: &sqlx::Error) -> bool {
    match e {
        // character_not_in_repertoire, untranslatable_character.
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("22021" | "22P05")),
        _ => false,
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            // An oversized body is the client's to fix by sending less, not a malformed one.
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::BadRequest("请求须为 JSON（Content-Type: application/json）".into())
            }
            other => ApiError::BadRequest(format!("请求格式有误：{}", other.body_text())),
        }
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests(_) | ApiError::QuotaExceeded(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Database(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::QuotaExceeded(_) => "quota_exceeded",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Database(_) | ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Database(e) => tracing::error!(error = %e, "database error"),
            ApiError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            ApiError::Unavailable(e) => tracing::warn!(error = %e, "transient database error"),
            _ => {}
        }
        let status = self.status();
        let body = Json(json!({ "error": self.code(), "message": self.to_string() }));
        let mut response = (status, body).into_response();
        if let ApiError::TooManyRequests(secs) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// `Json<T>` whose rejections are `ApiError`s, so malformed bodies get the same JSON error shape.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// Axum answers its own rejections (a bad query string or path segment, a request that is not a
/// WebSocket upgrade, a method the route does not have) in plain text. Under `/api` every client
/// error must have the one JSON shape, so this rewrites any 4xx that is not JSON yet, keeping its
/// status and headers (`Allow` on a 405).
pub async fn json_client_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !status.is_client_error() || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Rejection texts are short; a bound keeps a surprising body from being read whole.
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("payload_too_large", ApiError::PayloadTooLarge.to_string())
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "该接口不支持此请求方法".to_string())
        }
        StatusCode::NOT_FOUND => ("not_found", "找不到该接口".to_string()),
        StatusCode::UNAUTHORIZED => ("unauthorized", ApiError::Unauthorized.to_string()),
        StatusCode::FORBIDDEN => ("forbidden", "无权访问".to_string()),
        _ if text.is_empty() => ("bad_request", "请求格式有误".to_string()),
        _ => ("bad_request", format!("请求格式有误：{text}")),
    };
    let body = json!({ "error": code, "message": message }).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
