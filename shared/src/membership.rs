//! Members of group units. The plan names some cooperating units as groups (各街道办, 区属各企业,
//! …领导小组各成员单位); the office adds the units behind them (海山街道办 under 各街道办) or
//! puts plan units in, and each member then works on the items its groups cooperate on
//! (`permission::relation_of`), with accounts of its own. Taking a member out hands the work it
//! still had on the group's items back to the group (`leave`), for the lead unit to give again.

use crate::actor::Actor;
use crate::board::Column;
use crate::entity::{Entity, EntityKey, Millis, Space, Unit};
use crate::ids::{TaskId, UnitId, unit_id_for_name};
use crate::message::Msg;
use crate::mutation::{Change, Mutation, Rejection};
use crate::op::{Op, SpaceOf, ensure_new, put};
use crate::permission::{self, PlanAction};
use crate::state::State;
use crate::unit::{BUILTIN_UNITS, UnitKind, UnitName};
use serde::{Deserialize, Serialize};

/// Most groups one unit may be a member of.
pub const MAX_GROUPS: usize = 10;

/// The office adds a unit the plan does not name, as a member of `groups`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AddUnit {
    /// `unit_id_for_name(name)`, so one name is one unit wherever it is added.
    pub id: UnitId,
    /// Its name.
    pub name: String,
    /// The group units it is a member of (at least one).
    pub groups: Vec<UnitId>,
    /// Client time.
    pub at: Millis,
}

/// The office puts a unit into a group unit, or takes it out. One membership a change, so two
/// office users (or one working offline) changing different memberships of a unit both count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetMembership {
    /// The unit.
    pub unit: UnitId,
    /// The group unit.
    pub group: UnitId,
    /// In (true) or out (false).
    pub member: bool,
    /// Client time.
    pub at: Millis,
}

