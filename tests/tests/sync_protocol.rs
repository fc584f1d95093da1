//! The sync protocol's rules, one at a time, against the real binary on SQLite and PostgreSQL:
//! what a first pull holds, what a pull after a push holds, exactly-once pushes (duplicates,
//! gaps), permanent rejections (a made-up item leaves no space behind), protocol errors,
//! unusable cookies, monotonic cookies and last ids, client groups bound to their user,
//! visibility, and pulls answered together (the server answers pulls that arrive at once in
//! batches, from one snapshot).

use e2e::sync_client::{Item4, ServerDb, Session, Tab, diff, pull_request, push_request};
use e2e::{Server, ServerOptions, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::entity::{Comment, Entity, EntityKey, Item, Millis, Space};
use shared::ids::{ClientGroupId, ClientId, CommentId, TaskId, UnitId};
use shared::mutation::{Mutation, Rejection};
use shared::sync::{
    Cookie, MAX_PUSH_BATCH, Outcome, PROTOCOL_VERSION, PendingMutation, PullResponse,
};
use std::collections::BTreeMap;

use e2e::on_both_stores;

on_both_stores!(
    first_pull_is_a_reset_with_the_whole_plan,
    a_pushed_task_comes_back_alone_in_the_next_pull,
    a_retried_push_is_a_duplicate_and_changes_nothing,
    a_gap_in_mutation_ids_is_refused_and_changes_nothing,
    a_rejected_mutation_advances_the_last_id_and_says_why,
    a_rejection_says_why_in_both_languages,
    a_task_for_an_unknown_item_is_rejected_and_creates_no_space,
    a_wrong_protocol_version_is_refused,
    an_unknown_mutation_type_is_refused_clearly,
    an_unusable_cookie_gets_a_full_reset,
    cookies_and_last_ids_never_go_backwards,
    a_client_group_belongs_to_one_user,
    rows_restricted_to_a_unit_reach_only_that_unit_and_the_office,
    pulls_arriving_together_each_get_their_own_answer,
    changes_moved_to_another_client_are_not_applied_again,
);

/// Now, as a browser times its changes: the server re-dates a change claimed long before the
/// group's last push or after its now (`backend::sync::push::Times`), and these tests compare
/// what the client applied with what the server did.
fn at() -> Millis {
    Millis(chrono::Utc::now().timestamp_millis())
}

/// A server with the four kinds of user the rules are about, signed in.
struct Fixture {
    server: Server,
    db: ServerDb,
    /// Item 4 (集体股份合作公司试点改革): led by 区财政局〈国资委〉, 区发改局 cooperates.
    item4: Item,
    /// Item 7: led by 区法院, which has nothing to do with item 4.
    item7: Item,
    office: Session,
    /// 区财政局〈国资委〉, item 4's lead unit.
    lead: Session,
    /// 区发改局, a cooperating unit of item 4.
    coop: Session,
    /// 区法院, unrelated to item 4.
    other: Session,
}

async fn fixture(store: Store) -> anyhow::Result<Fixture> {
    let server = Server::start(ServerOptions {
        store,
        ..Default::default()
    })
    .await?;
    let Item4 {
        office,
        facts,
        item: item4,
        lead,
    } = Item4::on(&server).await?;
    let item7 = facts.item(7)?;
    let coop = facts.login_unit(&server, "区发改局").await?;
    let other = facts.login_unit(&server, "区法院").await?;
    anyhow::ensure!(
        item4.lead_units == vec![lead.me.unit],
        "item 4 is led by 区财政局〈国资委〉"
    );
    anyhow::ensure!(
        item4.cooperating_units.contains(&coop.me.unit),
        "区发改局 cooperates on item 4"
    );
    anyhow::ensure!(
        item7.lead_units == vec![other.me.unit],
        "item 7 is led by 区法院"
    );
    let db = ServerDb::open(&server).await?;
    Ok(Fixture {
        server,
        db,
        item4,
        item7,
        office,
        lead,
        coop,
        other,
    })
}

fn create_task(item: &Item, owner: UnitId, title: &str) -> (TaskId, Mutation) {
    e2e::sync_client::create_task(item.id, owner, title, at())
}

fn progress(task: TaskId, progress: u8) -> Mutation {
    Mutation::SetTaskProgress {
        task,
        progress,
        at: at(),
    }
}

fn space_of(item: &Item) -> String {
    Space::Item(item.id).to_string()
}

/// Pulls for `tab` and takes the response, which must be a 200.
async fn pull(session: &Session, tab: &mut Tab) -> anyhow::Result<PullResponse> {
    let sent = tab.cookie.clone();
    let res = session.pull_ok(&tab.pull_request()).await?;
    anyhow::ensure!(
        tab.take_pull(&sent, res.clone())?,
        "the only pull in flight is current"
    );
    Ok(res)
}

/// Pushes `tab`'s outbox and returns the outcomes, which must come with a 200.
async fn push(session: &Session, tab: &Tab) -> anyhow::Result<Vec<Outcome>> {
    let res = session.push_ok(&tab.push_request()).await?;
    Ok(res.results.into_iter().map(|r| r.outcome).collect())
}

/// Whether `new` is at or past `old` in every space `old` has seen.
fn not_behind(new: &Cookie, old: &Cookie) -> bool {
    old.spaces
        .iter()
        .all(|(space, v)| new.spaces.get(space).is_some_and(|n| n >= v))
}

async fn first_pull_is_a_reset_with_the_whole_plan(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    let res = pull(&fx.coop, &mut tab).await?;
    assert!(res.reset, "a client with no cookie starts from scratch");
    assert!(res.deletes.is_empty());
    assert!(
        res.last_mutation_ids.is_empty(),
        "a new group has no clients yet"
    );
    let count = |kind: &str| res.puts.iter().filter(|e| e.kind() == kind).count();
    assert_eq!(count("plan"), 1);
    assert_eq!(count("item"), 14);
    // The 27 units the plan names, plus the bodies outside it that have accounts.
    let in_plan = res
        .puts
        .iter()
        .filter(|e| matches!(e, Entity::Unit(u) if u.in_plan))
        .count();
    assert_eq!(in_plan, 27);
    assert!(count("unit") >= 27);
    assert_eq!(
        count("task") + count("comment"),
        0,
        "a fresh plan has no cards yet"
    );
    assert_eq!(res.puts.len(), tab.base.len(), "no key twice");
    assert_eq!(res.cookie.user, fx.coop.me.id.to_string());
    assert!(!res.cookie.epoch.is_empty());
    assert!(res.cookie.spaces.contains_key("plan"));

    // Nothing changed since: the next pull is empty and keeps the cookie.
    let again = pull(&fx.coop, &mut tab).await?;
    assert!(!again.reset);
    assert!(
        again.puts.is_empty() && again.deletes.is_empty(),
        "{again:?}"
    );
    assert_eq!(again.cookie, res.cookie);
    Ok(())
}

async fn a_pushed_task_comes_back_alone_in_the_next_pull(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    let first = pull(&fx.lead, &mut tab).await?;
    // Another user is watching the same board.
    let mut watcher = Tab::new(ClientGroupId::new_v7());
    pull(&fx.coop, &mut watcher).await?;

    let (task, m) = create_task(&fx.item4, fx.lead.me.unit, "制定股份公司扶持办法");
    tab.add(m);
    let optimistic = tab.view(&fx.lead.actor());
    assert_eq!(push(&fx.lead, &tab).await?, vec![Outcome::Applied]);

    let res = pull(&fx.lead, &mut tab).await?;
    assert!(!res.reset);
    assert!(res.deletes.is_empty());
    let key = EntityKey::task(task);
    assert_eq!(res.puts.len(), 1, "only the new task: {:?}", res.puts);
    assert_eq!(res.puts[0].key(), key);
    assert_eq!(
        Some(&res.puts[0]),
        optimistic.get(&key),
        "the server applied what the client applied"
    );
    assert_eq!(res.last_mutation_ids.get(&tab.client), Some(&1));
    assert!(
        tab.outbox.is_empty(),
        "a confirmed mutation leaves the outbox"
    );
    assert!(
        res.cookie
            .spaces
            .get(&space_of(&fx.item4))
            .is_some_and(|v| *v > 0)
    );
    assert!(not_behind(&res.cookie, &first.cookie));

    let seen = pull(&fx.coop, &mut watcher).await?;
    assert_eq!(seen.puts, res.puts, "another user gets the same change");
    assert!(
        seen.last_mutation_ids.is_empty(),
        "other groups' ids are not theirs to see"
    );
    Ok(())
}

async fn a_retried_push_is_a_duplicate_and_changes_nothing(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    pull(&fx.lead, &mut tab).await?;
    let (task, m) = create_task(&fx.item4, fx.lead.me.unit, "选择5家试点公司");
    tab.add(m);
    tab.add(progress(task, 30));
    let req = tab.push_request();
    assert_eq!(
        push(&fx.lead, &tab).await?,
        vec![Outcome::Applied, Outcome::Applied]
    );
    let key = EntityKey::task(task);
    let history_path = format!("/api/history/task%2F{task}");
    let history: Vec<Value> = fx.office.api.get_json(&history_path).await?;
    let audit = fx.db.audit_of(&key).await?;
    assert_eq!(audit.len(), 2, "one audit row per applied mutation");
    let after_first = pull(&fx.lead, &mut tab).await?;

    // The response was lost; the client sends the same push again.
    let again = fx.lead.push_ok(&req).await?;
    let outcomes: Vec<Outcome> = again.results.iter().map(|r| r.outcome.clone()).collect();
    assert_eq!(outcomes, vec![Outcome::Duplicate, Outcome::Duplicate]);
    assert_eq!(
        again.results.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![1, 2]
    );

    assert_eq!(
        fx.db.audit_of(&key).await?.len(),
        2,
        "a duplicate writes no audit row"
    );
    let history_again: Vec<Value> = fx.office.api.get_json(&history_path).await?;
    assert_eq!(
        history_again.len(),
        history.len(),
        "the history shows no second application"
    );
    let res = pull(&fx.lead, &mut tab).await?;
    assert!(
        res.puts.is_empty(),
        "a duplicate changes no entity: {:?}",
        res.puts
    );
    assert_eq!(res.cookie, after_first.cookie, "nor any version");
    assert_eq!(res.last_mutation_ids.get(&tab.client), Some(&2));

    // A retry that overlaps: the old part is skipped, the new part applied, each once.
    let mut overlapping = req.mutations.clone();
    overlapping.push(PendingMutation {
        client_id: tab.client,
        id: 3,
        mutation: progress(task, 60),
    });
    let res = fx
        .lead
        .push_ok(&push_request(tab.group, overlapping))
        .await?;
    let outcomes: Vec<Outcome> = res.results.into_iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        vec![Outcome::Duplicate, Outcome::Duplicate, Outcome::Applied]
    );
    assert_eq!(fx.db.audit_of(&key).await?.len(), 3);
    let server = fx.lead.server_view().await?;
    assert!(matches!(server.task(task), Some(t) if t.progress == 60));
    Ok(())
}

