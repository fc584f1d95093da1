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
    /// The message in English, when the daily job wrote it (`Reminder::told`); the office
    /// writes in its own words, read as written.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text_en: String,
    /// Who sent it ("系统" for the daily job).
    pub by_name: String,
    /// Sent by the daily job rather than by hand.
    pub automatic: bool,
    /// When.
    pub at: Millis,
}

impl Reminder {
    /// What the reminded unit reads: the job's words in either language, the office's as
    /// written.
    pub fn told(&self) -> Msg {
        if self.text_en.is_empty() {
            Msg::owned(self.text.clone(), self.text.clone())
        } else {
            Msg::owned(self.text.clone(), self.text_en.clone())
        }
    }
}

/// What a reminder asks for: a task done, or a work plan or report sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ask {
    /// 请抓紧办理.
    Work,
    /// 请尽快报送.
    Submit,
    /// Returned for changes: 请修改后重新报送.
    Resubmit,
}

impl Ask {
    /// What a reminder about `d` asks for: a task worked; a submission sent, or sent again
    /// once the office returned it (it is owed again then, `calendar::met_by`). The daily job
    /// and the office's 催办 word theirs alike.
    pub fn for_deadline(state: &State, d: &crate::calendar::Deadline) -> Ask {
        match d.due {
            crate::calendar::Due::Task { .. } => Ask::Work,
            crate::calendar::Due::Submission { kind } => {
                let returned = crate::calendar::submission(state, d.item, kind)
                    .is_some_and(|s| s.state == crate::submission::SubmissionState::Returned);
                if returned { Ask::Resubmit } else { Ask::Submit }
            }
        }
    }

    fn told(self) -> Msg {
        match self {
            Ask::Work => Msg::new("请抓紧办理", "please attend to it promptly"),
            Ask::Submit => Msg::new("请尽快报送", "please submit it promptly"),
            Ask::Resubmit => Msg::new(
                "已被退回修改，请修改后重新报送",
                "it was returned for changes: please revise and resubmit it",
            ),
        }
    }
}

/// The words of a reminder about a deadline (`what`: "任务「…」" or a submission's name) due on
/// `due`, as of `today`: the daily job's, and the office's 催办 form's to start from.
pub fn automatic_text(
    what: &Msg,
    due: chrono::NaiveDate,
    today: chrono::NaiveDate,
    ask: Ask,
) -> Msg {
    let days = (due - today).num_days();
    // When it is due, told once per case; the sentence around it is one.
    let when = match days {
        -1 => crate::msg!(
            "已逾期1天（{due}到期）",
            "is 1 day overdue (due {due})",
            due = due
        ),
        ..0 => crate::msg!(
            "已逾期{n}天（{due}到期）",
            "is {n} days overdue (due {due})",
            n = -days,
            due = due
        ),
        0 => crate::msg!("今天（{due}）到期", "is due today ({due})", due = due),
        1 => crate::msg!(
            "将于{due}到期（还有1天）",
            "is due tomorrow ({due})",
            due = due
        ),
        _ => crate::msg!(
            "将于{due}到期（还有{n}天）",
            "is due on {due} ({n} days left)",
            due = due,
            n = days
        ),
    };
    crate::msg!(
        "{what}{when}，{ask}。",
        "{what} {when}: {ask}.",
        what = what,
        when = when,
        ask = ask.told()
    )
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
    /// The message in English, from the daily job (see `Reminder::text_en`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text_en: String,
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
        // A group with members holds no accounts: nobody would read a reminder addressed to
        // it. Its members are reminded, each in its own name (as the daily job does).
        if state.readers_of(self.unit) != [self.unit] {
            let group = state.unit(self.unit).map_or("", |u| u.name.as_str());
            return Err(Rejection::Invalid(Msg::owned(
                format!("{group}由各成员单位分别接收催办，请选择成员单位"),
                format!("{group} is reminded through its members: choose one of them"),
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
            text_en: if self.text_en.is_empty() {
                String::new()
            } else {
                text::REMINDER.parse(&self.text_en)?
            },
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn the_jobs_words_count_the_days_in_each_language() {
        let what = Msg::new("任务「摸底」", "The task “摸底”");
        let due = NaiveDate::from_ymd_opt(2014, 3, 31).unwrap_or_default();
        let on = |m: u32, d: u32| NaiveDate::from_ymd_opt(2014, m, d).unwrap_or_default();
        let told = |today| automatic_text(&what, due, today, Ask::Work);
        assert_eq!(
            told(on(4, 1)).en(),
            "The task “摸底” is 1 day overdue (due 31 Mar 2014): please attend to it promptly."
        );
        assert_eq!(
            told(on(4, 3)).zh(),
            "任务「摸底」已逾期3天（2014年3月31日到期），请抓紧办理。"
        );
        assert_eq!(
            told(on(3, 31)).en(),
            "The task “摸底” is due today (31 Mar 2014): please attend to it promptly."
        );
        assert_eq!(
            told(on(3, 30)).en(),
            "The task “摸底” is due tomorrow (31 Mar 2014): please attend to it promptly."
        );
        assert_eq!(
            told(on(3, 28)).zh(),
            "任务「摸底」将于2014年3月31日到期（还有3天），请抓紧办理。"
        );
    }
}
