//! Pokes: "these spaces changed, pull". In one process a broadcast channel; across several
//! processes on one PostgreSQL, `NOTIFY` carries the space ids to every process's listener, which
//! feeds its own channel: a push sends it from inside its transaction (`at_commit`), so it goes
//! out when the change is there to pull, and only then. When the listener reconnects it pokes everyone,
//! since notifications sent while it was away are lost.
//!
//! The same listener carries the other processes' ended sessions and changed accounts
//! (`auth::session::FORGET_CHANNEL`) to this process's memory of sessions, which it clears
//! whole on reconnecting, for the same reason, and which serves nothing while it is not
//! listening (`SessionCache::pause`).

use super::push::Changed;
use crate::auth::session::{FORGET_CHANNEL, SessionRow};
use crate::auth::session_cache::SessionCache;
use crate::db::{Db, DbKind, Notification};
use shared::entity::Space;
use sqlx::postgres::PgListener;
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// The PostgreSQL channel name.
const CHANNEL: &str = "reformboard_poke";
/// Poke that means "everything may have changed".
pub const ALL: &str = "*";
/// NOTIFY payloads must stay under 8000 bytes; past this, poke everyone instead.
const MAX_PAYLOAD: usize = 7000;

/// Every process notifies this channel every `HEARTBEAT_EVERY` through its pool, and every
/// listener hears it. A firewall or NAT that drops an idle connection sends the listener no
/// reset: it would wait, deaf, for ever (sqlx reconnects only on an error it sees). The
/// heartbeats keep the connection from being idle, and a listener that has heard nothing, not
/// even them, for `SILENCE_LIMIT` takes its connection for lost and connects again.
const HEARTBEAT_CHANNEL: &str = "reformboard_heartbeat";
const HEARTBEAT_EVERY: Duration = Duration::from_secs(30);
const SILENCE_LIMIT: Duration = Duration::from_secs(95);

/// Fan-out of pokes to this process's WebSocket connections.
#[derive(Clone, Debug)]
pub struct PokeHub {
    tx: broadcast::Sender<Arc<Vec<String>>>,
}

impl Default for PokeHub {
    fn default() -> Self {
        Self::new()
    }
}

impl PokeHub {
    /// A hub with no subscribers.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self { tx }
    }

    /// A receiver for one WebSocket connection.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<String>>> {
        self.tx.subscribe()
    }

    fn local(&self, spaces: Vec<String>) {
        // No receivers is fine: nobody is connected.
        let _ = self.tx.send(Arc::new(spaces));
    }

    /// Tells this process's clients what a push changed, once it has committed. When the
    /// push's NOTIFY went out with it (`at_commit`, PostgreSQL) it reached every process, this
    /// one included, and there is nothing left to do.
    pub fn pushed(&self, changed: &Changed) {
        if !changed.notified && !changed.spaces.is_empty() {
            self.local(names(&changed.spaces));
        }
    }

    /// On PostgreSQL, listens for other processes' pokes for as long as the process runs.
    pub fn spawn_listener(&self, db: &Db) {
        if db.kind != DbKind::Postgres {
            return;
        }
        let hub = self.clone();
        let url = db.url.clone();
        let sessions = db.sessions.clone();
        let pool = db.pool.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT_EVERY).await;
                let beat = sqlx::query("SELECT pg_notify($1, '')")
                    .bind(HEARTBEAT_CHANNEL)
                    .execute(&pool)
                    .await;
                if let Err(e) = beat {
                    tracing::debug!(error = %e, "heartbeat not sent");
                }
            }
        });
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(100);
            loop {
                let Err(e) = listen(&hub, &sessions, &url, &mut delay).await;
                // Deaf to other processes: sessions are read from the database until listening
                // again.
                sessions.pause();
                tracing::warn!(error = %e, "poke listener lost its connection");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        });
    }
}

/// The notification a push on PostgreSQL sends from inside its transaction when it changed
/// `spaces` (`entity_store::save_with_audit`): delivered at commit, and only then. Sent after
/// the commit instead, it was a transaction of its own, one more WAL flush per push (a NOTIFY
/// takes a transaction id), and the next push of a one-by-one writer waited behind it.
pub fn at_commit(kind: DbKind, spaces: &BTreeSet<Space>) -> Option<Notification> {
    (kind == DbKind::Postgres && !spaces.is_empty()).then(|| Notification {
        channel: CHANNEL,
        payload: payload(spaces),
    })
}

fn names(spaces: &BTreeSet<Space>) -> Vec<String> {
    spaces.iter().map(Space::to_string).collect()
}

/// The space ids, comma-separated; everyone (`ALL`) past what a NOTIFY may carry.
fn payload(spaces: &BTreeSet<Space>) -> String {
    let payload = names(spaces).join(",");
    if payload.len() > MAX_PAYLOAD {
        ALL.into()
    } else {
        payload
    }
}

/// Listens until the connection fails for good (sqlx reconnects by itself first).
async fn listen(
    hub: &PokeHub,
    sessions: &SessionCache<SessionRow>,
    url: &str,
    delay: &mut Duration,
) -> Result<Infallible, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener
        .listen_all([CHANNEL, FORGET_CHANNEL, HEARTBEAT_CHANNEL])
        .await?;
    *delay = Duration::from_millis(100);
    // Whatever was notified while we were not listening is lost: everyone pulls, and every
    // session is read afresh.
    let missed_everything = || {
        hub.local(vec![ALL.into()]);
        sessions.resume();
    };
    missed_everything();
    loop {
        // `recv` would reconnect silently; `try_recv` says it did (None), having listened again.
        let heard = tokio::time::timeout(SILENCE_LIMIT, listener.try_recv())
            .await
            .map_err(|_| {
                sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "nothing heard, not even the heartbeat: the connection is gone",
                ))
            })??;
        let Some(n) = heard else {
            tracing::warn!("poke listener reconnected");
            missed_everything();
            continue;
        };
        if n.channel() == HEARTBEAT_CHANNEL {
            continue;
        }
        if n.channel() == FORGET_CHANNEL {
            sessions.forget_user(n.payload());
            continue;
        }
        let spaces = n
            .payload()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        hub.local(spaces);
    }
}

#[cfg(test)]
mod tests {
    use super::PokeHub;
    use crate::sync::push::Changed;
    use shared::entity::Space;

    #[test]
    fn a_push_whose_notify_did_not_go_out_pokes_this_process_itself() {
        let hub = PokeHub::new();
        let mut pokes = hub.subscribe();
        let plan = || [Space::Plan].into_iter().collect();
        hub.pushed(&Changed {
            spaces: plan(),
            notified: true,
        });
        assert!(
            pokes.try_recv().is_err(),
            "told through the NOTIFY, which this process's listener hears too"
        );
        hub.pushed(&Changed {
            spaces: plan(),
            notified: false,
        });
        let poke = pokes.try_recv().map(|p| p.as_ref().clone()).ok();
        assert_eq!(poke, Some(vec![Space::Plan.to_string()]));
        hub.pushed(&Changed::default());
        assert!(
            pokes.try_recv().is_err(),
            "nothing changed: nobody is poked"
        );
    }
}
