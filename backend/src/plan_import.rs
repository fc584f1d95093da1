//! Importing a plan document into the database: units, items and the plan itself, as entities of
//! the plan space. Idempotent: ids are derived from item numbers and unit names, and only
//! entities whose content changed are written, so importing the same file twice changes nothing
//! and an edited file updates rows in place.

use crate::audit::AuditEntry;
use crate::db::Db;
use crate::entity_store;
use crate::error::{ApiError, ApiResult};
use shared::entity::{Entity, EntityKey, Item, PlanDoc, Space, Unit};
use shared::ids::{UnitId, item_id_for_number, unit_id_for_name};
use shared::plan_text::ParsedPlan;
use shared::state::{State, Stored};
use shared::unit::UnitKind;
use sqlx::AnyPool;
use std::collections::HashMap;

/// The seed plan shipped with the binary: imported into an empty database on first start.
pub const SEED: &str = include_str!("../../seeds/yantian-2014-key-reforms.txt");

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Entities created.
    pub created: usize,
    /// Entities whose content changed.
    pub updated: usize,
    /// Entities already as the document says.
    pub unchanged: usize,
}

pub use shared::unit::{CPPCC_UNIT, LEADERS_UNIT, NPC_UNIT, OFFICE_UNIT};

/// The entities `parsed` describes, reusing the ids of units already stored under any of their
/// names.
pub(crate) fn entities_of(parsed: &ParsedPlan, existing: &State) -> Vec<Entity> {
    let mut ids_by_name: HashMap<&str, UnitId> = HashMap::new();
    for unit in existing.units() {
        for name in std::iter::once(&unit.name).chain(&unit.aliases) {
            ids_by_name.insert(name.as_str(), unit.id);
        }
    }
    let mut out = Vec::new();
    let mut resolved: HashMap<&str, UnitId> = HashMap::new();
    for entry in &parsed.units {
        let names = || std::iter::once(&entry.name).chain(&entry.aliases);
        let id = names()
            .find_map(|n| ids_by_name.get(n.as_str()).copied())
            .unwrap_or_else(|| unit_id_for_name(&entry.name));
        let mut aliases = entry.aliases.clone();
        if let Some(old) = existing.unit(id) {
            // Names seen before stay recognised even if this edition of the document dropped them.
            for alias in std::iter::once(&old.name).chain(&old.aliases) {
                if *alias != entry.name && !aliases.contains(alias) {
                    aliases.push(alias.clone());
                }
            }
        }
        for name in names() {
            resolved.insert(name.as_str(), id);
        }
        out.push(Entity::Unit(Unit {
            id,
            name: entry.name.clone(),
            aliases,
            kind: entry.kind,
            in_plan: true,
            groups: vec![],
        }));
    }
    let ids = |names: &[String]| -> Vec<UnitId> {
        names
            .iter()
            .filter_map(|n| resolved.get(n.as_str()).copied())
            .collect()
    };
    for item in &parsed.plan.items {
        out.push(Entity::Item(Item {
            id: item_id_for_number(item.number),
            number: item.number,
            title: item.title.clone(),
            body: item.body.clone(),
            lead_units: ids(&item.lead_units),
            cooperating_units: ids(&item.cooperating_units),
            lead_leaders: item.lead_leaders.clone(),
            section: item.section.clone(),
        }));
    }
    let plan = &parsed.plan;
    out.push(Entity::Plan(PlanDoc {
        title: plan.title.clone(),
        issuers: plan.issuers.clone(),
        issue_date: plan.issue_date,
        year: plan.issue_date.map(|d| chrono::Datelike::year(&d)),
        preamble: plan.preamble.clone(),
        sections: plan.sections.clone(),
        requirements: plan.requirements.clone(),
        deadlines: plan.deadlines.clone(),
    }));
    out
}

/// The built-in units outside the plan (office, leaders, supervisors).
fn builtin_units() -> Vec<Entity> {
    shared::unit::BUILTIN_UNITS
        .into_iter()
        .map(|name| {
            Entity::Unit(Unit {
                id: unit_id_for_name(name),
                name: name.into(),
                aliases: vec![],
                kind: UnitKind::Department,
                in_plan: false,
                groups: vec![],
            })
        })
        .collect()
}

/// Writes `wanted` entities of the plan space, skipping the unchanged ones, in one transaction.
async fn write_plan_entities(
    db: &Db,
    action: &str,
    wanted: Vec<Entity>,
) -> anyhow::Result<ImportReport> {
    let _guard = db.write_guard().await;
    let mut tx = db.pool.begin().await?;
    let mut existing = State::new();
    let keys: Vec<EntityKey> = wanted.iter().map(Entity::key).collect();
    entity_store::load_into(&mut tx, &keys, &mut existing).await?;
    let mut report = ImportReport::default();
    let mut version = None;
    let mut saved = Vec::new();
    let mut logged = Vec::new();
    // Memberships are the office's (`shared::membership`), not the document's: kept.
    let mut wanted = wanted;
    for entity in &mut wanted {
        let key = entity.key();
        if let Entity::Unit(unit) = entity
            && let Some(Entity::Unit(old)) = existing.get(&key)
        {
            unit.groups = old.groups.clone();
        }
    }
    for entity in &wanted {
        let before = existing.get(&entity.key());
        if before == Some(entity) {
            report.unchanged += 1;
            continue;
        }
        if before.is_some() {
            report.updated += 1;
        } else {
            report.created += 1;
        }
        let v = match version {
            Some(v) => v,
            None => *version.insert(entity_store::bump_space(&mut tx, Space::Plan).await?),
        };
        saved.push((entity, v));
        logged.push(
            AuditEntry {
                action,
                before,
                after: Some(entity),
                ..Default::default()
            }
            .row()?,
        );
    }
    entity_store::save_with_audit(&mut tx, db.kind, logged, &saved, None).await?;
    tx.commit().await?;
    Ok(report)
}

/// Imports a parsed plan.
pub async fn import(db: &Db, parsed: &ParsedPlan) -> anyhow::Result<ImportReport> {
    let existing = entity_store::load_all(&db.pool).await?;
    write_plan_entities(db, "import_plan", entities_of(parsed, &existing)).await
}

/// Creates the built-in units if they are missing.
pub async fn ensure_builtin_units(db: &Db) -> anyhow::Result<()> {
    write_plan_entities(db, "create_unit", builtin_units()).await?;
    Ok(())
}

/// Whether a plan has been imported.
pub async fn has_plan(pool: &AnyPool) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM entity WHERE id = $1")
        .bind(EntityKey::plan().0)
        .fetch_one(pool)
        .await?;
    Ok(n > 0)
}

/// 404 unless `unit` exists.
pub async fn require_unit(pool: &AnyPool, unit: UnitId) -> ApiResult<()> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM entity WHERE id = $1")
        .bind(EntityKey::unit(unit).0)
        .fetch_one(pool)
        .await?;
    if n == 0 {
        return Err(ApiError::not_found(&<Unit as Stored>::NOUN));
    }
    Ok(())
}
