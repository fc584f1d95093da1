//! An in-memory set of entities: the browser's whole copy, or the slice the server loaded for one
//! mutation. `apply` reads and writes only through this.

use crate::assessment::Adjustment;
use crate::attachment::Attachment;
use crate::bulletin::Bulletin;
use crate::difficulty::Difficulty;
use crate::entity::{Comment, Entity, EntityKey, Item, PlanDoc, Task, Unit};
use crate::evaluation::{Evaluation, Inspection};
use crate::ids::{
    AttachmentId, BulletinId, DifficultyId, EvaluationId, InstructionId, ItemId, SubmissionId,
    TaskId, UnitId,
};
use crate::instruction::Instruction;
use crate::message::Msg;
use crate::mutation::Rejection;
use crate::reminder::Reminder;
use crate::submission::Submission;
use std::collections::HashMap;

/// An entity type as a `State` holds it: how to find one by id, and what to call it when it
/// is missing.
pub trait Stored: Sized {
    /// Its id.
    type Id;
    /// Its name in a "not found" rejection.
    const NOUN: Msg;
    /// The key of the one with `id`.
    fn key(id: Self::Id) -> EntityKey;
    /// The entity as this type, if it is one.
    fn of(entity: &Entity) -> Option<&Self>;
}

macro_rules! stored {
    ($($ty:ident($id:ty) = $key:ident, $zh:literal, $en:literal;)*) => {$(
        impl Stored for $ty {
            type Id = $id;
            const NOUN: Msg = Msg::new($zh, $en);
            fn key(id: $id) -> EntityKey {
                EntityKey::$key(id)
            }
            fn of(entity: &Entity) -> Option<&Self> {
                match entity {
                    Entity::$ty(x) => Some(x),
                    _ => None,
                }
            }
        }
    )*};
}

stored! {
    Unit(UnitId) = unit, "单位", "unit";
    Item(ItemId) = item, "改革项目", "reform item";
    Task(TaskId) = task, "任务", "task";
    Submission(SubmissionId) = submission, "报送材料", "submission";
    Difficulty(DifficultyId) = difficulty, "困难和问题", "difficulty";
    Instruction(InstructionId) = instruction, "批示", "instruction";
    Evaluation(EvaluationId) = evaluation, "评议", "evaluation";
    Bulletin(BulletinId) = bulletin, "通报", "bulletin";
    Attachment(AttachmentId) = attachment, "附件", "attachment";
}

/// The rejection of a change to a `T` that is not there (or not visible): "找不到任务".
pub fn missing<T: Stored>() -> Rejection {
    Rejection::NotFound(T::NOUN)
}

/// Entity types that are only ever listed, never looked up by id here.
macro_rules! listed {
    ($($ty:ident),*) => {$(
        impl Listed for $ty {
            fn of(entity: &Entity) -> Option<&Self> {
                match entity {
                    Entity::$ty(x) => Some(x),
                    _ => None,
                }
            }
        }
    )*};
}

/// An entity type a `State` can list.
pub trait Listed {
    /// The entity as this type, if it is one.
    fn of(entity: &Entity) -> Option<&Self>;
}

impl<T: Stored> Listed for T {
    fn of(entity: &Entity) -> Option<&Self> {
        <T as Stored>::of(entity)
    }
}

listed!(Comment, Inspection, Reminder, Adjustment);

/// Entities by key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    entities: HashMap<EntityKey, Entity>,
}

impl State {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The entity stored under `key`.
    pub fn get(&self, key: &EntityKey) -> Option<&Entity> {
        self.entities.get(key)
    }

    /// Stores `entity`, returning what was there before.
    pub fn put(&mut self, entity: Entity) -> Option<Entity> {
        self.entities.insert(entity.key(), entity)
    }

