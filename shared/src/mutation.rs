//! Every change to board state is a `Mutation`, applied by the one function `apply`: optimistically
//! in the browser, authoritatively on the server inside its transaction.
//!
//! Rules that keep old outboxes replayable: variants are never renamed or removed once shipped;
//! ids, sort keys and timestamps are arguments, never computed here.

use crate::actor::Actor;
use crate::board::{Column, sort_key};
use crate::entity::{Comment, Entity, EntityKey, Item, Millis, Space, Step, Task};
use crate::ids::{CommentId, ItemId, StepId, TaskId, UnitId};
use crate::message::Msg;
use crate::op::{Op, SpaceOf, put};
use crate::permission::{self, Action, Denied};
use crate::state::State;
use crate::text::{self, TextError};
use crate::{
    assessment, attachment, bulletin, calendar, difficulty, evaluation, instruction, membership,
    notice, postponement, reminder, settings, submission,
};
use chrono::NaiveDate;
use std::borrow::Cow;

/// Most steps one task's checklist may have.
pub const MAX_STEPS: usize = 100;

crate::tagged::adjacently_tagged! {
    tag = "type", content = "args";
    /// A change to board state.
    #[derive(Clone, Debug, PartialEq)]
    pub enum Mutation {
        /// Break the item into a new task (分解任务).
        CreateTask {
            /// New task's id.
            id: TaskId,
            /// Its item.
            item: ItemId,
            /// Title.
            title: String,
            /// Owner unit: the lead unit or a cooperating unit.
            owner: UnitId,
            /// Starting column.
            column: Column,
            /// Position in the column.
            sort_key: String,
            /// Due date.
            due: Option<NaiveDate>,
            /// Client time.
            at: Millis,
        },
        /// Retitle a task.
        SetTaskTitle {
            /// Task.
            task: TaskId,
            /// New title.
            title: String,
            /// Client time.
            at: Millis,
        },
        /// Replace a task's notes.
        SetTaskNotes {
            /// Task.
            task: TaskId,
            /// New notes.
            notes: String,
            /// Client time.
            at: Millis,
        },
        /// Set or clear the due date.
        SetTaskDue {
            /// Task.
            task: TaskId,
            /// New due date.
            due: Option<NaiveDate>,
            /// Client time.
            at: Millis,
        },
        /// Report progress.
        SetTaskProgress {
            /// Task.
            task: TaskId,
            /// 0–100.
            progress: u8,
            /// Client time.
            at: Millis,
        },
        /// Give the task to another unit of the item.
        AssignTask {
            /// Task.
            task: TaskId,
            /// New owner.
            owner: UnitId,
            /// Client time.
            at: Millis,
        },
        /// Move a card: column and position are one change.
        MoveTask {
            /// Task.
            task: TaskId,
            /// Target column.
            column: Column,
            /// Position in it.
            sort_key: String,
            /// Client time.
            at: Millis,
        },
        /// Flag as blocked with a reason, or clear the flag (`reason: None`).
        SetTaskBlocked {
            /// Task.
            task: TaskId,
            /// Why it is blocked.
            reason: Option<String>,
            /// Client time.
            at: Millis,
        },
        /// Take a task off the board (restorable).
        ArchiveTask {
            /// Task.
            task: TaskId,
            /// Client time.
            at: Millis,
        },
        /// Put an archived task back.
        RestoreTask {
            /// Task.
            task: TaskId,
            /// Client time.
            at: Millis,
        },
        /// Add a checklist step.
        AddStep {
            /// Task.
            task: TaskId,
            /// New step's id.
            step: StepId,
            /// Text.
            text: String,
            /// Position.
            sort_key: String,
            /// Client time.
            at: Millis,
        },
        /// Tick or untick a step.
        TickStep {
            /// Task.
            task: TaskId,
            /// Step.
            step: StepId,
            /// Ticked.
            done: bool,
            /// Client time.
            at: Millis,
        },
        /// Reword a step.
        RenameStep {
            /// Task.
            task: TaskId,
            /// Step.
            step: StepId,
            /// New text.
            text: String,
            /// Client time.
            at: Millis,
        },
        /// Reorder a step.
        MoveStep {
            /// Task.
            task: TaskId,
            /// Step.
            step: StepId,
            /// New position.
            sort_key: String,
            /// Client time.
            at: Millis,
        },
        /// Remove a step (the audit trail keeps it).
        RemoveStep {
            /// Task.
            task: TaskId,
            /// Step.
            step: StepId,
            /// Client time.
            at: Millis,
        },
        /// Comment on an item or one of its tasks.
        AddComment {
            /// New comment's id.
            id: CommentId,
            /// Item.
            item: ItemId,
            /// Task, if on a task.
            task: Option<TaskId>,
            /// Text.
            body: String,
            /// Client time.
            at: Millis,
        },
        /// The office sets the submission calendar.
        SetCalendar(calendar::SetCalendar),
        /// Save the draft of a work plan or report.
        SaveSubmission(submission::SaveDraft),
        /// Submit it to the office.
        SubmitSubmission(submission::Submit),
        /// The office accepts or returns it.
        ReviewSubmission(submission::ReviewSubmission),
        /// Raise a difficulty.
        RaiseDifficulty(difficulty::Raise),
        /// The office coordinates a difficulty.
        CoordinateDifficulty(difficulty::Coordinate),
        /// The office records a difficulty's resolution.
        ResolveDifficulty(difficulty::Resolve),
        /// A leader writes an instruction.
        WriteInstruction(instruction::Write),
        /// The lead unit acknowledges or answers an instruction.
        RespondInstruction(instruction::Respond),
        /// The People's Congress or CPPCC writes an evaluation.
        RecordEvaluation(evaluation::Record),
        /// It publishes it.
        PublishEvaluation(evaluation::Publish),
        /// It records an inspection.
        RecordInspection(evaluation::RecordInspection),
        /// The office reminds a unit (催办).
        SendReminder(reminder::Send),
        /// The office writes a bulletin.
        SaveBulletin(bulletin::Save),
        /// It publishes it.
        PublishBulletin(bulletin::Publish),
        /// A unit marks a bulletin read.
        ReadBulletin(bulletin::MarkRead),
        /// Attach an uploaded file.
        AttachFile(attachment::Attach),
        /// Hide an attachment.
        RemoveAttachment(attachment::Remove),
        /// The office adjusts a unit's assessment.
        AdjustAssessment(assessment::Adjust),
        /// A user marks notifications read.
        MarkNoticesRead(notice::MarkRead),
        /// The office adds a member unit to group units.
        AddUnit(membership::AddUnit),
        /// The office puts a unit into a group unit or takes it out.
        SetMembership(membership::SetMembership),
        /// A unit asks the office for a later due date (延期申请).
        RequestPostponement(postponement::Request),
        /// The office approves or declines it.
        DecidePostponement(postponement::Decide),
        /// The office changes the plan's settings.
        SetSettings(settings::Set),
    }
}

