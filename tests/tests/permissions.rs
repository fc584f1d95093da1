//! The permission matrix, against the real server: every API endpoint and every `Mutation`
//! variant, tried by every kind of user —
//!
//! * the office (综合办);
//! * the lead unit of item 4 (牵头单位);
//! * a cooperating unit of item 4 that owns the task being worked on (配合单位, 承担该任务);
//! * another cooperating unit of item 4, which does not own it;
//! * a unit with no part in item 4;
//! * a district leader; a supervisor (区人大);
//! * an anonymous visitor; a disabled account (a second account of item 4's lead unit, which
//!   would be allowed everything the lead unit is if it were enabled).
//!
//! The expected outcomes are written out below as tables, straight from the table of who
//! may do what; they are deliberately *not* computed with `shared::permission`, which is the code
//! under test. A forbidden push is answered 200 with the mutation `rejected` for `denied`, and a
//! pull afterwards shows that nothing changed; an allowed one is `applied` and the pull shows
//! the change.

use anyhow::{Context, bail, ensure};
use e2e::sync_client::{ITEM4_LEAD, PlanFacts, Session, pull_request, push_request};
use e2e::{Api, Server, ServerOptions, Store};
use reqwest::Method;
use serde_json::{Value, json};
use shared::assessment::Adjust;
use shared::attachment::{Attach, AttachedTo, Remove, UploadInfo};
use shared::board::{Column, sort_key};
use shared::bulletin::{MarkRead, Publish as BulletinPublish, Save};
use shared::calendar::SetCalendar;
use shared::difficulty::{Coordinate, Raise, Resolve};
use shared::entity::{EntityKey, Millis};
use shared::evaluation::{Publish as EvalPublish, Record, RecordInspection};
use shared::ids::{
    AdjustmentId, AttachmentId, BulletinId, ClientGroupId, ClientId, CommentId, DifficultyId,
    EvaluationId, InspectionId, InstructionId, ItemId, ReminderId, StepId, SubmissionId, TaskId,
    UnitId, UserId, submission_id,
};
use shared::instruction::{Respond, Write};
use shared::mutation::Mutation;
use shared::notice::MarkRead as NoticesRead;
use shared::reminder::{About, Send as Remind};
use shared::submission::{ReviewSubmission, SaveDraft, SubmissionKind, Submit};
use shared::sync::{Cookie, Outcome, PendingMutation};
use std::collections::{BTreeMap, BTreeSet};

/// The kinds of user, in the order of the tables' columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Office,
    Lead,
    CoopOwner,
    CoopOther,
    Unrelated,
    Leader,
    Supervisor,
    Anonymous,
    Disabled,
}

const EVERYONE: [Who; 9] = [
    Who::Office,
    Who::Lead,
    Who::CoopOwner,
    Who::CoopOther,
    Who::Unrelated,
    Who::Leader,
    Who::Supervisor,
    Who::Anonymous,
    Who::Disabled,
];

/// The task a mutation is aimed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// None: the mutation names item 4 itself (create a task, comment on the item).
    Item,
    /// A task of item 4 owned by the cooperating unit `CoopOwner` belongs to.
    CoopTask,
    /// A task of item 4 owned by its lead unit.
    LeadTask,
    /// An archived task of item 4 owned by the cooperating unit.
    ArchivedCoopTask,
    /// A task of item 4 owned by the cooperating unit, due on 31 March 2014 and not done:
    /// missed, so its date, owner and archiving are the office's (`shared::postponement`).
    MissedCoopTask,
    /// Item 4's work plan (a draft of its lead unit's).
    Submission,
}

// The mutation matrix. A = applied, D = rejected as denied, U = the push itself is refused with
// 401 (no live session). Columns: office, lead unit, cooperating unit owning the task, another
// cooperating unit, unrelated unit, leader, supervisor, anonymous, disabled account.
//
// From the issue: the lead unit creates, assigns, edits, moves and archives (and restores) tasks
// of its item; a cooperating unit works the tasks assigned to it (progress, column, checklist,
// blocked flag) and comments on the item, but may not create, assign, retitle or archive; other
// units may do nothing on the item (commenting is off until the office allows it); the leader
// comments; supervisors only read here.
//
// Running the plan (issue 6): the office does everything but evaluate and inspect, which are the
// People's Congress's and the CPPCC's alone (they record and publish evaluations and record
// inspections); the lead unit saves and submits the item's work plan and reports, answers
// instructions and attaches evidence to its submissions; any unit on the item raises
// difficulties and attaches evidence to tasks it works on; a leader writes instructions; everyone
// signed in marks a published bulletin read and their own notifications read.
#[rustfmt::skip]
const MUTATIONS: &[(&str, Target, &str)] = &[
    //                                          off lead own  coop other ldr  sup  anon dis
    ("create_task",       Target::Item,             "A   A    D    D    D     D    D    U    U"),
    ("set_task_title",    Target::CoopTask,         "A   A    D    D    D     D    D    U    U"),
    ("set_task_notes",    Target::CoopTask,         "A   A    D    D    D     D    D    U    U"),
    ("set_task_due",      Target::CoopTask,         "A   A    D    D    D     D    D    U    U"),
    ("assign_task",       Target::CoopTask,         "A   A    D    D    D     D    D    U    U"),
    ("archive_task",      Target::CoopTask,         "A   A    D    D    D     D    D    U    U"),
    ("restore_task",      Target::ArchivedCoopTask, "A   A    D    D    D     D    D    U    U"),
    // A missed task: the lead unit may no longer re-date, reassign or archive it; the units
    // that work on it ask for a postponement (the office sets a date itself), and the office
    // answers.
    ("set_task_due",      Target::MissedCoopTask,   "A   D    D    D    D     D    D    U    U"),
    ("assign_task",       Target::MissedCoopTask,   "A   D    D    D    D     D    D    U    U"),
    ("archive_task",      Target::MissedCoopTask,   "A   D    D    D    D     D    D    U    U"),
    ("request_postponement", Target::MissedCoopTask, "D  A    A    D    D     D    D    U    U"),
    ("decide_postponement",  Target::MissedCoopTask, "A  D    D    D    D     D    D    U    U"),
    ("set_task_progress", Target::MissedCoopTask,   "A   A    A    D    D     D    D    U    U"),
    ("set_task_progress", Target::CoopTask,         "A   A    A    D    D     D    D    U    U"),
    ("move_task",         Target::CoopTask,         "A   A    A    D    D     D    D    U    U"),
    ("set_task_blocked",  Target::CoopTask,         "A   A    A    D    D     D    D    U    U"),
    ("add_step",          Target::CoopTask,         "A   A    A    D    D     D    D    U    U"),
    ("tick_step",         Target::CoopTask,         "A   A    A    D    D     D    D    U    U"),
    ("rename_step",       Target::CoopTask,         "A   A    A    D    D     D    D    U    U"),
    ("move_step",         Target::CoopTask,         "A   A    A    D    D     D    D    U    U"),
    ("remove_step",       Target::CoopTask,         "A   A    A    D    D     D    D    U    U"),
    // The same work on a task the lead unit owns: no cooperating unit may touch it.
    ("set_task_progress", Target::LeadTask,         "A   A    D    D    D     D    D    U    U"),
    ("move_task",         Target::LeadTask,         "A   A    D    D    D     D    D    U    U"),
    ("set_task_blocked",  Target::LeadTask,         "A   A    D    D    D     D    D    U    U"),
    ("add_step",          Target::LeadTask,         "A   A    D    D    D     D    D    U    U"),
    ("tick_step",         Target::LeadTask,         "A   A    D    D    D     D    D    U    U"),
    ("rename_step",       Target::LeadTask,         "A   A    D    D    D     D    D    U    U"),
    ("move_step",         Target::LeadTask,         "A   A    D    D    D     D    D    U    U"),
    ("remove_step",       Target::LeadTask,         "A   A    D    D    D     D    D    U    U"),
    // Comments: on the item, and on a task of it.
    ("add_comment",       Target::Item,             "A   A    A    A    D     A    D    U    U"),
    ("add_comment",       Target::CoopTask,         "A   A    A    A    D     A    D    U    U"),
    // Running the plan.
    ("set_calendar",          Target::Item,       "A   D    D    D    D     D    D    U    U"),
    ("set_settings",          Target::Item,       "A   D    D    D    D     D    D    U    U"),
    ("save_submission",       Target::Item,       "A   A    D    D    D     D    D    U    U"),
    ("submit_submission",     Target::Item,       "A   A    D    D    D     D    D    U    U"),
    ("review_submission",     Target::Item,       "A   D    D    D    D     D    D    U    U"),
    ("raise_difficulty",      Target::Item,       "A   A    A    A    D     D    D    U    U"),
    ("coordinate_difficulty", Target::Item,       "A   D    D    D    D     D    D    U    U"),
    ("resolve_difficulty",    Target::Item,       "A   D    D    D    D     D    D    U    U"),
    ("write_instruction",     Target::Item,       "D   D    D    D    D     A    D    U    U"),
    ("respond_instruction",   Target::Item,       "A   A    D    D    D     D    D    U    U"),
    ("record_evaluation",     Target::Item,       "D   D    D    D    D     D    A    U    U"),
    ("publish_evaluation",    Target::Item,       "D   D    D    D    D     D    A    U    U"),
    ("record_inspection",     Target::Item,       "D   D    D    D    D     D    A    U    U"),
    ("send_reminder",         Target::Item,       "A   D    D    D    D     D    D    U    U"),
    ("save_bulletin",         Target::Item,       "A   D    D    D    D     D    D    U    U"),
    ("publish_bulletin",      Target::Item,       "A   D    D    D    D     D    D    U    U"),
    ("read_bulletin",         Target::Item,       "A   A    A    A    A     A    A    U    U"),
    ("attach_file",           Target::CoopTask,   "A   A    A    D    D     D    D    U    U"),
    ("attach_file",           Target::LeadTask,   "A   A    D    D    D     D    D    U    U"),
    ("attach_file",           Target::Submission, "A   A    D    D    D     D    D    U    U"),
    ("remove_attachment",     Target::CoopTask,   "A   A    A    D    D     D    D    U    U"),
    ("adjust_assessment",     Target::Item,       "A   D    D    D    D     D    D    U    U"),
    ("mark_notices_read",     Target::Item,       "A   A    A    A    A     A    A    U    U"),
    // The units behind the plan's groups (各街道办): the office's to set.
    ("add_unit",              Target::Item,       "A   D    D    D    D     D    D    U    U"),
    ("set_membership",        Target::Item,       "A   D    D    D    D     D    D    U    U"),
];

