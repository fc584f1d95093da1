//! Accounts: login, sessions, passwords, throttling, and the office's account management.

pub mod password;
pub mod session;
pub mod throttle;
pub mod users;

use crate::app::AppState;
use crate::audit;
use crate::error::{ApiError, ApiJson, ApiResult};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use session::{ActiveUser, CurrentUser};
use shared::account::{
    ChangePasswordRequest, CreateUserRequest, DemoAccount, LoginRequest, LogoutRequest, Me,
    ResetPasswordRequest, SetRoleRequest, UserSummary, valid_username,
};
use shared::actor::Role;
use std::net::SocketAddr;
use users::UserRow;

/// Routes under `/api/auth` and `/api/users`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
        .route("/auth/password", post(change_password))
        .route("/auth/demo-accounts", get(demo_accounts))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}/password", post(reset_password))
        .route("/users/{id}/disable", post(disable_user))
        .route("/users/{id}/enable", post(enable_user))
        .route("/users/{id}/role", post(set_role))
}

fn me_of(row: &UserRow) -> ApiResult<Me> {
    let actor = row.actor().ok_or_else(|| anyhow::anyhow!("user {} is unusable", row.id))?;
    Ok(Me {
        id: actor.user,
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        unit: actor.unit,
        role: actor.role,
        must_change_password: row.must_change_password != 0,
    })
}

fn summary_of(row: &UserRow) -> ApiResult<UserSummary> {
    let me = me_of(row)?;
    Ok(UserSummary {
        id: me.id,
        username: me.username,
        display_name: me.display_name,
        unit: me.unit,
        role: me.role,
        disabled: row.disabled != 0,
        must_change_password: me.must_change_password,
    })
}

/// The one message for every failed login: it must not tell a wrong password from an unknown or
/// disabled account.
const LOGIN_FAILED: &str = "用户名或密码错误";

#[tracing::instrument(skip_all, fields(user = %req.username))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let pool = &state.db.pool;
    let username = req.username.trim();
    let account_key = format!("user:{}", username.to_lowercase());
    let keys = [account_key.clone(), format!("addr:{}", addr.ip())];
    if let Some(secs) = throttle::retry_after(pool, &keys).await? {
        return Err(ApiError::TooManyRequests(secs));
    }
    let user = users::by_username(pool, username).await?;
    let ok = match &user {
        Some(u) => password::verify(&req.password, &u.password_hash) && u.disabled == 0,
        None => {
            password::verify_dummy(&req.password);
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        throttle::failed(pool, &keys).await?;
        audit::security_event(pool, None, "login_failed", Some(username.chars().take(64).collect()))
            .await?;
        return Err(ApiError::Forbidden(LOGIN_FAILED.into()));
    };
    throttle::succeeded(pool, &account_key).await?;
    let token = session::create(pool, &user.id).await?;
    audit::security_event(pool, user.actor().as_ref(), "login", None).await?;
    let me = me_of(&user)?;
    Ok((
        [(header::SET_COOKIE, session::set_cookie(&token, state.config.secure_cookies))],
        ApiJson(me),
    )
        .into_response())
}

async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    // The body is optional: an empty one means "this session only".
    let everywhere = if body.is_empty() {
        false
    } else {
        serde_json::from_slice::<LogoutRequest>(&body)
            .map_err(|e| ApiError::BadRequest(format!("请求格式有误：{e}")))?
            .everywhere
    };
    if everywhere {
        session::end_all(&state.db.pool, &user.row.id).await?;
    } else {
        session::end(&state.db.pool, &user.token).await?;
    }
    audit::security_event(&state.db.pool, Some(&user.actor), "logout", everywhere.then(|| "everywhere".into()))
        .await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session::clear_cookie(state.config.secure_cookies))],
    )
        .into_response())
}

async fn me(user: CurrentUser) -> ApiResult<ApiJson<Me>> {
    Ok(ApiJson(me_of(&user.row)?))
}

async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<Response> {
    if !password::verify(&req.old_password, &user.row.password_hash) {
        return Err(ApiError::Forbidden("原密码不正确".into()));
    }
    password::check_new(&req.new_password).map_err(ApiError::BadRequest)?;
    if req.new_password == req.old_password {
        return Err(ApiError::BadRequest("新密码不能与原密码相同".into()));
    }
    let pool = &state.db.pool;
    users::set_password(pool, &user.row.id, &password::hash(&req.new_password)?, false).await?;
    // Other sessions may belong to whoever knew the old password.
    session::end_all(pool, &user.row.id).await?;
    let token = session::create(pool, &user.row.id).await?;
    audit::security_event(pool, Some(&user.actor), "password_changed", None).await?;
    Ok((
        [(header::SET_COOKIE, session::set_cookie(&token, state.config.secure_cookies))],
        StatusCode::NO_CONTENT,
    )
        .into_response())
}

