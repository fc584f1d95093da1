//! The workflow of issue 6 through the one `apply`: submissions, difficulties, instructions,
//! evaluations, reminders, bulletins; and the status rules and assessment formula at their
//! boundaries, as of chosen dates.

use chrono::NaiveDate;
use shared::actor::{Actor, Role};
use shared::assessment::{self, assess};
use shared::board::Column;
use shared::calendar::{self, calendar};
use shared::difficulty::{self, DifficultyState};
use shared::entity::{Entity, Item, Millis, PlanDoc, Unit};
use shared::evaluation;
use shared::ids::*;
use shared::instruction;
use shared::mutation::{Mutation, Rejection, apply};
use shared::notice::{self, NoticeKind, inbox};
use shared::op::end_of_day;
use shared::plan::Deadlines;
use shared::state::State;
use shared::status::{Light, Reason, status_of_item};
use shared::submission::{self, SubmissionKind, SubmissionState};
use shared::unit::UnitKind;
use shared::{bulletin, reminder};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2014, m, d).unwrap_or_default()
}

/// Noon (Beijing) on a day of 2014.
fn at(m: u32, d: u32) -> Millis {
    Millis(end_of_day(day(m, d)).0 - 12 * 3_600_000)
}

struct World {
    state: State,
    item: ItemId,
    lead: Actor,
    coop: Actor,
    other: Actor,
    office: Actor,
    leader: Actor,
    npc: Actor,
}

fn actor(name: &str, unit: UnitId, role: Role) -> Actor {
    Actor {
        user: UserId::new_v7(),
        name: name.into(),
        unit,
        role,
        groups: vec![],
    }
}

fn world() -> World {
    let mut state = State::new();
    state.put(Entity::Plan(PlanDoc {
        title: "盐田区2014年重点改革计划".into(),
        issuers: vec![],
        issue_date: Some(day(3, 20)),
        year: Some(2014),
        preamble: String::new(),
        sections: vec![],
        requirements: vec![],
        deadlines: Deadlines {
            work_plan: Some(day(3, 31)),
            half_year_report: true,
            annual_report: true,
        },
    }));
    let mut unit = |name: &str| {
        let id = unit_id_for_name(name);
        state.put(Entity::Unit(Unit {
            id,
            name: name.into(),
            aliases: vec![],
            kind: UnitKind::Department,
            in_plan: true,
            groups: vec![],
        }));
        id
    };
    let (l, c, o, off, ldr, npc) = (
        unit("区发改局"),
        unit("区财政局"),
        unit("区教育局"),
        unit("综合办"),
        unit("区领导"),
        unit("区人大"),
    );
    let item = item_id_for_number(4);
    state.put(Entity::Item(Item {
        id: item,
        number: 4,
        title: "推进财政预算改革。".into(),
        body: String::new(),
        lead_units: vec![l],
        cooperating_units: vec![c],
        lead_leaders: vec![],
        section: None,
    }));
    World {
        state,
        item,
        lead: actor("牵头", l, Role::Unit),
        coop: actor("配合", c, Role::Unit),
        other: actor("无关", o, Role::Unit),
        office: actor("综合办", off, Role::Office),
        leader: actor("领导", ldr, Role::Leader),
        npc: actor("人大", npc, Role::Supervisor),
    }
}

impl World {
    fn run(&mut self, who: &Actor, m: Mutation) -> Result<(), Rejection> {
        apply(&mut self.state, who, &m).map(|_| ())
    }

    fn task(&mut self, due: NaiveDate, created: Millis) -> TaskId {
        let id = TaskId::new_v7();
        let lead = self.lead.clone();
        let m = Mutation::CreateTask {
            id,
            item: self.item,
            title: "编制预算".into(),
            owner: lead.unit,
            column: Column::NotStarted,
            sort_key: shared::board::sort_key::between(None, None),
            due: Some(due),
            at: created,
        };
        self.run(&lead, m).expect("the task is created");
        id
    }

    fn done(&mut self, task: TaskId, when: Millis) {
        let lead = self.lead.clone();
        let m = Mutation::MoveTask {
            task,
            column: Column::Done,
            sort_key: shared::board::sort_key::between(None, None),
            at: when,
        };
        self.run(&lead, m).expect("the task is done");
    }

    fn sub_id(&self, kind: SubmissionKind) -> SubmissionId {
        submission_id(self.item, kind.as_str())
    }

    fn draft(&mut self, who: &Actor, kind: SubmissionKind, when: Millis) -> Result<(), Rejection> {
        let parts = vec!["内容".to_string(); kind.parts().len()];
        let m = Mutation::SaveSubmission(submission::SaveDraft {
            id: self.sub_id(kind),
            item: self.item,
            kind,
            parts,
            at: when,
        });
        self.run(who, m)
    }

    fn submit(&mut self, kind: SubmissionKind, when: Millis) -> Result<(), Rejection> {
        let lead = self.lead.clone();
        let id = self.sub_id(kind);
        self.run(
            &lead,
            Mutation::SubmitSubmission(submission::Submit { id, at: when }),
        )
    }

    fn review(
        &mut self,
        kind: SubmissionKind,
        accept: bool,
        comment: &str,
        when: Millis,
    ) -> Result<(), Rejection> {
        let office = self.office.clone();
        let id = self.sub_id(kind);
        self.run(
            &office,
            Mutation::ReviewSubmission(submission::ReviewSubmission {
                id,
                accept,
                comment: comment.into(),
                at: when,
            }),
        )
    }

    fn status(&self, as_of: NaiveDate) -> shared::status::ItemStatus {
        status_of_item(&self.state, self.item, as_of)
    }

    fn submission(&self, kind: SubmissionKind) -> Option<&submission::Submission> {
        calendar::submission(&self.state, self.item, kind)
    }
}

#[test]
fn calendar_defaults_follow_the_document() {
    let w = world();
    let c = calendar(&w.state).expect("calendar");
    assert_eq!(c.work_plan, day(3, 31));
    assert_eq!(c.half_year, day(7, 10));
    assert_eq!(
        c.annual,
        NaiveDate::from_ymd_opt(2015, 1, 10).unwrap_or_default()
    );
}

