//! Accounts: login, sessions, passwords, throttling, and the office's account management.
//!
//! Every security event (sign-in and its failures, sign-out, password changes and resets,
//! account creation, disabling and role changes) is written to the audit trail; see
//! `crate::audit::security_event`.

pub mod password;
pub mod session;
pub mod session_cache;
pub mod throttle;
pub mod users;

use crate::app::AppState;
use crate::audit::{self, SecurityEvent};
use crate::entity_store;
use crate::error::{ApiError, ApiJson, ApiResult};
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use session::{ActiveUser, CurrentUser};
use shared::account::{
    ChangePasswordRequest, CreateUserRequest, DISPLAY_NAME_MAX, DemoAccount, LoginRequest,
    LogoutRequest, Me, ResetPasswordRequest, SetLanguageRequest, SetRoleRequest, USERNAME_MAX,
    UserSummary, valid_username,
};
use shared::actor::Role;
use shared::entity::Entity;
use shared::message::Msg;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use users::UserRow;

/// Routes under `/api/auth` and `/api/users`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
        .route("/auth/password", post(change_password))
        .route("/auth/language", post(set_language))
        .route("/auth/demo-accounts", get(demo_accounts))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}/password", post(reset_password))
        .route("/users/{id}/disable", post(disable_user))
        .route("/users/{id}/enable", post(enable_user))
        .route("/users/{id}/role", post(set_role))
}

fn me_of(row: &UserRow) -> ApiResult<Me> {
    let actor = row
        .actor()
        .ok_or_else(|| anyhow::anyhow!("user {} is unusable", row.id))?;
    Ok(Me {
        id: actor.user,
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        unit: actor.unit,
        role: actor.role,
        must_change_password: row.must_change_password != 0,
        language: row.language(),
        max_upload_bytes: None,
    })
}

/// `me_of` as the signed-in user reads it, with what the browser needs to know of this server.
fn me_with_limits(row: &UserRow, state: &AppState) -> ApiResult<Me> {
    Ok(Me {
        max_upload_bytes: Some(state.config.upload_limit()),
        ..me_of(row)?
    })
}

fn summary_of(row: &UserRow, units: &HashMap<String, String>) -> ApiResult<UserSummary> {
    let me = me_of(row)?;
    Ok(UserSummary {
        id: me.id,
        username: me.username,
        display_name: me.display_name,
        unit: me.unit,
        unit_name: units.get(&row.unit_id).cloned().unwrap_or_default(),
        role: me.role,
        disabled: row.disabled != 0,
        must_change_password: me.must_change_password,
        email: row.email.clone(),
    })
}

/// Unit id → name, for lists and audit details.
async fn unit_names(state: &AppState) -> ApiResult<HashMap<String, String>> {
    Ok(entity_store::all_of_kind(&state.db.pool, "unit")
        .await?
        .into_iter()
        .filter_map(|e| match e {
            Entity::Unit(u) => Some((u.id.to_string(), u.name)),
            _ => None,
        })
        .collect())
}

/// The one message for every failed login: it must not tell a wrong password from an unknown or
/// disabled account.
/// The one answer to a wrong username, a wrong password or a disabled account alike.
fn login_failed() -> ApiError {
    ApiError::forbidden(Msg::new("用户名或密码错误", "Wrong username or password"))
}

/// The address a request came from: the peer, or behind a reverse proxy the address the proxy
/// appended last to `X-Forwarded-For` (earlier entries are whatever the client claimed).
fn client_addr(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    let forwarded = || {
        let last = headers.get_all("x-forwarded-for").iter().next_back()?;
        last.to_str().ok()?.rsplit(',').next()?.trim().parse().ok()
    };
    state
        .config
        .behind_proxy
        .then(forwarded)
        .flatten()
        .unwrap_or(peer.ip())
}