async fn a_gap_in_mutation_ids_is_refused_and_changes_nothing(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    pull(&fx.lead, &mut tab).await?;
    let (task, m) = create_task(&fx.item4, fx.lead.me.unit, "剥离社会管理职能");
    let client = tab.client;
    let pending = |id, mutation| PendingMutation {
        client_id: client,
        id,
        mutation,
    };

    // A brand-new client must start at 1.
    let res = fx
        .lead
        .push(&push_request(tab.group, vec![pending(2, m.clone())]))
        .await?;
    let err = res.err().map(|e| (e.status, e.body)).unwrap_or_default();
    assert_eq!(err.0, 409, "{}", err.1);
    let after = pull(&fx.lead, &mut tab).await?;
    assert!(after.puts.is_empty(), "nothing was applied");
    assert!(
        after.last_mutation_ids.is_empty(),
        "not even the client was registered"
    );

    tab.add(m);
    assert_eq!(push(&fx.lead, &tab).await?, vec![Outcome::Applied]);
    let before = pull(&fx.lead, &mut tab).await?;

    // 3 after 1 skips 2; so does a batch whose first part is fine.
    for batch in [
        vec![pending(3, progress(task, 10))],
        vec![
            pending(2, progress(task, 20)),
            pending(4, progress(task, 40)),
        ],
    ] {
        let res = fx.lead.push(&push_request(tab.group, batch)).await?;
        let err = res.err().map(|e| (e.status, e.body)).unwrap_or_default();
        assert_eq!(err.0, 409, "{}", err.1);
        assert!(err.1.contains("不连续"), "the message says why: {}", err.1);
    }
    let res = pull(&fx.lead, &mut tab).await?;
    assert!(
        res.puts.is_empty(),
        "a refused batch applies none of its mutations: {:?}",
        res.puts
    );
    assert_eq!(res.cookie, before.cookie);
    assert_eq!(res.last_mutation_ids.get(&tab.client), Some(&1));
    assert_eq!(fx.db.audit_of(&EntityKey::task(task)).await?.len(), 1);
    assert!(
        fx.db.rejections().await?.is_empty(),
        "a gap is not a rejection"
    );
    Ok(())
}

