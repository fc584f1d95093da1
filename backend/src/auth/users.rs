//! The `users` table.

use super::session;
use crate::db::{Db, now_millis};
use shared::actor::{Actor, Role};
use shared::ids::{UnitId, UserId};
use sqlx::AnyPool;

/// A stored user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    /// Id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Unit.
    pub unit_id: String,
    /// Role (`Role::as_str`).
    pub role: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// 1 when the user must set a new password before doing anything else.
    pub must_change_password: i64,
    /// 1 when disabled.
    pub disabled: i64,
    /// Created (ms).
    pub created_at: i64,
    /// Where notifications are mailed (None: not mailed).
    pub email: Option<String>,
    /// The interface language chosen last (`Language::as_str`; None: never chosen).
    pub language: Option<String>,
}

/// The account the server itself acts as (the daily reminders): not a valid username (`:`), so
/// no account can be created under it. It is nobody's to sign in as or to manage
/// ([`UserRow::is_system`]).
pub const SYSTEM_USERNAME: &str = "system:reminders";

impl UserRow {
    /// Whether this is the server's own account ([`SYSTEM_USERNAME`]).
    pub fn is_system(&self) -> bool {
        self.username == SYSTEM_USERNAME
    }

    /// The interface language the user chose last (None: never chosen, or unreadable).
    pub fn language(&self) -> Option<shared::account::Language> {
        self.language
            .as_deref()
            .and_then(shared::account::Language::parse)
    }

    /// The acting identity, or None when the stored row is unusable.
    pub fn actor(&self) -> Option<Actor> {
        Some(Actor {
            user: self.id.parse::<UserId>().ok()?,
            name: self.display_name.clone(),
            unit: self.unit_id.parse::<UnitId>().ok()?,
            role: Role::parse(&self.role)?,
            groups: vec![],
        })
    }
}

const COLUMNS: &str = "id, username, display_name, unit_id, role, password_hash, \
                       must_change_password, disabled, created_at, email, language";

/// The columns of a [`UserRow`] as read from the `users` table under `alias` (for joins).
pub fn columns_of(alias: &str) -> String {
    COLUMNS
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The user with this login name.
pub async fn by_username(pool: &AnyPool, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE username = $1"
    )))
    .bind(username)
    .fetch_optional(pool)
    .await
}

/// The user with this id.
pub async fn by_id(pool: &AnyPool, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Every user, by username.
pub async fn all(pool: &AnyPool) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users ORDER BY username"
    )))
    .fetch_all(pool)
    .await
}

/// A new user to create.
#[derive(Debug)]
pub struct NewUser<'a> {
    /// Login name.
    pub username: &'a str,
    /// Shown name.
    pub display_name: &'a str,
    /// Unit.
    pub unit: UnitId,
    /// Role.
    pub role: Role,
    /// Already hashed.
    pub password_hash: String,
    /// Must change the password at first login.
    pub must_change_password: bool,
}

