//! The `entity` and `space` tables: synced entities as JSON, versioned per space.

use crate::audit::{self, AuditRowValues};
use crate::batch::{Arg, Batch, Handle};
use crate::db::{DbKind, IN_LIST_MAX, Notification, placeholders};
use shared::entity::{Entity, EntityKey, Space, Visibility};
use shared::ids::ItemId;
use shared::state::State;
use sqlx::any::AnyRow;
use sqlx::{Any, FromRow, Row, Transaction};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// One stored entity.
#[derive(Debug, sqlx::FromRow)]
pub struct EntityRow {
    /// Key (`kind/id`).
    pub id: String,
    /// Space.
    pub space: String,
    /// Version of its space when last written.
    pub version: i64,
    /// Who may see it besides the office (None: everyone): a unit's id, or
    /// [`OVERSIGHT`] and a unit's id (`Visibility::Oversight`).
    pub visible_unit: Option<String>,
    /// JSON of the entity.
    pub data: String,
    /// 1 when it has ever been visible to everyone (read by the pull only; 0 where not read).
    #[sqlx(default)]
    pub ever_public: i64,
}

/// How `visible_unit` marks `Visibility::Oversight`.
pub const OVERSIGHT: &str = "oversight:";

/// Whether `actor` may see a stored row: the one rule for pulls, exports and downloads. The
/// office sees everything; others what is everyone's or their unit's, and the leaders and the
/// supervisors what is for those who oversee the plan.
pub fn visible(row: &EntityRow, actor: &shared::actor::Actor) -> bool {
    use shared::actor::Role;
    let unit = actor.unit.to_string();
    match row.visible_unit.as_deref() {
        None => true,
        Some(_) if actor.role == Role::Office => true,
        Some(v) => match v.strip_prefix(OVERSIGHT) {
            Some(u) => matches!(actor.role, Role::Leader | Role::Supervisor) || u == unit,
            None => v == unit,
        },
    }
}

impl EntityRow {
    /// The entity, decoded. A row that no longer decodes is a fault of ours, not the client's.
    pub fn entity(&self) -> anyhow::Result<Entity> {
        serde_json::from_str(&self.data)
            .map_err(|e| anyhow::anyhow!("stored entity {} does not decode: {e}", self.id))
    }
}

/// Bumps `space`'s version and returns the new one. On PostgreSQL this also takes the row lock
/// that serializes writers of the space until commit, so versions follow commit order.
pub async fn bump_space(tx: &mut Transaction<'_, Any>, space: Space) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(BUMP_SPACE)
        .bind(space.to_string())
        .fetch_one(&mut **tx)
        .await
}

const BUMP_SPACE: &str = "INSERT INTO space (id, version) VALUES ($1, 1) \
     ON CONFLICT (id) DO UPDATE SET version = space.version + 1 RETURNING version";

/// `bump_space` as a statement for a [`Batch`]: one row, the new version.
pub fn bump_space_statement(space: Space) -> (&'static str, Vec<Arg>) {
    (BUMP_SPACE, vec![Arg::Text(space.to_string())])
}

/// The condition under which an item's space is locked (bumped, or created): the item under
/// `key` (a placeholder or a column) is stored, so a made-up item id creates no space. Both
/// ways a push locks its spaces, `bump_item_space_statement` and `sync::locking`, ask it.
pub fn item_is_stored(key: &str) -> String {
    format!("EXISTS (SELECT 1 FROM entity WHERE entity.id = {key})")
}

/// `bump_space_statement` for an item's space, but only while the item is stored (no row
/// otherwise). One statement where reading the item first and then bumping took two; the item
/// itself is read after the lock, with the mutation's other entities.
pub fn bump_item_space_statement(item: ItemId) -> (&'static str, Vec<Arg>) {
    static BUMP_ITEM_SPACE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "INSERT INTO space (id, version) SELECT $1, 1 WHERE {} \
             ON CONFLICT (id) DO UPDATE SET version = space.version + 1 RETURNING version",
            item_is_stored("$2")
        )
    });
    (
        BUMP_ITEM_SPACE.as_str(),
        vec![
            Arg::Text(Space::Item(item).to_string()),
            Arg::Text(EntityKey::item(item).0),
        ],
    )
}

/// The version a bump statement answered (None: it bumped nothing).
pub fn bumped_version(rows: &[AnyRow]) -> Result<Option<i64>, sqlx::Error> {
    rows.first().map(|row| row.try_get(0)).transpose()
}

/// Adds to `batch` the reads of the entities under `keys` (all different), one statement per
/// [`IN_LIST_MAX`] keys; [`loaded`] decodes their rows.
pub fn add_loads(batch: &mut Batch, keys: &[&EntityKey]) -> Vec<Handle> {
    keys.chunks(IN_LIST_MAX)
        .map(|chunk| {
            batch.add(
                select_by_keys(chunk.len()),
                chunk.iter().map(|k| Arg::Text(k.0.clone())).collect(),
            )
        })
        .collect()
}