/// Matches every variant, with no catch-all, so a new one must say which kind it is: a task's
/// change with its time bound to `$at`, or a wrapped workflow change (`Op`) bound to `$x`. One
/// list for `Mutation::op`, `at` and `at_mut`.
macro_rules! by_kind {
    ($m:expr, $at:ident => $task:expr, $x:ident => $op:expr) => {
        match $m {
            Mutation::CreateTask { at: $at, .. }
            | Mutation::SetTaskTitle { at: $at, .. }
            | Mutation::SetTaskNotes { at: $at, .. }
            | Mutation::SetTaskDue { at: $at, .. }
            | Mutation::SetTaskProgress { at: $at, .. }
            | Mutation::AssignTask { at: $at, .. }
            | Mutation::MoveTask { at: $at, .. }
            | Mutation::SetTaskBlocked { at: $at, .. }
            | Mutation::ArchiveTask { at: $at, .. }
            | Mutation::RestoreTask { at: $at, .. }
            | Mutation::AddStep { at: $at, .. }
            | Mutation::TickStep { at: $at, .. }
            | Mutation::RenameStep { at: $at, .. }
            | Mutation::MoveStep { at: $at, .. }
            | Mutation::RemoveStep { at: $at, .. }
            | Mutation::AddComment { at: $at, .. } => $task,
            Mutation::SetCalendar($x) => $op,
            Mutation::SaveSubmission($x) => $op,
            Mutation::SubmitSubmission($x) => $op,
            Mutation::ReviewSubmission($x) => $op,
            Mutation::RaiseDifficulty($x) => $op,
            Mutation::CoordinateDifficulty($x) => $op,
            Mutation::ResolveDifficulty($x) => $op,
            Mutation::WriteInstruction($x) => $op,
            Mutation::RespondInstruction($x) => $op,
            Mutation::RecordEvaluation($x) => $op,
            Mutation::PublishEvaluation($x) => $op,
            Mutation::RecordInspection($x) => $op,
            Mutation::SendReminder($x) => $op,
            Mutation::SaveBulletin($x) => $op,
            Mutation::PublishBulletin($x) => $op,
            Mutation::ReadBulletin($x) => $op,
            Mutation::AttachFile($x) => $op,
            Mutation::RemoveAttachment($x) => $op,
            Mutation::AdjustAssessment($x) => $op,
            Mutation::MarkNoticesRead($x) => $op,
            Mutation::AddUnit($x) => $op,
            Mutation::SetMembership($x) => $op,
            Mutation::RequestPostponement($x) => $op,
            Mutation::DecidePostponement($x) => $op,
            Mutation::SetSettings($x) => $op,
        }
    };
}

