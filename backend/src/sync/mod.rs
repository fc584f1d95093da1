//! The sync endpoints: `POST /api/sync/push`, `POST /api/sync/pull`, `GET /api/sync/ws` (pokes).
//! The protocol is described in `shared::sync`.

pub mod attach;
pub mod locking;
pub mod poke;
pub mod pull;
pub mod push;
pub mod ws;

use crate::app::AppState;
use crate::auth::session::{ActiveUser, SessionToken};
use crate::error::{ApiError, ApiJson, ApiResult};
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use shared::sync::{PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest, PushResponse};

/// Routes under `/api/sync`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sync/push", post(push_handler))
        .route("/sync/pull", post(pull_handler).layer(pull_limit()))
        .route("/sync/ws", get(ws::handler))
}

/// Largest pull request: a protocol version, a client group and a cookie of a few dozen
/// spaces' versions fit many times over. A pull's session is checked with its batch, after its
/// body is read, so anyone could otherwise make the server hold the full `MAX_BODY` per request.
pub const PULL_MAX_BODY: usize = 64 * 1024;

fn pull_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(PULL_MAX_BODY)
}

fn check_protocol(version: u32) -> ApiResult<()> {
    if version == PROTOCOL_VERSION {
        Ok(())
    } else {
        Err(ApiError::bad_request(shared::msg!(
            "同步协议版本 {version} 与服务器（{PROTOCOL_VERSION}）不符，请刷新页面",
            "Sync protocol {version} is not the server's ({PROTOCOL_VERSION}): please reload the page"
        )))
    }
}

#[tracing::instrument(skip_all, fields(user = %user.0.row.username, n = req.mutations.len()))]
#[utoipa::path(post, path = "/api/sync/push", tag = "sync", request_body = PushRequest,
    responses((status = 200, body = PushResponse)))]
pub(crate) async fn push_handler(
    State(state): State<AppState>,
    user: ActiveUser,
    ApiJson(req): ApiJson<PushRequest>,
) -> ApiResult<ApiJson<PushResponse>> {
    check_protocol(req.protocol)?;
    let (response, changed, changes) =
        push::push_with_changes(&state.db, &user.0.actor, &req, push::Times::Client).await?;
    state.hub.pushed(&changed);
    crate::mail::after_commit(&state.db, state.config.mailer.as_ref(), changes);
    Ok(ApiJson(response))
}

/// The session is checked with the batch the pull is answered in (see `pull`), not here.
#[tracing::instrument(skip_all)]
#[utoipa::path(post, path = "/api/sync/pull", tag = "sync", request_body = PullRequest,
    responses((status = 200, body = PullResponse)))]
pub(crate) async fn pull_handler(
    State(state): State<AppState>,
    token: SessionToken,
    ApiJson(req): ApiJson<PullRequest>,
) -> ApiResult<ApiJson<PullResponse>> {
    check_protocol(req.protocol)?;
    Ok(ApiJson(state.pulls.pull(token, req).await?))
}
