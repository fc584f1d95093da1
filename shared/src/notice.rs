//! Notifications (通知): derived from the synced state rather than stored, so a unit's inbox is
//! always exactly what concerns it — reminders to it, its submissions reviewed, instructions on
//! items it leads, comments mentioning it (@单位名), difficulties it is asked to help with,
//! published bulletins and evaluations. What each user has read is the one stored part.

use crate::actor::{Actor, Role};
use crate::entity::{Entity, EntityKey, Millis, Space, Visibility};
use crate::ids::{BulletinId, ItemId, TaskId, UnitId, UserId};
use crate::message::Msg;
use crate::mutation::{Change, Rejection};
use crate::op::{Op, SpaceOf, put};
use crate::permission;
use crate::reminder::About;
use crate::state::State;
use crate::submission::SubmissionKind;
use crate::submission::SubmissionState;
use serde::{Deserialize, Serialize};

/// Most read marks kept per user; the oldest go first (their notices are long past).
pub const MAX_READ_MARKS: usize = 5_000;
/// Most keys marked read at once.
pub const MAX_MARK_BATCH: usize = 500;

/// What a notification is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// 催办.
    Reminder,
    /// A submission was returned.
    Returned,
    /// A submission was accepted.
    Accepted,
    /// A submission waits for the office's review.
    AwaitingReview,
    /// A leader's instruction on an item the unit leads.
    Instruction,
    /// The lead unit answered the leader's instruction.
    InstructionAnswered,
    /// A comment mentions the unit.
    Mention,
    /// A bulletin was published.
    Bulletin,
    /// A difficulty was raised (for the office) or the unit was asked to help with one.
    Difficulty,
    /// An evaluation of an item the unit works on was published.
    Evaluation,
    /// A unit asked for a later due date (for the office), or the office answered (for the
    /// units on the task).
    Postponement,
}

impl NoticeKind {
    /// Label in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Reminder => "催办",
            Self::Returned => "退回修改",
            Self::Accepted => "审核通过",
            Self::AwaitingReview => "待审核",
            Self::Instruction => "领导批示",
            Self::InstructionAnswered => "批示回复",
            Self::Mention => "提到本单位",
            Self::Bulletin => "通报",
            Self::Difficulty => "困难和问题",
            Self::Evaluation => "评议",
            Self::Postponement => "延期申请",
        }
    }
    /// Label in English.
    pub fn en(self) -> &'static str {
        match self {
            Self::Reminder => "Reminder",
            Self::Returned => "Returned",
            Self::Accepted => "Accepted",
            Self::AwaitingReview => "To review",
            Self::Instruction => "Instruction",
            Self::InstructionAnswered => "Answer",
            Self::Mention => "Mention",
            Self::Bulletin => "Bulletin",
            Self::Difficulty => "Difficulty",
            Self::Evaluation => "Evaluation",
            Self::Postponement => "Postponement",
        }
    }
}

/// Where a notice leads: the screen that shows what it is about, within its item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Link {
    /// The item's page.
    Item,
    /// A task's card on the item's board.
    Task(TaskId),
    /// One of the item's submissions (work plan, reports).
    Submission(SubmissionKind),
    /// The item's leaders' instructions.
    Instructions,
    /// The item's difficulties.
    Difficulties,
    /// The item's evaluations.
    Evaluations,
    /// A bulletin.
    Bulletin(BulletinId),
}

/// One notification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// Stable key, what read marks record.
    pub key: String,
    /// Kind.
    pub kind: NoticeKind,
    /// The item, if it is about one.
    pub item: Option<ItemId>,
    /// What it is about, for opening it.
    pub link: Link,
    /// One line, in both languages (names and text as written).
    pub text: Msg,
    /// When it happened.
    pub at: Millis,
    /// Read by this user (or, for bulletins, by their unit).
    pub read: bool,
}

