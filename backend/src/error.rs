//! The API's one error type.
//!
//! Policy: a client's mistake (bad JSON, no permission, unknown id, too many attempts) gets a 4xx
//! with a message the UI can show as is, in Chinese (`message`) and English (`message_en`),
//! written together where the mistake is found (`shared::message::Msg`). A fault of ours
//! (database down, a bug) is logged with its details and answered with a bare 500 or 503 that
//! leaks nothing; 503 means "retry", and is what transient database errors (locks,
//! serialization failures) become, so sync clients retry them. Text the database cannot hold
//! (a NUL byte, on PostgreSQL) came from the client and is a 400. Axum's own rejections get the
//! same JSON shape through [`json_client_errors`].

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use shared::message::Msg;
use shared::msg;
use std::fmt;

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A client's mistake, told in both languages; its kind gives the status and the code
    /// (`ApiError::bad_request`, `forbidden`, `not_found`, …).
    Client(ClientError, Msg),
    /// Not signed in, or the session ended.
    Unauthorized,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// Throttled; try again after this many seconds.
    TooManyRequests(u64),
    /// A transient failure: retry.
    Unavailable(#[source] sqlx::Error),
    /// A database fault.
    Database(#[source] sqlx::Error),
    /// Any other fault of ours.
    Internal(#[source] anyhow::Error),
}

/// The kinds of client mistake told in both languages: each its status and code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The request is malformed or its values are not acceptable.
    BadRequest,
    /// Signed in, but not allowed.
    Forbidden,
    /// No such thing (or not visible to this user).
    NotFound,
    /// The request conflicts with the current state (e.g. a gap in mutation ids).
    Conflict,
    /// An upload of a type the server does not accept.
    UnsupportedMediaType,
    /// A user's share of something (stored uploads) is used up.
    QuotaExceeded,
}

impl ApiError {
    /// A 400: the request is malformed or its values are not acceptable.
    pub fn bad_request(why: Msg) -> ApiError {
        ApiError::Client(ClientError::BadRequest, why)
    }

    /// A 403: signed in, but not allowed.
    pub fn forbidden(why: Msg) -> ApiError {
        ApiError::Client(ClientError::Forbidden, why)
    }

    /// A 404 naming what was not found (a noun: "附件" / "attachment").
    pub fn not_found(what: &Msg) -> ApiError {
        ApiError::Client(ClientError::NotFound, shared::message::not_found(what))
    }

    /// A 409: the request conflicts with the current state.
    pub fn conflict(why: Msg) -> ApiError {
        ApiError::Client(ClientError::Conflict, why)
    }

    /// A 415: an upload of a type the server does not accept.
    pub fn unsupported_media_type(why: Msg) -> ApiError {
        ApiError::Client(ClientError::UnsupportedMediaType, why)
    }

    /// A 429: a user's share of something is used up.
    pub fn quota_exceeded(why: Msg) -> ApiError {
        ApiError::Client(ClientError::QuotaExceeded, why)
    }

    /// What the client is told, in both languages.
    fn message(&self) -> Msg {
        match self {
            ApiError::Client(_, m) => m.clone(),
            ApiError::Unauthorized => Msg::new("请先登录", "Please sign in"),
            ApiError::PayloadTooLarge => Msg::new("请求内容过大", "The request is too large"),
            ApiError::TooManyRequests(secs) => msg!(
                "尝试次数过多，请{wait}后再试",
                "Too many attempts: try again in {wait}",
                wait = wait_text(*secs)
            ),
            ApiError::Unavailable(_) => Msg::new(
                "服务器繁忙，请稍后重试",
                "The server is busy: please try again shortly",
            ),
            ApiError::Database(_) | ApiError::Internal(_) => {
                Msg::new("服务器内部错误", "Internal server error")
            }
        }
    }
}

/// The Chinese: what logs keep, and what the client reads as `message`.
impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message().zh())
    }
}

/// "15分钟" / "15 minutes" rather than "900秒": the wait as people say it.
fn wait_text(secs: u64) -> Msg {
    match secs {
        60.. => {
            let minutes = secs.div_ceil(60);
            let unit = if minutes == 1 { "minute" } else { "minutes" };
            msg!("{minutes}分钟", "{minutes} {unit}")
        }
        1 => Msg::new("1秒", "1 second"),
        _ => msg!("{secs}秒", "{secs} seconds"),
    }
}