// The endpoint matrix: the HTTP status each kind of user gets. Rows name the route as the router
// declares it (a test below checks that every route of the server has a row). Requests that are
// allowed are made valid where that is harmless, and invalid where it would change something we
// need later (a password change with a too-short new password answers 400 only to those who got
// past authorization).
#[rustfmt::skip]
const ENDPOINTS: &[(&str, &str, &str)] = &[
    // method route                           off  lead own  coop other ldr  sup  anon dis
    ("GET",  "/health",                      "200 200  200  200  200   200  200  200  200"),
    ("GET",  "/openapi.json",                "200 200  200  200  200   200  200  200  200"),
    ("GET",  "/auth/demo-accounts",          "200 200  200  200  200   200  200  200  200"),
    ("GET",  "/auth/me",                     "200 200  200  200  200   200  200  401  401"),
    ("POST", "/auth/password",               "400 400  400  400  400   400  400  401  401"),
    ("POST", "/auth/language",               "204 204  204  204  204   204  204  401  401"),
    ("GET",  "/plan",                        "200 200  200  200  200   200  200  401  401"),
    ("GET",  "/history/{*key}",              "200 200  200  200  200   200  200  401  401"),
    ("GET",  "/history/{*key}#user",         "200 403  403  403  403   403  403  401  401"),
    ("GET",  "/audit",                       "200 403  403  403  403   403  403  401  401"),
    ("GET",  "/audit.csv",                   "200 403  403  403  403   403  403  401  401"),
    ("GET",  "/users",                       "200 403  403  403  403   403  403  401  401"),
    ("POST", "/users",                       "201 403  403  403  403   403  403  401  401"),
    ("POST", "/users/{id}/password",         "204 403  403  403  403   403  403  401  401"),
    ("POST", "/users/{id}/role",             "204 403  403  403  403   403  403  401  401"),
    ("POST", "/users/{id}/disable",          "204 403  403  403  403   403  403  401  401"),
    ("POST", "/users/{id}/enable",           "204 403  403  403  403   403  403  401  401"),
    ("POST", "/sync/pull",                   "200 200  200  200  200   200  200  401  401"),
    ("POST", "/sync/push",                   "200 200  200  200  200   200  200  401  401"),
    ("GET",  "/sync/ws",                     "101 101  101  101  101   101  101  401  401"),
    // Evidence: those who can attach upload; a file is downloadable where what it is attached
    // to is visible (a draft's files are its unit's and the office's).
    ("POST", "/uploads",                     "201 201  201  201  201   403  403  401  401"),
    ("GET",  "/attachments/{id}",            "200 200  200  200  200   200  200  401  401"),
    ("GET",  "/attachments/{id}#draft",      "200 200  404  404  404   404  404  401  401"),
    ("GET",  "/export/ledger.xlsx",          "200 200  200  200  200   200  200  401  401"),
    ("GET",  "/export/ledger.csv",           "200 200  200  200  200   200  200  401  401"),
    ("GET",  "/export/assessment.xlsx",      "200 403  403  403  403   403  403  401  401"),
    ("GET",  "/export/bulletins/{file}",     "200 200  200  200  200   200  200  401  401"),
    ("GET",  "/export/bulletins/{file}#draft", "200 404 404  404  404   404  404  401  401"),
    ("POST", "/users/{id}/email",            "204 403  403  403  403   403  403  401  401"),
    // Last, because they end or replace the session: signing out is never an error, and
    // signing in is open to anyone (here, as the supervisor 区政协, from every client).
    ("POST", "/auth/logout",                 "204 204  204  204  204   204  204  204  204"),
    ("POST", "/auth/login",                  "200 200  200  200  200   200  200  200  200"),
];

/// Every variant of `Mutation`, by name.
const VARIANTS: [&str; 41] = [
    "create_task",
    "set_task_title",
    "set_task_notes",
    "set_task_due",
    "set_task_progress",
    "assign_task",
    "move_task",
    "set_task_blocked",
    "archive_task",
    "restore_task",
    "add_step",
    "tick_step",
    "rename_step",
    "move_step",
    "remove_step",
    "add_comment",
    "set_calendar",
    "save_submission",
    "submit_submission",
    "review_submission",
    "raise_difficulty",
    "coordinate_difficulty",
    "resolve_difficulty",
    "write_instruction",
    "respond_instruction",
    "record_evaluation",
    "publish_evaluation",
    "record_inspection",
    "send_reminder",
    "save_bulletin",
    "publish_bulletin",
    "read_bulletin",
    "attach_file",
    "remove_attachment",
    "adjust_assessment",
    "mark_notices_read",
    "add_unit",
    "set_membership",
    "request_postponement",
    "decide_postponement",
    "set_settings",
];

