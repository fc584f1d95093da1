//! The audit trail (留痕): append-only, one row per changed entity and per security event.

use crate::db::now_millis;
use serde::Serialize;
use shared::actor::Actor;
use shared::entity::Entity;
use sqlx::{Any, AnyPool, Transaction};

/// One audit row being written.
#[derive(Debug, Default)]
pub struct AuditEntry<'a> {
    /// Acting user (None for the system, e.g. the importer).
    pub actor: Option<&'a Actor>,
    /// What happened: a mutation name or a security event such as `login_failed`.
    pub action: &'a str,
    /// Before.
    pub before: Option<&'a Entity>,
    /// After.
    pub after: Option<&'a Entity>,
    /// Sync client and mutation id, when it came from a push (unique together per entity, which
    /// is what makes "applied exactly once" checkable).
    pub mutation: Option<(String, i64)>,
    /// Free text (e.g. the username of a failed login).
    pub detail: Option<String>,
}

/// Appends `entry` inside `tx`.
pub async fn record(tx: &mut Transaction<'_, Any>, entry: AuditEntry<'_>) -> anyhow::Result<()> {
    let entity = entry.after.or(entry.before);
    let to_json = |e: Option<&Entity>| e.map(serde_json::to_string).transpose();
    sqlx::query(
        "INSERT INTO audit (id, at, user_id, unit_id, action, entity, space, client_id, \
         mutation_id, before, after, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(now_millis())
    .bind(entry.actor.map(|a| a.user.to_string()))
    .bind(entry.actor.map(|a| a.unit.to_string()))
    .bind(entry.action)
    .bind(entity.map(|e| e.key().0))
    .bind(entity.map(|e| e.space().to_string()))
    .bind(entry.mutation.as_ref().map(|m| m.0.clone()))
    .bind(entry.mutation.as_ref().map(|m| m.1))
    .bind(to_json(entry.before)?)
    .bind(to_json(entry.after)?)
    .bind(entry.detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Appends a security event outside any other transaction.
pub async fn security_event(
    pool: &AnyPool,
    actor: Option<&Actor>,
    action: &str,
    detail: Option<String>,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    record(&mut tx, AuditEntry { actor, action, detail, ..Default::default() }).await?;
    tx.commit().await?;
    Ok(())
}

/// An audit row as shown to the office and in an entity's history.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    /// Row id.
    pub id: String,
    /// When (server time, ms).
    pub at: i64,
    /// User.
    pub user_id: Option<String>,
    /// Unit.
    pub unit_id: Option<String>,
    /// What.
    pub action: String,
    /// Entity key.
    pub entity: Option<String>,
    /// Before (JSON).
    pub before: Option<String>,
    /// After (JSON).
    pub after: Option<String>,
    /// Detail.
    pub detail: Option<String>,
}

/// Filter for the office's audit view.
#[derive(Debug, Default, serde::Deserialize)]
pub struct AuditFilter {
    /// Only this entity key.
    pub entity: Option<String>,
    /// Only this user.
    pub user: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// At most this many rows (newest first).
    pub limit: Option<i64>,
}

/// Rows matching `filter`, newest first.
pub async fn list(pool: &AnyPool, filter: &AuditFilter) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, at, user_id, unit_id, action, entity, before, after, detail FROM audit \
         WHERE ($1 IS NULL OR entity = $1) AND ($2 IS NULL OR user_id = $2) \
         AND ($3 IS NULL OR action = $3) ORDER BY at DESC, id DESC LIMIT $4",
    )
    .bind(filter.entity.as_deref())
    .bind(filter.user.as_deref())
    .bind(filter.action.as_deref())
    .bind(filter.limit.unwrap_or(200).clamp(1, 5000))
    .fetch_all(pool)
    .await
}