crate::tagged::adjacently_tagged! {
    tag = "code", content = "message";
    /// Why a mutation was permanently refused. The client drops it and shows the message, in
    /// its language ([`Rejection::message`]); `Display` is the Chinese, what the server records.
    #[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
    pub enum Rejection {
        /// The user may not do this.
        Denied(Msg),
        /// The target does not exist (or is not visible): what it is, a noun.
        NotFound(Msg),
        /// The target is archived.
        Archived,
        /// The arguments are not acceptable.
        Invalid(Msg),
    }
}

impl Rejection {
    /// What the user is told, in both languages.
    pub fn message(&self) -> Msg {
        match self {
            Rejection::Denied(why) => {
                crate::msg!("无权操作：{why}", "Not allowed: {why}", why = why)
            }
            Rejection::NotFound(what) => crate::message::not_found(what),
            Rejection::Archived => Msg::new("该任务已归档", "The task is archived"),
            Rejection::Invalid(why) => why.clone(),
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message().zh())
    }
}

impl From<Denied> for Rejection {
    fn from(d: Denied) -> Self {
        Rejection::Denied(d.0)
    }
}

impl From<TextError> for Rejection {
    fn from(e: TextError) -> Self {
        Rejection::Invalid(e.message())
    }
}

/// One entity a mutation changed, before and after (for the audit trail).
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// What it was (None when created).
    pub before: Option<Entity>,
    /// What it is now.
    pub after: Entity,
}

