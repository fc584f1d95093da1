//! Who may do what: the one permission matrix. The server calls it for every mutation and every
//! request; the browser calls the same functions only to decide which controls to show.

use crate::actor::{Actor, Role};
use crate::entity::{Item, Task};
use crate::ids::UnitId;
use crate::message::Msg;

/// How a unit stands to an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// 牵头单位
    Lead,
    /// 配合单位
    Cooperating,
    /// Neither.
    Other,
}

/// How a unit that is a member of `groups` stands to `item`: as itself, or else as a
/// cooperating unit when one of its groups leads or cooperates (a street office on an item of
/// 各街道办). A group's lead is not passed on: its work plan and reports are one unit's to make.
pub fn relation_of(unit: UnitId, groups: &[UnitId], item: &Item) -> Relation {
    match relation(unit, item) {
        Relation::Other if groups.iter().any(|g| relation(*g, item) != Relation::Other) => {
            Relation::Cooperating
        }
        direct => direct,
    }
}

/// Whether a unit that is a member of `groups` works the tasks `owner` owns: its own, and its
/// groups' (a task given to 各街道办 is worked by each street office).
pub fn works_for(unit: UnitId, groups: &[UnitId], owner: UnitId) -> bool {
    owner == unit || groups.contains(&owner)
}

/// How `unit` stands to `item` as the plan names it, leaving group membership aside.
pub fn relation(unit: UnitId, item: &Item) -> Relation {
    if item.lead_units.contains(&unit) {
        Relation::Lead
    } else if item.cooperating_units.contains(&unit) {
        Relation::Cooperating
    } else {
        Relation::Other
    }
}

/// Something a user may or may not do on an item's board.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action<'a> {
    /// Create, assign, retitle, re-date, archive or restore tasks of the item.
    ManageTasks,
    /// Work on this task: progress, column, checklist, blocked flag.
    WorkOnTask(&'a Task),
    /// Comment on the item or its tasks.
    Comment,
    /// Draft and submit the item's work plan and reports, attach evidence to them, answer
    /// leaders' instructions on it.
    Report,
    /// Accept or return a submission.
    Review,
    /// Raise a difficulty (困难和问题) on the item.
    RaiseDifficulty,
    /// Coordinate and resolve difficulties; send reminders (催办).
    Supervise,
    /// Write an instruction (批示) on the item.
    Instruct,
    /// Evaluate the item (评议).
    Evaluate,
}

/// Something a user may or may not do on the plan as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanAction {
    /// Set the calendar, write and publish bulletins, adjust assessment scores.
    Supervise,
    /// Record an inspection visit (视察).
    Inspect,
    /// Add units the plan does not name and set which groups units are members of.
    ManageUnits,
}

/// Why something was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub Msg);

/// Said both when someone else evaluates and when the action is ruled out for every other role.
const ONLY_SUPERVISORS_EVALUATE: Msg = Msg::new(
    "只有区人大、区政协可以评议",
    "Only the People's Congress and the CPPCC can evaluate",
);

/// Said when anyone but a leader writes an instruction.
const ONLY_LEADERS_INSTRUCT: Msg = Msg::new(
    "只有区领导可以作出批示",
    "Only district leaders can write instructions",
);

/// The matrix. `item` is the item the action is on.
pub fn check(actor: &Actor, item: &Item, action: Action<'_>) -> Result<(), Denied> {
    // The People's Congress and the CPPCC evaluate in their own name; nobody else may.
    if action == Action::Evaluate {
        return if actor.role == Role::Supervisor {
            Ok(())
        } else {
            Err(Denied(ONLY_SUPERVISORS_EVALUATE))
        };
    }
    // So do the leaders write instructions (批示): one signed 综合办 would be no leader's.
    if action == Action::Instruct {
        return if actor.role == Role::Leader {
            Ok(())
        } else {
            Err(Denied(ONLY_LEADERS_INSTRUCT))
        };
    }
    if actor.role == Role::Office {
        return Ok(());
    }
    let rel = relation_of(actor.unit, &actor.groups, item);
    let unit_role = actor.role == Role::Unit;
    match action {
        Action::ManageTasks => {
            if unit_role && rel == Relation::Lead {
                Ok(())
            } else {
                Err(Denied(Msg::new(
                    "只有牵头单位和综合办可以分解、指派或归档任务",
                    "Only the lead unit and the reform office can break the item down, assign or archive tasks",
                )))
            }
        }
        Action::WorkOnTask(task) => {
            let owns = works_for(actor.unit, &actor.groups, task.owner);
            let works_on_it = rel == Relation::Lead || (rel == Relation::Cooperating && owns);
            if unit_role && works_on_it {
                Ok(())
            } else {
                Err(Denied(Msg::new(
                    "只有牵头单位和承担该任务的配合单位可以更新任务",
                    "Only the lead unit and the cooperating unit that owns the task can update it",
                )))
            }
        }
        Action::Comment => {
            let may = match actor.role {
                Role::Office | Role::Leader => true,
                Role::Unit => rel != Relation::Other,
                Role::Supervisor => false,
            };
            if may {
                Ok(())
            } else {
                Err(Denied(Msg::new(
                    "无权在此改革项目下发表意见",
                    "You may not comment on this reform item",
                )))
            }
        }
        Action::Report => {
            if unit_role && rel == Relation::Lead {
                Ok(())
            } else {
                Err(Denied(Msg::new(
                    "只有牵头单位可以报送工作方案和报告、回复批示",
                    "Only the lead unit can submit the work plan and reports and answer instructions",
                )))
            }
        }
        Action::RaiseDifficulty => {
            if unit_role && rel != Relation::Other {
                Ok(())
            } else {
                Err(Denied(Msg::new(
                    "只有该项目的牵头和配合单位可以反映困难和问题",
                    "Only the item's lead and cooperating units can raise difficulties",
                )))
            }
        }
        Action::Review | Action::Supervise => Err(Denied(Msg::new(
            "只有综合办可以审核和督办",
            "Only the reform office can review and supervise",
        ))),
        Action::Instruct => Err(Denied(ONLY_LEADERS_INSTRUCT)),
        Action::Evaluate => Err(Denied(ONLY_SUPERVISORS_EVALUATE)),
    }
}

/// The matrix for plan-wide actions.
pub fn check_plan(actor: &Actor, action: PlanAction) -> Result<(), Denied> {
    match (action, actor.role) {
        (PlanAction::Supervise | PlanAction::ManageUnits, Role::Office)
        | (PlanAction::Inspect, Role::Supervisor) => Ok(()),
        (PlanAction::Supervise | PlanAction::ManageUnits, _) => Err(Denied(Msg::new(
            "只有综合办可以进行此操作",
            "Only the reform office can do this",
        ))),
        (PlanAction::Inspect, _) => Err(Denied(Msg::new(
            "只有区人大、区政协可以记录视察",
            "Only the People's Congress and the CPPCC can record inspections",
        ))),
    }
}

/// Whether `actor` may do `action` (for showing or hiding controls).
pub fn can(actor: &Actor, item: &Item, action: Action<'_>) -> bool {
    check(actor, item, action).is_ok()
}

/// Whether `owner` (a member of `groups`) may own a task of `item`: its lead unit, one of its
/// cooperating units, or a member of one of those.
pub fn may_own(owner: UnitId, groups: &[UnitId], item: &Item) -> bool {
    relation_of(owner, groups, item) != Relation::Other
}
