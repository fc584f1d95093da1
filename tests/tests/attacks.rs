//! Known vulnerabilities of peer kanban systems (Planka, Wekan, Kanboard, Focalboard), replayed
//! against Reformboard on SQLite and PostgreSQL. Each test names the advisory class it replays
//! and must fail to do harm: the change is refused, the database is unchanged, the text comes
//! back as inert JSON text.

use anyhow::{Context, ensure};
use e2e::sync_client::{Item4, PlanFacts, ServerDb, Session, diff, push_request};
use e2e::{Server, ServerOptions, Store};
use serde_json::{Value, json};
use shared::board::{Column, sort_key};
use shared::entity::{Item, Millis};
use shared::ids::{ClientGroupId, ClientId, CommentId, TaskId, UnitId};
use shared::mutation::Mutation;
use shared::state::State;
use shared::sync::{Outcome, PendingMutation};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};

use e2e::on_both_stores;

on_both_stores!(
    idor_on_cards_of_another_item,
    idor_on_accounts_and_privilege_escalation,
    comment_only_users_cannot_move_cards,
    stored_xss_in_titles_and_comments_stays_inert_text,
    csrf_on_state_changes_is_refused,
    a_disabled_account_loses_its_sessions_at_once,
    login_does_not_tell_which_usernames_exist,
    sql_injection_in_every_string_parameter_is_inert,
    no_open_redirects,
    changes_can_not_be_dated_back_or_ahead,
    a_missed_due_date_can_not_be_moved_by_dating_the_change_back,
);

const AT: Millis = Millis(1_700_000_000_000);

struct Fixture {
    server: Server,
    db: ServerDb,
    office: Session,
    /// 区财政局〈国资委〉: leads item 4.
    lead: Session,
    /// 区发改局: cooperates on item 4.
    coop: Session,
    /// 区法院: leads item 7, nothing to do with item 4.
    other: Session,
    item4: Item,
    /// A card on item 4, owned by the lead unit.
    card: TaskId,
}

async fn fixture(store: Store) -> anyhow::Result<Fixture> {
    let site = e2e::site_dir().is_some();
    let server = Server::start(ServerOptions {
        store,
        site,
        ..Default::default()
    })
    .await?;
    let Item4 {
        office,
        facts,
        item: item4,
        lead,
    } = Item4::on(&server).await?;
    let coop = facts.login_unit(&server, "区发改局").await?;
    let other = facts.login_unit(&server, "区法院").await?;
    ensure!(
        item4.lead_units == vec![lead.me.unit],
        "item 4 is led by 区财政局〈国资委〉"
    );
    let card = TaskId::new_v7();
    let created = push_one(&lead, create(&item4, card, lead.me.unit, "试点方案")).await?;
    ensure!(
        matches!(created, Outcome::Applied),
        "the lead creates its card: {created:?}"
    );
    let db = ServerDb::open(&server).await?;
    Ok(Fixture {
        server,
        db,
        office,
        lead,
        coop,
        other,
        item4,
        card,
    })
}

fn create(item: &Item, id: TaskId, owner: UnitId, title: &str) -> Mutation {
    create_at(item, id, owner, title, AT)
}

fn create_at(item: &Item, id: TaskId, owner: UnitId, title: &str, at: Millis) -> Mutation {
    Mutation::CreateTask {
        id,
        item: item.id,
        title: title.into(),
        owner,
        column: Column::NotStarted,
        sort_key: sort_key::between(None, None),
        due: None,
        at,
    }
}

/// Pushes one mutation from a fresh tab and returns its outcome.
async fn push_one(session: &Session, mutation: Mutation) -> anyhow::Result<Outcome> {
    let req = push_request(
        ClientGroupId::new_v7(),
        vec![PendingMutation {
            client_id: ClientId::new_v7(),
            id: 1,
            mutation,
        }],
    );
    let res = session.push_ok(&req).await?;
    res.results
        .into_iter()
        .next()
        .map(|r| r.outcome)
        .context("no result")
}

async fn all_refused(session: &Session, mutations: Vec<Mutation>, who: &str) -> anyhow::Result<()> {
    for m in mutations {
        let outcome = push_one(session, m.clone()).await?;
        ensure!(
            matches!(outcome, Outcome::Rejected { .. }),
            "{who} did {m:?}: {outcome:?}"
        );
    }
    Ok(())
}

async fn same_entities(db: &ServerDb, before: &State, what: &str) -> anyhow::Result<()> {
    let now = db.entities().await?;
    ensure!(
        now == *before,
        "{what} changed the board: {:?}",
        diff(before, &now)
    );
    Ok(())
}

fn card_mutations(fx: &Fixture, intruder: UnitId) -> Vec<Mutation> {
    let task = fx.card;
    vec![
        Mutation::SetTaskTitle {
            task,
            title: "被篡改".into(),
            at: AT,
        },
        Mutation::SetTaskNotes {
            task,
            notes: "被篡改".into(),
            at: AT,
        },
        Mutation::SetTaskProgress {
            task,
            progress: 100,
            at: AT,
        },
        Mutation::MoveTask {
            task,
            column: Column::Done,
            sort_key: sort_key::between(None, None),
            at: AT,
        },
        Mutation::AssignTask {
            task,
            owner: intruder,
            at: AT,
        },
        Mutation::ArchiveTask { task, at: AT },
        Mutation::SetTaskBlocked {
            task,
            reason: Some("x".into()),
            at: AT,
        },
    ]
}