impl Op for AddUnit {
    fn keys(&self) -> Vec<EntityKey> {
        std::iter::once(self.id)
            .chain(self.groups.iter().copied())
            .map(EntityKey::unit)
            .collect()
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Plan)
    }
    fn authorize(&self, _state: &State, actor: &Actor) -> Result<(), Rejection> {
        permission::check_plan(actor, PlanAction::ManageUnits)?;
        Ok(())
    }
    fn apply(&self, state: &mut State, _actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let name = UnitName::parse(&self.name).map_err(|e| {
            Rejection::Invalid(crate::msg!(
                "单位名称无效：{e}",
                "The unit's name is not valid: {e}"
            ))
        })?;
        let name = name.as_str().to_owned();
        if self.id != unit_id_for_name(&name) {
            return Err(Rejection::Invalid(Msg::new(
                "单位编号与名称不符",
                "The unit's id does not match its name",
            )));
        }
        ensure_new(state, &EntityKey::unit(self.id), Msg::new("单位", "unit"))?;
        if self.groups.is_empty() {
            return Err(Rejection::Invalid(Msg::new(
                "请选择所属的单位组",
                "Choose the group the unit belongs to",
            )));
        }
        let groups = checked_groups(state, &self.groups)?;
        let unit = Unit {
            id: self.id,
            kind: UnitKind::of(&name),
            name,
            aliases: vec![],
            in_plan: false,
            groups,
        };
        if unit.kind == UnitKind::Group {
            return Err(Rejection::Invalid(Msg::new(
                "成员须是具体单位，名称不能含“各”“成员单位”“有关”等",
                "A member must be a single unit: its name cannot contain 各, 成员单位, 有关 or the like",
            )));
        }
        Ok(vec![put(state, Entity::Unit(unit))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

impl Op for SetMembership {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::unit(self.unit), EntityKey::unit(self.group)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Plan)
    }
    fn authorize(&self, _state: &State, actor: &Actor) -> Result<(), Rejection> {
        permission::check_plan(actor, PlanAction::ManageUnits)?;
        Ok(())
    }
    fn apply(&self, state: &mut State, _actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let mut unit = state.find::<Unit>(self.unit)?.clone();
        if unit.kind == UnitKind::Group {
            return Err(Rejection::Invalid(Msg::new(
                "单位组不能再归入其他单位组",
                "A group cannot be a member of another group",
            )));
        }
        if BUILTIN_UNITS
            .into_iter()
            .any(|name| unit_id_for_name(name) == unit.id)
        {
            return Err(Rejection::Invalid(crate::msg!(
                "“{name}”不能归入单位组",
                "“{name}” cannot be put in a group",
                name = unit.name
            )));
        }
        let mut groups = unit.groups.clone();
        groups.retain(|g| *g != self.group);
        if self.member {
            groups.push(self.group);
        }
        unit.groups = checked_groups(state, &groups)?;
        Ok(vec![put(state, Entity::Unit(unit))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

/// The change that puts the unit called `name` into `group`: the unit itself when `state` has
/// one of that name (a department of the plan, say), else a new unit; None when it is a member
/// already.
pub fn join(state: &State, name: &UnitName, group: UnitId, at: Millis) -> Option<Mutation> {
    match state.unit_named(name.as_str()) {
        Some(unit) if unit.groups.contains(&group) => None,
        Some(unit) => Some(Mutation::SetMembership(SetMembership {
            unit: unit.id,
            group,
            member: true,
            at,
        })),
        None => Some(Mutation::AddUnit(AddUnit {
            id: unit_id_for_name(name.as_str()),
            name: name.as_str().to_owned(),
            groups: vec![group],
            at,
        })),
    }
}

/// The changes that take `unit` out of `group`: first each task `left_behind` goes to the group
/// (each an ordinary reassignment by the office, in its item's space), then the membership
/// ends, so a browser that stops at a refused reassignment leaves the unit in. The list comes
/// from the office's copy: a task given to the unit meanwhile stays with it, and the lead
/// reassigns it (the detail's owner list keeps showing the current owner). Empty when it is not
/// a member.
pub fn leave(state: &State, unit: UnitId, group: UnitId, at: Millis) -> Vec<Mutation> {
    if !state.unit(unit).is_some_and(|u| u.groups.contains(&group)) {
        return Vec::new();
    }
    left_behind(state, unit, group)
        .into_iter()
        .map(|task| Mutation::AssignTask {
            task,
            owner: group,
            at,
        })
        .chain(std::iter::once(Mutation::SetMembership(SetMembership {
            unit,
            group,
            member: false,
            at,
        })))
        .collect()
}

/// The tasks `unit` owns that no one could work if it left `group`: open ones (neither done nor
/// archived: those record who did the work) on items it works on only through that group.
pub fn left_behind(state: &State, unit: UnitId, group: UnitId) -> Vec<TaskId> {
    let Some(member) = state.unit(unit) else {
        return Vec::new();
    };
    let without: Vec<UnitId> = member
        .groups
        .iter()
        .copied()
        .filter(|g| *g != group)
        .collect();
    state
        .tasks()
        .filter(|t| t.owner == unit && !t.archived && t.column != Column::Done)
        .filter(|t| {
            state.item(t.item).is_some_and(|item| {
                permission::may_own(unit, &member.groups, item)
                    && !permission::may_own(unit, &without, item)
            })
        })
        .map(|t| t.id)
        .collect()
}

/// `groups`, each a group unit in `state`, without repeats, in a stable order.
fn checked_groups(state: &State, groups: &[UnitId]) -> Result<Vec<UnitId>, Rejection> {
    if groups.len() > MAX_GROUPS {
        return Err(Rejection::Invalid(crate::msg!(
            "一个单位最多归入{MAX_GROUPS}个单位组",
            "A unit can be in at most {MAX_GROUPS} groups"
        )));
    }
    let mut out: Vec<UnitId> = Vec::with_capacity(groups.len());
    for id in groups {
        let group = state.find::<Unit>(*id)?;
        if group.kind != UnitKind::Group {
            return Err(Rejection::Invalid(crate::msg!(
                "“{name}”不是单位组",
                "“{name}” is not a group",
                name = group.name
            )));
        }
        if !out.contains(id) {
            out.push(*id);
        }
    }
    crate::sorting::sort(&mut out);
    Ok(out)
}
