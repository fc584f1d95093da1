//! Work plans and reports (报送材料): each item's lead unit drafts and submits its work plan
//! (工作方案), half-year and annual reports; the office accepts or returns them. Every submitted
//! version is kept.

use crate::actor::{Actor, Role};
use crate::entity::Item;
use crate::entity::{Entity, EntityKey, Millis, Space};
use crate::ids::{ItemId, SubmissionId, UnitId, UserId, submission_id};
use crate::message::Msg;
use crate::mutation::{Change, Rejection};
use crate::op::{Op, SpaceOf, local_date, put};
use crate::permission::{self, Action};
use crate::state::State;
use crate::text;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Which submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionKind {
    /// 工作方案: steps, measures, schedule; due by the date the plan gives.
    WorkPlan,
    /// 半年报告.
    HalfYear,
    /// 年度报告.
    Annual,
}

impl SubmissionKind {
    /// All kinds, in the order they fall due.
    pub const ALL: [SubmissionKind; 3] = [Self::WorkPlan, Self::HalfYear, Self::Annual];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WorkPlan => "work_plan",
            Self::HalfYear => "half_year",
            Self::Annual => "annual",
        }
    }

    /// The kind with this stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Name in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Self::WorkPlan => "工作方案",
            Self::HalfYear => "半年报告",
            Self::Annual => "年度报告",
        }
    }

    /// Name in English.
    pub fn en(self) -> &'static str {
        match self {
            Self::WorkPlan => "Work plan",
            Self::HalfYear => "Half-year report",
            Self::Annual => "Annual report",
        }
    }

    /// The name as it reads inside a sentence, in both languages ("the work plan is …").
    pub fn in_sentence(self) -> Msg {
        match self {
            Self::WorkPlan => Msg::new("工作方案", "work plan"),
            Self::HalfYear => Msg::new("半年报告", "half-year report"),
            Self::Annual => Msg::new("年度报告", "annual report"),
        }
    }

    /// The parts its text has, (Chinese, English). A work plan's third part is its schedule,
    /// which can be filled from the item's tasks (`schedule_from_tasks`).
    pub fn parts(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::WorkPlan => &[
                ("实施步骤", "Steps"),
                ("工作措施", "Measures"),
                ("进度安排", "Schedule"),
            ],
            Self::HalfYear | Self::Annual => &[
                ("工作进展", "Progress"),
                ("取得成效", "Results"),
                ("存在问题", "Problems"),
                ("下一步计划", "Next steps"),
            ],
        }
    }
}

/// Where a submission is in review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionState {
    /// 草稿: being written, seen only by its unit and the office.
    Draft,
    /// 已报送: waiting for the office.
    Submitted,
    /// 退回修改: the office sent it back with comments.
    Returned,
    /// 已通过.
    Accepted,
}

impl SubmissionState {
    /// Name in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Draft => "草稿",
            Self::Submitted => "已报送",
            Self::Returned => "退回修改",
            Self::Accepted => "已通过",
        }
    }

    /// Name in English.
    pub fn en(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Submitted => "Submitted",
            Self::Returned => "Returned",
            Self::Accepted => "Accepted",
        }
    }

    /// The state as it reads inside a sentence, in both languages ("… is submitted").
    pub fn in_sentence(self) -> Msg {
        match self {
            Self::Draft => Msg::new("草稿", "a draft"),
            Self::Submitted => Msg::new("已报送", "submitted"),
            Self::Returned => Msg::new("退回修改", "returned for changes"),
            Self::Accepted => Msg::new("已通过", "accepted"),
        }
    }
}

/// The office's decision on a version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// Accepted (true) or returned.
    pub accepted: bool,
    /// The office's comments.
    pub comment: String,
    /// Reviewer.
    pub by: UserId,
    /// Reviewer's name.
    pub by_name: String,
    /// When.
    pub at: Millis,
}

