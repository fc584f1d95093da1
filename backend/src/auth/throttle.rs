//! Login throttling, in the database so that several backend processes share the count.
//! After too many failures within `WINDOW_MS` on a counter, further attempts it counts are
//! refused until its window ends. Every attempt is counted before its password is checked, and
//! a right one is taken back (`attempt`, `succeeded`).
//!
//! Three counters: an account from one address stops guessing one password; that limit is per
//! address so that nobody can lock a real user out by failing on their name (a made-up login
//! from anywhere would otherwise do it, over and over). The account alone, with a limit far
//! higher, stops guessing it from many addresses. The address, set between because a whole
//! office may sit behind one NAT address, stops one machine from trying a few passwords on
//! every account; an IPv6 client is counted by its /64, which one machine can fill with
//! addresses. Unknown usernames are counted exactly like real ones, so the lockout itself tells
//! nobody which accounts exist.

use crate::db::now_millis;
use sha2::{Digest, Sha256};
use sqlx::AnyPool;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{LazyLock, Mutex};

/// Failures allowed per account from one address within the window.
pub const ACCOUNT_MAX_FAILURES: i64 = 5;
/// Failures allowed per account from all addresses together within the window: guessing from
/// many machines (the address limit holds one to 30).
pub const ACCOUNT_ANYWHERE_MAX_FAILURES: i64 = 100;
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

/// The counters a login attempt for `username` from `addr` touches: the account's from that
/// address first (a right password clears it, `succeeded`).
pub fn counters(username: &str, addr: IpAddr) -> [Counter; 3] {
    let account = account_key(username);
    let addr = address_key(addr);
    [
        Counter {
            key: format!("{account}@{addr}"),
            max: ACCOUNT_MAX_FAILURES,
        },
        Counter {
            key: account,
            max: ACCOUNT_ANYWHERE_MAX_FAILURES,
        },
        Counter {
            key: format!("addr:{addr}"),
            max: ADDRESS_MAX_FAILURES,
        },
    ]
}

/// The client as counted: an IPv4 address, or an IPv6 address's /64 (one machine's share).
fn address_key(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The account counter's key. A name no account can have (`valid_username`: at most 64
/// characters, …) is still counted, as every unknown name is, but under its hash: the key is a
/// database row's primary key, and a name of megabytes would be stored as sent (on PostgreSQL,
/// past ~2.7 KB, not even indexable).
fn account_key(username: &str) -> String {
    let name = username.to_lowercase();
    if shared::account::valid_username(&name) {
        format!("user:{name}")
    } else {
        format!("user#{}", hex::encode(Sha256::digest(name.as_bytes())))
    }
}

/// How often a process deletes the counters whose window has ended: without it, every name
/// ever tried would keep its row.
const PRUNE_EVERY_MS: i64 = 60 * 1000;
static LAST_PRUNED: AtomicI64 = AtomicI64::new(0);

/// Deletes the counters whose window ended, at most once a [`PRUNE_EVERY_MS`] per process.
async fn prune(pool: &AnyPool, now: i64) -> Result<(), sqlx::Error> {
    let last = LAST_PRUNED.load(Ordering::Relaxed);
    if now - last < PRUNE_EVERY_MS
        || LAST_PRUNED
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return Ok(());
    }
    sqlx::query("DELETE FROM login_failures WHERE first_at < $1")
        .bind(now - WINDOW_MS)
        .execute(pool)
        .await?;
    Ok(())
}

/// An attempt refused unchecked, for being over a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Seconds until the window that refused it ends.
    pub secs: u64,
    /// The first refusal this process has seen in that window: only it goes to the audit
    /// trail. The refused attempts cost nothing (no password is checked), but a row each would
    /// let a flood of them write a flood of rows.
    pub first: bool,
}

/// The windows (counter key, start) this process has refused an attempt in, so that each is
/// audited once. Pruned to the open ones past [`MAX_REMEMBERED`] entries; cleared if that is
/// not enough (at worst a window's refusal is audited once more).
static REFUSED_WINDOWS: LazyLock<Mutex<HashMap<String, i64>>> = LazyLock::new(Default::default);
const MAX_REMEMBERED: usize = 10_000;

