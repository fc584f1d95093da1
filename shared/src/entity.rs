//! The entities that sync: what the server stores per space and the browser keeps in IndexedDB.

use crate::assessment::Adjustment;
use crate::attachment::{AttachedTo, Attachment};
use crate::board::Column;
use crate::bulletin::Bulletin;
use crate::calendar::Calendar;
use crate::difficulty::Difficulty;
use crate::evaluation::{Evaluation, Inspection};
use crate::ids::{
    AdjustmentId, AttachmentId, BulletinId, CommentId, DifficultyId, EvaluationId, InspectionId,
    InstructionId, ItemId, ReminderId, StepId, SubmissionId, TaskId, UnitId, UserId,
};
use crate::instruction::Instruction;
use crate::notice::ReadMarks;
use crate::plan::{Deadlines, Section};
use crate::reminder::Reminder;
use crate::settings::Settings;
use crate::submission::{Redraft, Submission};
use crate::unit::UnitKind;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds since the Unix epoch, as passed in by the client that made a change.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Millis(pub i64);

/// The plan document's own data (everything but its items and units, which are entities too).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanDoc {
    /// Title, e.g. 盐田区2014年重点改革计划.
    pub title: String,
    /// Issuing offices.
    pub issuers: Vec<String>,
    /// Date of issue.
    pub issue_date: Option<NaiveDate>,
    /// The year the plan is for.
    pub year: Option<i32>,
    /// Text before the first section.
    pub preamble: String,
    /// Sections, with their headings.
    pub sections: Vec<Section>,
    /// The rules for running the plan (section 三 of the seed).
    pub requirements: Vec<String>,
    /// Deadlines the document sets.
    pub deadlines: Deadlines,
}

/// A unit (单位): a department, a group of units, or one of the bodies outside the plan's list
/// (the reform office, the leaders, the People's Congress, the CPPCC) that still have accounts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Id.
    pub id: UnitId,
    /// Canonical (fullest) name.
    pub name: String,
    /// Other names the plan uses for it.
    pub aliases: Vec<String>,
    /// Department or group.
    pub kind: UnitKind,
    /// Whether the plan names it as a lead or cooperating unit.
    pub in_plan: bool,
    /// The group units it is a member of (沙头角街道办 of 各街道办): it works on the items they
    /// cooperate on (`permission::relation_of`). Set by the office (`membership`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<UnitId>,
}

/// A reform item (改革项目).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Id (derived from the number, so re-imports update in place).
    pub id: ItemId,
    /// Number in the plan.
    pub number: u32,
    /// Title: the text up to the first 。
    pub title: String,
    /// Full text.
    pub body: String,
    /// Lead units (牵头).
    pub lead_units: Vec<UnitId>,
    /// Cooperating units (配合).
    pub cooperating_units: Vec<UnitId>,
    /// Leaders named as leading it.
    pub lead_leaders: Vec<String>,
    /// Heading of the section it is in.
    pub section: Option<String>,
}

/// One checklist step (实施步骤) of a task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Id.
    pub id: StepId,
    /// What is to be done.
    pub text: String,
    /// Ticked.
    pub done: bool,
    /// Fractional-index order within the task.
    pub sort_key: String,
}

/// A task: one card on the boards, part of an item broken down by its lead unit (分解任务).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Id.
    pub id: TaskId,
    /// The item it belongs to.
    pub item: ItemId,
    /// Title.
    pub title: String,
    /// Notes (measures, details).
    pub notes: String,
    /// The unit that owns it: the item's lead unit or one of its cooperating units.
    pub owner: UnitId,
    /// Column on the board.
    pub column: Column,
    /// Fractional-index order within the column.
    pub sort_key: String,
    /// Due date.
    pub due: Option<NaiveDate>,
    /// Progress, 0–100.
    pub progress: u8,
    /// Checklist.
    pub steps: Vec<Step>,
    /// Why it is blocked, when it is.
    pub blocked: Option<String>,
    /// Archived tasks are off the board but can be restored.
    pub archived: bool,
    /// Who created it.
    pub created_by: UserId,
    /// When it was created (client time).
    pub created_at: Millis,
    /// When it last changed (client time).
    pub updated_at: Millis,
    /// When it was moved to 已完成 (None while not done), so the plan can be seen as it stood on
    /// any date.
    #[serde(default)]
    pub done_at: Option<Millis>,
    /// Progress as reported over time, (when, percent), oldest first, at most
    /// `MAX_PROGRESS_LOG`: what a past date's status and bulletin read.
    #[serde(default)]
    pub progress_log: Vec<(Millis, u8)>,
    /// Requests for a later due date and the office's answers, oldest first (延期申请).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub postponements: Vec<crate::postponement::Postponement>,
}

