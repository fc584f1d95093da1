//! Progress bulletins (通报): the office generates one for an as-of date from the plan's state,
//! edits the text, and publishes it to every unit; units mark it read.

use crate::actor::Actor;
use crate::board::zh_date;
use crate::calendar::{calendar, deadlines};
use crate::entity::{Entity, EntityKey, Millis, Space, Visibility};
use crate::ids::{BulletinId, UnitId};
use crate::message::Msg;
use crate::mutation::{Change, Rejection};
use crate::op::{Op, SpaceOf, put};
use crate::permission::{self, PlanAction};
use crate::state::State;
use crate::status::{ItemStatus, Light, status_of_item};
use crate::text;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A bulletin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bulletin {
    /// Id.
    pub id: BulletinId,
    /// Title, e.g. 2014年第一季度重点改革工作进展情况通报.
    pub title: String,
    /// The date the figures are as of.
    pub as_of: NaiveDate,
    /// The text.
    pub body: String,
    /// The unit of the account that saved it (drafts are the office's whatever it is:
    /// [`Bulletin::visibility`]).
    pub unit: UnitId,
    /// Who wrote it.
    pub by_name: String,
    /// Published to all units.
    pub published: bool,
    /// When published.
    pub published_at: Option<Millis>,
    /// Last edited.
    pub updated_at: Millis,
    /// Units that have read it.
    pub read_by: Vec<UnitId>,
}

impl Bulletin {
    /// Who may see it: a draft the office only (it names the units behind), whatever unit the
    /// account that wrote it belongs to.
    pub fn visibility(&self) -> Visibility {
        if self.published {
            Visibility::Everyone
        } else {
            Visibility::Unit(crate::ids::unit_id_for_name(crate::unit::OFFICE_UNIT))
        }
    }
}

