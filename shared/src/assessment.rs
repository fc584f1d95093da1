//! The year-end assessment (勤政考核): a score per unit from its submissions, its tasks, the
//! evaluations of the items it leads and their long-open difficulties, plus the office's
//! adjustments (each with a reason, audited). The formula is shown next to the figures.

use crate::actor::Actor;
use crate::calendar::{Deadline, Due, deadlines};
use crate::difficulty::STALE_DAYS;
use crate::entity::{Entity, EntityKey, Millis, Space, Visibility};
use crate::ids::{AdjustmentId, ItemId, UnitId};
use crate::message::Msg;
use crate::mutation::{Change, Rejection};
use crate::op::{Op, SpaceOf, end_of_day, ensure_new, put};
use crate::permission::{self, PlanAction};
use crate::state::State;
use crate::text;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Weight of on-time submissions.
pub const SUBMISSION_WEIGHT: f64 = 40.0;
/// Weight of tasks done on time.
pub const TASK_WEIGHT: f64 = 40.0;
/// Weight of the evaluations' average.
pub const EVALUATION_WEIGHT: f64 = 20.0;
/// Points off per difficulty open longer than `STALE_DAYS` on an item the unit leads.
pub const DIFFICULTY_PENALTY: f64 = 2.0;
/// Whether an adjustment of `points` may be made: within ±[`MAX_ADJUSTMENT`], not 0. (A range,
/// not `abs()`: the lowest i32 has no absolute value — a panic, or a wrap past the limit.)
pub fn points_allowed(points: i32) -> bool {
    points != 0 && (-MAX_ADJUSTMENT..=MAX_ADJUSTMENT).contains(&points)
}

/// Most points off for difficulties.
pub const MAX_DIFFICULTY_PENALTY: f64 = 10.0;
/// Largest adjustment the office may make at once, either way.
pub const MAX_ADJUSTMENT: i32 = 20;

/// The formula, as shown next to the figures.
pub const FORMULA_ZH: &str = "得分 = 100 ×（40×按时报送率 + 40×任务按时完成率 + 20×评议平均分/5）÷ 适用权重之和 − 2×牵头项目中超过30天未解决的困难和问题数（最多扣10分）+ 综合办调整分。按时报送率＝按时报送的工作方案和报告数÷已到期数；任务按时完成率＝在截止日前完成的任务数÷已到期任务数；评议平均分取区人大、区政协对其牵头项目各自最近一次发布的评议；某项没有已到期事项或评议时不计入，其权重也不计入分母；最低0分。";
/// The formula in English.
pub const FORMULA_EN: &str = "Score = 100 × (40 × on-time submission rate + 40 × on-time task rate + 20 × average evaluation / 5) ÷ the weights that apply − 2 per difficulty open over 30 days on items the unit leads (at most 10) + the office's adjustments. The average evaluation takes the latest published evaluation of each body (区人大, 区政协) on each item the unit leads. A part with nothing due yet (or no evaluation) is left out, weight and all; the lowest score is 0.";

/// An adjustment by the office.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adjustment {
    /// Id.
    pub id: AdjustmentId,
    /// The unit.
    pub unit: UnitId,
    /// Points added (negative: taken off).
    pub points: i32,
    /// Why.
    pub reason: String,
    /// Who.
    pub by_name: String,
    /// When.
    pub at: Millis,
}

impl Adjustment {
    /// The unit and those who oversee the plan see it: the leaders and supervisors read every
    /// unit's score, which would otherwise leave the adjustments out.
    pub fn visibility(&self) -> Visibility {
        Visibility::Oversight(self.unit)
    }
}

/// One unit's score and how it was reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The unit.
    pub unit: UnitId,
    /// Its name.
    pub name: String,
    /// Submissions due by the date, of items it leads.
    pub submissions_due: usize,
    /// Of those, submitted by their due date.
    pub submissions_on_time: usize,
    /// Tasks it owns that fell due by the date.
    pub tasks_due: usize,
    /// Of those, done by their due date.
    pub tasks_on_time: usize,
    /// Average published evaluation of items it leads.
    pub evaluation: Option<f64>,
    /// Difficulties open over `STALE_DAYS` on items it leads.
    pub stale_difficulties: usize,
    /// Before penalty and adjustments.
    pub base: f64,
    /// Points off for difficulties.
    pub penalty: f64,
    /// The office's adjustments, summed.
    pub adjustment: i32,
    /// The score.
    pub total: f64,
    /// Its place: units with the same score share one (并列), the next counts them all
    /// (100, 100, 90 are 1st, 1st, 3rd).
    pub rank: usize,
}

