//! A year of the seed plan, played through (`reformboard serve --demo-year`): tasks broken down
//! and worked, work plans and reports submitted (some late, one returned), difficulties,
//! instructions, evaluations, an inspection, a reminder and a bulletin — each a `Mutation` pushed
//! by the account that would make it, with the dates of 2014 as client times, so every screen
//! (and every as-of date) has something true to show.

use crate::auth::users;
use crate::db::Db;
use crate::entity_store;
use crate::sync::push;
use anyhow::Context;
use chrono::NaiveDate;
use shared::actor::Actor;
use shared::board::{Column, sort_key};
use shared::entity::Millis;
use shared::ids::{
    ClientGroupId, ClientId, DifficultyId, EvaluationId, InspectionId, InstructionId, ItemId,
    ReminderId, TaskId, UnitId, UserId, submission_id,
};
use shared::mutation::Mutation;
use shared::op::end_of_day;
use shared::submission::SubmissionKind;
use shared::sync::{Outcome, PROTOCOL_VERSION, PendingMutation, PushRequest};
use shared::{bulletin, difficulty, evaluation, instruction, postponement, reminder, submission};
use std::collections::HashMap;

const MARK: &str = "demo_year";

/// Noon, Beijing time, on a date.
fn on(y: i32, m: u32, d: u32) -> Millis {
    let date = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    Millis(end_of_day(date).0 - 12 * 3_600_000)
}

fn day(m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2014, m, d)
}

/// One sync client per account, as if each user worked in their own browser.
struct Clients<'a> {
    db: &'a Db,
    clients: HashMap<UserId, (Actor, ClientGroupId, ClientId, u64)>,
}

impl Clients<'_> {
    async fn push(&mut self, actor: &Actor, mutation: Mutation) -> anyhow::Result<()> {
        let entry = self.clients.entry(actor.user).or_insert_with(|| {
            (
                actor.clone(),
                ClientGroupId::new_v7(),
                ClientId::new_v7(),
                0,
            )
        });
        entry.3 += 1;
        let name = mutation.name();
        let req = PushRequest {
            protocol: PROTOCOL_VERSION,
            client_group: entry.1,
            mutations: vec![PendingMutation {
                client_id: entry.2,
                id: entry.3,
                mutation,
            }],
            retire: Default::default(),
        };
        let (res, _) = push::push(self.db, &entry.0, &req, push::Times::Server)
            .await
            .map_err(|e| anyhow::anyhow!("demo year: {name}: {e}"))?;
        match res.results.first().map(|r| &r.outcome) {
            Some(Outcome::Applied) => Ok(()),
            other => anyhow::bail!("demo year: {name} was not applied: {other:?}"),
        }
    }
}