async fn user_id(office: &Session, username: &str) -> anyhow::Result<String> {
    let users: Vec<Value> = office.api.get_json("/api/users").await?;
    users
        .iter()
        .find(|u| u["username"] == username)
        .and_then(|u| u["id"].as_str())
        .map(String::from)
        .with_context(|| format!("no user {username}"))
}

/// Planka GHSA (IDOR: card actions checked only for board membership of *some* board) and
/// Kanboard's task IDORs (editing a task of another project by its id): a unit edits, moves,
/// reassigns and archives a card of an item it has nothing to do with, and creates cards there.
async fn idor_on_cards_of_another_item(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let before = fx.db.entities().await?;
    all_refused(
        &fx.other,
        card_mutations(&fx, fx.other.me.unit),
        "an unrelated unit",
    )
    .await?;
    all_refused(
        &fx.other,
        vec![
            create(&fx.item4, TaskId::new_v7(), fx.other.me.unit, "越权新建"),
            create(&fx.item4, TaskId::new_v7(), fx.lead.me.unit, "冒充牵头单位"),
            Mutation::AddComment {
                id: CommentId::new_v7(),
                item: fx.item4.id,
                task: Some(fx.card),
                body: "x".into(),
                at: AT,
            },
        ],
        "an unrelated unit",
    )
    .await?;
    // A cooperating unit works only on cards it owns: not the lead's card, and it can't hand
    // the card to itself either.
    all_refused(
        &fx.coop,
        card_mutations(&fx, fx.coop.me.unit),
        "a cooperating unit",
    )
    .await?;
    // A comment that names one item but a task of another is refused (no writing into item 4
    // through a task id while holding item 7's rights).
    let item7 = PlanFacts::new(fx.office.server_view().await?).item(7)?;
    all_refused(
        &fx.other,
        vec![Mutation::AddComment {
            id: CommentId::new_v7(),
            item: item7.id,
            task: Some(fx.card),
            body: "跨项目".into(),
            at: AT,
        }],
        "an item-7 comment on an item-4 card",
    )
    .await?;
    same_entities(&fx.db, &before, "IDOR").await
}

/// Wekan CVE-2021-20654-class (a board member promoting itself / editing other users) and
/// Focalboard's user-admin IDORs: a unit account lists, disables, resets and re-roles accounts,
/// its own included.
async fn idor_on_accounts_and_privilege_escalation(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let office_id = user_id(&fx.office, "office").await?;
    let own_id = fx.lead.me.id.to_string();
    let res = fx.lead.api.get("/api/users").await?;
    ensure!(
        res.status() == 403,
        "a unit lists accounts: {}",
        res.status()
    );
    for id in [&office_id, &own_id] {
        for (path, body) in [
            (
                format!("/api/users/{id}/role"),
                json!({"role": "office", "unit": fx.lead.me.unit}),
            ),
            (
                format!("/api/users/{id}/password"),
                json!({"password": "hijacked-password-1"}),
            ),
            (format!("/api/users/{id}/disable"), json!({})),
        ] {
            let res = fx.lead.api.post(&path, &body).await?;
            ensure!(res.status() == 403, "a unit POST {path}: {}", res.status());
        }
    }
    let res = fx
        .lead
        .api
        .post(
            "/api/users",
            &json!({"username": "backdoor", "display_name": "x", "unit": fx.lead.me.unit,
            "role": "office", "password": "backdoor-password-1"}),
        )
        .await?;
    ensure!(
        res.status() == 403,
        "a unit creates an office account: {}",
        res.status()
    );
    // Extra fields in a login body (mass assignment) are ignored.
    let res = fx
        .lead
        .api
        .post(
            "/api/auth/login",
            &json!({"username": fx.lead.me.username,
        "password": e2e::DEMO_PASSWORD, "role": "office", "unit": fx.office.me.unit}),
        )
        .await?;
    ensure!(
        res.status().is_success() || res.status().is_client_error(),
        "login: {}",
        res.status()
    );
    let me: Value = fx.lead.api.get_json("/api/auth/me").await?;
    ensure!(me["role"] == "unit", "still a unit account: {me}");
    let office = Session::login(&fx.server, "office").await?;
    ensure!(
        office.me.role == shared::actor::Role::Office,
        "office untouched"
    );
    let users: Vec<Value> = fx.office.api.get_json("/api/users").await?;
    ensure!(
        !users.iter().any(|u| u["username"] == "backdoor"),
        "no backdoor account"
    );
    Ok(())
}

