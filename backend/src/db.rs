//! The database: SQLite (one file under the data directory, WAL) by default, PostgreSQL when
//! `DATABASE_URL=postgres://…`. The same SQL runs on both through sqlx's `Any` driver; the few
//! places that must differ ask `Db::kind`.

use crate::auth::session::SessionRow;
use crate::auth::session_cache::SessionCache;
use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Connection, Executor};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// A pooled connection idle for longer than this is pinged before use (see `Db::open`).
const IDLE_BEFORE_PING: Duration = Duration::from_secs(5);

/// Which database engine is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL, possibly shared by several backend processes.
    Postgres,
}

/// A PostgreSQL NOTIFY to send from inside a transaction, delivered when it commits.
#[derive(Clone, Debug)]
pub struct Notification {
    /// The channel.
    pub channel: &'static str,
    /// The payload.
    pub payload: String,
}

/// A pool plus what we need to know about it.
#[derive(Clone, Debug)]
pub struct Db {
    /// The pool.
    pub pool: AnyPool,
    /// Engine.
    pub kind: DbKind,
    /// The URL it was opened with (PostgreSQL's LISTEN needs its own connection).
    pub url: String,
    /// SQLite allows one writer; writers in this process queue here instead of failing with
    /// SQLITE_BUSY when a read transaction tries to upgrade.
    write_lock: Arc<Mutex<()>>,
    /// Sync client groups known to be claimed, with their users (see `sync::push`).
    pub claimed_groups: Arc<std::sync::Mutex<HashMap<String, String>>>,
    /// Sessions read lately (see `auth::session_cache`).
    pub(crate) sessions: SessionCache<SessionRow>,
}

/// What a `Db::lock_key` lock is about, so that equal keys of different things don't collide.
#[derive(Clone, Copy, Debug)]
pub enum LockSpace {
    /// A user's uploads not attached yet (`upload::PENDING_FILES`).
    PendingUploads = 1,
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// PostgreSQL's default `random_page_cost` (4) prices a random read as a spinning disk's. With
/// it, a push's lookup of a few entities by key plans as a scan of the whole table while the
/// table is small, and a connection keeps that plan (a prepared statement is planned once for
/// all its runs) as the table grows: 1,000 one-by-one creates on a new database scanned 500 to
/// 3,500 rows each. On SSDs, or data in memory, a random read costs about what a sequential one
/// does (PostgreSQL's manual suggests lowering it there), and at 1.1 a lookup by key takes the
/// index whatever the table's size. Set for this server's sessions only, and only while the
/// database has the default: a value its administrator chose stands.
const PG_RANDOM_PAGE_COST: &str = "SELECT set_config('random_page_cost', '1.1', false) \
     WHERE current_setting('random_page_cost') = '4'";

impl Db {
    /// Opens the database named by `database_url`, or the SQLite file in `data_dir` when it is
    /// absent, and runs the migrations.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Db> {
        install_default_drivers();
        let (url, kind) = match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                (url.to_string(), DbKind::Postgres)
            }
            Some(url) if url.starts_with("sqlite:") => (url.to_string(), DbKind::Sqlite),
            Some(other) => {
                anyhow::bail!("unsupported DATABASE_URL {other:?}: use postgres:// or sqlite:")
            }
            None => {
                std::fs::create_dir_all(data_dir)
                    .with_context(|| format!("creating data directory {}", data_dir.display()))?;
                let file = data_dir.join("reformboard.db");
                (
                    format!("sqlite://{}?mode=rwc", file.display()),
                    DbKind::Sqlite,
                )
            }
        };
        let options = AnyPoolOptions::new()
            .max_connections(match kind {
                DbKind::Sqlite => 8,
                DbKind::Postgres => 20,
            })
            .acquire_timeout(Duration::from_secs(10))
            // sqlx pings every connection it hands out, by default: a round trip before each
            // request's first statement (two per push: the session, then the transaction), a
            // fifth of a one-by-one create. It also pings each one it takes back, so a
            // connection used moments ago is known to work; only one that sat idle (through a
            // database restart, say) is tested here. One that broke in between fails its
            // statement with an I/O error or PostgreSQL's "terminating connection", both
            // transient (`is_transient`): retried, or answered 503.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > IDLE_BEFORE_PING {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match kind {
                        DbKind::Sqlite => {
                            // WAL lets readers run beside the writer; synchronous=FULL makes an
                            // acknowledged commit survive a crash or power loss.
                            conn.execute(
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
                                 PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;",
                            )
                            .await?;
                        }
                        DbKind::Postgres => {
                            conn.execute(PG_RANDOM_PAGE_COST).await?;
                        }
                    }
                    Ok(())
                })
            });
        let pool = options
            .connect(&url)
            .await
            .with_context(|| format!("connecting to {}", redact(&url)))?;
        let migrator = match kind {
            DbKind::Sqlite => &SQLITE_MIGRATOR,
            DbKind::Postgres => &POSTGRES_MIGRATOR,
        };
        migrator.run(&pool).await.context("running migrations")?;
        let db = Db {
            pool,
            kind,
            url,
            write_lock: Arc::new(Mutex::new(())),
            claimed_groups: Arc::default(),
            // Other processes may share a PostgreSQL database: its sessions are served from
            // memory only while the poke listener hears their changes (`sync::poke`).
            sessions: match kind {
                DbKind::Sqlite => SessionCache::default(),
                DbKind::Postgres => SessionCache::paused(),
            },
        };
        db.ensure_epoch().await?;
        Ok(db)
    }

    /// Sends `payload` on the PostgreSQL channel `channel` to every listening process
    /// (`sync::poke`'s listener); at commit when `self` is inside a transaction, at once here.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    /// Serializes writers on SQLite; a no-op guard on PostgreSQL, whose row locks do that job.
    pub async fn write_guard(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.kind {
            DbKind::Sqlite => Some(self.write_lock.lock().await),
            DbKind::Postgres => None,
        }
    }

    /// Holds a lock on `key` (in `space`, a number of the caller's) until `tx` ends, across
    /// every process sharing the database: PostgreSQL's advisory lock. On SQLite, one process,
    /// `write_guard` already keeps its writers one at a time, so this takes nothing.
    pub async fn lock_key(
        &self,
        tx: &mut sqlx::AnyConnection,
        space: LockSpace,
        key: &str,
    ) -> Result<(), sqlx::Error> {
        if self.kind == DbKind::Postgres {
            // As text: the Any driver has no type for the function's `void`.
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))::text")
                .bind(space as i32)
                .bind(key)
                .execute(tx)
                .await?;
        }
        Ok(())
    }

    async fn ensure_epoch(&self) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('epoch', $1) ON CONFLICT (key) DO NOTHING",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// This database's sync epoch: cookies from another epoch get a full reset.
    pub async fn epoch(&self) -> Result<String, sqlx::Error> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'epoch'")
            .fetch_one(&self.pool)
            .await
    }
}