impl Mutation {
    /// Stable name of the variant, for the audit trail.
    pub fn name(&self) -> &'static str {
        match self {
            Mutation::CreateTask { .. } => "create_task",
            Mutation::SetTaskTitle { .. } => "set_task_title",
            Mutation::SetTaskNotes { .. } => "set_task_notes",
            Mutation::SetTaskDue { .. } => "set_task_due",
            Mutation::SetTaskProgress { .. } => "set_task_progress",
            Mutation::AssignTask { .. } => "assign_task",
            Mutation::MoveTask { .. } => "move_task",
            Mutation::SetTaskBlocked { .. } => "set_task_blocked",
            Mutation::ArchiveTask { .. } => "archive_task",
            Mutation::RestoreTask { .. } => "restore_task",
            Mutation::AddStep { .. } => "add_step",
            Mutation::TickStep { .. } => "tick_step",
            Mutation::RenameStep { .. } => "rename_step",
            Mutation::MoveStep { .. } => "move_step",
            Mutation::RemoveStep { .. } => "remove_step",
            Mutation::AddComment { .. } => "add_comment",
            Mutation::SetCalendar(_) => "set_calendar",
            Mutation::SaveSubmission(_) => "save_submission",
            Mutation::SubmitSubmission(_) => "submit_submission",
            Mutation::ReviewSubmission(_) => "review_submission",
            Mutation::RaiseDifficulty(_) => "raise_difficulty",
            Mutation::CoordinateDifficulty(_) => "coordinate_difficulty",
            Mutation::ResolveDifficulty(_) => "resolve_difficulty",
            Mutation::WriteInstruction(_) => "write_instruction",
            Mutation::RespondInstruction(_) => "respond_instruction",
            Mutation::RecordEvaluation(_) => "record_evaluation",
            Mutation::PublishEvaluation(_) => "publish_evaluation",
            Mutation::RecordInspection(_) => "record_inspection",
            Mutation::SendReminder(_) => "send_reminder",
            Mutation::SaveBulletin(_) => "save_bulletin",
            Mutation::PublishBulletin(_) => "publish_bulletin",
            Mutation::ReadBulletin(_) => "read_bulletin",
            Mutation::AttachFile(_) => "attach_file",
            Mutation::RemoveAttachment(_) => "remove_attachment",
            Mutation::AdjustAssessment(_) => "adjust_assessment",
            Mutation::MarkNoticesRead(_) => "mark_notices_read",
            Mutation::AddUnit(_) => "add_unit",
            Mutation::SetMembership(_) => "set_membership",
            Mutation::RequestPostponement(_) => "request_postponement",
            Mutation::DecidePostponement(_) => "decide_postponement",
            Mutation::SetSettings(_) => "set_settings",
        }
    }

    /// The workflow change inside, for the variants that wrap one.
    pub fn op(&self) -> Option<&dyn Op> {
        by_kind!(self, _at => None, x => Some(x as &dyn Op))
    }

    /// The client's time of the change (every variant has one).
    pub fn at(&self) -> Millis {
        by_kind!(self, at => *at, x => x.at())
    }

    fn at_mut(&mut self) -> &mut Millis {
        by_kind!(self, at => at, x => x.at_mut())
    }

    /// This change with its time moved into `earliest..=latest`, borrowed when it is inside
    /// already. The time is the client's claim; the server bounds it (`sync::push`), so that a
    /// client can't date a change before its last contact or after the server's now.
    pub fn with_time_within(&self, earliest: Millis, latest: Millis) -> Cow<'_, Mutation> {
        let at = self.at();
        let bounded = at.max(earliest).min(latest);
        if bounded == at {
            return Cow::Borrowed(self);
        }
        let mut m = self.clone();
        *m.at_mut() = bounded;
        Cow::Owned(m)
    }

    /// Where its writes are versioned.
    pub fn space(&self) -> SpaceOf {
        if let Some(op) = self.op() {
            return op.space();
        }
        match self {
            Mutation::CreateTask { item, .. } | Mutation::AddComment { item, .. } => {
                SpaceOf::Space(Space::Item(*item))
            }
            other => match other.target_task() {
                Some(task) => SpaceOf::Entity(EntityKey::task(task)),
                None => SpaceOf::Space(Space::Plan),
            },
        }
    }

    /// The task this mutation edits, if it edits one.
    pub fn target_task(&self) -> Option<TaskId> {
        match self {
            Mutation::SetTaskTitle { task, .. }
            | Mutation::SetTaskNotes { task, .. }
            | Mutation::SetTaskDue { task, .. }
            | Mutation::SetTaskProgress { task, .. }
            | Mutation::AssignTask { task, .. }
            | Mutation::MoveTask { task, .. }
            | Mutation::SetTaskBlocked { task, .. }
            | Mutation::ArchiveTask { task, .. }
            | Mutation::RestoreTask { task, .. }
            | Mutation::AddStep { task, .. }
            | Mutation::TickStep { task, .. }
            | Mutation::RenameStep { task, .. }
            | Mutation::MoveStep { task, .. }
            | Mutation::RemoveStep { task, .. } => Some(*task),
            _ => None,
        }
    }

    /// Keys of the entities `apply` reads directly. The server loads these, then the
    /// `context_keys` of whatever it found, before calling `apply`.
    pub fn keys(&self) -> Vec<EntityKey> {
        if let Some(op) = self.op() {
            return op.keys();
        }
        match self {
            // The owner's unit, for the groups it is a member of (`permission::may_own`).
            Mutation::CreateTask {
                id, item, owner, ..
            } => vec![
                EntityKey::task(*id),
                EntityKey::item(*item),
                EntityKey::unit(*owner),
            ],
            Mutation::AssignTask { task, owner, .. } => {
                vec![EntityKey::task(*task), EntityKey::unit(*owner)]
            }
            Mutation::AddComment { id, item, task, .. } => {
                // The settings: whether units with no part in the item may comment
                // (`settings::check_comment`).
                let mut keys = vec![
                    EntityKey::comment(*id),
                    EntityKey::item(*item),
                    EntityKey::settings(),
                ];
                keys.extend(task.map(EntityKey::task));
                keys
            }
            other => other
                .target_task()
                .map(EntityKey::task)
                .into_iter()
                .collect(),
        }
    }

    /// Whether `actor` may make this change, given what `state` holds. Used by the browser to
    /// decide what to offer; `apply` calls it too, so the server always checks.
    pub fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        self.authorize_as(state, &actor.in_state(state))
    }

    /// The task this changes or adds to (a comment, evidence, a difficulty, a postponement),
    /// which must not be archived: an archived card is kept as it was, and restoring it is all
    /// it takes. The one place that rule lives, so the card's controls follow it too.
    fn task_kept_as_it_was(&self, state: &State) -> Option<TaskId> {
        match self {
            Mutation::RestoreTask { .. } => None,
            Mutation::AddComment { task, .. } => *task,
            Mutation::RaiseDifficulty(r) => r.task,
            Mutation::AttachFile(a) => a.to.task(),
            Mutation::RemoveAttachment(r) => match state.get(&EntityKey::attachment(r.id)) {
                Some(Entity::Attachment(a)) => a.to.task(),
                _ => None,
            },
            Mutation::RequestPostponement(r) => Some(r.task),
            Mutation::DecidePostponement(d) => Some(d.task),
            other => other.target_task(),
        }
    }

    /// `authorize` for an actor whose memberships are already the state's (`Actor::in_state`).
    fn authorize_as(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        if self
            .task_kept_as_it_was(state)
            .and_then(|t| state.task(t))
            .is_some_and(|t| t.archived)
        {
            return Err(Rejection::Archived);
        }
        if let Some(op) = self.op() {
            return op.authorize(state, actor);
        }
        match self {
            Mutation::CreateTask { item, .. } => {
                permission::check(actor, state.find::<Item>(*item)?, Action::ManageTasks)?;
            }
            Mutation::AddComment { item, .. } => {
                settings::check_comment(state, actor, state.find::<Item>(*item)?)?;
            }
            Mutation::SetTaskTitle { task, .. }
            | Mutation::SetTaskNotes { task, .. }
            | Mutation::RestoreTask { task, .. } => {
                let (_, item) = find_task(state, *task)?;
                permission::check(actor, item, Action::ManageTasks)?;
            }
            Mutation::SetTaskDue { task, at, .. }
            | Mutation::AssignTask { task, at, .. }
            | Mutation::ArchiveTask { task, at } => {
                let (task, item) = find_task(state, *task)?;
                permission::check(actor, item, Action::ManageTasks)?;
                let change = match self {
                    Mutation::SetTaskDue { .. } => postponement::Guarded::Redate,
                    Mutation::AssignTask { .. } => postponement::Guarded::Reassign,
                    _ => postponement::Guarded::Archive,
                };
                postponement::check(task, actor, *at, change)?;
            }
            Mutation::SetTaskProgress { task, .. }
            | Mutation::MoveTask { task, .. }
            | Mutation::SetTaskBlocked { task, .. }
            | Mutation::AddStep { task, .. }
            | Mutation::TickStep { task, .. }
            | Mutation::RenameStep { task, .. }
            | Mutation::MoveStep { task, .. }
            | Mutation::RemoveStep { task, .. } => {
                let (task, item) = find_task(state, *task)?;
                permission::check(actor, item, Action::WorkOnTask(task))?;
            }
            _ => return Err(unknown_change()),
        }
        Ok(())
    }
}