/// Plays the year once per database; later starts find the mark and do nothing. Returns
/// whether it ran.
pub async fn seed(db: &Db) -> anyhow::Result<bool> {
    let done: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(MARK)
        .fetch_optional(&db.pool)
        .await?;
    if done.is_some() {
        return Ok(false);
    }
    let state = entity_store::load_all(&db.pool).await?;
    if state.tasks().next().is_some() {
        // Real work exists: never mix demo data into it.
        return Ok(false);
    }
    let accounts = users::all(&db.pool).await?;
    let by_unit = |unit: UnitId| {
        accounts
            .iter()
            .filter(|u| u.disabled == 0)
            .filter_map(users::UserRow::actor)
            .find(|a| a.unit == unit)
    };
    let by_name = |username: &str| {
        accounts
            .iter()
            .find(|u| u.username == username)
            .and_then(users::UserRow::actor)
    };
    let office = by_name("office").context("the demo year needs the demo accounts (--demo)")?;
    let leader = by_name("leader").context("demo account leader")?;
    let npc = by_name("npc").context("demo account npc")?;
    let cppcc = by_name("cppcc").context("demo account cppcc")?;
    let mut c = Clients {
        db,
        clients: HashMap::new(),
    };
    let items: Vec<_> = state.items().into_iter().cloned().collect();
    let titles = [
        ("制定实施方案，分解任务", 4, 15),
        ("开展调研论证，征求意见", 6, 30),
        ("出台配套政策措施", 9, 30),
        ("组织实施并总结评估", 12, 20),
    ];
    let mut leads: HashMap<ItemId, Actor> = HashMap::new();
    // Tasks that stall, by item number and place, for the postponements below.
    let mut stalled: HashMap<(u32, usize), TaskId> = HashMap::new();
    for item in &items {
        let n = item.number;
        let Some(lead) = item.lead_units.iter().find_map(|u| by_unit(*u)) else {
            continue;
        };
        leads.insert(item.id, lead.clone());
        let mut key: Option<String> = None;
        let mut tasks = Vec::new();
        for (k, (title, m, d)) in titles.iter().enumerate() {
            let owner = if k % 2 == 1 {
                item.cooperating_units
                    .get(k / 2)
                    .copied()
                    .unwrap_or(lead.unit)
            } else {
                lead.unit
            };
            let id = TaskId::new_v7();
            let sk = sort_key::between(key.as_deref(), None);
            key = Some(sk.clone());
            c.push(
                &lead,
                Mutation::CreateTask {
                    id,
                    item: item.id,
                    title: (*title).into(),
                    owner,
                    column: Column::NotStarted,
                    sort_key: sk,
                    due: day(*m, *d),
                    at: on(2014, 3, 25),
                },
            )
            .await?;
            tasks.push((id, *m, *d));
        }
        // Work the tasks: all start in April and report progress mid-month in step with the
        // time elapsed since the plan was issued (as the status rules expect); some finish a
        // month late, lagging as they go; items 4 and 9 stall at 40%.
        let issued = day(3, 20).unwrap_or_default();
        for (k, (task, m, d)) in tasks.iter().enumerate() {
            let late = (n as usize + k).is_multiple_of(5);
            let stuck = (n == 4 && k >= 2) || (n == 9 && k >= 1);
            let due = day(*m, *d).unwrap_or_default();
            let mv = |column, at| Mutation::MoveTask {
                task: *task,
                column,
                sort_key: sort_key::between(None, None),
                at,
            };
            c.push(&lead, mv(Column::InProgress, on(2014, 4, 1)))
                .await?;
            let span = (due - issued).num_days().max(1);
            for month in 4..=*m {
                let Some(report) = day(month, 15).filter(|r| *r < due) else {
                    continue;
                };
                let share = (report - issued).num_days() * 100 / span;
                let share = if late { share * 7 / 10 } else { share };
                let progress = u8::try_from((share / 10 * 10).clamp(10, 90)).unwrap_or(50);
                let progress = if stuck { progress.min(40) } else { progress };
                c.push(
                    &lead,
                    Mutation::SetTaskProgress {
                        task: *task,
                        progress,
                        at: on(2014, month, 15),
                    },
                )
                .await?;
            }
            if stuck {
                stalled.insert((n, k), *task);
                continue;
            }
            let done = if late {
                on(2014, (*m + 1).min(12), 10)
            } else {
                on(2014, *m, (*d).saturating_sub(5).max(1))
            };
            c.push(&lead, mv(Column::Done, done)).await?;
        }
        // The work plan: due 31 March. Item 7 is late; item 4 is returned once.
        let draft = |kind: SubmissionKind, at| {
            let parts = kind
                .parts()
                .iter()
                .map(|(zh, _)| format!("{}：按计划要求推进第{n}项改革。", zh))
                .collect();
            Mutation::SaveSubmission(submission::SaveDraft {
                id: submission_id(item.id, kind.as_str()),
                item: item.id,
                kind,
                parts,
                at,
            })
        };
        let submit = |kind: SubmissionKind, at| {
            Mutation::SubmitSubmission(submission::Submit {
                id: submission_id(item.id, kind.as_str()),
                at,
            })
        };
        let review = |kind: SubmissionKind, accept, comment: &str, at| {
            Mutation::ReviewSubmission(submission::ReviewSubmission {
                id: submission_id(item.id, kind.as_str()),
                accept,
                comment: comment.into(),
                at,
            })
        };
        c.push(&lead, draft(SubmissionKind::WorkPlan, on(2014, 3, 26)))
            .await?;
        let wp_day = if n == 7 {
            on(2014, 4, 3)
        } else {
            on(2014, 3, 28)
        };
        c.push(&lead, submit(SubmissionKind::WorkPlan, wp_day))
            .await?;
        if n == 4 {
            c.push(
                &office,
                review(
                    SubmissionKind::WorkPlan,
                    false,
                    "进度安排不够具体，请细化到月。",
                    on(2014, 4, 2),
                ),
            )
            .await?;
            c.push(&lead, draft(SubmissionKind::WorkPlan, on(2014, 4, 7)))
                .await?;
            c.push(&lead, submit(SubmissionKind::WorkPlan, on(2014, 4, 8)))
                .await?;
        }
        c.push(
            &office,
            review(SubmissionKind::WorkPlan, true, "", on(2014, 4, 10)),
        )
        .await?;
        // Half-year report: due 10 July; item 9 late.
        let hy_day = if n == 9 {
            on(2014, 7, 16)
        } else {
            on(2014, 7, 8)
        };
        c.push(&lead, draft(SubmissionKind::HalfYear, on(2014, 7, 1)))
            .await?;
        c.push(&lead, submit(SubmissionKind::HalfYear, hy_day))
            .await?;
        c.push(
            &office,
            review(SubmissionKind::HalfYear, true, "", on(2014, 7, 20)),
        )
        .await?;
        // Annual report: due 10 January 2015; item 9 never sends it.
        if n != 9 {
            c.push(&lead, draft(SubmissionKind::Annual, on(2015, 1, 5)))
                .await?;
            c.push(&lead, submit(SubmissionKind::Annual, on(2015, 1, 8)))
                .await?;
        }
    }

    let item = |n: u32| items.iter().find(|i| i.number == n);
    if let (Some(i4), Some(i9)) = (item(4), item(9)) {
        let coop4 = i4
            .cooperating_units
            .iter()
            .find_map(|u| by_unit(*u))
            .or_else(|| leads.get(&i4.id).cloned())
            .context("a unit of item 4")?;
        let lead4 = leads.get(&i4.id).cloned().context("item 4's lead")?;
        let lead9 = leads.get(&i9.id).cloned().context("item 9's lead")?;
        // A difficulty raised, coordinated and resolved; another left open.
        let d1 = DifficultyId::new_v7();
        c.push(
            &coop4,
            Mutation::RaiseDifficulty(difficulty::Raise {
                id: d1,
                item: i4.id,
                task: None,
                title: "项目资金拨付滞后".into(),
                detail: "配套资金尚未下达，影响调研和试点安排。".into(),
                at: on(2014, 5, 6),
            }),
        )
        .await?;
        c.push(
            &office,
            Mutation::CoordinateDifficulty(difficulty::Coordinate {
                id: d1,
                units: i4.lead_units.clone(),
                note: "已召集相关单位协调，明确拨付时间。".into(),
                at: on(2014, 5, 10),
            }),
        )
        .await?;
        c.push(
            &office,
            Mutation::ResolveDifficulty(difficulty::Resolve {
                id: d1,
                resolution: "资金已于6月中旬拨付到位。".into(),
                at: on(2014, 6, 20),
            }),
        )
        .await?;
        c.push(
            &lead9,
            Mutation::RaiseDifficulty(difficulty::Raise {
                id: DifficultyId::new_v7(),
                item: i9.id,
                task: None,
                title: "涉及多部门职责调整，协调难度大".into(),
                detail: "需区领导牵头协调编制和职责划转。".into(),
                at: on(2014, 8, 1),
            }),
        )
        .await?;
        // Postponements: item 9's declined, item 4's waiting for the office.
        if let Some(task) = stalled.get(&(9, 1)) {
            c.push(
                &lead9,
                Mutation::RequestPostponement(postponement::Request {
                    task: *task,
                    due: day(9, 30).unwrap_or_default(),
                    reason: "调研涉及部门多，意见尚未收齐。".into(),
                    at: on(2014, 7, 3),
                }),
            )
            .await?;
            c.push(
                &office,
                Mutation::DecidePostponement(postponement::Decide {
                    task: *task,
                    approve: false,
                    note: "该项为年度重点，请加强力量按期完成。".into(),
                    at: on(2014, 7, 7),
                }),
            )
            .await?;
        }
        if let Some(task) = stalled.get(&(4, 2)) {
            c.push(
                &lead4,
                Mutation::RequestPostponement(postponement::Request {
                    task: *task,
                    due: day(12, 31).unwrap_or_default(),
                    reason: "配套政策须经区政府常务会审议，会议安排在12月。".into(),
                    at: on(2014, 10, 8),
                }),
            )
            .await?;
        }
        // Instructions: one answered, one waiting.
        let ins = InstructionId::new_v7();
        c.push(
            &leader,
            Mutation::WriteInstruction(instruction::Write {
                id: ins,
                item: i4.id,
                text: "请加快推进，6月底前拿出阶段性成果。".into(),
                at: on(2014, 4, 20),
            }),
        )
        .await?;
        c.push(
            &lead4,
            Mutation::RespondInstruction(instruction::Respond {
                id: ins,
                text: "已召开专题推进会，按月倒排工期，6月底前报送阶段成果。".into(),
                at: on(2014, 4, 22),
            }),
        )
        .await?;
        c.push(
            &leader,
            Mutation::WriteInstruction(instruction::Write {
                id: InstructionId::new_v7(),
                item: i9.id,
                text: "此项改革滞后，请牵头单位说明原因并提出整改措施。".into(),
                at: on(2014, 9, 10),
            }),
        )
        .await?;
        // The office chases item 9's half-year report.
        c.push(
            &office,
            Mutation::SendReminder(reminder::Send {
                id: ReminderId::new_v7(),
                item: i9.id,
                unit: lead9.unit,
                about: reminder::About::Submission(SubmissionKind::HalfYear),
                text: "半年报告已到期，请于7月15日前报送。".into(),
                text_en: String::new(),
                automatic: false,
                at: on(2014, 7, 12),
            }),
        )
        .await?;
        // The People's Congress inspects and evaluates; the CPPCC evaluates.
        let mut inspected: Vec<ItemId> = [1, 4, 6]
            .iter()
            .filter_map(|n| item(*n))
            .map(|i| i.id)
            .collect();
        inspected.sort();
        c.push(
            &npc,
            Mutation::RecordInspection(evaluation::RecordInspection {
                id: InspectionId::new_v7(),
                date: day(11, 18).unwrap_or_default(),
                items: inspected,
                findings: "各项改革总体按计划推进，部分项目需加强部门协同。".into(),
                at: on(2014, 11, 18),
            }),
        )
        .await?;
        for (who, n, score, text) in [
            (&npc, 1, 5, "改革举措务实，成效明显。"),
            (&cppcc, 4, 4, "推进有力，建议加强宣传解读。"),
        ] {
            let Some(it) = item(n) else { continue };
            let id = EvaluationId::new_v7();
            c.push(
                who,
                Mutation::RecordEvaluation(evaluation::Record {
                    id,
                    item: it.id,
                    score,
                    text: text.into(),
                    at: on(2014, 11, 20),
                }),
            )
            .await?;
            c.push(
                who,
                Mutation::PublishEvaluation(evaluation::Publish {
                    id,
                    at: on(2014, 11, 25),
                }),
            )
            .await?;
        }
    }

    // A mid-year bulletin, written from the plan as it stood on 15 July.
    let now = entity_store::load_all(&db.pool).await?;
    let as_of = day(7, 15).unwrap_or_default();
    let (title, body) = bulletin::draft(&now, as_of);
    let id = shared::ids::BulletinId::new_v7();
    c.push(
        &office,
        Mutation::SaveBulletin(bulletin::Save {
            id,
            title,
            as_of,
            body,
            at: on(2014, 7, 16),
        }),
    )
    .await?;
    c.push(
        &office,
        Mutation::PublishBulletin(bulletin::Publish {
            id,
            at: on(2014, 7, 18),
        }),
    )
    .await?;

    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(MARK)
        .bind("1")
        .execute(&db.pool)
        .await?;
    Ok(true)
}
