//! Pokes: "these spaces changed, pull". In one process a broadcast channel; across several
//! processes on one PostgreSQL, `NOTIFY` carries the space ids to every process's listener, which
//! feeds its own channel. When the listener reconnects it pokes everyone, since notifications
//! sent while it was away are lost.
//!
//! The same listener carries the other processes' ended sessions and changed accounts
//! (`auth::session::FORGET_CHANNEL`) to this process's memory of sessions, which it clears
//! whole on reconnecting, for the same reason, and which serves nothing while it is not
//! listening (`SessionCache::pause`).

use crate::auth::session::{FORGET_CHANNEL, SessionRow};
use crate::auth::session_cache::SessionCache;
use crate::db::{Db, DbKind};
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

    /// Tells every client (of every process) that `spaces` changed.
    pub async fn poke(&self, db: &Db, spaces: BTreeSet<Space>) {
        let spaces: Vec<String> = spaces.iter().map(Space::to_string).collect();
        match db.kind {
            DbKind::Sqlite => self.local(spaces),
            DbKind::Postgres => {
                let mut payload = spaces.join(",");
                if payload.len() > MAX_PAYLOAD {
                    payload = ALL.into();
                }
                if let Err(e) = db.notify(CHANNEL, &payload).await {
                    // The change is committed; clients still pull on their 60-second timer.
                    tracing::warn!(error = %e, "NOTIFY failed; poking local clients only");
                    self.local(spaces);
                }
            }
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

/// Listens until the connection fails for good (sqlx reconnects by itself first).
async fn listen(
    hub: &PokeHub,
    sessions: &SessionCache<SessionRow>,
    url: &str,
    delay: &mut Duration,
) -> Result<Infallible, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen_all([CHANNEL, FORGET_CHANNEL]).await?;
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
        let Some(n) = listener.try_recv().await? else {
            tracing::warn!("poke listener reconnected");
            missed_everything();
            continue;
        };
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