#[test]
fn work_plan_draft_submit_return_resubmit_accept() {
    let mut w = world();
    let lead = w.lead.clone();
    let coop = w.coop.clone();
    // Only the lead unit drafts.
    assert!(matches!(
        w.draft(&coop, SubmissionKind::WorkPlan, at(3, 20)),
        Err(Rejection::Denied(_))
    ));
    w.draft(&lead, SubmissionKind::WorkPlan, at(3, 20))
        .expect("draft");
    assert_eq!(
        w.state
            .get(&shared::entity::EntityKey::submission(
                w.sub_id(SubmissionKind::WorkPlan)
            ))
            .map(|e| e.visibility()),
        Some(shared::entity::Visibility::Unit(lead.unit)),
        "a draft is the unit's own"
    );
    // On an item with a second lead unit, that unit can't see this draft (it is the drafting
    // unit's), so it may not overwrite or submit it either; the office may.
    let second = UnitId::new_v7();
    let mut item = w.state.item(w.item).cloned().expect("item 4");
    item.lead_units.push(second);
    w.state.put(Entity::Item(item));
    let co_lead = actor("另一牵头", second, Role::Unit);
    assert!(matches!(
        w.draft(&co_lead, SubmissionKind::WorkPlan, at(3, 20)),
        Err(Rejection::Denied(_))
    ));
    let id = w.sub_id(SubmissionKind::WorkPlan);
    assert!(matches!(
        w.run(
            &co_lead,
            Mutation::SubmitSubmission(submission::Submit { id, at: at(3, 20) })
        ),
        Err(Rejection::Denied(_))
    ));
    let office = w.office.clone();
    w.draft(&office, SubmissionKind::WorkPlan, at(3, 20))
        .expect("the office edits a unit's draft");
    // A forged id (another item's) is refused.
    let forged = Mutation::SaveSubmission(submission::SaveDraft {
        id: SubmissionId::new_v7(),
        item: w.item,
        kind: SubmissionKind::WorkPlan,
        parts: vec![String::new(); 3],
        at: at(3, 20),
    });
    assert!(matches!(w.run(&lead, forged), Err(Rejection::Invalid(_))));
    // Submitted a day late.
    w.submit(SubmissionKind::WorkPlan, at(4, 1))
        .expect("submit");
    assert_eq!(
        w.submission(SubmissionKind::WorkPlan)
            .map(|s| s.days_late(day(3, 31))),
        Some(Some(1))
    );
    // Under review it can't be edited or submitted again, nor its evidence changed.
    assert!(w.draft(&lead, SubmissionKind::WorkPlan, at(4, 2)).is_err());
    assert!(w.submit(SubmissionKind::WorkPlan, at(4, 2)).is_err());
    let (item, work_plan) = (w.item, w.sub_id(SubmissionKind::WorkPlan));
    let evidence = move |id| {
        Mutation::AttachFile(shared::attachment::Attach {
            id,
            item,
            to: shared::attachment::AttachedTo::Submission(work_plan),
            name: "佐证.pdf".into(),
            size: 1,
            at: at(4, 2),
        })
    };
    let first_file = AttachmentId::new_v7();
    assert!(
        matches!(
            w.run(&lead, evidence(first_file)),
            Err(Rejection::Invalid(_))
        ),
        "no evidence added under review"
    );
    // Returning needs a comment; only the office reviews.
    assert!(
        w.review(SubmissionKind::WorkPlan, false, "  ", at(4, 3))
            .is_err()
    );
    let id = w.sub_id(SubmissionKind::WorkPlan);
    let by_lead = Mutation::ReviewSubmission(submission::ReviewSubmission {
        id,
        accept: true,
        comment: String::new(),
        at: at(4, 3),
    });
    assert!(matches!(w.run(&lead, by_lead), Err(Rejection::Denied(_))));
    w.review(SubmissionKind::WorkPlan, false, "请补充进度安排", at(4, 3))
        .expect("return");
    assert_eq!(
        w.submission(SubmissionKind::WorkPlan).map(|s| s.state),
        Some(SubmissionState::Returned)
    );
    // The item is red while returned, and was only "submitted" (not red for that) the day before.
    assert!(
        w.status(day(4, 3))
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::ReturnedSubmissions { .. }))
    );
    assert!(
        !w.status(day(4, 2))
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::ReturnedSubmissions { .. }))
    );
    // The lead unit sees the return in its notifications, unread until it reads it.
    let notes = inbox(&w.state, &lead);
    assert!(notes.iter().any(|n| n.kind == NoticeKind::Returned
        && n.text.zh().contains("请补充进度安排")
        && !n.read));
    // The office's notice of that version says where it stands now, and needs no reading.
    let version_one = format!("submission/{id}/1");
    assert!(
        inbox(&w.state, &office)
            .iter()
            .any(|n| n.key == version_one && n.kind == NoticeKind::Returned && n.read),
        "the office's notice of a returned version: {:?}",
        inbox(&w.state, &office)
            .iter()
            .find(|n| n.key == version_one)
    );
    w.draft(&lead, SubmissionKind::WorkPlan, at(4, 5))
        .expect("edit after return");
    w.run(&lead, evidence(first_file))
        .expect("evidence added after the return");
    w.submit(SubmissionKind::WorkPlan, at(4, 6))
        .expect("resubmit");
    w.review(SubmissionKind::WorkPlan, true, "", at(4, 7))
        .expect("accept");
    let hide = Mutation::RemoveAttachment(shared::attachment::Remove {
        id: first_file,
        at: at(4, 8),
    });
    assert!(
        matches!(w.run(&lead, hide), Err(Rejection::Invalid(_))),
        "accepted evidence can't be hidden"
    );
    let s = w.submission(SubmissionKind::WorkPlan).expect("submission");
    assert_eq!(s.state, SubmissionState::Accepted);
    assert_eq!(s.versions.len(), 2, "every version kept");
    assert_eq!(
        s.versions
            .first()
            .and_then(|v| v.review.as_ref())
            .map(|r| r.accepted),
        Some(false)
    );
    // Lateness counts from the first submission.
    assert_eq!(s.days_late(day(3, 31)), Some(1));
    // As of 4 April it stood returned; as of 8 April accepted.
    assert_eq!(
        s.state_at(end_of_day(day(4, 4))),
        Some(SubmissionState::Returned)
    );
    assert_eq!(
        s.state_at(end_of_day(day(4, 8))),
        Some(SubmissionState::Accepted)
    );
}

#[test]
fn status_boundaries_for_submissions() {
    let w = world();
    // Nothing submitted: due 31 March. 24 March is 7 days ahead: amber; 23 March green.
    assert_eq!(w.status(day(3, 23)).light, Light::Green);
    assert_eq!(w.status(day(3, 24)).light, Light::Amber);
    assert_eq!(
        w.status(day(3, 31)).light,
        Light::Amber,
        "due today is not yet overdue"
    );
    let s = w.status(day(4, 1));
    assert_eq!(s.light, Light::Red);
    assert!(s.reasons.contains(&Reason::OverdueSubmissions {
        kinds: vec![SubmissionKind::WorkPlan]
    }));
}

#[test]
fn status_as_of_a_past_date_uses_the_records_of_that_day() {
    let mut w = world();
    let lead = w.lead.clone();
    w.draft(&lead, SubmissionKind::WorkPlan, at(3, 21))
        .expect("draft");
    w.submit(SubmissionKind::WorkPlan, at(3, 30))
        .expect("submit");
    let t = w.task(day(4, 10), at(3, 25));
    // On 11 April the task was overdue...
    assert!(
        w.status(day(4, 11))
            .reasons
            .contains(&Reason::OverdueTasks { count: 1 })
    );
    // ...it was done on 20 April, so as of 11 April it still shows overdue, as of 21 April not.
    w.done(t, at(4, 20));
    assert!(
        w.status(day(4, 11))
            .reasons
            .contains(&Reason::OverdueTasks { count: 1 })
    );
    assert!(
        !w.status(day(4, 21))
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::OverdueTasks { .. }))
    );
    // Progress too is read as it was reported by then.
    assert_eq!(w.status(day(4, 19)).progress, 0);
    assert_eq!(w.status(day(4, 21)).progress, 100);
    // Before the task existed it counted for nothing.
    assert!(
        !w.status(day(3, 24))
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::DueSoon { .. } | Reason::OverdueTasks { .. }))
    );
}

