//! Server-side sessions. The cookie carries a random token; the database keeps only its SHA-256,
//! so a leaked database holds no usable sessions. A request reads its session and user from the
//! database or from what this process read of them moments ago (`session_cache`), which is
//! dropped whenever a session ends or its user changes, so disabling an account or changing a
//! role takes effect at once.

use super::users::{self, UserRow};
use crate::app::AppState;
use crate::audit::{self, SecurityEvent};
use crate::db::{Db, DbKind, now_millis, select_in};
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use rand::RngCore;
use sha2::{Digest, Sha256};
use shared::actor::Actor;
use std::collections::{BTreeSet, HashMap};

/// Name of the session cookie.
pub const COOKIE: &str = "rb_session";
/// `last_seen_at` is written at most this often, to keep reads from becoming writes.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// How long a session lives. A unit's staff work on it through the week, the leader checks it
/// on a phone now and then: a weekend away must not sign anyone out, a lost phone must not stay
/// signed in for long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session ends after this long without use (ms).
    pub idle_ms: i64,
    /// A session ends this long after login, used or not (ms).
    pub absolute_ms: i64,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            idle_ms: 3 * 24 * 3600 * 1000,
            absolute_ms: 14 * 24 * 3600 * 1000,
        }
    }
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Starts a session for `user_id`; returns the token for the cookie. A fresh token at every login
/// is what defeats session fixation.
pub async fn create(db: impl sqlx::AnyExecutor<'_>, user_id: &str) -> Result<String, sqlx::Error> {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let now = now_millis();
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)")
        .bind(hash_token(&token))
        .bind(user_id)
        .bind(now)
        .execute(db)
        .await?;
    Ok(token)
}

/// Ends one session.
pub async fn end(db: &Db, token: &str) -> Result<(), sqlx::Error> {
    let (db, hash) = (db.clone(), hash_token(token));
    run_to_end(async move {
        let user: Option<String> =
            sqlx::query_scalar("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id")
                .bind(hash)
                .fetch_optional(&db.pool)
                .await?;
        if let Some(user) = user {
            forget_user(&db, &user).await;
        }
        Ok(())
    })
    .await
}

/// Ends every session of a user (logout everywhere, password reset, account disabled).
pub async fn end_all(db: &Db, user_id: &str) -> Result<u64, sqlx::Error> {
    let (db, user) = (db.clone(), user_id.to_string());
    run_to_end(async move {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(&user)
            .execute(&db.pool)
            .await?;
        forget_user(&db, &user).await;
        Ok(done.rows_affected())
    })
    .await
}

/// The PostgreSQL channel on which a process tells the others to forget a user's sessions
/// (the payload is the user id; `sync::poke` listens).
pub const FORGET_CHANNEL: &str = "reformboard_sessions";

/// Drops what every process remembers of `user_id`'s sessions (`session_cache`): to be called
/// once a change to the user or their sessions is committed, inside [`run_to_end`]. A failed
/// NOTIFY is logged, not returned: the change itself stands, and the other processes re-read
/// the session within `session_cache::FRESH`.
pub(crate) async fn forget_user(db: &Db, user_id: &str) {
    db.sessions.forget_user(user_id);
    if db.kind == DbKind::Postgres
        && let Err(e) = db.notify(FORGET_CHANNEL, user_id).await
    {
        tracing::warn!(error = %e, "NOTIFY of ended sessions failed");
    }
}

/// Runs `change` (a write to a user or their sessions, then [`forget_user`]) to its end even
/// if the request that asked for it goes away: a handler's future is dropped when its client
/// disconnects, and a change committed by then would otherwise never be forgotten elsewhere.
pub(crate) async fn run_to_end<T: Send + 'static>(
    change: impl Future<Output = Result<T, sqlx::Error>> + Send + 'static,
) -> Result<T, sqlx::Error> {
    tokio::spawn(change)
        .await
        .map_err(|_| sqlx::Error::WorkerCrashed)?
}

/// A session with its user, read together (every request asks).
#[derive(Clone, sqlx::FromRow)]
pub(crate) struct SessionRow {
    session_created_at: i64,
    last_seen_at: i64,
    #[sqlx(flatten)]
    user: UserRow,
}

