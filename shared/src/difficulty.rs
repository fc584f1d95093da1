//! Difficulties and problems (困难和问题): any unit on an item raises one; the office coordinates,
//! assigns units and records the resolution.

use crate::actor::Actor;
use crate::entity::Item;
use crate::entity::{Entity, EntityKey, Millis, Space};
use crate::ids::{DifficultyId, ItemId, TaskId, UnitId};
use crate::message::Msg;
use crate::mutation::{Change, Rejection};
use crate::op::{Op, SpaceOf, ensure_new, local_date, put};
use crate::permission::{self, Action};
use crate::state::State;
use crate::text;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Days after which an open difficulty turns its item red.
pub const STALE_DAYS: i64 = 30;

/// Where a difficulty stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifficultyState {
    /// 待协调.
    Open,
    /// 协调中: the office has taken it up and assigned units.
    Coordinating,
    /// 已解决.
    Resolved,
}

impl DifficultyState {
    /// Name in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Open => "待协调",
            Self::Coordinating => "协调中",
            Self::Resolved => "已解决",
        }
    }
    /// Name in English.
    pub fn en(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::Coordinating => "Coordinating",
            Self::Resolved => "Resolved",
        }
    }
}

/// A note in a difficulty's coordination log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Who wrote it.
    pub by_name: String,
    /// What was done or decided.
    pub text: String,
    /// When.
    pub at: Millis,
}

/// A difficulty raised on an item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Difficulty {
    /// Id.
    pub id: DifficultyId,
    /// The item.
    pub item: ItemId,
    /// The task it is about, if one.
    pub task: Option<TaskId>,
    /// The problem in a line.
    pub title: String,
    /// Details.
    pub detail: String,
    /// The unit that raised it.
    pub unit: UnitId,
    /// Who raised it.
    pub raised_by_name: String,
    /// When.
    pub raised_at: Millis,
    /// Where it stands.
    pub state: DifficultyState,
    /// Units the office asked to help.
    pub assigned: Vec<UnitId>,
    /// Coordination notes, oldest first.
    pub log: Vec<LogEntry>,
    /// How it was resolved.
    pub resolution: Option<String>,
    /// When it was resolved.
    pub resolved_at: Option<Millis>,
}

impl Difficulty {
    /// Whether it was open (raised, not yet resolved) at `at`.
    pub fn open_at(&self, at: Millis) -> bool {
        self.raised_at <= at && self.resolved_at.is_none_or(|r| r > at)
    }

    /// Where it stood at `at`: resolved by then, being coordinated (the office had logged a
    /// step), or open.
    pub fn state_at(&self, at: Millis) -> DifficultyState {
        if self.resolved_at.is_some_and(|r| r <= at) {
            DifficultyState::Resolved
        } else if self.log.iter().any(|l| l.at <= at) {
            DifficultyState::Coordinating
        } else {
            DifficultyState::Open
        }
    }

    /// Days it has been open as of `today`.
    pub fn age_days(&self, today: NaiveDate) -> i64 {
        (today - local_date(self.raised_at)).num_days().max(0)
    }
}

fn check_on_item(
    state: &State,
    item: ItemId,
    actor: &Actor,
    action: Action<'_>,
) -> Result<(), Rejection> {
    let item = state.find::<Item>(item)?;
    permission::check(actor, item, action)?;
    Ok(())
}

/// Raise a difficulty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Raise {
    /// New id.
    pub id: DifficultyId,
    /// The item.
    pub item: ItemId,
    /// The task, if it is about one.
    pub task: Option<TaskId>,
    /// The problem in a line.
    pub title: String,
    /// Details.
    pub detail: String,
    /// Client time.
    pub at: Millis,
}

