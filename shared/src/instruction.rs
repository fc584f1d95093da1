//! Leaders' instructions (领导批示): a leader writes one on an item, often from a phone; the lead
//! unit acknowledges and answers; the leader sees the answer.

use crate::actor::Actor;
use crate::entity::Item;
use crate::entity::{Entity, EntityKey, Millis, Space};
use crate::ids::{InstructionId, ItemId, UnitId, UserId};
use crate::message::Msg;
use crate::mutation::{Change, Rejection};
use crate::op::{Op, SpaceOf, ensure_new, put};
use crate::permission::{self, Action};
use crate::state::State;
use crate::text;
use serde::{Deserialize, Serialize};

/// Who acknowledged or answered, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// Their unit.
    pub unit: UnitId,
    /// Their name.
    pub by_name: String,
    /// The answer (empty for a bare acknowledgement).
    pub text: String,
    /// When.
    pub at: Millis,
}

/// A leader's instruction on an item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instruction {
    /// Id.
    pub id: InstructionId,
    /// The item.
    pub item: ItemId,
    /// What the leader asks.
    pub text: String,
    /// The leader.
    pub leader: UserId,
    /// The leader's name.
    pub leader_name: String,
    /// When written.
    pub at: Millis,
    /// The lead unit's acknowledgement (收悉).
    pub acknowledged: Option<Reply>,
    /// The lead unit's answer.
    pub answer: Option<Reply>,
}

impl Instruction {
    /// Whether it was written by `end` and not answered by then: what 督查 and the leader's
    /// overview follow.
    pub fn unanswered_at(&self, end: Millis) -> bool {
        self.at <= end && self.answer.as_ref().is_none_or(|a| a.at > end)
    }

    /// Whether the lead unit had acknowledged it (收悉) by `end`.
    pub fn acknowledged_at(&self, end: Millis) -> bool {
        self.acknowledged.as_ref().is_some_and(|a| a.at <= end)
    }
}

fn check(state: &State, item: ItemId, actor: &Actor, action: Action<'_>) -> Result<(), Rejection> {
    let item = state.find::<Item>(item)?;
    permission::check(actor, item, action)?;
    Ok(())
}

/// A leader writes an instruction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Write {
    /// New id.
    pub id: InstructionId,
    /// The item.
    pub item: ItemId,
    /// The instruction.
    pub text: String,
    /// Client time.
    pub at: Millis,
}

impl Op for Write {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::instruction(self.id), EntityKey::item(self.item)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Item(self.item))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        check(state, self.item, actor, Action::Instruct)
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        ensure_new(
            state,
            &EntityKey::instruction(self.id),
            Msg::new("批示", "instruction"),
        )?;
        let i = Instruction {
            id: self.id,
            item: self.item,
            text: text::INSTRUCTION.parse(&self.text)?,
            leader: actor.user,
            leader_name: actor.name.clone(),
            at: self.at,
            acknowledged: None,
            answer: None,
        };
        Ok(vec![put(state, Entity::Instruction(i))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

/// The lead unit acknowledges an instruction (收悉), or answers it (`text` not empty). An
/// answer implies the acknowledgement; a later answer replaces an earlier one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Respond {
    /// Instruction.
    pub id: InstructionId,
    /// The answer; empty to only acknowledge.
    pub text: String,
    /// Client time.
    pub at: Millis,
}

impl Op for Respond {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::instruction(self.id)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Entity(EntityKey::instruction(self.id))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        check(
            state,
            state.find::<Instruction>(self.id)?.item,
            actor,
            Action::Report,
        )
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let mut i = state.find::<Instruction>(self.id)?.clone();
        // Blank text only acknowledges; any other text is the answer, and an answer that
        // can't be stored (too long) is refused, not quietly turned into an acknowledgement.
        let answer = if self.text.trim().is_empty() {
            None
        } else {
            Some(text::INSTRUCTION.parse(&self.text)?)
        };
        let reply = |text: String| Reply {
            unit: actor.unit,
            by_name: actor.name.clone(),
            text,
            at: self.at,
        };
        match answer {
            None if i.acknowledged.is_some() => return Ok(vec![]),
            None => i.acknowledged = Some(reply(String::new())),
            Some(text) => {
                if i.acknowledged.is_none() {
                    i.acknowledged = Some(reply(String::new()));
                }
                i.answer = Some(reply(text));
            }
        }
        Ok(vec![put(state, Entity::Instruction(i))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}