/// Wekan's and Focalboard's "commenter/viewer can move cards" advisories: the read-and-comment
/// roles (district leader, People's Congress / CPPCC) try every card change.
async fn comment_only_users_cannot_move_cards(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let before = fx.db.entities().await?;
    for username in ["leader", "npc", "cppcc"] {
        let s = Session::login(&fx.server, username).await?;
        let mut mutations = card_mutations(&fx, s.me.unit);
        mutations.push(create(
            &fx.item4,
            TaskId::new_v7(),
            fx.lead.me.unit,
            "越权新建",
        ));
        all_refused(&s, mutations, username).await?;
    }
    same_entities(&fx.db, &before, "comment-only users").await?;
    // The leader's one write is a comment; supervisors have none.
    let leader = Session::login(&fx.server, "leader").await?;
    let comment = |body: &str| Mutation::AddComment {
        id: CommentId::new_v7(),
        item: fx.item4.id,
        task: None,
        body: body.into(),
        at: AT,
    };
    ensure!(
        matches!(
            push_one(&leader, comment("请抓紧推进")).await?,
            Outcome::Applied
        ),
        "the leader comments"
    );
    let npc = Session::login(&fx.server, "npc").await?;
    ensure!(
        matches!(
            push_one(&npc, comment("评议")).await?,
            Outcome::Rejected { .. }
        ),
        "a supervisor may not comment"
    );
    Ok(())
}

/// Planka, Wekan and Kanboard stored-XSS advisories (card titles, comments, markdown links):
/// the payloads are stored and returned verbatim as JSON strings, never as HTML, with
/// `application/json`, `nosniff` and a CSP without inline scripts on every response.
async fn stored_xss_in_titles_and_comments_stays_inert_text(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let payloads = [
        "<script>alert(document.cookie)</script>",
        "<img src=x onerror=alert(1)>",
        "\"><svg onload=alert(1)>",
        "[点我](javascript:alert(1))",
        "{{constructor.constructor('alert(1)')()}}",
        "=HYPERLINK(\"http://evil.example\",\"x\")",
    ];
    for (i, payload) in payloads.iter().enumerate() {
        let id = TaskId::new_v7();
        let outcome = push_one(&fx.lead, create(&fx.item4, id, fx.lead.me.unit, payload)).await?;
        ensure!(matches!(outcome, Outcome::Applied), "card {i}: {outcome:?}");
        let c = Mutation::AddComment {
            id: CommentId::new_v7(),
            item: fx.item4.id,
            task: Some(id),
            body: (*payload).into(),
            at: AT,
        };
        ensure!(
            matches!(push_one(&fx.lead, c).await?, Outcome::Applied),
            "comment {i}"
        );
    }
    // Back through a pull as the exact text.
    let res = fx
        .coop
        .api
        .post(
            "/api/sync/pull",
            &e2e::sync_client::pull_request(ClientGroupId::new_v7(), None),
        )
        .await?;
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    ensure!(
        content_type.starts_with("application/json"),
        "pull is {content_type}"
    );
    ensure!(
        res.headers()
            .get("x-content-type-options")
            .is_some_and(|v| v == "nosniff"),
        "nosniff"
    );
    let csp = res
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    ensure!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "CSP: {csp}"
    );
    let view = fx.coop.server_view().await?;
    let titles: Vec<&str> = view.tasks().map(|t| t.title.as_str()).collect();
    let comments: Vec<&str> = view.comments().map(|c| c.body.as_str()).collect();
    for payload in payloads {
        ensure!(
            titles.contains(&payload),
            "title {payload} came back altered: {titles:?}"
        );
        ensure!(
            comments.contains(&payload),
            "comment {payload} came back altered"
        );
    }
    // The history and audit views are JSON too; the CSV neutralises formulas for Excel.
    let res = fx.office.api.get("/api/audit?limit=50").await?;
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    ensure!(ct.starts_with("application/json"), "audit is {ct}");
    let res = fx.office.api.get("/api/audit.csv").await?;
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let disposition = res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    ensure!(
        ct.starts_with("text/csv") && disposition.starts_with("attachment"),
        "CSV: {ct} / {disposition}"
    );
    let csv = res.text().await?;
    // A formula is live only at the start of a cell (inside the JSON of a before/after cell it
    // is text): after a separator, or after the quote that opens a cell.
    for line in csv.lines() {
        ensure!(
            !line.starts_with(['=', '+', '@']) && !line.contains(",=") && !line.contains(",\"="),
            "a formula starts a CSV cell: {line}"
        );
    }
    // The app shell itself carries the CSP.
    let res = fx.server.client().get("/").await?;
    let csp = res
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    ensure!(
        csp.contains("object-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "app CSP: {csp}"
    );
    Ok(())
}