/// Whether PostgreSQL refused the commit of a transaction that sent a NOTIFY because its queue
/// of notifications is full: a listening process stopped reading (stuck in a long
/// transaction), and every NOTIFY fails until it reads again. By the code alone
/// (program_limit_exceeded): the message is in the server's language.
pub fn is_notify_queue_full(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|db| db.code().as_deref() == Some("54000"))
}

/// Whether a database error is worth retrying (lock contention, serialization failure, deadlock,
/// pool exhaustion) rather than a fault.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // PostgreSQL: serialization_failure, deadlock_detected, lock_not_available; the
            // server ended the connection (admin_shutdown, crash_shutdown, cannot_connect_now:
            // a restart or failover; the pool drops the connection and the retry gets another)
            // and the connection exceptions (class 08).
            // SQLite: SQLITE_BUSY (5), SQLITE_LOCKED (6) and their extended codes.
            matches!(
                code.as_ref(),
                "40001"
                    | "40P01"
                    | "55P03"
                    | "57P01"
                    | "57P02"
                    | "57P03"
                    | "5"
                    | "6"
                    | "517"
                    | "261"
                    | "262"
            ) || code.starts_with("08")
                || db.message().contains("database is locked")
        }
        _ => false,
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// Values per `IN (…)` list: well under SQLite's and PostgreSQL's limits on bound parameters.
pub const IN_LIST_MAX: usize = 200;

/// `$1, $2, …, $n`, for an `IN (…)` list of `n` values.
pub fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($first, …), (…), …`: `rows` rows of `columns` placeholders numbered from `$first`, for a
/// multi-row `VALUES` (or several statements sent as one, each numbering on from the last).
pub fn value_rows(first: usize, rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let start = first + r * columns;
            let row = (start..start + columns)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({row})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows of one `SELECT … WHERE <column> IN (…)` over `keys` (`sql` gets the placeholders), in
/// chunks of [`IN_LIST_MAX`].
pub async fn select_in<T>(
    conn: &mut sqlx::AnyConnection,
    sql: impl Fn(&str) -> String,
    keys: &BTreeSet<String>,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let keys: Vec<&String> = keys.iter().collect();
    let mut out = Vec::new();
    for chunk in keys.chunks(IN_LIST_MAX) {
        let mut query =
            sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql(&placeholders(chunk.len()))));
        for key in chunk {
            query = query.bind(key.as_str());
        }
        out.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}