/// The rows of `n` entities by key (`$1` … `$n`).
fn select_by_keys(n: usize) -> String {
    format!(
        "SELECT id, space, version, visible_unit, data FROM entity WHERE id IN ({})",
        placeholders(n)
    )
}

/// Puts the entities that `add_loads`' statements read into `state`.
pub fn loaded(batch: &mut Batch, handles: &[Handle], state: &mut State) -> anyhow::Result<()> {
    for handle in handles {
        for row in batch.take(*handle) {
            state.put(EntityRow::from_row(&row)?.entity()?);
        }
    }
    Ok(())
}

/// Loads the entities under `keys` that exist into `state` (skipping ones already there), in
/// one query per [`IN_LIST_MAX`] keys, as `add_loads` does within a batch (a push's context
/// keys, the importer).
pub async fn load_into(
    tx: &mut Transaction<'_, Any>,
    keys: &[EntityKey],
    state: &mut State,
) -> anyhow::Result<()> {
    let missing: BTreeSet<&EntityKey> = keys.iter().filter(|k| state.get(k).is_none()).collect();
    let missing: Vec<&EntityKey> = missing.into_iter().collect();
    for chunk in missing.chunks(IN_LIST_MAX) {
        let sql = select_by_keys(chunk.len());
        let mut query = sqlx::query_as::<_, EntityRow>(sqlx::AssertSqlSafe(sql));
        for key in chunk {
            query = query.bind(&key.0);
        }
        for row in query.fetch_all(&mut **tx).await? {
            state.put(row.entity()?);
        }
    }
    Ok(())
}

/// The spaces the stored entities under `keys` belong to (keys not stored are left out), in
/// one query per [`IN_LIST_MAX`] keys: a push of twenty moves asks once, not twenty times.
pub async fn spaces_of(
    tx: &mut Transaction<'_, Any>,
    keys: &BTreeSet<EntityKey>,
) -> Result<BTreeMap<EntityKey, String>, sqlx::Error> {
    let keys: BTreeSet<String> = keys.iter().map(|k| k.0.clone()).collect();
    let rows: Vec<(String, String)> = crate::db::select_in(
        tx,
        |list| format!("SELECT id, space FROM entity WHERE id IN ({list})"),
        &keys,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, space)| (EntityKey(id), space))
        .collect())
}

/// Placeholders per row of [`upsert_sql`].
pub const ROW_WIDTH: usize = 7;

/// `INSERT INTO entity … VALUES … ON CONFLICT … DO UPDATE` for `rows` entities (all different),
/// placeholders numbered from `$first`; each row bound by [`bind`].
pub fn upsert_sql(first: usize, rows: usize) -> String {
    format!(
        "INSERT INTO entity (id, kind, space, version, visible_unit, data, ever_public) VALUES {} \
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, space = excluded.space, \
         version = excluded.version, visible_unit = excluded.visible_unit, data = excluded.data, \
         ever_public = CASE WHEN entity.ever_public = 1 OR excluded.ever_public = 1 THEN 1 ELSE 0 END",
        crate::db::value_rows(first, rows, ROW_WIDTH)
    )
}

/// Binds `entity` at `version` of its space: [`ROW_WIDTH`] values, in [`upsert_sql`]'s order.
pub fn bind<'q>(
    query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    entity: &Entity,
    version: i64,
) -> anyhow::Result<sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>> {
    let public = i64::from(entity.visibility() == Visibility::Everyone);
    let visible_unit = match entity.visibility() {
        Visibility::Everyone => None,
        Visibility::Unit(u) => Some(u.to_string()),
        Visibility::Oversight(u) => Some(format!("{OVERSIGHT}{u}")),
    };
    Ok(query
        .bind(entity.key().0)
        .bind(entity.kind())
        .bind(entity.space().to_string())
        .bind(version)
        .bind(visible_unit)
        .bind(serde_json::to_string(entity)?)
        .bind(public))
}

/// Rows of each kind per statement of [`save_with_audit`]: 1,800 bound values at most, well
/// under SQLite's and PostgreSQL's limits.
const WRITE_CHUNK: usize = 100;