/// No wildcard arm: adding a variant to `Mutation` fails to compile until it is named in
/// `VARIANTS`, and so gets a row in the matrix.
#[expect(
    dead_code,
    reason = "exists only so the compiler checks the match is exhaustive"
)]
fn variant_name(m: &Mutation) -> &'static str {
    match m {
        Mutation::CreateTask { .. } => "create_task",
        Mutation::SetTaskTitle { .. } => "set_task_title",
        Mutation::SetTaskNotes { .. } => "set_task_notes",
        Mutation::SetTaskDue { .. } => "set_task_due",
        Mutation::SetTaskProgress { .. } => "set_task_progress",
        Mutation::AssignTask { .. } => "assign_task",
        Mutation::MoveTask { .. } => "move_task",
        Mutation::SetTaskBlocked { .. } => "set_task_blocked",
        Mutation::ArchiveTask { .. } => "archive_task",
        Mutation::RestoreTask { .. } => "restore_task",
        Mutation::AddStep { .. } => "add_step",
        Mutation::TickStep { .. } => "tick_step",
        Mutation::RenameStep { .. } => "rename_step",
        Mutation::MoveStep { .. } => "move_step",
        Mutation::RemoveStep { .. } => "remove_step",
        Mutation::AddComment { .. } => "add_comment",
        Mutation::SetCalendar(_) => "set_calendar",
        Mutation::SetSettings(_) => "set_settings",
        Mutation::SaveSubmission(_) => "save_submission",
        Mutation::SubmitSubmission(_) => "submit_submission",
        Mutation::ReviewSubmission(_) => "review_submission",
        Mutation::RaiseDifficulty(_) => "raise_difficulty",
        Mutation::CoordinateDifficulty(_) => "coordinate_difficulty",
        Mutation::ResolveDifficulty(_) => "resolve_difficulty",
        Mutation::WriteInstruction(_) => "write_instruction",
        Mutation::RespondInstruction(_) => "respond_instruction",
        Mutation::RecordEvaluation(_) => "record_evaluation",
        Mutation::PublishEvaluation(_) => "publish_evaluation",
        Mutation::RecordInspection(_) => "record_inspection",
        Mutation::SendReminder(_) => "send_reminder",
        Mutation::SaveBulletin(_) => "save_bulletin",
        Mutation::PublishBulletin(_) => "publish_bulletin",
        Mutation::ReadBulletin(_) => "read_bulletin",
        Mutation::AttachFile(_) => "attach_file",
        Mutation::RemoveAttachment(_) => "remove_attachment",
        Mutation::AdjustAssessment(_) => "adjust_assessment",
        Mutation::MarkNoticesRead(_) => "mark_notices_read",
        Mutation::AddUnit(_) => "add_unit",
        Mutation::SetMembership(_) => "set_membership",
        Mutation::RequestPostponement(_) => "request_postponement",
        Mutation::DecidePostponement(_) => "decide_postponement",
    }
}

/// Splits a table row into one expectation per column.
fn columns(row: &str) -> anyhow::Result<BTreeMap<Who, String>> {
    let cells: Vec<&str> = row.split_whitespace().collect();
    ensure!(
        cells.len() == EVERYONE.len(),
        "row {row:?} needs {} cells",
        EVERYONE.len()
    );
    Ok(EVERYONE
        .into_iter()
        .zip(cells.into_iter().map(String::from))
        .collect())
}

/// Everyone's client, the units involved, and the fixtures.
struct World {
    server: Server,
    clients: BTreeMap<Who, Api>,
    office: Session,
    facts: PlanFacts,
    item4: ItemId,
    lead: UnitId,
    coop_owner: UnitId,
    coop_other: UnitId,
    unrelated: UnitId,
    /// An account the endpoint rows manage (reset, disable, change role).
    victim: String,
}

const SPARE_PASSWORD: &str = "spare-pass-1";
const SPARE_PASSWORD_2: &str = "spare-pass-2";

impl World {
    async fn new(store: Store) -> anyhow::Result<World> {
        let server = Server::start(ServerOptions {
            store,
            ..Default::default()
        })
        .await?;
        let office = Session::login(&server, "office").await?;
        let facts = PlanFacts::new(office.server_view().await?);
        let item4 = facts.item(4)?;
        let lead = *item4.lead_units.first().context("item 4 has a lead unit")?;
        let (coop_owner, coop_other) = match item4.cooperating_units.as_slice() {
            [a, b, ..] => (*a, *b),
            _ => bail!("item 4 has two cooperating units"),
        };
        // A unit of the plan with no part in item 4.
        let unrelated = facts
            .item(1)?
            .lead_units
            .iter()
            .chain(facts.item(2)?.lead_units.iter())
            .copied()
            .find(|u| *u != lead && !item4.cooperating_units.contains(u))
            .context("a unit with no part in item 4")?;

        let mut clients = BTreeMap::new();
        clients.insert(Who::Office, office.api.clone());
        for (who, unit) in [
            (Who::Lead, lead),
            (Who::CoopOwner, coop_owner),
            (Who::CoopOther, coop_other),
            (Who::Unrelated, unrelated),
        ] {
            let session = Session::login(&server, &facts.username_of(unit)?).await?;
            ensure!(
                session.me.unit == unit,
                "{who:?} logged in as the wrong unit"
            );
            clients.insert(who, session.api);
        }
        clients.insert(Who::Leader, server.login("leader").await?);
        clients.insert(Who::Supervisor, server.login("npc").await?);
        clients.insert(Who::Anonymous, server.client());

        // The disabled account belongs to the lead unit: only the disabling stands between it
        // and everything the lead unit may do.
        let spare = create_user(&office.api, "lead-spare", lead, SPARE_PASSWORD).await?;
        let disabled = server.client();
        disabled.login("lead-spare", SPARE_PASSWORD).await?;
        let changed = disabled
            .post(
                "/api/auth/password",
                &json!({ "old_password": SPARE_PASSWORD, "new_password": SPARE_PASSWORD_2 }),
            )
            .await?;
        ensure!(
            changed.status() == 204,
            "changing the spare's password: {}",
            changed.status()
        );
        let plan = disabled.get("/api/plan").await?.status();
        ensure!(plan == 200, "the spare works before it is disabled: {plan}");
        let res = office
            .api
            .post(&format!("/api/users/{spare}/disable"), &json!({}))
            .await?;
        ensure!(res.status() == 204, "disabling: {}", res.status());
        clients.insert(Who::Disabled, disabled);

        let victim = create_user(&office.api, "victim", unrelated, SPARE_PASSWORD).await?;
        Ok(World {
            server,
            clients,
            office,
            facts,
            item4: item4.id,
            lead,
            coop_owner,
            coop_other,
            unrelated,
            victim,
        })
    }

    fn client(&self, who: Who) -> anyhow::Result<&Api> {
        self.clients
            .get(&who)
            .with_context(|| format!("no client for {who:?}"))
    }
}

async fn create_user(
    office: &Api,
    username: &str,
    unit: UnitId,
    password: &str,
) -> anyhow::Result<String> {
    let body = json!({
        "username": username, "display_name": username, "unit": unit, "role": "unit",
        "password": password,
    });
    let created: Value = office.post_json("/api/users", &body).await?;
    created["id"]
        .as_str()
        .map(String::from)
        .context("created user has an id")
}

/// Pushes as one client of its own.
struct Pusher {
    group: ClientGroupId,
    client: ClientId,
    next: u64,
}

