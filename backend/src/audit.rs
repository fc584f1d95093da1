//! The audit trail (留痕): append-only, one row per changed entity and per security event.
//! Nothing here updates or deletes a row.
//!
//! Security events about an account (reset, disable, role change…) name that account as their
//! entity, `user/{id}`, so the office can filter one account's whole story; the acting user is
//! in `user_id` as for every other row.

use crate::db::now_millis;
use crate::entity_store;
use serde::Deserialize;
use shared::actor::Actor;
use shared::audit::{AuditRecord, SECURITY_ACTIONS, action_zh};
use shared::entity::Entity;
use shared::message::Msg;
use shared::msg;
use sqlx::{Any, AnyPool};
use std::collections::HashMap;

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

impl AuditEntry<'_> {
    /// The row to insert, stamped now.
    pub fn row(self) -> anyhow::Result<AuditRowValues> {
        let entity = self.after.or(self.before);
        let to_json = |e: Option<&Entity>| e.map(serde_json::to_string).transpose();
        Ok(AuditRowValues {
            id: uuid::Uuid::now_v7().to_string(),
            at: now_millis(),
            user_id: self.actor.map(|a| a.user.to_string()),
            unit_id: self.actor.map(|a| a.unit.to_string()),
            action: self.action.to_string(),
            entity: entity.map(|e| e.key().0),
            space: entity.map(|e| e.space().to_string()),
            client_id: self.mutation.as_ref().map(|m| m.0.clone()),
            mutation_id: self.mutation.as_ref().map(|m| m.1),
            before: to_json(self.before)?,
            after: to_json(self.after)?,
            detail: self.detail,
        })
    }
}

/// An audit row of an entity's change, ready to insert with the entities it records
/// (`crate::entity_store::save_with_audit`).
#[derive(Debug)]
pub struct AuditRowValues {
    id: String,
    at: i64,
    user_id: Option<String>,
    unit_id: Option<String>,
    action: String,
    entity: Option<String>,
    space: Option<String>,
    client_id: Option<String>,
    mutation_id: Option<i64>,
    before: Option<String>,
    after: Option<String>,
    detail: Option<String>,
}

impl AuditRowValues {
    /// The row dated `at` instead of now: for the server's own pushes, whose times are given
    /// (`sync::push::Times::Server`).
    pub fn dated(mut self, at: shared::entity::Millis) -> Self {
        self.at = at.0;
        self
    }
}

/// Placeholders per row of [`insert_sql`].
pub const ROW_WIDTH: usize = 12;

/// `INSERT INTO audit … VALUES …` for `rows` rows, placeholders numbered from `$first`; each
/// row's values bound in order by [`AuditRowValues::bind`].
pub fn insert_sql(first: usize, rows: usize) -> String {
    format!(
        "INSERT INTO audit (id, at, user_id, unit_id, action, entity, space, client_id, \
         mutation_id, before, after, detail) VALUES {}",
        crate::db::value_rows(first, rows, ROW_WIDTH)
    )
}

impl AuditRowValues {
    /// Binds this row's [`ROW_WIDTH`] values, in [`insert_sql`]'s column order.
    pub fn bind<'q>(
        self,
        query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
        query
            .bind(self.id)
            .bind(self.at)
            .bind(self.user_id)
            .bind(self.unit_id)
            .bind(self.action)
            .bind(self.entity)
            .bind(self.space)
            .bind(self.client_id)
            .bind(self.mutation_id)
            .bind(self.before)
            .bind(self.after)
            .bind(self.detail)
    }
}

/// A security event: sign-ins, password and account changes.
#[derive(Debug, Default)]
pub struct SecurityEvent<'a> {
    /// Who did it (None: an anonymous visitor, e.g. a failed login).
    pub actor: Option<&'a Actor>,
    /// One of `shared::audit::SECURITY_ACTIONS`.
    pub action: &'a str,
    /// The account it was done to, by id, when there is one.
    pub subject: Option<&'a str>,
    /// Free text: the username tried, the client's address, what changed.
    pub detail: Option<String>,
}

