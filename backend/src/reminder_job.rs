//! The daily reminder job (督查督办): once at start and then every day at a set hour (Beijing
//! time), a reminder (催办) for every unmet deadline that is overdue or due within
//! `DUE_WITHIN_DAYS` days — to the task's owner, or for a submission to the item's lead units —
//! at a pace (`reminds_today`): once as it comes near, on the day, once it has passed, then
//! weekly while it stays unmet. A reminder every day for the same overdue task taught units to
//! ignore the bell (and the mail).
//!
//! The reminders are ordinary `send_reminder` mutations, pushed by the system user (an office
//! account nobody can sign in to) through `sync::push`, so they are applied, audited, versioned
//! and poked exactly as a person's would be. Their ids are derived from the subject and the
//! day (`shared::ids::daily_reminder_id`): however many processes run the job and however often
//! it restarts, each reminder exists once per day; ids that already exist are not even pushed.

use crate::auth::{password, users};
use crate::db::{Db, now_millis};
use crate::entity_store;
use crate::mail::Mailer;
use crate::plan_import::OFFICE_UNIT;
use crate::sync::{poke::PokeHub, push};
use anyhow::Context;
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use shared::actor::{Actor, Role};
use shared::calendar::{Due, deadlines};
use shared::entity::{EntityKey, Millis};
use shared::ids::{ClientGroupId, ClientId, daily_reminder_id, unit_id_for_name};
use shared::mutation::Mutation;
use shared::reminder::{About, Ask, Send as Remind, automatic_text};
use shared::state::State;
use shared::sync::{MAX_PUSH_BATCH, Outcome, PROTOCOL_VERSION, PendingMutation, PushRequest};
use std::path::PathBuf;
use std::time::Duration;

/// Deadlines this close (in days) are reminded of before they pass.
pub const DUE_WITHIN_DAYS: i64 = 3;
/// The system user's login name; the account is also disabled, and never signs in.
pub use crate::auth::users::SYSTEM_USERNAME;

/// The client group the job pushes under (one for every process: the group is the system
/// user's, and each run uses a fresh client id in it).
fn system_group() -> ClientGroupId {
    ClientGroupId(uuid::Uuid::from_u128(
        0x0190_0000_0000_7000_8000_5e5e_6d72_656d,
    ))
}

/// What one run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Reminders created now.
    pub created: usize,
    /// Reminders due today that already existed.
    pub existing: usize,
}

/// The system user (created on first use), acting as the office.
pub async fn system_actor(db: &Db) -> anyhow::Result<Actor> {
    if users::by_username(&db.pool, SYSTEM_USERNAME)
        .await?
        .is_none()
    {
        // A random password nobody knows, and the account disabled: it only ever acts here.
        let secret = uuid::Uuid::new_v4().to_string();
        users::insert(
            &db.pool,
            users::NewUser {
                username: SYSTEM_USERNAME,
                display_name: "系统",
                unit: unit_id_for_name(OFFICE_UNIT),
                role: Role::Office,
                password_hash: password::hash(&secret)?,
                must_change_password: true,
            },
        )
        .await?;
    }
    let row = users::by_username(&db.pool, SYSTEM_USERNAME)
        .await?
        .context("the system user vanished")?;
    if row.disabled == 0 {
        users::set_disabled(db, &row.id, true, users::Along::default()).await?;
    }
    let mut actor = row.actor().context("the system user's row is unusable")?;
    // Whatever became of the row, the job acts as the office.
    actor.role = Role::Office;
    Ok(actor)
}

/// Days between reminders of a deadline that stays unmet.
pub const OVERDUE_EVERY_DAYS: i64 = 7;

