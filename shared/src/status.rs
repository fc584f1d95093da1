//! Supervision status (督查督办): red / amber / green for an item, from one rule set, as of a
//! chosen date. The workflow (submissions, difficulties) adds its own reasons here.

use crate::board::{Column, is_overdue};
use crate::calendar::{calendar, plan_start, required_kinds, task_done_at};
use crate::difficulty::STALE_DAYS;
use crate::entity::{Millis, Task};
use crate::ids::ItemId;
use crate::message::counted;
use crate::op::end_of_day;
use crate::state::State;
use crate::submission::{SubmissionKind, SubmissionState};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Days ahead within which a due date makes an item amber.
pub const DUE_SOON_DAYS: i64 = 7;

/// Traffic-light status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    /// On track.
    Green,
    /// Needs attention soon.
    Amber,
    /// Late or stuck.
    Red,
}

impl Light {
    /// Name in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Light::Green => "正常",
            Light::Amber => "预警",
            Light::Red => "滞后",
        }
    }
}

/// Why an item has its light.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// Tasks past their due date and not done.
    OverdueTasks {
        /// How many.
        count: usize,
    },
    /// Tasks flagged as blocked.
    BlockedTasks {
        /// How many.
        count: usize,
    },
    /// Tasks due within `DUE_SOON_DAYS`.
    DueSoon {
        /// How many.
        count: usize,
    },
    /// Submissions past their due date and not submitted.
    OverdueSubmissions {
        /// Which.
        kinds: Vec<SubmissionKind>,
    },
    /// Submissions the office returned for changes.
    ReturnedSubmissions {
        /// Which.
        kinds: Vec<SubmissionKind>,
    },
    /// Difficulties open longer than `difficulty::STALE_DAYS`.
    StaleDifficulties {
        /// How many.
        count: usize,
    },
    /// Submissions due within `DUE_SOON_DAYS`, not yet submitted.
    SubmissionsDueSoon {
        /// Which.
        kinds: Vec<SubmissionKind>,
    },
    /// Progress lags the time elapsed by more than `BEHIND_MARGIN` points.
    BehindSchedule {
        /// Progress expected by now, 0–100.
        expected: u8,
        /// Progress reported, 0–100.
        actual: u8,
    },
}

impl Reason {
    /// The light this reason gives.
    pub fn light(&self) -> Light {
        match self {
            Reason::OverdueTasks { .. }
            | Reason::BlockedTasks { .. }
            | Reason::OverdueSubmissions { .. }
            | Reason::ReturnedSubmissions { .. }
            | Reason::StaleDifficulties { .. } => Light::Red,
            Reason::DueSoon { .. }
            | Reason::SubmissionsDueSoon { .. }
            | Reason::BehindSchedule { .. } => Light::Amber,
        }
    }

    /// In Chinese.
    pub fn zh(&self) -> String {
        match self {
            Reason::OverdueTasks { count } => format!("{count}项任务逾期"),
            Reason::BlockedTasks { count } => format!("{count}项任务受阻"),
            Reason::DueSoon { count } => format!("{count}项任务{DUE_SOON_DAYS}天内到期"),
            Reason::OverdueSubmissions { kinds } => format!("{}逾期未报送", kinds_zh(kinds)),
            Reason::ReturnedSubmissions { kinds } => format!("{}被退回修改", kinds_zh(kinds)),
            Reason::StaleDifficulties { count } => {
                format!("{count}个困难和问题超过{STALE_DAYS}天未解决")
            }
            Reason::SubmissionsDueSoon { kinds } => {
                format!("{}{DUE_SOON_DAYS}天内到期", kinds_zh(kinds))
            }
            Reason::BehindSchedule { expected, actual } => {
                format!("进度偏慢（应达{expected}%，实际{actual}%）")
            }
        }
    }