/// An item's space is locked only while the item exists (`entity_store::bump_item_space_statement`): a
/// push naming a made-up item is rejected as not found, and leaves no space behind for it, while
/// the real item's space beside it in the same push is bumped as usual.
async fn a_task_for_an_unknown_item_is_rejected_and_creates_no_space(
    store: Store,
) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let mut made_up = fx.item4.clone();
    made_up.id = shared::ids::ItemId::new_v7();
    let spaces = |db: &ServerDb| {
        let pool = db.pool.clone();
        async move {
            let rows: Vec<String> = sqlx::query_scalar("SELECT id FROM space")
                .fetch_all(&pool)
                .await?;
            anyhow::Ok(rows)
        }
    };
    let before = spaces(&fx.db).await?;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    pull(&fx.lead, &mut tab).await?;
    let (ghost, m) = create_task(&made_up, fx.lead.me.unit, "不存在的改革事项");
    tab.add(m);
    let (real, m) = create_task(&fx.item4, fx.lead.me.unit, "真实的改革事项");
    tab.add(m);
    let outcomes = push(&fx.lead, &tab).await?;
    assert!(
        matches!(
            outcomes.as_slice(),
            [
                Outcome::Rejected {
                    reason: Rejection::NotFound(_)
                },
                Outcome::Applied
            ]
        ),
        "the made-up item is not found, the real one takes the task: {outcomes:?}"
    );
    let after = spaces(&fx.db).await?;
    assert!(
        !after.contains(&space_of(&made_up)),
        "no space for an item that doesn't exist: {after:?}"
    );
    assert!(after.contains(&space_of(&fx.item4)));
    assert!(before.iter().all(|s| after.contains(s)));
    let res = pull(&fx.lead, &mut tab).await?;
    assert!(tab.base.task(real).is_some() && tab.base.task(ghost).is_none());
    assert!(res.cookie.spaces.contains_key(&space_of(&fx.item4)));
    Ok(())
}

