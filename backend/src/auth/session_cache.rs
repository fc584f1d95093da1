//! Sessions this process has read lately, so that most requests don't ask the database who is
//! behind their cookie: that question was one round trip in every request (a seventh of a
//! one-by-one push on SQLite, more on PostgreSQL).
//!
//! What is remembered is only ever what the database said, and it is dropped the moment it may
//! have stopped being true: `session::forget_user` drops a user's sessions in this process and,
//! on PostgreSQL, sends a NOTIFY that drops them in every other process (`sync::poke`'s listener),
//! whenever a session ends or the account changes (disabled, role, password, language, e-mail).
//! So signing out, disabling an account or changing a role takes effect at once in this process,
//! and in the others as soon as the notification arrives (milliseconds). On PostgreSQL nothing is
//! served from memory while that listener is not listening ([`SessionCache::pause`]), since
//! notifications sent meanwhile are lost. An entry also serves for at most [`FRESH`], which bounds
//! what nothing announces: a row changed by hand in the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// How long an entry serves before the database is asked again.
pub const FRESH: Duration = Duration::from_secs(10);

/// Past this many sessions the stale ones are dropped, and if that is not enough, all of them:
/// a bound on memory, not an expected size (one entry per browser active in the last
/// [`FRESH`]).
const MAX_ENTRIES: usize = 10_000;

/// What [`SessionCache::watch`] receives when every session may have changed (the cache
/// restarted: a listener that missed notifications).
pub const EVERYONE: &str = "*";

/// Forgets announced but not yet received by a slow watcher; past this it hears `Lagged` and
/// checks as if told [`EVERYONE`].
const WATCH_BACKLOG: usize = 64;

/// The remembered sessions, by token hash; `T` is what a lookup read (`session::SessionRow`).
pub struct SessionCache<T> {
    inner: Arc<Mutex<Inner<T>>>,
    /// The users forgotten, as they are ([`SessionCache::watch`]).
    forgotten: broadcast::Sender<Arc<str>>,
}

/// Only the size: the entries hold users' rows, password hashes included, which have no
/// business in a log line.
impl<T> std::fmt::Debug for SessionCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.inner.lock().map_or(0, |inner| inner.entries.len());
        f.debug_struct("SessionCache")
            .field("entries", &entries)
            .finish_non_exhaustive()
    }
}

impl<T> Clone for SessionCache<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            forgotten: self.forgotten.clone(),
        }
    }
}

impl<T> Default for SessionCache<T> {
    /// Serving from the start: right for one process (SQLite), where nothing else changes
    /// sessions.
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                entries: HashMap::new(),
                forgets: 0,
                serving: true,
            })),
            forgotten: broadcast::channel(WATCH_BACKLOG).0,
        }
    }
}

struct Inner<T> {
    entries: HashMap<String, Entry<T>>,
    /// Counts forgets: a lookup that read the database while one happened must not remember
    /// what it read (it may predate the change).
    forgets: u64,
    /// Whether entries are served (see [`SessionCache::pause`]).
    serving: bool,
}

struct Entry<T> {
    user_id: String,
    value: T,
    read_at: Instant,
}

impl<T> Entry<T> {
    fn fresh(&self) -> bool {
        self.read_at.elapsed() < FRESH
    }
}

/// Where a lookup stood before it asked the database (see [`SessionCache::remember`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    forgets: u64,
    at: Instant,
}

impl<T: Clone> SessionCache<T> {
    /// One that serves nothing until [`SessionCache::resume`]: for a process that shares its
    /// database with others and learns of their changes only by listening.
    pub fn paused() -> Self {
        let cache = Self::default();
        cache.pause();
        cache
    }

    /// What was read for `hash` less than [`FRESH`] ago.
    pub fn get(&self, hash: &str) -> Option<T> {
        let mut inner = self.inner.lock().ok()?;
        let entry = inner.entries.get(hash)?;
        if entry.fresh() {
            return Some(entry.value.clone());
        }
        inner.entries.remove(hash);
        None
    }

    /// To be taken before asking the database, and handed to [`SessionCache::remember`].
    pub fn mark(&self) -> Mark {
        Mark {
            forgets: self.inner.lock().map_or(u64::MAX, |inner| inner.forgets),
            at: Instant::now(),
        }
    }