/// The task `id` and its item.
pub(crate) fn find_task(state: &State, id: TaskId) -> Result<(&Task, &Item), Rejection> {
    let task = state.find::<Task>(id)?;
    Ok((task, state.find::<Item>(task.item)?))
}

/// A change this code does not handle here (every variant is handled somewhere: a bug).
fn unknown_change() -> Rejection {
    Rejection::Invalid(Msg::new("未知操作", "Unknown change"))
}

fn check_sort_key(key: &str) -> Result<(), Rejection> {
    if sort_key::is_valid(key) {
        Ok(())
    } else {
        Err(Rejection::Invalid(Msg::new(
            "排序键无效",
            "The position in the list is not valid",
        )))
    }
}

fn check_owner(owner: UnitId, groups: &[UnitId], item: &Item) -> Result<(), Rejection> {
    if permission::may_own(owner, groups, item) {
        Ok(())
    } else {
        Err(Rejection::Invalid(Msg::new(
            "任务只能指派给该项目的牵头或配合单位",
            "A task can only be given to the item's lead or cooperating units",
        )))
    }
}

/// Applies `m` by `actor` to `state`: checks permission, validates, and writes the result.
/// Returns what changed, or why nothing did. Deterministic: the same inputs give the same output
/// on the server and in every browser.
pub fn apply(state: &mut State, actor: &Actor, m: &Mutation) -> Result<Vec<Change>, Rejection> {
    let actor = &actor.in_state(state);
    m.authorize_as(state, actor)?;
    if let Some(op) = m.op() {
        return op.apply(state, actor);
    }
    match m {
        Mutation::CreateTask {
            id,
            item,
            title,
            owner,
            column,
            sort_key,
            due,
            at,
        } => {
            if state.task(*id).is_some() {
                return Err(Rejection::Invalid(Msg::new(
                    "任务编号重复",
                    "This task id is already taken",
                )));
            }
            check_owner(*owner, state.groups_of(*owner), state.find::<Item>(*item)?)?;
            check_sort_key(sort_key)?;
            postponement::check_new_due(*due, actor, *at)?;
            let task = Task {
                id: *id,
                item: *item,
                title: text::TASK_TITLE.parse(title)?,
                notes: String::new(),
                owner: *owner,
                column: *column,
                sort_key: sort_key.clone(),
                due: *due,
                progress: if *column == Column::Done { 100 } else { 0 },
                steps: vec![],
                blocked: None,
                archived: false,
                created_by: actor.user,
                created_at: *at,
                updated_at: *at,
                done_at: (*column == Column::Done).then_some(*at),
                progress_log: if *column == Column::Done {
                    vec![(*at, 100)]
                } else {
                    vec![]
                },
                postponements: vec![],
            };
            Ok(vec![put(state, Entity::Task(task))])
        }
        Mutation::AddComment {
            id,
            item,
            task,
            body,
            at,
        } => {
            if state.get(&EntityKey::comment(*id)).is_some() {
                return Err(Rejection::Invalid(Msg::new(
                    "意见编号重复",
                    "This comment id is already taken",
                )));
            }
            if let Some(task) = task {
                let (t, _) = find_task(state, *task)?;
                if t.item != *item {
                    return Err(crate::op::task_not_of_item());
                }
            }
            let comment = Comment {
                id: *id,
                item: *item,
                task: *task,
                author: actor.user,
                author_name: actor.name.clone(),
                unit: actor.unit,
                body: text::COMMENT.parse(body)?,
                at: *at,
            };
            Ok(vec![put(state, Entity::Comment(comment))])
        }
        Mutation::SetTaskDue { task, due, at } => {
            postponement::check_new_due(*due, actor, *at)?;
            edit_task(state, *task, *at, |t| {
                t.due = *due;
                Ok(())
            })
        }
        Mutation::RestoreTask { task, at } => edit_task(state, *task, *at, |t| {
            t.archived = false;
            Ok(())
        }),
        _ => {
            let Some(task) = m.target_task() else {
                return Err(unknown_change());
            };
            let at = m.at();
            edit_task(state, task, at, |t| edit(t, m))
        }
    }
}