/// One submitted version, kept forever.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Version {
    /// 1, 2, …
    pub number: u32,
    /// The text, part by part.
    pub parts: Vec<String>,
    /// Who submitted it.
    pub submitted_by: UserId,
    /// Their name.
    pub submitted_by_name: String,
    /// When.
    pub submitted_at: Millis,
    /// The office's decision, once made.
    pub review: Option<Review>,
}

/// A work plan or report of one item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// Id (derived from item and kind).
    pub id: SubmissionId,
    /// The item.
    pub item: ItemId,
    /// Which one.
    pub kind: SubmissionKind,
    /// The unit drafting it.
    pub unit: UnitId,
    /// Review state.
    pub state: SubmissionState,
    /// The current draft, part by part.
    pub parts: Vec<String>,
    /// Every submitted version, oldest first.
    pub versions: Vec<Version>,
    /// Last edited.
    pub updated_at: Millis,
}

impl Submission {
    /// When it was first submitted.
    pub fn first_submitted(&self) -> Option<Millis> {
        self.versions.first().map(|v| v.submitted_at)
    }

    /// Its state as it stood at `at` (None: not yet submitted then, or not yet begun).
    pub fn state_at(&self, at: Millis) -> Option<SubmissionState> {
        let last = self.versions.iter().rev().find(|v| v.submitted_at <= at)?;
        Some(match &last.review {
            Some(r) if r.at <= at && r.accepted => SubmissionState::Accepted,
            Some(r) if r.at <= at => SubmissionState::Returned,
            _ => SubmissionState::Submitted,
        })
    }

    /// Days late its first submission was against `due` (0 or less: on time), or None when it
    /// has not been submitted.
    pub fn days_late(&self, due: NaiveDate) -> Option<i64> {
        self.first_submitted()
            .map(|at| (local_date(at) - due).num_days())
    }

    /// Whether it may still be edited by its unit.
    pub fn editable(&self) -> bool {
        matches!(
            self.state,
            SubmissionState::Draft | SubmissionState::Returned
        )
    }
}