#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Me, description = "Signed in; sets the session cookie")))]
#[tracing::instrument(skip_all, fields(user = %req.username))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let pool = &state.db.pool;
    // Control characters can't be in a username, and a NUL can't even be stored as PostgreSQL
    // text: replaced, the name still counts towards throttling and is written to the audit
    // trail, and the answer is the same wrong-login answer on either database.
    let username: String = req
        .username
        .trim()
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    let username = username.as_str();
    let addr = client_addr(&state, peer, &headers);
    let counters = throttle::counters(username, addr);
    if let Some(refused) = throttle::attempt(pool, &counters).await? {
        if refused.first {
            let tried: String = username.chars().take(64).collect();
            let event = SecurityEvent {
                action: "login_throttled",
                detail: Some(format!(
                    "{tried} @ {addr}; further refusals until the window ends are not recorded"
                )),
                ..Default::default()
            };
            audit::security_event(pool, event).await?;
        }
        return Err(ApiError::TooManyRequests(refused.secs));
    }
    let user = users::by_username(pool, username).await?;
    // Unknown users cost one hash check too, so timing tells no more than the message.
    let checked = password::verify_off_thread(
        &req.password,
        user.as_ref().map(|u| u.password_hash.as_str()),
    )
    .await;
    let ok = match checked {
        Ok(right) => right && user.as_ref().is_some_and(|u| u.disabled == 0),
        Err(busy) => {
            // Not checked: the attempt is not held against the account.
            throttle::take_back(pool, &counters).await?;
            return Err(busy);
        }
    };
    let user = match user {
        // However its row was changed, the server's own account never signs in.
        Some(user) if ok && !user.is_system() => user,
        other => {
            let tried: String = username.chars().take(64).collect();
            let event = SecurityEvent {
                action: "login_failed",
                subject: other.as_ref().map(|u| u.id.as_str()),
                detail: Some(format!("{tried} @ {addr}")),
                ..Default::default()
            };
            audit::security_event(pool, event).await?;
            return Err(login_failed());
        }
    };
    throttle::succeeded(pool, &counters).await?;
    // Session fixation: whatever session the browser brought is ended, and the signed-in
    // session always gets a fresh token.
    if let Some(old) = session::token_from(&headers) {
        session::end(&state.db, &old).await?;
    }
    let token = session::create(pool, &user.id).await?;
    let actor = user.actor();
    let event = SecurityEvent {
        actor: actor.as_ref(),
        action: "login",
        subject: Some(&user.id),
        detail: Some(addr.to_string()),
    };
    audit::security_event(pool, event).await?;
    let cookie = session::set_cookie(&token, state.config.secure_cookies, state.config.sessions);
    Ok((
        [(header::SET_COOKIE, cookie)],
        ApiJson(me_with_limits(&user, &state)?),
    )
        .into_response())
}

/// Ends this session, or every session of the user (`{"everywhere": true}`). Without a live
/// session it still clears the cookie: signing out is never an error.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    request_body(content = Option<LogoutRequest>, description = "Optional; empty means this session only"),
    responses((status = 204, description = "Signed out; the cookie is cleared")))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    user: Result<CurrentUser, ApiError>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    // The body is optional: an empty one means "this session only".
    let everywhere = if body.is_empty() {
        false
    } else {
        serde_json::from_slice::<LogoutRequest>(&body)
            .map_err(|e| ApiError::bad_request(crate::error::malformed(&e.to_string())))?
            .everywhere
    };
    // Only "no live session" is nothing to end; a database that can't say (busy, failing
    // over) is an error, or "sign out everywhere" would answer done with every session alive.
    let user = match user {
        Ok(user) => Some(user),
        Err(ApiError::Unauthorized | ApiError::Client(..)) => None,
        Err(e) => return Err(e),
    };
    if let Some(user) = user {
        let pool = &state.db.pool;
        if everywhere {
            session::end_all(&state.db, &user.row.id).await?;
        } else {
            session::end(&state.db, &user.token).await?;
        }
        let event = SecurityEvent {
            actor: Some(&user.actor),
            action: if everywhere {
                "logout_everywhere"
            } else {
                "logout"
            },
            subject: Some(&user.row.id),
            detail: None,
        };
        audit::security_event(pool, event).await?;
    }
    let clear = session::clear_cookie(state.config.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

#[utoipa::path(get, path = "/api/auth/me", tag = "auth", responses((status = 200, body = Me)))]
pub(crate) async fn me(State(state): State<AppState>, user: CurrentUser) -> ApiResult<ApiJson<Me>> {
    Ok(ApiJson(me_with_limits(&user.row, &state)?))
}

/// The signed-in user's interface language, remembered for all their devices. Open during a
/// forced password change too: the password page has the language switch.
#[utoipa::path(post, path = "/api/auth/language", tag = "auth", request_body = SetLanguageRequest,
    responses((status = 204, description = "Remembered")))]