/// Most progress reports a task keeps; the oldest go first.
pub const MAX_PROGRESS_LOG: usize = 100;

impl Task {
    /// Its progress as it stood at `at` (0 before the first report). Cards from before the log
    /// existed have only their current progress.
    pub fn progress_at(&self, at: Millis) -> u8 {
        if self.progress_log.is_empty() {
            return self.progress;
        }
        self.progress_log
            .iter()
            .rev()
            .find(|(when, _)| *when <= at)
            .map_or(0, |(_, p)| *p)
    }

    /// Sets its progress at `at`, keeping the log.
    pub fn report_progress(&mut self, progress: u8, at: Millis) {
        self.progress = progress;
        self.progress_log.push((at, progress));
        let excess = self.progress_log.len().saturating_sub(MAX_PROGRESS_LOG);
        self.progress_log.drain(..excess);
    }
}

/// A comment on an item, or on one of its tasks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// Id.
    pub id: CommentId,
    /// The item it is on.
    pub item: ItemId,
    /// The task it is on, if any.
    pub task: Option<TaskId>,
    /// Author.
    pub author: UserId,
    /// Author's display name when written.
    pub author_name: String,
    /// Author's unit.
    pub unit: UnitId,
    /// Text (plain; never rendered as HTML).
    pub body: String,
    /// When written (client time).
    pub at: Millis,
}

crate::tagged::adjacently_tagged! {
    tag = "kind", content = "data";
    /// Any synced entity.
    #[derive(Clone, Debug, PartialEq)]
    pub enum Entity {
        /// The plan document (one per installation).
        Plan(PlanDoc),
        /// A unit.
        Unit(Unit),
        /// A reform item.
        Item(Item),
        /// A task.
        Task(Task),
        /// A comment.
        Comment(Comment),
        /// The submission calendar set by the office.
        Calendar(Calendar),
        /// A work plan or report.
        Submission(Submission),
        /// A difficulty (困难和问题).
        Difficulty(Difficulty),
        /// A leader's instruction (批示).
        Instruction(Instruction),
        /// An evaluation (评议).
        Evaluation(Evaluation),
        /// An inspection (视察).
        Inspection(Inspection),
        /// A reminder (催办).
        Reminder(Reminder),
        /// A bulletin (通报).
        Bulletin(Bulletin),
        /// An attached file (佐证材料).
        Attachment(Attachment),
        /// An assessment adjustment.
        Adjustment(Adjustment),
        /// A user's read notifications.
        ReadMarks(ReadMarks),
        /// A unit's new text of a returned submission, not yet submitted again.
        Redraft(Redraft),
        /// The office's settings for the plan.
        Settings(Settings),
    }
}

/// The key an entity is stored under: `kind/id`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntityKey(pub String);

