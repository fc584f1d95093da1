//! Bad input, on SQLite and PostgreSQL: malformed and deeply nested JSON, wrong types, huge
//! strings, bodies over the limit, invalid UTF-8, NUL bytes, ids of things that don't exist, a
//! WebSocket flood, traversal and odd paths, methods a route does not have. Each gets a 4xx with
//! the API's one JSON error shape (`{"error", "message"}`), never a 5xx, and changes nothing.

use anyhow::{Context, ensure};
use e2e::sync_client::{Item4, ServerDb, Session, diff, pull_request, push_request};
use e2e::{Server, ServerOptions, Store};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use shared::board::{Column, sort_key};
use shared::entity::{Item, Millis};
use shared::ids::{ClientGroupId, ClientId, CommentId, DifficultyId, ItemId, TaskId, UnitId};
use shared::mutation::Mutation;
use shared::state::State;
use shared::sync::{Outcome, PendingMutation};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, http::HeaderValue};

use e2e::on_both_stores;

on_both_stores!(
    malformed_and_deeply_nested_json_get_a_json_400,
    wrong_types_get_a_json_400,
    huge_strings_and_bodies_are_refused_without_a_fault,
    invalid_utf8_and_nul_bytes_are_refused_or_cleaned,
    ids_of_nothing_are_refused,
    a_websocket_flood_is_drained_and_oversized_frames_close_the_socket,
    traversal_and_odd_paths_never_escape_or_fault,
    methods_a_route_lacks_get_a_json_405,
);

const AT: Millis = Millis(1_700_000_000_000);

struct Fixture {
    server: Server,
    db: ServerDb,
    office: Session,
    /// 区财政局〈国资委〉, item 4's lead unit: may create cards on item 4.
    lead: Session,
    item4: Item,
}

async fn fixture(store: Store) -> anyhow::Result<Fixture> {
    // Serve the built app when there is one, so the traversal checks reach the file server.
    let site = e2e::site_dir().is_some();
    let server = Server::start(ServerOptions {
        store,
        site,
        ..Default::default()
    })
    .await?;
    let Item4 {
        office,
        item: item4,
        lead,
        ..
    } = Item4::on(&server).await?;
    let db = ServerDb::open(&server).await?;
    Ok(Fixture {
        server,
        db,
        office,
        lead,
        item4,
    })
}

/// What "nothing changed" compares: every entity, and the counts of rows a push can write.
#[derive(Debug, PartialEq)]
struct Snapshot {
    entities: State,
    mutation_audit: usize,
    rejections: usize,
    clients: i64,
}

async fn snapshot(db: &ServerDb) -> anyhow::Result<Snapshot> {
    Ok(Snapshot {
        entities: db.entities().await?,
        mutation_audit: db.mutation_audit().await?.len(),
        rejections: db.rejections().await?.len(),
        clients: sqlx::query_scalar("SELECT COUNT(*) FROM client")
            .fetch_one(&db.pool)
            .await?,
    })
}

async fn unchanged(db: &ServerDb, before: &Snapshot, what: &str) -> anyhow::Result<()> {
    let now = snapshot(db).await?;
    ensure!(
        now == *before,
        "{what} changed the database: {:?}; counts {:?} → {:?}",
        diff(&before.entities, &now.entities),
        (before.mutation_audit, before.rejections, before.clients),
        (now.mutation_audit, now.rejections, now.clients)
    );
    Ok(())
}

/// Checks `res` is `status` with the JSON error shape, and returns the body.
async fn json_error(res: reqwest::Response, status: u16, what: &str) -> anyhow::Result<Value> {
    let got = res.status().as_u16();
    let content_type = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = res.text().await?;
    ensure!(got == status, "{what}: expected {status}, got {got} {text}");
    check_error_shape(&content_type, &text, what)
}

fn check_error_shape(content_type: &str, text: &str, what: &str) -> anyhow::Result<Value> {
    ensure!(
        content_type.starts_with("application/json"),
        "{what}: the error is {content_type:?}, not JSON: {text}"
    );
    let body: Value = serde_json::from_str(text).with_context(|| format!("{what}: {text}"))?;
    let code = body["error"].as_str().unwrap_or_default();
    let message = body["message"].as_str().unwrap_or_default();
    ensure!(
        !code.is_empty() && !message.is_empty(),
        "{what}: not the error shape: {text}"
    );
    ensure!(code != "internal", "{what}: a fault: {text}");
    Ok(body)
}

