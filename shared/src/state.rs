//! An in-memory set of entities: the browser's whole copy, or the slice the server loaded for one
//! mutation. `apply` reads and writes only through this.

use crate::entity::{Comment, Entity, EntityKey, Item, PlanDoc, Task, Unit};
use crate::ids::{ItemId, TaskId, UnitId};
use std::collections::HashMap;

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

    /// A unit.
    pub fn unit(&self, id: UnitId) -> Option<&Unit> {
        match self.get(&EntityKey::unit(id)) {
            Some(Entity::Unit(u)) => Some(u),
            _ => None,
        }
    }

    /// An item.
    pub fn item(&self, id: ItemId) -> Option<&Item> {
        match self.get(&EntityKey::item(id)) {
            Some(Entity::Item(i)) => Some(i),
            _ => None,
        }
    }

    /// A task.
    pub fn task(&self, id: TaskId) -> Option<&Task> {
        match self.get(&EntityKey::task(id)) {
            Some(Entity::Task(t)) => Some(t),
            _ => None,
        }
    }

    /// All units.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.iter().filter_map(|e| match e {
            Entity::Unit(u) => Some(u),
            _ => None,
        })
    }

    /// All items, by number.
    pub fn items(&self) -> Vec<&Item> {
        let mut items: Vec<&Item> = self
            .iter()
            .filter_map(|e| match e {
                Entity::Item(i) => Some(i),
                _ => None,
            })
            .collect();
        items.sort_by_key(|i| i.number);
        items
    }

    /// All tasks (archived ones too).
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.iter().filter_map(|e| match e {
            Entity::Task(t) => Some(t),
            _ => None,
        })
    }

    /// All comments.
    pub fn comments(&self) -> impl Iterator<Item = &Comment> {
        self.iter().filter_map(|e| match e {
            Entity::Comment(c) => Some(c),
            _ => None,
        })
    }

    /// All submissions (that this copy may see).
    pub fn submissions(&self) -> impl Iterator<Item = &crate::submission::Submission> {
        self.iter().filter_map(|e| match e {
            Entity::Submission(x) => Some(x),
            _ => None,
        })
    }

    /// All difficulties.
    pub fn difficulties(&self) -> impl Iterator<Item = &crate::difficulty::Difficulty> {
        self.iter().filter_map(|e| match e {
            Entity::Difficulty(x) => Some(x),
            _ => None,
        })
    }

    /// All instructions.
    pub fn instructions(&self) -> impl Iterator<Item = &crate::instruction::Instruction> {
        self.iter().filter_map(|e| match e {
            Entity::Instruction(x) => Some(x),
            _ => None,
        })
    }

    /// All evaluations.
    pub fn evaluations(&self) -> impl Iterator<Item = &crate::evaluation::Evaluation> {
        self.iter().filter_map(|e| match e {
            Entity::Evaluation(x) => Some(x),
            _ => None,
        })
    }

    /// All inspections.
    pub fn inspections(&self) -> impl Iterator<Item = &crate::evaluation::Inspection> {
        self.iter().filter_map(|e| match e {
            Entity::Inspection(x) => Some(x),
            _ => None,
        })
    }

    /// All reminders.
    pub fn reminders(&self) -> impl Iterator<Item = &crate::reminder::Reminder> {
        self.iter().filter_map(|e| match e {
            Entity::Reminder(x) => Some(x),
            _ => None,
        })
    }

    /// All bulletins.
    pub fn bulletins(&self) -> impl Iterator<Item = &crate::bulletin::Bulletin> {
        self.iter().filter_map(|e| match e {
            Entity::Bulletin(x) => Some(x),
            _ => None,
        })
    }

    /// All attachments (removed ones too).
    pub fn attachments(&self) -> impl Iterator<Item = &crate::attachment::Attachment> {
        self.iter().filter_map(|e| match e {
            Entity::Attachment(x) => Some(x),
            _ => None,
        })
    }

    /// All assessment adjustments.
    pub fn adjustments(&self) -> impl Iterator<Item = &crate::assessment::Adjustment> {
        self.iter().filter_map(|e| match e {
            Entity::Adjustment(x) => Some(x),
            _ => None,
        })
    }
}