pub(crate) async fn set_language(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(req): ApiJson<SetLanguageRequest>,
) -> ApiResult<StatusCode> {
    users::set_language(&state.db, &user.row.id, req.language).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user sets a new password (also the way out of a forced change). Every other session ends,
/// since it may belong to whoever knew the old password; this one continues under a new token.
#[utoipa::path(post, path = "/api/auth/password", tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed; a new session cookie is set")))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    user: CurrentUser,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<Response> {
    let pool = &state.db.pool;
    // A stolen session must not become a way to guess the password: same counters as login.
    let counters = throttle::counters(&user.row.username, client_addr(&state, peer, &headers));
    if let Some(refused) = throttle::attempt(pool, &counters).await? {
        return Err(ApiError::TooManyRequests(refused.secs));
    }
    let right =
        match password::verify_off_thread(&req.old_password, Some(&user.row.password_hash)).await {
            Ok(right) => right,
            Err(busy) => {
                throttle::take_back(pool, &counters).await?;
                return Err(busy);
            }
        };
    if !right {
        let event = SecurityEvent {
            actor: Some(&user.actor),
            action: "password_change_failed",
            subject: Some(&user.row.id),
            detail: None,
        };
        audit::security_event(pool, event).await?;
        return Err(ApiError::forbidden(Msg::new(
            "原密码不正确",
            "The current password is wrong",
        )));
    }
    throttle::succeeded(pool, &counters).await?;
    password::check_new(&req.new_password).map_err(ApiError::bad_request)?;
    if req.new_password == req.old_password {
        return Err(ApiError::bad_request(Msg::new(
            "新密码不能与原密码相同",
            "The new password must differ from the current one",
        )));
    }
    let hashed = password::hash_off_thread(&req.new_password).await?;
    let event = SecurityEvent {
        actor: Some(&user.actor),
        action: "password_changed",
        subject: Some(&user.row.id),
        detail: None,
    };
    // Every other session ends (a thief's too), this browser gets a fresh one.
    let along = users::Along {
        end_sessions: true,
        new_session: true,
        audit: Some(audit::security_event_row(event)),
    };
    let token = users::set_password(&state.db, &user.row.id, &hashed, false, along)
        .await?
        .token
        .ok_or_else(|| anyhow::anyhow!("no session after a password change"))?;
    let cookie = session::set_cookie(&token, state.config.secure_cookies, state.config.sessions);
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

#[utoipa::path(get, path = "/api/auth/demo-accounts", tag = "auth",
    responses((status = 200, body = Vec<DemoAccount>, description = "Empty unless the server runs with --demo")))]
pub(crate) async fn demo_accounts(
    State(state): State<AppState>,
) -> ApiResult<ApiJson<Vec<DemoAccount>>> {
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
        .collect::<Vec<_>>();
    // In the order a visitor would try them: the office, a leader, the People's Congress and
    // the CPPCC, then the plan's units as the plan names them (unit01…), the street offices
    // it does not name last.
    let rank = |a: &DemoAccount| {
        let role = match a.role {
            Role::Office => 0,
            Role::Leader => 1,
            Role::Supervisor => 2,
            Role::Unit => 3,
        };
        let member = a.username.starts_with(crate::bootstrap::DEMO_MEMBER_PREFIX);
        (role, member)
    };
    let mut accounts = accounts;
    accounts.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.username.cmp(&b.username)));
    Ok(ApiJson(accounts))
}

fn require_office(user: &ActiveUser) -> ApiResult<()> {
    if user.0.actor.role == Role::Office {
        Ok(())
    } else {
        Err(ApiError::forbidden(Msg::new(
            "只有综合办可以管理账号",
            "Only the reform office manages accounts",
        )))
    }
}

#[utoipa::path(get, path = "/api/users", tag = "users", responses((status = 200, body = Vec<UserSummary>)))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    user: ActiveUser,
) -> ApiResult<ApiJson<Vec<UserSummary>>> {
    require_office(&user)?;
    let rows = users::all(&state.db.pool).await?;
    let units = unit_names(&state).await?;
    Ok(ApiJson(
        rows.iter()
            .filter(|r| !r.is_system())
            .map(|r| summary_of(r, &units))
            .collect::<ApiResult<_>>()?,
    ))
}