/// Whether the deadline `due`, reminded of under `subject` (`daily_reminder_id`), is reminded
/// of on `today`: on the first day within `DUE_WITHIN_DAYS` of it, on the day itself, on the
/// first day past it, and then every `OVERDUE_EVERY_DAYS` days. It counts the reminders that
/// exist rather than the calendar, so days the job did not run (a server down over a holiday)
/// leave nothing unsaid: the next run reminds.
pub fn reminds_today(state: &State, subject: &str, due: NaiveDate, today: NaiveDate) -> bool {
    let days = (due - today).num_days();
    // Whether a reminder was sent on a day from `from` up to yesterday.
    let reminded_since = |from: NaiveDate| {
        let mut day = today - Days::days(1);
        while day >= from {
            if state
                .get(&EntityKey::reminder(daily_reminder_id(subject, day)))
                .is_some()
            {
                return true;
            }
            day -= Days::days(1);
        }
        false
    };
    match days {
        d if d > DUE_WITHIN_DAYS => false,
        0 => true,
        1.. => !reminded_since(due - Days::days(DUE_WITHIN_DAYS)),
        _ => !reminded_since((due + Days::days(1)).max(today - Days::days(OVERDUE_EVERY_DAYS - 1))),
    }
}

/// The reminders due on `today`: one per unmet deadline overdue or due within
/// `DUE_WITHIN_DAYS` that `reminds_today`, for each unit that has to meet it.
pub fn due_reminders(state: &State, today: NaiveDate, at: Millis) -> Vec<Remind> {
    let mut out = Vec::new();
    for d in deadlines(state, None, today) {
        if d.met_on.is_some() {
            continue;
        }
        let days = (d.date - today).num_days();
        if days > DUE_WITHIN_DAYS {
            continue;
        }
        let Some(item) = state.item(d.item) else {
            continue;
        };

        match &d.due {
            Due::Task { task, title, .. } => {
                // The notice says which item; the text says what and when.
                let what = shared::msg!("任务「{title}」", "The task “{title}”", title = title);
                let text = automatic_text(&what, d.date, today, Ask::for_deadline(state, &d));
                // A task given to a group is worked by its members, who read its reminders.
                let units = d.owed_by(state);
                for unit in units {
                    // The unit is part of the key: a task given to another unit is news to it,
                    // whatever the one before was told.
                    let key = format!("task:{task}:{unit}");
                    if !reminds_today(state, &key, d.date, today) {
                        continue;
                    }
                    out.push(Remind {
                        id: daily_reminder_id(&key, today),
                        item: item.id,
                        unit,
                        about: About::Task(*task),
                        text: text.zh().to_string(),
                        text_en: text.en().to_string(),
                        automatic: true,
                        at,
                    });
                }
            }
            Due::Submission { kind } => {
                let what = shared::msg!("{kind}", "The {kind}", kind = kind.in_sentence());
                let text = automatic_text(&what, d.date, today, Ask::for_deadline(state, &d));
                for unit in &item.lead_units {
                    let key = format!("submission:{}:{}:{unit}", item.id, kind.as_str());
                    if !reminds_today(state, &key, d.date, today) {
                        continue;
                    }
                    out.push(Remind {
                        id: daily_reminder_id(&key, today),
                        item: item.id,
                        unit: *unit,
                        about: About::Submission(*kind),
                        text: text.zh().to_string(),
                        text_en: text.en().to_string(),
                        automatic: true,
                        at,
                    });
                }
            }
        }
    }
    out
}

/// Runs the job once for `today`: pushes the reminders that don't exist yet, pokes, mails.
pub async fn run_once(
    db: &Db,
    hub: &PokeHub,
    mailer: Option<&Mailer>,
    today: NaiveDate,
) -> anyhow::Result<Report> {
    let actor = system_actor(db).await?;
    let state = entity_store::load_all(&db.pool).await?;
    // A plan long over is history: its missed deadlines are not chased years later.
    if shared::calendar::closed_by(&state, today) {
        return Ok(Report {
            created: 0,
            existing: 0,
        });
    }
    // Sent now; for a past date (a re-run, or a test on the 2014 plan) as at the end of that day,
    // so the reminder sits where it belongs in "the plan as it stood then".
    let at = Millis(now_millis().min(shared::op::end_of_day(today).0));
    let (fresh, existing): (Vec<Remind>, Vec<Remind>) = due_reminders(&state, today, at)
        .into_iter()
        .partition(|s| state.get(&EntityKey::reminder(s.id)).is_none());
    let mut report = Report {
        created: 0,
        existing: existing.len(),
    };
    // A fresh client per run: several processes, or a run after a restart, never collide on
    // mutation ids, and a reminder pushed twice by a race is simply rejected as a duplicate id.
    let client = ClientId::new_v7();
    let mut next = 1u64;
    for chunk in fresh.chunks(MAX_PUSH_BATCH) {
        let mutations = chunk
            .iter()
            .map(|s| {
                let pending = PendingMutation {
                    client_id: client,
                    id: next,
                    mutation: Mutation::SendReminder(s.clone()),
                };
                next += 1;
                pending
            })
            .collect();
        let req = PushRequest {
            protocol: PROTOCOL_VERSION,
            client_group: system_group(),
            mutations,
            retire: Default::default(),
        };
        let (response, changed, changes) =
            push::push_with_changes(db, &actor, &req, push::Times::Server).await?;
        report.created += response
            .results
            .iter()
            .filter(|r| r.outcome == Outcome::Applied)
            .count();
        for r in &response.results {
            if let Outcome::Rejected { reason } = &r.outcome {
                tracing::warn!(%reason, "a daily reminder was refused");
            }
        }
        hub.pushed(&changed);
        if let Some(mailer) = mailer
            && let Err(e) = crate::mail::notify(db, mailer, &changes).await
        {
            tracing::warn!(error = %format!("{e:#}"), "mailing reminders failed");
        }
    }
    Ok(report)
}

