//! Postponement (延期申请). Once a task's due date has passed without the task done on time, the
//! date is the office's to move, not the unit's: otherwise a unit could re-date a missed task,
//! hand it to another unit or archive it, and the assessment (勤政考核) would never count the
//! miss. The unit that works on the task asks for a later date with a reason; the office
//! approves (the due date moves, and the task is judged against the new one) or declines.

use crate::actor::{Actor, Role};
use crate::entity::{Entity, EntityKey, Item, Millis, Task};
use crate::ids::{TaskId, UnitId};
use crate::mutation::{Change, Rejection};
use crate::op::{Op, SpaceOf, local_date, put};
use crate::permission::{self, Action};
use crate::state::State;
use crate::text;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Most requests one task keeps; a further one is refused (the office can move the date itself).
pub const MAX_REQUESTS: usize = 20;

/// A request for a later due date, kept on its task, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Postponement {
    /// The date asked for.
    pub due: NaiveDate,
    /// The due date when it was asked.
    pub from: Option<NaiveDate>,
    /// Why.
    pub reason: String,
    /// The unit that asked.
    pub unit: UnitId,
    /// Who asked.
    pub by_name: String,
    /// When.
    pub at: Millis,
    /// The office's answer, once given.
    pub decision: Option<Decision>,
}

/// The office's answer to a request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Approved: the due date moved to the date asked for.
    pub approved: bool,
    /// The office's note (required when declining).
    pub note: String,
    /// Who decided.
    pub by_name: String,
    /// When.
    pub at: Millis,
}

/// Whether `task`'s due date had passed at `at` without the task done by it: a miss the
/// assessment counts (`assessment::assess`), so one the unit may no longer undo.
pub fn missed(task: &Task, at: Millis) -> bool {
    let Some(due) = task.due else {
        return false;
    };
    let done_on_time = crate::calendar::task_done_at(task).is_some_and(|d| local_date(d) <= due);
    local_date(at) > due && !done_on_time
}

/// The request waiting for the office's answer, if there is one.
pub fn pending(task: &Task) -> Option<&Postponement> {
    task.postponements.last().filter(|p| p.decision.is_none())
}

/// The rule for changes that would hide a miss (a new due date, another owner, archiving): on a
/// missed task only the office makes them. One place, for `apply` and for the screens.
pub fn check_not_missed(task: &Task, actor: &Actor, at: Millis) -> Result<(), Rejection> {
    if actor.role != Role::Office && missed(task, at) {
        Err(Rejection::Denied(
            "任务已逾期：截止日期、承办单位和归档由综合办调整，请提出延期申请".into(),
        ))
    } else {
        Ok(())
    }
}

fn find(state: &State, id: TaskId) -> Result<(&Task, &Item), Rejection> {
    let task = state.find::<Task>(id)?;
    Ok((task, state.find::<Item>(task.item)?))
}

/// Stores `task` after `f` changed it, at `at`; archived tasks take no request or answer.
fn edit(
    state: &mut State,
    id: TaskId,
    at: Millis,
    f: impl FnOnce(&mut Task) -> Result<(), Rejection>,
) -> Result<Vec<Change>, Rejection> {
    let (task, _) = find(state, id)?;
    if task.archived {
        return Err(Rejection::Archived);
    }
    let mut task = task.clone();
    f(&mut task)?;
    task.updated_at = at;
    Ok(vec![put(state, Entity::Task(task))])
}

/// A unit that works on the task asks for a later due date.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The task.
    pub task: TaskId,
    /// The date asked for.
    pub due: NaiveDate,
    /// Why.
    pub reason: String,
    /// Client time.
    pub at: Millis,
}

impl Op for Request {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::task(self.task)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Entity(EntityKey::task(self.task))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        let (task, item) = find(state, self.task)?;
        permission::check(actor, item, Action::WorkOnTask(task))?;
        Ok(())
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let reason = text::POSTPONEMENT_REASON.parse(&self.reason)?;
        edit(state, self.task, self.at, |t| {
            let Some(from) = t.due else {
                return Err(Rejection::Invalid(
                    "该任务没有截止日期，无需申请延期".into(),
                ));
            };
            if crate::calendar::task_done_at(t).is_some() {
                return Err(Rejection::Invalid("任务已完成，无需申请延期".into()));
            }
            if self.due <= from {
                return Err(Rejection::Invalid("申请的日期应晚于原截止日期".into()));
            }
            if pending(t).is_some() {
                return Err(Rejection::Invalid("已有一项延期申请等待综合办审核".into()));
            }
            if t.postponements.len() >= MAX_REQUESTS {
                return Err(Rejection::Invalid(format!(
                    "每个任务最多申请{MAX_REQUESTS}次延期"
                )));
            }
            t.postponements.push(Postponement {
                due: self.due,
                from: Some(from),
                reason,
                unit: actor.unit,
                by_name: actor.name.clone(),
                at: self.at,
                decision: None,
            });
            Ok(())
        })
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

/// The office approves or declines the waiting request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decide {
    /// The task.
    pub task: TaskId,
    /// Approve (the due date moves) or decline.
    pub approve: bool,
    /// The office's note; required when declining.
    pub note: String,
    /// Client time.
    pub at: Millis,
}

impl Op for Decide {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::task(self.task)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Entity(EntityKey::task(self.task))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        let (_, item) = find(state, self.task)?;
        permission::check(actor, item, Action::Review)?;
        Ok(())
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let field = if self.approve {
            text::DECISION_NOTE
        } else {
            text::DECLINE_NOTE
        };
        let note = field.parse(&self.note)?;
        edit(state, self.task, self.at, |t| {
            let Some(request) = t.postponements.last_mut().filter(|p| p.decision.is_none()) else {
                return Err(Rejection::Invalid("没有等待审核的延期申请".into()));
            };
            request.decision = Some(Decision {
                approved: self.approve,
                note,
                by_name: actor.name.clone(),
                at: self.at,
            });
            if self.approve {
                t.due = Some(request.due);
            }
            Ok(())
        })
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}