impl Pusher {
    fn new() -> Pusher {
        Pusher {
            group: ClientGroupId::new_v7(),
            client: ClientId::new_v7(),
            next: 1,
        }
    }

    /// Pushes `mutations`; the status and, on 200, one outcome per mutation.
    async fn push(
        &mut self,
        api: &Api,
        mutations: Vec<Mutation>,
    ) -> anyhow::Result<(u16, Vec<Outcome>)> {
        let pending: Vec<PendingMutation> = mutations
            .into_iter()
            .enumerate()
            .map(|(i, mutation)| PendingMutation {
                client_id: self.client,
                id: self.next + i as u64,
                mutation,
            })
            .collect();
        let n = pending.len() as u64;
        let res = api
            .post("/api/sync/push", &push_request(self.group, pending))
            .await?;
        let status = res.status().as_u16();
        if status != 200 {
            return Ok((status, vec![]));
        }
        self.next += n;
        let body: shared::sync::PushResponse = res.json().await?;
        Ok((
            status,
            body.results.into_iter().map(|r| r.outcome).collect(),
        ))
    }
}

/// What a case needs on the server before it runs.
struct Fixture {
    coop_task: TaskId,
    lead_task: TaskId,
    archived_task: TaskId,
    missed_task: TaskId,
    coop_step: StepId,
    lead_step: StepId,
}

fn create_task(item: ItemId, owner: UnitId, title: &str) -> (TaskId, Mutation) {
    e2e::sync_client::create_task(item, owner, title, Millis(1))
}

fn add_step(task: TaskId) -> (StepId, Mutation) {
    let step = StepId::new_v7();
    let m = Mutation::AddStep {
        task,
        step,
        text: "第一步".into(),
        sort_key: sort_key::between(None, None),
        at: Millis(1),
    };
    (step, m)
}

/// The office makes a fresh set of tasks for each case, so no case depends on another.
async fn fixtures(world: &World, n: usize) -> anyhow::Result<Vec<Fixture>> {
    let mut out = Vec::new();
    let mut pusher = Pusher::new();
    for chunk in 0..n.div_ceil(50) {
        let mut batch = Vec::new();
        for _ in 0..50.min(n - chunk * 50) {
            let (coop_task, m1) = create_task(world.item4, world.coop_owner, "配合单位的任务");
            let (lead_task, m2) = create_task(world.item4, world.lead, "牵头单位的任务");
            let (archived_task, m3) = create_task(world.item4, world.coop_owner, "已归档的任务");
            let (coop_step, m4) = add_step(coop_task);
            let (lead_step, m5) = add_step(lead_task);
            let m6 = Mutation::ArchiveTask {
                task: archived_task,
                at: Millis(2),
            };
            let (missed_task, mut m7) = create_task(world.item4, world.coop_owner, "逾期的任务");
            if let Mutation::CreateTask { due, .. } = &mut m7 {
                *due = Some(date(2014, 3, 31));
            }
            batch.extend([m1, m2, m3, m4, m5, m6, m7]);
            out.push(Fixture {
                coop_task,
                lead_task,
                archived_task,
                missed_task,
                coop_step,
                lead_step,
            });
        }
        let (status, outcomes) = pusher.push(&world.office.api, batch).await?;
        ensure!(status == 200, "fixtures: {status}");
        ensure!(
            outcomes.iter().all(|o| *o == Outcome::Applied),
            "fixtures: {outcomes:?}"
        );
    }
    Ok(out)
}

/// The mutation called `name`, aimed at `target`, with arguments that are valid for someone who
/// may make it. Also the entity key it changes.
fn mutation(
    world: &World,
    name: &str,
    target: Target,
    f: &Fixture,
) -> anyhow::Result<(Mutation, EntityKey)> {
    let at = Millis(10);
    let (task, step) = match target {
        Target::CoopTask | Target::Item | Target::Submission => (f.coop_task, f.coop_step),
        Target::LeadTask => (f.lead_task, f.lead_step),
        Target::ArchivedCoopTask => (f.archived_task, f.coop_step),
        Target::MissedCoopTask => (f.missed_task, f.coop_step),
    };
    let key = EntityKey::task(task);
    let key_sort = sort_key::between(Some(&sort_key::between(None, None)), None);
    let m = match name {
        "create_task" => {
            let (id, m) = create_task(world.item4, world.lead, "新任务");
            return Ok((m, EntityKey::task(id)));
        }
        "add_comment" => {
            let id = CommentId::new_v7();
            let task = (target == Target::CoopTask).then_some(task);
            let m = Mutation::AddComment {
                id,
                item: world.item4,
                task,
                body: "意见".into(),
                at,
            };
            return Ok((m, EntityKey::comment(id)));
        }
        "set_task_title" => Mutation::SetTaskTitle {
            task,
            title: "改过的标题".into(),
            at,
        },
        "set_task_notes" => Mutation::SetTaskNotes {
            task,
            notes: "说明".into(),
            at,
        },
        "set_task_due" => Mutation::SetTaskDue {
            task,
            due: chrono::NaiveDate::from_ymd_opt(2099, 3, 31),
            at,
        },
        "set_task_progress" => Mutation::SetTaskProgress {
            task,
            progress: 40,
            at,
        },
        "assign_task" => Mutation::AssignTask {
            task,
            owner: world.lead,
            at,
        },
        "move_task" => Mutation::MoveTask {
            task,
            column: Column::InProgress,
            sort_key: key_sort,
            at,
        },
        "set_task_blocked" => Mutation::SetTaskBlocked {
            task,
            reason: Some("等待批复".into()),
            at,
        },
        "archive_task" => Mutation::ArchiveTask { task, at },
        "restore_task" => Mutation::RestoreTask { task, at },
        "add_step" => add_step(task).1,
        "tick_step" => Mutation::TickStep {
            task,
            step,
            done: true,
            at,
        },
        "rename_step" => Mutation::RenameStep {
            task,
            step,
            text: "改过的步骤".into(),
            at,
        },
        "move_step" => Mutation::MoveStep {
            task,
            step,
            sort_key: key_sort,
            at,
        },
        "remove_step" => Mutation::RemoveStep { task, step, at },
        other => bail!("the matrix names an unknown mutation {other}"),
    };
    ensure!(m.name() == name, "{name} built as {}", m.name());
    Ok((m, key))
}

/// The office's view of what changed since `cookie`: the keys of every entity put or deleted.
async fn changes_since(
    office: &Session,
    group: ClientGroupId,
    cookie: &mut Option<Cookie>,
) -> anyhow::Result<BTreeSet<String>> {
    let res = office.pull_ok(&pull_request(group, cookie.clone())).await?;
    ensure!(
        cookie.is_none() || !res.reset,
        "an incremental pull must not reset"
    );
    *cookie = Some(res.cookie);
    Ok(res
        .puts
        .iter()
        .map(|e| e.key().0)
        .chain(res.deletes.into_iter().map(|k| k.0))
        .collect())
}

/// A case's outcome as the table writes it.
fn letter(status: u16, outcomes: &[Outcome]) -> String {
    match (status, outcomes) {
        (200, [Outcome::Applied]) => "A".into(),
        (
            200,
            [
                Outcome::Rejected {
                    reason: shared::mutation::Rejection::Denied(_),
                },
            ],
        ) => "D".into(),
        (401, []) => "U".into(),
        (status, outcomes) => format!("{status}:{outcomes:?}"),
    }
}