/// "请求格式有误" with what is wrong, if anything is said.
pub(crate) fn malformed(detail: &str) -> Msg {
    if detail.is_empty() {
        Msg::new("请求格式有误", "Malformed request")
    } else {
        msg!("请求格式有误：{detail}", "Malformed request: {detail}")
    }
}

/// The JSON body of every error answer: `message` in Chinese, `message_en` in English.
fn error_body(code: &str, message: &Msg) -> serde_json::Value {
    json!({ "error": code, "message": message.zh(), "message_en": message.en() })
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
        ApiError::bad_request(Msg::new(
            "内容含有无法保存的字符（如 NUL）",
            "The text holds a character that cannot be stored (such as NUL)",
        ))
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
            JsonRejection::MissingJsonContentType(_) => ApiError::bad_request(Msg::new(
                "请求须为 JSON（Content-Type: application/json）",
                "The request must be JSON (Content-Type: application/json)",
            )),
            other => ApiError::bad_request(malformed(&other.body_text())),
        }
    }
}

impl ApiError {
    /// The kind of a client's mistake, whichever way it is told.
    fn client_error(&self) -> Option<ClientError> {
        match self {
            ApiError::Client(kind, _) => Some(*kind),
            _ => None,
        }
    }

    fn status(&self) -> StatusCode {
        match self.client_error() {
            Some(ClientError::BadRequest) => StatusCode::BAD_REQUEST,
            Some(ClientError::Forbidden) => StatusCode::FORBIDDEN,
            Some(ClientError::NotFound) => StatusCode::NOT_FOUND,
            Some(ClientError::Conflict) => StatusCode::CONFLICT,
            Some(ClientError::UnsupportedMediaType) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some(ClientError::QuotaExceeded) => StatusCode::TOO_MANY_REQUESTS,
            None => match self {
                ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
                ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
                ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    fn code(&self) -> &'static str {
        match self.client_error() {
            Some(ClientError::BadRequest) => "bad_request",
            Some(ClientError::Forbidden) => "forbidden",
            Some(ClientError::NotFound) => "not_found",
            Some(ClientError::Conflict) => "conflict",
            Some(ClientError::UnsupportedMediaType) => "unsupported_media_type",
            Some(ClientError::QuotaExceeded) => "quota_exceeded",
            None => match self {
                ApiError::Unauthorized => "unauthorized",
                ApiError::PayloadTooLarge => "payload_too_large",
                ApiError::TooManyRequests(_) => "too_many_requests",
                ApiError::Unavailable(_) => "unavailable",
                _ => "internal",
            },
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
        let body = Json(error_body(self.code(), &self.message()));
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
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", ApiError::PayloadTooLarge.message()),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            Msg::new(
                "该接口不支持此请求方法",
                "This endpoint does not take this method",
            ),
        ),
        StatusCode::NOT_FOUND => ("not_found", shared::message::not_found(&ENDPOINT)),
        StatusCode::UNAUTHORIZED => ("unauthorized", ApiError::Unauthorized.message()),
        StatusCode::FORBIDDEN => ("forbidden", Msg::new("无权访问", "Access denied")),
        _ => ("bad_request", malformed(&text)),
    };
    let body = error_body(code, &message).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

/// What a request to a path under `/api` that no route has is told was not found.
pub const ENDPOINT: Msg = Msg::new("该接口", "endpoint");

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(e: ApiError) -> anyhow::Result<(StatusCode, serde_json::Value)> {
        let response = e.into_response();
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, serde_json::from_slice(&bytes)?))
    }

    #[tokio::test]
    async fn client_errors_are_told_in_both_languages() -> anyhow::Result<()> {
        let (status, body) = body_of(ApiError::not_found(&ENDPOINT)).await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            json!({"error": "not_found", "message": "找不到该接口", "message_en": "Endpoint not found"})
        );
        let (status, body) = body_of(ApiError::TooManyRequests(900)).await?;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(body["message"], "尝试次数过多，请15分钟后再试");
        assert_eq!(
            body["message_en"],
            "Too many attempts: try again in 15 minutes"
        );
        Ok(())
    }
}
