//! Supervision status (督查督办): red / amber / green for an item, from one rule set, as of a
//! chosen date. The workflow (submissions, difficulties) adds its own reasons here.

use crate::board::{Column, is_overdue};
use crate::entity::Task;
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
}

impl Reason {
    /// The light this reason gives.
    pub fn light(&self) -> Light {
        match self {
            Reason::OverdueTasks { .. } | Reason::BlockedTasks { .. } => Light::Red,
            Reason::DueSoon { .. } => Light::Amber,
        }
    }

    /// In Chinese.
    pub fn zh(&self) -> String {
        match self {
            Reason::OverdueTasks { count } => format!("{count}项任务逾期"),
            Reason::BlockedTasks { count } => format!("{count}项任务受阻"),
            Reason::DueSoon { count } => format!("{count}项任务{DUE_SOON_DAYS}天内到期"),
        }
    }
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
        }
    }

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2014, m, d).unwrap_or_default()
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