/// The item's tasks as a schedule, for a work plan's 进度安排: one line per live task, by due date.
pub fn schedule_from_tasks(state: &State, item: ItemId) -> String {
    let mut tasks: Vec<_> = state
        .tasks()
        .filter(|t| t.item == item && !t.archived)
        .collect();
    crate::sorting::sort_by(&mut tasks, |a, b| {
        a.due.cmp(&b.due).then(a.sort_key.cmp(&b.sort_key))
    });
    tasks
        .iter()
        .enumerate()
        .map(|(n, t)| {
            let owner = state.unit(t.owner).map_or("", |u| u.name.as_str());
            let due = t
                .due
                .map(|d| format!("{}前", crate::board::zh_date(d)))
                .unwrap_or_default();
            format!("{}. {}（{}）{}", n + 1, t.title, owner, due)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The unit's new text of a submission the office returned, kept apart until it is submitted
/// again. A submission is seen by everyone once first submitted (what was sent, and the
/// office's answer), while work in progress is only its unit's and the office's; written into
/// the submission itself, a redraft would reach every reader before it was sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Redraft {
    /// The submission's id.
    pub id: SubmissionId,
    /// The item.
    pub item: ItemId,
    /// The unit drafting it.
    pub unit: UnitId,
    /// The text, part by part.
    pub parts: Vec<String>,
    /// Last edited.
    pub updated_at: Millis,
}

/// The text its unit is working on: its redraft once it has been submitted, else its own.
pub fn working_parts<'a>(state: &'a State, s: &'a Submission) -> &'a [String] {
    match state.get(&EntityKey::redraft(s.id)) {
        Some(Entity::Redraft(r)) => &r.parts,
        _ => &s.parts,
    }
}

/// Save the draft of an item's submission (creating it on first save).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SaveDraft {
    /// `submission_id(item, kind)`.
    pub id: SubmissionId,
    /// The item.
    pub item: ItemId,
    /// Which submission.
    pub kind: SubmissionKind,
    /// The text, part by part (as many as `kind.parts()`).
    pub parts: Vec<String>,
    /// Client time.
    pub at: Millis,
}

/// Whether `actor` may change `s` (its text, its evidence, submitting it): the unit that drafts
/// it, or the office. A draft is seen only by its unit and the office, so on an item with two
/// lead units the other one would otherwise overwrite text it never saw.
pub fn check_drafter(state: &State, s: &Submission, actor: &Actor) -> Result<(), Rejection> {
    check_drafting_unit(state, s.unit, s.kind, actor)
}

/// The unit that drafts an item's work plan and reports: the first of its lead units (主牵头),
/// the others contributing through it. Fixed before any draft exists, so the other lead units
/// (who can't see a draft until it is submitted) know from the start it is not theirs to write,
/// rather than learning it when what they typed is refused.
pub fn drafting_unit(item: &Item) -> Option<UnitId> {
    item.lead_units.first().copied()
}

/// Whether `actor` may draft a submission `unit` drafts: that unit, or the office.
fn check_drafting_unit(
    state: &State,
    unit: UnitId,
    kind: SubmissionKind,
    actor: &Actor,
) -> Result<(), Rejection> {
    if actor.role == Role::Office || unit == actor.unit {
        return Ok(());
    }
    let drafter = state.unit(unit).map_or_else(
        || Msg::new("另一牵头单位", "another lead unit"),
        |u| Msg::as_written(&u.name),
    );
    Err(Rejection::Denied(crate::msg!(
        "{kind}由{drafter}起草，只有起草单位和综合办可以修改或报送",
        "This {kind} is drafted by {drafter}: only the drafting unit and the reform office can change or submit it",
        kind = kind.in_sentence(),
        drafter = drafter
    )))
}

impl Op for SaveDraft {
    fn keys(&self) -> Vec<EntityKey> {
        vec![
            EntityKey::submission(self.id),
            EntityKey::item(self.item),
            EntityKey::redraft(self.id),
        ]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Item(self.item))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        let item = state.find::<Item>(self.item)?;
        permission::check(actor, item, Action::Report)?;
        match state.get(&EntityKey::submission(self.id)) {
            // Whoever began it keeps it (a draft begun before the first lead unit drafted).
            Some(Entity::Submission(existing)) => check_drafter(state, existing, actor),
            _ => match drafting_unit(item) {
                Some(unit) => check_drafting_unit(state, unit, self.kind, actor),
                None => Ok(()),
            },
        }
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        if self.id != submission_id(self.item, self.kind.as_str()) {
            return Err(Rejection::Invalid(Msg::new(
                "报送材料编号与项目不符",
                "The submission's id does not match the item",
            )));
        }
        if self.parts.len() != self.kind.parts().len() {
            return Err(Rejection::Invalid(Msg::new(
                "报送内容的部分数量不对",
                "The submission has the wrong number of parts",
            )));
        }
        let parts = self
            .parts
            .iter()
            .map(|p| text::SUBMISSION_PART.parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        let submission = match state.get(&EntityKey::submission(self.id)) {
            Some(Entity::Submission(existing)) => {
                if !existing.editable() {
                    return Err(Rejection::Invalid(crate::msg!(
                        "{kind}{state}，不能再修改",
                        "This {kind} is {state}: it can no longer be changed",
                        kind = existing.kind.in_sentence(),
                        state = existing.state.in_sentence()
                    )));
                }
                if !existing.versions.is_empty() {
                    let redraft = Redraft {
                        id: self.id,
                        item: self.item,
                        unit: existing.unit,
                        parts,
                        updated_at: self.at,
                    };
                    return Ok(vec![put(state, Entity::Redraft(redraft))]);
                }
                Submission {
                    parts,
                    updated_at: self.at,
                    ..existing.clone()
                }
            }
            _ => {
                let item = state.find::<Item>(self.item)?;
                // The office may start a draft for the drafting unit; the draft is still the
                // unit's.
                let unit = drafting_unit(item).unwrap_or(actor.unit);
                Submission {
                    id: self.id,
                    item: self.item,
                    kind: self.kind,
                    unit,
                    state: SubmissionState::Draft,
                    parts,
                    versions: vec![],
                    updated_at: self.at,
                }
            }
        };
        Ok(vec![put(state, Entity::Submission(submission))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

/// Submit the current draft to the office (a new version).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submit {
    /// Submission.
    pub id: SubmissionId,
    /// Client time.
    pub at: Millis,
}

impl Op for Submit {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::submission(self.id), EntityKey::redraft(self.id)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Entity(EntityKey::submission(self.id))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        let s = state.find::<Submission>(self.id)?;
        permission::check(actor, state.find::<Item>(s.item)?, Action::Report)?;
        check_drafter(state, s, actor)
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let mut s = state.find::<Submission>(self.id)?.clone();
        if !s.editable() {
            return Err(Rejection::Invalid(crate::msg!(
                "{kind}{state}，不能重复报送",
                "This {kind} is {state}: it cannot be submitted again",
                kind = s.kind.in_sentence(),
                state = s.state.in_sentence()
            )));
        }
        // A resubmission sends the redraft; it is kept (nothing is deleted), and from now on
        // holds the same text as the submission.
        s.parts = working_parts(state, &s).to_vec();
        if s.parts.iter().all(|p| p.trim().is_empty()) {
            return Err(Rejection::Invalid(Msg::new(
                "报送内容不能为空",
                "The submission cannot be empty",
            )));
        }
        let number = u32::try_from(s.versions.len() + 1).unwrap_or(u32::MAX);
        s.versions.push(Version {
            number,
            parts: s.parts.clone(),
            submitted_by: actor.user,
            submitted_by_name: actor.name.clone(),
            submitted_at: self.at,
            review: None,
        });
        s.state = SubmissionState::Submitted;
        s.updated_at = self.at;
        Ok(vec![put(state, Entity::Submission(s))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

/// The office accepts the submitted version or returns it with comments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewSubmission {
    /// Submission.
    pub id: SubmissionId,
    /// Accept (true) or return.
    pub accept: bool,
    /// Comments (required when returning).
    pub comment: String,
    /// Client time.
    pub at: Millis,
}

impl Op for ReviewSubmission {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::submission(self.id)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Entity(EntityKey::submission(self.id))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        let s = state.find::<Submission>(self.id)?;
        permission::check(actor, state.find::<Item>(s.item)?, Action::Review)?;
        Ok(())
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let mut s = state.find::<Submission>(self.id)?.clone();
        if s.state != SubmissionState::Submitted {
            return Err(Rejection::Invalid(crate::msg!(
                "{kind}{state}，无需审核",
                "This {kind} is {state}: there is nothing to review",
                kind = s.kind.in_sentence(),
                state = s.state.in_sentence()
            )));
        }
        let comment = text::REVIEW_COMMENT.parse(&self.comment)?;
        if !self.accept && comment.is_empty() {
            return Err(Rejection::Invalid(Msg::new(
                "退回修改时请写明审核意见",
                "Write a review comment when returning it for changes",
            )));
        }
        let Some(version) = s.versions.last_mut() else {
            return Err(Rejection::Invalid(Msg::new(
                "没有可审核的版本",
                "There is no version to review",
            )));
        };
        version.review = Some(Review {
            accepted: self.accept,
            comment,
            by: actor.user,
            by_name: actor.name.clone(),
            at: self.at,
        });
        s.state = if self.accept {
            SubmissionState::Accepted
        } else {
            SubmissionState::Returned
        };
        s.updated_at = self.at;
        Ok(vec![put(state, Entity::Submission(s))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}