async fn a_rejected_mutation_advances_the_last_id_and_says_why(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let (coop, other) = (fx.coop.actor(), fx.other.actor());

    // The lead unit breaks item 4 down and hands one task to 区发改局.
    let mut lead_tab = Tab::new(ClientGroupId::new_v7());
    pull(&fx.lead, &mut lead_tab).await?;
    let (task, m) = create_task(&fx.item4, fx.lead.me.unit, "加强财务公开");
    lead_tab.add(m);
    let (coop_task, m) = create_task(&fx.item4, coop.unit, "转型发展调研");
    lead_tab.add(m);
    assert_eq!(
        push(&fx.lead, &lead_tab).await?,
        vec![Outcome::Applied, Outcome::Applied]
    );
    pull(&fx.lead, &mut lead_tab).await?;

    // 区法院 does not lead item 4: it may not break it down.
    let mut other_tab = Tab::new(ClientGroupId::new_v7());
    let first = pull(&fx.other, &mut other_tab).await?;
    let (foreign, m) = create_task(&fx.item4, other.unit, "越权分解");
    assert!(
        m.authorize(&other_tab.base, &other).is_err(),
        "the client would not offer this"
    );
    other_tab.add(m);
    let sent = other_tab.push_request();
    let outcomes = push(&fx.other, &other_tab).await?;
    let Some(Outcome::Rejected {
        reason: Rejection::Denied(why),
    }) = outcomes.first()
    else {
        panic!("expected a denial, got {outcomes:?}");
    };
    assert!(why.zh().contains("牵头"), "the reason names who may: {why}");
    assert!(
        why.en().contains("lead unit"),
        "and says so in English too: {}",
        why.en()
    );
    let res = pull(&fx.other, &mut other_tab).await?;
    assert_eq!(
        res.last_mutation_ids.get(&other_tab.client),
        Some(&1),
        "a rejection still counts"
    );
    assert!(other_tab.outbox.is_empty(), "the client drops it");
    assert!(
        other_tab.base.task(foreign).is_none(),
        "and nothing of it reached the server"
    );
    assert!(not_behind(&res.cookie, &first.cookie));
    let rejections = fx.db.rejections().await?;
    assert_eq!(
        rejections.get(&(other_tab.client.to_string(), 1)),
        Some(&Rejection::Denied(why.clone()).to_string()),
        "the rejection is recorded with its reason"
    );
    // Sent again (its answer was lost): told the same, not "duplicate", which a client takes
    // for applied and drops without a word.
    let again = fx.other.push_ok(&sent).await?;
    assert_eq!(
        again.results.first().map(|r| &r.outcome),
        Some(&Outcome::Rejected {
            reason: Rejection::Denied(why.clone())
        }),
        "a refusal is told again"
    );
    // The client carries on with id 2, on its own item.
    let (own, m) = create_task(&fx.item7, other.unit, "审判权运行机制");
    other_tab.add(m);
    assert_eq!(push(&fx.other, &other_tab).await?, vec![Outcome::Applied]);
    assert!(
        pull(&fx.other, &mut other_tab)
            .await?
            .puts
            .iter()
            .any(|e| e.key() == EntityKey::task(own))
    );

    // A cooperating unit works on its own task but may not archive it.
    let mut coop_tab = Tab::new(ClientGroupId::new_v7());
    pull(&fx.coop, &mut coop_tab).await?;
    coop_tab.add(progress(coop_task, 50));
    coop_tab.add(Mutation::ArchiveTask {
        task: coop_task,
        at: at(),
    });
    // …nor work on a task it does not own.
    coop_tab.add(progress(task, 90));
    let outcomes = push(&fx.coop, &coop_tab).await?;
    assert_eq!(outcomes[0], Outcome::Applied);
    assert!(
        matches!(
            &outcomes[1],
            Outcome::Rejected {
                reason: Rejection::Denied(_)
            }
        ),
        "{outcomes:?}"
    );
    assert!(
        matches!(
            &outcomes[2],
            Outcome::Rejected {
                reason: Rejection::Denied(_)
            }
        ),
        "{outcomes:?}"
    );
    let res = pull(&fx.coop, &mut coop_tab).await?;
    assert_eq!(res.last_mutation_ids.get(&coop_tab.client), Some(&3));
    let t = coop_tab.base.task(coop_task).cloned();
    assert!(
        t.as_ref().is_some_and(|t| !t.archived && t.progress == 50),
        "{t:?}"
    );
    assert!(coop_tab.base.task(task).is_some_and(|t| t.progress == 0));

    // A stale target: the lead archives a task, an edit made before that arrives later.
    lead_tab.add(Mutation::ArchiveTask { task, at: at() });
    lead_tab.add(progress(task, 10));
    let outcomes = push(&fx.lead, &lead_tab).await?;
    assert_eq!(outcomes[0], Outcome::Applied);
    assert_eq!(
        outcomes[1],
        Outcome::Rejected {
            reason: Rejection::Archived
        }
    );

    // Supervisors read and evaluate; they do not comment on the board.
    let npc = Session::login(&fx.server, "npc").await?;
    let mut npc_tab = Tab::new(ClientGroupId::new_v7());
    pull(&npc, &mut npc_tab).await?;
    npc_tab.add(Mutation::AddComment {
        id: CommentId::new_v7(),
        item: fx.item4.id,
        task: None,
        body: "视察意见".into(),
        at: at(),
    });
    let outcomes = push(&npc, &npc_tab).await?;
    assert!(
        matches!(
            &outcomes[0],
            Outcome::Rejected {
                reason: Rejection::Denied(_)
            }
        ),
        "{outcomes:?}"
    );
    assert!(npc.server_view().await?.comments().next().is_none());

    // Each refusal wrote its row and no audit row; each success exactly one audit row.
    assert_eq!(fx.db.rejections().await?.len(), 5);
    let audit = fx.db.mutation_audit().await?;
    assert_eq!(
        audit.len(),
        5,
        "2 creates by the lead, 1 by 区法院, 1 progress, 1 archive"
    );
    Ok(())
}

/// A rejection carries its message in Chinese and English (the browser shows the one of its
/// language); the server records the Chinese.
async fn a_rejection_says_why_in_both_languages(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    pull(&fx.lead, &mut tab).await?;
    let (_, m) = create_task(&fx.item4, fx.lead.me.unit, &"长".repeat(201));
    tab.add(m);
    tab.add(progress(TaskId::new_v7(), 10));
    let (status, text) = fx
        .lead
        .post_raw("/api/sync/push", &serde_json::to_value(tab.push_request())?)
        .await?;
    assert_eq!(status, 200, "{text}");
    let res: Value = serde_json::from_str(&text)?;
    assert_eq!(
        res["results"][0]["outcome"],
        json!({
            "status": "rejected",
            "reason": {
                "code": "invalid",
                "message": {
                    "zh": "标题过长（最多200字）",
                    "en": "Title is too long (at most 200 characters)"
                }
            }
        }),
        "{text}"
    );
    assert_eq!(
        res["results"][1]["outcome"]["reason"],
        json!({ "code": "not_found", "message": { "zh": "任务", "en": "task" } }),
        "{text}"
    );
    let outcomes: shared::sync::PushResponse = serde_json::from_value(res)?;
    let Some(Outcome::Rejected { reason }) = outcomes.results.get(1).map(|r| &r.outcome) else {
        panic!("expected a rejection: {outcomes:?}");
    };
    assert_eq!(reason.message().en(), "Task not found");
    assert_eq!(reason.message().zh(), "找不到任务");
    let recorded = fx.db.rejections().await?;
    assert_eq!(
        recorded
            .get(&(tab.client.to_string(), 1))
            .map(String::as_str),
        Some("标题过长（最多200字）"),
        "the server records the Chinese"
    );
    assert_eq!(
        recorded
            .get(&(tab.client.to_string(), 2))
            .map(String::as_str),
        Some("找不到任务")
    );
    Ok(())
}