    /// In English.
    pub fn en(&self) -> String {
        match self {
            Reason::OverdueTasks { count } => format!("{} overdue", counted(*count, "task")),
            Reason::BlockedTasks { count } => format!("{} blocked", counted(*count, "task")),
            Reason::DueSoon { count } => {
                format!(
                    "{} due within {DUE_SOON_DAYS} days",
                    counted(*count, "task")
                )
            }
            Reason::OverdueSubmissions { kinds } => format!("{} overdue", kinds_en(kinds)),
            Reason::ReturnedSubmissions { kinds } => format!("{} returned", kinds_en(kinds)),
            Reason::StaleDifficulties { count } => format!(
                "{} open over {STALE_DAYS} days",
                match count {
                    1 => "1 difficulty".to_string(),
                    n => format!("{n} difficulties"),
                }
            ),
            Reason::SubmissionsDueSoon { kinds } => {
                format!("{} due within {DUE_SOON_DAYS} days", kinds_en(kinds))
            }
            Reason::BehindSchedule { expected, actual } => {
                format!("behind schedule (expected {expected}%, reported {actual}%)")
            }
        }
    }
}

fn kinds_zh(kinds: &[SubmissionKind]) -> String {
    kinds.iter().map(|k| k.zh()).collect::<Vec<_>>().join("、")
}

