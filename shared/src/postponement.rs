//! Postponement (延期申请). Once a task's due date has passed, its date and owner are the
//! office's to change, not the unit's, and a missed task (not done on time) is the office's to
//! archive: otherwise a unit could re-date a missed task, hand it to another unit or archive it,
//! and the assessment (勤政考核) would never count the miss. (A task done on time is locked too:
//! marked done on the day, re-dated, then reopened, it would escape the same way.) Nor may a
//! unit set a date already past, a miss it could never undo. The unit that works on the task
//! asks for a later date with a reason; the office approves (the due date moves, and the task
//! is judged against the new one) or declines.

use crate::actor::{Actor, Role};
use crate::entity::{Entity, EntityKey, Millis, Task};
use crate::ids::{TaskId, UnitId};
use crate::message::Msg;
use crate::mutation::{Change, Rejection, find_task};
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

/// Whether `task`'s due date had passed at `at`.
pub fn past_due(task: &Task, at: Millis) -> bool {
    task.due.is_some_and(|due| local_date(at) > due)
}

/// Whether `task`'s due date had passed at `at` without the task done by it: a miss the
/// assessment counts (`assessment::assess`).
pub fn missed(task: &Task, at: Millis) -> bool {
    let done_on_time = crate::calendar::task_done_at(task)
        .zip(task.due)
        .is_some_and(|(done, due)| local_date(done) <= due);
    past_due(task, at) && !done_on_time
}

/// The request waiting for the office's answer, if there is one.
pub fn pending(task: &Task) -> Option<&Postponement> {
    task.postponements.last().filter(|p| p.decision.is_none())
}

/// Whether the waiting request may still be approved. Approving sets the date asked for; asked
/// against a due date that has changed since (the office's own change, or the unit's while the
/// date had not yet passed), perhaps to a later one than asked, that would undo the change.
/// Such a request no longer says what to do: it can only be declined, and the unit may ask
/// again from the new date. (Changed to exactly the date asked for, approving moves nothing and
/// says what happened.)
pub fn approvable(task: &Task) -> Result<(), Rejection> {
    let Some(request) = pending(task) else {
        return Ok(());
    };
    if request.from == task.due || task.due == Some(request.due) {
        return Ok(());
    }
    Err(Rejection::Invalid(match task.due {
        Some(due) => crate::msg!(
            "申请提出后截止日期已改为{due}，不能再按此申请改期：请拒绝，单位可按新日期另行申请",
            "The due date was changed to {due} after this request, so it can no longer be approved: decline it, and the unit may ask again",
            due = due
        ),
        None => Msg::new(
            "申请提出后截止日期已取消，不能再按此申请改期：请拒绝，单位可另行申请",
            "The due date was removed after this request, so it can no longer be approved: decline it, and the unit may ask again",
        ),
    }))
}

/// A change to a task that could hide a miss from the assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarded {
    /// A new due date (or none).
    Redate,
    /// Another owner.
    Reassign,
    /// Off the board.
    Archive,
}

/// The rule for changes that could hide a miss: past its due date only the office re-dates or
/// reassigns a task, and only the office archives a missed one. `Mutation::authorize` applies
/// it, so the screens, asking the same, offer what the server accepts.
pub fn check(task: &Task, actor: &Actor, at: Millis, change: Guarded) -> Result<(), Rejection> {
    let locked = match change {
        Guarded::Redate | Guarded::Reassign => past_due(task, at),
        Guarded::Archive => missed(task, at),
    };
    if actor.role != Role::Office && locked {
        Err(Rejection::Denied(Msg::new(
            "截止日期已过：截止日期、承担单位和归档由综合办调整，请提出延期申请",
            "The due date has passed: only the reform office can now change the date or the owner, or archive the task. Ask for a postponement instead",
        )))
    } else {
        Ok(())
    }
}

/// The earliest due date `actor` may set at `at`: for a unit, that day (a date already past would
/// be a miss at once, and one only the office could undo); the office may set any, to record
/// the plan as it stood.
pub fn earliest_due(actor: &Actor, at: Millis) -> Option<NaiveDate> {
    (actor.role != Role::Office).then(|| local_date(at))
}

/// Refuses a due date before `earliest_due`.
pub fn check_new_due(due: Option<NaiveDate>, actor: &Actor, at: Millis) -> Result<(), Rejection> {
    match (due, earliest_due(actor, at)) {
        (Some(d), Some(earliest)) if d < earliest => Err(Rejection::Invalid(Msg::new(
            "截止日期不能早于今天",
            "The due date cannot be before today",
        ))),
        _ => Ok(()),
    }
}