async fn a_wrong_protocol_version_is_refused(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    let (_, m) = create_task(&fx.item4, fx.lead.me.unit, "旧版本的更改");
    tab.add(m);
    let mut push = serde_json::to_value(tab.push_request())?;
    push["protocol"] = json!(PROTOCOL_VERSION + 1);
    let (status, body) = fx.lead.post_raw("/api/sync/push", &push).await?;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("协议") && body.contains("刷新"),
        "tells the user to reload: {body}"
    );
    let err: Value = serde_json::from_str(&body)?;
    assert!(
        err["message_en"]
            .as_str()
            .is_some_and(|m| m.contains("reload the page")),
        "in English too: {body}"
    );

    let mut old_pull = serde_json::to_value(tab.pull_request())?;
    old_pull["protocol"] = json!(0);
    let (status, body) = fx.lead.post_raw("/api/sync/pull", &old_pull).await?;
    assert_eq!(status, 400, "{body}");

    let res = pull(&fx.lead, &mut tab).await?;
    assert!(res.last_mutation_ids.is_empty() && res.puts.iter().all(|e| e.kind() != "task"));
    Ok(())
}

async fn an_unknown_mutation_type_is_refused_clearly(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    let (_, m) = create_task(&fx.item4, fx.lead.me.unit, "正常的更改");
    tab.add(m);
    let mut body = serde_json::to_value(tab.push_request())?;
    // A newer app's mutation (or a typo), after a good one in the same batch.
    let Some(mutations) = body["mutations"].as_array_mut() else {
        anyhow::bail!("a push has a mutations array");
    };
    mutations.push(json!({
        "client_id": tab.client, "id": 2,
        "mutation": { "type": "teleport_task", "args": { "task": TaskId::new_v7() } }
    }));
    let (status, text) = fx.lead.post_raw("/api/sync/push", &body).await?;
    assert_eq!(status, 400, "{text}");
    let err: Value = serde_json::from_str(&text)?;
    assert_eq!(err["error"], "bad_request");
    let message = err["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("teleport_task"),
        "the message names the unknown type: {message}"
    );
    assert!(
        message.contains("mutations[1]"),
        "and which one it is: {message}"
    );

    // A batch longer than the server takes is refused whole too, with the limit in the message.
    let mut long = Tab::new(tab.group);
    let (task, m) = create_task(&fx.item4, fx.lead.me.unit, "超长批次");
    long.add(m);
    for n in 0..MAX_PUSH_BATCH {
        long.add(progress(task, (n % 100) as u8));
    }
    let req = push_request(long.group, long.outbox.clone());
    let err = fx.lead.push(&req).await?.err().map(|e| (e.status, e.body));
    let (status, text) = err.unwrap_or_default();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains(&MAX_PUSH_BATCH.to_string()), "{text}");

    let res = pull(&fx.lead, &mut tab).await?;
    assert!(
        res.last_mutation_ids.is_empty(),
        "the batches were refused whole"
    );
    assert!(res.puts.iter().all(|e| e.kind() != "task"));
    Ok(())
}

async fn an_unusable_cookie_gets_a_full_reset(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    // Make some history: a task in item 4, so there are two spaces.
    let mut lead_tab = Tab::new(ClientGroupId::new_v7());
    pull(&fx.lead, &mut lead_tab).await?;
    let (_, m) = create_task(&fx.item4, fx.lead.me.unit, "优化股权结构");
    lead_tab.add(m);
    push(&fx.lead, &lead_tab).await?;

    let mut tab = Tab::new(ClientGroupId::new_v7());
    let good = pull(&fx.coop, &mut tab).await?.cookie;
    let full = fx.coop.server_view().await?;
    let leads_cookie = pull(&fx.lead, &mut Tab::new(ClientGroupId::new_v7()))
        .await?
        .cookie;

    let mut from_the_future = good.clone();
    for v in from_the_future.spaces.values_mut() {
        *v += 1000;
    }
    let mut negative = good.clone();
    negative.spaces.insert("plan".into(), -1);
    let mut unknown_space = good.clone();
    unknown_space
        .spaces
        .insert(Space::Item(shared::ids::ItemId::new_v7()).to_string(), 1);
    let mut garbage_space = good.clone();
    garbage_space.spaces.insert("no such space".into(), 0);
    let forged = [
        ("versions above the current ones", from_the_future),
        ("a negative version", negative),
        ("a space that does not exist", unknown_space),
        ("a space name that does not parse", garbage_space),
        (
            "another epoch",
            Cookie {
                epoch: "an-older-database".into(),
                ..good.clone()
            },
        ),
        ("another user", leads_cookie),
        (
            "the same user before a role or unit change",
            Cookie {
                view: format!("office/{}", fx.coop.me.unit),
                ..good.clone()
            },
        ),
        (
            "a cookie from before views were recorded",
            Cookie {
                view: String::new(),
                ..good.clone()
            },
        ),
        ("nothing at all", Cookie::default()),
    ];
    for (what, cookie) in forged {
        let res = fx.coop.pull(&pull_request(tab.group, Some(cookie))).await?;
        let res = res.map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
        assert!(res.reset, "{what}: must reset, never trust it");
        let mut state = shared::state::State::new();
        for e in res.puts {
            state.put(e);
        }
        assert!(
            diff(&state, &full).is_empty(),
            "{what}: the reset holds everything: {:?}",
            diff(&state, &full)
        );
        assert_eq!(
            res.cookie, good,
            "{what}: the answer carries the real cookie"
        );
    }
    // The real cookie is still good afterwards.
    let res = fx
        .coop
        .pull_ok(&pull_request(tab.group, Some(good.clone())))
        .await?;
    assert!(!res.reset && res.puts.is_empty());
    Ok(())
}