    /// Removes the entity under `key` (used when a pull says it is no longer visible).
    pub fn remove(&mut self, key: &EntityKey) -> Option<Entity> {
        self.entities.remove(key)
    }

    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// Number of entities.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Every entity, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Entity> {
        self.entities.values()
    }

    /// The plan document.
    pub fn plan(&self) -> Option<&PlanDoc> {
        match self.get(&EntityKey::plan()) {
            Some(Entity::Plan(p)) => Some(p),
            _ => None,
        }
    }

    /// The `T` with `id`, if this copy has it.
    pub fn lookup<T: Stored>(&self, id: T::Id) -> Option<&T> {
        self.get(&T::key(id)).and_then(<T as Stored>::of)
    }

    /// The `T` with `id`, or the rejection that names what is missing.
    pub fn find<T: Stored>(&self, id: T::Id) -> Result<&T, Rejection> {
        self.lookup(id).ok_or_else(missing::<T>)
    }

    /// Every `T`, in no particular order.
    pub fn all<T: Listed + 'static>(&self) -> impl Iterator<Item = &T> {
        self.iter().filter_map(T::of)
    }

    /// The units that may own tasks of `item` (`permission::may_own`): its lead units, its
    /// cooperating units, and the members of those that are groups, in that order.
    pub fn units_of(&self, item: &Item) -> Vec<UnitId> {
        let mut named: Vec<UnitId> = Vec::new();
        for unit in item.lead_units.iter().chain(&item.cooperating_units) {
            if !named.contains(unit) {
                named.push(*unit);
            }
        }
        let mut members: Vec<&Unit> = self
            .units()
            .filter(|u| !named.contains(&u.id) && crate::permission::may_own(u.id, &u.groups, item))
            .collect();
        crate::sorting::sort_by(&mut members, |a, b| a.name.cmp(&b.name));
        named.extend(members.into_iter().map(|u| u.id));
        named
    }

    /// The units the plan names, in the order it names them: item by item, each item's lead
    /// units before its cooperating ones, as written. Units carry no order of their own, and
    /// neither their names (code points) nor pinyin is how the plan's readers know them.
    /// Units marked as the plan's that no item names any more (an earlier version of the plan
    /// named them) come last, by name.
    pub fn plan_units(&self) -> Vec<&Unit> {
        let mut named: Vec<UnitId> = Vec::new();
        for item in self.items() {
            for unit in item.lead_units.iter().chain(&item.cooperating_units) {
                if !named.contains(unit) {
                    named.push(*unit);
                }
            }
        }
        let mut units: Vec<&Unit> = named
            .iter()
            .filter_map(|id| self.unit(*id))
            .filter(|u| u.in_plan)
            .collect();
        let mut rest: Vec<&Unit> = self
            .units()
            .filter(|u| u.in_plan && !named.contains(&u.id))
            .collect();
        crate::sorting::sort_by(&mut rest, |a, b| a.name.cmp(&b.name));
        units.extend(rest);
        units
    }

    /// The unit called `name`, by its canonical name or one of its aliases.
    pub fn unit_named(&self, name: &str) -> Option<&Unit> {
        self.units()
            .find(|u| u.name == name || u.aliases.iter().any(|a| a == name))
    }

    /// The units that are members of the group unit `group`, by name.
    pub fn members_of(&self, group: UnitId) -> Vec<&Unit> {
        let mut members: Vec<&Unit> = self.units().filter(|u| u.groups.contains(&group)).collect();
        crate::sorting::sort_by(&mut members, |a, b| a.name.cmp(&b.name));
        members
    }

    /// The units that read what is addressed to `unit`: a group's members (a group holds no
    /// accounts, so a reminder or a deadline of the group is theirs), or, for any other unit
    /// and for a group with no members yet, the unit itself.
    pub fn readers_of(&self, unit: UnitId) -> Vec<UnitId> {
        let is_group = self
            .unit(unit)
            .is_some_and(|u| u.kind == crate::unit::UnitKind::Group);
        let members: Vec<UnitId> = if is_group {
            self.members_of(unit).iter().map(|u| u.id).collect()
        } else {
            vec![]
        };
        if members.is_empty() {
            vec![unit]
        } else {
            members
        }
    }

    /// The units a plan-wide notice (a bulletin) is for, in the plan's order: every unit the
    /// plan names, a group through its members (one with none, itself).
    pub fn plan_readers(&self) -> Vec<UnitId> {
        let mut out: Vec<UnitId> = Vec::new();
        for u in self.units().filter(|u| u.in_plan) {
            for r in self.readers_of(u.id) {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        out
    }

    /// The group units `id` is a member of (none for a unit not in the state).
    pub fn groups_of(&self, id: UnitId) -> &[UnitId] {
        self.unit(id).map_or(&[], |u| u.groups.as_slice())
    }

    /// The unit with this id.
    pub fn unit(&self, id: UnitId) -> Option<&Unit> {
        self.lookup(id)
    }

    /// An item.
    pub fn item(&self, id: ItemId) -> Option<&Item> {
        self.lookup(id)
    }

    /// A task.
    pub fn task(&self, id: TaskId) -> Option<&Task> {
        self.lookup(id)
    }

    /// All units.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.all()
    }

    /// All items, by number.
    pub fn items(&self) -> Vec<&Item> {
        let mut items: Vec<&Item> = self.all().collect();
        crate::sorting::sort_by_key(&mut items, |i| i.number);
        items
    }

    /// All tasks (archived ones too).
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.all()
    }

    /// All comments.
    pub fn comments(&self) -> impl Iterator<Item = &Comment> {
        self.all()
    }

    /// All submissions (that this copy may see).
    pub fn submissions(&self) -> impl Iterator<Item = &Submission> {
        self.all()
    }

    /// All difficulties.
    pub fn difficulties(&self) -> impl Iterator<Item = &Difficulty> {
        self.all()
    }

    /// All instructions.
    pub fn instructions(&self) -> impl Iterator<Item = &Instruction> {
        self.all()
    }

    /// All evaluations.
    pub fn evaluations(&self) -> impl Iterator<Item = &Evaluation> {
        self.all()
    }

    /// All inspections.
    pub fn inspections(&self) -> impl Iterator<Item = &Inspection> {
        self.all()
    }

    /// All reminders.
    pub fn reminders(&self) -> impl Iterator<Item = &Reminder> {
        self.all()
    }

    /// All bulletins.
    pub fn bulletins(&self) -> impl Iterator<Item = &Bulletin> {
        self.all()
    }

    /// All attachments (removed ones too).
    pub fn attachments(&self) -> impl Iterator<Item = &Attachment> {
        self.all()
    }

    /// All assessment adjustments.
    pub fn adjustments(&self) -> impl Iterator<Item = &Adjustment> {
        self.all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{item_id_for_number, unit_id_for_name};
    use crate::unit::UnitKind;

    fn unit(state: &mut State, name: &str, in_plan: bool) -> UnitId {
        let id = unit_id_for_name(name);
        state.put(Entity::Unit(Unit {
            id,
            name: name.into(),
            aliases: vec![],
            kind: UnitKind::of(name),
            in_plan,
            groups: vec![],
        }));
        id
    }

    fn item(state: &mut State, number: u32, lead: Vec<UnitId>, cooperating: Vec<UnitId>) {
        state.put(Entity::Item(Item {
            id: item_id_for_number(number),
            number,
            title: format!("第{number}项。"),
            body: String::new(),
            lead_units: lead,
            cooperating_units: cooperating,
            lead_leaders: vec![],
            section: None,
        }));
    }

    #[test]
    fn plan_units_are_in_the_order_the_plan_names_them() {
        let mut s = State::new();
        let fagai = unit(&mut s, "区发改局", true);
        let renli = unit(&mut s, "区人力局", true);
        let caizheng = unit(&mut s, "区财政局", true);
        let jiedao = unit(&mut s, "各街道办", true);
        let dropped = unit(&mut s, "区城改办", true);
        let office = unit(&mut s, crate::unit::OFFICE_UNIT, false);
        let member = unit(&mut s, "海山街道办", false);
        // Item 2 is stored first, yet item 1 names its units first; within an item, the lead
        // unit comes before the cooperating ones, whatever their names.
        item(&mut s, 2, vec![fagai], vec![renli, caizheng]);
        item(&mut s, 1, vec![caizheng], vec![jiedao, fagai]);
        let names: Vec<&str> = s.plan_units().iter().map(|u| u.name.as_str()).collect();
        assert_eq!(
            names,
            ["区财政局", "各街道办", "区发改局", "区人力局", "区城改办"]
        );
        let ids: Vec<UnitId> = s.plan_units().iter().map(|u| u.id).collect();
        assert_eq!(ids.last(), Some(&dropped));
        assert!(!ids.contains(&office) && !ids.contains(&member));
    }
}