/// Which notices a user has read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadMarks {
    /// The user.
    pub user: UserId,
    /// Their unit (for visibility: colleagues may see what the unit has read).
    pub unit: UnitId,
    /// Keys read, oldest first.
    pub keys: Vec<String>,
}

impl ReadMarks {
    /// Seen by the user's unit and the office.
    pub fn visibility(&self) -> Visibility {
        Visibility::Unit(self.unit)
    }
}

fn mentions(body: &str, state: &State, unit: UnitId) -> bool {
    let Some(u) = state.unit(unit) else {
        return false;
    };
    std::iter::once(&u.name)
        .chain(u.aliases.iter())
        .any(|name| body.contains(&format!("@{name}")))
}

/// `actor`'s notifications, newest first.
pub fn inbox(state: &State, actor: &Actor) -> Vec<Notice> {
    let unit = actor.unit;
    let office = actor.role == Role::Office;
    // What is addressed to a group (各街道办) is addressed to each of its members.
    let groups = state.groups_of(unit);
    let addressed = |to: UnitId| to == unit || groups.contains(&to);
    let leads = |item: ItemId| {
        state
            .item(item)
            .is_some_and(|i| i.lead_units.contains(&unit))
    };
    let works_on = |item: ItemId| {
        state
            .item(item)
            .is_some_and(|i| permission::may_own(unit, state.groups_of(unit), i))
    };
    let number = |item: ItemId| state.item(item).map_or(0, |i| i.number);
    let read: std::collections::HashSet<&str> = match state.get(&EntityKey::read_marks(actor.user))
    {
        Some(Entity::ReadMarks(m)) => m.keys.iter().map(String::as_str).collect(),
        _ => Default::default(),
    };
    let mut out = Vec::new();
    let mut push = |key: String, kind, item: Option<ItemId>, link: Link, text: Msg, at: Millis| {
        out.push(Notice {
            read: read.contains(key.as_str()),
            key,
            kind,
            item,
            link,
            text,
            at,
        });
    };
    for e in state.iter() {
        match e {
            Entity::Reminder(r) if addressed(r.unit) => push(
                format!("reminder/{}", r.id),
                NoticeKind::Reminder,
                Some(r.item),
                match r.about {
                    About::Task(t) => Link::Task(t),
                    About::Submission(k) => Link::Submission(k),
                    About::Item => Link::Item,
                },
                crate::msg!(
                    "第{n}项：{text}",
                    "Item {n}: {text}",
                    n = number(r.item),
                    text = r.told()
                ),
                r.at,
            ),
            Entity::Submission(s) => {
                for v in &s.versions {
                    if office {
                        // Tagged with where it stands: 待审核 only while it waits.
                        let kind = match &v.review {
                            None => NoticeKind::AwaitingReview,
                            Some(r) if r.accepted => NoticeKind::Accepted,
                            Some(_) => NoticeKind::Returned,
                        };
                        push(
                            format!("submission/{}/{}", s.id, v.number),
                            kind,
                            Some(s.item),
                            Link::Submission(s.kind),
                            crate::msg!(
                                "第{n}项{kind}（第{v}版）已报送",
                                "Item {n}: {kind} version {v} submitted",
                                n = number(s.item),
                                kind = s.kind.in_sentence(),
                                v = v.number
                            ),
                            v.submitted_at,
                        );
                    }
                    if let Some(r) = &v.review
                        && leads(s.item)
                    {
                        let (kind, what) = if r.accepted {
                            (NoticeKind::Accepted, SubmissionState::Accepted)
                        } else {
                            (NoticeKind::Returned, SubmissionState::Returned)
                        };
                        push(
                            format!("submission/{}/{}/review", s.id, v.number),
                            kind,
                            Some(s.item),
                            Link::Submission(s.kind),
                            if r.comment.trim().is_empty() {
                                crate::msg!(
                                    "第{n}项{kind}{what}",
                                    "Item {n}: {kind} {what}",
                                    n = number(s.item),
                                    kind = s.kind.in_sentence(),
                                    what = what.in_sentence()
                                )
                            } else {
                                crate::msg!(
                                    "第{n}项{kind}{what}：{comment}",
                                    "Item {n}: {kind} {what}: {comment}",
                                    n = number(s.item),
                                    kind = s.kind.in_sentence(),
                                    what = what.in_sentence(),
                                    comment = r.comment
                                )
                            },
                            r.at,
                        );
                    }
                }
            }
            Entity::Instruction(i) => {
                if actor.role == Role::Unit && leads(i.item) {
                    push(
                        format!("instruction/{}", i.id),
                        NoticeKind::Instruction,
                        Some(i.item),
                        Link::Instructions,
                        crate::msg!(
                            "{leader}对第{n}项批示：{text}",
                            "Instruction from {leader} on item {n}: {text}",
                            leader = i.leader_name,
                            n = number(i.item),
                            text = i.text
                        ),
                        i.at,
                    );
                }
                if let Some(a) = &i.answer
                    && (i.leader == actor.user || office)
                {
                    push(
                        format!("instruction/{}/answer/{}", i.id, a.at.0),
                        NoticeKind::InstructionAnswered,
                        Some(i.item),
                        Link::Instructions,
                        crate::msg!(
                            "第{n}项批示回复（{by}）：{text}",
                            "Item {n}: answer to the instruction ({by}): {text}",
                            n = number(i.item),
                            by = a.by_name,
                            text = a.text
                        ),
                        a.at,
                    );
                }
            }
            Entity::Comment(c)
                if c.unit != unit
                    && std::iter::once(&unit)
                        .chain(groups)
                        .any(|u| mentions(&c.body, state, *u)) =>
            {
                push(
                    format!("comment/{}", c.id),
                    NoticeKind::Mention,
                    Some(c.item),
                    c.task.map_or(Link::Item, Link::Task),
                    crate::msg!(
                        "{author}：{body}",
                        "{author}: {body}",
                        author = c.author_name,
                        body = c.body
                    ),
                    c.at,
                )
            }
            Entity::Bulletin(b) if b.published => push(
                format!("bulletin/{}", b.id),
                NoticeKind::Bulletin,
                None,
                Link::Bulletin(b.id),
                Msg::as_written(&b.title),
                b.published_at.unwrap_or(b.updated_at),
            ),
            Entity::Difficulty(d) => {
                // Each step of a difficulty, keyed by the step (`difficulty/<id><step>`).
                let mut step = |suffix: &str, text: Msg, at: Millis| {
                    push(
                        format!("difficulty/{}{suffix}", d.id),
                        NoticeKind::Difficulty,
                        Some(d.item),
                        Link::Difficulties,
                        text,
                        at,
                    )
                };
                let raised = crate::msg!(
                    "第{n}项：{title}（{by}）",
                    "Item {n}: {title} ({by})",
                    n = number(d.item),
                    title = d.title,
                    by = d.raised_by_name
                );
                if office {
                    step("", raised, d.raised_at);
                    continue;
                }
                if d.assigned.iter().any(|u| addressed(*u)) {
                    let text = crate::msg!(
                        "请协助解决第{n}项的问题：{title}",
                        "Please help resolve a difficulty on item {n}: {title}",
                        n = number(d.item),
                        title = d.title
                    );
                    step(
                        "/assigned",
                        text,
                        d.log.last().map_or(d.raised_at, |l| l.at),
                    );
                }
                // The unit that raised it, and the item's lead units, hear where it goes.
                let raised_here = d.unit == unit;
                if !raised_here && !leads(d.item) {
                    continue;
                }
                if !raised_here {
                    step("/raised", raised, d.raised_at);
                }
                if let Some(first) = d.log.first() {
                    let text = crate::msg!(
                        "第{n}项的问题“{title}”综合办正在协调",
                        "Item {n}: the reform office is coordinating “{title}”",
                        n = number(d.item),
                        title = d.title
                    );
                    step("/coordinating", text, first.at);
                }
                if let Some(at) = d.resolved_at {
                    let text = crate::msg!(
                        "第{n}项的问题“{title}”已解决：{how}",
                        "Item {n}: “{title}” resolved: {how}",
                        n = number(d.item),
                        title = d.title,
                        how = d.resolution.clone().unwrap_or_default()
                    );
                    step("/resolved", text, at);
                }
            }
            Entity::Task(t) if !t.postponements.is_empty() => {
                // The units that work on it: its lead, its owner (or a member of the group that
                // owns it), and whoever asked.
                let works_on_task =
                    leads(t.item) || permission::works_for(unit, state.groups_of(unit), t.owner);
                // Requests are only ever added, so their place is a stable key.
                for (i, p) in t.postponements.iter().enumerate() {
                    let concerns_unit = works_on_task || p.unit == unit;
                    let what = crate::msg!(
                        "第{n}项任务“{title}”",
                        "the task “{title}” of item {n}",
                        n = number(t.item),
                        title = t.title
                    );
                    if office {
                        push(
                            format!("postponement/{}/{i}", t.id),
                            NoticeKind::Postponement,
                            Some(t.item),
                            Link::Task(t.id),
                            crate::msg!(
                                "{what}申请延期至{due}（{by}）：{reason}",
                                "{by} asks to postpone {what} to {due}: {reason}",
                                what = what,
                                due = p.due,
                                by = p.by_name,
                                reason = p.reason
                            ),
                            p.at,
                        );
                    }
                    if let Some(d) = &p.decision
                        && concerns_unit
                        && !office
                    {
                        let answer = if d.approved {
                            crate::msg!(
                                "已同意，截止日期改为{due}",
                                "approved, the due date now {due}",
                                due = p.due
                            )
                        } else {
                            Msg::new("未同意", "declined")
                        };
                        let note = if d.note.is_empty() {
                            Msg::new("", "")
                        } else {
                            crate::msg!("：{note}", ": {note}", note = d.note)
                        };
                        push(
                            format!("postponement/{}/{i}/decision", t.id),
                            NoticeKind::Postponement,
                            Some(t.item),
                            Link::Task(t.id),
                            crate::msg!(
                                "{what}的延期申请{answer}{note}",
                                "Postponement of {what} {answer}{note}",
                                what = what,
                                answer = answer,
                                note = note
                            ),
                            d.at,
                        );
                    }
                }
            }
            Entity::Evaluation(e) if e.published && works_on(e.item) => push(
                format!("evaluation/{}", e.id),
                NoticeKind::Evaluation,
                Some(e.item),
                Link::Evaluations,
                crate::msg!(
                    "第{n}项评议（{score}分）：{text}",
                    "Evaluation of item {n} (score {score}): {text}",
                    n = number(e.item),
                    score = e.score,
                    text = e.text
                ),
                e.published_at.unwrap_or(e.at),
            ),
            _ => {}
        }
    }
    // What has been dealt with needs no reading: a version the office has reviewed, a
    // difficulty it has taken up.
    for n in &mut out {
        let dealt_with = match n.kind {
            NoticeKind::AwaitingReview | NoticeKind::Accepted | NoticeKind::Returned => {
                reviewed(state, &n.key)
            }
            NoticeKind::Difficulty if office => taken_up(state, &n.key),
            NoticeKind::Postponement if office => decided(state, &n.key),
            _ => false,
        };
        n.read |= dealt_with;
    }
    // A bulletin is read once anyone of the unit has marked it read (通报已阅 is per unit).
    for n in &mut out {
        if n.kind == NoticeKind::Bulletin
            && let Some(id) = n
                .key
                .strip_prefix("bulletin/")
                .and_then(|id| id.parse().ok())
            && let Some(Entity::Bulletin(b)) = state.get(&EntityKey::bulletin(id))
        {
            n.read |= b.read_by.contains(&unit);
        }
    }
    // Newest first; what happened at the same moment (the daily reminders) in the plan's order.
    let number = |n: &Notice| n.item.and_then(|i| state.item(i)).map_or(0, |i| i.number);
    crate::sorting::sort_by(&mut out, |a, b| {
        b.at.cmp(&a.at)
            .then(number(a).cmp(&number(b)))
            .then(a.key.cmp(&b.key))
    });
    out
}