async fn cookies_and_last_ids_never_go_backwards(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    let mut cookies = vec![pull(&fx.lead, &mut tab).await?.cookie];
    let mut last_ids = vec![0];
    fn record(res: &PullResponse, tab: &Tab, cookies: &mut Vec<Cookie>, last_ids: &mut Vec<u64>) {
        cookies.push(res.cookie.clone());
        last_ids.push(res.last_mutation_ids.get(&tab.client).copied().unwrap_or(0));
    }
    let (task, m) = create_task(&fx.item4, fx.lead.me.unit, "完善资产监管");
    tab.add(m);
    push(&fx.lead, &tab).await?;
    let res = pull(&fx.lead, &mut tab).await?;
    record(&res, &tab, &mut cookies, &mut last_ids);
    // A rejection, a duplicate and a refused gap in between: none may move anything back.
    tab.add(progress(task, 101));
    let req = tab.push_request();
    push(&fx.lead, &tab).await?;
    fx.lead.push_ok(&req).await?;
    let gap = PendingMutation {
        client_id: tab.client,
        id: 9,
        mutation: progress(task, 5),
    };
    assert_eq!(
        fx.lead
            .push(&push_request(tab.group, vec![gap]))
            .await?
            .err()
            .map(|e| e.status),
        Some(StatusCode::CONFLICT)
    );
    let res = pull(&fx.lead, &mut tab).await?;
    record(&res, &tab, &mut cookies, &mut last_ids);
    // Someone else's change in another space.
    let mut other_tab = Tab::new(ClientGroupId::new_v7());
    pull(&fx.other, &mut other_tab).await?;
    let (_, m) = create_task(&fx.item7, fx.other.me.unit, "人员分类改革");
    other_tab.add(m);
    push(&fx.other, &other_tab).await?;
    let res = pull(&fx.lead, &mut tab).await?;
    record(&res, &tab, &mut cookies, &mut last_ids);
    // An old cookie is answered with the current one, not with the old one.
    let oldest = cookies[0].clone();
    let res = fx
        .lead
        .pull_ok(&pull_request(tab.group, Some(oldest)))
        .await?;
    assert!(!res.reset, "an old cookie of this history is still usable");
    assert!(
        res.puts.iter().any(|e| e.key() == EntityKey::task(task)),
        "and gets everything since"
    );
    record(&res, &tab, &mut cookies, &mut last_ids);

    for pair in cookies.windows(2) {
        assert!(
            not_behind(&pair[1], &pair[0]),
            "cookie went back: {:?} -> {:?}",
            pair[0],
            pair[1]
        );
    }
    assert!(last_ids.windows(2).all(|p| p[1] >= p[0]), "{last_ids:?}");
    assert_eq!(last_ids.last(), Some(&2));
    assert!(
        cookies.windows(2).any(|p| p[1] != p[0]),
        "the history did move"
    );
    Ok(())
}

async fn a_client_group_belongs_to_one_user(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    pull(&fx.lead, &mut tab).await?;
    let (task, m) = create_task(&fx.item4, fx.lead.me.unit, "探索制定扶持办法");
    tab.add(m);
    push(&fx.lead, &tab).await?;

    // 区发改局 tries to use the lead's group: to read its last ids, or to push in its name.
    let stolen = fx.coop.pull(&tab.pull_request()).await?;
    assert_eq!(stolen.err().map(|e| e.status), Some(StatusCode::FORBIDDEN));
    let mut intruder = Tab::new(tab.group);
    intruder.add(progress(task, 77));
    let res = fx.coop.push(&intruder.push_request()).await?;
    assert_eq!(res.err().map(|e| e.status), Some(StatusCode::FORBIDDEN));
    // Nor may it push under the lead's client id in a group of its own.
    let mut hijack = Tab::new(ClientGroupId::new_v7());
    hijack.client = tab.client;
    hijack.last_id = 1;
    hijack.add(progress(task, 66));
    let res = fx.coop.push(&hijack.push_request()).await?;
    assert_eq!(res.err().map(|e| e.status), Some(StatusCode::FORBIDDEN));

    let res = pull(&fx.lead, &mut tab).await?;
    assert_eq!(
        res.last_mutation_ids.len(),
        1,
        "{:?}",
        res.last_mutation_ids
    );
    assert!(
        tab.base.task(task).is_some_and(|t| t.progress == 0),
        "nothing of theirs applied"
    );
    Ok(())
}

/// Writes a comment that only the lead unit (and the office) may see straight into the
/// database, at a new version of item 4's space, as a workflow's draft is stored; returns its
/// key and that version.
async fn plant_lead_unit_comment(fx: &Fixture, body: &str) -> anyhow::Result<(EntityKey, i64)> {
    let comment = Comment {
        id: CommentId::new_v7(),
        item: fx.item4.id,
        task: None,
        author: fx.lead.me.id,
        author_name: fx.lead.me.display_name.clone(),
        unit: fx.lead.me.unit,
        body: body.into(),
        at: at(),
    };
    let key = EntityKey::comment(comment.id);
    let space = space_of(&fx.item4);
    let version: i64 = sqlx::query_scalar(
        "UPDATE space SET version = version + 1 WHERE id = $1 RETURNING version",
    )
    .bind(&space)
    .fetch_one(&fx.db.pool)
    .await?;
    sqlx::query("INSERT INTO entity (id, kind, space, version, visible_unit, data) VALUES ($1, 'comment', $2, $3, $4, $5)")
        .bind(&key.0)
        .bind(&space)
        .bind(version)
        .bind(fx.lead.me.unit.to_string())
        .bind(serde_json::to_string(&Entity::Comment(comment))?)
        .execute(&fx.db.pool)
        .await?;
    Ok((key, version))
}