/// How long from `now` until the next `hour`:00 in Beijing.
pub fn until_next(hour: u32, now: DateTime<Utc>) -> Duration {
    let beijing = now.naive_utc() + Days::hours(8);
    let today = beijing.date().and_hms_opt(hour.min(23), 0, 0);
    let next = match today {
        Some(t) if t > beijing => t,
        Some(t) => t + Days::days(1),
        None => beijing + Days::days(1),
    };
    (next - beijing)
        .to_std()
        .unwrap_or(Duration::from_secs(3600))
}

/// Starts the job in the background: now, then daily at `hour` (Beijing). It also clears out
/// uploads that were never attached (`crate::upload::sweep_orphans`).
pub fn spawn(db: Db, hub: PokeHub, mailer: Option<Mailer>, hour: u32, data_dir: PathBuf) {
    tokio::spawn(async move {
        loop {
            match crate::upload::sweep_orphans(&db, &data_dir).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(n, "removed uploads that were never attached"),
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "sweeping uploads failed"),
            }
            let today = crate::export::today();
            match run_once(&db, &hub, mailer.as_ref(), today).await {
                Ok(r) => tracing::info!(
                    created = r.created,
                    existing = r.existing,
                    "daily reminders for {today}"
                ),
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "daily reminders failed"),
            }
            tokio::time::sleep(until_next(hour, Utc::now())).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn next_run_is_the_next_hour_in_beijing() {
        // 2014-03-31 23:30 UTC is 07:30 on 1 April in Beijing: 08:00 is half an hour away.
        let now = Utc.with_ymd_and_hms(2014, 3, 31, 23, 30, 0).single();
        let now = now.unwrap_or_default();
        assert_eq!(until_next(8, now), Duration::from_secs(1800));
        // 00:30 UTC is 08:30 Beijing: the next run is tomorrow.
        let later = Utc.with_ymd_and_hms(2014, 4, 1, 0, 30, 0).single();
        assert_eq!(
            until_next(8, later.unwrap_or_default()),
            Duration::from_secs(23 * 3600 + 1800)
        );
    }

    #[test]
    fn the_seed_plan_is_reminded_of_its_work_plans() -> anyhow::Result<()> {
        let parsed = shared::plan_text::parse(crate::plan_import::SEED)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut state = State::new();
        for e in crate::plan_import::entities_of(&parsed, &State::new()) {
            state.put(e);
        }
        let day = |d| NaiveDate::from_ymd_opt(2014, 3, d).unwrap_or_default();
        // 27 March: the work plans (due 31 March) are four days away — nothing yet.
        assert!(due_reminders(&state, day(27), Millis(0)).is_empty());
        // 28 March: three days away, one reminder per lead unit of each item.
        let leads: usize = state.items().iter().map(|i| i.lead_units.len()).sum();
        let sent = due_reminders(&state, day(28), Millis(0));
        assert_eq!(sent.len(), leads);
        assert!(sent.iter().all(|s| s.about == About::Submission(shared::submission::SubmissionKind::WorkPlan)));
        // The same day gives the same ids; the next day new ones.
        let again = due_reminders(&state, day(28), Millis(5));
        assert_eq!(
            sent.iter().map(|s| s.id).collect::<Vec<_>>(),
            again.iter().map(|s| s.id).collect::<Vec<_>>()
        );
        let next = due_reminders(&state, day(29), Millis(0));
        assert!(next.iter().all(|s| !sent.iter().any(|o| o.id == s.id)));
        Ok(())
    }

    /// A late task given to 各街道办 is reminded to each street office in it, who do the work
    /// and can read the reminder; while the group has no members, to the group.
    #[test]
    fn a_groups_late_task_is_reminded_to_its_members() -> anyhow::Result<()> {
        use shared::entity::{Entity, Task, Unit};
        use shared::ids::{TaskId, UnitId};
        let parsed = shared::plan_text::parse(crate::plan_import::SEED)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut state = State::new();
        for e in crate::plan_import::entities_of(&parsed, &State::new()) {
            state.put(e);
        }
        let group = unit_id_for_name("各街道办");
        let item = state
            .items()
            .into_iter()
            .find(|i| i.number == 8)
            .context("item 8")?
            .id;
        let due = NaiveDate::from_ymd_opt(2014, 6, 30).unwrap_or_default();
        let task = TaskId::new_v7();
        state.put(Entity::Task(Task {
            id: task,
            item,
            title: "清理社区工作事项".into(),
            notes: String::new(),
            owner: group,
            column: shared::board::Column::InProgress,
            sort_key: shared::board::sort_key::between(None, None),
            due: Some(due),
            progress: 50,
            steps: vec![],
            blocked: None,
            archived: false,
            created_by: shared::ids::UserId::new_v7(),
            created_at: Millis(0),
            updated_at: Millis(0),
            done_at: None,
            progress_log: vec![],
            postponements: vec![],
        }));
        let today = NaiveDate::from_ymd_opt(2014, 7, 2).unwrap_or_default();
        let about_it = |sent: Vec<Remind>| -> Vec<UnitId> {
            sent.into_iter()
                .filter(|r| r.about == About::Task(task))
                .map(|r| r.unit)
                .collect()
        };
        assert_eq!(
            about_it(due_reminders(&state, today, Millis(0))),
            vec![group]
        );
        let mut members = Vec::new();
        for name in ["海山街道办", "盐田街道办"] {
            let id = unit_id_for_name(name);
            state.put(Entity::Unit(Unit {
                id,
                name: name.into(),
                aliases: vec![],
                kind: shared::unit::UnitKind::Department,
                in_plan: false,
                groups: vec![group],
            }));
            members.push(id);
        }
        let mut reminded = about_it(due_reminders(&state, today, Millis(0)));
        reminded.sort();
        members.sort();
        assert_eq!(reminded, members);
        Ok(())
    }

    /// The days the job, run every day, reminds of a deadline that is never met.
    fn reminded_days(due: NaiveDate, from: NaiveDate, to: NaiveDate) -> Vec<i64> {
        let mut state = State::new();
        let mut out = Vec::new();
        let mut day = from;
        while day <= to {
            if reminds_today(&state, "task:t", due, day) {
                out.push((day - due).num_days());
                state.put(shared::entity::Entity::Reminder(
                    shared::reminder::Reminder {
                        id: daily_reminder_id("task:t", day),
                        item: shared::ids::ItemId::new_v7(),
                        unit: shared::ids::UnitId::new_v7(),
                        about: About::Item,
                        text: String::new(),
                        text_en: String::new(),
                        by_name: "系统".into(),
                        automatic: true,
                        at: Millis(0),
                    },
                ));
            }
            day += Days::days(1);
        }
        out
    }

    #[test]
    fn an_unmet_deadline_is_reminded_of_near_on_and_past_it_then_weekly() {
        let due = NaiveDate::from_ymd_opt(2014, 3, 31).unwrap_or_default();
        let (from, to) = (due - Days::days(10), due + Days::days(20));
        assert_eq!(reminded_days(due, from, to), vec![-3, 0, 1, 8, 15]);
        // A job that first runs after the deadline reminds at once, then weekly.
        assert_eq!(reminded_days(due, due + Days::days(4), to), vec![4, 11, 18]);
    }
}