impl Op for Raise {
    fn keys(&self) -> Vec<EntityKey> {
        let mut keys = vec![EntityKey::difficulty(self.id), EntityKey::item(self.item)];
        keys.extend(self.task.map(EntityKey::task));
        keys
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Item(self.item))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        check_on_item(state, self.item, actor, Action::RaiseDifficulty)
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        ensure_new(
            state,
            &EntityKey::difficulty(self.id),
            Msg::new("问题", "difficulty"),
        )?;
        if let Some(task) = self.task {
            match state.task(task) {
                Some(t) if t.item != self.item => {
                    return Err(crate::op::task_not_of_item());
                }
                None => return Err(crate::op::task_not_of_item()),
                Some(_) => {}
            }
        }
        let d = Difficulty {
            id: self.id,
            item: self.item,
            task: self.task,
            title: text::DIFFICULTY_TITLE.parse(&self.title)?,
            detail: text::DIFFICULTY_TEXT.parse(&self.detail)?,
            unit: actor.unit,
            raised_by_name: actor.name.clone(),
            raised_at: self.at,
            state: DifficultyState::Open,
            assigned: vec![],
            log: vec![],
            resolution: None,
            resolved_at: None,
        };
        Ok(vec![put(state, Entity::Difficulty(d))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

/// The office takes a difficulty up: assigns units to help and notes what it is doing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coordinate {
    /// Difficulty.
    pub id: DifficultyId,
    /// Units asked to help (replaces the list).
    pub units: Vec<UnitId>,
    /// What the office is doing.
    pub note: String,
    /// Client time.
    pub at: Millis,
}

impl Op for Coordinate {
    fn keys(&self) -> Vec<EntityKey> {
        let mut keys = vec![EntityKey::difficulty(self.id)];
        keys.extend(self.units.iter().map(|u| EntityKey::unit(*u)));
        keys
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Entity(EntityKey::difficulty(self.id))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        check_on_item(
            state,
            state.find::<Difficulty>(self.id)?.item,
            actor,
            Action::Supervise,
        )
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let mut d = state.find::<Difficulty>(self.id)?.clone();
        if d.state == DifficultyState::Resolved {
            return Err(Rejection::Invalid(Msg::new(
                "该问题已解决",
                "This difficulty is already resolved",
            )));
        }
        if self.units.len() > 50 || self.units.iter().any(|u| state.unit(*u).is_none()) {
            return Err(Rejection::Invalid(Msg::new(
                "协调单位无效",
                "The units asked to help are not valid",
            )));
        }
        let note = text::DIFFICULTY_TEXT.parse(&self.note)?;
        d.state = DifficultyState::Coordinating;
        d.assigned = self.units.clone();
        d.assigned.dedup();
        // A step with or without a note: when coordination began is what `state_at` (the
        // ledger, the views as of a past date) reads. The units asked are on the difficulty.
        d.log.push(LogEntry {
            by_name: actor.name.clone(),
            text: note,
            at: self.at,
        });
        Ok(vec![put(state, Entity::Difficulty(d))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

/// The office records how a difficulty was resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resolve {
    /// Difficulty.
    pub id: DifficultyId,
    /// How it was resolved.
    pub resolution: String,
    /// Client time.
    pub at: Millis,
}

impl Op for Resolve {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::difficulty(self.id)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Entity(EntityKey::difficulty(self.id))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        check_on_item(
            state,
            state.find::<Difficulty>(self.id)?.item,
            actor,
            Action::Supervise,
        )
    }
    fn apply(&self, state: &mut State, _actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let mut d = state.find::<Difficulty>(self.id)?.clone();
        if d.state == DifficultyState::Resolved {
            return Err(Rejection::Invalid(Msg::new(
                "该问题已解决",
                "This difficulty is already resolved",
            )));
        }
        let resolution = text::DIFFICULTY_TEXT.parse(&self.resolution)?;
        if resolution.is_empty() {
            return Err(Rejection::Invalid(Msg::new(
                "请写明解决情况",
                "Say how it was resolved",
            )));
        }
        d.state = DifficultyState::Resolved;
        d.resolution = Some(resolution);
        d.resolved_at = Some(self.at);
        Ok(vec![put(state, Entity::Difficulty(d))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}
