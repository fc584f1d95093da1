//! Reminders (催办): the office, or its daily job, chases a unit about a task or a submission.
//! A reminder lands in that unit's notifications.

use crate::actor::Actor;
use crate::entity::Item;
use crate::entity::{Entity, EntityKey, Millis, Space};
use crate::ids::{ItemId, ReminderId, TaskId, UnitId};
use crate::message::Msg;
use crate::mutation::{Change, Rejection};
use crate::op::{Op, SpaceOf, ensure_new, put};
use crate::permission::{self, Action};
use crate::state::State;
use crate::submission::SubmissionKind;
use crate::text;
use serde::{Deserialize, Serialize};

crate::tagged::adjacently_tagged! {
    tag = "about", content = "id";
    /// What a reminder is about.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum About {
        /// A task.
        Task(TaskId),
        /// One of the item's submissions.
        Submission(SubmissionKind),
        /// The item in general.
        Item,
    }
}

/// A reminder to a unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reminder {
    /// Id.
    pub id: ReminderId,
    /// The item.
    pub item: ItemId,
    /// The unit reminded.
    pub unit: UnitId,
    /// What about.
    pub about: About,
    /// The message.
    pub text: String,
    /// Who sent it ("系统" for the daily job).
    pub by_name: String,
    /// Sent by the daily job rather than by hand.
    pub automatic: bool,
    /// When.
    pub at: Millis,
}

/// Send a reminder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Send {
    /// New id.
    pub id: ReminderId,
    /// The item.
    pub item: ItemId,
    /// The unit to remind: one of the item's lead or cooperating units.
    pub unit: UnitId,
    /// What about.
    pub about: About,
    /// The message.
    pub text: String,
    /// Whether the daily job sends it.
    pub automatic: bool,
    /// Client time.
    pub at: Millis,
}

impl Op for Send {
    fn keys(&self) -> Vec<EntityKey> {
        let mut keys = vec![
            EntityKey::reminder(self.id),
            EntityKey::item(self.item),
            EntityKey::unit(self.unit),
        ];
        if let About::Task(t) = self.about {
            keys.push(EntityKey::task(t));
        }
        keys
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Item(self.item))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        let item = state.find::<Item>(self.item)?;
        permission::check(actor, item, Action::Supervise)?;
        Ok(())
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        ensure_new(
            state,
            &EntityKey::reminder(self.id),
            Msg::new("催办", "reminder"),
        )?;
        let item = state.find::<Item>(self.item)?;
        if !permission::may_own(self.unit, state.groups_of(self.unit), item) {
            return Err(Rejection::Invalid(Msg::new(
                "只能催办该项目的牵头或配合单位",
                "Only the item's lead or cooperating units can be reminded",
            )));
        }
        if let About::Task(t) = self.about
            && state.task(t).is_none_or(|t| t.item != self.item)
        {
            return Err(crate::op::task_not_of_item());
        }
        let r = Reminder {
            id: self.id,
            item: self.item,
            unit: self.unit,
            about: self.about,
            text: text::REMINDER.parse(&self.text)?,
            by_name: if self.automatic {
                "系统".into()
            } else {
                actor.name.clone()
            },
            automatic: self.automatic,
            at: self.at,
        };
        Ok(vec![put(state, Entity::Reminder(r))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}