/// Kanboard and Wekan CSRF advisories (state changes by a cross-site form or fetch): a push
/// without the X-Reformboard header, with a foreign Origin, as a form or text/plain (the
/// "simple request" a cross-site form can send), and a cross-site WebSocket (CSWSH).
async fn csrf_on_state_changes_is_refused(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let before = fx.db.entities().await?;
    let req = push_request(
        ClientGroupId::new_v7(),
        vec![PendingMutation {
            client_id: ClientId::new_v7(),
            id: 1,
            mutation: create(&fx.item4, TaskId::new_v7(), fx.lead.me.unit, "CSRF"),
        }],
    );
    let body = serde_json::to_string(&req)?;
    let url = format!("{}/api/sync/push", fx.server.url);
    let cookie = fx.lead.cookie_header()?;
    // A client without the default X-Reformboard header: only what a browser form would carry.
    let bare = reqwest::Client::builder().build()?;
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "no X-Reformboard",
            bare.post(&url)
                .header("cookie", &cookie)
                .header("content-type", "application/json")
                .body(body.clone()),
        ),
        (
            "form-encoded",
            bare.post(&url)
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("x={body}")),
        ),
        (
            "text/plain",
            bare.post(&url)
                .header("cookie", &cookie)
                .header("content-type", "text/plain")
                .body(body.clone()),
        ),
        (
            "multipart",
            bare.post(&url)
                .header("cookie", &cookie)
                .header("content-type", "multipart/form-data; boundary=x")
                .body(body.clone()),
        ),
        (
            "foreign Origin",
            bare.post(&url)
                .header("cookie", &cookie)
                .header("x-reformboard", "1")
                .header("origin", "http://evil.example")
                .header("content-type", "application/json")
                .body(body.clone()),
        ),
        (
            "Origin null",
            bare.post(&url)
                .header("cookie", &cookie)
                .header("x-reformboard", "1")
                .header("origin", "null")
                .header("content-type", "application/json")
                .body(body.clone()),
        ),
        (
            "form with the header",
            bare.post(&url)
                .header("cookie", &cookie)
                .header("x-reformboard", "1")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("x={body}")),
        ),
    ];
    for (what, request) in cases {
        let res = request.send().await?;
        let status = res.status().as_u16();
        ensure!(matches!(status, 400 | 403 | 415), "CSRF {what}: {status}");
    }
    let me = format!("{}/api/users/{}/disable", fx.server.url, fx.lead.me.id);
    let office_cookie = fx.office.cookie_header()?;
    let res = bare
        .post(&me)
        .header("cookie", &office_cookie)
        .send()
        .await?;
    ensure!(
        res.status() == 403,
        "account change without the header: {}",
        res.status()
    );
    let res = bare
        .post(format!("{}/api/auth/logout", fx.server.url))
        .header("cookie", &cookie)
        .send()
        .await?;
    ensure!(res.status() == 403, "logout CSRF: {}", res.status());
    // Cross-site WebSocket hijacking: the session cookie rides along, the Origin is foreign.
    let ws_url = format!(
        "{}/api/sync/ws",
        fx.server.url.replacen("http://", "ws://", 1)
    );
    let mut ws_req = ws_url.into_client_request()?;
    ws_req
        .headers_mut()
        .insert("cookie", HeaderValue::from_str(&cookie)?);
    ws_req
        .headers_mut()
        .insert("origin", HeaderValue::from_static("http://evil.example"));
    ensure!(
        tokio_tungstenite::connect_async(ws_req).await.is_err(),
        "a cross-site WebSocket opened"
    );
    same_entities(&fx.db, &before, "CSRF").await?;
    // The session survived all of it.
    let res = fx.lead.api.get("/api/auth/me").await?;
    ensure!(
        res.status() == 200,
        "the session was ended by a forged logout: {}",
        res.status()
    );
    let res = fx.office.api.get("/api/auth/me").await?;
    ensure!(res.status() == 200, "office session");
    Ok(())
}

/// Wekan and Planka "deactivated user keeps working with an existing session" advisories: the
/// lead is signed in (HTTP and WebSocket), the office disables the account, every further request
/// fails at once, and enabling it again does not revive the old session.
async fn a_disabled_account_loses_its_sessions_at_once(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let before = fx.db.entities().await?;
    let mut socket = fx.lead.websocket().await?;
    let id = fx.lead.me.id.to_string();
    let res = fx
        .office
        .api
        .post(&format!("/api/users/{id}/disable"), &json!({}))
        .await?;
    ensure!(res.status().is_success(), "disable: {}", res.status());
    let res = fx.lead.api.get("/api/auth/me").await?;
    ensure!(
        res.status() == 401,
        "a disabled account's session still answers /me: {}",
        res.status()
    );
    let res = fx
        .lead
        .push(&push_request(
            ClientGroupId::new_v7(),
            vec![PendingMutation {
                client_id: ClientId::new_v7(),
                id: 1,
                mutation: card_mutations(&fx, fx.lead.me.unit).remove(0),
            }],
        ))
        .await?;
    ensure!(
        res.as_ref().is_err_and(|e| e.status == 401),
        "a disabled account pushed: {res:?}"
    );
    ensure!(
        fx.lead.websocket().await.is_err(),
        "a disabled account opened a WebSocket"
    );
    // The socket opened before closes as soon as the sessions are forgotten, not at its next
    // ping (30 s); a generous bound, well short of that.
    ensure!(
        socket
            .closes_within(std::time::Duration::from_secs(10))
            .await?,
        "a disabled account's WebSocket stayed open"
    );
    let res = fx
        .lead
        .pull(&e2e::sync_client::pull_request(
            ClientGroupId::new_v7(),
            None,
        ))
        .await?;
    ensure!(res.is_err(), "a disabled account pulled");
    let res = fx
        .office
        .api
        .post(&format!("/api/users/{id}/enable"), &json!({}))
        .await?;
    ensure!(res.status().is_success(), "enable: {}", res.status());
    let res = fx.lead.api.get("/api/auth/me").await?;
    ensure!(
        res.status() == 401,
        "enabling revived the old session: {}",
        res.status()
    );
    same_entities(&fx.db, &before, "a disabled account").await?;
    Ok(())
}