#[test]
fn stale_difficulty_boundary() {
    let mut w = world();
    let coop = w.coop.clone();
    let other = w.other.clone();
    let id = DifficultyId::new_v7();
    let raise = |id| {
        Mutation::RaiseDifficulty(difficulty::Raise {
            id,
            item: item_id_for_number(4),
            task: None,
            title: "资金不到位".into(),
            detail: String::new(),
            at: at(4, 1),
        })
    };
    assert!(matches!(
        w.run(&other, raise(DifficultyId::new_v7())),
        Err(Rejection::Denied(_))
    ));
    w.run(&coop, raise(id)).expect("raise");
    let has_stale = |w: &World, d| {
        w.status(d)
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::StaleDifficulties { .. }))
    };
    assert!(!has_stale(&w, day(5, 1)), "30 days open is not yet stale");
    assert!(has_stale(&w, day(5, 2)), "31 days is");
    let office = w.office.clone();
    let coordinate = Mutation::CoordinateDifficulty(difficulty::Coordinate {
        id,
        units: vec![w.lead.unit],
        note: "召集协调会".into(),
        at: at(4, 10),
    });
    assert!(matches!(
        w.run(&coop, coordinate.clone()),
        Err(Rejection::Denied(_))
    ));
    w.run(&office, coordinate).expect("coordinate");
    let lead = w.lead.clone();
    assert!(
        inbox(&w.state, &lead)
            .iter()
            .any(|n| n.kind == NoticeKind::Difficulty)
    );
    w.run(
        &office,
        Mutation::ResolveDifficulty(difficulty::Resolve {
            id,
            resolution: "已拨付".into(),
            at: at(5, 20),
        }),
    )
    .expect("resolve");
    assert!(
        has_stale(&w, day(5, 19)),
        "as of before the resolution it stood open"
    );
    assert!(!has_stale(&w, day(5, 21)));
    let d = w.state.difficulties().next().expect("difficulty");
    assert_eq!(d.state, DifficultyState::Resolved);
    assert!(
        w.run(
            &office,
            Mutation::ResolveDifficulty(difficulty::Resolve {
                id,
                resolution: "再次".into(),
                at: at(5, 21)
            })
        )
        .is_err()
    );
}

#[test]
fn behind_schedule_boundary() {
    let mut w = world();
    let lead = w.lead.clone();
    w.draft(&lead, SubmissionKind::WorkPlan, at(3, 21))
        .expect("draft");
    w.submit(SubmissionKind::WorkPlan, at(3, 21))
        .expect("submit");
    // Plan starts 20 March; task due 19 May (60 days). On 19 April half the time is gone:
    // expected 50%. 29% reported is more than 20 behind; 30% is not.
    let t = w.task(day(5, 19), at(3, 20));
    let progress = |w: &mut World, p| {
        let m = Mutation::SetTaskProgress {
            task: t,
            progress: p,
            at: at(3, 22),
        };
        w.run(&lead, m).expect("progress reported");
    };
    progress(&mut w, 29);
    assert!(w.status(day(4, 19)).reasons.iter().any(|r| matches!(
        r,
        Reason::BehindSchedule {
            expected: 50,
            actual: 29
        }
    )));
    progress(&mut w, 30);
    assert!(
        !w.status(day(4, 19))
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::BehindSchedule { .. }))
    );
}

#[test]
fn instruction_acknowledged_and_answered() {
    let mut w = world();
    let (leader, lead, coop) = (w.leader.clone(), w.lead.clone(), w.coop.clone());
    let id = InstructionId::new_v7();
    let write = Mutation::WriteInstruction(instruction::Write {
        id,
        item: w.item,
        text: "请加快进度".into(),
        at: at(4, 2),
    });
    assert!(matches!(
        w.run(&lead, write.clone()),
        Err(Rejection::Denied(_))
    ));
    w.run(&leader, write).expect("leader writes");
    assert!(
        inbox(&w.state, &lead)
            .iter()
            .any(|n| n.kind == NoticeKind::Instruction && !n.read)
    );
    let answer = |text: &str| {
        Mutation::RespondInstruction(instruction::Respond {
            id,
            text: text.into(),
            at: at(4, 3),
        })
    };
    assert!(
        matches!(w.run(&coop, answer("")), Err(Rejection::Denied(_))),
        "only the lead unit answers"
    );
    w.run(&lead, answer("")).expect("acknowledge");
    let too_long = "答".repeat(20_000);
    assert!(
        matches!(w.run(&lead, answer(&too_long)), Err(Rejection::Invalid(_))),
        "an answer too long to store is refused, not taken as an acknowledgement"
    );
    w.run(&lead, answer("已召开推进会")).expect("answer");
    let notes = inbox(&w.state, &leader);
    let n = notes
        .iter()
        .find(|n| n.kind == NoticeKind::InstructionAnswered)
        .expect("the leader is told");
    // Marking read: only one's own marks.
    let mark = |user| {
        Mutation::MarkNoticesRead(notice::MarkRead {
            user,
            keys: vec![n.key.clone()],
            at: at(4, 4),
        })
    };
    assert!(w.run(&leader, mark(lead.user)).is_err());
    w.run(&leader, mark(leader.user)).expect("mark read");
    assert_eq!(notice::unread(&w.state, &leader), 0);
}

#[test]
fn evaluations_only_by_the_peoples_congress_and_cppcc() {
    let mut w = world();
    let (npc, office, lead) = (w.npc.clone(), w.office.clone(), w.lead.clone());
    let id = EvaluationId::new_v7();
    let record = |score| {
        Mutation::RecordEvaluation(evaluation::Record {
            id,
            item: item_id_for_number(4),
            score,
            text: "推进有力".into(),
            at: at(11, 1),
        })
    };
    assert!(matches!(
        w.run(&office, record(4)),
        Err(Rejection::Denied(_))
    ));
    assert!(w.run(&npc, record(0)).is_err());
    assert!(w.run(&npc, record(6)).is_err());
    w.run(&npc, record(5)).expect("record");
    assert!(
        !inbox(&w.state, &lead)
            .iter()
            .any(|n| n.kind == NoticeKind::Evaluation),
        "not before it is published"
    );
    w.run(
        &npc,
        Mutation::PublishEvaluation(evaluation::Publish { id, at: at(11, 2) }),
    )
    .expect("publish");
    assert!(
        inbox(&w.state, &lead)
            .iter()
            .any(|n| n.kind == NoticeKind::Evaluation)
    );
    assert!(
        w.run(&npc, record(3)).is_err(),
        "published evaluations are final"
    );
}