/// Whether the submission version a `submission/<id>/<n>` key names (the office's notice of
/// it; not the unit's notice of its review, `…/<n>/review`) has been reviewed.
fn reviewed(state: &State, key: &str) -> bool {
    let mut parts = key.split('/');
    let (Some("submission"), Some(id), Some(n), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Ok(id), Ok(n)) = (id.parse(), n.parse::<u32>()) else {
        return false;
    };
    match state.get(&EntityKey::submission(id)) {
        Some(Entity::Submission(s)) => s
            .versions
            .iter()
            .any(|v| v.number == n && v.review.is_some()),
        _ => false,
    }
}

/// Whether the difficulty a `difficulty/<id>` key names is no longer waiting for the office.
fn taken_up(state: &State, key: &str) -> bool {
    let Some(Ok(id)) = key.strip_prefix("difficulty/").map(str::parse) else {
        return false;
    };
    matches!(
        state.get(&EntityKey::difficulty(id)),
        Some(Entity::Difficulty(d)) if d.state != crate::difficulty::DifficultyState::Open
    )
}

/// Whether the request a `postponement/<task>/<n>` key names no longer waits for the office:
/// answered, or its task archived (which takes no answer).
fn decided(state: &State, key: &str) -> bool {
    let mut parts = key.split('/').skip(1);
    let (Some(Ok(task)), Some(Ok(n))) = (
        parts.next().map(str::parse),
        parts.next().map(str::parse::<usize>),
    ) else {
        return false;
    };
    state
        .task(task)
        .is_some_and(|t| t.archived || t.postponements.get(n).is_some_and(|p| p.decision.is_some()))
}

