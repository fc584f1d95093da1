//! Login throttling, per account and per address, in the database so that several backend
//! processes share the count. After `MAX_FAILURES` failures within `WINDOW_MS`, further attempts
//! are refused until the window ends.

use crate::db::now_millis;
use sqlx::AnyPool;

/// Failures allowed within the window.
pub const MAX_FAILURES: i64 = 5;
/// Window length.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

/// Seconds to wait before `keys` may try again, if any of them is locked out.
pub async fn retry_after(pool: &AnyPool, keys: &[String]) -> Result<Option<u64>, sqlx::Error> {
    let now = now_millis();
    let mut wait = 0i64;
    for key in keys {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT failures, first_at FROM login_failures WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?;
        if let Some((failures, first_at)) = row {
            let ends = first_at + WINDOW_MS;
            if failures >= MAX_FAILURES && ends > now {
                wait = wait.max(ends - now);
            }
        }
    }
    Ok((wait > 0).then(|| u64::try_from((wait + 999) / 1000).unwrap_or(1)))
}

/// Counts a failure against each key (starting a new window when the old one ended).
pub async fn failed(pool: &AnyPool, keys: &[String]) -> Result<(), sqlx::Error> {
    let now = now_millis();
    for key in keys {
        sqlx::query(
            "INSERT INTO login_failures (key, failures, first_at) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_failures.first_at + $3 < $2 THEN 1 ELSE login_failures.failures + 1 END, \
             first_at = CASE WHEN login_failures.first_at + $3 < $2 THEN $2 ELSE login_failures.first_at END",
        )
        .bind(key)
        .bind(now)
        .bind(WINDOW_MS)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// Clears the account's count after a successful login (the address keeps its count, so one
/// address can't try many accounts by interleaving a known-good login).
pub async fn succeeded(pool: &AnyPool, account_key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(account_key).execute(pool).await?;
    Ok(())
}
