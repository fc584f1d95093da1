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
use shared::audit::AuditRecord;
use shared::message::Msg;
use std::path::PathBuf;
use std::sync::Arc;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
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
    /// Idle and absolute session lifetimes.
    pub sessions: auth::session::SessionLimits,
    /// Behind a reverse proxy: take the client's address (for login throttling and the audit
    /// trail) from the last `X-Forwarded-For` entry, which the proxy wrote. Off by default, as
    /// anyone can send that header to a server that is reached directly.
    pub behind_proxy: bool,
    /// Largest upload accepted, in bytes (None: `shared::attachment::DEFAULT_MAX_BYTES`).
    pub upload_max_bytes: Option<u64>,
    /// Sends notifications by e-mail, when SMTP is configured.
    pub mailer: Option<crate::mail::Mailer>,
}

impl Config {
    /// Largest upload accepted, in bytes.
    pub fn upload_limit(&self) -> u64 {
        self.upload_max_bytes
            .unwrap_or(shared::attachment::DEFAULT_MAX_BYTES)
    }
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
    /// The queue that answers pulls in batches.
    pub pulls: crate::sync::pull::Puller,
    /// The WebSockets open per user (`sync::ws::MAX_SOCKETS_PER_USER`).
    pub sockets: crate::held::PerUser,
    /// The uploads being received per user, with the bytes they may still bring
    /// (`upload::MAX_PARALLEL_UPLOADS`).
    pub uploads: crate::held::PerUser,
}

/// Largest JSON body accepted; the browser sizes its pushes to it (`shared::sync::push_batch_len`).
pub const MAX_BODY: usize = shared::sync::MAX_BODY_BYTES;

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
        .route("/audit.csv", get(audit_csv))
        .route("/history/{*key}", get(history))
        .merge(auth::routes())
        .merge(sync::routes())
        .merge(plan_api::routes())
        .merge(crate::openapi::routes())
        .merge(crate::upload::routes())
        .merge(crate::export::routes())
        .merge(crate::auth::users::email_routes())
        .fallback(api_not_found)
        .layer(middleware::from_fn(csrf))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(crate::error::json_client_errors))
        // A first pull of a large plan is megabytes of JSON that compresses ~10×; a middling
        // level keeps the CPU cost per pull small on a 2-core server. Answers under a kilobyte
        // (most pulls after a poke, every push) go as they are: each brotli stream sets up its
        // own tables, which costs more than the bytes it would save.
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Precise(4))
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(1024))),
        );
    let site = static_files::service(state.config.site_dir.as_deref());
    Router::new()
        .nest("/api", api)
        .fallback_service(site)
        .with_state(state)
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::REFERRER_POLICY, "same-origin"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        // Microseconds: most answers take well under a millisecond, which logged as 0 ms.
        .layer(
            tower_http::trace::TraceLayer::new_for_http().on_response(
                tower_http::trace::DefaultOnResponse::new()
                    .latency_unit(tower_http::LatencyUnit::Micros),
            ),
        )
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

async fn csrf(request: Request, next: Next) -> Response {
    if auth::csrf_ok(request.method(), request.headers()) {
        next.run(request).await
    } else {
        ApiError::forbidden(Msg::new(
            "请求来源无效（缺少 X-Reformboard 头或来源不符）",
            "The request's origin is not valid (no X-Reformboard header, or another origin)",
        ))
        .into_response()
    }
}

#[utoipa::path(get, path = "/api/health", tag = "meta",
    responses((status = 200, body = String, content_type = "text/plain")))]
pub(crate) async fn health() -> &'static str {
    "ok"
}

async fn api_not_found() -> ApiError {
    ApiError::not_found(&crate::error::ENDPOINT)
}

fn require_office_for_audit(user: &ActiveUser) -> ApiResult<()> {
    if user.0.actor.role == Role::Office {
        Ok(())
    } else {
        Err(ApiError::forbidden(Msg::new(
            "只有综合办可以查看审计日志",
            "Only the reform office can see the audit log",
        )))
    }
}