#[utoipa::path(post, path = "/api/users", tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = UserSummary)))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    user: ActiveUser,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, ApiJson<UserSummary>)> {
    require_office(&user)?;
    let username = req.username.trim();
    if !valid_username(username) {
        return Err(ApiError::bad_request(shared::msg!(
            "用户名须为2到{USERNAME_MAX}位字母、数字、点、下划线或连字符",
            "A username is 2 to {USERNAME_MAX} letters, digits, dots, underscores or hyphens"
        )));
    }
    let display_name = req.display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > DISPLAY_NAME_MAX {
        return Err(ApiError::bad_request(shared::msg!(
            "姓名须为1到{DISPLAY_NAME_MAX}个字",
            "A name is 1 to {DISPLAY_NAME_MAX} characters"
        )));
    }
    password::check_new(&req.password).map_err(ApiError::bad_request)?;
    let pool = &state.db.pool;
    crate::plan_import::require_unit(pool, req.unit).await?;
    let new = users::NewUser {
        username,
        display_name,
        unit: req.unit,
        role: req.role,
        password_hash: password::hash_off_thread(&req.password).await?,
        must_change_password: true,
    };
    let units = unit_names(&state).await?;
    let unit_name = units
        .get(&req.unit.to_string())
        .cloned()
        .unwrap_or_default();
    check_role_fits(req.role, &unit_name)?;
    // The account and its audit row together: a retry after a failure halfway finds neither,
    // not an account nobody recorded making (and "username taken").
    let mut tx = pool.begin().await?;
    let id = users::insert(&mut *tx, new)
        .await?
        .ok_or_else(|| ApiError::conflict(Msg::new("用户名已被使用", "That username is taken")))?
        .to_string();
    let event = SecurityEvent {
        actor: Some(&user.0.actor),
        action: "user_created",
        subject: Some(&id),
        detail: Some(format!("{username}：{unit_name}，{}", req.role.zh())),
    };
    audit::security_event_row(event).execute(&mut *tx).await?;
    tx.commit().await?;
    let row = users::by_id(pool, &id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user {id} vanished after insert"))?;
    let summary = summary_of(&row, &units)?;
    Ok((StatusCode::CREATED, ApiJson(summary)))
}

/// 400 unless `role` is the one accounts of the unit named `unit_name` have
/// (`shared::unit::role_of_unit`).
fn check_role_fits(role: Role, unit_name: &str) -> ApiResult<()> {
    let fits = shared::unit::role_of_unit(unit_name);
    if role == fits {
        return Ok(());
    }
    Err(ApiError::bad_request(Msg::owned(
        format!("{unit_name}的账号角色应为“{}”", fits.zh()),
        format!("An account of {unit_name} has the role “{}”", fits.en()),
    )))
}

/// The account `id`, for the office to manage. The server's own account is not one: enabled,
/// given a password or a role, it would be a way to act as the office under the name 系统,
/// the automatic reminders' name, in the audit trail and the notices.
async fn managed_user(state: &AppState, user: &ActiveUser, id: &str) -> ApiResult<UserRow> {
    require_office(user)?;
    users::by_id(&state.db.pool, id)
        .await?
        .filter(|row| !row.is_system())
        .ok_or_else(|| ApiError::not_found(&Msg::new("用户", "user")))
}

/// The office sets a temporary password; the user must change it at next login, and every
/// session of theirs ends now.
#[utoipa::path(post, path = "/api/users/{id}/password", tag = "users", params(("id" = String, Path)),
    request_body = ResetPasswordRequest, responses((status = 204, description = "Reset")))]
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    user: ActiveUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ResetPasswordRequest>,
) -> ApiResult<StatusCode> {
    let target = managed_user(&state, &user, &id).await?;
    password::check_new(&req.password).map_err(ApiError::bad_request)?;
    let hashed = password::hash_off_thread(&req.password).await?;
    let event = SecurityEvent {
        actor: Some(&user.0.actor),
        action: "password_reset",
        subject: Some(&target.id),
        detail: Some(target.username),
    };
    let along = users::Along {
        end_sessions: true,
        audit: Some(audit::security_event_row(event)),
        ..Default::default()
    };
    users::set_password(&state.db, &target.id, &hashed, true, along).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disabling ends every session at once: every process forgets what it remembered of the
/// account (`session::forget_user`), so the next request reads it disabled.
async fn set_disabled(
    state: &AppState,
    user: &ActiveUser,
    id: &str,
    disabled: bool,
) -> ApiResult<StatusCode> {
    let target = managed_user(state, user, id).await?;
    if disabled && target.id == user.0.row.id {
        return Err(ApiError::bad_request(Msg::new(
            "不能停用自己的账号",
            "You cannot disable your own account",
        )));
    }
    let event = SecurityEvent {
        actor: Some(&user.0.actor),
        action: if disabled {
            "user_disabled"
        } else {
            "user_enabled"
        },
        subject: Some(&target.id),
        detail: Some(target.username),
    };
    let along = users::Along {
        end_sessions: disabled,
        audit: Some(audit::security_event_row(event)),
        ..Default::default()
    };
    users::set_disabled(&state.db, &target.id, disabled, along).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/users/{id}/disable", tag = "users", params(("id" = String, Path)),
    responses((status = 204, description = "Disabled; every session ended")))]
pub(crate) async fn disable_user(
    State(state): State<AppState>,
    user: ActiveUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    set_disabled(&state, &user, &id, true).await
}

#[utoipa::path(post, path = "/api/users/{id}/enable", tag = "users", params(("id" = String, Path)),
    responses((status = 204, description = "Enabled")))]