async fn mutation_matrix(world: &World) -> anyhow::Result<()> {
    // Every variant of `Mutation` has at least one row (`variant_name` makes a new variant a
    // compile error here until it gets one).
    let named: BTreeSet<&str> = MUTATIONS.iter().map(|(n, _, _)| *n).collect();
    for name in VARIANTS {
        ensure!(
            named.contains(name),
            "the mutation matrix has no row for {name}"
        );
        // And a name in both languages, for the audit log and a card's history.
        ensure!(
            shared::audit::action_zh(name) != name && shared::audit::action_en(name) != name,
            "{name} has no name in the audit log"
        );
    }
    let cases: usize = MUTATIONS.len() * EVERYONE.len();
    let fixtures = fixtures(world, cases).await?;
    let mut fixtures = fixtures.iter();
    let group = ClientGroupId::new_v7();
    let mut cookie = None;
    changes_since(&world.office, group, &mut cookie).await?;
    let mut pushers: BTreeMap<Who, Pusher> = EVERYONE.iter().map(|w| (*w, Pusher::new())).collect();
    let mut prep = Prep::new(world).await?;
    let mut failures = Vec::new();
    for (name, target, row) in MUTATIONS {
        for (who, expected) in columns(row)? {
            let f = fixtures.next().context("enough fixtures")?;
            let case = prep.case(world, name, *target, who, f).await?;
            let workflow = case.is_some();
            let (m, key) = match case {
                Some(case) => case,
                None => mutation(world, name, *target, f)?,
            };
            if workflow {
                // What the preparation changed is not the case's doing.
                changes_since(&world.office, group, &mut cookie).await?;
            }
            let pusher = pushers.get_mut(&who).context("pusher")?;
            let (status, outcomes) = pusher.push(world.client(who)?, vec![m]).await?;
            let got = letter(status, &outcomes);
            let changed = changes_since(&world.office, group, &mut cookie).await?;
            // Allowed: exactly the target changed. Otherwise nothing at all did.
            let right_effect = if got == "A" {
                changed == BTreeSet::from([key.0.clone()])
            } else {
                changed.is_empty()
            };
            prep.after(name, &got);
            if got != expected || !right_effect {
                failures.push(format!(
                    "{name} on {target:?} by {who:?}: expected {expected}, got {got}; changed {changed:?}"
                ));
            }
        }
    }
    ensure!(
        failures.is_empty(),
        "{} of {cases} cases are wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}

/// Requests the UI never sends, crafted by hand: each must be refused and change nothing.
async fn crafted_requests(world: &World) -> anyhow::Result<()> {
    let facts = &world.facts;
    // An item where item 4's lead unit has no part, with a task of its own.
    let state = world.office.server_view().await?;
    let other_item = state
        .items()
        .into_iter()
        .find(|i| !i.lead_units.contains(&world.lead) && !i.cooperating_units.contains(&world.lead))
        .cloned()
        .context("an item item 4's lead unit has no part in")?;
    let other_owner = *other_item.lead_units.first().context("a lead unit")?;
    let mut office_pusher = Pusher::new();
    let (foreign_task, m1) = create_task(other_item.id, other_owner, "别的项目的任务");
    let (coop_task, m2) = create_task(world.item4, world.coop_owner, "配合单位的任务");
    let (other_coop_task, m3) = create_task(world.item4, world.coop_other, "另一配合单位的任务");
    let (_, outcomes) = office_pusher
        .push(&world.office.api, vec![m1, m2, m3])
        .await?;
    ensure!(
        outcomes.iter().all(|o| *o == Outcome::Applied),
        "{outcomes:?}"
    );

    let (lead, coop) = (Who::Lead, Who::CoopOwner);
    let at = Millis(20);
    let key = sort_key::between(None, None);
    let unrelated = world.unrelated;
    let cases: Vec<(&str, Who, Mutation, &str)> = vec![
        // A unit editing another item's task by id.
        (
            "lead unit retitles another item's task",
            lead,
            Mutation::SetTaskTitle {
                task: foreign_task,
                title: "篡改".into(),
                at,
            },
            "denied",
        ),
        (
            "lead unit archives another item's task",
            lead,
            Mutation::ArchiveTask {
                task: foreign_task,
                at,
            },
            "denied",
        ),
        (
            "lead unit moves another item's task",
            lead,
            Mutation::MoveTask {
                task: foreign_task,
                column: Column::Done,
                sort_key: key.clone(),
                at,
            },
            "denied",
        ),
        (
            "lead unit creates a task on another item",
            lead,
            create_task(other_item.id, world.lead, "越权任务").1,
            "denied",
        ),
        // A cooperating unit reaching past what it owns.
        (
            "cooperating unit archives another unit's task",
            coop,
            Mutation::ArchiveTask {
                task: other_coop_task,
                at,
            },
            "denied",
        ),
        (
            "cooperating unit archives its own task",
            coop,
            Mutation::ArchiveTask {
                task: coop_task,
                at,
            },
            "denied",
        ),
        (
            "cooperating unit takes another unit's task",
            coop,
            Mutation::AssignTask {
                task: other_coop_task,
                owner: world.coop_owner,
                at,
            },
            "denied",
        ),
        (
            "cooperating unit moves another unit's task",
            coop,
            Mutation::MoveTask {
                task: other_coop_task,
                column: Column::Done,
                sort_key: key.clone(),
                at,
            },
            "denied",
        ),
        (
            "cooperating unit creates a task for itself",
            coop,
            create_task(world.item4, world.coop_owner, "自建任务").1,
            "denied",
        ),
        // Allowed roles with arguments that break the rules.
        (
            "lead unit gives a task to a unit outside the item",
            lead,
            Mutation::AssignTask {
                task: coop_task,
                owner: unrelated,
                at,
            },
            "invalid",
        ),
        (
            "lead unit creates a task owned by a unit outside the item",
            lead,
            create_task(world.item4, unrelated, "指派给无关单位").1,
            "invalid",
        ),
        (
            "comment on item 4 attached to another item's task",
            coop,
            Mutation::AddComment {
                id: CommentId::new_v7(),
                item: world.item4,
                task: Some(foreign_task),
                body: "x".into(),
                at,
            },
            "invalid",
        ),
    ];
    let group = ClientGroupId::new_v7();
    let mut cookie = None;
    changes_since(&world.office, group, &mut cookie).await?;
    let mut pushers: BTreeMap<Who, Pusher> = BTreeMap::new();
    for (what, who, m, expected) in cases {
        let pusher = pushers.entry(who).or_insert_with(Pusher::new);
        let (status, outcomes) = pusher.push(world.client(who)?, vec![m]).await?;
        ensure!(status == 200, "{what}: {status}");
        let code = match outcomes.as_slice() {
            [Outcome::Rejected { reason }] => serde_json::to_value(reason)?["code"]
                .as_str()
                .map(String::from),
            _ => None,
        };
        ensure!(
            code.as_deref() == Some(expected),
            "{what}: expected {expected}, got {outcomes:?}"
        );
        let changed = changes_since(&world.office, group, &mut cookie).await?;
        ensure!(changed.is_empty(), "{what} changed {changed:?}");
    }

    // A client group belongs to the user who first used it: another user's push under it is
    // refused whole.
    let stolen = push_request(
        office_pusher.group,
        vec![PendingMutation {
            client_id: ClientId::new_v7(),
            id: 1,
            mutation: Mutation::ArchiveTask {
                task: coop_task,
                at,
            },
        }],
    );
    let lead = world.client(Who::Lead)?;
    let res = lead.post("/api/sync/push", &stolen).await?;
    ensure!(
        res.status() == 403,
        "pushing under the office's client group: {}",
        res.status()
    );
    let res = lead
        .post("/api/sync/pull", &pull_request(office_pusher.group, None))
        .await?;
    ensure!(
        res.status() == 403,
        "pulling under the office's client group: {}",
        res.status()
    );

    // Names stay names: the lead unit of item 4 is who the tables say it is.
    let lead_name = facts.unit(ITEM4_LEAD)?.id;
    ensure!(
        lead_name == world.lead,
        "item 4's lead unit is 区财政局〈国资委〉"
    );
    Ok(())
}

/// Fills in a route's parameters and body for one row.
fn request_for(
    world: &World,
    fx: &EndpointFixtures,
    who: Who,
    method: &str,
    route: &str,
) -> anyhow::Result<(Method, String, Option<Value>)> {
    let m = match method {
        "GET" => Method::GET,
        "POST" => Method::POST,
        other => bail!("no such method in the table: {other}"),
    };
    let victim = &world.victim;
    let item = EntityKey::item(world.item4).0;
    let (path, body) = match route {
        "/history/{*key}" => (format!("/history/{item}"), None),
        "/history/{*key}#user" => (format!("/history/user/{victim}"), None),
        "/uploads" => ("/uploads?name=%E8%AF%81%E6%98%8E.pdf".to_string(), None),
        "/attachments/{id}" => (format!("/attachments/{}", fx.attachment), None),
        "/attachments/{id}#draft" => (format!("/attachments/{}", fx.draft_attachment), None),
        "/export/bulletins/{file}" => (format!("/export/bulletins/{}.html", fx.bulletin), None),
        "/export/bulletins/{file}#draft" => (
            format!("/export/bulletins/{}.html", fx.draft_bulletin),
            None,
        ),
        "/users/{id}/email" => (
            format!("/users/{victim}/email"),
            Some(json!({ "email": "victim@example.com" })),
        ),
        "/users/{id}/password" => (
            format!("/users/{victim}/password"),
            Some(json!({ "password": "temp-pass-1" })),
        ),
        "/users/{id}/role" => (
            format!("/users/{victim}/role"),
            Some(json!({ "role": "unit", "unit": world.unrelated })),
        ),
        "/users/{id}/disable" | "/users/{id}/enable" => {
            (route.replace("{id}", victim), Some(json!({})))
        }
        "/users" if m == Method::POST => {
            let name = format!("made-by-{}", format!("{who:?}").to_lowercase());
            let body = json!({ "username": name, "display_name": name, "unit": world.unrelated, "role": "unit", "password": SPARE_PASSWORD });
            ("/users".to_string(), Some(body))
        }
        "/auth/password" => (
            "/auth/password".into(),
            Some(json!({ "old_password": e2e::DEMO_PASSWORD, "new_password": "short" })),
        ),
        "/auth/login" => (
            "/auth/login".into(),
            Some(json!({ "username": "cppcc", "password": e2e::DEMO_PASSWORD })),
        ),
        "/auth/logout" => ("/auth/logout".into(), Some(json!({}))),
        "/auth/language" => ("/auth/language".into(), Some(json!({ "language": "zh" }))),
        "/sync/pull" => (
            "/sync/pull".into(),
            Some(serde_json::to_value(pull_request(
                ClientGroupId::new_v7(),
                None,
            ))?),
        ),
        "/sync/push" => (
            "/sync/push".into(),
            Some(serde_json::to_value(push_request(
                ClientGroupId::new_v7(),
                vec![],
            ))?),
        ),
        plain => (plain.split('#').next().unwrap_or(plain).to_string(), None),
    };
    Ok((m, format!("/api{path}"), body))
}

async fn endpoint_matrix(world: &World) -> anyhow::Result<()> {
    let fx = EndpointFixtures::new(world).await?;
    let mut failures = Vec::new();
    for (method, route, row) in ENDPOINTS {
        for (who, expected) in columns(row)? {
            let api = world.client(who)?;
            let (m, path, body) = request_for(world, &fx, who, method, route)?;
            let mut req = api.http.request(m, format!("{}{path}", api.base));
            if let Some(body) = body {
                req = req.json(&body);
            }
            if *route == "/uploads" {
                req = req.body(PDF.to_vec());
            }
            if *route == "/sync/ws" {
                req = req
                    .header("connection", "upgrade")
                    .header("upgrade", "websocket")
                    .header("sec-websocket-version", "13")
                    .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
            }
            let status = req.send().await?.status().as_u16().to_string();
            if status != expected {
                failures.push(format!(
                    "{method} {route} by {who:?}: expected {expected}, got {status}"
                ));
            }
        }
    }
    ensure!(
        failures.is_empty(),
        "{} endpoint cases are wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}

async fn matrix(store: Store) -> anyhow::Result<()> {
    let world = World::new(store).await?;
    mutation_matrix(&world).await?;
    crafted_requests(&world).await?;
    endpoint_matrix(&world).await?;
    // The rejected pushes were recorded, with their reasons, for the office to see.
    let audit: Vec<Value> = world
        .server
        .login("office")
        .await?
        .get_json("/api/audit?limit=1000")
        .await?;
    ensure!(
        audit.iter().any(|r| r["action"] == "login"),
        "sign-ins are in the audit trail"
    );
    let refused: Vec<&Value> = audit
        .iter()
        .filter(|r| r["action"] == "change_refused")
        .collect();
    ensure!(
        !refused.is_empty(),
        "the refused changes are in the audit trail"
    );
    for r in &refused {
        let detail = r["detail"].as_str().unwrap_or_default();
        ensure!(
            detail.contains('：') && detail.len() > "：".len() + 3,
            "a refusal says what was tried and why: {r}"
        );
        ensure!(r["entity"].is_string(), "a refusal names its target: {r}");
    }
    Ok(())
}

#[tokio::test]
async fn permission_matrix_sqlite() -> anyhow::Result<()> {
    matrix(Store::Sqlite).await
}

#[tokio::test]
async fn permission_matrix_postgres() -> anyhow::Result<()> {
    matrix(Store::Postgres).await
}

/// Every route the server declares has a row in `ENDPOINTS`, with each of its methods: a new
/// endpoint can't slip past the matrix.
#[test]
fn every_route_is_in_the_endpoint_matrix() -> anyhow::Result<()> {
    let declared = e2e::routes::declared()?;
    ensure!(
        declared.len() >= 15,
        "found too few routes ({declared:?}): is the parser still right?"
    );
    let covered: BTreeSet<(String, String)> = ENDPOINTS
        .iter()
        .map(|(m, r, _)| (m.to_string(), r.split('#').next().unwrap_or(r).to_string()))
        .collect();
    let missing: Vec<_> = declared.difference(&covered).collect();
    ensure!(
        missing.is_empty(),
        "routes without a row in the endpoint matrix: {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&declared).collect();
    ensure!(
        stale.is_empty(),
        "rows for routes the server no longer has: {stale:?}"
    );
    Ok(())
}

/// The smallest file the server takes as a PDF (it checks the first bytes).
const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

/// Uploads a small PDF as `api`; the upload's id, or None when refused.
async fn upload(api: &Api) -> anyhow::Result<Option<AttachmentId>> {
    let res = api
        .http
        .post(format!("{}/api/uploads?name=evidence.pdf", api.base))
        .body(PDF.to_vec())
        .send()
        .await?;
    if res.status() != 201 {
        return Ok(None);
    }
    let info: UploadInfo = res.json().await?;
    Ok(Some(info.id))
}

/// The workflow's fixtures, made fresh for each case by the users who may make them, and the
/// state of the three submissions of item 4 the cases move along.
struct Prep {
    office: Pusher,
    lead: Pusher,
    leader: Pusher,
    npc: Pusher,
    users: BTreeMap<Who, UserId>,
    /// The half-year report is submitted by the `submit_submission` cases: (exists, submitted).
    half_year: (bool, bool),
    /// The annual report is reviewed (returned) by the `review_submission` cases.
    annual: (bool, bool),
    /// Units added so far (each `add_unit` case names a new one).
    units_added: u32,
    /// The member of 各街道办 the `set_membership` cases move, once added.
    member: Option<shared::ids::UnitId>,
}

const AT: Millis = Millis(1_396_000_000_000);

impl Prep {
    async fn new(world: &World) -> anyhow::Result<Prep> {
        let mut users = BTreeMap::new();
        for who in EVERYONE {
            let me = world.client(who)?.get("/api/auth/me").await?;
            let id = if me.status() == 200 {
                me.json::<shared::account::Me>().await?.id
            } else {
                UserId::new_v7()
            };
            users.insert(who, id);
        }
        Ok(Prep {
            office: Pusher::new(),
            lead: Pusher::new(),
            leader: Pusher::new(),
            npc: Pusher::new(),
            users,
            half_year: (false, false),
            annual: (false, false),
            units_added: 0,
            member: None,
        })
    }

    fn submission(world: &World, kind: SubmissionKind) -> SubmissionId {
        submission_id(world.item4, kind.as_str())
    }

    fn save(world: &World, kind: SubmissionKind) -> Mutation {
        Mutation::SaveSubmission(SaveDraft {
            id: Self::submission(world, kind),
            item: world.item4,
            kind,
            parts: kind
                .parts()
                .iter()
                .map(|(zh, _)| format!("{zh}：……"))
                .collect(),
            at: AT,
        })
    }

    /// Pushes `mutations` as `pusher` on `api`, all of which must apply.
    async fn setup(pusher: &mut Pusher, api: &Api, mutations: Vec<Mutation>) -> anyhow::Result<()> {
        let names: Vec<&str> = mutations.iter().map(Mutation::name).collect();
        let (status, outcomes) = pusher.push(api, mutations.clone()).await?;
        ensure!(
            status == 200 && outcomes.iter().all(|o| *o == Outcome::Applied),
            "preparing {names:?}: {status} {outcomes:?}"
        );
        Ok(())
    }

    /// The case for a workflow mutation (None for the task mutations, which `mutation` builds),
    /// after making what it needs.
    async fn case(
        &mut self,
        world: &World,
        name: &str,
        target: Target,
        who: Who,
        f: &Fixture,
    ) -> anyhow::Result<Option<(Mutation, EntityKey)>> {
        let office = &world.office.api;
        let item = world.item4;
        Ok(Some(match name {
            // Commenting by units with no part in an item is off, as by default: the matrix's
            // "other" column for add_comment holds with the settings written.
            "set_settings" => (
                Mutation::SetSettings(shared::settings::Set {
                    others_may_comment: false,
                    at: AT,
                }),
                EntityKey::settings(),
            ),
            "set_calendar" => (
                Mutation::SetCalendar(SetCalendar {
                    work_plan: date(2014, 3, 31),
                    half_year: date(2014, 7, 10),
                    annual: date(2015, 1, 10),
                    at: AT,
                }),
                EntityKey::calendar(),
            ),
            "save_submission" => (
                Self::save(world, SubmissionKind::WorkPlan),
                EntityKey::submission(Self::submission(world, SubmissionKind::WorkPlan)),
            ),
            "submit_submission" => {
                let kind = SubmissionKind::HalfYear;
                let id = Self::submission(world, kind);
                match self.half_year {
                    (false, _) => {
                        Self::setup(&mut self.office, office, vec![Self::save(world, kind)])
                            .await?;
                    }
                    (true, true) => {
                        let back = Mutation::ReviewSubmission(ReviewSubmission {
                            id,
                            accept: false,
                            comment: "请补充".into(),
                            at: AT,
                        });
                        Self::setup(&mut self.office, office, vec![back]).await?;
                    }
                    (true, false) => {}
                }
                self.half_year = (true, false);
                (
                    Mutation::SubmitSubmission(Submit { id, at: AT }),
                    EntityKey::submission(id),
                )
            }
            "review_submission" => {
                let kind = SubmissionKind::Annual;
                let id = Self::submission(world, kind);
                let submit = Mutation::SubmitSubmission(Submit { id, at: AT });
                match self.annual {
                    (false, _) => {
                        let save = Self::save(world, kind);
                        Self::setup(&mut self.office, office, vec![save, submit]).await?;
                    }
                    (true, false) => {
                        Self::setup(&mut self.office, office, vec![submit]).await?;
                    }
                    (true, true) => {}
                }
                self.annual = (true, true);
                let review = Mutation::ReviewSubmission(ReviewSubmission {
                    id,
                    accept: false,
                    comment: "请修改".into(),
                    at: AT,
                });
                (review, EntityKey::submission(id))
            }
            "raise_difficulty" => {
                let id = DifficultyId::new_v7();
                let m = Mutation::RaiseDifficulty(Raise {
                    id,
                    item,
                    task: None,
                    title: "资金不到位".into(),
                    detail: String::new(),
                    at: AT,
                });
                (m, EntityKey::difficulty(id))
            }
            "coordinate_difficulty" | "resolve_difficulty" => {
                let id = DifficultyId::new_v7();
                let raise = Mutation::RaiseDifficulty(Raise {
                    id,
                    item,
                    task: None,
                    title: "需要协调".into(),
                    detail: String::new(),
                    at: AT,
                });
                Self::setup(&mut self.office, office, vec![raise]).await?;
                let m = if name == "coordinate_difficulty" {
                    Mutation::CoordinateDifficulty(Coordinate {
                        id,
                        units: vec![world.coop_owner],
                        note: "请配合".into(),
                        at: AT,
                    })
                } else {
                    Mutation::ResolveDifficulty(Resolve {
                        id,
                        resolution: "已协调解决".into(),
                        at: AT,
                    })
                };
                (m, EntityKey::difficulty(id))
            }
            "write_instruction" => {
                let id = InstructionId::new_v7();
                let m = Mutation::WriteInstruction(Write {
                    id,
                    item,
                    text: "请加快进度".into(),
                    at: AT,
                });
                (m, EntityKey::instruction(id))
            }
            "respond_instruction" => {
                let id = InstructionId::new_v7();
                let write = Mutation::WriteInstruction(Write {
                    id,
                    item,
                    text: "请报告进展".into(),
                    at: AT,
                });
                Self::setup(&mut self.leader, world.client(Who::Leader)?, vec![write]).await?;
                let m = Mutation::RespondInstruction(Respond {
                    id,
                    text: "已按批示落实".into(),
                    at: AT,
                });
                (m, EntityKey::instruction(id))
            }
            "record_evaluation" => {
                let id = EvaluationId::new_v7();
                let m = Mutation::RecordEvaluation(Record {
                    id,
                    item,
                    score: 4,
                    text: "推进有力".into(),
                    at: AT,
                });
                (m, EntityKey::evaluation(id))
            }
            "publish_evaluation" => {
                let id = EvaluationId::new_v7();
                let record = Mutation::RecordEvaluation(Record {
                    id,
                    item,
                    score: 3,
                    text: "尚需努力".into(),
                    at: AT,
                });
                Self::setup(&mut self.npc, world.client(Who::Supervisor)?, vec![record]).await?;
                let m = Mutation::PublishEvaluation(EvalPublish { id, at: AT });
                (m, EntityKey::evaluation(id))
            }
            "record_inspection" => {
                let id = InspectionId::new_v7();
                let m = Mutation::RecordInspection(RecordInspection {
                    id,
                    date: date(2014, 5, 20),
                    items: vec![item],
                    findings: "现场查看".into(),
                    at: AT,
                });
                (m, EntityKey::inspection(id))
            }
            "send_reminder" => {
                let id = ReminderId::new_v7();
                let m = Mutation::SendReminder(Remind {
                    id,
                    item,
                    unit: world.lead,
                    about: About::Item,
                    text: "请抓紧".into(),
                    text_en: String::new(),
                    automatic: false,
                    at: AT,
                });
                (m, EntityKey::reminder(id))
            }
            "save_bulletin" | "publish_bulletin" | "read_bulletin" => {
                let id = BulletinId::new_v7();
                let save = Mutation::SaveBulletin(Save {
                    id,
                    title: "通报".into(),
                    as_of: date(2014, 6, 30),
                    body: "各有关单位：……".into(),
                    at: AT,
                });
                let publish = Mutation::PublishBulletin(BulletinPublish { id, at: AT });
                let m = match name {
                    "save_bulletin" => save,
                    "publish_bulletin" => {
                        Self::setup(&mut self.office, office, vec![save]).await?;
                        publish
                    }
                    _ => {
                        Self::setup(&mut self.office, office, vec![save, publish]).await?;
                        Mutation::ReadBulletin(MarkRead { id, at: AT })
                    }
                };
                (m, EntityKey::bulletin(id))
            }
            "attach_file" => {
                // Their own upload: someone else's is refused as invalid, whoever they are.
                let own = upload(world.client(who)?).await?;
                let id = match own {
                    Some(id) => id,
                    None => upload(office).await?.context("the office uploads")?,
                };
                let to = match target {
                    Target::Submission => {
                        AttachedTo::Submission(Self::submission(world, SubmissionKind::WorkPlan))
                    }
                    Target::LeadTask => AttachedTo::Task(f.lead_task),
                    _ => AttachedTo::Task(f.coop_task),
                };
                let m = Mutation::AttachFile(Attach {
                    id,
                    item,
                    to,
                    name: "x.pdf".into(),
                    size: 1,
                    at: AT,
                });
                (m, EntityKey::attachment(id))
            }
            "remove_attachment" => {
                let id = upload(office).await?.context("the office uploads")?;
                let attach = Mutation::AttachFile(Attach {
                    id,
                    item,
                    to: AttachedTo::Task(f.coop_task),
                    name: "x.pdf".into(),
                    size: 1,
                    at: AT,
                });
                Self::setup(&mut self.office, office, vec![attach]).await?;
                let m = Mutation::RemoveAttachment(Remove { id, at: AT });
                (m, EntityKey::attachment(id))
            }
            "adjust_assessment" => {
                let id = AdjustmentId::new_v7();
                let m = Mutation::AdjustAssessment(Adjust {
                    id,
                    unit: world.lead,
                    points: 2,
                    reason: "工作突出".into(),
                    at: AT,
                });
                (m, EntityKey::adjustment(id))
            }
            "add_unit" => {
                self.units_added += 1;
                let m = add_street_office(&format!("试点街道办{}", self.units_added));
                let key = match &m {
                    Mutation::AddUnit(a) => EntityKey::unit(a.id),
                    _ => bail!("add_street_office makes an add_unit"),
                };
                (m, key)
            }
            "set_membership" => {
                let unit = match self.member {
                    Some(unit) => unit,
                    None => {
                        let add = add_street_office("权限测试街道办");
                        let Mutation::AddUnit(a) = &add else {
                            bail!("add_street_office makes an add_unit");
                        };
                        let id = a.id;
                        Self::setup(&mut self.office, office, vec![add]).await?;
                        *self.member.insert(id)
                    }
                };
                let m = Mutation::SetMembership(shared::membership::SetMembership {
                    unit,
                    group: shared::ids::unit_id_for_name("各街道办"),
                    member: false,
                    at: AT,
                });
                (m, EntityKey::unit(unit))
            }
            "request_postponement" | "decide_postponement" => {
                let task = f.missed_task;
                let request = Mutation::RequestPostponement(shared::postponement::Request {
                    task,
                    due: date(2099, 6, 30),
                    reason: "等待上级批复".into(),
                    at: AT,
                });
                let m = if name == "request_postponement" {
                    request
                } else {
                    Self::setup(&mut self.lead, world.client(Who::Lead)?, vec![request]).await?;
                    Mutation::DecidePostponement(shared::postponement::Decide {
                        task,
                        approve: true,
                        note: String::new(),
                        at: AT,
                    })
                };
                (m, EntityKey::task(task))
            }
            "mark_notices_read" => {
                let user = *self.users.get(&who).context("user id")?;
                let m = Mutation::MarkNoticesRead(NoticesRead {
                    user,
                    keys: vec![format!("reminder/{}", uuid::Uuid::now_v7())],
                    at: AT,
                });
                (m, EntityKey::read_marks(user))
            }
            _ => return Ok(None),
        }))
    }

    /// Follows the submissions' state through a case's outcome.
    fn after(&mut self, name: &str, got: &str) {
        if got != "A" {
            return;
        }
        match name {
            "submit_submission" => self.half_year = (true, true),
            "review_submission" => self.annual = (true, false),
            _ => {}
        }
    }
}

/// The office's change that adds `name` as a member of 各街道办.
fn add_street_office(name: &str) -> Mutation {
    Mutation::AddUnit(shared::membership::AddUnit {
        id: shared::ids::unit_id_for_name(name),
        name: name.into(),
        groups: vec![shared::ids::unit_id_for_name("各街道办")],
        at: AT,
    })
}

fn date(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// What the endpoint rows download: an attachment on a task and one on a draft, a published
/// and a draft bulletin.
struct EndpointFixtures {
    attachment: AttachmentId,
    draft_attachment: AttachmentId,
    bulletin: BulletinId,
    draft_bulletin: BulletinId,
}

impl EndpointFixtures {
    async fn new(world: &World) -> anyhow::Result<EndpointFixtures> {
        let office = &world.office.api;
        let mut pusher = Pusher::new();
        let (task, create) = create_task(world.item4, world.coop_owner, "有附件的任务");
        // Item 4's annual report stays a draft here (the review cases used it, so take the
        // work plan, which is only ever saved, never submitted).
        let draft = submission_id(world.item4, SubmissionKind::WorkPlan.as_str());
        let save = Prep::save(world, SubmissionKind::WorkPlan);
        let attachment = upload(office).await?.context("upload")?;
        // Evidence for a draft is attached by the lead unit: its unit and the office see it.
        let lead = world.client(Who::Lead)?;
        let draft_attachment = upload(lead).await?.context("upload")?;
        let attach = |id, to| {
            Mutation::AttachFile(Attach {
                id,
                item: world.item4,
                to,
                name: "x.pdf".into(),
                size: 1,
                at: AT,
            })
        };
        let (bulletin, draft_bulletin) = (BulletinId::new_v7(), BulletinId::new_v7());
        let save_bulletin = |id| {
            Mutation::SaveBulletin(Save {
                id,
                title: "通报".into(),
                as_of: date(2014, 6, 30),
                body: "正文".into(),
                at: AT,
            })
        };
        Prep::setup(
            &mut pusher,
            office,
            vec![
                create,
                save,
                attach(attachment, AttachedTo::Task(task)),
                save_bulletin(bulletin),
                Mutation::PublishBulletin(BulletinPublish {
                    id: bulletin,
                    at: AT,
                }),
                save_bulletin(draft_bulletin),
            ],
        )
        .await?;
        Prep::setup(
            &mut Pusher::new(),
            lead,
            vec![attach(draft_attachment, AttachedTo::Submission(draft))],
        )
        .await?;
        Ok(EndpointFixtures {
            attachment,
            draft_attachment,
            bulletin,
            draft_bulletin,
        })
    }
}