#[test]
fn reminders_and_bulletins() {
    let mut w = world();
    let (office, lead, other) = (w.office.clone(), w.lead.clone(), w.other.clone());
    let send = |unit| {
        Mutation::SendReminder(reminder::Send {
            id: ReminderId::new_v7(),
            item: item_id_for_number(4),
            unit,
            about: reminder::About::Submission(SubmissionKind::WorkPlan),
            text: "请尽快报送工作方案".into(),
            text_en: String::new(),
            automatic: false,
            at: at(4, 2),
        })
    };
    assert!(
        w.run(&office, send(other.unit)).is_err(),
        "only the item's units are reminded"
    );
    assert!(matches!(
        w.run(&lead, send(lead.unit)),
        Err(Rejection::Denied(_))
    ));
    w.run(&office, send(lead.unit)).expect("remind");
    assert_eq!(
        inbox(&w.state, &lead)
            .iter()
            .filter(|n| n.kind == NoticeKind::Reminder)
            .count(),
        1
    );
    assert!(inbox(&w.state, &other).is_empty());

    let (title, body) = bulletin::draft(&w.state, day(4, 15));
    assert!(title.contains("2014年4月15日"));
    assert!(body.contains("滞后1项"), "{body}");
    assert!(body.contains("区发改局"), "the late unit is named: {body}");
    assert!(
        body.contains("目前仍有逾期未完成事项的单位：区发改局（1项）"),
        "the work plan is still overdue: {body}"
    );
    assert!(body.contains("半年报告（2014年7月10日前）"), "{body}");
    // The work plan comes in late. In July the bulletin counts it as done late, not as still
    // overdue (the half-year report is now), and no longer asks for a report whose date passed.
    w.draft(&lead, SubmissionKind::WorkPlan, at(4, 20))
        .expect("draft");
    w.submit(SubmissionKind::WorkPlan, at(4, 20))
        .expect("submit");
    let (_, july) = bulletin::draft(&w.state, day(7, 15));
    assert!(
        july.contains("逾期后完成事项的单位：区发改局（1项）"),
        "{july}"
    );
    assert!(
        july.contains("目前仍有逾期未完成事项的单位：区发改局（1项）"),
        "the half-year report: {july}"
    );
    assert!(
        !july.contains("半年报告（") && july.contains("年度报告（"),
        "only what is still to come is asked for: {july}"
    );
    let id = BulletinId::new_v7();
    let save = Mutation::SaveBulletin(bulletin::Save {
        id,
        title,
        as_of: day(4, 15),
        body,
        at: at(4, 16),
    });
    assert!(matches!(
        w.run(&lead, save.clone()),
        Err(Rejection::Denied(_))
    ));
    w.run(&office, save).expect("save");
    let read = Mutation::ReadBulletin(bulletin::MarkRead { id, at: at(4, 17) });
    assert!(w.run(&lead, read.clone()).is_err(), "drafts can't be read");
    w.run(
        &office,
        Mutation::PublishBulletin(bulletin::Publish { id, at: at(4, 16) }),
    )
    .expect("publish");
    assert!(
        inbox(&w.state, &lead)
            .iter()
            .any(|n| n.kind == NoticeKind::Bulletin && !n.read)
    );
    w.run(&lead, read).expect("read");
    assert!(
        inbox(&w.state, &lead)
            .iter()
            .any(|n| n.kind == NoticeKind::Bulletin && n.read)
    );
    let b = w.state.bulletins().next().expect("bulletin");
    assert_eq!(b.read_by, vec![lead.unit]);
}

#[test]
fn assessment_formula_boundaries() {
    let mut w = world();
    let (lead, office) = (w.lead.clone(), w.office.clone());
    // Nothing due yet: 100.
    let score = |w: &World, d| {
        assess(&w.state, d)
            .into_iter()
            .find(|s| s.unit == lead.unit)
            .expect("lead unit scored")
    };
    assert_eq!(score(&w, day(3, 30)).total, 100.0);
    // Work plan submitted on the due date: on time; a task done a day late: not.
    w.draft(&lead, SubmissionKind::WorkPlan, at(3, 21))
        .expect("draft");
    w.submit(SubmissionKind::WorkPlan, at(3, 31))
        .expect("submit on the day");
    let t = w.task(day(4, 10), at(3, 25));
    w.done(t, at(4, 11));
    let s = score(&w, day(4, 30));
    assert_eq!((s.submissions_on_time, s.submissions_due), (1, 1));
    assert_eq!((s.tasks_on_time, s.tasks_due), (0, 1));
    // (40×1 + 40×0) / 80 × 100 = 50.
    assert_eq!(s.base, 50.0);
    // An adjustment with a reason; none over 20, none of 0.
    let adjust = |points| {
        Mutation::AdjustAssessment(assessment::Adjust {
            id: AdjustmentId::new_v7(),
            unit: lead.unit,
            points,
            reason: "承担临时任务".into(),
            at: at(4, 20),
        })
    };
    assert!(w.run(&office, adjust(21)).is_err());
    assert!(w.run(&office, adjust(-21)).is_err());
    assert!(w.run(&office, adjust(0)).is_err());
    assert!(
        matches!(w.run(&office, adjust(i32::MIN)), Err(Rejection::Invalid(_))),
        "the lowest i32 is refused (it has no absolute value)"
    );
    assert!(matches!(w.run(&lead, adjust(5)), Err(Rejection::Denied(_))));
    w.run(&office, adjust(5)).expect("adjust");
    assert_eq!(score(&w, day(4, 30)).total, 55.0);
    // Adjustments are for the year, whenever made.
    assert_eq!(score(&w, day(4, 19)).adjustment, 5);
    // A difficulty open over 30 days on an item it leads: −2.
    w.run(
        &lead,
        Mutation::RaiseDifficulty(difficulty::Raise {
            id: DifficultyId::new_v7(),
            item: w.item,
            task: None,
            title: "缺编".into(),
            detail: String::new(),
            at: at(4, 1),
        }),
    )
    .expect("raise");
    assert_eq!(score(&w, day(5, 1)).penalty, 0.0);
    assert_eq!(score(&w, day(5, 2)).penalty, 2.0);
    // Never below 0.
    for _ in 0..4 {
        w.run(&office, adjust(-20)).expect("adjust down");
    }
    assert_eq!(score(&w, day(5, 2)).total, 0.0);
}

#[test]
fn a_changes_time_is_moved_into_the_bounds_the_server_sets() {
    let id = SubmissionId::new_v7();
    let submit = |when| Mutation::SubmitSubmission(submission::Submit { id, at: when });
    let comment = |when| Mutation::AddComment {
        id: CommentId::new_v7(),
        item: ItemId::new_v7(),
        task: None,
        body: "x".into(),
        at: when,
    };
    let (earliest, latest) = (at(4, 2), at(4, 9));
    for (claimed, kept) in [
        (at(3, 30), earliest),
        (at(4, 5), at(4, 5)),
        (at(5, 1), latest),
    ] {
        for m in [submit(claimed), comment(claimed)] {
            let bounded = m.with_time_within(earliest, latest);
            assert_eq!(bounded.at(), kept, "{m:?}");
            // Nothing else about the change moves; inside the bounds it is not even copied.
            assert_eq!(
                matches!(bounded, std::borrow::Cow::Borrowed(_)),
                claimed == kept
            );
            let mut back = bounded.into_owned();
            if claimed != kept {
                back = back.with_time_within(claimed, claimed).into_owned();
            }
            assert_eq!(back, m);
        }
    }
}

