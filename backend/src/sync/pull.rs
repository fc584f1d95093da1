//! Answering a pull: what changed since the client's cookie that this user may see, the new
//! cookie and the group's last mutation ids, all read from one snapshot.

use crate::db::{Db, DbKind};
use crate::entity_store::{self, EntityRow};
use crate::error::ApiResult;
use shared::actor::{Actor, Role};
use shared::entity::EntityKey;
use shared::ids::ClientId;
use shared::sync::{Cookie, PullRequest, PullResponse};
use std::collections::BTreeMap;

fn visible(row: &EntityRow, actor: &Actor) -> bool {
    actor.role == Role::Office
        || row
            .visible_unit
            .as_deref()
            .is_none_or(|u| u == actor.unit.to_string())
}

/// Whether `cookie` is a position in this server's history for this user; anything else (another
/// database, another user, a version from the future, a forged value) gets a full reset.
fn usable(cookie: &Cookie, epoch: &str, actor: &Actor, current: &BTreeMap<String, i64>) -> bool {
    cookie.epoch == epoch
        && cookie.user == actor.user.to_string()
        && cookie
            .spaces
            .iter()
            .all(|(space, v)| *v >= 0 && current.get(space).is_some_and(|cur| v <= cur))
}

/// Computes the pull response for `actor`.
pub async fn pull(db: &Db, actor: &Actor, req: &PullRequest) -> ApiResult<PullResponse> {
    let mut tx = db.pool.begin().await?;
    if db.kind == DbKind::Postgres {
        // One snapshot for every read below; SQLite's WAL read transaction gives the same.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    super::push::check_group(&mut tx, req.client_group, actor, false).await?;
    let epoch: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'epoch'")
        .fetch_one(&mut *tx)
        .await?;
    let current = entity_store::space_versions(&mut tx).await?;
    let reset = !req
        .cookie
        .as_ref()
        .is_some_and(|c| usable(c, &epoch, actor, &current));
    let mut puts = Vec::new();
    let mut deletes = Vec::new();
    for (space, version) in &current {
        let since = match (&req.cookie, reset) {
            (Some(cookie), false) => cookie.spaces.get(space).copied().unwrap_or(0),
            _ => 0,
        };
        if *version <= since {
            continue;
        }
        for row in entity_store::changed_since(&mut tx, space, since).await? {
            if visible(&row, actor) {
                puts.push(row.entity()?);
            } else if !reset {
                // It may have been visible before (e.g. a submission returned to draft).
                deletes.push(EntityKey(row.id));
            }
        }
    }
    let clients: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, last_mutation_id FROM client WHERE client_group = $1")
            .bind(req.client_group.to_string())
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    let last_mutation_ids = clients
        .into_iter()
        .filter_map(|(id, last)| Some((id.parse::<ClientId>().ok()?, u64::try_from(last).ok()?)))
        .collect();
    Ok(PullResponse {
        reset,
        cookie: Cookie {
            epoch,
            user: actor.user.to_string(),
            spaces: current,
        },
        puts,
        deletes,
        last_mutation_ids,
    })
}