/// An unknown category would otherwise be no filter at all, and the office would read the whole
/// trail as if it were the part asked for.
fn check_category(filter: &audit::AuditFilter) -> ApiResult<()> {
    match filter.category.as_deref().map(str::trim) {
        None | Some("" | "security" | "changes") => Ok(()),
        Some(_) => Err(ApiError::bad_request(Msg::new(
            "category 只能是 security 或 changes",
            "category must be security or changes",
        ))),
    }
}

/// The office's audit view: filtered, newest first, one page at a time.
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(audit::AuditFilter),
    responses((status = 200, body = Vec<AuditRecord>)))]
pub(crate) async fn audit_list(
    State(state): State<AppState>,
    user: ActiveUser,
    Query(filter): Query<audit::AuditFilter>,
) -> ApiResult<ApiJson<Vec<AuditRecord>>> {
    require_office_for_audit(&user)?;
    check_category(&filter)?;
    Ok(ApiJson(
        audit::list(
            &state.db.pool,
            &filter,
            audit::MAX_PAGE,
            audit::Logins::Shown,
        )
        .await?,
    ))
}

/// The same rows as a spreadsheet for Excel; without a `limit`, every matching row (up to
/// `audit::MAX_EXPORT`).
#[utoipa::path(get, path = "/api/audit.csv", tag = "audit", params(audit::AuditFilter),
    responses((status = 200, body = String, content_type = "text/csv")))]
pub(crate) async fn audit_csv(
    State(state): State<AppState>,
    user: ActiveUser,
    Query(mut filter): Query<audit::AuditFilter>,
) -> ApiResult<Response> {
    require_office_for_audit(&user)?;
    check_category(&filter)?;
    filter.limit = Some(filter.limit.unwrap_or(audit::MAX_EXPORT));
    let rows = audit::list(
        &state.db.pool,
        &filter,
        audit::MAX_EXPORT,
        audit::Logins::Shown,
    )
    .await?;
    let name = format!("audit-{}.csv", chrono::Utc::now().format("%Y%m%d-%H%M%S"));
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ),
        // The trail holds addresses and account events: no shared cache may keep a copy.
        (header::CACHE_CONTROL, "no-store".to_string()),
    ];
    Ok((headers, audit::to_csv(&rows)?).into_response())
}

/// The history of one board entity (a task, an item, a comment): what changed, when, by whom.
/// Everyone signed in sees board history (the plan is published to all of them); the history of
/// an account (`user/…`) is the office's, and unknown kinds are refused rather than guessed at.
#[utoipa::path(get, path = "/api/history/{key}", tag = "audit",
    params(("key" = String, Path, description = "`task/…`, `item/…`, `comment/…`, `unit/…`, `plan/main`, `user/…`")),
    responses((status = 200, body = Vec<AuditRecord>)))]
pub(crate) async fn history(
    State(state): State<AppState>,
    user: ActiveUser,
    Path(key): Path<String>,
) -> ApiResult<ApiJson<Vec<AuditRecord>>> {
    let kind = key.split_once('/').map_or(key.as_str(), |(kind, _)| kind);
    match kind {
        "plan" | "unit" | "item" | "task" | "comment" => {}
        "user" => require_office_for_audit(&user)?,
        _ => {
            return Err(ApiError::not_found(&shared::msg!(
                "对象 {key}",
                "object {key}"
            )));
        }
    }
    let filter = audit::AuditFilter {
        entity: Some(key),
        limit: Some(500),
        ..Default::default()
    };
    let logins = if user.0.actor.role == shared::actor::Role::Office {
        audit::Logins::Shown
    } else {
        audit::Logins::Hidden
    };
    Ok(ApiJson(
        audit::list(&state.db.pool, &filter, 500, logins).await?,
    ))
}
