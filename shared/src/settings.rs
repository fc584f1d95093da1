//! The office's settings for the plan as a whole: whether units with no part in an item (neither
//! lead nor cooperating) may comment on it. Off until the office turns it on.

use crate::actor::{Actor, Role};
use crate::entity::{Entity, EntityKey, Item, Millis, Space};
use crate::mutation::{Change, Rejection};
use crate::op::{Op, SpaceOf, put};
use crate::permission::{self, Action, Denied, PlanAction};
use crate::state::State;
use serde::{Deserialize, Serialize};

/// The settings (one per installation).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Units with no part in an item may comment on it.
    #[serde(default)]
    pub others_may_comment: bool,
}

/// The settings in force: the office's, or the defaults.
pub fn settings(state: &State) -> Settings {
    match state.get(&EntityKey::settings()) {
        Some(Entity::Settings(s)) => s.clone(),
        _ => Settings::default(),
    }
}

/// Whether `actor` may comment on `item` (or its tasks): by the permission matrix, or as a unit
/// with no part in the item once the office allows it.
pub fn check_comment(state: &State, actor: &Actor, item: &Item) -> Result<(), Denied> {
    match permission::check(actor, item, Action::Comment) {
        Err(_) if actor.role == Role::Unit && settings(state).others_may_comment => Ok(()),
        other => other,
    }
}

/// The office changes the settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Set {
    /// Units with no part in an item may comment on it.
    pub others_may_comment: bool,
    /// Client time.
    pub at: Millis,
}

impl Op for Set {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::settings()]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Plan)
    }
    fn authorize(&self, _state: &State, actor: &Actor) -> Result<(), Rejection> {
        permission::check_plan(actor, PlanAction::Supervise)?;
        Ok(())
    }
    fn apply(&self, state: &mut State, _actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let s = Settings {
            others_may_comment: self.others_may_comment,
        };
        Ok(vec![put(state, Entity::Settings(s))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}