/// Whether `key`'s window starting at `first_at` has had a refusal before; notes that it has.
fn refused_before(key: &str, first_at: i64, now: i64) -> bool {
    let Ok(mut windows) = REFUSED_WINDOWS.lock() else {
        return false;
    };
    if windows.get(key) == Some(&first_at) {
        return true;
    }
    if windows.len() >= MAX_REMEMBERED {
        windows.retain(|_, start| *start + WINDOW_MS > now);
        if windows.len() >= MAX_REMEMBERED {
            windows.clear();
        }
    }
    windows.insert(key.to_string(), first_at);
    false
}

/// Counts an attempt against each of `counters` before its password is checked, and answers
/// how long to wait if any is then over its limit: the attempt is then refused unchecked
/// and taken back, so only checked passwords count.
///
/// Counting first, in one statement per counter, is what holds the limit against a burst:
/// checking and counting apart let every request of a parallel burst pass the check before
/// the first failure was counted. A success takes its count back too ([`succeeded`]).
pub async fn attempt(pool: &AnyPool, counters: &[Counter]) -> Result<Option<Refused>, sqlx::Error> {
    let now = now_millis();
    // Housekeeping: a failure to tidy up must not fail a sign-in.
    if let Err(e) = prune(pool, now).await {
        tracing::warn!(error = %e, "deleting ended login-failure windows failed");
    }
    let mut wait = 0i64;
    let mut first = false;
    for counter in counters {
        let (failures, first_at): (i64, i64) = sqlx::query_as(
            "INSERT INTO login_failures (key, failures, first_at) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_failures.first_at + $3 < $2 THEN 1 \
                        ELSE login_failures.failures + 1 END, \
             first_at = CASE WHEN login_failures.first_at + $3 < $2 THEN $2 \
                        ELSE login_failures.first_at END \
             RETURNING failures, first_at",
        )
        .bind(&counter.key)
        .bind(now)
        .bind(WINDOW_MS)
        .fetch_one(pool)
        .await?;
        let ends = first_at + WINDOW_MS;
        if failures > counter.max && ends > now {
            wait = wait.max(ends - now);
            first |= !refused_before(&counter.key, first_at, now);
        }
    }
    if wait == 0 {
        return Ok(None);
    }
    take_back(pool, counters).await?;
    Ok(Some(Refused {
        secs: u64::try_from((wait + 999) / 1000).unwrap_or(1),
        first,
    }))
}

/// Uncounts one attempt from each of `counters`: one refused, or never checked.
pub async fn take_back(pool: &AnyPool, counters: &[Counter]) -> Result<(), sqlx::Error> {
    for counter in counters {
        sqlx::query(
            "UPDATE login_failures SET failures = failures - 1 WHERE key = $1 AND failures > 0",
        )
        .bind(&counter.key)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// After a right password: clears the account's count from this address, and takes this
/// attempt back from the others. The account's count from everywhere keeps what others failed,
/// and the address its earlier failures, so one address can't try many accounts by
/// interleaving a known-good login, and a whole office behind one address can sign in.
pub async fn succeeded(pool: &AnyPool, counters: &[Counter]) -> Result<(), sqlx::Error> {
    let Some((account, others)) = counters.split_first() else {
        return Ok(());
    };
    sqlx::query("DELETE FROM login_failures WHERE key = $1")
        .bind(&account.key)
        .execute(pool)
        .await?;
    take_back(pool, others).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_and_a_mapped_ipv4_one_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("address");
        let b: IpAddr = "2001:db8:1:2:bbbb::7".parse().expect("address");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("address");
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("address");
        assert_eq!(address_key(mapped), "192.0.2.1");
    }

    #[test]
    fn an_account_is_locked_per_address_before_it_is_locked_everywhere() {
        let [here, everywhere, address] = counters("unit09", "192.0.2.1".parse().expect("ip"));
        assert_eq!(here.key, "user:unit09@192.0.2.1");
        assert_eq!(here.max, ACCOUNT_MAX_FAILURES);
        assert_eq!(everywhere.key, "user:unit09");
        assert!(everywhere.max > ADDRESS_MAX_FAILURES);
        assert_eq!(address.key, "addr:192.0.2.1");
    }
}