#[test]
fn a_missed_due_date_moves_only_by_a_postponement_the_office_approves() {
    use shared::postponement::{self, Decide, Request};
    let mut w = world();
    let (lead, coop, office, other) = (
        w.lead.clone(),
        w.coop.clone(),
        w.office.clone(),
        w.other.clone(),
    );
    let score = |w: &World, d| {
        assess(&w.state, d)
            .into_iter()
            .find(|s| s.unit == lead.unit)
            .map(|s| (s.tasks_on_time, s.tasks_due))
    };
    let t = w.task(day(4, 10), at(3, 25));
    let redate = |due, when| Mutation::SetTaskDue {
        task: t,
        due: Some(due),
        at: when,
    };
    // Before the date the lead unit plans freely.
    w.run(&lead, redate(day(4, 15), at(4, 1)))
        .expect("re-dated before it was due");
    // The day after, the miss counts and the unit can't undo it: not by a new date, nor by
    // clearing it, handing the task to another unit or archiving it.
    assert_eq!(score(&w, day(4, 16)), Some((0, 1)));
    let hides = [
        redate(day(6, 30), at(4, 16)),
        Mutation::SetTaskDue {
            task: t,
            due: None,
            at: at(4, 16),
        },
        Mutation::AssignTask {
            task: t,
            owner: coop.unit,
            at: at(4, 16),
        },
        Mutation::ArchiveTask {
            task: t,
            at: at(4, 16),
        },
    ];
    for m in &hides {
        assert!(
            matches!(w.run(&lead, m.clone()), Err(Rejection::Denied(_))),
            "{m:?}"
        );
    }
    assert_eq!(score(&w, day(4, 16)), Some((0, 1)));
    // It asks instead, with a reason and a later date.
    let ask = |due, reason: &str, when| {
        Mutation::RequestPostponement(Request {
            task: t,
            due,
            reason: reason.into(),
            at: when,
        })
    };
    assert!(matches!(
        w.run(&lead, ask(day(6, 30), " ", at(4, 16))),
        Err(Rejection::Invalid(_))
    ));
    assert!(matches!(
        w.run(&lead, ask(day(4, 15), "原因", at(4, 16))),
        Err(Rejection::Invalid(_))
    ));
    assert!(matches!(
        w.run(&other, ask(day(6, 30), "原因", at(4, 16))),
        Err(Rejection::Denied(_))
    ));
    w.run(&lead, ask(day(6, 30), "等待上级批复", at(4, 16)))
        .expect("asked");
    assert!(
        matches!(
            w.run(&lead, ask(day(7, 30), "再延", at(4, 17))),
            Err(Rejection::Invalid(_))
        ),
        "one request waits at a time"
    );
    // The office sees it waiting; only the office answers, and a refusal says why.
    let waiting = |w: &World| {
        inbox(&w.state, &office)
            .into_iter()
            .filter(|n| n.kind == NoticeKind::Postponement && !n.read)
            .count()
    };
    assert_eq!(waiting(&w), 1);
    let decide = |approve, note: &str| {
        Mutation::DecidePostponement(Decide {
            task: t,
            approve,
            note: note.into(),
            at: at(4, 18),
        })
    };
    assert!(matches!(
        w.run(&lead, decide(true, "")),
        Err(Rejection::Denied(_))
    ));
    assert!(matches!(
        w.run(&office, decide(false, "")),
        Err(Rejection::Invalid(_))
    ));
    w.run(&office, decide(false, "理由不充分"))
        .expect("declined");
    assert_eq!(waiting(&w), 0);
    assert_eq!(w.state.task(t).and_then(|t| t.due), Some(day(4, 15)));
    assert!(
        inbox(&w.state, &lead)
            .iter()
            .any(|n| n.kind == NoticeKind::Postponement
                && n.text.zh().contains("未同意：理由不充分")
                && n.text.en().contains("declined: 理由不充分")),
        "the unit hears the answer, in either language"
    );
    // Asked again and approved: the task is judged against the new date.
    w.run(&lead, ask(day(6, 30), "已取得批复", at(4, 20)))
        .expect("asked again");
    assert!(
        matches!(w.run(&office, decide(true, "")), Ok(())),
        "approval needs no note"
    );
    let task = w.state.task(t).cloned().expect("task");
    assert_eq!(task.due, Some(day(6, 30)));
    assert_eq!(task.postponements.len(), 2);
    assert!(postponement::pending(&task).is_none());
    assert!(!postponement::missed(&task, at(4, 20)));
    w.done(t, at(6, 20));
    assert_eq!(score(&w, day(6, 30)), Some((1, 1)));
    // Done on time, the task's date is the unit's again; a late one stays the office's.
    let on_time = w.state.task(t).cloned().expect("task");
    assert_eq!(on_time.column, Column::Done);
    assert!(!postponement::missed(&on_time, at(9, 1)));
    // Done on time, its date still can't move: re-dated, then reopened, the miss would vanish.
    assert!(matches!(
        w.run(&lead, redate(day(12, 31), at(7, 1))),
        Err(Rejection::Denied(_))
    ));
    // Nor does a unit set a date already past: a miss at once, that only the office could undo.
    let fresh = w.task(day(8, 31), at(7, 1));
    assert!(matches!(
        w.run(
            &lead,
            Mutation::SetTaskDue {
                task: fresh,
                due: Some(day(6, 30)),
                at: at(7, 1),
            }
        ),
        Err(Rejection::Invalid(_))
    ));
    let late = w.task(day(5, 1), at(4, 20));
    w.done(late, at(5, 3));
    let late_task = w.state.task(late).cloned().expect("late task");
    assert!(late_task.done_at.is_some(), "done, a day late");
    assert!(postponement::missed(&late_task, at(5, 4)));
    assert!(matches!(
        w.run(
            &lead,
            Mutation::SetTaskDue {
                task: late,
                due: Some(day(5, 5)),
                at: at(5, 4),
            }
        ),
        Err(Rejection::Denied(_))
    ));
    // The office may still move any date itself.
    w.run(
        &office,
        Mutation::SetTaskDue {
            task: late,
            due: Some(day(5, 5)),
            at: at(5, 4),
        },
    )
    .expect("the office re-dates");
}

#[test]
fn an_archived_card_takes_no_comments_evidence_or_difficulties() {
    let mut w = world();
    let (lead, office) = (w.lead.clone(), w.office.clone());
    let t = w.task(day(6, 30), at(4, 1));
    let item = w.item;
    let comment = |id| Mutation::AddComment {
        id,
        item,
        task: Some(t),
        body: "进展".into(),
        at: at(4, 3),
    };
    let attach = |id| {
        Mutation::AttachFile(shared::attachment::Attach {
            id,
            item,
            to: shared::attachment::AttachedTo::Task(t),
            name: "佐证.pdf".into(),
            size: 10,
            at: at(4, 3),
        })
    };
    let raise = |id| {
        Mutation::RaiseDifficulty(difficulty::Raise {
            id,
            item,
            task: Some(t),
            title: "资金未到位".into(),
            detail: String::new(),
            at: at(4, 3),
        })
    };
    w.run(&lead, comment(CommentId::new_v7()))
        .expect("a comment on a live card");
    w.run(&lead, attach(AttachmentId::new_v7()))
        .expect("evidence on a live card");
    w.run(&lead, raise(DifficultyId::new_v7()))
        .expect("a difficulty about a live card");
    w.run(
        &lead,
        Mutation::ArchiveTask {
            task: t,
            at: at(4, 2),
        },
    )
    .expect("archived");
    for m in [
        comment(CommentId::new_v7()),
        attach(AttachmentId::new_v7()),
        raise(DifficultyId::new_v7()),
    ] {
        for who in [&lead, &office] {
            assert_eq!(
                w.run(who, m.clone()),
                Err(Rejection::Archived),
                "{m:?} by {}",
                who.name
            );
        }
    }
}