/// Unread count.
pub fn unread(state: &State, actor: &Actor) -> usize {
    inbox(state, actor).iter().filter(|n| !n.read).count()
}

/// Mark notices read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarkRead {
    /// The user (must be the actor).
    pub user: UserId,
    /// Notice keys.
    pub keys: Vec<String>,
    /// Client time.
    pub at: Millis,
}

impl Op for MarkRead {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::read_marks(self.user)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Plan)
    }
    fn authorize(&self, _state: &State, actor: &Actor) -> Result<(), Rejection> {
        if self.user == actor.user {
            Ok(())
        } else {
            Err(Rejection::Denied(Msg::new(
                "只能标记自己的通知",
                "You can only mark your own notifications",
            )))
        }
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        if self.keys.len() > MAX_MARK_BATCH || self.keys.iter().any(|k| k.len() > 200) {
            return Err(Rejection::Invalid(Msg::new(
                "标记数量过多",
                "Too many notifications marked at once",
            )));
        }
        let mut marks = match state.get(&EntityKey::read_marks(self.user)) {
            Some(Entity::ReadMarks(m)) => m.clone(),
            _ => ReadMarks {
                user: self.user,
                unit: actor.unit,
                keys: vec![],
            },
        };
        let before = marks.keys.len();
        // Seen by the user's unit: a user moved to another unit takes their marks along with
        // their next one (with the old unit, their own marks stopped reaching them).
        let moved = marks.unit != actor.unit;
        marks.unit = actor.unit;
        for k in &self.keys {
            if !marks.keys.contains(k) {
                marks.keys.push(k.clone());
            }
        }
        if marks.keys.len() == before && !moved {
            return Ok(vec![]);
        }
        let excess = marks.keys.len().saturating_sub(MAX_READ_MARKS);
        marks.keys.drain(..excess);
        Ok(vec![put(state, Entity::ReadMarks(marks))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}