pub(crate) async fn enable_user(
    State(state): State<AppState>,
    user: ActiveUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    set_disabled(&state, &user, &id, false).await
}

/// Role and unit change together: both decide what the account may do. The next request of
/// every session of the account already runs with the new ones.
#[utoipa::path(post, path = "/api/users/{id}/role", tag = "users", params(("id" = String, Path)),
    request_body = SetRoleRequest, responses((status = 204, description = "Changed")))]
pub(crate) async fn set_role(
    State(state): State<AppState>,
    user: ActiveUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SetRoleRequest>,
) -> ApiResult<StatusCode> {
    let target = managed_user(&state, &user, &id).await?;
    if target.id == user.0.row.id && req.role != Role::Office {
        return Err(ApiError::bad_request(Msg::new(
            "不能取消自己的综合办权限",
            "You cannot take the reform office's role from yourself",
        )));
    }
    let pool = &state.db.pool;
    crate::plan_import::require_unit(pool, req.unit).await?;
    let units = unit_names(&state).await?;
    let unit = |id: &str| units.get(id).cloned().unwrap_or_else(|| id.to_string());
    check_role_fits(req.role, &unit(&req.unit.to_string()))?;
    let old_role = Role::parse(&target.role).map_or_else(|| target.role.clone(), |r| r.zh().into());
    let detail = format!(
        "{}：{}，{} → {}，{}",
        target.username,
        unit(&target.unit_id),
        old_role,
        unit(&req.unit.to_string()),
        req.role.zh()
    );
    let event = SecurityEvent {
        actor: Some(&user.0.actor),
        action: "role_changed",
        subject: Some(&target.id),
        detail: Some(detail),
    };
    let along = users::Along {
        audit: Some(audit::security_event_row(event)),
        ..Default::default()
    };
    users::set_role(&state.db, &target.id, req.role, req.unit, along).await?;
    // After the change and its record: if moving the marks fails, the user's next mark moves
    // them (`MarkRead`), and the role change stands, recorded, either way.
    if target.unit_id != req.unit.to_string()
        && let Err(e) = move_read_marks(&state, &target.id).await
    {
        tracing::warn!(error = %e, "read marks not moved with the user; their next mark moves them");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A user moved to another unit keeps what they have read. Their read marks are seen by their
/// unit (colleagues see what the unit has read), so those left under the old unit stopped
/// reaching them: they are moved now, as the user's own next mark would move them
/// (`shared::notice::MarkRead`), through the same mutation, and every device of theirs is poked.
async fn move_read_marks(state: &AppState, user_id: &str) -> ApiResult<()> {
    use shared::ids::{ClientGroupId, ClientId};
    use shared::mutation::Mutation;
    use shared::sync::{PROTOCOL_VERSION, PendingMutation, PushRequest};
    let Some(actor) = users::by_id(&state.db.pool, user_id)
        .await?
        .and_then(|row| row.actor())
    else {
        return Ok(());
    };
    // One sync group per user for these moves, not a new one each time.
    let group = ClientGroupId(uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("reformboard:read-marks-move:{user_id}").as_bytes(),
    ));
    let req = PushRequest {
        protocol: PROTOCOL_VERSION,
        client_group: group,
        mutations: vec![PendingMutation {
            client_id: ClientId::new_v7(),
            id: 1,
            mutation: Mutation::MarkNoticesRead(shared::notice::MarkRead {
                user: actor.user,
                keys: vec![],
                at: shared::entity::Millis(crate::db::now_millis()),
            }),
        }],
        retire: Default::default(),
    };
    let (_, changed) =
        crate::sync::push::push(&state.db, &actor, &req, crate::sync::push::Times::Server).await?;
    state.hub.pushed(&changed);
    Ok(())
}

/// The check against cross-site request forgery, on top of the SameSite=Lax cookie:
/// state-changing API requests must carry our custom header (which a cross-site form or a
/// `fetch` without CORS cannot set) and, when the browser sends an `Origin`, it must be this
/// server's. A WebSocket handshake is a GET that a foreign page *can* open with our cookie, so
/// its `Origin` (which browsers always send there) must be ours too.
pub fn csrf_ok(method: &Method, headers: &HeaderMap) -> bool {
    let same_origin = || {
        let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
            return true;
        };
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host)
    };
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let upgrade = headers.get(header::UPGRADE).and_then(|u| u.to_str().ok());
        return !upgrade.is_some_and(|u| u.eq_ignore_ascii_case("websocket")) || same_origin();
    }
    headers.get("x-reformboard").is_some() && same_origin()
}