/// POSTs raw bytes as JSON (or as `content_type`) with the session's cookie and CSRF header.
async fn post_bytes(
    session: &Session,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> anyhow::Result<reqwest::Response> {
    Ok(session
        .api
        .http
        .post(format!("{}{path}", session.api.base))
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await?)
}

/// Splits a raw HTTP/1.1 answer into status, content type and body.
fn parse_response(bytes: &[u8]) -> anyhow::Result<(u16, String, String)> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status line: {head}"))?;
    let content_type = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default();
    Ok((status, content_type, body.to_string()))
}

/// POSTs an oversized JSON body over plain TCP, announcing its whole length but sending only a
/// little more than the limit. The server must answer 413 as soon as the limit is passed, not
/// wait for the rest; and since it has read everything sent, it closes the connection cleanly
/// (a reset, which unread data would cause, can destroy the answer before the client reads it).
async fn raw_post(
    server: &Server,
    session: &Session,
    path: &str,
    body: Vec<u8>,
) -> anyhow::Result<(u16, String, String)> {
    let addr = server.addr()?;
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         X-Reformboard: 1\r\nCookie: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        session.cookie_header()?,
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    let sent = body.len().min(body_limit(path) + 64 * 1024);
    stream
        .write_all(body.get(..sent).unwrap_or_default())
        .await?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .with_context(|| format!("POST {path}: no answer within 30 s of passing the limit"))??;
    parse_response(&answer).with_context(|| format!("POST {path}"))
}

/// The largest body `path` takes: a pull's is far smaller than the rest's.
fn body_limit(path: &str) -> usize {
    if path == "/api/sync/pull" {
        backend::sync::PULL_MAX_BODY
    } else {
        backend::app::MAX_BODY
    }
}

async fn healthy(server: &Server) -> anyhow::Result<()> {
    let res = server.client().get("/api/health").await?;
    ensure!(
        res.status().is_success(),
        "/api/health answered {}",
        res.status()
    );
    Ok(())
}

/// A valid push of one card on item 4, as JSON, to break in different ways.
fn valid_push(fx: &Fixture, title: &str) -> anyhow::Result<Value> {
    let m = Mutation::CreateTask {
        id: TaskId::new_v7(),
        item: fx.item4.id,
        title: title.into(),
        owner: fx.lead.me.unit,
        column: Column::NotStarted,
        sort_key: sort_key::between(None, None),
        due: None,
        at: AT,
    };
    let req = push_request(
        ClientGroupId::new_v7(),
        vec![PendingMutation {
            client_id: ClientId::new_v7(),
            id: 1,
            mutation: m,
        }],
    );
    Ok(serde_json::to_value(req)?)
}

async fn malformed_and_deeply_nested_json_get_a_json_400(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let before = snapshot(&fx.db).await?;
    let nested_arrays = "[".repeat(100_000);
    let nested_objects = "{\"a\":".repeat(100_000);
    let deep_in_a_push = format!(
        "{{\"protocol\":1,\"client_group\":\"{}\",\"mutations\":{}",
        ClientGroupId::new_v7(),
        "[".repeat(50_000)
    );
    let bodies: Vec<(&str, String)> = vec![
        ("empty body", String::new()),
        ("truncated object", "{\"protocol\":".into()),
        ("not JSON", "hello".into()),
        ("trailing garbage", format!("{}xyz", valid_push(&fx, "t")?)),
        ("null", "null".into()),
        ("an array", "[]".into()),
        ("a single quote string", "{'protocol': 1}".into()),
        ("100k [", nested_arrays),
        ("100k {\"a\":", nested_objects),
        ("50k [ inside a push", deep_in_a_push),
    ];
    for path in [
        "/api/sync/push",
        "/api/sync/pull",
        "/api/auth/login",
        "/api/auth/password",
    ] {
        for (what, body) in &bodies {
            // A pull has far less room (`sync::PULL_MAX_BODY`): past it, too large, answered
            // before the rest is read (over plain TCP, as the other 413s are checked).
            if body.len() > body_limit(path) {
                let (status, content_type, text) =
                    raw_post(&fx.server, &fx.lead, path, body.clone().into_bytes()).await?;
                let what = format!("{path} with {what}");
                ensure!(status == 413, "{what}: {status} {text}");
                check_error_shape(&content_type, &text, &what)?;
                continue;
            }
            let res = post_bytes(
                &fx.lead,
                path,
                "application/json",
                body.clone().into_bytes(),
            )
            .await?;
            json_error(res, 400, &format!("{path} with {what}")).await?;
        }
    }
    healthy(&fx.server).await?;
    unchanged(&fx.db, &before, "malformed JSON").await
}

/// Breaks one field of a valid push.
type Breaker = fn(&mut Value);