/// Appends a security event on its own (it must be kept even when nothing else is).
pub async fn security_event(pool: &AnyPool, event: SecurityEvent<'_>) -> Result<(), sqlx::Error> {
    security_event_row(event).execute(pool).await?;
    Ok(())
}

/// The statement that appends `event`, owning its values: to run in the transaction of the
/// change it records (`users::commit_account_change`).
pub fn security_event_row(
    event: SecurityEvent<'_>,
) -> sqlx::query::Query<'static, Any, sqlx::any::AnyArguments> {
    debug_assert!(
        SECURITY_ACTIONS.contains(&event.action),
        "{} is unnamed",
        event.action
    );
    sqlx::query(
        "INSERT INTO audit (id, at, user_id, unit_id, action, entity, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(now_millis())
    .bind(event.actor.map(|a| a.user.to_string()))
    .bind(event.actor.map(|a| a.unit.to_string()))
    .bind(event.action.to_string())
    .bind(event.subject.map(|id| format!("user/{id}")))
    .bind(event.detail)
}

/// The audit row of a change `actor` pushed and the server refused (`change_refused`): on the
/// entity it named first, with the change's name and the reason, as the sender was told it.
pub fn refusal_row<'q>(
    actor: &Actor,
    m: &shared::mutation::Mutation,
    reason: &shared::mutation::Rejection,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "INSERT INTO audit (id, at, user_id, unit_id, action, entity, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(now_millis())
    .bind(actor.user.to_string())
    .bind(actor.unit.to_string())
    .bind("change_refused")
    .bind(m.keys().first().map(|k| k.0.clone()))
    .bind(format!("{}：{reason}", action_zh(m.name())))
}

/// An audit row as read, with the names of the people involved.
#[derive(Debug, sqlx::FromRow)]
struct AuditRow {
    id: String,
    at: i64,
    user_id: Option<String>,
    unit_id: Option<String>,
    action: String,
    entity: Option<String>,
    before: Option<String>,
    after: Option<String>,
    detail: Option<String>,
    actor_name: Option<String>,
    actor_username: Option<String>,
    subject_username: Option<String>,
}

/// Filter for the office's audit view; every field is optional and they combine with AND.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only this entity key (`task/…`, `item/…`, `user/…`).
    pub entity: Option<String>,
    /// Only rows this user did or that were done to this user's account (user id).
    pub user: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// `security`: only security events; `changes`: only board changes.
    pub category: Option<String>,
    /// Only rows at or after this time (ms).
    pub from: Option<i64>,
    /// Only rows before this time (ms).
    pub to: Option<i64>,
    /// At most this many rows (newest first).
    pub limit: Option<i64>,
    /// Skip this many rows (paging).
    pub offset: Option<i64>,
}

/// Most rows one page of the JSON view returns.
pub const MAX_PAGE: i64 = 1000;
/// Most rows one CSV export holds.
pub const MAX_EXPORT: i64 = 100_000;

/// Turns empty query parameters (`?user=&action=x`, as an HTML form sends them) into "no filter".
fn nonempty(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// Rows matching `filter`, newest first, at most `max` of them.
pub async fn list(
    pool: &AnyPool,
    filter: &AuditFilter,
    max: i64,
    logins: Logins,
) -> anyhow::Result<Vec<AuditRecord>> {
    // The category is one of two fixed lists of our own constants, never the client's text.
    let security: Vec<String> = SECURITY_ACTIONS.iter().map(|a| format!("'{a}'")).collect();
    let category = match nonempty(filter.category.as_deref()) {
        Some("security") => format!(" AND a.action IN ({})", security.join(",")),
        Some("changes") => format!(" AND a.action NOT IN ({})", security.join(",")),
        _ => String::new(),
    };
    let sql = format!(
        "SELECT a.id, a.at, a.user_id, a.unit_id, a.action, a.entity, a.before, a.after, a.detail, \
         u.display_name AS actor_name, u.username AS actor_username, s.username AS subject_username \
         FROM audit a LEFT JOIN users u ON u.id = a.user_id \
         LEFT JOIN users s ON a.entity = 'user/' || s.id \
         WHERE ($1 IS NULL OR a.entity = $1) \
         AND ($2 IS NULL OR a.user_id = $2 OR a.entity = 'user/' || $2) \
         AND ($3 IS NULL OR a.action = $3) AND ($4 IS NULL OR a.at >= $4) \
         AND ($5 IS NULL OR a.at < $5){category} \
         ORDER BY a.at DESC, a.id DESC LIMIT $6 OFFSET $7"
    );
    let rows: Vec<AuditRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(nonempty(filter.entity.as_deref()))
        .bind(nonempty(filter.user.as_deref()))
        .bind(nonempty(filter.action.as_deref()))
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.limit.unwrap_or(200).clamp(1, max))
        .bind(filter.offset.unwrap_or(0).max(0))
        .fetch_all(pool)
        .await?;
    let units = unit_names(pool).await?;
    Ok(rows
        .into_iter()
        .map(|r| record_of(r, &units, logins))
        .collect())
}

