//! The plan's calendar: when each submission is due (the work plan on the date the document
//! gives; the half-year and annual reports on dates the office sets), and every deadline of the
//! plan in one list for the timeline.

use crate::actor::Actor;
use crate::board::Column;
use crate::entity::{Entity, EntityKey, Millis, Space};
use crate::ids::{ItemId, TaskId, UnitId, submission_id};
use crate::message::Msg;
use crate::mutation::{Change, Rejection};
use crate::op::{Op, SpaceOf, local_date, put};
use crate::permission::{self, PlanAction};
use crate::state::State;
use crate::submission::{Submission, SubmissionKind};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// When submissions are due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    /// 工作方案.
    pub work_plan: NaiveDate,
    /// 半年报告.
    pub half_year: NaiveDate,
    /// 年度报告.
    pub annual: NaiveDate,
}

impl Calendar {
    /// The due date of `kind`.
    pub fn due(&self, kind: SubmissionKind) -> NaiveDate {
        match kind {
            SubmissionKind::WorkPlan => self.work_plan,
            SubmissionKind::HalfYear => self.half_year,
            SubmissionKind::Annual => self.annual,
        }
    }
}

/// The calendar in force: the office's, or the defaults from the plan document (work plan as
/// the document says, else 3月31日; half-year report 7月10日; annual report 次年1月10日).
/// None when the plan's year is unknown.
pub fn calendar(state: &State) -> Option<Calendar> {
    if let Some(Entity::Calendar(c)) = state.get(&EntityKey::calendar()) {
        return Some(c.clone());
    }
    let plan = state.plan()?;
    let year = plan.year.or(plan.issue_date.map(|d| d.year()))?;
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
    Some(Calendar {
        work_plan: plan.deadlines.work_plan.or(date(year, 3, 31))?,
        half_year: date(year, 7, 10)?,
        annual: date(year + 1, 1, 10)?,
    })
}

/// Days after its last deadline at which a plan's record closes: late reports and tasks still
/// come in for a while after the annual report's date; long after it, the plan is history.
pub const CLOSES_AFTER_DAYS: i64 = 90;

/// The last day the plan asks anything of anyone: the annual report's date or the latest due
/// date of a live task, whichever is later. None when the plan's year is unknown.
pub fn last_deadline(state: &State) -> Option<NaiveDate> {
    let annual = calendar(state).map(|c| c.annual);
    let tasks = state
        .tasks()
        .filter(|t| !t.archived)
        .filter_map(|t| t.due)
        .max();
    annual.into_iter().chain(tasks).max()
}

/// Whether the plan is over by `day` (`CLOSES_AFTER_DAYS` past its last deadline): nobody is
/// chased any more (the daily reminders stop), and the screens offer it as it ended.
pub fn closed_by(state: &State, day: NaiveDate) -> bool {
    last_deadline(state).is_some_and(|end| day > end + chrono::Duration::days(CLOSES_AFTER_DAYS))
}

/// The first day the plan runs: its issue date, else 1 January of its year.
pub fn plan_start(state: &State) -> Option<NaiveDate> {
    let plan = state.plan()?;
    plan.issue_date
        .or_else(|| plan.year.and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1)))
}

/// Which submissions the plan requires of every item.
pub fn required_kinds(state: &State) -> Vec<SubmissionKind> {
    let Some(plan) = state.plan() else {
        return SubmissionKind::ALL.to_vec();
    };
    let d = &plan.deadlines;
    SubmissionKind::ALL
        .into_iter()
        .filter(|k| match k {
            SubmissionKind::WorkPlan => true,
            SubmissionKind::HalfYear => d.half_year_report || !d.annual_report,
            SubmissionKind::Annual => d.annual_report || !d.half_year_report,
        })
        .collect()
}

/// `item`'s submission of `kind`, if begun (and visible).
pub fn submission(state: &State, item: ItemId, kind: SubmissionKind) -> Option<&Submission> {
    match state.get(&EntityKey::submission(submission_id(item, kind.as_str()))) {
        Some(Entity::Submission(s)) => Some(s),
        _ => None,
    }
}

/// The office sets the submission dates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetCalendar {
    /// 工作方案.
    pub work_plan: NaiveDate,
    /// 半年报告.
    pub half_year: NaiveDate,
    /// 年度报告.
    pub annual: NaiveDate,
    /// Client time.
    pub at: Millis,
}