/// Scores of every unit with something to answer for (it leads an item or owes a task with a
/// due date), best
/// first, as of the end of `as_of`.
pub fn assess(state: &State, as_of: NaiveDate) -> Vec<Score> {
    let end = end_of_day(as_of);
    let items = state.items();
    // What fell due by then, with who owed it: the deadlines every other screen reads (督查,
    // the bulletins, the reminders), so a task given to a group counts for each of its members
    // as their reminders and the bulletin name them, not for the group.
    // (A unit with deadlines still ahead is listed too, with nothing due yet.)
    let owed: Vec<(Deadline, Vec<UnitId>)> = deadlines(state, None, as_of)
        .into_iter()
        .map(|d| {
            let units = d.owed_by(state);
            (d, units)
        })
        .collect();
    let leads = |u: UnitId, item: &crate::entity::Item| {
        item.lead_units
            .iter()
            .any(|l| state.readers_of(*l).contains(&u))
    };
    let mut scores: Vec<Score> = state
        .units()
        .filter(|u| {
            items.iter().any(|i| leads(u.id, i))
                || owed.iter().any(|(_, units)| units.contains(&u.id))
        })
        .map(|u| {
            let led: Vec<_> = items.iter().filter(|i| leads(u.id, i)).collect();
            let (mut sub_due, mut sub_ok) = (0, 0);
            let (mut task_due, mut task_ok) = (0, 0);
            for (d, units) in &owed {
                if d.date > as_of || !units.contains(&u.id) {
                    continue;
                }
                let (due, ok) = match d.due {
                    Due::Submission { .. } => (&mut sub_due, &mut sub_ok),
                    Due::Task { .. } => (&mut task_due, &mut task_ok),
                };
                *due += 1;
                if d.met_on.is_some_and(|m| m <= d.date) {
                    *ok += 1;
                }
            }
            // Each body's latest published word on each item counts once: the People's
            // Congress evaluating an item three times must not outweigh the CPPCC's once.
            let mut latest: BTreeMap<(ItemId, UnitId), (Millis, u8)> = BTreeMap::new();
            for e in state
                .evaluations()
                .filter(|e| led.iter().any(|i| i.id == e.item))
                .filter(|e| e.published)
            {
                let Some(at) = e.published_at.filter(|p| *p <= end) else {
                    continue;
                };
                let slot = latest.entry((e.item, e.unit)).or_insert((at, e.score));
                if at > slot.0 {
                    *slot = (at, e.score);
                }
            }
            let evals: Vec<u8> = latest.values().map(|(_, score)| *score).collect();
            let evaluation = (!evals.is_empty())
                .then(|| evals.iter().map(|s| f64::from(*s)).sum::<f64>() / evals.len() as f64);
            let stale = state
                .difficulties()
                .filter(|d| led.iter().any(|i| i.id == d.item))
                .filter(|d| d.open_at(end) && d.age_days(as_of) > STALE_DAYS)
                .count();
            let mut weighted = 0.0;
            let mut weights = 0.0;
            if sub_due > 0 {
                weighted += SUBMISSION_WEIGHT * sub_ok as f64 / sub_due as f64;
                weights += SUBMISSION_WEIGHT;
            }
            if task_due > 0 {
                weighted += TASK_WEIGHT * task_ok as f64 / task_due as f64;
                weights += TASK_WEIGHT;
            }
            if let Some(e) = evaluation {
                weighted += EVALUATION_WEIGHT * e / 5.0;
                weights += EVALUATION_WEIGHT;
            }
            let base = if weights > 0.0 {
                100.0 * weighted / weights
            } else {
                100.0
            };
            let penalty = (DIFFICULTY_PENALTY * stale as f64).min(MAX_DIFFICULTY_PENALTY);
            let adjustment: i32 = state
                .adjustments()
                // Adjustments are made after the fact (at year end, for the year): they count
                // whatever date the assessment is viewed as of.
                .filter(|a| a.unit == u.id)
                .map(|a| a.points)
                .sum();
            let total = (base - penalty + f64::from(adjustment)).max(0.0);
            Score {
                unit: u.id,
                name: u.name.clone(),
                submissions_due: sub_due,
                submissions_on_time: sub_ok,
                tasks_due: task_due,
                tasks_on_time: task_ok,
                evaluation,
                stale_difficulties: stale,
                base: round1(base),
                penalty,
                adjustment,
                total: round1(total),
                rank: 0,
            }
        })
        .collect();
    crate::sorting::sort_by(&mut scores, |a, b| {
        b.total.total_cmp(&a.total).then(a.name.cmp(&b.name))
    });
    let totals: Vec<f64> = scores.iter().map(|s| s.total).collect();
    for s in &mut scores {
        s.rank = 1 + totals.iter().filter(|t| **t > s.total).count();
    }
    scores
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The office adjusts a unit's score, with a reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adjust {
    /// New id.
    pub id: AdjustmentId,
    /// The unit.
    pub unit: UnitId,
    /// Points, −20…20, not 0.
    pub points: i32,
    /// Why.
    pub reason: String,
    /// Client time.
    pub at: Millis,
}

impl Op for Adjust {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::adjustment(self.id), EntityKey::unit(self.unit)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Plan)
    }
    fn authorize(&self, _state: &State, actor: &Actor) -> Result<(), Rejection> {
        permission::check_plan(actor, PlanAction::Supervise)?;
        Ok(())
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        ensure_new(
            state,
            &EntityKey::adjustment(self.id),
            Msg::new("调整", "adjustment"),
        )?;
        if state.unit(self.unit).is_none() {
            return Err(crate::state::missing::<crate::entity::Unit>());
        }
        if !points_allowed(self.points) {
            return Err(Rejection::Invalid(crate::msg!(
                "调整分应在−{MAX_ADJUSTMENT}到{MAX_ADJUSTMENT}之间且不为0",
                "An adjustment is from −{MAX_ADJUSTMENT} to {MAX_ADJUSTMENT} points, and not 0"
            )));
        }
        let a = Adjustment {
            id: self.id,
            unit: self.unit,
            points: self.points,
            reason: text::ADJUSTMENT_REASON.parse(&self.reason)?,
            by_name: actor.name.clone(),
            at: self.at,
        };
        Ok(vec![put(state, Entity::Adjustment(a))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}