#[test]
fn a_returned_submission_is_redrafted_out_of_sight_until_it_is_sent_again() {
    use shared::entity::{EntityKey, Visibility};
    let mut w = world();
    let lead = w.lead.clone();
    let kind = SubmissionKind::WorkPlan;
    let id = w.sub_id(kind);
    let n = kind.parts().len();
    let save = |w: &mut World, text: &str, when| {
        let m = Mutation::SaveSubmission(submission::SaveDraft {
            id,
            item: w.item,
            kind,
            parts: vec![text.to_string(); n],
            at: when,
        });
        w.run(&lead, m)
    };
    save(&mut w, "第一稿", at(3, 20)).expect("draft");
    w.submit(kind, at(3, 25)).expect("submitted");
    w.review(kind, false, "请补充进度安排", at(3, 27))
        .expect("returned");
    save(&mut w, "第二稿（未报送）", at(3, 28)).expect("redraft");
    // What everyone sees is what was sent; the new text is the unit's (and the office's).
    let sent = w.submission(kind).expect("submission").clone();
    assert_eq!(sent.parts, vec!["第一稿".to_string(); n]);
    assert_eq!(
        Entity::Submission(sent.clone()).visibility(),
        Visibility::Everyone
    );
    let redraft = w
        .state
        .get(&EntityKey::redraft(id))
        .cloned()
        .expect("redraft");
    assert_eq!(redraft.visibility(), Visibility::Unit(lead.unit));
    assert_eq!(
        submission::working_parts(&w.state, &sent),
        vec!["第二稿（未报送）".to_string(); n].as_slice()
    );
    // Sent again, the redraft is the new version, and the text everyone sees.
    w.submit(kind, at(3, 29)).expect("resubmitted");
    let s = w.submission(kind).expect("submission");
    assert_eq!(s.versions.len(), 2);
    assert_eq!(s.versions[1].parts, vec!["第二稿（未报送）".to_string(); n]);
    assert_eq!(s.parts, s.versions[1].parts);
    assert_eq!(s.state, SubmissionState::Submitted);
}

#[test]
fn units_with_no_part_in_an_item_comment_once_the_office_allows_it() {
    let mut w = world();
    let (other, office, lead, npc) = (
        w.other.clone(),
        w.office.clone(),
        w.lead.clone(),
        w.npc.clone(),
    );
    let item = w.item;
    let comment = || Mutation::AddComment {
        id: CommentId::new_v7(),
        item,
        task: None,
        body: "建议参考兄弟区做法".into(),
        at: at(4, 3),
    };
    let allow = |on| {
        Mutation::SetSettings(shared::settings::Set {
            others_may_comment: on,
            at: at(4, 2),
        })
    };
    assert!(matches!(
        w.run(&other, comment()),
        Err(Rejection::Denied(_))
    ));
    assert!(
        matches!(w.run(&lead, allow(true)), Err(Rejection::Denied(_))),
        "the setting is the office's"
    );
    w.run(&office, allow(true)).expect("allowed");
    w.run(&other, comment()).expect("another unit comments");
    assert!(
        matches!(w.run(&npc, comment()), Err(Rejection::Denied(_))),
        "the People's Congress evaluates rather than comments"
    );
    w.run(&office, allow(false)).expect("off again");
    assert!(matches!(
        w.run(&other, comment()),
        Err(Rejection::Denied(_))
    ));
    w.run(&lead, comment())
        .expect("the item's own units always may");
}

#[test]
fn a_user_moved_to_another_unit_takes_their_read_marks_along() {
    use shared::entity::{EntityKey, Visibility};
    let mut w = world();
    let mut user = w.lead.clone();
    let mark = |user: &Actor, key: &str| {
        Mutation::MarkNoticesRead(notice::MarkRead {
            user: user.user,
            keys: vec![key.into()],
            at: at(4, 1),
        })
    };
    w.run(&user, mark(&user, "reminder/a")).expect("marked");
    user.unit = w.coop.unit;
    w.run(&user, mark(&user, "reminder/b")).expect("marked");
    let marks = w
        .state
        .get(&EntityKey::read_marks(user.user))
        .cloned()
        .expect("marks");
    assert_eq!(marks.visibility(), Visibility::Unit(w.coop.unit));
    // Even a mark already made moves them.
    user.unit = w.other.unit;
    w.run(&user, mark(&user, "reminder/a"))
        .expect("marked again");
    let marks = w.state.get(&EntityKey::read_marks(user.user)).cloned();
    assert_eq!(
        marks.map(|m| m.visibility()),
        Some(Visibility::Unit(w.other.unit))
    );
}

#[test]
fn the_ledger_as_of_a_past_date_shows_the_plan_as_it_stood_then() {
    use shared::ledger::{Cell, ledger};
    let mut w = world();
    let early = w.task(day(4, 30), at(4, 1));
    w.done(early, at(4, 20));
    let _later = w.task(day(6, 30), at(5, 5));
    w.draft(&w.lead.clone(), SubmissionKind::WorkPlan, at(3, 20))
        .expect("draft");
    w.submit(SubmissionKind::WorkPlan, at(4, 10))
        .expect("submitted late");
    let d = DifficultyId::new_v7();
    let (lead, office) = (w.lead.clone(), w.office.clone());
    w.run(
        &lead,
        Mutation::RaiseDifficulty(difficulty::Raise {
            id: d,
            item: w.item,
            task: None,
            title: "资金未到位".into(),
            detail: String::new(),
            at: at(4, 5),
        }),
    )
    .expect("raised");
    w.run(
        &office,
        Mutation::ResolveDifficulty(difficulty::Resolve {
            id: d,
            resolution: "财政追加预算".into(),
            at: at(5, 2),
        }),
    )
    .expect("resolved");
    let sheet = |as_of, name: &str| {
        ledger(&w.state, as_of)
            .into_iter()
            .find(|s| s.headers.len() > 1 && s.name.contains(name))
            .map(|s| s.rows)
            .unwrap_or_default()
    };
    let texts = |rows: Vec<Vec<Cell>>| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(Cell::text).collect())
            .collect()
    };
    // 15 April: one task, not yet done; the work plan in, five days late.
    let tasks = texts(sheet(day(4, 15), "任务"));
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert!(
        tasks[0].contains(&"推进中".to_string()) || tasks[0].contains(&"未启动".to_string()),
        "{tasks:?}"
    );
    let subs = texts(sheet(day(4, 5), "报送"));
    assert!(
        subs.iter()
            .any(|r| r.contains(&"工作方案".to_string()) && r.contains(&"未报送".to_string())),
        "before it was sent: {subs:?}"
    );
    let subs = texts(sheet(day(4, 15), "报送"));
    assert!(
        subs.iter()
            .any(|r| r.contains(&"工作方案".to_string()) && r.contains(&"已报送".to_string())),
        "after: {subs:?}"
    );
    // A difficulty resolved in May was still waiting on 15 April, without its resolution.
    let diffs = texts(sheet(day(4, 15), "困难"));
    assert!(
        diffs
            .iter()
            .any(|r| r.contains(&"待协调".to_string()) && !r.contains(&"财政追加预算".to_string())),
        "{diffs:?}"
    );
    let diffs = texts(sheet(day(5, 15), "困难"));
    assert!(
        diffs
            .iter()
            .any(|r| r.contains(&"已解决".to_string()) && r.contains(&"财政追加预算".to_string())),
        "{diffs:?}"
    );
    // Today, both tasks, the first done.
    let tasks = texts(sheet(day(12, 31), "任务"));
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert!(
        tasks.iter().any(|r| r.contains(&"已完成".to_string())),
        "{tasks:?}"
    );
}

#[test]
fn a_done_task_stays_at_full_progress() {
    let mut w = world();
    let lead = w.lead.clone();
    let task = w.task(day(6, 30), at(3, 1));
    w.done(task, at(6, 1));
    let lower = |progress| Mutation::SetTaskProgress {
        task,
        progress,
        at: at(6, 2),
    };
    assert!(matches!(
        w.run(&lead, lower(60)),
        Err(Rejection::Invalid(_))
    ));
    w.run(&lead, lower(100)).expect("100% of a done task");
    assert_eq!(w.state.task(task).map(|t| t.progress), Some(100));
}