/// Kanboard and Planka user-enumeration advisories: login answers an unknown user, a wrong
/// password and a disabled account with the same status and the same message.
async fn login_does_not_tell_which_usernames_exist(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let disabled = user_id(&fx.office, "unit27").await?;
    let res = fx
        .office
        .api
        .post(&format!("/api/users/{disabled}/disable"), &json!({}))
        .await?;
    ensure!(res.status().is_success(), "disable unit27");
    let mut answers = Vec::new();
    for (what, username, password) in [
        ("unknown user", "nobody-here", "demo1234"),
        ("wrong password", "unit01", "wrong-password"),
        ("disabled account", "unit27", e2e::DEMO_PASSWORD),
        ("unknown user, upper case", "NOBODY", "x"),
    ] {
        let res = fx
            .server
            .client()
            .post(
                "/api/auth/login",
                &json!({"username": username, "password": password}),
            )
            .await?;
        let status = res.status();
        let body: Value = res.json().await?;
        answers.push((what, status, body));
    }
    let (_, first_status, first_body) = &answers[0];
    for (what, status, body) in &answers {
        ensure!(
            status == first_status && body == first_body,
            "{what} answers {status} {body}, not {first_status} {first_body}"
        );
    }
    ensure!(
        first_status.as_u16() == 403 || first_status.as_u16() == 401,
        "a failed login: {first_status}"
    );
    Ok(())
}

/// SQL injection in every string parameter (Kanboard's and Wekan's injection advisories):
/// login fields, audit filters, history keys, account ids in paths, usernames of new accounts,
/// card titles. Nothing leaks, nothing is dropped, the payload is stored as text.
async fn sql_injection_in_every_string_parameter_is_inert(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let payloads = [
        "' OR '1'='1",
        "' OR 1=1 --",
        "\" OR \"\"=\"",
        "'; DROP TABLE users; --",
        "'; DELETE FROM audit; --",
        "1 UNION SELECT password_hash, 1, 1 FROM users --",
        "office'--",
        "%' OR '%'='",
        "\\'; UPDATE users SET role='office'; --",
    ];
    let users_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&fx.db.pool)
        .await?;
    let audit_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(&fx.db.pool)
        .await?;
    let audit_ids_before: Vec<String> = sqlx::query_scalar("SELECT id FROM audit")
        .fetch_all(&fx.db.pool)
        .await?;
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    for payload in payloads {
        // Login: as a username and as a password; both fail like any wrong login (or are
        // throttled, as this many failures from one address should be).
        for body in [
            json!({"username": payload, "password": "x"}),
            json!({"username": "office", "password": payload}),
        ] {
            let res = fx.server.client().post("/api/auth/login", &body).await?;
            let status = res.status().as_u16();
            ensure!(
                matches!(status, 400 | 403 | 429),
                "login with {payload}: {status}"
            );
        }
        // Audit filters: an injected filter matches nothing instead of everything.
        for field in ["entity", "user", "action", "category"] {
            let path = format!("/api/audit?{field}={}", enc(payload));
            let res = fx.office.api.get(&path).await?;
            let status = res.status();
            let text = res.text().await?;
            ensure!(status == 200 || status == 400, "{path}: {status} {text}");
            if status == 200 {
                let rows: Vec<Value> = serde_json::from_str(&text)?;
                ensure!(rows.is_empty(), "{path} matched {} rows", rows.len());
            }
            let res = fx
                .office
                .api
                .get(&format!("/api/audit.csv?{field}={}", enc(payload)))
                .await?;
            ensure!(
                res.status() == 200 || res.status() == 400,
                "csv {field}: {}",
                res.status()
            );
        }
        // History keys.
        for kind in ["task", "user", "item"] {
            let path = format!("/api/history/{kind}/{}", enc(payload));
            let res = fx.office.api.get(&path).await?;
            let status = res.status();
            let text = res.text().await?;
            ensure!(
                status == 200 || status.is_client_error(),
                "{path}: {status}"
            );
            if status == 200 {
                ensure!(text == "[]", "{path} matched rows: {text}");
            }
        }
        // Account ids in paths.
        let res = fx
            .office
            .api
            .post(&format!("/api/users/{}/disable", enc(payload)), &json!({}))
            .await?;
        ensure!(
            res.status() == 404 || res.status() == 400,
            "disable {payload}: {}",
            res.status()
        );
        // A new account named by the payload: not a valid username.
        let res = fx
            .office
            .api
            .post(
                "/api/users",
                &json!({"username": payload, "display_name": payload, "unit": fx.lead.me.unit,
                "role": "unit", "password": "long-enough-password-1"}),
            )
            .await?;
        ensure!(
            res.status() == 400,
            "create_user {payload}: {}",
            res.status()
        );
        // A card title: stored as the text it is.
        let outcome = push_one(
            &fx.lead,
            create(&fx.item4, TaskId::new_v7(), fx.lead.me.unit, payload),
        )
        .await?;
        ensure!(
            matches!(outcome, Outcome::Applied),
            "title {payload}: {outcome:?}"
        );
    }
    let view = fx.lead.server_view().await?;
    for payload in payloads {
        ensure!(
            view.tasks().any(|t| t.title == payload),
            "title {payload} not stored verbatim"
        );
    }
    let users_after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&fx.db.pool)
        .await?;
    let audit_after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(&fx.db.pool)
        .await?;
    ensure!(
        users_after == users_before,
        "the users table changed: {users_before} → {users_after}"
    );
    ensure!(audit_after > audit_before, "the audit trail only grows");
    // Grows, and keeps every row it had: a DELETE followed by new rows would also have grown.
    let audit_ids_after: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT id FROM audit")
            .fetch_all(&fx.db.pool)
            .await?
            .into_iter()
            .collect();
    ensure!(
        audit_ids_before
            .iter()
            .all(|id| audit_ids_after.contains(id)),
        "audit rows went missing"
    );
    let roles: Vec<(String,)> = sqlx::query_as("SELECT role FROM users WHERE username = 'unit01'")
        .fetch_all(&fx.db.pool)
        .await?;
    ensure!(
        roles.iter().all(|(r,)| r != "office"),
        "an UPDATE got through: {roles:?}"
    );
    let me: Value = fx.office.api.get_json("/api/auth/me").await?;
    ensure!(
        me["role"] == "office",
        "the office session still works: {me}"
    );
    Ok(())
}