/// A generated first draft: title and text for the plan as it stood at `as_of`.
pub fn draft(state: &State, as_of: NaiveDate) -> (String, String) {
    let plan_title = state.plan().map_or("重点改革计划", |p| p.title.as_str());
    let title = format!("关于{}实施情况的通报（截至{}）", plan_title, zh_date(as_of));
    let items = state.items();
    let statuses: Vec<_> = items
        .iter()
        .map(|i| (*i, status_of_item(state, i.id, as_of)))
        .collect();
    let count = |l: Light| statuses.iter().filter(|(_, s)| s.light == l).count();
    let unit_name = |u: UnitId| state.unit(u).map_or_else(String::new, |u| u.name.clone());
    let mut body = String::new();
    body.push_str(&format!(
        "各有关单位：\n\n截至{}，{}共{}项改革任务，进展正常{}项、预警{}项、滞后{}项。现将有关情况通报如下：\n\n",
        zh_date(as_of),
        plan_title,
        items.len(),
        count(Light::Green),
        count(Light::Amber),
        count(Light::Red)
    ));
    body.push_str("一、各项改革进展情况\n");
    for (item, s) in &statuses {
        let leads: Vec<String> = item.lead_units.iter().map(|u| unit_name(*u)).collect();
        let reasons: Vec<String> = s.reasons.iter().map(|r| r.zh()).collect();
        body.push_str(&format!(
            "{}. {}（牵头：{}）：{}，总体进度{}%{}。\n",
            item.number,
            item.title.trim_end_matches('。'),
            leads.join("、"),
            s.light.zh(),
            s.progress,
            if reasons.is_empty() {
                String::new()
            } else {
                format!("；{}", reasons.join("；"))
            }
        ));
    }
    // By unit: every deadline due by then, credited to the units that had to meet it. "Still
    // overdue" is what 督查 lists on that date; one met late counts against timeliness only.
    let mut on_time: BTreeMap<String, usize> = BTreeMap::new();
    let mut met_late: BTreeMap<String, usize> = BTreeMap::new();
    let mut overdue: BTreeMap<String, usize> = BTreeMap::new();
    for d in deadlines(state, None, as_of) {
        if d.date > as_of {
            continue;
        }
        let bucket = if d.overdue(as_of) {
            &mut overdue
        } else if d.met_late() {
            &mut met_late
        } else if d.met_on.is_some() {
            &mut on_time
        } else {
            // Due today and not met yet: neither late nor done.
            continue;
        };
        for u in d.owed_by(state) {
            *bucket.entry(unit_name(u)).or_default() += 1;
        }
    }
    let counted = |m: BTreeMap<String, usize>| -> String {
        let mut list: Vec<(String, usize)> = m.into_iter().collect();
        crate::sorting::sort_by(&mut list, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if list.is_empty() {
            return "无".into();
        }
        list.iter()
            .map(|(u, n)| format!("{u}（{n}项）"))
            .collect::<Vec<_>>()
            .join("、")
    };
    body.push_str("\n二、按时完成情况\n");
    let on_time_only: Vec<String> = on_time
        .keys()
        .filter(|u| !met_late.contains_key(*u) && !overdue.contains_key(*u))
        .cloned()
        .collect();
    body.push_str(&format!(
        "按时完成全部到期任务和报送材料的单位：{}。\n",
        if on_time_only.is_empty() {
            "暂无".into()
        } else {
            on_time_only.join("、")
        }
    ));
    body.push_str(&format!("逾期后完成事项的单位：{}。\n", counted(met_late)));
    body.push_str(&format!(
        "目前仍有逾期未完成事项的单位：{}。\n",
        counted(overdue)
    ));
    body.push_str("\n三、工作亮点\n");
    body.push_str(&bullet_lines(&highlights(&statuses), "（请综合办补充）"));
    body.push_str("\n四、存在问题\n");
    let problems: Vec<String> = statuses
        .iter()
        .filter(|(_, s)| s.light == Light::Red)
        .map(|(i, s)| {
            let r: Vec<String> = s.reasons.iter().map(|r| r.zh()).collect();
            format!("第{}项：{}", i.number, r.join("；"))
        })
        .collect();
    body.push_str(&bullet_lines(&problems, "无"));
    body.push_str("\n五、下一步要求\n");
    body.push_str(&next_steps(state, as_of));
    (title, body)
}

/// What went well: items whose tasks are all done, then those well advanced, by progress; a few
/// lines, not one per item (a list of every item at 70% says nothing).
fn highlights(statuses: &[(&crate::entity::Item, ItemStatus)]) -> Vec<String> {
    const MAX: usize = 5;
    let mut good: Vec<&(&crate::entity::Item, ItemStatus)> = statuses
        .iter()
        .filter(|(_, s)| s.light == Light::Green && s.progress >= 50)
        .collect();
    crate::sorting::sort_by(&mut good, |a, b| {
        b.1.progress
            .cmp(&a.1.progress)
            .then(a.0.number.cmp(&b.0.number))
    });
    let title = |i: &crate::entity::Item| i.title.trim_end_matches('。').to_string();
    let mut lines: Vec<String> = good
        .iter()
        .take(MAX)
        .map(|(i, s)| {
            if s.progress >= 100 {
                format!("第{}项{}：阶段任务已全部完成", i.number, title(i))
            } else {
                format!("第{}项{}：总体进度已达{}%", i.number, title(i), s.progress)
            }
        })
        .collect();
    if good.len() > MAX {
        lines.push(format!("另有{}项改革进展正常", good.len() - MAX));
    }
    lines
}

/// 五、下一步要求: the submissions still to come after `as_of`, and what is overdue to put right.
fn next_steps(state: &State, as_of: NaiveDate) -> String {
    let mut due: Vec<String> = Vec::new();
    if let Some(cal) = calendar(state) {
        for (date, what) in [(cal.half_year, "半年报告"), (cal.annual, "年度报告")] {
            if date >= as_of {
                due.push(format!("{what}（{}前）", zh_date(date)));
            }
        }
    }
    let mut out = String::new();
    if !due.is_empty() {
        out.push_str(&format!("请各牵头单位按时报送{}。", due.join("和")));
    }
    out.push_str("对逾期事项抓紧整改，及时更新进展。\n");
    out
}

fn bullet_lines(lines: &[String], empty: &str) -> String {
    if lines.is_empty() {
        return format!("{empty}\n");
    }
    lines
        .iter()
        .enumerate()
        .map(|(n, l)| format!("（{}）{}。\n", n + 1, l))
        .collect()
}

/// Write or rewrite a draft bulletin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Save {
    /// Id (new, or a draft's).
    pub id: BulletinId,
    /// Title.
    pub title: String,
    /// As-of date.
    pub as_of: NaiveDate,
    /// Text.
    pub body: String,
    /// Client time.
    pub at: Millis,
}