/// Runs `f` on a copy of the task and stores the result (an archived task got no further:
/// `Mutation::task_kept_as_it_was`).
fn edit_task(
    state: &mut State,
    id: TaskId,
    at: Millis,
    f: impl FnOnce(&mut Task) -> Result<(), Rejection>,
) -> Result<Vec<Change>, Rejection> {
    let (task, item) = find_task(state, id)?;
    let old_owner = task.owner;
    let item = item.clone();
    let mut task = task.clone();
    f(&mut task)?;
    if task.owner != old_owner {
        check_owner(task.owner, state.groups_of(task.owner), &item)?;
    }
    task.updated_at = at;
    Ok(vec![put(state, Entity::Task(task))])
}

fn find_step(task: &mut Task, id: StepId) -> Result<&mut Step, Rejection> {
    task.steps
        .iter_mut()
        .find(|s| s.id == id)
        .ok_or(Rejection::NotFound(Msg::new("步骤", "step")))
}

fn sort_steps(task: &mut Task) {
    crate::sorting::sort_by(&mut task.steps, |a, b| {
        a.sort_key.cmp(&b.sort_key).then(a.id.cmp(&b.id))
    });
}

/// The field edits on a task, each validated.
fn edit(t: &mut Task, m: &Mutation) -> Result<(), Rejection> {
    match m {
        Mutation::SetTaskTitle { title, .. } => t.title = text::TASK_TITLE.parse(title)?,
        Mutation::SetTaskNotes { notes, .. } => t.notes = text::TASK_NOTES.parse(notes)?,
        Mutation::SetTaskProgress { progress, .. } => {
            if *progress > 100 {
                return Err(Rejection::Invalid(Msg::new(
                    "进度应在0到100之间",
                    "Progress must be from 0 to 100",
                )));
            }
            // Done is done: a done card at 60% read as done on the board and as unfinished in
            // every progress figure. It goes back out of 已完成 to carry on.
            if t.column == Column::Done && *progress < 100 {
                return Err(Rejection::Invalid(Msg::new(
                    "已完成的任务进度为100%；如需继续推进，请先将其移出“已完成”",
                    "A done task stays at 100%: to carry on with it, move it out of Done first",
                )));
            }
            t.report_progress(*progress, m.at());
        }
        Mutation::AssignTask { owner, .. } => t.owner = *owner,
        Mutation::MoveTask {
            column, sort_key, ..
        } => {
            check_sort_key(sort_key)?;
            if *column == Column::Done && t.column != Column::Done {
                t.done_at = Some(m.at());
            } else if *column != Column::Done {
                t.done_at = None;
            }
            t.column = *column;
            t.sort_key = sort_key.clone();
            if *column == Column::Done && t.progress != 100 {
                t.report_progress(100, m.at());
            }
        }
        Mutation::SetTaskBlocked { reason, .. } => {
            t.blocked = reason
                .as_deref()
                .map(|r| text::BLOCKED_REASON.parse(r))
                .transpose()?;
        }
        Mutation::ArchiveTask { .. } => t.archived = true,
        Mutation::AddStep {
            step,
            text,
            sort_key,
            ..
        } => {
            if t.steps.len() >= MAX_STEPS {
                return Err(Rejection::Invalid(crate::msg!(
                    "每个任务最多{MAX_STEPS}个步骤",
                    "A task can have at most {MAX_STEPS} steps"
                )));
            }
            if t.steps.iter().any(|s| s.id == *step) {
                return Err(Rejection::Invalid(Msg::new(
                    "步骤编号重复",
                    "This step id is already taken",
                )));
            }
            check_sort_key(sort_key)?;
            t.steps.push(Step {
                id: *step,
                text: text::STEP_TEXT.parse(text)?,
                done: false,
                sort_key: sort_key.clone(),
            });
            sort_steps(t);
        }
        Mutation::TickStep { step, done, .. } => find_step(t, *step)?.done = *done,
        Mutation::RenameStep { step, text, .. } => {
            let text = text::STEP_TEXT.parse(text)?;
            find_step(t, *step)?.text = text;
        }
        Mutation::MoveStep { step, sort_key, .. } => {
            check_sort_key(sort_key)?;
            find_step(t, *step)?.sort_key = sort_key.clone();
            sort_steps(t);
        }
        Mutation::RemoveStep { step, .. } => {
            find_step(t, *step)?;
            t.steps.retain(|s| s.id != *step);
        }
        _ => {
            return Err(unknown_change());
        }
    }
    Ok(())
}