/// The office and the lead unit see the lead unit's own rows; a cooperating unit does not.
fn who_sees_the_lead_units_rows(fx: &Fixture) -> [(&'static str, &Session, bool); 3] {
    [
        ("office", &fx.office, true),
        ("lead", &fx.lead, true),
        ("coop", &fx.coop, false),
    ]
}

/// Rows that only one unit (and the office) may see, such as a draft work plan, reach only that
/// unit and the office; the others' pulls don't even tell them one changed. No mutation narrows
/// what was public, so the test plants that in the database to see the pull tell those who had
/// the row to forget it.
async fn rows_restricted_to_a_unit_reach_only_that_unit_and_the_office(
    store: Store,
) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let mut tabs = BTreeMap::new();
    for (name, session) in [
        ("office", &fx.office),
        ("lead", &fx.lead),
        ("coop", &fx.coop),
    ] {
        let mut tab = Tab::new(ClientGroupId::new_v7());
        pull(session, &mut tab).await?;
        tabs.insert(name, tab);
    }
    // A public comment everyone has pulled.
    let mut lead_tab = Tab::new(ClientGroupId::new_v7());
    pull(&fx.lead, &mut lead_tab).await?;
    let shared_id = CommentId::new_v7();
    lead_tab.add(Mutation::AddComment {
        id: shared_id,
        item: fx.item4.id,
        task: None,
        body: "公开意见".into(),
        at: at(),
    });
    push(&fx.lead, &lead_tab).await?;
    for (name, session) in [
        ("office", &fx.office),
        ("lead", &fx.lead),
        ("coop", &fx.coop),
    ] {
        let tab = tabs.get_mut(name).ok_or_else(|| anyhow::anyhow!("tab"))?;
        pull(session, tab).await?;
        assert!(
            tab.base.get(&EntityKey::comment(shared_id)).is_some(),
            "{name} sees the public comment"
        );
    }

    // A work plan the lead unit drafts: the others' pulls say nothing of it, not even that
    // something they may not see was written.
    let kind = shared::submission::SubmissionKind::WorkPlan;
    let draft_plan = shared::ids::submission_id(fx.item4.id, kind.as_str());
    lead_tab.add(Mutation::SaveSubmission(shared::submission::SaveDraft {
        id: draft_plan,
        item: fx.item4.id,
        kind,
        parts: kind
            .parts()
            .iter()
            .map(|(zh, _)| format!("{zh}：草稿"))
            .collect(),
        at: at(),
    }));
    push(&fx.lead, &lead_tab).await?;
    for (name, session, sees) in who_sees_the_lead_units_rows(&fx) {
        let tab = tabs.get_mut(name).ok_or_else(|| anyhow::anyhow!("tab"))?;
        let res = pull(session, tab).await?;
        let key = EntityKey::submission(draft_plan);
        assert_eq!(
            tab.base.get(&key).is_some(),
            sees,
            "{name}: the drafted work plan"
        );
        if !sees {
            assert!(
                res.puts.is_empty() && res.deletes.is_empty(),
                "{name} hears nothing of another unit's draft: {res:?}"
            );
        }
    }

    // Now a draft of the lead unit appears, and the public comment becomes restricted too.
    let (draft_key, version) = plant_lead_unit_comment(&fx, "草稿").await?;
    sqlx::query("UPDATE entity SET visible_unit = $1, version = $2 WHERE id = $3")
        .bind(fx.lead.me.unit.to_string())
        .bind(version)
        .bind(&EntityKey::comment(shared_id).0)
        .execute(&fx.db.pool)
        .await?;

    for (name, session, sees) in who_sees_the_lead_units_rows(&fx) {
        let tab = tabs.get_mut(name).ok_or_else(|| anyhow::anyhow!("tab"))?;
        let res = pull(session, tab).await?;
        let has = |key: &EntityKey| tab.base.get(key).is_some();
        assert_eq!(has(&draft_key), sees, "{name}: the draft");
        assert_eq!(
            has(&EntityKey::comment(shared_id)),
            sees,
            "{name}: the restricted comment"
        );
        if !sees {
            assert!(
                res.deletes.contains(&EntityKey::comment(shared_id)),
                "{name} is told to forget it"
            );
            assert_eq!(
                res.deletes,
                vec![EntityKey::comment(shared_id)],
                "{name} is not told that a draft it never saw exists"
            );
            assert!(
                res.puts.is_empty(),
                "{name} gets nothing restricted: {:?}",
                res.puts
            );
        }
        // A fresh client of the same user gets the same, by reset.
        let fresh = session.server_view().await?;
        assert_eq!(fresh.get(&draft_key).is_some(), sees, "{name}: reset");
        assert!(
            diff(&fresh, &tab.base).is_empty(),
            "{name}: incremental == reset: {:?}",
            diff(&fresh, &tab.base)
        );
    }

    // The office moves the cooperating unit's user to the lead unit: their next pull, on the
    // cookie of their old unit, starts over and brings what the lead unit may see.
    let (status, body) = fx
        .office
        .post_raw(
            &format!("/api/users/{}/role", fx.coop.me.id),
            &serde_json::json!({ "role": "unit", "unit": fx.lead.me.unit }),
        )
        .await?;
    anyhow::ensure!(status.is_success(), "moving the user: {status} {body}");
    let tab = tabs.get_mut("coop").ok_or_else(|| anyhow::anyhow!("tab"))?;
    let res = pull(&fx.coop, tab).await?;
    assert!(res.reset, "a cookie of another unit starts over");
    assert!(
        tab.base.get(&draft_key).is_some(),
        "the moved user now has the lead unit's draft"
    );
    Ok(())
}