/// Open-redirect advisories (Kanboard's `redirect` parameters, Wekan's login return URLs):
/// Reformboard has no redirects; none of the usual bait produces a 3xx to another host.
async fn no_open_redirects(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let targets = [
        "/?next=https://evil.example",
        "/login?redirect=https://evil.example",
        "/api/auth/login?next=//evil.example",
        "/api/auth/logout?return_to=https://evil.example",
        "//evil.example/",
        "/%2F%2Fevil.example",
        "/\\evil.example",
        "/pkg",
        "/pkg/",
        "/index.html",
    ];
    for target in targets {
        for method in [reqwest::Method::GET, reqwest::Method::POST] {
            let res = client
                .request(method.clone(), format!("{}{target}", fx.server.url))
                .header("x-reformboard", "1")
                .send()
                .await?;
            let status = res.status();
            if status.is_redirection() {
                let location = res
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                ensure!(
                    location.starts_with('/')
                        && !location.starts_with("//")
                        && !location.starts_with("/\\"),
                    "{method} {target} redirects to {location}"
                );
            }
            ensure!(status.as_u16() < 500, "{method} {target}: {status}");
        }
    }
    Ok(())
}

/// Pushes `mutations` as `client` of `group`, numbered from `first`, and insists each applies.
async fn push_applied(
    session: &Session,
    group: ClientGroupId,
    client: ClientId,
    first: u64,
    mutations: Vec<Mutation>,
) -> anyhow::Result<()> {
    let pending = (first..)
        .zip(mutations)
        .map(|(id, mutation)| PendingMutation {
            client_id: client,
            id,
            mutation,
        })
        .collect();
    let res = session.push_ok(&push_request(group, pending)).await?;
    for r in res.results {
        ensure!(matches!(r.outcome, Outcome::Applied), "{r:?}");
    }
    Ok(())
}