/// Whether `task` can take a request now: not archived or done, with a due date, none waiting,
/// fewer than `MAX_REQUESTS` made. One place, for `apply` and for the screens.
pub fn askable(task: &Task) -> Result<(), Rejection> {
    if task.archived {
        return Err(Rejection::Archived);
    }
    if task.due.is_none() {
        return Err(Rejection::Invalid(Msg::new(
            "该任务没有截止日期，无需申请延期",
            "The task has no due date: no postponement is needed",
        )));
    }
    if crate::calendar::task_done_at(task).is_some() {
        return Err(Rejection::Invalid(Msg::new(
            "任务已完成，无需申请延期",
            "The task is done: no postponement is needed",
        )));
    }
    if pending(task).is_some() {
        return Err(Rejection::Invalid(Msg::new(
            "已有一项延期申请等待综合办审核",
            "A postponement request is already waiting for the reform office",
        )));
    }
    if task.postponements.len() >= MAX_REQUESTS {
        return Err(Rejection::Invalid(crate::msg!(
            "每个任务最多申请{MAX_REQUESTS}次延期",
            "A task can have at most {MAX_REQUESTS} postponement requests"
        )));
    }
    Ok(())
}

/// The task's requests as they stood at `end`, one line each, for the ledger (改革台账): "申请延至
/// 2014年6月30日（已同意）".
pub fn ledger_text(task: &Task, end: Millis) -> String {
    task.postponements
        .iter()
        .filter(|p| p.at <= end)
        .map(|p| {
            let state = match p.decision.as_ref().filter(|d| d.at <= end) {
                None => "待审核",
                Some(d) if d.approved => "已同意",
                Some(_) => "未同意",
            };
            format!("申请延至{}（{state}）", crate::board::zh_date(p.due))
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// Stores `task` after `f` changed it, at `at`; archived tasks take no request or answer.
fn edit(
    state: &mut State,
    id: TaskId,
    at: Millis,
    f: impl FnOnce(&mut Task) -> Result<(), Rejection>,
) -> Result<Vec<Change>, Rejection> {
    let (task, _) = find_task(state, id)?;
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
        if actor.role == Role::Office {
            return Err(Rejection::Denied(Msg::new(
                "综合办可直接调整截止日期，无需申请延期",
                "The reform office can change the due date itself: no postponement is needed",
            )));
        }
        let (task, item) = find_task(state, self.task)?;
        permission::check(actor, item, Action::WorkOnTask(task))?;
        Ok(())
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let reason = text::POSTPONEMENT_REASON.parse(&self.reason)?;
        edit(state, self.task, self.at, |t| {
            askable(t)?;
            let from = t.due;
            if from.is_some_and(|from| self.due <= from) {
                return Err(Rejection::Invalid(Msg::new(
                    "申请的日期应晚于原截止日期",
                    "The new date must be after the current due date",
                )));
            }
            if self.due < local_date(self.at) {
                return Err(Rejection::Invalid(Msg::new(
                    "申请的日期不能早于今天",
                    "The new date cannot be before today",
                )));
            }
            t.postponements.push(Postponement {
                due: self.due,
                from,
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
        let (_, item) = find_task(state, self.task)?;
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
            if self.approve {
                approvable(t)?;
            }
            let Some(request) = t.postponements.last_mut().filter(|p| p.decision.is_none()) else {
                return Err(Rejection::Invalid(Msg::new(
                    "没有等待审核的延期申请",
                    "No postponement request is waiting for a decision",
                )));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::Column;
    use crate::ids::{ItemId, UserId};
    use crate::op::end_of_day;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2014, m, d).unwrap_or_default()
    }

    /// Noon (Beijing) of a day of 2014.
    fn noon(m: u32, d: u32) -> Millis {
        Millis(end_of_day(day(m, d)).0 - 12 * 3_600_000)
    }

    fn task(due: Option<NaiveDate>, done: Option<Millis>) -> Task {
        Task {
            id: TaskId::new_v7(),
            item: ItemId::new_v7(),
            title: "摸底".into(),
            notes: String::new(),
            owner: UnitId::new_v7(),
            column: if done.is_some() {
                Column::Done
            } else {
                Column::InProgress
            },
            sort_key: "80".into(),
            due,
            progress: 0,
            steps: vec![],
            blocked: None,
            archived: false,
            created_by: UserId::new_v7(),
            created_at: noon(3, 1),
            updated_at: noon(3, 1),
            done_at: done,
            progress_log: vec![],
            postponements: vec![],
        }
    }

    fn actor(role: Role) -> Actor {
        Actor {
            user: UserId::new_v7(),
            name: "甲".into(),
            unit: UnitId::new_v7(),
            role,
            groups: vec![],
        }
    }

    #[test]
    fn past_its_date_a_task_is_the_offices_to_redate_reassign_and_if_missed_archive() {
        let (unit, office) = (actor(Role::Unit), actor(Role::Office));
        let open = task(Some(day(3, 31)), None);
        // On the due date itself the unit still plans; from the next day it may not.
        assert!(!past_due(&open, noon(3, 31)));
        assert!(past_due(&open, noon(4, 1)) && missed(&open, noon(4, 1)));
        for change in [Guarded::Redate, Guarded::Reassign, Guarded::Archive] {
            assert!(check(&open, &unit, noon(3, 31), change).is_ok());
            assert!(matches!(
                check(&open, &unit, noon(4, 1), change),
                Err(Rejection::Denied(_))
            ));
            assert!(check(&open, &office, noon(4, 1), change).is_ok());
        }
        // Done on time: no miss to hide by archiving, but its date and owner stay put (else:
        // re-date, reopen, and the miss is gone).
        let on_time = task(Some(day(3, 31)), Some(noon(3, 31)));
        assert!(!missed(&on_time, noon(4, 1)));
        assert!(check(&on_time, &unit, noon(4, 1), Guarded::Archive).is_ok());
        assert!(check(&on_time, &unit, noon(4, 1), Guarded::Redate).is_err());
        // Done late is a miss.
        let late = task(Some(day(3, 31)), Some(noon(4, 1)));
        assert!(missed(&late, noon(4, 2)));
        // No date, nothing to miss.
        assert!(!missed(&task(None, None), noon(12, 31)));
    }

    #[test]
    fn the_ledger_tells_the_requests_as_they_stood() {
        let mut t = task(Some(day(3, 31)), None);
        t.postponements.push(Postponement {
            due: day(6, 30),
            from: Some(day(3, 31)),
            reason: "调研".into(),
            unit: t.owner,
            by_name: "甲".into(),
            at: noon(4, 2),
            decision: Some(Decision {
                approved: true,
                note: String::new(),
                by_name: "综合办".into(),
                at: noon(4, 5),
            }),
        });
        assert_eq!(ledger_text(&t, end_of_day(day(4, 1))), "");
        assert_eq!(
            ledger_text(&t, end_of_day(day(4, 3))),
            "申请延至2014年6月30日（待审核）"
        );
        assert_eq!(
            ledger_text(&t, end_of_day(day(4, 5))),
            "申请延至2014年6月30日（已同意）"
        );
    }

    #[test]
    fn a_request_overtaken_by_the_offices_own_date_can_only_be_declined() {
        let (unit, office) = (actor(Role::Unit), actor(Role::Office));
        let t = task(Some(day(3, 31)), None);
        let id = t.id;
        let mut state = State::new();
        state.put(Entity::Item(crate::entity::Item {
            id: t.item,
            number: 1,
            title: "第1项。".into(),
            body: String::new(),
            lead_units: vec![t.owner],
            cooperating_units: vec![],
            lead_leaders: vec![],
            section: None,
        }));
        state.put(Entity::Task(t));
        let asked = Request {
            task: id,
            due: day(5, 31),
            reason: "调研".into(),
            at: noon(3, 20),
        };
        asked.apply(&mut state, &unit).expect("asked");
        // Meanwhile the office gives the task until the end of June itself.
        let mut redated = state.task(id).cloned().expect("task");
        redated.due = Some(day(6, 30));
        state.put(Entity::Task(redated));
        let decide = |approve| Decide {
            task: id,
            approve,
            note: "已按新日期推进".into(),
            at: noon(3, 22),
        };
        let Err(Rejection::Invalid(why)) = decide(true).apply(&mut state, &office) else {
            panic!("approved a request the office's own date had overtaken");
        };
        assert!(
            why.zh().contains("2014年6月30日") && why.en().contains("30 Jun 2014"),
            "{why:?}"
        );
        assert_eq!(state.task(id).and_then(|t| t.due), Some(day(6, 30)));
        // Removed, it says so.
        let mut undated = state.task(id).cloned().expect("task");
        undated.due = None;
        let Err(Rejection::Invalid(why)) = approvable(&undated) else {
            panic!("approvable with the date removed");
        };
        assert!(why.zh().contains("已取消"), "{why:?}");
        // Changed to the very date asked for, or back to the one asked against: approvable.
        for due in [day(5, 31), day(3, 31)] {
            let mut t = state.task(id).cloned().expect("task");
            t.due = Some(due);
            assert!(approvable(&t).is_ok(), "{due}");
        }
        // Declining it still works, and leaves the office's date.
        decide(false).apply(&mut state, &office).expect("declined");
        let t = state.task(id).expect("task");
        assert_eq!(t.due, Some(day(6, 30)));
        assert!(pending(t).is_none());
    }

    #[test]
    fn a_unit_sets_no_date_already_past() {
        let (unit, office) = (actor(Role::Unit), actor(Role::Office));
        assert!(check_new_due(Some(day(4, 1)), &unit, noon(4, 1)).is_ok());
        assert!(check_new_due(None, &unit, noon(4, 1)).is_ok());
        assert!(matches!(
            check_new_due(Some(day(3, 31)), &unit, noon(4, 1)),
            Err(Rejection::Invalid(_))
        ));
        assert!(check_new_due(Some(day(3, 31)), &office, noon(4, 1)).is_ok());
    }
}