async fn wrong_types_get_a_json_400(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let before = snapshot(&fx.db).await?;
    // Each entry breaks one field of an otherwise valid push.
    let breakers: Vec<(&str, Breaker)> = vec![
        ("protocol as a string", |v| v["protocol"] = json!("1")),
        ("negative protocol", |v| v["protocol"] = json!(-1)),
        ("client_group not a uuid", |v| {
            v["client_group"] = json!("not-a-uuid")
        }),
        ("mutations as an object", |v| v["mutations"] = json!({})),
        ("mutation id negative", |v| {
            v["mutations"][0]["id"] = json!(-5)
        }),
        ("mutation id a float", |v| {
            v["mutations"][0]["id"] = json!(1.5)
        }),
        ("mutation id past u64", |v| {
            v["mutations"][0]["id"] = json!(1e30)
        }),
        ("client_id a number", |v| {
            v["mutations"][0]["client_id"] = json!(7)
        }),
        ("title a number", |v| {
            v["mutations"][0]["mutation"]["args"]["title"] = json!(42)
        }),
        ("title an object", |v| {
            v["mutations"][0]["mutation"]["args"]["title"] = json!({"x": 1})
        }),
        ("column unknown", |v| {
            v["mutations"][0]["mutation"]["args"]["column"] = json!("trash")
        }),
        ("due not a date", |v| {
            v["mutations"][0]["mutation"]["args"]["due"] = json!("2014-13-45")
        }),
        ("at a string", |v| {
            v["mutations"][0]["mutation"]["args"]["at"] = json!("now")
        }),
        ("args missing", |v| {
            v["mutations"][0]["mutation"] = json!({"type": "create_task"})
        }),
        ("item null", |v| {
            v["mutations"][0]["mutation"]["args"]["item"] = Value::Null
        }),
    ];
    for (what, breaker) in breakers {
        let mut body = valid_push(&fx, "类型错误")?;
        breaker(&mut body);
        let res = fx.lead.api.post("/api/sync/push", &body).await?;
        json_error(res, 400, &format!("push with {what}")).await?;
    }
    // Progress is a u8: 300 and -1 don't decode.
    for progress in [json!(300), json!(-1), json!("50")] {
        let body = json!({
            "protocol": shared::sync::PROTOCOL_VERSION,
            "client_group": ClientGroupId::new_v7(),
            "mutations": [{"client_id": ClientId::new_v7(), "id": 1, "mutation": {
                "type": "set_task_progress",
                "args": {"task": TaskId::new_v7(), "progress": progress, "at": 0}}}],
        });
        let res = fx.lead.api.post("/api/sync/push", &body).await?;
        json_error(res, 400, &format!("progress {progress}")).await?;
    }
    // The other endpoints, too.
    let res = fx
        .lead
        .api
        .post("/api/auth/login", &json!({"username": 1, "password": []}))
        .await?;
    json_error(res, 400, "login with numbers").await?;
    let res = fx
        .lead
        .api
        .post("/api/sync/pull", &json!({"protocol": 1, "client_group": 5}))
        .await?;
    json_error(res, 400, "pull with a numeric group").await?;
    let res = fx
        .office
        .api
        .post(
            &format!("/api/users/{}/role", fx.lead.me.id),
            &json!({"role": "god", "unit": "x"}),
        )
        .await?;
    json_error(res, 400, "set_role with an unknown role").await?;
    // Query strings: a number that is not one.
    let res = fx.office.api.get("/api/audit?limit=lots").await?;
    json_error(res, 400, "audit with limit=lots").await?;
    let res = fx
        .office
        .api
        .get("/api/audit?from=99999999999999999999999")
        .await?;
    json_error(res, 400, "audit with an overflowing from").await?;
    healthy(&fx.server).await?;
    unchanged(&fx.db, &before, "wrong types").await
}