/// Writes `saved` entities (each at its space's version) and the audit rows that record their
/// changes. Both go in one statement — on PostgreSQL the audit insert as a data-modifying
/// `WITH`, on SQLite two statements sent as one (each numbers its placeholders on from the
/// last) — so a push or an import takes one round trip (or one hop to SQLite's thread) per
/// hundred rows instead of one per row: on a one-card push, latency-bound, that is most of what
/// it costs beyond its fixed steps. `notify` (PostgreSQL) rides in the first statement too, and
/// is delivered when the transaction commits.
pub async fn save_with_audit(
    tx: &mut Transaction<'_, Any>,
    kind: DbKind,
    logged: Vec<AuditRowValues>,
    saved: &[(&Entity, i64)],
    mut notify: Option<Notification>,
) -> anyhow::Result<()> {
    let mut logged = logged.into_iter().peekable();
    let mut saved = saved.chunks(WRITE_CHUNK).peekable();
    while logged.peek().is_some() || saved.peek().is_some() || notify.is_some() {
        let rows: Vec<AuditRowValues> = logged.by_ref().take(WRITE_CHUNK).collect();
        let entities = saved.next().unwrap_or_default();
        let audit_sql = (!rows.is_empty()).then(|| audit::insert_sql(1, rows.len()));
        let first = 1 + rows.len() * audit::ROW_WIDTH;
        let entity_sql = (!entities.is_empty()).then(|| upsert_sql(first, entities.len()));
        // SQLite has no NOTIFY: its pokes go after the commit, in the process (`sync::poke`).
        let poke = notify.take().filter(|_| kind == DbKind::Postgres);
        let notify_at = poke.as_ref().map(|_| first + entities.len() * ROW_WIDTH);
        let sql = match kind {
            DbKind::Postgres => postgres_statement(audit_sql, entity_sql, notify_at),
            DbKind::Sqlite => match (audit_sql, entity_sql) {
                (Some(a), Some(e)) => Some(format!("{a}; {e}")),
                (one, None) | (None, one) => one,
            },
        };
        let Some(sql) = sql else { break };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in rows {
            query = row.bind(query);
        }
        for (entity, version) in entities {
            query = bind(query, entity, *version)?;
        }
        if let Some(Notification { channel, payload }) = poke {
            query = query.bind(channel).bind(payload);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// One PostgreSQL statement of [`save_with_audit`]: the audit insert as a data-modifying
/// `WITH`, then the upsert, and the NOTIFY's two values at `notify_at`. A `WITH` that only
/// selects runs only when read, so the upsert's RETURNING reads the NOTIFY's (or a SELECT does,
/// when there is nothing to upsert).
fn postgres_statement(
    audit: Option<String>,
    upsert: Option<String>,
    notify_at: Option<usize>,
) -> Option<String> {
    let mut with = Vec::new();
    if let Some(a) = &audit {
        with.push(format!("logged AS ({a})"));
    }
    if let Some(i) = notify_at {
        with.push(format!(
            "poked AS (SELECT pg_notify(${i}, ${}) AS n)",
            i + 1
        ));
    }
    let last = match (upsert, notify_at) {
        (Some(u), Some(_)) => format!("{u} RETURNING (SELECT n FROM poked)"),
        (Some(u), None) => u,
        (None, Some(_)) => "SELECT n FROM poked".into(),
        (None, None) => return audit,
    };
    Some(if with.is_empty() {
        last
    } else {
        format!("WITH {} {last}", with.join(", "))
    })
}

/// Current version of every space.
pub async fn space_versions(
    tx: &mut Transaction<'_, Any>,
) -> Result<BTreeMap<String, i64>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT id, version FROM space")
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Entities of `space` written after `since`.
pub async fn changed_since(
    tx: &mut Transaction<'_, Any>,
    space: &str,
    since: i64,
) -> Result<Vec<EntityRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, space, version, visible_unit, data, ever_public FROM entity \
         WHERE space = $1 AND version > $2 ORDER BY id",
    )
    .bind(space)
    .bind(since)
    .fetch_all(&mut **tx)
    .await
}

/// Every entity of `kind` (for exports and server-side reads outside sync).
pub async fn all_of_kind(pool: &sqlx::AnyPool, kind: &str) -> anyhow::Result<Vec<Entity>> {
    let rows: Vec<EntityRow> = sqlx::query_as(
        "SELECT id, space, version, visible_unit, data FROM entity WHERE kind = $1 ORDER BY id",
    )
    .bind(kind)
    .fetch_all(pool)
    .await?;
    rows.iter().map(EntityRow::entity).collect()
}

/// Every entity, as a `State` (small plans only: exports, tests, the importer).
pub async fn load_all(pool: &sqlx::AnyPool) -> anyhow::Result<State> {
    let rows: Vec<EntityRow> =
        sqlx::query_as("SELECT id, space, version, visible_unit, data FROM entity")
            .fetch_all(pool)
            .await?;
    let mut state = State::new();
    for row in &rows {
        state.put(row.entity()?);
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::postgres_statement;

    #[test]
    fn the_notify_is_read_by_the_statement_that_carries_it() {
        let audit = || Some("INSERT INTO audit VALUES ($1)".to_string());
        let upsert = || Some("INSERT INTO entity VALUES ($2)".to_string());
        assert_eq!(
            postgres_statement(audit(), upsert(), Some(3)).as_deref(),
            Some(
                "WITH logged AS (INSERT INTO audit VALUES ($1)), \
                 poked AS (SELECT pg_notify($3, $4) AS n) \
                 INSERT INTO entity VALUES ($2) RETURNING (SELECT n FROM poked)"
            )
        );
        assert_eq!(
            postgres_statement(None, None, Some(1)).as_deref(),
            Some("WITH poked AS (SELECT pg_notify($1, $2) AS n) SELECT n FROM poked")
        );
        assert_eq!(postgres_statement(audit(), None, None), audit());
        assert_eq!(
            postgres_statement(audit(), upsert(), None).as_deref(),
            Some("WITH logged AS (INSERT INTO audit VALUES ($1)) INSERT INTO entity VALUES ($2)")
        );
        assert_eq!(postgres_statement(None, None, None), None);
    }
}