/// Inside a sentence, so in lower case ("work plan, annual report overdue"): the kinds' names
/// as a sentence reads them.
fn kinds_en(kinds: &[SubmissionKind]) -> String {
    kinds
        .iter()
        .map(|k| k.in_sentence().en().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Points by which reported progress may trail the time elapsed before an item is amber.
pub const BEHIND_MARGIN: u8 = 20;

/// The rules, as the office and the leaders read them next to the lights.
pub const RULES_ZH: &[&str] = &[
    "红（滞后）：有逾期未完成的任务；有受阻的任务；工作方案或报告逾期未报送；报送材料被退回修改；困难和问题超过30天未解决。",
    "黄（预警）：有任务或报送材料在7天内到期；进度比时间进度落后20个百分点以上（时间进度＝从计划开始到任务截止日已过去的比例）。",
    "绿（正常）：以上情况都没有。",
    "所有状态按“查看日期”计算：只计当时已存在的任务，任务在当时是否完成、材料在当时是否报送，都按当时的记录判断。",
];

/// The rules in English.
pub const RULES_EN: &[&str] = &[
    "Red (late): a task overdue; a task blocked; a work plan or report overdue; a submission returned for changes; a difficulty open over 30 days.",
    "Amber (attention): a task or submission due within 7 days; progress more than 20 points behind the time elapsed (from the plan's start to each task's due date).",
    "Green (on track): none of the above.",
    "Everything is computed as of the chosen date: only tasks that existed then count, and whether a task was done or a submission in is judged by the records of that day.",
];

/// `t` as it stood at `end`: None when it was created later; "done" only if done by then, with
/// the progress reported by then and the due date it had then (before a later postponement).
pub fn task_as_of(t: &Task, end: Millis) -> Option<Task> {
    if t.created_at > end {
        return None;
    }
    let mut t = t.clone();
    if t.column == Column::Done && task_done_at(&t).is_some_and(|d| d > end) {
        t.column = Column::InProgress;
    }
    t.progress = t.progress_at(end);
    // A postponement approved later had not moved the date yet.
    if let Some(p) = t.postponements.iter().find(|p| {
        p.decision
            .as_ref()
            .is_some_and(|d| d.approved && d.at > end)
    }) {
        t.due = p.from;
    }
    Some(t)
}

/// The full status of `item` as it stood at the end of `as_of`: its tasks, submissions and
/// difficulties as recorded by then.
pub fn status_of_item(state: &State, item: ItemId, as_of: NaiveDate) -> ItemStatus {
    let end = end_of_day(as_of);
    let tasks: Vec<Task> = state
        .tasks()
        .filter(|t| t.item == item)
        .filter_map(|t| task_as_of(t, end))
        .collect();
    let mut status = item_status(&tasks, as_of);
    let mut overdue_subs = Vec::new();
    let mut returned = Vec::new();
    let mut soon_subs = Vec::new();
    if let Some(cal) = calendar(state) {
        for kind in required_kinds(state) {
            let due = cal.due(kind);
            let sub = crate::calendar::submission(state, item, kind);
            match sub.and_then(|s| s.state_at(end)) {
                None if due < as_of => overdue_subs.push(kind),
                None if (due - as_of).num_days() <= DUE_SOON_DAYS => soon_subs.push(kind),
                Some(SubmissionState::Returned) => returned.push(kind),
                _ => {}
            }
        }
    }
    let stale = state
        .difficulties()
        .filter(|d| d.item == item && d.open_at(end) && d.age_days(as_of) > STALE_DAYS)
        .count();
    let live: Vec<&Task> = tasks.iter().filter(|t| !t.archived).collect();
    let behind = plan_start(state).and_then(|start| behind_schedule(&live, start, as_of));
    if !overdue_subs.is_empty() {
        status.reasons.push(Reason::OverdueSubmissions {
            kinds: overdue_subs,
        });
    }
    if !returned.is_empty() {
        status
            .reasons
            .push(Reason::ReturnedSubmissions { kinds: returned });
    }
    if stale > 0 {
        status
            .reasons
            .push(Reason::StaleDifficulties { count: stale });
    }
    if !soon_subs.is_empty() {
        status
            .reasons
            .push(Reason::SubmissionsDueSoon { kinds: soon_subs });
    }
    status.reasons.extend(behind);
    status.light = status
        .reasons
        .iter()
        .map(Reason::light)
        .max()
        .unwrap_or(Light::Green);
    status
}

/// Whether the dated tasks' progress trails the time elapsed: each task is expected to go
/// linearly from 0 at the plan's start to 100 on its due date.
pub fn behind_schedule(tasks: &[&Task], start: NaiveDate, as_of: NaiveDate) -> Option<Reason> {
    let dated: Vec<(&Task, NaiveDate)> = tasks
        .iter()
        .filter_map(|t| t.due.map(|d| (*t, d)))
        .collect();
    if dated.is_empty() {
        return None;
    }
    let mut expected_sum = 0i64;
    let mut actual_sum = 0i64;
    for (t, due) in &dated {
        let span = (*due - start).num_days().max(1);
        let elapsed = (as_of - start).num_days().clamp(0, span);
        expected_sum += elapsed * 100 / span;
        actual_sum += if t.column == Column::Done {
            100
        } else {
            i64::from(t.progress)
        };
    }
    let n = i64::try_from(dated.len()).unwrap_or(i64::MAX);
    let expected = u8::try_from(expected_sum / n).unwrap_or(100);
    let actual = u8::try_from(actual_sum / n).unwrap_or(100);
    (expected > actual.saturating_add(BEHIND_MARGIN))
        .then_some(Reason::BehindSchedule { expected, actual })
}

/// An item's status as of a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemStatus {
    /// The light: the worst of the reasons, green when there are none.
    pub light: Light,
    /// Every reason that applies.
    pub reasons: Vec<Reason>,
    /// Average progress of the item's live tasks, 0–100 (0 when it has none).
    pub progress: u8,
    /// Tasks overdue.
    pub overdue: usize,
}

/// The status of an item whose live (not archived) tasks are `tasks`, as of `today`.
/// Only the task rules; `status_of_item` adds the workflow's.
pub fn item_status<'a>(tasks: impl IntoIterator<Item = &'a Task>, today: NaiveDate) -> ItemStatus {
    let tasks: Vec<&Task> = tasks.into_iter().filter(|t| !t.archived).collect();
    let overdue = tasks
        .iter()
        .filter(|t| is_overdue(t.due, t.column, today))
        .count();
    let blocked = tasks
        .iter()
        .filter(|t| t.blocked.is_some() && t.column != Column::Done)
        .count();
    let due_soon = tasks
        .iter()
        .filter(|t| t.column != Column::Done)
        .filter_map(|t| t.due)
        .filter(|d| *d >= today && (*d - today).num_days() <= DUE_SOON_DAYS)
        .count();
    let mut reasons = Vec::new();
    if overdue > 0 {
        reasons.push(Reason::OverdueTasks { count: overdue });
    }
    if blocked > 0 {
        reasons.push(Reason::BlockedTasks { count: blocked });
    }
    if due_soon > 0 {
        reasons.push(Reason::DueSoon { count: due_soon });
    }
    let light = reasons
        .iter()
        .map(Reason::light)
        .max()
        .unwrap_or(Light::Green);
    ItemStatus {
        light,
        reasons,
        progress: progress(&tasks),
        overdue,
    }
}