/// `SessionRow` with the hash it was found by (`lookup_many` reads many at once).
#[derive(sqlx::FromRow)]
struct HashedSessionRow {
    token_hash: String,
    #[sqlx(flatten)]
    session: SessionRow,
}

/// What a session row found by its token means now.
enum Standing {
    /// Ended by its idle or absolute limit (`idle`: which one).
    Expired { idle: bool },
    /// Alive, but `last_seen_at` is due to be written.
    DueForTouch,
    /// Alive.
    Alive,
}

impl SessionRow {
    /// Its user, unless the account is disabled (a disabled account has no live session).
    fn enabled_user(self) -> Option<UserRow> {
        Some(self.user).filter(|u| u.disabled == 0)
    }

    fn standing(&self, now: i64, limits: SessionLimits) -> Standing {
        let idle = now - self.last_seen_at > limits.idle_ms;
        if idle || now - self.session_created_at > limits.absolute_ms {
            Standing::Expired { idle }
        } else if now - self.last_seen_at > TOUCH_EVERY_MS {
            Standing::DueForTouch
        } else {
            Standing::Alive
        }
    }
}

/// The columns every lookup reads, and where from.
static LOOKUP_FROM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT s.token_hash, s.created_at AS session_created_at, s.last_seen_at, {} \
         FROM sessions s JOIN users u ON u.id = s.user_id",
        users::columns_of("u")
    )
});

/// Every request runs this query: its text is put together once.
static LOOKUP_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{} WHERE s.token_hash = $1", *LOOKUP_FROM));

/// The user behind `token`, if the session is alive and the account enabled. An expired
/// session is deleted (and the expiry audited) the first time it is presented.
pub async fn lookup(
    db: &Db,
    token: &str,
    limits: SessionLimits,
) -> Result<Option<UserRow>, sqlx::Error> {
    let hash = hash_token(token);
    let now = now_millis();
    if let Some(row) = db.sessions.get(&hash) {
        // Expiry and the touch are decided on the times read, as below; the database is asked
        // again only to end or touch the session.
        if matches!(row.standing(now, limits), Standing::Alive) {
            return Ok(row.enabled_user());
        }
    }
    let mark = db.sessions.mark();
    let pool = &db.pool;
    let row: Option<HashedSessionRow> = sqlx::query_as(sqlx::AssertSqlSafe(LOOKUP_SQL.as_str()))
        .bind(&hash)
        .fetch_optional(pool)
        .await?;
    let Some(HashedSessionRow {
        session: mut row, ..
    }) = row
    else {
        return Ok(None);
    };
    match row.standing(now, limits) {
        Standing::Expired { idle } => {
            let ended = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(&hash)
                .execute(pool)
                .await?;
            // Two requests may race to end it; one audit row is enough.
            if ended.rows_affected() == 1 {
                let actor = row.user.actor();
                let event = SecurityEvent {
                    actor: actor.as_ref(),
                    action: "session_expired",
                    subject: Some(&row.user.id),
                    detail: Some(if idle { "idle" } else { "absolute" }.into()),
                };
                audit::security_event(pool, event).await?;
            }
            return Ok(None);
        }
        Standing::DueForTouch => {
            let touched =
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                    .bind(now)
                    .bind(&hash)
                    .execute(pool)
                    .await?;
            if touched.rows_affected() == 0 {
                return Ok(None); // Ended since it was read.
            }
            row.last_seen_at = now;
        }
        Standing::Alive => {}
    }
    let user = row.user.id.clone();
    db.sessions.remember(mark, hash, &user, row.clone());
    Ok(row.enabled_user())
}