/// A unit that sets its clock back can't date its work plan before the deadline, nor can any
/// change be dated after the server's now; a browser that worked offline keeps its times. The
/// server moves a change's time into [the group's last push − slack, now]
/// (`backend::sync::push::Times`).
async fn changes_can_not_be_dated_back_or_ahead(store: Store) -> anyhow::Result<()> {
    use shared::entity::Entity;
    use shared::ids::submission_id;
    use shared::submission::{SaveDraft, SubmissionKind, Submit};
    let fx = fixture(store).await?;
    let slack = backend::sync::push::CLOCK_SLACK_MS;
    let now = || chrono::Utc::now().timestamp_millis();
    let (group, client) = (ClientGroupId::new_v7(), ClientId::new_v7());
    let work_plan = submission_id(fx.item4.id, SubmissionKind::WorkPlan.as_str());
    // 30 March 2014, the day before the work plan's deadline.
    let before_deadline = Millis(1_396_180_800_000);

    let t0 = now();
    push_applied(
        &fx.lead,
        group,
        client,
        1,
        vec![
            Mutation::SaveSubmission(SaveDraft {
                id: work_plan,
                item: fx.item4.id,
                kind: SubmissionKind::WorkPlan,
                parts: vec!["步骤".into(), "措施".into(), "安排".into()],
                at: before_deadline,
            }),
            Mutation::SubmitSubmission(Submit {
                id: work_plan,
                at: before_deadline,
            }),
        ],
    )
    .await?;
    let t1 = now();
    let submitted = match fx
        .db
        .entities()
        .await?
        .get(&shared::entity::EntityKey::submission(work_plan))
    {
        Some(Entity::Submission(s)) => s.first_submitted().context("submitted")?,
        other => anyhow::bail!("no work plan: {other:?}"),
    };
    ensure!(
        (t0 - slack..=t1 - slack).contains(&submitted.0),
        "a group's first push dates nothing before itself (less the slack): {submitted:?}, \
         pushed between {t0} and {t1}"
    );

    // The browser last pushed two hours ago, then worked offline, in a new tab.
    let last_push = now() - 2 * 3_600_000;
    fx.db.set_group_last_push(group, last_push).await?;
    let (offline, backdated, ahead) = (TaskId::new_v7(), TaskId::new_v7(), TaskId::new_v7());
    let an_hour_ago = Millis(now() - 3_600_000);
    let dated = |id, at| create_at(&fx.item4, id, fx.lead.me.unit, "离线任务", at);
    // A tab the server hasn't seen yet: the bound is its browser's, not its own.
    let t2 = now();
    push_applied(
        &fx.lead,
        group,
        ClientId::new_v7(),
        1,
        vec![
            dated(offline, an_hour_ago),
            dated(backdated, Millis(last_push - slack - 3_600_000)),
            dated(ahead, Millis(now() + 365 * 86_400_000)),
        ],
    )
    .await?;
    let t3 = now();
    // When the stored card `id` says it was created.
    let created_at =
        |state: &shared::state::State, id| match state.get(&shared::entity::EntityKey::task(id)) {
            Some(Entity::Task(t)) => Ok(t.created_at.0),
            other => Err(anyhow::anyhow!("no card {id}: {other:?}")),
        };
    let state = fx.db.entities().await?;
    let created = |id| created_at(&state, id);
    ensure!(
        created(offline)? == an_hour_ago.0,
        "an offline change after the last push keeps its time"
    );
    ensure!(
        created(backdated)? == last_push - slack,
        "a change dated before the last push (less the slack) is moved to it"
    );
    ensure!(
        (t2..=t3).contains(&created(ahead)?),
        "a change dated ahead is moved to the server's now"
    );

    // A browser left idle for a month: its changes are dated no further back than three days,
    // whatever they say (else a task could be marked done on a day long before a deadline it
    // missed).
    let max_offline = backend::sync::push::MAX_OFFLINE_MS;
    fx.db
        .set_group_last_push(group, now() - 30 * 86_400_000)
        .await?;
    let (recent, long_ago) = (TaskId::new_v7(), TaskId::new_v7());
    let a_day_ago = Millis(now() - 86_400_000);
    let t4 = now();
    push_applied(
        &fx.lead,
        group,
        ClientId::new_v7(),
        1,
        vec![
            dated(recent, a_day_ago),
            dated(long_ago, Millis(now() - 20 * 86_400_000)),
        ],
    )
    .await?;
    let t5 = now();
    let state = fx.db.entities().await?;
    let created = |id| created_at(&state, id);
    ensure!(
        created(recent)? == a_day_ago.0,
        "a change a day old keeps its time"
    );
    ensure!(
        (t4 - max_offline - slack..=t5 - max_offline - slack).contains(&created(long_ago)?),
        "a change dated twenty days back is moved to three days back (less the slack): {}",
        created(long_ago)?
    );
    Ok(())
}

/// A lead unit that missed a task's date can't move it, hand the task on or archive it — not
/// even by dating the change back to before the date (the server bounds the time first), and
/// not as the cooperating unit that owns it. Nothing about the task changes; the office can.
async fn a_missed_due_date_can_not_be_moved_by_dating_the_change_back(
    store: Store,
) -> anyhow::Result<()> {
    use shared::entity::{Entity, EntityKey};
    let fx = fixture(store).await?;
    let missed = TaskId::new_v7();
    let due = chrono::NaiveDate::from_ymd_opt(2014, 3, 31).context("date")?;
    let mut create = create(&fx.item4, missed, fx.lead.me.unit, "摸清底数");
    if let Mutation::CreateTask { due: d, .. } = &mut create {
        *d = Some(due);
    }
    // The office records it (a unit can't set a date already past).
    ensure!(matches!(
        push_one(&fx.office, create).await?,
        Outcome::Applied
    ));
    // 30 March 2014: the day before it was due.
    let before = Millis(1_396_180_800_000);
    let later = chrono::NaiveDate::from_ymd_opt(2014, 12, 31);
    let hide = vec![
        Mutation::SetTaskDue {
            task: missed,
            due: later,
            at: before,
        },
        Mutation::SetTaskDue {
            task: missed,
            due: None,
            at: before,
        },
        Mutation::AssignTask {
            task: missed,
            owner: fx.coop.me.unit,
            at: before,
        },
        Mutation::ArchiveTask {
            task: missed,
            at: before,
        },
    ];
    let task = |state: &State| match state.get(&EntityKey::task(missed)) {
        Some(Entity::Task(t)) => Ok(t.clone()),
        other => Err(anyhow::anyhow!("no card: {other:?}")),
    };
    let kept = task(&fx.db.entities().await?)?;
    all_refused(&fx.lead, hide.clone(), "the lead unit").await?;
    let after = task(&fx.db.entities().await?)?;
    ensure!(after == kept, "the missed task is as it was: {after:?}");
    ensure!(after.due == Some(due) && after.owner == fx.lead.me.unit && !after.archived);
    // The office can.
    ensure!(matches!(
        push_one(&fx.office, hide[0].clone()).await?,
        Outcome::Applied
    ));
    ensure!(task(&fx.db.entities().await?)?.due == later);
    Ok(())
}

