//! Inspection and evaluation (视察、评议) by the district People's Congress and the CPPCC.

use crate::actor::Actor;
use crate::entity::Item;
use crate::entity::{Entity, EntityKey, Millis, Space};
use crate::ids::{EvaluationId, InspectionId, ItemId, UnitId};
use crate::message::Msg;
use crate::mutation::{Change, Rejection};
use crate::op::{Op, SpaceOf, ensure_new, put};
use crate::permission::{self, Action, PlanAction};
use crate::state::State;
use crate::text;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Lowest and highest score.
pub const SCORES: std::ops::RangeInclusive<u8> = 1..=5;

/// An evaluation (评议) of one item: a score and a text, published when ready.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Id.
    pub id: EvaluationId,
    /// The item.
    pub item: ItemId,
    /// 区人大 or 区政协.
    pub unit: UnitId,
    /// Who wrote it.
    pub by_name: String,
    /// 1–5.
    pub score: u8,
    /// The evaluation.
    pub text: String,
    /// Published evaluations are seen by everyone; drafts only by their body and the office.
    pub published: bool,
    /// Last written.
    pub at: Millis,
    /// When published.
    pub published_at: Option<Millis>,
}

/// An inspection visit (视察) covering some items.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    /// Id.
    pub id: InspectionId,
    /// 区人大 or 区政协.
    pub unit: UnitId,
    /// Who recorded it.
    pub by_name: String,
    /// Date of the visit.
    pub date: NaiveDate,
    /// Items inspected.
    pub items: Vec<ItemId>,
    /// Findings.
    pub findings: String,
    /// When recorded.
    pub at: Millis,
}

fn check(state: &State, item: ItemId, actor: &Actor) -> Result<(), Rejection> {
    let item = state.find::<Item>(item)?;
    permission::check(actor, item, Action::Evaluate)?;
    Ok(())
}

/// Write or rewrite an evaluation (until it is published).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Id (new, or an unpublished one of the same body).
    pub id: EvaluationId,
    /// The item.
    pub item: ItemId,
    /// 1–5.
    pub score: u8,
    /// The evaluation.
    pub text: String,
    /// Client time.
    pub at: Millis,
}

impl Op for Record {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::evaluation(self.id), EntityKey::item(self.item)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Item(self.item))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        check(state, self.item, actor)
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        if !SCORES.contains(&self.score) {
            return Err(Rejection::Invalid(Msg::new(
                "评分应在1到5之间",
                "The score must be from 1 to 5",
            )));
        }
        if let Ok(existing) = state.find::<Evaluation>(self.id) {
            if existing.unit != actor.unit || existing.item != self.item {
                return Err(Rejection::Invalid(Msg::new(
                    "评议编号重复",
                    "This evaluation id is already taken",
                )));
            }
            if existing.published {
                return Err(Rejection::Invalid(Msg::new(
                    "评议已发布，不能修改",
                    "The evaluation is published and can no longer be changed",
                )));
            }
        }
        let e = Evaluation {
            id: self.id,
            item: self.item,
            unit: actor.unit,
            by_name: actor.name.clone(),
            score: self.score,
            text: text::FINDINGS.parse(&self.text)?,
            published: false,
            at: self.at,
            published_at: None,
        };
        Ok(vec![put(state, Entity::Evaluation(e))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

/// Publish an evaluation to the item's units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Publish {
    /// Evaluation.
    pub id: EvaluationId,
    /// Client time.
    pub at: Millis,
}

impl Op for Publish {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::evaluation(self.id)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Entity(EntityKey::evaluation(self.id))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        let e = state.find::<Evaluation>(self.id)?;
        check(state, e.item, actor)?;
        if e.unit != actor.unit {
            return Err(Rejection::Denied(Msg::new(
                "只能发布本单位的评议",
                "You can only publish your own unit's evaluations",
            )));
        }
        Ok(())
    }
    fn apply(&self, state: &mut State, _actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let mut e = state.find::<Evaluation>(self.id)?.clone();
        if e.published {
            return Ok(vec![]);
        }
        e.published = true;
        e.published_at = Some(self.at);
        Ok(vec![put(state, Entity::Evaluation(e))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

/// Record an inspection visit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordInspection {
    /// New id.
    pub id: InspectionId,
    /// Date of the visit.
    pub date: NaiveDate,
    /// Items inspected.
    pub items: Vec<ItemId>,
    /// Findings.
    pub findings: String,
    /// Client time.
    pub at: Millis,
}

impl Op for RecordInspection {
    fn keys(&self) -> Vec<EntityKey> {
        let mut keys = vec![EntityKey::inspection(self.id)];
        keys.extend(self.items.iter().map(|i| EntityKey::item(*i)));
        keys
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Plan)
    }
    fn authorize(&self, _state: &State, actor: &Actor) -> Result<(), Rejection> {
        permission::check_plan(actor, PlanAction::Inspect)?;
        Ok(())
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        ensure_new(
            state,
            &EntityKey::inspection(self.id),
            Msg::new("视察", "inspection"),
        )?;
        if self.items.is_empty()
            || self.items.len() > 100
            || self.items.iter().any(|i| state.item(*i).is_none())
        {
            return Err(Rejection::Invalid(Msg::new(
                "请选择视察的改革项目",
                "Choose the reform items inspected",
            )));
        }
        let mut items = self.items.clone();
        crate::sorting::sort(&mut items);
        items.dedup();
        let i = Inspection {
            id: self.id,
            unit: actor.unit,
            by_name: actor.name.clone(),
            date: self.date,
            items,
            findings: text::INSPECTION_FINDINGS.parse(&self.findings)?,
            at: self.at,
        };
        Ok(vec![put(state, Entity::Inspection(i))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}