/// [`lookup`] for many tokens at once, in their order: the batch of pulls that follows a poke
/// asks for hundreds of sessions together, and one query for all of them replaced one each (40%
/// of the poke's latency with a thousand tabs). A session that has expired or is due a touch
/// is rare and goes through [`lookup`] itself, so ending and touching are written once.
pub async fn lookup_many(
    db: &Db,
    tokens: &[&str],
    limits: SessionLimits,
) -> Result<Vec<Option<UserRow>>, sqlx::Error> {
    let hashes: Vec<String> = tokens.iter().map(|t| hash_token(t)).collect();
    let now = now_millis();
    let mut found: HashMap<String, SessionRow> = HashMap::new();
    for hash in &hashes {
        if let Some(row) = db.sessions.get(hash) {
            found.insert(hash.clone(), row);
        }
    }
    let wanted: BTreeSet<String> = hashes
        .iter()
        .filter(|h| !found.contains_key(*h))
        .cloned()
        .collect();
    if !wanted.is_empty() {
        let mark = db.sessions.mark();
        let rows: Vec<HashedSessionRow> = select_in(
            &mut *db.pool.acquire().await?,
            |p| format!("{} WHERE s.token_hash IN ({p})", *LOOKUP_FROM),
            &wanted,
        )
        .await?;
        for HashedSessionRow {
            token_hash,
            session,
        } in rows
        {
            if matches!(session.standing(now, limits), Standing::Alive) {
                let user = session.user.id.clone();
                db.sessions
                    .remember(mark, token_hash.clone(), &user, session.clone());
            }
            found.insert(token_hash, session);
        }
    }
    let mut out = Vec::with_capacity(tokens.len());
    for (token, hash) in tokens.iter().zip(&hashes) {
        out.push(match found.get(hash) {
            None => None,
            Some(row) => match row.standing(now, limits) {
                // Several tabs of one browser share a token: the row may serve more than one.
                Standing::Alive => row.clone().enabled_user(),
                Standing::Expired { .. } | Standing::DueForTouch => {
                    lookup(db, token, limits).await?
                }
            },
        });
    }
    Ok(out)
}

/// The session token in the request's cookies.
pub fn token_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `Set-Cookie` value that stores `token`; the browser may forget it when the session's absolute
/// limit passes (the server does in any case).
pub fn set_cookie(token: &str, secure: bool, limits: SessionLimits) -> String {
    let secure = if secure { "; Secure" } else { "" };
    let max_age = limits.absolute_ms / 1000;
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// `Set-Cookie` value that clears the cookie.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// The signed-in user of a request; extracting it answers 401 when there is none.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// Who, for permission checks.
    pub actor: Actor,
    /// The stored row.
    pub row: UserRow,
    /// The session token (for logout).
    pub token: String,
}

impl CurrentUser {
    /// The user of a session `lookup` found (None: 401).
    pub fn of(row: Option<UserRow>, token: String) -> Result<Self, ApiError> {
        let row = row.ok_or(ApiError::Unauthorized)?;
        let actor = row
            .actor()
            .ok_or_else(|| anyhow::anyhow!("user {} has an unusable role or unit", row.id))?;
        Ok(CurrentUser { actor, row, token })
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let SessionToken(token) = SessionToken::from_request_parts(parts, state).await?;
        let row = lookup(&state.db, &token, state.config.sessions).await?;
        CurrentUser::of(row, token)
    }
}

/// The session token of a request, not yet checked (401 when there is none): for handlers that
/// check many sessions together (`sync::pull`).
#[derive(Debug, Clone)]
pub struct SessionToken(pub String);

impl FromRequestParts<AppState> for SessionToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        token_from(&parts.headers)
            .map(SessionToken)
            .ok_or(ApiError::Unauthorized)
    }
}

/// A signed-in user who has no pending forced password change: everything but the password
/// screen requires this.
#[derive(Debug, Clone)]
pub struct ActiveUser(pub CurrentUser);

impl FromRequestParts<AppState> for ActiveUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        ActiveUser::try_from(CurrentUser::from_request_parts(parts, state).await?)
    }
}

impl TryFrom<CurrentUser> for ActiveUser {
    type Error = ApiError;

    fn try_from(user: CurrentUser) -> Result<Self, ApiError> {
        if user.row.must_change_password != 0 {
            return Err(ApiError::forbidden(shared::message::Msg::new(
                "请先修改密码",
                "Please change your password first",
            )));
        }
        Ok(ActiveUser(user))
    }
}