async fn huge_strings_and_bodies_are_refused_without_a_fault(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let before = snapshot(&fx.db).await?;
    // A 10 MB title: the body limit (2 MB) answers before anything is decoded.
    let body = valid_push(&fx, &"长".repeat(10 * 1024 * 1024 / 3))?;
    let (status, content_type, text) = raw_post(
        &fx.server,
        &fx.lead,
        "/api/sync/push",
        serde_json::to_vec(&body)?,
    )
    .await?;
    ensure!(status == 413, "push with a 10 MB title: {status} {text}");
    check_error_shape(&content_type, &text, "push with a 10 MB title")?;
    // Over the limit by a little, and way over, on every JSON endpoint; also a body that is
    // valid JSON padding only.
    let just_over = format!("{{\"x\":\"{}\"}}", "a".repeat(backend::app::MAX_BODY));
    let padded = format!("{}{}", " ".repeat(backend::app::MAX_BODY + 1), "{}");
    for path in [
        "/api/sync/push",
        "/api/sync/pull",
        "/api/auth/login",
        "/api/users",
    ] {
        for (what, body) in [("just over", &just_over), ("whitespace", &padded)] {
            let (status, content_type, text) =
                raw_post(&fx.server, &fx.office, path, body.clone().into_bytes()).await?;
            let what = format!("{path} {what} the limit");
            ensure!(status == 413, "{what}: {status} {text}");
            check_error_shape(&content_type, &text, &what)?;
        }
    }
    // A pull is read before its session is checked, so it gets far less room.
    let pull_over = format!("{{\"x\":\"{}\"}}", "a".repeat(backend::sync::PULL_MAX_BODY));
    let (status, content_type, text) = raw_post(
        &fx.server,
        &fx.office,
        "/api/sync/pull",
        pull_over.into_bytes(),
    )
    .await?;
    ensure!(status == 413, "a pull just over its limit: {status} {text}");
    check_error_shape(&content_type, &text, "a pull just over its limit")?;
    unchanged(&fx.db, &before, "oversized bodies").await?;

    // A 300-character title fits in the body but not in a title: a rejected mutation with its
    // reason, the last id advanced, no card.
    let body = valid_push(&fx, &"题".repeat(300))?;
    let client = body["mutations"][0]["client_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let res = fx.lead.api.post("/api/sync/push", &body).await?;
    ensure!(
        res.status() == 200,
        "a long title is a rejected mutation, not {}",
        res.status()
    );
    let res: shared::sync::PushResponse = res.json().await?;
    match &res.results[..] {
        [r] => match &r.outcome {
            Outcome::Rejected { reason } => {
                ensure!(reason.to_string().contains("过长"), "reason: {reason}");
            }
            other => anyhow::bail!("a 300-character title was {other:?}"),
        },
        other => anyhow::bail!("one result expected: {other:?}"),
    }
    ensure!(
        fx.db.entities().await? == before.entities,
        "no card from a too-long title"
    );
    ensure!(
        fx.db
            .rejections()
            .await?
            .keys()
            .any(|(c, id)| *c == client && *id == 1),
        "recorded"
    );
    // Too long comments and usernames get the same treatment.
    let comment = Mutation::AddComment {
        id: CommentId::new_v7(),
        item: fx.item4.id,
        task: None,
        body: "评".repeat(50_000),
        at: AT,
    };
    let req = push_request(
        ClientGroupId::new_v7(),
        vec![PendingMutation {
            client_id: ClientId::new_v7(),
            id: 1,
            mutation: comment,
        }],
    );
    let res = fx.lead.push_ok(&req).await?;
    ensure!(
        matches!(res.results[0].outcome, Outcome::Rejected { .. }),
        "a 50k-character comment: {:?}",
        res.results[0].outcome
    );
    let res = fx
        .lead
        .api
        .post(
            "/api/auth/login",
            &json!({"username": "u".repeat(100_000), "password": "x"}),
        )
        .await?;
    ensure!(
        res.status().is_client_error(),
        "a 100k username: {}",
        res.status()
    );
    // The same with text that does not compress (PostgreSQL indexes a key of at most ~2.7 KB
    // after compression): refused as a wrong login too, and what the throttle stores of the
    // name stays small.
    let random: String = (0..3000)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect();
    let res = fx
        .lead
        .api
        .post(
            "/api/auth/login",
            &json!({"username": random, "password": "x"}),
        )
        .await?;
    ensure!(
        res.status().is_client_error(),
        "a 96k username of random letters: {}",
        res.status()
    );
    let longest: Option<i64> = sqlx::query_scalar("SELECT MAX(LENGTH(key)) FROM login_failures")
        .fetch_one(&fx.db.pool)
        .await?;
    ensure!(
        longest.is_some_and(|n| n <= 100),
        "the throttle stored a key of {longest:?} characters"
    );
    let res = fx
        .office
        .api
        .post(
            "/api/users",
            &json!({"username": "x".repeat(500), "display_name": "y".repeat(5000),
            "unit": fx.lead.me.unit, "role": "unit", "password": "p".repeat(100_000)}),
        )
        .await?;
    json_error(res, 400, "create_user with huge fields").await?;
    let long_key = format!("/api/history/task/{}", "k".repeat(16_000));
    let (status, _, _) = raw_get(&fx.server, &fx.office, "GET", &long_key).await?;
    ensure!(status < 500, "a 16k-character history key: {status}");
    healthy(&fx.server).await?;
    Ok(())
}

async fn invalid_utf8_and_nul_bytes_are_refused_or_cleaned(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let before = snapshot(&fx.db).await?;
    // Invalid UTF-8 inside a JSON string, and a lone surrogate escape.
    let valid = valid_push(&fx, "TITLE")?.to_string();
    let mut bytes = valid.replace("TITLE", "ab\u{1}").into_bytes();
    if let Some(pos) = bytes.iter().position(|&b| b == 1) {
        bytes.splice(pos..=pos, [0xff, 0xfe, 0xc3]);
    }
    let res = post_bytes(&fx.lead, "/api/sync/push", "application/json", bytes).await?;
    json_error(res, 400, "push with invalid UTF-8").await?;
    let surrogate = valid.replace("TITLE", "\\ud800");
    let res = post_bytes(
        &fx.lead,
        "/api/sync/push",
        "application/json",
        surrogate.into_bytes(),
    )
    .await?;
    json_error(res, 400, "push with a lone surrogate").await?;
    let res = post_bytes(
        &fx.lead,
        "/api/auth/login",
        "application/json",
        b"{\"username\":\"\xff\xff\",\"password\":\"x\"}".to_vec(),
    )
    .await?;
    json_error(res, 400, "login with invalid UTF-8").await?;
    // Invalid UTF-8 in a path segment and in a query string.
    let res = fx.office.api.get("/api/history/task%2F%FF%FE").await?;
    json_error(res, 400, "history key with invalid UTF-8").await?;
    // Query strings are decoded lossily (U+FFFD): a filter that matches nothing, or a 400.
    let res = fx.office.api.get("/api/audit?action=%FF").await?;
    let status = res.status().as_u16();
    ensure!(
        status == 200 || status == 400,
        "audit filter with invalid UTF-8: {status}"
    );
    if status == 400 {
        json_error(res, 400, "audit filter with invalid UTF-8").await?;
    }
    let res = fx
        .office
        .api
        .post("/api/users/%FF/disable", &json!({}))
        .await?;
    let status = res.status().as_u16();
    ensure!(
        (400..500).contains(&status),
        "user id with invalid UTF-8: {status}"
    );
    json_error(res, status, "user id with invalid UTF-8").await?;
    unchanged(&fx.db, &before, "invalid UTF-8").await?;

    // NUL bytes where PostgreSQL's text can't hold them: a username, audit filters, a history
    // key, a user id. Each is a client error, never a database fault.
    let res = fx
        .lead
        .api
        .post(
            "/api/auth/login",
            &json!({"username": "off\u{0}ice", "password": "demo1234"}),
        )
        .await?;
    // The same answer as any wrong login, on either database.
    let body = json_error(res, 403, "login with a NUL").await?;
    let wrong = fx
        .server
        .client()
        .post(
            "/api/auth/login",
            &json!({"username": "nobody", "password": "x"}),
        )
        .await?;
    let wrong = json_error(wrong, 403, "a wrong login").await?;
    ensure!(
        body == wrong,
        "login with a NUL: {body}, a wrong login: {wrong}"
    );
    for path in [
        "/api/audit?action=login%00",
        "/api/audit?entity=task%2F%00",
        "/api/audit?user=%00",
        "/api/audit?category=%00",
        "/api/history/task%2F%00",
        "/api/audit.csv?action=%00",
    ] {
        let res = fx.office.api.get(path).await?;
        let status = res.status().as_u16();
        ensure!(
            status == 200 || (400..500).contains(&status),
            "{path}: {status}"
        );
        if status != 200 {
            json_error(res, status, path).await?;
        }
    }
    for path in ["/api/users/%00/disable", "/api/users/a%00b/enable"] {
        let res = fx.office.api.post(path, &json!({})).await?;
        let status = res.status().as_u16();
        json_error(res, status, path).await?;
        ensure!((400..500).contains(&status), "{path}: {status}");
    }
    let res = fx
        .office
        .api
        .post(
            "/api/users",
            &json!({"username": "nul\u{0}user", "display_name": "N\u{0}",
            "unit": fx.lead.me.unit, "role": "unit", "password": "long-enough-password-1"}),
        )
        .await?;
    json_error(res, 400, "create_user with a NUL username").await?;
    unchanged(&fx.db, &before, "NUL bytes").await?;

    // In board text a NUL is cleaned out, as any control character, and the rest is kept.
    let body = valid_push(&fx, "零\u{0}字节")?;
    let res: shared::sync::PushResponse = fx.lead.api.post_json("/api/sync/push", &body).await?;
    ensure!(
        matches!(res.results[0].outcome, Outcome::Applied),
        "{:?}",
        res.results[0].outcome
    );
    let view = fx.lead.server_view().await?;
    let titles: Vec<String> = view.tasks().map(|t| t.title.clone()).collect();
    ensure!(
        titles.iter().any(|t| t == "零字节"),
        "the NUL is dropped: {titles:?}"
    );
    // A NUL in a sort key is not a sort key.
    let body = json!({
        "protocol": shared::sync::PROTOCOL_VERSION,
        "client_group": ClientGroupId::new_v7(),
        "mutations": [{"client_id": ClientId::new_v7(), "id": 1, "mutation": {
            "type": "create_task",
            "args": {"id": TaskId::new_v7(), "item": fx.item4.id, "title": "排序", "owner": fx.lead.me.unit,
                     "column": "not_started", "sort_key": "a\u{0}", "due": null, "at": 0}}}],
    });
    let res = fx.lead.api.post("/api/sync/push", &body).await?;
    let status = res.status();
    let text = res.text().await?;
    ensure!(
        status == 200 || status == 400,
        "sort key with a NUL: {status} {text}"
    );
    if status == 200 {
        ensure!(
            text.contains("rejected"),
            "a NUL sort key is refused: {text}"
        );
    }
    healthy(&fx.server).await
}

async fn ids_of_nothing_are_refused(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let before = snapshot(&fx.db).await?;
    let ghost_task = TaskId::new_v7();
    let mutations = vec![
        Mutation::SetTaskTitle {
            task: ghost_task,
            title: "幽灵".into(),
            at: AT,
        },
        Mutation::MoveTask {
            task: ghost_task,
            column: Column::Done,
            sort_key: sort_key::between(None, None),
            at: AT,
        },
        Mutation::SetTaskProgress {
            task: ghost_task,
            progress: 50,
            at: AT,
        },
        Mutation::ArchiveTask {
            task: ghost_task,
            at: AT,
        },
        Mutation::CreateTask {
            id: TaskId::new_v7(),
            item: ItemId::new_v7(),
            title: "无此事项".into(),
            owner: fx.lead.me.unit,
            column: Column::NotStarted,
            sort_key: sort_key::between(None, None),
            due: None,
            at: AT,
        },
        Mutation::AddComment {
            id: CommentId::new_v7(),
            item: ItemId::new_v7(),
            task: None,
            body: "x".into(),
            at: AT,
        },
        Mutation::AddComment {
            id: CommentId::new_v7(),
            item: fx.item4.id,
            task: Some(ghost_task),
            body: "x".into(),
            at: AT,
        },
    ];
    let client = ClientId::new_v7();
    let n = mutations.len();
    let pending = mutations
        .into_iter()
        .zip(1u64..)
        .map(|(mutation, id)| PendingMutation {
            client_id: client,
            id,
            mutation,
        })
        .collect();
    let res = fx
        .lead
        .push_ok(&push_request(ClientGroupId::new_v7(), pending))
        .await?;
    ensure!(res.results.len() == n, "one result each");
    for r in &res.results {
        ensure!(
            matches!(r.outcome, Outcome::Rejected { .. }),
            "mutation {} on nothing: {:?}",
            r.id,
            r.outcome
        );
    }
    ensure!(
        fx.db.entities().await? == before.entities,
        "nothing was created or changed"
    );
    // One change naming tens of thousands of units that don't exist (more than one statement
    // can bind on PostgreSQL, read all at once): refused like the others, not a fault.
    let crowd = Mutation::CoordinateDifficulty(shared::difficulty::Coordinate {
        id: DifficultyId::new_v7(),
        units: (0..40_000).map(|_| UnitId::new_v7()).collect(),
        note: "x".into(),
        at: AT,
    });
    let pending = vec![PendingMutation {
        client_id: ClientId::new_v7(),
        id: 1,
        mutation: crowd,
    }];
    let res = fx
        .office
        .push_ok(&push_request(ClientGroupId::new_v7(), pending))
        .await?;
    ensure!(
        matches!(res.results.as_slice(), [r] if matches!(r.outcome, Outcome::Rejected { .. })),
        "a coordination of 40,000 units that don't exist: {:?}",
        res.results.first().map(|r| &r.outcome)
    );
    // Accounts that don't exist, by well-formed and malformed ids.
    for id in [
        uuid::Uuid::now_v7().to_string(),
        "nobody".into(),
        "../admin".replace('/', "%2F"),
    ] {
        for action in ["disable", "enable"] {
            let res = fx
                .office
                .api
                .post(&format!("/api/users/{id}/{action}"), &json!({}))
                .await?;
            json_error(res, 404, &format!("{action} {id}")).await?;
        }
        let res = fx
            .office
            .api
            .post(
                &format!("/api/users/{id}/password"),
                &json!({"password": "long-enough-password-1"}),
            )
            .await?;
        json_error(res, 404, &format!("reset password of {id}")).await?;
    }
    // A pull for a client group nobody has used is a fresh start, not an error.
    let res = fx
        .lead
        .pull_ok(&pull_request(ClientGroupId::new_v7(), None))
        .await?;
    ensure!(res.reset, "a new group starts with a reset");
    healthy(&fx.server).await
}

/// The server process's resident memory in kB, found by its data directory on its command line.
fn server_rss_kb(server: &Server) -> anyhow::Result<u64> {
    let dir = server.data_path().to_string_lossy().to_string();
    for entry in std::fs::read_dir("/proc")? {
        let path = entry?.path();
        let Ok(cmdline) = std::fs::read(path.join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.iter().any(|a| a == "serve") && args.contains(&dir) {
            let status = std::fs::read_to_string(path.join("status"))?;
            let rss = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .context("no VmRSS")?;
            return Ok(rss);
        }
    }
    anyhow::bail!("no server process for {dir}")
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_socket(session: &Session) -> anyhow::Result<Socket> {
    let url = format!(
        "{}/api/sync/ws",
        session.api.base.replacen("http://", "ws://", 1)
    );
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("cookie", HeaderValue::from_str(&session.cookie_header()?)?);
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}

/// Whether the server ends the socket within `timeout` (a Close frame, an error or the end).
async fn closed_within(ws: &mut Socket, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_)) | Some(Ok(tungstenite::Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

async fn a_websocket_flood_is_drained_and_oversized_frames_close_the_socket(
    store: Store,
) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let rss_before = server_rss_kb(&fx.server)?;
    let mut ws = open_socket(&fx.lead).await?;
    let started = std::time::Instant::now();
    // 10,000 messages of 1 kB each (10 MB in all): read and dropped as they come.
    let filler = "洪".repeat(300);
    for i in 0..10_000 {
        ws.feed(tungstenite::Message::Text(format!("{i}{filler}").into()))
            .await?;
        if i % 500 == 0 {
            ws.flush().await?;
        }
    }
    ws.flush().await?;
    eprintln!("flooded 10,000 messages in {:?}", started.elapsed());
    healthy(&fx.server).await?;
    // The flooded socket still carries pokes: a change on item 4 reaches it.
    let body = valid_push(&fx, "洪水之后")?;
    let res: shared::sync::PushResponse = fx.lead.api.post_json("/api/sync/push", &body).await?;
    ensure!(
        matches!(res.results[0].outcome, Outcome::Applied),
        "{:?}",
        res.results[0].outcome
    );
    let space = shared::entity::Space::Item(fx.item4.id).to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .context("no poke on the flooded socket within 10 s")?
            .context("the flooded socket closed")??;
        if let tungstenite::Message::Text(t) = msg
            && t.as_str().contains(&space)
        {
            break;
        }
    }
    // Frames and messages over the 4 kB limit end the socket, text or binary, whole or in pieces.
    let oversized = [
        tungstenite::Message::Text("大".repeat(400_000).into()),
        tungstenite::Message::Binary(vec![0u8; 1024 * 1024].into()),
        tungstenite::Message::Binary(vec![7u8; 8 * 1024].into()),
    ];
    for msg in oversized {
        let mut ws = open_socket(&fx.lead).await?;
        // The server may hang up mid-send; that is the point, not a failure.
        let _ = ws.send(msg).await;
        ensure!(
            closed_within(&mut ws, Duration::from_secs(10)).await,
            "an oversized message left the socket open"
        );
    }
    // Many sockets at once, each flooded a little, then dropped.
    let mut sockets = Vec::new();
    for _ in 0..50 {
        let mut ws = open_socket(&fx.lead).await?;
        for _ in 0..100 {
            ws.feed(tungstenite::Message::Text(filler.clone().into()))
                .await?;
        }
        ws.flush().await?;
        sockets.push(ws);
    }
    drop(sockets);
    healthy(&fx.server).await?;
    let rss_after = server_rss_kb(&fx.server)?;
    eprintln!("server RSS {rss_before} kB before the flood, {rss_after} kB after");
    ensure!(
        rss_after < rss_before + 64 * 1024,
        "memory grew by {} kB under the flood",
        rss_after.saturating_sub(rss_before)
    );
    // Without a session there is no socket at all.
    let url = format!(
        "{}/api/sync/ws",
        fx.server.url.replacen("http://", "ws://", 1)
    );
    ensure!(
        tokio_tungstenite::connect_async(url).await.is_err(),
        "an anonymous socket was opened"
    );
    // A plain GET of the socket's URL (no upgrade) is a client error in JSON.
    let res = fx.lead.api.get("/api/sync/ws").await?;
    let status = res.status().as_u16();
    json_error(res, status, "GET /api/sync/ws without an upgrade").await?;
    ensure!((400..500).contains(&status), "no upgrade: {status}");
    Ok(())
}

/// Sends `request_line` as written (no URL normalization) with the session's cookie and reads
/// the whole response: (status, content type, body).
async fn raw_get(
    server: &Server,
    session: &Session,
    method: &str,
    target: &str,
) -> anyhow::Result<(u16, String, String)> {
    let mut stream = tokio::net::TcpStream::connect(server.addr()?).await?;
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nX-Reformboard: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        server.addr()?,
        session.cookie_header()?
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await??;
    parse_response(&buf)
}

async fn traversal_and_odd_paths_never_escape_or_fault(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let secret = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let secret_line = secret.lines().next().unwrap_or("root:x:0:0");
    let targets = [
        "/api/../../etc/passwd",
        "/api/%2e%2e/%2e%2e/etc/passwd",
        "/api/history/..%2f..%2fetc%2fpasswd",
        "/api/history/../../../etc/passwd",
        "/api/history/task/..%2f..%2f..%2fetc%2fpasswd",
        "/api/history/%2e%2e",
        "/api/history/",
        "/api/history",
        "/api//health",
        "/api/health/",
        "/api/%00",
        "/api/history/task%2F%00",
        "/api/audit?entity=..%2F..%2Fetc%2Fpasswd&limit=-1&offset=-5",
        "/api/audit?limit=999999999999&offset=999999999999",
        "/api/audit?category=%27%3B%20DROP%20TABLE%20audit%3B--",
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "/pkg/../../../../etc/passwd",
        "/pkg/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/..%5c..%5cetc%5cpasswd",
        "//etc/passwd",
        "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
        "/index.html%00.js",
        "/%ff%fe",
        "/api/%ff",
        "http://evil.example/api/health",
        "*",
    ];
    for target in targets {
        let (status, content_type, body) = raw_get(&fx.server, &fx.office, "GET", target).await?;
        ensure!(status < 500, "GET {target}: {status} {body}");
        ensure!(
            !body.contains(secret_line) && !body.contains("root:x:0:0"),
            "GET {target} served /etc/passwd"
        );
        if target.starts_with("/api/") && !(200..300).contains(&status) {
            check_error_shape(&content_type, &body, target)?;
        }
        eprintln!("GET {target} → {status}");
    }
    // Unknown API paths are a JSON 404, not the app's index.html.
    for target in [
        "/api/nope",
        "/api/sync",
        "/api/users/x/y/z",
        "/api/.env",
        "/api/../api/plan",
    ] {
        let (status, content_type, body) = raw_get(&fx.server, &fx.office, "GET", target).await?;
        ensure!(
            status == 404 || (target == "/api/../api/plan" && status < 500),
            "GET {target}: {status}"
        );
        if status == 404 {
            check_error_shape(&content_type, &body, target)?;
        }
    }
    healthy(&fx.server).await
}

async fn methods_a_route_lacks_get_a_json_405(store: Store) -> anyhow::Result<()> {
    let fx = fixture(store).await?;
    let before = snapshot(&fx.db).await?;
    let cases = [
        ("DELETE", "/api/sync/push"),
        ("GET", "/api/sync/push"),
        ("PUT", "/api/sync/pull"),
        ("PUT", "/api/auth/login"),
        ("GET", "/api/auth/logout"),
        ("PATCH", "/api/users"),
        ("DELETE", "/api/plan"),
        ("POST", "/api/plan"),
        ("POST", "/api/health"),
        ("POST", "/api/audit"),
        ("DELETE", "/api/users/x/disable"),
        ("PUT", "/api/history/task/x"),
        ("TRACE", "/api/plan"),
        ("FROB", "/api/plan"),
    ];
    for (method, path) in cases {
        let (status, content_type, body) = raw_get(&fx.server, &fx.office, method, path).await?;
        ensure!(status == 405, "{method} {path}: {status} {body}");
        check_error_shape(&content_type, &body, &format!("{method} {path}"))?;
    }
    // Through reqwest as well, to see the Allow header.
    let res = fx
        .office
        .api
        .http
        .delete(format!("{}/api/sync/push", fx.server.url))
        .send()
        .await?;
    ensure!(
        res.headers().get("allow").is_some(),
        "a 405 says what is allowed"
    );
    json_error(res, 405, "DELETE /api/sync/push").await?;
    // A method the app shell doesn't have.
    let (status, _, _) = raw_get(&fx.server, &fx.office, "DELETE", "/index.html").await?;
    ensure!(status < 500, "DELETE /index.html: {status}");
    unchanged(&fx.db, &before, "wrong methods").await?;
    healthy(&fx.server).await
}