/// Creates a user; `Ok(None)` when the username is taken.
pub async fn insert(
    db: impl sqlx::AnyExecutor<'_>,
    new: NewUser<'_>,
) -> Result<Option<UserId>, sqlx::Error> {
    let id = UserId::new_v7();
    let done = sqlx::query(
        "INSERT INTO users (id, username, display_name, unit_id, role, password_hash, \
         must_change_password, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8) \
         ON CONFLICT (username) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(new.username)
    .bind(new.display_name)
    .bind(new.unit.to_string())
    .bind(new.role.as_str())
    .bind(new.password_hash)
    .bind(i64::from(new.must_change_password))
    .bind(now_millis())
    .execute(db)
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

/// What is written with an update of a user, in its one transaction: a process killed, or a
/// statement failing, halfway leaves none of it — no new password with a thief's sessions still
/// alive, no account change without its audit row.
#[derive(Default)]
pub struct Along {
    /// End every session of theirs (a new password, a disabled account).
    pub end_sessions: bool,
    /// Start a fresh one, whose token is returned (the user who changed their own password).
    pub new_session: bool,
    /// The audit row recording it (`audit::security_event_row`).
    pub audit: Option<sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>>,
}

/// What an update did: whether the user was found, and the new session's token if one was
/// asked for.
pub struct Updated {
    /// The user was found (and changed).
    pub found: bool,
    /// `Along::new_session`'s token.
    pub token: Option<String>,
}

/// Runs `query`, an UPDATE of the user `id`, with what goes `along` in one transaction, and
/// then forgets the user's sessions in every process (`session::forget_user`: what they
/// remembered of the row is out of date), all to the end even if the request goes away.
pub async fn update(
    db: &Db,
    id: &str,
    query: sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>,
    along: Along,
) -> Result<Updated, sqlx::Error> {
    let (db, id) = (db.clone(), id.to_string());
    session::run_to_end(async move {
        let mut tx = db.pool.begin().await?;
        let found = query.execute(&mut *tx).await?.rows_affected() == 1;
        if along.end_sessions {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(audit) = along.audit {
            audit.execute(&mut *tx).await?;
        }
        let token = match along.new_session {
            true => Some(session::create(&mut *tx, &id).await?),
            false => None,
        };
        tx.commit().await?;
        session::forget_user(&db, &id).await;
        Ok(Updated { found, token })
    })
    .await
}

/// Sets a new password hash and whether it must be changed at next login.
pub async fn set_password(
    db: &Db,
    id: &str,
    password_hash: &str,
    must_change: bool,
    along: Along,
) -> Result<Updated, sqlx::Error> {
    let query =
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3")
            .bind(password_hash.to_string())
            .bind(i64::from(must_change))
            .bind(id.to_string());
    update(db, id, query, along).await
}

/// Disables or re-enables an account.
pub async fn set_disabled(
    db: &Db,
    id: &str,
    disabled: bool,
    along: Along,
) -> Result<Updated, sqlx::Error> {
    let query = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(i64::from(disabled))
        .bind(id.to_string());
    update(db, id, query, along).await
}

/// Changes role and unit.
pub async fn set_role(
    db: &Db,
    id: &str,
    role: Role,
    unit: UnitId,
    along: Along,
) -> Result<bool, sqlx::Error> {
    let query = sqlx::query("UPDATE users SET role = $1, unit_id = $2 WHERE id = $3")
        .bind(role.as_str())
        .bind(unit.to_string())
        .bind(id.to_string());
    update(db, id, query, along).await.map(|u| u.found)
}

/// Number of users.
pub async fn count(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await
}

/// Sets or clears (None) where a user's notifications are mailed.
pub async fn set_email(
    db: &Db,
    id: &str,
    email: Option<&str>,
    along: Along,
) -> Result<bool, sqlx::Error> {
    let query = sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
        .bind(email.map(str::to_string))
        .bind(id.to_string());
    update(db, id, query, along).await.map(|u| u.found)
}

/// The enabled users that have an e-mail address.
pub async fn with_email(pool: &AnyPool) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE email IS NOT NULL AND email <> '' AND disabled = 0 \
         ORDER BY username"
    )))
    .fetch_all(pool)
    .await
}

/// A plausible e-mail address: one @, something on both sides, a dot in the domain, no spaces
/// or control characters, at most 254 characters. (Whether it receives mail is the mail
/// server's business.)
pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        })
}

/// Route `/api/users/{id}/email`.
pub fn email_routes() -> axum::Router<crate::app::AppState> {
    axum::Router::new().route("/users/{id}/email", axum::routing::post(set_user_email))
}

/// The office sets (or clears) where a user's notifications are mailed.
#[utoipa::path(post, path = "/api/users/{id}/email", tag = "users", params(("id" = String, Path)),
    request_body = shared::account::SetEmailRequest,
    responses((status = 204, description = "Set")))]
#[tracing::instrument(skip_all, err(level = "debug"), fields(user = %user.0.row.username))]
pub(crate) async fn set_user_email(
    axum::extract::State(state): axum::extract::State<crate::app::AppState>,
    user: super::session::ActiveUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::error::ApiJson(req): crate::error::ApiJson<shared::account::SetEmailRequest>,
) -> crate::error::ApiResult<axum::http::StatusCode> {
    use crate::error::ApiError;
    let target = super::managed_user(&state, &user, &id).await?;
    let email = req
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    if email.is_some_and(|e| !valid_email(e)) {
        return Err(ApiError::bad_request(shared::message::Msg::new(
            "邮箱地址无效",
            "That e-mail address is not valid",
        )));
    }
    // The address before and after, recorded with the change in one transaction.
    let event = crate::audit::SecurityEvent {
        actor: Some(&user.0.actor),
        action: "email_changed",
        subject: Some(&target.id),
        detail: Some(format!(
            "{}：{} → {}",
            target.username,
            target
                .email
                .as_deref()
                .filter(|e| !e.is_empty())
                .unwrap_or("（无）"),
            email.unwrap_or("（无）")
        )),
    };
    let along = Along {
        audit: Some(crate::audit::security_event_row(event)),
        ..Default::default()
    };
    set_email(&state.db, &target.id, email, along).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Remembers the user's interface language.
pub async fn set_language(
    db: &Db,
    id: &str,
    language: shared::account::Language,
) -> Result<(), sqlx::Error> {
    let query = sqlx::query("UPDATE users SET language = $1 WHERE id = $2")
        .bind(language.as_str())
        .bind(id.to_string());
    update(db, id, query, Along::default()).await.map(drop)
}
