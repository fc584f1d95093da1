//! Login throttling, per account and per address, in the database so that several backend
//! processes share the count. After too many failures within `WINDOW_MS`, further attempts on
//! that account, or from that address, are refused until the window ends.
//!
//! The account limit stops guessing one password; the address limit, set higher because a whole
//! office may sit behind one NAT address, stops one machine from trying a few passwords on every
//! account. Unknown usernames are counted exactly like real ones, so the lockout itself tells
//! nobody which accounts exist.

use crate::db::now_millis;
use sqlx::AnyPool;
use std::net::IpAddr;

/// Failures allowed per account within the window.
pub const ACCOUNT_MAX_FAILURES: i64 = 5;
/// Failures allowed per client address within the window.
pub const ADDRESS_MAX_FAILURES: i64 = 30;
/// Window length.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

/// One counter and its limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counter {
    /// Row key in `login_failures`.
    pub key: String,
    /// Failures allowed within the window.
    pub max: i64,
}

/// The counters a login attempt for `username` from `addr` touches: the account's first.
pub fn counters(username: &str, addr: IpAddr) -> [Counter; 2] {
    [
        Counter {
            key: format!("user:{}", username.to_lowercase()),
            max: ACCOUNT_MAX_FAILURES,
        },
        Counter {
            key: format!("addr:{addr}"),
            max: ADDRESS_MAX_FAILURES,
        },
    ]
}

/// Seconds to wait before another attempt, if any of `counters` is over its limit.
pub async fn retry_after(pool: &AnyPool, counters: &[Counter]) -> Result<Option<u64>, sqlx::Error> {
    let now = now_millis();
    let mut wait = 0i64;
    for counter in counters {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT failures, first_at FROM login_failures WHERE key = $1")
                .bind(&counter.key)
                .fetch_optional(pool)
                .await?;
        if let Some((failures, first_at)) = row {
            let ends = first_at + WINDOW_MS;
            if failures >= counter.max && ends > now {
                wait = wait.max(ends - now);
            }
        }
    }
    Ok((wait > 0).then(|| u64::try_from((wait + 999) / 1000).unwrap_or(1)))
}

/// Counts a failure against each counter (starting a new window when the old one ended).
pub async fn failed(pool: &AnyPool, counters: &[Counter]) -> Result<(), sqlx::Error> {
    let now = now_millis();
    for counter in counters {
        sqlx::query(
            "INSERT INTO login_failures (key, failures, first_at) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_failures.first_at + $3 < $2 THEN 1 \
                        ELSE login_failures.failures + 1 END, \
             first_at = CASE WHEN login_failures.first_at + $3 < $2 THEN $2 \
                        ELSE login_failures.first_at END",
        )
        .bind(&counter.key)
        .bind(now)
        .bind(WINDOW_MS)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// Clears the account's count after a successful login (the address keeps its count, so one
/// address can't try many accounts by interleaving a known-good login).
pub async fn succeeded(pool: &AnyPool, account: &Counter) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE key = $1")
        .bind(&account.key)
        .execute(pool)
        .await?;
    Ok(())
}