impl EntityKey {
    /// `kind/<uuid>`, written without the formatting machinery: keys are built for every lookup
    /// in a `State`, thousands of times as a board renders.
    fn of(kind: &str, id: uuid::Uuid) -> Self {
        let mut key = String::with_capacity(kind.len() + 1 + uuid::fmt::Hyphenated::LENGTH);
        key.push_str(kind);
        key.push('/');
        key.push_str(
            id.hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer()),
        );
        Self(key)
    }

    /// The plan document's key.
    pub fn plan() -> Self {
        Self("plan/main".into())
    }
    /// A unit's key.
    pub fn unit(id: UnitId) -> Self {
        Self::of("unit", id.0)
    }
    /// An item's key.
    pub fn item(id: ItemId) -> Self {
        Self::of("item", id.0)
    }
    /// A task's key.
    pub fn task(id: TaskId) -> Self {
        Self::of("task", id.0)
    }
    /// A comment's key.
    pub fn comment(id: CommentId) -> Self {
        Self::of("comment", id.0)
    }
    /// The calendar's key.
    pub fn calendar() -> Self {
        Self("calendar/main".into())
    }
    /// The settings' key.
    pub fn settings() -> Self {
        Self("settings/main".into())
    }
    /// A submission's key.
    pub fn submission(id: SubmissionId) -> Self {
        Self::of("submission", id.0)
    }
    /// A difficulty's key.
    pub fn difficulty(id: DifficultyId) -> Self {
        Self::of("difficulty", id.0)
    }
    /// An instruction's key.
    pub fn instruction(id: InstructionId) -> Self {
        Self::of("instruction", id.0)
    }
    /// An evaluation's key.
    pub fn evaluation(id: EvaluationId) -> Self {
        Self::of("evaluation", id.0)
    }
    /// An inspection's key.
    pub fn inspection(id: InspectionId) -> Self {
        Self::of("inspection", id.0)
    }
    /// A reminder's key.
    pub fn reminder(id: ReminderId) -> Self {
        Self::of("reminder", id.0)
    }
    /// A bulletin's key.
    pub fn bulletin(id: BulletinId) -> Self {
        Self::of("bulletin", id.0)
    }
    /// An attachment's key.
    pub fn attachment(id: AttachmentId) -> Self {
        Self::of("attachment", id.0)
    }
    /// An adjustment's key.
    pub fn adjustment(id: AdjustmentId) -> Self {
        Self::of("adjustment", id.0)
    }

    /// The key of a submission's redraft (one per submission).
    pub fn redraft(id: SubmissionId) -> Self {
        Self::of("redraft", id.0)
    }
    /// A user's read marks' key.
    pub fn read_marks(user: UserId) -> Self {
        Self::of("reads", user.0)
    }
}

impl fmt::Display for EntityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A unit of versioning: each reform item is one, and plan-level data is one more. Unrelated
/// items never serialize each other's writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Space {
    /// The plan, its units and items.
    Plan,
    /// One item's tasks and comments.
    Item(ItemId),
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Space::Plan => f.write_str("plan"),
            Space::Item(id) => write!(f, "item:{id}"),
        }
    }
}

impl std::str::FromStr for Space {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        if s == "plan" {
            return Ok(Space::Plan);
        }
        let id = s.strip_prefix("item:").ok_or(())?;
        id.parse().map(Space::Item).map_err(|_| ())
    }
}

/// Who may see an entity. Drafts are seen only by their unit and the office.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Everyone with an account.
    Everyone,
    /// The office and this unit only.
    Unit(UnitId),
    /// Those who oversee the plan (the office, the leaders, the People's Congress and the
    /// CPPCC) and this unit: what they weigh it by, and other units not.
    Oversight(UnitId),
}

impl Entity {
    /// Its storage key.
    pub fn key(&self) -> EntityKey {
        match self {
            Entity::Plan(_) => EntityKey::plan(),
            Entity::Unit(u) => EntityKey::unit(u.id),
            Entity::Item(i) => EntityKey::item(i.id),
            Entity::Task(t) => EntityKey::task(t.id),
            Entity::Comment(c) => EntityKey::comment(c.id),
            Entity::Calendar(_) => EntityKey::calendar(),
            Entity::Settings(_) => EntityKey::settings(),
            Entity::Submission(x) => EntityKey::submission(x.id),
            Entity::Difficulty(x) => EntityKey::difficulty(x.id),
            Entity::Instruction(x) => EntityKey::instruction(x.id),
            Entity::Evaluation(x) => EntityKey::evaluation(x.id),
            Entity::Inspection(x) => EntityKey::inspection(x.id),
            Entity::Reminder(x) => EntityKey::reminder(x.id),
            Entity::Bulletin(x) => EntityKey::bulletin(x.id),
            Entity::Attachment(x) => EntityKey::attachment(x.id),
            Entity::Adjustment(x) => EntityKey::adjustment(x.id),
            Entity::Redraft(x) => EntityKey::redraft(x.id),
            Entity::ReadMarks(x) => EntityKey::read_marks(x.user),
        }
    }