/// The server answers pulls that arrive together in one batch; each must still get exactly the
/// answer it would get alone: its own user's visibility, its own cookie's changes, its own
/// group's last ids, and a refusal only for the one that used someone else's group.
async fn pulls_arriving_together_each_get_their_own_answer(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let sessions = [&fx.office, &fx.lead, &fx.coop, &fx.other];
    let mut tabs = Vec::new();
    for session in sessions {
        let mut tab = Tab::new(ClientGroupId::new_v7());
        pull(session, &mut tab).await?;
        tabs.push(tab);
    }
    // After those cookies: a task of the lead's (pushed from its tab, so its group has a last
    // id), and a comment only the lead unit and the office may see.
    let (_, m) = create_task(&fx.item4, fx.lead.me.unit, "分批回答的拉取");
    tabs[1].add(m);
    push(&fx.lead, &tabs[1]).await?;
    plant_lead_unit_comment(&fx, "仅本单位可见").await?;

    // Per user: an incremental pull on its tab's cookie and a full reset; and the cooperating
    // unit also tries the lead's group.
    let mut asks = Vec::new();
    for (session, tab) in sessions.iter().zip(&tabs) {
        asks.push((*session, tab.pull_request()));
        asks.push((*session, pull_request(ClientGroupId::new_v7(), None)));
    }
    asks.push((&fx.coop, tabs[1].pull_request()));
    let answer = |reply: e2e::sync_client::Reply<PullResponse>| -> anyhow::Result<Value> {
        Ok(match reply {
            Ok(res) => serde_json::to_value(res)?,
            Err(e) => json!({ "status": e.status.as_u16() }),
        })
    };
    let mut alone = Vec::new();
    for (session, req) in &asks {
        alone.push(answer(session.pull(req).await?)?);
    }
    assert_eq!(alone.last(), Some(&json!({ "status": 403 })));
    assert_ne!(
        alone[0], alone[6],
        "the office and 区法院 see different things"
    );

    // Now all at once, several times over, so that they queue behind each other.
    let together = futures_util::future::try_join_all(
        (0..6).flat_map(|_| asks.iter().map(|(session, req)| session.pull(req))),
    )
    .await?;
    for (i, reply) in together.into_iter().enumerate() {
        let got = answer(reply)?;
        let want = &alone[i % asks.len()];
        assert!(
            got == *want,
            "pull {} answered differently when together: {got} vs {want}",
            i % asks.len()
        );
    }
    Ok(())
}

/// After a restore from a backup, a tab moves a client's waiting changes to a fresh client
/// (the browser's `renumber`) and says so in its push (`retire`). A tab that still holds the
/// originals, offline meanwhile, then sends them: they are duplicates, not a second
/// application that would undo what others changed since. A group retires only its own
/// clients.
async fn changes_moved_to_another_client_are_not_applied_again(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let group = ClientGroupId::new_v7();
    let mut setup = Tab::new(group);
    let (task, m) = create_task(&fx.item4, fx.lead.me.unit, "初稿");
    setup.add(m);
    assert_eq!(push(&fx.lead, &setup).await?, vec![Outcome::Applied]);
    let title = |title: &str| Mutation::SetTaskTitle {
        task,
        title: title.into(),
        at: at(),
    };

    // The old tab's client: its first change reached the server, its second did not.
    let mut old = Tab::new(group);
    old.add(title("一稿"));
    assert_eq!(push(&fx.lead, &old).await?, vec![Outcome::Applied]);
    old.add(title("二稿"));
    let originals = old.push_request();

    // Another tab moved that second change to a fresh client and sends it, retiring the old.
    let mut moved = Tab::new(group);
    moved.add(title("二稿"));
    let mut req = moved.push_request();
    req.retire.insert(old.client, 2);
    let res = fx.lead.push_ok(&req).await?;
    assert_eq!(res.results[0].outcome, Outcome::Applied);

    // Meanwhile the office renames it.
    let mut office = Tab::new(ClientGroupId::new_v7());
    office.add(title("定稿"));
    assert_eq!(push(&fx.office, &office).await?, vec![Outcome::Applied]);

    // The old tab comes back online with both originals: nothing is applied again.
    let res = fx.lead.push_ok(&originals).await?;
    let outcomes: Vec<Outcome> = res.results.into_iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, vec![Outcome::Duplicate, Outcome::Duplicate]);
    let state = fx.office.server_view().await?;
    assert_eq!(
        state.task(task).map(|t| t.title.as_str()),
        Some("定稿"),
        "the office's title stands"
    );
    // And it carries on from there.
    old.outbox.clear();
    old.add(title("三稿"));
    assert_eq!(push(&fx.lead, &old).await?, vec![Outcome::Applied]);

    // Retiring a client of another group is refused, and changes nothing.
    let mut stranger = Tab::new(ClientGroupId::new_v7());
    stranger.add(progress(task, 10));
    let mut req = stranger.push_request();
    req.retire.insert(old.client, 100);
    let (status, body) = fx
        .lead
        .post_raw("/api/sync/push", &serde_json::to_value(&req)?)
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(fx.db.last_mutation_id(old.client).await?, Some(3));
    // Nor are thousands of clients at once, or an id 0.
    let mut many = moved.push_request();
    many.mutations.clear();
    many.retire = (0..65).map(|_| (ClientId::new_v7(), 1)).collect();
    let (status, body) = fx
        .lead
        .post_raw("/api/sync/push", &serde_json::to_value(&many)?)
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    many.retire = [(ClientId::new_v7(), 0)].into_iter().collect();
    let (status, body) = fx
        .lead
        .post_raw("/api/sync/push", &serde_json::to_value(&many)?)
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    Ok(())
}