/// Adds 各街道办 (a group, cooperating on the item) with two member street offices.
fn with_group(w: &mut World) -> (UnitId, Actor, Actor) {
    let group = unit_id_for_name("各街道办");
    w.state.put(Entity::Unit(Unit {
        id: group,
        name: "各街道办".into(),
        aliases: vec![],
        kind: UnitKind::Group,
        in_plan: true,
        groups: vec![],
    }));
    let mut member = |name: &str| {
        let id = unit_id_for_name(name);
        w.state.put(Entity::Unit(Unit {
            id,
            name: name.into(),
            aliases: vec![],
            kind: UnitKind::Department,
            in_plan: false,
            groups: vec![group],
        }));
        let mut a = actor(name, id, Role::Unit);
        a.groups = vec![group];
        a
    };
    let (a, b) = (member("海山街道办"), member("盐田街道办"));
    let mut item = w.state.item(w.item).cloned().expect("item 4");
    item.cooperating_units.push(group);
    w.state.put(Entity::Item(item));
    (group, a, b)
}

#[test]
fn the_first_lead_unit_drafts_and_a_second_is_refused_before_any_draft_exists() {
    let mut w = world();
    let lead = w.lead.clone();
    let second = unit_id_for_name("区委组织部");
    let mut item = w.state.item(w.item).cloned().expect("item 4");
    item.lead_units.push(second);
    assert_eq!(submission::drafting_unit(&item), Some(lead.unit));
    w.state.put(Entity::Item(item));
    let co_lead = actor("另一牵头", second, Role::Unit);
    // Nothing drafted yet: what the second lead unit would type is refused at once, not
    // after another unit's hidden draft turned up.
    assert!(matches!(
        w.draft(&co_lead, SubmissionKind::WorkPlan, at(3, 20)),
        Err(Rejection::Denied(_))
    ));
    // The office starts one for the drafting unit; the first lead unit drafts its own.
    let office = w.office.clone();
    w.draft(&office, SubmissionKind::HalfYear, at(3, 20))
        .expect("the office starts a draft");
    assert_eq!(
        w.submission(SubmissionKind::HalfYear).map(|s| s.unit),
        Some(lead.unit)
    );
    w.draft(&lead, SubmissionKind::WorkPlan, at(3, 20))
        .expect("the first lead unit drafts");
}

#[test]
fn a_returned_submission_is_owed_again_until_it_is_sent_back() {
    let mut w = world();
    let lead = w.lead.clone();
    let deadline = |w: &World, d| {
        calendar::deadlines(&w.state, Some(w.item), d)
            .into_iter()
            .find(|x| {
                x.due
                    == calendar::Due::Submission {
                        kind: SubmissionKind::WorkPlan,
                    }
            })
            .expect("the work plan's deadline")
    };
    let on_time = |w: &World, d| {
        assess(&w.state, d)
            .into_iter()
            .find(|s| s.unit == lead.unit)
            .map(|s| (s.submissions_on_time, s.submissions_due))
    };
    w.draft(&lead, SubmissionKind::WorkPlan, at(3, 20))
        .expect("draft");
    w.submit(SubmissionKind::WorkPlan, at(3, 30))
        .expect("submit");
    assert_eq!(deadline(&w, day(3, 31)).met_on, Some(day(3, 30)));
    w.review(SubmissionKind::WorkPlan, false, "请补充进度安排", at(4, 1))
        .expect("return");
    // Returned, it is owed again: overdue, chased with words that say so, not on time.
    let owed = deadline(&w, day(4, 2));
    assert_eq!(owed.met_on, None);
    assert!(owed.overdue(day(4, 2)));
    assert_eq!(
        reminder::Ask::for_deadline(&w.state, &owed),
        reminder::Ask::Resubmit
    );
    assert_eq!(on_time(&w, day(4, 2)), Some((0, 1)));
    // As of the day before the return it had been met.
    assert_eq!(deadline(&w, day(3, 31)).met_on, Some(day(3, 30)));
    // Sent back, the first submission's day stands again.
    w.draft(&lead, SubmissionKind::WorkPlan, at(4, 5))
        .expect("redraft");
    w.submit(SubmissionKind::WorkPlan, at(4, 6))
        .expect("resubmit");
    assert_eq!(deadline(&w, day(4, 7)).met_on, Some(day(3, 30)));
    assert_eq!(on_time(&w, day(4, 7)), Some((1, 1)));
}

#[test]
fn a_task_given_to_a_group_is_scored_for_each_member_not_the_group() {
    let mut w = world();
    let (group, a, b) = with_group(&mut w);
    let lead = w.lead.clone();
    let task = TaskId::new_v7();
    w.run(
        &lead,
        Mutation::CreateTask {
            id: task,
            item: w.item,
            title: "社区宣传".into(),
            owner: group,
            column: Column::NotStarted,
            sort_key: shared::board::sort_key::between(None, None),
            due: Some(day(4, 10)),
            at: at(3, 25),
        },
    )
    .expect("a task for the group");
    let scores = assess(&w.state, day(4, 11));
    assert!(
        scores.iter().all(|s| s.unit != group),
        "the group has no row"
    );
    for member in [&a, &b] {
        let s = scores
            .iter()
            .find(|s| s.unit == member.unit)
            .expect("a member's row");
        assert_eq!((s.tasks_on_time, s.tasks_due), (0, 1), "{}", s.name);
    }
}

#[test]
fn a_difficulty_reaches_a_groups_members_and_the_unit_that_raised_it() {
    let mut w = world();
    let (group, a, _) = with_group(&mut w);
    let (coop, lead, office) = (w.coop.clone(), w.lead.clone(), w.office.clone());
    let id = DifficultyId::new_v7();
    w.run(
        &coop,
        Mutation::RaiseDifficulty(difficulty::Raise {
            id,
            item: w.item,
            task: None,
            title: "场地不足".into(),
            detail: String::new(),
            at: at(4, 1),
        }),
    )
    .expect("raise");
    let keys = |w: &World, who: &Actor| -> Vec<String> {
        inbox(&w.state, who).into_iter().map(|n| n.key).collect()
    };
    assert!(keys(&w, &lead).contains(&format!("difficulty/{id}/raised")));
    // Coordinated without a note: a step all the same, so "as of" views see it.
    w.run(
        &office,
        Mutation::CoordinateDifficulty(difficulty::Coordinate {
            id,
            units: vec![group],
            note: String::new(),
            at: at(4, 2),
        }),
    )
    .expect("coordinate");
    let d = w.state.difficulties().next().expect("difficulty").clone();
    assert_eq!(d.state_at(at(4, 3)), DifficultyState::Coordinating);
    assert_eq!(d.state_at(at(4, 1)), DifficultyState::Open);
    assert!(keys(&w, &a).contains(&format!("difficulty/{id}/assigned")));
    assert!(keys(&w, &coop).contains(&format!("difficulty/{id}/coordinating")));
    w.run(
        &office,
        Mutation::ResolveDifficulty(difficulty::Resolve {
            id,
            resolution: "已协调场地".into(),
            at: at(4, 20),
        }),
    )
    .expect("resolve");
    assert!(keys(&w, &coop).contains(&format!("difficulty/{id}/resolved")));
    assert!(
        !keys(&w, &w.other.clone())
            .iter()
            .any(|k| k.starts_with("difficulty/"))
    );
}