    /// The kind, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Entity::Plan(_) => "plan",
            Entity::Unit(_) => "unit",
            Entity::Item(_) => "item",
            Entity::Task(_) => "task",
            Entity::Comment(_) => "comment",
            Entity::Calendar(_) => "calendar",
            Entity::Settings(_) => "settings",
            Entity::Submission(_) => "submission",
            Entity::Difficulty(_) => "difficulty",
            Entity::Instruction(_) => "instruction",
            Entity::Evaluation(_) => "evaluation",
            Entity::Inspection(_) => "inspection",
            Entity::Reminder(_) => "reminder",
            Entity::Bulletin(_) => "bulletin",
            Entity::Attachment(_) => "attachment",
            Entity::Adjustment(_) => "adjustment",
            Entity::ReadMarks(_) => "reads",
            Entity::Redraft(_) => "redraft",
        }
    }

    /// The space whose version changes when it does.
    pub fn space(&self) -> Space {
        match self {
            Entity::Plan(_)
            | Entity::Unit(_)
            | Entity::Item(_)
            | Entity::Calendar(_)
            | Entity::Settings(_)
            | Entity::Inspection(_)
            | Entity::Bulletin(_)
            | Entity::Adjustment(_)
            | Entity::ReadMarks(_) => Space::Plan,
            Entity::Task(t) => Space::Item(t.item),
            Entity::Comment(c) => Space::Item(c.item),
            Entity::Submission(x) => Space::Item(x.item),
            Entity::Redraft(x) => Space::Item(x.item),
            Entity::Difficulty(x) => Space::Item(x.item),
            Entity::Instruction(x) => Space::Item(x.item),
            Entity::Evaluation(x) => Space::Item(x.item),
            Entity::Reminder(x) => Space::Item(x.item),
            Entity::Attachment(x) => Space::Item(x.item),
        }
    }

    /// Who may see it.
    pub fn visibility(&self) -> Visibility {
        match self {
            // A draft never submitted is its unit's own business.
            Entity::Submission(s) if s.versions.is_empty() => Visibility::Unit(s.unit),
            // So is the new text of one returned for changes, until it is submitted again.
            Entity::Redraft(r) => Visibility::Unit(r.unit),
            Entity::Evaluation(e) if !e.published => Visibility::Unit(e.unit),
            Entity::Reminder(r) => Visibility::Unit(r.unit),
            // Evidence for a work plan or report goes to the office with it, as paper would;
            // evidence on a card is as public as the card.
            Entity::Attachment(a) if matches!(a.to, AttachedTo::Submission(_)) => {
                Visibility::Unit(a.for_unit.unwrap_or(a.unit))
            }
            Entity::Bulletin(b) => b.visibility(),
            Entity::Adjustment(a) => a.visibility(),
            Entity::ReadMarks(m) => m.visibility(),
            _ => Visibility::Everyone,
        }
    }

    /// Entities the permission check needs alongside this one (a task's item, say), so the
    /// server can load them before `apply`.
    pub fn context_keys(&self) -> Vec<EntityKey> {
        match self {
            Entity::Plan(_) | Entity::Unit(_) | Entity::Item(_) => vec![],
            Entity::Task(t) => vec![EntityKey::item(t.item)],
            Entity::Comment(c) => {
                let mut keys = vec![EntityKey::item(c.item)];
                keys.extend(c.task.map(EntityKey::task));
                keys
            }
            Entity::Calendar(_)
            | Entity::Settings(_)
            | Entity::Inspection(_)
            | Entity::Bulletin(_)
            | Entity::Adjustment(_)
            | Entity::ReadMarks(_) => vec![],
            // Its unit, so a refusal names the drafting unit (`submission::check_drafter`).
            Entity::Submission(x) => vec![EntityKey::item(x.item), EntityKey::unit(x.unit)],
            Entity::Redraft(x) => vec![EntityKey::item(x.item), EntityKey::submission(x.id)],
            Entity::Difficulty(x) => vec![EntityKey::item(x.item)],
            Entity::Instruction(x) => vec![EntityKey::item(x.item)],
            Entity::Evaluation(x) => vec![EntityKey::item(x.item)],
            Entity::Reminder(x) => vec![EntityKey::item(x.item)],
            Entity::Attachment(x) => {
                let target = match x.to {
                    AttachedTo::Task(t) => EntityKey::task(t),
                    AttachedTo::Submission(s) => EntityKey::submission(s),
                };
                vec![EntityKey::item(x.item), target]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EntityKey;
    use crate::ids::{TaskId, UserId};

    #[test]
    fn keys_are_the_kind_and_the_hyphenated_lowercase_id() {
        let task = TaskId::new_v7();
        assert_eq!(EntityKey::task(task).0, format!("task/{task}"));
        let user = UserId::new_v7();
        assert_eq!(EntityKey::read_marks(user).0, format!("reads/{user}"));
    }
}
