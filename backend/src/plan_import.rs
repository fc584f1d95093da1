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
use shared::unit::{UnitDirectory, UnitEntry, UnitKind};
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
    let same_unit = StoredUnits::new(existing);
    let mut out = Vec::new();
    let mut resolved: HashMap<&str, UnitId> = HashMap::new();
    for entry in &parsed.units {
        let names = || std::iter::once(&entry.name).chain(&entry.aliases);
        let id = names()
            .find_map(|n| ids_by_name.get(n.as_str()).copied())
            .or_else(|| names().find_map(|n| same_unit.id_of(n)))
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

/// The stored units, looked up by the rule the parser joins a document's names by
/// (`UnitDirectory`): an edition that writes only 区财政局 names the stored 区财政局〈国资委〉, as
/// the same document writing both would. Without it, the short form became a new unit and the
/// items it leads moved to it, away from the accounts of the real one.
struct StoredUnits {
    directory: UnitDirectory,
    /// Stored units by the canonical name the directory gives them; `None` where two stored
    /// units fold into one there (ambiguous: only an exact name picks one of them).
    by_canonical: HashMap<String, Option<UnitId>>,
}

impl StoredUnits {
    fn new(existing: &State) -> StoredUnits {
        let entries: Vec<UnitEntry> = existing
            .units()
            .map(|u| UnitEntry {
                name: u.name.clone(),
                aliases: u.aliases.clone(),
                kind: u.kind,
            })
            .collect();
        let directory = UnitDirectory::from_entries(&entries);
        let mut by_canonical: HashMap<String, Option<UnitId>> = HashMap::new();
        for unit in existing.units() {
            if let Some(canonical) = directory.canonical(&unit.name) {
                by_canonical
                    .entry(canonical.to_owned())
                    .and_modify(|id| {
                        if *id != Some(unit.id) {
                            *id = None;
                        }
                    })
                    .or_insert(Some(unit.id));
            }
        }
        StoredUnits {
            directory,
            by_canonical,
        }
    }

    fn id_of(&self, name: &str) -> Option<UnitId> {
        let canonical = self.directory.canonical(name)?;
        self.by_canonical.get(canonical).copied().flatten()
    }
}

/// Refuses an edition that numbers the stored items differently. An item's id is its number
/// (its tasks, reports, difficulties and instructions hang on it), so importing "item 3" under
/// a title that was item 2's would move item 3's work under item 2's title and units, silently.
/// A retitled item at the same number (a corrected wording) is an update; an item the edition
/// no longer has stays, with its work.
pub(crate) fn check_numbering(parsed: &ParsedPlan, existing: &State) -> Result<(), String> {
    let mut moved = Vec::new();
    for item in &parsed.plan.items {
        let same_title = existing
            .items()
            .into_iter()
            .find(|old| old.title == item.title && old.number != item.number);
        let retitled = existing
            .item(item_id_for_number(item.number))
            .is_some_and(|old| old.title != item.title);
        if let Some(old) = same_title
            && retitled
        {
            moved.push(format!(
                "「{}」原为第{}项，文本中为第{}项",
                item.title, old.number, item.number
            ));
        }
    }
    if moved.is_empty() {
        return Ok(());
    }
    Err(format!(
        "文本调整了改革项目的编号（{}）：项目的任务、报送材料、困难和批示都按编号挂在项目上，\
         导入会把它们归到别的项目下。请保持原有编号导入（新增项目编在最后）。\n\
         This edition renumbers items ({} moved): their work is filed by number and would move to \
         other items. Keep the numbers as they were and number new items after the last.",
        moved.join("；"),
        moved.len()
    ))
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

/// Whether `write_plan_entities` brings stored entities to what is wanted, or only adds those
/// not stored yet.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    Update,
    Missing,
}

/// Writes `wanted` entities of the plan space, skipping the unchanged ones, in one transaction.
async fn write_plan_entities(
    db: &Db,
    action: &str,
    wanted: Vec<Entity>,
    how: Write,
) -> anyhow::Result<ImportReport> {
    let _guard = db.write_guard().await;
    let mut tx = db.pool.begin().await?;
    // The plan space's lock first (on PostgreSQL, the row lock the bump takes; on SQLite, the
    // write guard above), then the read: read before it, a membership change committed in
    // between would be written back as it was. Nothing changed, the bump is rolled back.
    let version = entity_store::bump_space(&mut tx, Space::Plan).await?;
    let mut existing = State::new();
    let keys: Vec<EntityKey> = wanted.iter().map(Entity::key).collect();
    entity_store::load_into(&mut tx, &keys, &mut existing).await?;
    let mut report = ImportReport::default();
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
        if before == Some(entity) || (how == Write::Missing && before.is_some()) {
            report.unchanged += 1;
            continue;
        }
        if before.is_some() {
            report.updated += 1;
        } else {
            report.created += 1;
        }
        saved.push((entity, version));
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
    if saved.is_empty() {
        tx.rollback().await?;
        return Ok(report);
    }
    entity_store::save_with_audit(&mut tx, db.kind, logged, &saved, None).await?;
    tx.commit().await?;
    Ok(report)
}

/// Imports a parsed plan. An edition that renumbers the stored items is refused
/// (`check_numbering`), with what to do instead.
pub async fn import(db: &Db, parsed: &ParsedPlan) -> anyhow::Result<ImportReport> {
    let existing = entity_store::load_all(&db.pool).await?;
    check_numbering(parsed, &existing).map_err(anyhow::Error::msg)?;
    write_plan_entities(
        db,
        "import_plan",
        entities_of(parsed, &existing),
        Write::Update,
    )
    .await
}

/// Creates the built-in units if they are missing. One that exists stays as it is: a plan
/// that names 区人大 among its units has it in the plan, with its aliases, after every start.
pub async fn ensure_builtin_units(db: &Db) -> anyhow::Result<()> {
    write_plan_entities(db, "create_unit", builtin_units(), Write::Missing).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use shared::plan_text::parse;

    fn stored(text: &str) -> State {
        let parsed = parse(text).expect("the seed parses");
        let mut state = State::new();
        for e in entities_of(&parsed, &State::new()) {
            state.put(e);
        }
        state
    }

    fn lead_of(entities: &[Entity], number: u32) -> Vec<UnitId> {
        entities
            .iter()
            .find_map(|e| match e {
                Entity::Item(i) if i.number == number => Some(i.lead_units.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    #[test]
    fn an_edition_writing_a_units_short_name_names_the_stored_unit() {
        let state = stored(SEED);
        let full = state.unit_named("区财政局〈国资委〉").expect("stored").id;
        assert!(lead_of(&entities_of(&parse(SEED).expect("seed"), &state), 4).contains(&full));
        let edited = SEED.replace("区财政局〈国资委〉", "区财政局");
        assert_ne!(edited, SEED);
        let parsed = parse(&edited).expect("the edition parses");
        let entities = entities_of(&parsed, &state);
        assert!(
            lead_of(&entities, 4).contains(&full),
            "item 4's lead unit stays the stored one"
        );
        let units_named_like_it = entities
            .iter()
            .filter(|e| matches!(e, Entity::Unit(u) if u.name.starts_with("区财政局")))
            .count();
        assert_eq!(units_named_like_it, 1, "no second unit for the short form");
    }

    #[test]
    fn an_edition_that_renumbers_items_is_refused_and_a_retitled_one_is_not() {
        let state = stored(SEED);
        let parsed = parse(SEED).expect("seed");
        assert_eq!(check_numbering(&parsed, &state), Ok(()));
        // Item 2 and item 3 swap places.
        let mut swapped = parsed.clone();
        let titles: Vec<String> = swapped.plan.items.iter().map(|i| i.title.clone()).collect();
        for item in &mut swapped.plan.items {
            match item.number {
                2 => item.title.clone_from(&titles[2]),
                3 => item.title.clone_from(&titles[1]),
                _ => {}
            }
        }
        let refused = check_numbering(&swapped, &state).expect_err("renumbered");
        assert!(refused.contains("原为第3项，文本中为第2项"), "{refused}");
        // A corrected wording at the same number is an update.
        let mut retitled = parsed.clone();
        if let Some(item) = retitled.plan.items.get_mut(1) {
            item.title.push_str("（修订）");
        }
        assert_eq!(check_numbering(&retitled, &state), Ok(()));
    }
}