#[test]
fn a_deadline_as_of_a_past_date_is_the_due_date_it_had_then() {
    use shared::postponement::{Decide, Request};
    let mut w = world();
    let (lead, office) = (w.lead.clone(), w.office.clone());
    let t = w.task(day(3, 31), at(3, 1));
    w.run(
        &lead,
        Mutation::RequestPostponement(Request {
            task: t,
            due: day(6, 30),
            reason: "需等待上级文件".into(),
            at: at(4, 2),
        }),
    )
    .expect("ask");
    w.run(
        &office,
        Mutation::DecidePostponement(Decide {
            task: t,
            approve: true,
            note: String::new(),
            at: at(4, 20),
        }),
    )
    .expect("approve");
    let task_deadline = |d| {
        calendar::deadlines(&w.state, Some(w.item), d)
            .into_iter()
            .find(|x| matches!(x.due, calendar::Due::Task { .. }))
            .expect("the task's deadline")
    };
    // On 15 April the task was due 31 March and overdue, as the item's light says.
    let then = task_deadline(day(4, 15));
    assert_eq!(then.date, day(3, 31));
    assert!(then.overdue(day(4, 15)));
    assert!(
        w.status(day(4, 15))
            .reasons
            .contains(&Reason::OverdueTasks { count: 1 })
    );
    assert_eq!(task_deadline(day(4, 21)).date, day(6, 30));
}

#[test]
fn a_card_dropped_between_two_lands_between_them_whatever_the_board_hides() {
    use shared::board::{key_between, sort_key};
    let mut w = world();
    let lead = w.lead.clone();
    let mut card = |key: &str| {
        let id = TaskId::new_v7();
        let m = Mutation::CreateTask {
            id,
            item: w.item,
            title: "卡片".into(),
            owner: lead.unit,
            column: Column::InProgress,
            sort_key: key.into(),
            due: None,
            at: at(3, 25),
        };
        w.run(&lead, m).expect("card");
        id
    };
    let first = sort_key::between(None, None);
    let third = sort_key::between(Some(&first), None);
    let (c1, c2, c3) = (card(&first), card(&third), card(&third));
    let moving = card(&sort_key::between(Some(&third), None));
    let key_of = |w: &World, id| {
        w.state
            .task(id)
            .map(|t| t.sort_key.clone())
            .unwrap_or_default()
    };
    // c2 and c3 share a key (two units added to the end at once). Dropped right after c2, the
    // card can't go between them: it goes after both, not back where it was or further on.
    let k = key_between(
        &w.state,
        w.item,
        Column::InProgress,
        moving,
        Some(c2),
        Some(c3),
    );
    assert!(k > key_of(&w, c3), "{k} after the shared key");
    // A unit's board shows only c1 and the moving card: dropped right after c1, it lands
    // before c2, the next card in the item's whole column, not on c2's key.
    let k = key_between(&w.state, w.item, Column::InProgress, moving, Some(c1), None);
    assert!(key_of(&w, c1) < k && k < key_of(&w, c2), "{k}");
    // Dropped first, before c1; into an empty view, last of them all.
    let k = key_between(&w.state, w.item, Column::InProgress, moving, None, Some(c1));
    assert!(k < key_of(&w, c1));
    let k = key_between(&w.state, w.item, Column::InProgress, moving, None, None);
    assert!(k > key_of(&w, c3));
}

#[test]
fn a_group_is_reminded_through_its_members() {
    let mut w = world();
    let office = w.office.clone();
    let (group, a, b) = with_group(&mut w);
    let send = |unit| {
        Mutation::SendReminder(reminder::Send {
            id: ReminderId::new_v7(),
            item: item_id_for_number(4),
            unit,
            about: reminder::About::Item,
            text: "请加快推进".into(),
            text_en: String::new(),
            automatic: false,
            at: at(4, 2),
        })
    };
    // Addressed to the group, nobody would read it: refused, saying what to do instead.
    match w.run(&office, send(group)) {
        Err(Rejection::Invalid(m)) => assert!(m.zh().contains("请选择成员单位"), "{}", m.zh()),
        other => panic!("a reminder to a group: {other:?}"),
    }
    w.run(&office, send(a.unit)).expect("a member is reminded");
    let reminders = |who: &Actor| {
        inbox(&w.state, who)
            .iter()
            .filter(|n| n.kind == NoticeKind::Reminder)
            .count()
    };
    assert_eq!((reminders(&a), reminders(&b)), (1, 0));
}

#[test]
fn each_body_counts_once_in_the_assessment_with_its_latest_evaluation() {
    let mut w = world();
    let (npc, lead) = (w.npc.clone(), w.lead.clone());
    let cppcc = actor("政协", unit_id_for_name("区政协"), Role::Supervisor);
    let mut evaluate = |who: &Actor, score: u8, day_of_nov: u32| {
        let id = EvaluationId::new_v7();
        let record = Mutation::RecordEvaluation(evaluation::Record {
            id,
            item: item_id_for_number(4),
            score,
            text: "评议意见".into(),
            at: at(11, day_of_nov),
        });
        w.run(who, record).expect("record");
        let publish = Mutation::PublishEvaluation(evaluation::Publish {
            id,
            at: at(11, day_of_nov),
        });
        w.run(who, publish).expect("publish");
    };
    // The People's Congress three times (its latest word: 4), the CPPCC once (2).
    evaluate(&npc, 1, 1);
    evaluate(&npc, 1, 2);
    evaluate(&npc, 4, 3);
    evaluate(&cppcc, 2, 4);
    let score = assess(&w.state, day(12, 31))
        .into_iter()
        .find(|s| s.unit == lead.unit)
        .expect("the lead unit is assessed");
    assert_eq!(
        score.evaluation,
        Some(3.0),
        "(4 + 2) / 2, not (1 + 1 + 4 + 2) / 4"
    );
    // As of 2 November only the People's Congress had spoken, its second word then.
    let earlier = assess(&w.state, day(11, 2))
        .into_iter()
        .find(|s| s.unit == lead.unit)
        .expect("assessed");
    assert_eq!(earlier.evaluation, Some(1.0));
}

#[test]
fn units_with_the_same_score_share_their_place() {
    let mut w = world();
    let coop = w.coop.clone();
    let mut second = w.state.item(w.item).cloned().expect("item 4");
    second.id = item_id_for_number(5);
    second.number = 5;
    second.lead_units = vec![coop.unit];
    second.cooperating_units = vec![];
    w.state.put(Entity::Item(second));
    let scores = assess(&w.state, day(3, 1));
    let ranks: Vec<(f64, usize)> = scores.iter().map(|s| (s.total, s.rank)).collect();
    assert_eq!(ranks, [(100.0, 1), (100.0, 1)], "nothing due yet: a tie");
    // Item 4's lead unit sends its work plan on time, item 5's does not: 1st and 2nd.
    let lead = w.lead.clone();
    w.draft(&lead, SubmissionKind::WorkPlan, at(3, 20))
        .expect("draft");
    w.submit(SubmissionKind::WorkPlan, at(3, 28))
        .expect("submit");
    let scores = assess(&w.state, day(4, 2));
    let ranks: Vec<(UnitId, usize)> = scores.iter().map(|s| (s.unit, s.rank)).collect();
    assert_eq!(ranks, [(lead.unit, 1), (coop.unit, 2)], "{scores:?}");
}
