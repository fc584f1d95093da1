//! The router: the JSON API under `/api`, the app everywhere else.

use crate::auth::{self, session::ActiveUser};
use crate::db::Db;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::sync::{self, poke::PokeHub};
use crate::{audit, plan_api, static_files};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use shared::actor::Role;
use std::path::PathBuf;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

/// Settings that don't change while the server runs.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Demo mode: the login page lists one-click demo accounts.
    pub demo: bool,
    /// Mark the session cookie `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// Where the built app is (`target/site`); None serves the API only.
    pub site_dir: Option<PathBuf>,
    /// Where data lives.
    pub data_dir: PathBuf,
}

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Settings.
    pub config: Arc<Config>,
    /// Poke fan-out.
    pub hub: PokeHub,
}

/// Largest JSON body accepted (a push of `MAX_PUSH_BATCH` mutations fits well within it).
pub const MAX_BODY: usize = 2 * 1024 * 1024;

/// Content-Security-Policy: everything from our own origin; wasm needs 'wasm-unsafe-eval', and
/// nothing needs inline scripts.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
                   img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; \
                   base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The whole application.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/audit", get(audit_list))
        .route("/history/{key}", get(history))
        .merge(auth::routes())
        .merge(sync::routes())
        .merge(plan_api::routes())
        .fallback(api_not_found)
        .layer(middleware::from_fn(csrf))
        .layer(DefaultBodyLimit::max(MAX_BODY));
    let site = static_files::service(state.config.site_dir.as_deref());
    Router::new()
        .nest("/api", api)
        .fallback_service(site)
        .with_state(state)
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::REFERRER_POLICY, "same-origin"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

async fn csrf(request: Request, next: Next) -> Response {
    if auth::csrf_ok(request.method(), request.headers()) {
        next.run(request).await
    } else {
        ApiError::Forbidden("请求来源无效（缺少 X-Reformboard 头或来源不符）".into()).into_response()
    }
}

async fn health() -> &'static str {
    "ok"
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound("该接口".into())
}

async fn audit_list(
    State(state): State<AppState>,
    user: ActiveUser,
    Query(filter): Query<audit::AuditFilter>,
) -> ApiResult<ApiJson<Vec<audit::AuditRow>>> {
    if user.0.actor.role != Role::Office {
        return Err(ApiError::Forbidden("只有综合办可以查看审计日志".into()));
    }
    Ok(ApiJson(audit::list(&state.db.pool, &filter).await?))
}

/// The history of one entity (a task, an item): what changed, when, by whom.
async fn history(
    State(state): State<AppState>,
    _user: ActiveUser,
    Path(key): Path<String>,
) -> ApiResult<ApiJson<Vec<audit::AuditRow>>> {
    let filter = audit::AuditFilter { entity: Some(key), limit: Some(500), ..Default::default() };
    Ok(ApiJson(audit::list(&state.db.pool, &filter).await?))
}