async fn demo_accounts(State(state): State<AppState>) -> ApiResult<ApiJson<Vec<DemoAccount>>> {
    if !state.config.demo {
        return Ok(ApiJson(vec![]));
    }
    let accounts = users::all(&state.db.pool)
        .await?
        .iter()
        .filter(|u| u.disabled == 0)
        .filter_map(|u| {
            Some(DemoAccount {
                username: u.username.clone(),
                display_name: u.display_name.clone(),
                role: Role::parse(&u.role)?,
                password: crate::bootstrap::DEMO_PASSWORD.into(),
            })
        })
        .filter(|a| a.username != crate::bootstrap::ADMIN_USERNAME)
        .collect();
    Ok(ApiJson(accounts))
}

fn require_office(user: &ActiveUser) -> ApiResult<()> {
    if user.0.actor.role == Role::Office {
        Ok(())
    } else {
        Err(ApiError::Forbidden("只有综合办可以管理账号".into()))
    }
}

async fn list_users(State(state): State<AppState>, user: ActiveUser) -> ApiResult<ApiJson<Vec<UserSummary>>> {
    require_office(&user)?;
    let rows = users::all(&state.db.pool).await?;
    Ok(ApiJson(rows.iter().map(summary_of).collect::<ApiResult<_>>()?))
}

async fn create_user(
    State(state): State<AppState>,
    user: ActiveUser,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, ApiJson<UserSummary>)> {
    require_office(&user)?;
    let username = req.username.trim();
    if !valid_username(username) {
        return Err(ApiError::BadRequest("用户名须为2到64位字母、数字、点、下划线或连字符".into()));
    }
    let display_name = req.display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 64 {
        return Err(ApiError::BadRequest("姓名须为1到64个字".into()));
    }
    password::check_new(&req.password).map_err(ApiError::BadRequest)?;
    crate::plan_import::require_unit(&state.db.pool, req.unit).await?;
    let pool = &state.db.pool;
    let id = users::insert(
        pool,
        users::NewUser {
            username,
            display_name,
            unit: req.unit,
            role: req.role,
            password_hash: password::hash(&req.password)?,
            must_change_password: true,
        },
    )
    .await?
    .ok_or_else(|| ApiError::Conflict("用户名已被使用".into()))?;
    audit::security_event(pool, Some(&user.0.actor), "user_created", Some(format!("{username} ({id})"))).await?;
    let row = users::by_id(pool, &id.to_string()).await?.ok_or_else(|| anyhow::anyhow!("user vanished"))?;
    Ok((StatusCode::CREATED, ApiJson(summary_of(&row)?)))
}

async fn target_user(state: &AppState, id: &str) -> ApiResult<UserRow> {
    users::by_id(&state.db.pool, id).await?.ok_or_else(|| ApiError::NotFound("用户".into()))
}

async fn reset_password(
    State(state): State<AppState>,
    user: ActiveUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ResetPasswordRequest>,
) -> ApiResult<StatusCode> {
    require_office(&user)?;
    let target = target_user(&state, &id).await?;
    password::check_new(&req.password).map_err(ApiError::BadRequest)?;
    let pool = &state.db.pool;
    users::set_password(pool, &target.id, &password::hash(&req.password)?, true).await?;
    session::end_all(pool, &target.id).await?;
    audit::security_event(pool, Some(&user.0.actor), "password_reset", Some(target.username)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_disabled(state: &AppState, user: &ActiveUser, id: &str, disabled: bool) -> ApiResult<StatusCode> {
    require_office(user)?;
    let target = target_user(state, id).await?;
    if disabled && target.id == user.0.row.id {
        return Err(ApiError::BadRequest("不能停用自己的账号".into()));
    }
    let pool = &state.db.pool;
    users::set_disabled(pool, &target.id, disabled).await?;
    if disabled {
        session::end_all(pool, &target.id).await?;
    }
    let action = if disabled { "user_disabled" } else { "user_enabled" };
    audit::security_event(pool, Some(&user.0.actor), action, Some(target.username)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn disable_user(State(state): State<AppState>, user: ActiveUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    set_disabled(&state, &user, &id, true).await
}

async fn enable_user(State(state): State<AppState>, user: ActiveUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    set_disabled(&state, &user, &id, false).await
}

async fn set_role(
    State(state): State<AppState>,
    user: ActiveUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SetRoleRequest>,
) -> ApiResult<StatusCode> {
    require_office(&user)?;
    let target = target_user(&state, &id).await?;
    if target.id == user.0.row.id && req.role != Role::Office {
        return Err(ApiError::BadRequest("不能取消自己的综合办权限".into()));
    }
    crate::plan_import::require_unit(&state.db.pool, req.unit).await?;
    let pool = &state.db.pool;
    users::set_role(pool, &target.id, req.role, req.unit).await?;
    audit::security_event(
        pool,
        Some(&user.0.actor),
        "role_changed",
        Some(format!("{}: {} → {}", target.username, target.role, req.role.as_str())),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The `Origin` check against cross-site request forgery: state-changing API requests must carry
/// our custom header (which a cross-site form or `fetch` without CORS cannot set) and, when the
/// browser sends an `Origin`, it must be this server's.
pub fn csrf_ok(method: &axum::http::Method, headers: &HeaderMap) -> bool {
    if matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS) {
        return true;
    }
    if headers.get("x-reformboard").is_none() {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    origin.split_once("://").is_some_and(|(_, rest)| rest == host)
}