    /// Remembers what the database said of `hash` (a session of `user_id`), unless something
    /// was forgotten since `mark`: the answer may then be older than the change. It counts as
    /// read when the mark was taken.
    pub fn remember(&self, mark: Mark, hash: String, user_id: &str, value: T) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if !inner.serving || inner.forgets != mark.forgets {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.retain(|_, e| e.fresh());
            if inner.entries.len() >= MAX_ENTRIES {
                inner.entries.clear();
            }
        }
        inner.entries.insert(
            hash,
            Entry {
                user_id: user_id.to_string(),
                value,
                read_at: mark.at,
            },
        );
    }

    /// Forgets every session of `user_id`.
    pub fn forget_user(&self, user_id: &str) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.forgets += 1;
            inner.entries.retain(|_, e| e.user_id != user_id);
        }
        self.announce(user_id);
    }

    /// The user ids forgotten from now on ([`EVERYONE`] when all were): whoever holds a
    /// session open beyond a request (a WebSocket) asks again whether it still holds, rather
    /// than at its next ping.
    pub fn watch(&self) -> broadcast::Receiver<Arc<str>> {
        self.forgotten.subscribe()
    }

    fn announce(&self, user_id: &str) {
        // No receiver (no socket open) is not a failure.
        let _ = self.forgotten.send(Arc::from(user_id));
    }

    /// Forgets everything and serves nothing until [`SessionCache::resume`]: while the process
    /// can't hear of other processes' changes, every lookup asks the database.
    pub fn pause(&self) {
        self.restart(false);
    }

    /// Serves again, from nothing (what was missed while paused is unknown).
    pub fn resume(&self) {
        self.restart(true);
    }

    fn restart(&self, serving: bool) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.forgets += 1;
            inner.entries.clear();
            inner.serving = serving;
        }
        // Once, when listening again: what was missed meanwhile is unknown. (Pausing changes
        // nothing a socket could act on: sessions are then read from the database.)
        if serving {
            self.announce(EVERYONE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_what_it_remembered_until_the_user_is_forgotten() {
        let cache = SessionCache::<u32>::default();
        assert_eq!(cache.get("h1"), None);
        let mark = cache.mark();
        cache.remember(mark, "h1".into(), "u1", 1);
        cache.remember(mark, "h2".into(), "u2", 2);
        assert_eq!(cache.get("h1"), Some(1));
        cache.forget_user("u1");
        assert_eq!(cache.get("h1"), None);
        assert_eq!(cache.get("h2"), Some(2));
        cache.resume();
        assert_eq!(cache.get("h2"), None);
    }

    #[test]
    fn watchers_hear_who_was_forgotten() {
        let cache = SessionCache::<u32>::default();
        let mut watch = cache.watch();
        cache.forget_user("u1");
        cache.resume();
        assert_eq!(watch.try_recv().as_deref().ok(), Some("u1"));
        assert_eq!(watch.try_recv().as_deref().ok(), Some(EVERYONE));
        assert!(watch.try_recv().is_err());
    }

    #[test]
    fn a_read_that_a_forget_overtook_is_not_remembered() {
        let cache = SessionCache::<u32>::default();
        let mark = cache.mark();
        // Another request signs the user out while this one reads the database.
        cache.forget_user("u1");
        cache.remember(mark, "h1".into(), "u1", 1);
        assert_eq!(cache.get("h1"), None);
        // The next read remembers.
        let mark = cache.mark();
        cache.remember(mark, "h1".into(), "u1", 1);
        assert_eq!(cache.get("h1"), Some(1));
    }

    #[test]
    fn a_paused_cache_serves_nothing_until_resumed() {
        let cache = SessionCache::<u32>::paused();
        let mark = cache.mark();
        cache.remember(mark, "h1".into(), "u1", 1);
        assert_eq!(cache.get("h1"), None);
        cache.resume();
        let mark = cache.mark();
        cache.remember(mark, "h1".into(), "u1", 1);
        assert_eq!(cache.get("h1"), Some(1));
        cache.pause();
        assert_eq!(cache.get("h1"), None);
    }

    #[test]
    fn an_entry_counts_from_when_the_database_was_asked() {
        let cache = SessionCache::<u32>::default();
        let mut mark = cache.mark();
        mark.at = mark.at.checked_sub(FRESH).unwrap_or(mark.at);
        cache.remember(mark, "h1".into(), "u1", 1);
        assert_eq!(cache.get("h1"), None);
    }
}