async fn unit_names(pool: &AnyPool) -> anyhow::Result<HashMap<String, String>> {
    Ok(entity_store::all_of_kind(pool, "unit")
        .await?
        .into_iter()
        .filter_map(|e| match e {
            Entity::Unit(u) => Some((u.id.to_string(), u.name)),
            _ => None,
        })
        .collect())
}

/// Whether the people in audit records are named with their login names: for the office,
/// which manages the accounts; not for a card's history, which everyone signed in reads (a
/// list of login names is half of what guessing passwords needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logins {
    /// "Name（username）".
    Shown,
    /// The name alone.
    Hidden,
}

fn record_of(r: AuditRow, units: &HashMap<String, String>, logins: Logins) -> AuditRecord {
    // The server's own account (the daily reminders) is 系统, with no login to show.
    let username = r
        .actor_username
        .filter(|u| u != crate::auth::users::SYSTEM_USERNAME);
    let user_name = match (r.actor_name, username, logins) {
        (Some(name), Some(username), Logins::Shown) => Some(format!("{name}（{username}）")),
        (Some(name), _, Logins::Hidden) => Some(name),
        (name, username, Logins::Shown) => name.or(username),
        (None, _, Logins::Hidden) => None,
    };
    let named = match r.subject_username {
        Some(username) => Some(Msg::owned(username.clone(), username)),
        None => r
            .after
            .as_deref()
            .or(r.before.as_deref())
            .and_then(|json| entity_name(json, units)),
    };
    let entity_name_en = named
        .as_ref()
        .filter(|m| m.en() != m.zh())
        .map(|m| m.en().to_string());
    let entity_name = named.map(|m| m.zh().to_string());
    AuditRecord {
        unit_name: r.unit_id.as_ref().and_then(|u| units.get(u).cloned()),
        id: r.id,
        at: r.at,
        user_id: r.user_id,
        user_name,
        unit_id: r.unit_id,
        action: r.action,
        entity: r.entity,
        entity_name,
        entity_name_en,
        before: r.before,
        after: r.after,
        detail: r.detail,
    }
}

/// What a person calls a stored entity.
fn entity_name(json: &str, units: &HashMap<String, String>) -> Option<Msg> {
    // Titles and names are as written; the words around them are in each language.
    let same = |text: String| Msg::owned(text.clone(), text);
    Some(match serde_json::from_str::<Entity>(json).ok()? {
        Entity::Plan(p) => same(p.title),
        Entity::Unit(u) => same(u.name),
        Entity::Item(i) => same(format!("{}. {}", i.number, i.title)),
        Entity::Task(t) => same(t.title),
        Entity::Comment(c) => {
            let short = opening(&c.body);
            let unit = units.get(&c.unit.to_string()).map_or("", String::as_str);
            same(format!("{}{unit}：{short}", c.author_name))
        }
        Entity::Calendar(_) => Msg::new("报送日期", "submission dates"),
        Entity::Settings(_) => Msg::new("设置", "settings"),
        Entity::Submission(s) => s.kind.in_sentence(),
        Entity::Redraft(_) => Msg::new("修改稿", "redraft"),
        Entity::Difficulty(d) => same(d.title),
        Entity::Instruction(i) => msg!("{name}批示", "instruction by {name}", name = i.leader_name),
        Entity::Evaluation(e) => msg!("评议（{n}分）", "evaluation ({n} points)", n = e.score),
        Entity::Inspection(i) => msg!("视察（{d}）", "inspection ({d})", d = i.date),
        Entity::Reminder(r) => {
            // The daily job's words exist in English too.
            let en = if r.text_en.is_empty() {
                &r.text
            } else {
                &r.text_en
            };
            Msg::owned(
                format!("催办：{}", opening(&r.text)),
                format!("reminder: {}", opening(en)),
            )
        }
        Entity::Bulletin(b) => same(b.title),
        Entity::Attachment(a) => same(a.name),
        Entity::Adjustment(a) => {
            let points = format!("{:+}", a.points);
            msg!(
                "考核调整{points}分",
                "assessment adjustment {points} points",
                points = points
            )
        }
        Entity::ReadMarks(_) => Msg::new("已读标记", "read marks"),
    })
}