impl Op for SetCalendar {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::calendar()]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Plan)
    }
    fn authorize(&self, _state: &State, actor: &Actor) -> Result<(), Rejection> {
        permission::check_plan(actor, PlanAction::Supervise)?;
        Ok(())
    }
    fn apply(&self, state: &mut State, _actor: &Actor) -> Result<Vec<Change>, Rejection> {
        if !(self.work_plan <= self.half_year && self.half_year <= self.annual) {
            return Err(Rejection::Invalid(Msg::new(
                "报送日期应依次为工作方案、半年报告、年度报告",
                "The dates must run in order: work plan, half-year report, annual report",
            )));
        }
        let c = Calendar {
            work_plan: self.work_plan,
            half_year: self.half_year,
            annual: self.annual,
        };
        Ok(vec![put(state, Entity::Calendar(c))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

/// What falls due.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Due {
    /// A task.
    Task {
        /// Task.
        task: TaskId,
        /// Its title.
        title: String,
        /// Its owner.
        owner: UnitId,
    },
    /// A submission.
    Submission {
        /// Which.
        kind: SubmissionKind,
    },
}

/// One deadline of the plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deadline {
    /// The date.
    pub date: NaiveDate,
    /// The item.
    pub item: ItemId,
    /// What.
    pub due: Due,
    /// The day it was met (task done; submission first submitted, `met_by`), if it was by
    /// `as_of`.
    pub met_on: Option<NaiveDate>,
}

impl Deadline {
    /// Whether it is overdue as of `as_of`: past and not met (one met late no longer is). What
    /// 督查 lists and chases, and what a bulletin names as still overdue.
    pub fn overdue(&self, as_of: NaiveDate) -> bool {
        self.met_on.is_none() && self.date < as_of
    }

    /// The units that have to meet it, as they read their reminders: a task's owner (a
    /// group's members, `State::readers_of`); each of the item's lead units for a submission.
    pub fn owed_by(&self, state: &State) -> Vec<UnitId> {
        let units = match &self.due {
            Due::Task { owner, .. } => vec![*owner],
            Due::Submission { .. } => state
                .item(self.item)
                .map(|i| i.lead_units.clone())
                .unwrap_or_default(),
        };
        units
            .into_iter()
            .flat_map(|u| state.readers_of(u))
            .collect()
    }

    /// Whether it was met, but after its date.
    pub fn met_late(&self) -> bool {
        self.met_on.is_some_and(|d| d > self.date)
    }

    /// Whether it was missed as of `as_of`: past and not met, or met late.
    pub fn missed(&self, as_of: NaiveDate) -> bool {
        match self.met_on {
            Some(d) => d > self.date,
            None => self.date < as_of,
        }
    }
}

/// Every deadline of the plan as of `as_of` (tasks that existed then; submissions the plan
/// requires), by date; only `item`'s when given.
pub fn deadlines(state: &State, item: Option<ItemId>, as_of: NaiveDate) -> Vec<Deadline> {
    let end = crate::op::end_of_day(as_of);
    let mut out = Vec::new();
    for t in state.tasks() {
        if t.archived || item.is_some_and(|i| i != t.item) {
            continue;
        }
        // As it stood then: its due date before a postponement approved later, done only if
        // done by then (the item's light reads the task the same way, `status_of_item`).
        let Some(t) = crate::status::task_as_of(t, end) else {
            continue;
        };
        let Some(date) = t.due else { continue };
        out.push(Deadline {
            date,
            item: t.item,
            due: Due::Task {
                task: t.id,
                title: t.title.clone(),
                owner: t.owner,
            },
            met_on: task_done_at(&t).filter(|d| *d <= end).map(local_date),
        });
    }
    if let Some(cal) = calendar(state) {
        let kinds = required_kinds(state);
        for it in state.items() {
            if item.is_some_and(|i| i != it.id) {
                continue;
            }
            for kind in &kinds {
                out.push(Deadline {
                    date: cal.due(*kind),
                    item: it.id,
                    due: Due::Submission { kind: *kind },
                    met_on: submission(state, it.id, *kind).and_then(|s| met_by(s, end)),
                });
            }
        }
    }
    crate::sorting::sort_by(&mut out, |a, b| {
        a.date.cmp(&b.date).then(a.item.cmp(&b.item))
    });
    out
}

/// The day a submission met its deadline, as it stood at `end`: the day it was first
/// submitted, unless the office had returned it for changes and it was not yet submitted
/// again — a placeholder sent on time and sent back is still owed (reminded, counted missed)
/// until it comes back; once it does, the first submission's day stands.
pub fn met_by(s: &Submission, end: Millis) -> Option<NaiveDate> {
    if s.state_at(end) == Some(crate::submission::SubmissionState::Returned) {
        return None;
    }
    s.first_submitted().filter(|at| *at <= end).map(local_date)
}

/// When a task was done: its `done_at`, or for a card moved to done before that was recorded,
/// its last change.
pub fn task_done_at(t: &crate::entity::Task) -> Option<Millis> {
    (t.column == Column::Done).then_some(t.done_at.unwrap_or(t.updated_at))
}

/// Whether a task was done after its due date (逾期完成): the assessment counts it as missed,
/// and the board and the timeline say so rather than showing it like one done on time.
pub fn task_done_late(t: &crate::entity::Task) -> bool {
    t.due
        .is_some_and(|due| task_done_at(t).is_some_and(|at| local_date(at) > due))
}