impl Op for Save {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::bulletin(self.id)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Plan)
    }
    fn authorize(&self, _state: &State, actor: &Actor) -> Result<(), Rejection> {
        permission::check_plan(actor, PlanAction::Supervise)?;
        Ok(())
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        if state.find::<Bulletin>(self.id).is_ok_and(|b| b.published) {
            return Err(Rejection::Invalid(Msg::new(
                "通报已发布，不能修改",
                "The bulletin is published and can no longer be changed",
            )));
        }
        let b = Bulletin {
            id: self.id,
            title: text::BULLETIN_TITLE.parse(&self.title)?,
            as_of: self.as_of,
            body: text::BULLETIN_BODY.parse(&self.body)?,
            unit: actor.unit,
            by_name: actor.name.clone(),
            published: false,
            published_at: None,
            updated_at: self.at,
            read_by: vec![],
        };
        Ok(vec![put(state, Entity::Bulletin(b))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

/// Publish a bulletin to all units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Publish {
    /// Bulletin.
    pub id: BulletinId,
    /// Client time.
    pub at: Millis,
}

impl Op for Publish {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::bulletin(self.id)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Plan)
    }
    fn authorize(&self, _state: &State, actor: &Actor) -> Result<(), Rejection> {
        permission::check_plan(actor, PlanAction::Supervise)?;
        Ok(())
    }
    fn apply(&self, state: &mut State, _actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let mut b = state.find::<Bulletin>(self.id)?.clone();
        if b.published {
            return Ok(vec![]);
        }
        b.published = true;
        b.published_at = Some(self.at);
        Ok(vec![put(state, Entity::Bulletin(b))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

/// A unit marks a published bulletin read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarkRead {
    /// Bulletin.
    pub id: BulletinId,
    /// Client time.
    pub at: Millis,
}

impl Op for MarkRead {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::bulletin(self.id)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Plan)
    }
    fn authorize(&self, state: &State, _actor: &Actor) -> Result<(), Rejection> {
        if state.find::<Bulletin>(self.id)?.published {
            Ok(())
        } else {
            Err(crate::state::missing::<Bulletin>())
        }
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let mut b = state.find::<Bulletin>(self.id)?.clone();
        if b.read_by.contains(&actor.unit) {
            return Ok(vec![]);
        }
        b.read_by.push(actor.unit);
        Ok(vec![put(state, Entity::Bulletin(b))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::unit_id_for_name;
    use crate::unit::OFFICE_UNIT;

    fn bulletin(unit: UnitId, published: bool) -> Bulletin {
        Bulletin {
            id: BulletinId::new_v7(),
            title: "通报".into(),
            as_of: NaiveDate::from_ymd_opt(2014, 3, 31).unwrap_or_default(),
            body: String::new(),
            unit,
            by_name: String::new(),
            published,
            published_at: None,
            updated_at: Millis(0),
            read_by: vec![],
        }
    }

    /// An office account may belong to another unit (accounts are the office's to make): its
    /// draft still goes to the office only, never to that unit's users.
    #[test]
    fn a_draft_is_the_offices_whoever_wrote_it() {
        let office = unit_id_for_name(OFFICE_UNIT);
        let other = unit_id_for_name("区发改局");
        assert_eq!(
            bulletin(other, false).visibility(),
            Visibility::Unit(office)
        );
        assert_eq!(
            bulletin(office, false).visibility(),
            Visibility::Unit(office)
        );
        assert_eq!(bulletin(other, true).visibility(), Visibility::Everyone);
        // Migration 0008 marks the drafts stored before with this id.
        assert_eq!(office.to_string(), "c7fa44cb-a7c2-56a0-8873-2c46d22e6417");
    }
}