/// The first 30 characters of a text, and "…" when there is more.
fn opening(text: &str) -> String {
    let mut short: String = text.chars().take(30).collect();
    if text.chars().nth(30).is_some() {
        short.push('…');
    }
    short
}

/// Beijing time, which is what every reader of the export means by a time.
fn beijing(ms: i64) -> String {
    shared::op::local_time(shared::entity::Millis(ms))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Excel runs a cell that starts with `=`, `+`, `-` or `@` as a formula; user text (a task title,
/// a username tried at login) must never do that in the office's spreadsheet.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// The rows as CSV for Excel: UTF-8 with a byte-order mark (without it Excel reads the Chinese as
/// the local code page), headers in Chinese.
pub fn to_csv(rows: &[AuditRecord]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record([
            "时间（北京时间）",
            "操作",
            "操作代码",
            "操作人",
            "所在单位",
            "对象",
            "对象编号",
            "说明",
            "变更前",
            "变更后",
        ])?;
        for r in rows {
            let opt = |v: &Option<String>| cell(v.as_deref().unwrap_or_default());
            w.write_record([
                beijing(r.at),
                action_zh(&r.action).to_string(),
                r.action.clone(),
                opt(&r.user_name),
                opt(&r.unit_name),
                opt(&r.entity_name),
                opt(&r.entity),
                opt(&r.detail),
                opt(&r.before),
                opt(&r.after),
            ])?;
        }
        w.flush()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_record_is_about_reads_in_either_language() -> anyhow::Result<()> {
        let instruction = Entity::Instruction(shared::instruction::Instruction {
            id: shared::ids::InstructionId::new_v7(),
            item: shared::ids::ItemId::new_v7(),
            text: "请加快进度".into(),
            leader: shared::ids::UserId::new_v7(),
            leader_name: "王区长".into(),
            at: shared::entity::Millis(0),
            acknowledged: None,
            answer: None,
        });
        let named = entity_name(&serde_json::to_string(&instruction)?, &HashMap::new())
            .ok_or_else(|| anyhow::anyhow!("no name"))?;
        assert_eq!(named.zh(), "王区长批示");
        assert_eq!(named.en(), "instruction by 王区长");
        Ok(())
    }

    #[test]
    fn csv_has_a_bom_chinese_headers_and_defused_formulas() -> anyhow::Result<()> {
        let row = AuditRecord {
            id: "1".into(),
            at: 1_395_273_600_000,
            user_id: None,
            user_name: None,
            unit_id: None,
            unit_name: None,
            action: "login_failed".into(),
            entity: None,
            entity_name: None,
            entity_name_en: None,
            before: None,
            after: None,
            detail: Some("=HYPERLINK(\"http://x\")".into()),
        };
        let bytes = to_csv(&[row])?;
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
        let text = String::from_utf8(bytes)?;
        assert!(text.contains("时间（北京时间）,操作,"), "{text}");
        assert!(
            text.contains("2014-03-20 08:00:00,登录失败,login_failed"),
            "{text}"
        );
        assert!(text.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{text}");
        Ok(())
    }
}
