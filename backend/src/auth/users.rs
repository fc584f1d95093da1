//! The `users` table.

use crate::db::now_millis;
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
}

impl UserRow {
    /// The acting identity, or None when the stored row is unusable.
    pub fn actor(&self) -> Option<Actor> {
        Some(Actor {
            user: self.id.parse::<UserId>().ok()?,
            name: self.display_name.clone(),
            unit: self.unit_id.parse::<UnitId>().ok()?,
            role: Role::parse(&self.role)?,
        })
    }
}

const COLUMNS: &str = "id, username, display_name, unit_id, role, password_hash, \
                       must_change_password, disabled, created_at";

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
pub async fn insert(pool: &AnyPool, new: NewUser<'_>) -> Result<Option<UserId>, sqlx::Error> {
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
    .execute(pool)
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

/// Sets a new password hash and whether it must be changed at next login.
pub async fn set_password(
    pool: &AnyPool,
    id: &str,
    password_hash: &str,
    must_change: bool,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(i64::from(must_change))
            .bind(id)
            .execute(pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Disables or re-enables an account.
pub async fn set_disabled(pool: &AnyPool, id: &str, disabled: bool) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(i64::from(disabled))
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Changes role and unit.
pub async fn set_role(
    pool: &AnyPool,
    id: &str,
    role: Role,
    unit: UnitId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET role = $1, unit_id = $2 WHERE id = $3")
        .bind(role.as_str())
        .bind(unit.to_string())
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Number of users.
pub async fn count(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await
}