/// Resource exhaustion by one account (Wekan's and Focalboard's unbounded socket
/// subscriptions): sockets opened by the hundred. Past `ws::MAX_SOCKETS_PER_USER` one user's are
/// refused (429) while another user connects, and a closed one makes room again.
#[tokio::test]
async fn one_account_can_not_open_sockets_without_end() -> anyhow::Result<()> {
    use backend::sync::ws::MAX_SOCKETS_PER_USER;
    use tokio_tungstenite::tungstenite::Error as WsError;
    let server = Server::start(ServerOptions::default()).await?;
    let greedy = Session::login(&server, "unit01").await?;
    let mut open = Vec::new();
    for n in 0..MAX_SOCKETS_PER_USER {
        open.push(
            greedy
                .websocket()
                .await
                .with_context(|| format!("socket {n}"))?,
        );
    }
    let refused = greedy.websocket().await;
    let status = match refused.as_ref().map_err(|e| e.downcast_ref::<WsError>()) {
        Err(Some(WsError::Http(res))) => res.status().as_u16(),
        other => anyhow::bail!("one socket too many: {:?}", other.map(|_| "opened")),
    };
    ensure!(status == 429, "one socket too many: {status}");
    let other = Session::login(&server, "unit02").await?;
    other.websocket().await.context("another user's socket")?;
    drop(open.pop());
    // The server sees the close when it reads the socket: within moments.
    let mut reopened = false;
    for _ in 0..50 {
        if greedy.websocket().await.is_ok() {
            reopened = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    ensure!(reopened, "a closed socket did not make room");
    Ok(())
}

/// Account enumeration through activity feeds (Wekan's and Planka's user lists open to every
/// member): a card's history names the people who changed it, but only the office, which
/// manages the accounts, reads their login names there.
#[tokio::test]
async fn a_cards_history_names_people_without_their_logins() -> anyhow::Result<()> {
    let fx = fixture(Store::Sqlite).await?;
    let path = format!("/api/history/task/{}", fx.card);
    let login = fx.lead.me.username.clone();
    let names = |rows: Vec<Value>| -> Vec<String> {
        rows.iter()
            .filter_map(|r| r["user_name"].as_str().map(String::from))
            .collect()
    };
    let seen_by_coop = names(fx.coop.api.get_json(&path).await?);
    ensure!(!seen_by_coop.is_empty(), "the card has a history");
    ensure!(
        seen_by_coop.iter().all(|n| !n.contains(&login)),
        "a unit reads the lead's login name: {seen_by_coop:?}"
    );
    ensure!(
        seen_by_coop.contains(&fx.lead.me.display_name),
        "{seen_by_coop:?}"
    );
    let seen_by_office = names(fx.office.api.get_json(&path).await?);
    ensure!(
        seen_by_office.iter().any(|n| n.contains(&login)),
        "the office reads who it was: {seen_by_office:?}"
    );
    Ok(())
}

/// Slowloris: connections that send a request's headers a byte at a time, or never finish
/// them, are closed after the header timeout instead of being held for as long as the client
/// likes (each costs the server a task and a file descriptor), and the server goes on
/// answering everyone else meanwhile.
#[tokio::test]
async fn connections_that_never_finish_their_headers_are_closed() -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start(ServerOptions {
        args: vec!["--header-timeout-secs".into(), "1".into()],
        ..Default::default()
    })
    .await?;
    let addr = server.addr()?;
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /api/auth/me HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await?;
        slow.push(stream);
    }
    // Meanwhile a real user signs in and works.
    let user = Session::login(&server, "unit01").await?;
    user.server_view()
        .await
        .context("a pull beside the slow clients")?;
    // Trickling a byte at a time does not keep a connection: the timer is for all the headers.
    let trickle = &mut slow[0];
    for _ in 0..30 {
        if trickle.write_all(b"a").await.is_err() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for (n, stream) in slow.iter_mut().enumerate() {
        let mut rest = Vec::new();
        // The bound only keeps a server without the timer from hanging the suite.
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            stream.read_to_end(&mut rest),
        )
        .await
        .with_context(|| format!("slow connection {n} was still open after a minute"))?;
        let text = String::from_utf8_lossy(&rest);
        ensure!(
            read.is_err() || !text.contains(" 200 "),
            "slow connection {n} was answered: {text}"
        );
    }
    Ok(())
}