/// Average progress of `tasks`, 0 when there are none.
pub fn progress(tasks: &[&Task]) -> u8 {
    if tasks.is_empty() {
        return 0;
    }
    let sum: usize = tasks.iter().map(|t| usize::from(t.progress)).sum();
    u8::try_from(sum / tasks.len()).unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::Millis;
    use crate::ids::{ItemId, TaskId, UnitId, UserId};

    fn task(due: Option<NaiveDate>, column: Column, progress: u8) -> Task {
        Task {
            id: TaskId::new_v7(),
            item: ItemId(uuid::Uuid::nil()),
            title: "t".into(),
            notes: String::new(),
            owner: UnitId(uuid::Uuid::nil()),
            column,
            sort_key: "80".into(),
            due,
            progress,
            steps: vec![],
            blocked: None,
            archived: false,
            created_by: UserId(uuid::Uuid::nil()),
            created_at: Millis(0),
            updated_at: Millis(0),
            done_at: None,
            progress_log: vec![],
            postponements: vec![],
        }
    }

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2014, m, d).unwrap_or_default()
    }

    #[test]
    fn reasons_read_as_english() {
        assert_eq!(Reason::OverdueTasks { count: 1 }.en(), "1 task overdue");
        assert_eq!(Reason::OverdueTasks { count: 2 }.en(), "2 tasks overdue");
        assert_eq!(
            Reason::StaleDifficulties { count: 1 }.en(),
            "1 difficulty open over 30 days"
        );
        assert_eq!(
            Reason::OverdueSubmissions {
                kinds: vec![SubmissionKind::WorkPlan, SubmissionKind::Annual]
            }
            .en(),
            "work plan, annual report overdue"
        );
    }

    #[test]
    fn boundaries() {
        let today = day(4, 1);
        // Due yesterday and not done: red. Due today: not overdue, but due soon.
        assert_eq!(
            item_status([&task(Some(day(3, 31)), Column::InProgress, 0)], today).light,
            Light::Red
        );
        assert_eq!(
            item_status([&task(Some(day(4, 1)), Column::InProgress, 0)], today).light,
            Light::Amber
        );
        // Exactly seven days ahead is amber; eight is green.
        assert_eq!(
            item_status([&task(Some(day(4, 8)), Column::NotStarted, 0)], today).light,
            Light::Amber
        );
        assert_eq!(
            item_status([&task(Some(day(4, 9)), Column::NotStarted, 0)], today).light,
            Light::Green
        );
        // Done late is not overdue.
        assert_eq!(
            item_status([&task(Some(day(3, 1)), Column::Done, 100)], today).light,
            Light::Green
        );
        let mut blocked = task(None, Column::InProgress, 10);
        blocked.blocked = Some("缺少资金".into());
        let s = item_status([&blocked], today);
        assert_eq!((s.light, s.reasons.len()), (Light::Red, 1));
        let mut archived = task(Some(day(1, 1)), Column::NotStarted, 0);
        archived.archived = true;
        assert_eq!(item_status([&archived], today).light, Light::Green);
        let a = task(None, Column::Done, 100);
        let b = task(None, Column::InProgress, 51);
        assert_eq!(item_status([&a, &b], today).progress, 75);
    }
}
