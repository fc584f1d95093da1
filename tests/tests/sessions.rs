//! Sessions and the security baseline, against the real server: a fresh session id at every
//! login (fixation), idle and absolute expiry, logout here and everywhere, disabled accounts,
//! forced password changes, login throttling without user enumeration, CSRF, security headers,
//! body limits, and the audit trail of all of it (filtered view and CSV export).

use anyhow::{Context, bail, ensure};
use e2e::sync_client::ServerDb;
use e2e::{Api, DEMO_PASSWORD, Server, ServerOptions, Store};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

const LOGIN_FAILED: &str = "用户名或密码错误";

async fn start(store: Store) -> anyhow::Result<Server> {
    Server::start(ServerOptions {
        store,
        ..Default::default()
    })
    .await
}

/// A client without a cookie jar: every cookie is sent by hand, so the test sees exactly which.
fn bare_client() -> anyhow::Result<reqwest::Client> {
    bare_client_from(None)
}

/// `bare_client` connecting from `local` (another loopback address, another client to the
/// login throttle).
fn bare_client_from(local: Option<std::net::IpAddr>) -> anyhow::Result<reqwest::Client> {
    let mut headers = HeaderMap::new();
    headers.insert("x-reformboard", HeaderValue::from_static("1"));
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .local_address(local)
        .build()?)
}

/// The session token a response sets, if any.
fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix("rb_session=")?
                .split(';')
                .next()
                .map(String::from)
        })
}

async fn login_raw(
    server: &Server,
    cookie: Option<&str>,
    username: &str,
    password: &str,
) -> anyhow::Result<reqwest::Response> {
    let mut req = bare_client()?
        .post(format!("{}/api/auth/login", server.url))
        .json(&json!({ "username": username, "password": password }));
    if let Some(token) = cookie {
        req = req.header("cookie", format!("rb_session={token}"));
    }
    Ok(req.send().await?)
}

/// `GET path` with only this session token.
async fn get_as(server: &Server, token: &str, path: &str) -> anyhow::Result<StatusCode> {
    let res = bare_client()?
        .get(format!("{}{path}", server.url))
        .header("cookie", format!("rb_session={token}"))
        .send()
        .await?;
    Ok(res.status())
}

async fn message(res: reqwest::Response) -> anyhow::Result<String> {
    let body: Value = res.json().await?;
    body["message"]
        .as_str()
        .map(String::from)
        .context("error has a message")
}

async fn user_id(office: &Api, username: &str) -> anyhow::Result<String> {
    let users: Vec<Value> = office.get_json("/api/users").await?;
    users
        .iter()
        .find(|u| u["username"] == username)
        .and_then(|u| u["id"].as_str())
        .map(String::from)
        .with_context(|| format!("no user {username}"))
}

/// Session fixation: a token the browser brings to the login is never the one signed in; every
/// login sets a new one and ends the one presented.
#[tokio::test]
async fn login_always_issues_a_new_session_id() -> anyhow::Result<()> {
    let server = start(Store::Sqlite).await?;
    let planted = "ab".repeat(32);
    let res = login_raw(&server, Some(&planted), "unit01", DEMO_PASSWORD).await?;
    ensure!(res.status() == 200, "login: {}", res.status());
    let first = session_cookie(&res).context("login sets the session cookie")?;
    ensure!(first != planted, "the planted id was kept");
    ensure!(first.len() == 64, "a 256-bit token: {first}");
    ensure!(
        get_as(&server, &planted, "/api/auth/me").await? == 401,
        "planted id works"
    );
    ensure!(get_as(&server, &first, "/api/auth/me").await? == 200);

    // Signing in again from the same browser: a new id, and the old one is dead.
    let res = login_raw(&server, Some(&first), "unit01", DEMO_PASSWORD).await?;
    let second = session_cookie(&res).context("second login sets a cookie")?;
    ensure!(second != first, "the same id after a second login");
    ensure!(
        get_as(&server, &first, "/api/auth/me").await? == 401,
        "old id survived login"
    );
    ensure!(get_as(&server, &second, "/api/auth/me").await? == 200);

    // The cookie's attributes.
    let res = login_raw(&server, None, "unit02", DEMO_PASSWORD).await?;
    let set = res
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .context("set-cookie")?
        .to_string();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        ensure!(set.contains(attr), "cookie lacks {attr}: {set}");
    }
    ensure!(
        !set.contains("Secure"),
        "Secure is for HTTPS (a setting): {set}"
    );
    Ok(())
}

/// Idle and absolute expiry, by ageing the stored session: past the limit it answers 401 and is
/// gone (and the expiry is audited); within it, use keeps it alive.
async fn expiry(store: Store) -> anyhow::Result<()> {
    let server = start(store).await?;
    let db = ServerDb::open(&server).await?;
    let limits = backend::auth::session::SessionLimits::default();
    let hour = 3_600_000i64;

    let idle = server.login("unit03").await?;
    let absolute = server.login("unit04").await?;
    let alive = server.login("unit05").await?;
    let age = |column, user, by| age_sessions(&db, column, user, by);
    // Idle: unused for longer than the idle limit.
    age("last_seen_at", "unit03", limits.idle_ms + hour).await?;
    // Absolute: created longer ago than the absolute limit, though used a minute ago.
    age("created_at", "unit04", limits.absolute_ms + hour).await?;
    // Unused for a while, but within the idle limit: still good.
    age("last_seen_at", "unit05", limits.idle_ms - hour).await?;

    ensure!(
        idle.get("/api/auth/me").await?.status() == 401,
        "idle session still works"
    );
    ensure!(
        absolute.get("/api/auth/me").await?.status() == 401,
        "old session still works"
    );
    ensure!(
        alive.get("/api/auth/me").await?.status() == 200,
        "live session ended"
    );
    let rows: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE u.username IN ('unit03', 'unit04')",
    )
    .fetch_one(&db.pool)
    .await?;
    ensure!(rows == 0, "expired sessions are deleted, {rows} left");

    // Using a session moves its idle deadline.
    let seen: i64 = sqlx::query_scalar(
        "SELECT s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE u.username = 'unit05'",
    )
    .fetch_one(&db.pool)
    .await?;
    let now = chrono::Utc::now().timestamp_millis();
    ensure!(
        now - seen < 60_000,
        "using the session touched it ({} ms ago)",
        now - seen
    );

    let office = server.login("office").await?;
    let expired: Vec<Value> = office.get_json("/api/audit?action=session_expired").await?;
    let details: Vec<&str> = expired
        .iter()
        .filter_map(|r| r["detail"].as_str())
        .collect();
    ensure!(
        details.contains(&"idle") && details.contains(&"absolute"),
        "{expired:?}"
    );
    // Signing in again just works.
    ensure!(server.login("unit03").await.is_ok());
    Ok(())
}

/// Moves `column` (`last_seen_at` or `created_at`) of every session of `user` back by `by` ms.
async fn age_sessions(
    db: &ServerDb,
    column: &'static str,
    user: &'static str,
    by: i64,
) -> Result<sqlx::any::AnyQueryResult, sqlx::Error> {
    let sql = format!(
        "UPDATE sessions SET {column} = {column} - $1 \
         WHERE user_id = (SELECT id FROM users WHERE username = $2)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(by)
        .bind(user)
        .execute(&db.pool)
        .await
}

/// Pulls are answered in batches, and their sessions are checked with the batch, in one query
/// for all of them: each pull still gets its own answer — alive, due for a touch, ended by
/// idleness or by age, of a disabled account, forced to change its password, never issued.
async fn pulls_check_each_session(store: Store) -> anyhow::Result<()> {
    let server = start(store).await?;
    let db = ServerDb::open(&server).await?;
    let limits = backend::auth::session::SessionLimits::default();
    let hour = 3_600_000i64;
    let office = server.login("office").await?;
    let token = |user: &'static str, password: &'static str| {
        let server = &server;
        async move {
            let res = login_raw(server, None, user, password).await?;
            session_cookie(&res).with_context(|| format!("{user} got no session"))
        }
    };
    let alive = token("unit08", DEMO_PASSWORD).await?;
    let touch = token("unit09", DEMO_PASSWORD).await?;
    let idle = token("unit10", DEMO_PASSWORD).await?;
    let old = token("unit11", DEMO_PASSWORD).await?;
    let disabled = token("unit12", DEMO_PASSWORD).await?;
    age_sessions(&db, "last_seen_at", "unit09", 5 * 60_000).await?;
    age_sessions(&db, "last_seen_at", "unit10", limits.idle_ms + hour).await?;
    age_sessions(&db, "created_at", "unit11", limits.absolute_ms + hour).await?;
    let id = user_id(&office, "unit12").await?;
    let res = office
        .post(&format!("/api/users/{id}/disable"), &json!({}))
        .await?;
    ensure!(res.status() == 204, "disable: {}", res.status());
    let id = user_id(&office, "unit13").await?;
    let res = office
        .post(
            &format!("/api/users/{id}/password"),
            &json!({ "password": "temp-pass-13" }),
        )
        .await?;
    ensure!(res.status() == 204, "reset: {}", res.status());
    let must_change = token("unit13", "temp-pass-13").await?;
    let never_issued = "ab".repeat(32);

    let cases = [
        (&alive, StatusCode::OK),
        (&touch, StatusCode::OK),
        (&idle, StatusCode::UNAUTHORIZED),
        (&old, StatusCode::UNAUTHORIZED),
        (&disabled, StatusCode::UNAUTHORIZED),
        (&must_change, StatusCode::FORBIDDEN),
        (&never_issued, StatusCode::UNAUTHORIZED),
    ];
    // All at once, so that they queue behind one another and are answered together.
    let client = bare_client()?;
    let pulls = cases.iter().map(|(token, _)| {
        let pull = json!({ "protocol": shared::sync::PROTOCOL_VERSION, "client_group": uuid::Uuid::now_v7(), "cookie": null });
        client
            .post(format!("{}/api/sync/pull", server.url))
            .header("cookie", format!("rb_session={token}"))
            .json(&pull)
            .send()
    });
    let answers = futures_util::future::join_all(pulls).await;
    for ((token, want), answer) in cases.iter().zip(answers) {
        let got = answer?.status();
        ensure!(got == *want, "session {token}: {got}, expected {want}");
    }

    let left: Vec<String> = sqlx::query_scalar(
        "SELECT u.username FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE u.username IN ('unit08', 'unit09', 'unit10', 'unit11', 'unit12') \
         ORDER BY u.username",
    )
    .fetch_all(&db.pool)
    .await?;
    ensure!(
        left == ["unit08", "unit09"],
        "only the live sessions are left: {left:?}"
    );
    let seen: i64 = sqlx::query_scalar(
        "SELECT s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE u.username = 'unit09'",
    )
    .fetch_one(&db.pool)
    .await?;
    let now = chrono::Utc::now().timestamp_millis();
    ensure!(now - seen < 60_000, "the pull touched the session");
    let expired: Vec<Value> = office.get_json("/api/audit?action=session_expired").await?;
    ensure!(
        expired.len() == 2,
        "one audit row per ended session: {expired:?}"
    );
    Ok(())
}

#[tokio::test]
async fn pulls_check_each_session_sqlite() -> anyhow::Result<()> {
    pulls_check_each_session(Store::Sqlite).await
}

#[tokio::test]
async fn pulls_check_each_session_postgres() -> anyhow::Result<()> {
    pulls_check_each_session(Store::Postgres).await
}

#[tokio::test]
async fn sessions_expire_sqlite() -> anyhow::Result<()> {
    expiry(Store::Sqlite).await
}

#[tokio::test]
async fn sessions_expire_postgres() -> anyhow::Result<()> {
    expiry(Store::Postgres).await
}

/// Logout ends this session only; logout everywhere ends every session of the user.
#[tokio::test]
async fn logout_here_and_everywhere() -> anyhow::Result<()> {
    let server = start(Store::Sqlite).await?;
    let phone = server.login("leader").await?;
    let desktop = server.login("leader").await?;
    let laptop = server.login("leader").await?;
    let res = phone.post("/api/auth/logout", &json!({})).await?;
    ensure!(res.status() == 204, "logout: {}", res.status());
    let cleared = res
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    ensure!(
        cleared.contains("Max-Age=0"),
        "logout clears the cookie: {cleared}"
    );
    ensure!(phone.get("/api/auth/me").await?.status() == 401);
    ensure!(
        desktop.get("/api/auth/me").await?.status() == 200,
        "logout ended another session"
    );

    // In use, so the server remembers it: logging out elsewhere must still end it at once.
    ensure!(laptop.get("/api/auth/me").await?.status() == 200);
    let res = desktop.logout_everywhere().await?;
    ensure!(res.status() == 204);
    ensure!(desktop.get("/api/auth/me").await?.status() == 401);
    ensure!(
        laptop.get("/api/auth/me").await?.status() == 401,
        "logout everywhere missed one"
    );
    // Signing out twice is not an error.
    ensure!(desktop.post("/api/auth/logout", &json!({})).await?.status() == 204);
    Ok(())
}

/// Disabling an account ends its sessions at once; it can't sign in (and is told nothing more
/// than for a wrong password) until it is enabled again.
async fn disabled_account(store: Store) -> anyhow::Result<()> {
    let server = start(store).await?;
    let office = server.login("office").await?;
    let unit = server.login("unit06").await?;
    let other_tab = server.login("unit06").await?;
    // Both in use, so the server remembers their sessions: disabling must still end them at once.
    ensure!(unit.get("/api/plan").await?.status() == 200);
    ensure!(other_tab.get("/api/auth/me").await?.status() == 200);
    let id = user_id(&office, "unit06").await?;
    let res = office
        .post(&format!("/api/users/{id}/disable"), &json!({}))
        .await?;
    ensure!(res.status() == 204, "disable: {}", res.status());
    for path in ["/api/auth/me", "/api/plan"] {
        ensure!(
            unit.get(path).await?.status() == 401,
            "{path} after disable"
        );
        ensure!(
            other_tab.get(path).await?.status() == 401,
            "{path} in another tab"
        );
    }
    let push = json!({ "protocol": shared::sync::PROTOCOL_VERSION, "client_group": uuid::Uuid::now_v7(), "mutations": [] });
    ensure!(
        unit.post("/api/sync/push", &push).await?.status() == 401,
        "push after disable"
    );
    let res = login_raw(&server, None, "unit06", DEMO_PASSWORD).await?;
    ensure!(
        res.status() == 403,
        "a disabled account signs in: {}",
        res.status()
    );
    ensure!(
        message(res).await? == LOGIN_FAILED,
        "the message must not say 'disabled'"
    );
    // The office can't lock itself out.
    let me: Value = office.get_json("/api/auth/me").await?;
    let own = me["id"].as_str().context("id")?;
    let res = office
        .post(&format!("/api/users/{own}/disable"), &json!({}))
        .await?;
    ensure!(res.status() == 400, "disabling oneself: {}", res.status());

    let res = office
        .post(&format!("/api/users/{id}/enable"), &json!({}))
        .await?;
    ensure!(res.status() == 204);
    ensure!(server.login("unit06").await.is_ok(), "enabled again");
    Ok(())
}

#[tokio::test]
async fn disabled_account_sqlite() -> anyhow::Result<()> {
    disabled_account(Store::Sqlite).await
}

#[tokio::test]
async fn disabled_account_postgres() -> anyhow::Result<()> {
    disabled_account(Store::Postgres).await
}

/// Two processes on one PostgreSQL: a session in use on B (so B remembers it) follows what is
/// done through A — a role change, a language, signing out — well within the time B would
/// otherwise keep its memory (`session_cache::FRESH`): the NOTIFY from A is what reaches it.
#[tokio::test]
async fn sessions_follow_changes_made_through_another_process_postgres() -> anyhow::Result<()> {
    let a = start(Store::Postgres).await?;
    let b = Server::start(ServerOptions {
        store: Store::Postgres,
        database_url: a.database_url.clone(),
        ..Default::default()
    })
    .await?;
    let office = a.login("office").await?;
    let res = login_raw(&a, None, "unit07", DEMO_PASSWORD).await?;
    let token = session_cookie(&res).context("unit07 got no session")?;
    let me_on_b = || async {
        let res = bare_client()?
            .get(format!("{}/api/auth/me", b.url))
            .header("cookie", format!("rb_session={token}"))
            .send()
            .await?;
        let status = res.status();
        let body: Value = if status.is_success() {
            res.json().await?
        } else {
            Value::Null
        };
        anyhow::Ok((status, body))
    };
    let (status, me) = me_on_b().await?;
    ensure!(status == 200, "B serves the session: {status}");
    ensure!(me["role"] == "unit", "{me}");
    let started = std::time::Instant::now();
    let within = backend::auth::session_cache::FRESH / 2;
    // Waits (briefly: NOTIFY takes milliseconds) until B's answer passes `done`.
    let until = |what: &'static str, done: fn(StatusCode, &Value) -> bool| {
        let me_on_b = &me_on_b;
        async move {
            loop {
                let (status, me) = me_on_b().await?;
                if done(status, &me) {
                    return anyhow::Ok(());
                }
                ensure!(
                    started.elapsed() < within,
                    "B still answers {status} {me} after {what} through A"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    };

    let id = user_id(&office, "unit07").await?;
    let leaders = shared::ids::unit_id_for_name(shared::unit::LEADERS_UNIT);
    let res = office
        .post(
            &format!("/api/users/{id}/role"),
            &json!({ "role": "leader", "unit": leaders }),
        )
        .await?;
    ensure!(res.status() == 204, "role: {}", res.status());
    until("a role change", |s, me| s == 200 && me["role"] == "leader").await?;

    let res = bare_client()?
        .post(format!("{}/api/auth/logout", a.url))
        .header("cookie", format!("rb_session={token}"))
        .send()
        .await?;
    ensure!(res.status() == 204, "logout: {}", res.status());
    until("signing out", |s, _| s == 401).await?;
    Ok(())
}

/// The office resets a password: the user's sessions end; the temporary password signs in but
/// every other endpoint answers 403 until the user sets a new one; then all works, and only the
/// new password signs in.
#[tokio::test]
async fn password_reset_forces_a_change() -> anyhow::Result<()> {
    let server = start(Store::Sqlite).await?;
    let office = server.login("office").await?;
    let before = server.login("unit07").await?;
    let id = user_id(&office, "unit07").await?;
    let res = office
        .post(
            &format!("/api/users/{id}/password"),
            &json!({ "password": "temp-pass-77" }),
        )
        .await?;
    ensure!(res.status() == 204, "reset: {}", res.status());
    ensure!(
        before.get("/api/auth/me").await?.status() == 401,
        "old session survived the reset"
    );
    let res = login_raw(&server, None, "unit07", DEMO_PASSWORD).await?;
    ensure!(res.status() == 403, "the old password still works");

    let user = server.client();
    let me = user.login("unit07", "temp-pass-77").await?;
    ensure!(me["must_change_password"] == true, "{me}");
    let me: Value = user.get_json("/api/auth/me").await?;
    ensure!(me["must_change_password"] == true);
    for path in ["/api/plan", "/api/history/item/x"] {
        let res = user.get(path).await?;
        ensure!(
            res.status() == 403,
            "{path} before the change: {}",
            res.status()
        );
        ensure!(message(res).await?.contains("请先修改密码"));
    }
    let pull = json!({ "protocol": shared::sync::PROTOCOL_VERSION, "client_group": uuid::Uuid::now_v7(), "cookie": null });
    ensure!(
        user.post("/api/sync/pull", &pull).await?.status() == 403,
        "pull before the change"
    );

    let change = |old: &str, new: &str| json!({ "old_password": old, "new_password": new });
    let res = user
        .post("/api/auth/password", &change("wrong-pass", "new-pass-777"))
        .await?;
    ensure!(res.status() == 403, "wrong old password: {}", res.status());
    let res = user
        .post("/api/auth/password", &change("temp-pass-77", "short"))
        .await?;
    ensure!(res.status() == 400, "too short: {}", res.status());
    let res = user
        .post(
            "/api/auth/password",
            &change("temp-pass-77", "temp-pass-77"),
        )
        .await?;
    ensure!(res.status() == 400, "same as before: {}", res.status());
    let res = user
        .post(
            "/api/auth/password",
            &change("temp-pass-77", "new-pass-777"),
        )
        .await?;
    ensure!(res.status() == 204, "change: {}", res.status());
    ensure!(
        session_cookie(&res).is_some(),
        "a changed password gets a new session id"
    );

    ensure!(
        user.get("/api/plan").await?.status() == 200,
        "after the change"
    );
    let me: Value = user.get_json("/api/auth/me").await?;
    ensure!(me["must_change_password"] == false);
    ensure!(
        login_raw(&server, None, "unit07", "temp-pass-77")
            .await?
            .status()
            == 403
    );
    ensure!(
        login_raw(&server, None, "unit07", "new-pass-777")
            .await?
            .status()
            == 200
    );
    Ok(())
}

/// Outside demo mode, the accounts still on the published demo password are disabled.
#[tokio::test]
async fn demo_passwords_are_disabled_outside_demo_mode() -> anyhow::Result<()> {
    // A database first served with --demo, one account's password changed meanwhile…
    let server = start(Store::Sqlite).await?;
    let unit02 = server.login("unit02").await?;
    let body = json!({ "old_password": DEMO_PASSWORD, "new_password": "a-real-pass-2" });
    ensure!(unit02.post("/api/auth/password", &body).await?.status() == 204);
    let (data, url) = server.kill();
    // …then served for real: whoever still has the published password can't sign in.
    let server = Server::start_in(
        ServerOptions {
            demo: false,
            ..Default::default()
        },
        data,
        url,
    )
    .await?;
    for name in ["office", "unit01", "admin"] {
        let res = login_raw(&server, None, name, DEMO_PASSWORD).await?;
        ensure!(
            res.status() == 403,
            "{name} with the demo password: {}",
            res.status()
        );
    }
    let res = login_raw(&server, None, "unit02", "a-real-pass-2").await?;
    ensure!(
        res.status() == 200,
        "a changed password still works: {}",
        res.status()
    );
    let db = ServerDb::open(&server).await?;
    let disabled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit WHERE action = 'user_disabled' AND detail LIKE '%demo password%'",
    )
    .fetch_one(&db.pool)
    .await?;
    ensure!(disabled > 30, "each disabling is audited ({disabled})");
    Ok(())
}

/// Changing one's own password ends the other sessions (whoever knew the old password).
#[tokio::test]
async fn password_change_ends_other_sessions() -> anyhow::Result<()> {
    let server = start(Store::Sqlite).await?;
    let here = server.login("unit08").await?;
    let elsewhere = server.login("unit08").await?;
    let body = json!({ "old_password": DEMO_PASSWORD, "new_password": "another-pass-8" });
    ensure!(here.post("/api/auth/password", &body).await?.status() == 204);
    ensure!(
        here.get("/api/auth/me").await?.status() == 200,
        "this session continues"
    );
    ensure!(
        elsewhere.get("/api/auth/me").await?.status() == 401,
        "the other one ended"
    );
    Ok(())
}

/// Five failures lock an account for a while: the sixth attempt gets 429 with Retry-After, even
/// with the right password. Unknown usernames get the very same answers, so neither the message
/// nor the lockout tells which accounts exist. Many failures from one address lock the address.
async fn throttling(store: Store) -> anyhow::Result<()> {
    let server = start(store).await?;
    for username in ["unit09", "no-such-user"] {
        for attempt in 1..=5 {
            let res = login_raw(&server, None, username, "wrong-password").await?;
            ensure!(
                res.status() == 403,
                "{username} attempt {attempt}: {}",
                res.status()
            );
            let body: Value = res.json().await?;
            ensure!(
                body["message"] == LOGIN_FAILED
                    && body["message_en"] == "Wrong username or password",
                "{username}: a different message: {body}"
            );
        }
        let res = login_raw(&server, None, username, "wrong-password").await?;
        ensure!(
            res.status() == 429,
            "{username} sixth attempt: {}",
            res.status()
        );
        let retry: u64 = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .context("Retry-After")?
            .to_str()?
            .parse()?;
        ensure!((60..=900).contains(&retry), "Retry-After {retry}");
        let text = message(res).await?;
        ensure!(text == "尝试次数过多，请15分钟后再试", "{username}: {text}");
    }
    let res = login_raw(&server, None, "unit09", DEMO_PASSWORD).await?;
    ensure!(
        res.status() == 429,
        "the right password during the lockout: {}",
        res.status()
    );
    // From another address the right password still signs in: the lockout is the account's
    // from the address that failed, or anyone could lock a user out by failing on their name.
    let res = bare_client_from(Some("127.0.0.2".parse()?))?
        .post(format!("{}/api/auth/login", server.url))
        .json(&json!({ "username": "unit09", "password": DEMO_PASSWORD }))
        .send()
        .await?;
    ensure!(
        res.status() == 200,
        "the right password from another address during the lockout: {}",
        res.status()
    );
    // Another account is not affected by the first one's lockout.
    ensure!(
        login_raw(&server, None, "unit10", DEMO_PASSWORD)
            .await?
            .status()
            == 200
    );

    // A burst of parallel guesses at one account gets no more password checks than a series:
    // each attempt is counted before its check, so five are checked and the rest refused.
    let burst = futures_util::future::join_all(
        (0..12).map(|_| login_raw(&server, None, "unit12", "wrong-password")),
    )
    .await;
    let mut checked = 0;
    for res in burst {
        match res?.status().as_u16() {
            403 => checked += 1,
            429 => {}
            other => bail!("a guess in the burst: {other}"),
        }
    }
    ensure!(
        checked == 5,
        "{checked} of 12 parallel guesses had their password checked"
    );

    // The address: 15 failures so far; 15 more, one per made-up name, reach its limit of 30,
    // and then even a good login from there waits.
    for n in 0..15 {
        let res = login_raw(&server, None, &format!("guess{n}"), "wrong-password").await?;
        ensure!(res.status() == 403, "guess {n}: {}", res.status());
    }
    let res = login_raw(&server, None, "unit11", DEMO_PASSWORD).await?;
    ensure!(
        res.status() == 429,
        "a locked-out address signs in: {}",
        res.status()
    );

    let db = ServerDb::open(&server).await?;
    let failures: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit WHERE action = 'login_failed'")
            .fetch_one(&db.pool)
            .await?;
    ensure!(failures == 30, "every failure is audited ({failures})");
    let refused: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit WHERE action = 'login_throttled'")
            .fetch_one(&db.pool)
            .await?;
    // Eleven refusals in four windows (unit09's, no-such-user's, unit12's, the address's): each
    // window's first is audited, not each attempt, or a flood would write a flood of rows.
    ensure!(
        refused == 4,
        "one row per refusing window, not per refused attempt ({refused})"
    );
    Ok(())
}

#[tokio::test]
async fn login_throttling_sqlite() -> anyhow::Result<()> {
    throttling(Store::Sqlite).await
}

#[tokio::test]
async fn login_throttling_postgres() -> anyhow::Result<()> {
    throttling(Store::Postgres).await
}

/// State-changing requests need the X-Reformboard header, and a browser's Origin must be ours;
/// the WebSocket handshake (a GET) needs our Origin too.
#[tokio::test]
async fn csrf_checks() -> anyhow::Result<()> {
    let server = start(Store::Sqlite).await?;
    let api = server.login("unit12").await?;
    let no_header = reqwest::Client::new();
    let body = json!({ "username": "unit12", "password": DEMO_PASSWORD });
    let res = no_header
        .post(format!("{}/api/auth/login", server.url))
        .json(&body)
        .send()
        .await?;
    ensure!(
        res.status() == 403,
        "login without X-Reformboard: {}",
        res.status()
    );
    ensure!(message(res).await?.contains("X-Reformboard"));

    let res = api
        .http
        .post(format!("{}/api/auth/logout", server.url))
        .header("origin", "http://evil.example")
        .json(&json!({}))
        .send()
        .await?;
    ensure!(
        res.status() == 403,
        "logout from a foreign origin: {}",
        res.status()
    );
    ensure!(
        api.get("/api/auth/me").await?.status() == 200,
        "the forged logout did something"
    );
    let res = api
        .http
        .post(format!("{}/api/auth/login", server.url))
        .header("origin", "null")
        .json(&body)
        .send()
        .await?;
    ensure!(res.status() == 403, "origin null: {}", res.status());
    let res = api
        .http
        .post(format!("{}/api/auth/login", server.url))
        .header("origin", server.url.as_str())
        .json(&body)
        .send()
        .await?;
    ensure!(res.status() == 200, "same origin: {}", res.status());

    let ws = |origin: &str| {
        api.http
            .get(format!("{}/api/sync/ws", server.url))
            .header("origin", origin)
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .send()
    };
    ensure!(
        ws("http://evil.example").await?.status() == 403,
        "WebSocket from a foreign page"
    );
    ensure!(
        ws(&server.url).await?.status() == 101,
        "WebSocket from our page"
    );
    Ok(())
}

/// The security headers are on every response: the app, the API, errors.
#[tokio::test]
async fn security_headers_everywhere() -> anyhow::Result<()> {
    let server = start(Store::Sqlite).await?;
    let api = server.client();
    let responses = [
        api.get("/").await?,
        api.get("/items/4").await?,
        api.get("/api/health").await?,
        api.get("/api/plan").await?,
        api.get("/api/no-such-thing").await?,
        reqwest::Client::new()
            .post(format!("{}/api/auth/logout", server.url))
            .send()
            .await?,
    ];
    for res in responses {
        let url = res.url().to_string();
        let header = |name: &str| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let csp = header("content-security-policy");
        for part in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            ensure!(csp.contains(part), "{url}: CSP {csp:?} lacks {part}");
        }
        ensure!(!csp.contains("unsafe-inline"), "{url}: {csp}");
        ensure!(header("x-content-type-options") == "nosniff", "{url}");
        ensure!(
            !header("referrer-policy").is_empty(),
            "{url}: no Referrer-Policy"
        );
        ensure!(header("x-frame-options") == "DENY", "{url}");
    }
    Ok(())
}

/// POSTs `body` over a plain TCP connection and returns the status and body of the answer. The
/// server answers an oversized body before reading all of it and then closes the connection, so
/// an ordinary client can fail on the write before it reads the answer; here the write runs
/// beside the read and its failure is ignored.
async fn raw_post(
    server: &Server,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> anyhow::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = server.url.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&addr).await?;
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         X-Reformboard: 1\r\nCookie: rb_session={token}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let writer = tokio::spawn(async move {
        let _ = write.write_all(head.as_bytes()).await;
        let _ = write.write_all(&body).await;
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    let read_all = async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), read_all).await?;
    writer.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status line in {text:?}"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Bodies over the limit (2 MB) are refused with 413, signed in or not.
#[tokio::test]
async fn oversized_bodies_get_413() -> anyhow::Result<()> {
    let server = start(Store::Sqlite).await?;
    let res = login_raw(&server, None, "unit13", DEMO_PASSWORD).await?;
    let token = session_cookie(&res).context("signed in")?;
    let big = "字".repeat(1_000_000);
    let login = serde_json::to_vec(&json!({ "username": "x", "password": big }))?;
    let (status, _) = raw_post(&server, "/api/auth/login", "", login).await?;
    ensure!(status == 413, "login: {status}");
    let push = json!({ "protocol": shared::sync::PROTOCOL_VERSION, "client_group": uuid::Uuid::now_v7(), "mutations": [], "pad": big });
    let (status, body) = raw_post(
        &server,
        "/api/sync/push",
        &token,
        serde_json::to_vec(&push)?,
    )
    .await?;
    ensure!(status == 413, "push: {status}");
    ensure!(body.contains("请求内容过大"), "{body}");
    // Just under the limit is still read (and refused only for what it says).
    let fits = json!({ "username": "x", "password": "a".repeat(1_500_000) });
    let res = server.client().post("/api/auth/login", &fits).await?;
    ensure!(
        res.status() == 403,
        "a big but allowed body: {}",
        res.status()
    );
    Ok(())
}

/// Every kind of security event lands in the audit trail, with names people read; the office
/// filters it by user, action, entity and category, and exports it as CSV for Excel.
async fn audit_trail(store: Store) -> anyhow::Result<()> {
    let server = start(store).await?;
    let office = server.login("office").await?;
    let _ = login_raw(&server, None, "unit14", "wrong-password").await?;
    let _ = login_raw(&server, None, "nobody", "wrong-password").await?;
    let unit14 = server.login("unit14").await?;
    unit14.post("/api/auth/logout", &json!({})).await?;
    let unit14 = server.login("unit14").await?;
    unit14.logout_everywhere().await?;
    let unit15 = server.login("unit15").await?;
    let body = json!({ "old_password": DEMO_PASSWORD, "new_password": "changed-pass-15" });
    ensure!(unit15.post("/api/auth/password", &body).await?.status() == 204);

    let me: Value = office.get_json("/api/auth/me").await?;
    let office_unit = me["unit"].clone();
    let created: Value = office
        .post_json(
            "/api/users",
            &json!({ "username": "zhang.san", "display_name": "张三", "unit": office_unit,
                     "role": "office", "password": "first-pass-1" }),
        )
        .await?;
    ensure!(
        created["unit_name"] == "区全面深化改革工作领导小组综合办公室",
        "{created}"
    );
    ensure!(created["must_change_password"] == true);
    let id = created["id"].as_str().context("id")?.to_string();
    let leaders = shared::ids::unit_id_for_name(shared::unit::LEADERS_UNIT);
    for (path, body) in [
        ("password", json!({ "password": "reset-pass-1" })),
        ("disable", json!({})),
        ("enable", json!({})),
        ("role", json!({ "role": "leader", "unit": leaders })),
    ] {
        let res = office
            .post(&format!("/api/users/{id}/{path}"), &body)
            .await?;
        ensure!(res.status() == 204, "{path}: {}", res.status());
    }
    let users: Vec<Value> = office.get_json("/api/users").await?;
    let zhang = users
        .iter()
        .find(|u| u["username"] == "zhang.san")
        .context("listed")?;
    ensure!(zhang["role"] == "leader" && zhang["unit_name"] == "区领导");
    // A role that does not go with the unit is refused, saying which one does.
    let npc_unit = shared::ids::unit_id_for_name(shared::unit::NPC_UNIT);
    let res = office
        .post(
            &format!("/api/users/{id}/role"),
            &json!({ "role": "unit", "unit": npc_unit }),
        )
        .await?;
    ensure!(
        res.status() == 400,
        "a unit-staff account of 区人大: {}",
        res.status()
    );
    let said: Value = res.json().await?;
    ensure!(said.to_string().contains("人大/政协"), "{said}");
    let res = office
        .post(
            "/api/users",
            &json!({ "username": "wang.wu", "display_name": "王五", "unit": office_unit,
                     "role": "unit", "password": "first-pass-1" }),
        )
        .await?;
    ensure!(
        res.status() == 400,
        "a unit-staff account of the office: {}",
        res.status()
    );

    let all: Vec<Value> = office.get_json("/api/audit?limit=1000").await?;
    let actions: std::collections::BTreeSet<&str> =
        all.iter().filter_map(|r| r["action"].as_str()).collect();
    for action in [
        "login",
        "login_failed",
        "logout",
        "logout_everywhere",
        "password_changed",
        "user_created",
        "password_reset",
        "user_disabled",
        "user_enabled",
        "role_changed",
    ] {
        ensure!(
            actions.contains(action),
            "no {action} in the audit trail: {actions:?}"
        );
    }

    // By action: the failed logins, with the name tried and the address, and nobody's session.
    let failed: Vec<Value> = office.get_json("/api/audit?action=login_failed").await?;
    ensure!(failed.len() == 2, "{failed:?}");
    ensure!(failed.iter().all(|r| r["user_id"].is_null()));
    let details: Vec<&str> = failed.iter().filter_map(|r| r["detail"].as_str()).collect();
    ensure!(
        details.iter().any(|d| d.starts_with("nobody @ 127.0.0.1")),
        "{details:?}"
    );
    // By user: what zhang.san did and what was done to the account, newest first.
    let about: Vec<Value> = office.get_json(&format!("/api/audit?user={id}")).await?;
    let about_actions: Vec<&str> = about.iter().filter_map(|r| r["action"].as_str()).collect();
    ensure!(
        about_actions
            == [
                "role_changed",
                "user_enabled",
                "user_disabled",
                "password_reset",
                "user_created"
            ],
        "{about_actions:?}"
    );
    let change = &about[0];
    ensure!(change["entity_name"] == "zhang.san", "{change}");
    ensure!(change["user_name"] == "综合办（office）", "{change}");
    ensure!(
        change["unit_name"] == "区全面深化改革工作领导小组综合办公室",
        "{change}"
    );
    let detail = change["detail"].as_str().unwrap_or_default();
    ensure!(detail.contains("综合办 → 区领导，区领导"), "{detail}");
    // By entity, and the account's history as the office sees it.
    let by_entity: Vec<Value> = office
        .get_json(&format!("/api/audit?entity=user/{id}"))
        .await?;
    ensure!(by_entity.len() == 5, "{by_entity:?}");
    let history: Vec<Value> = office.get_json(&format!("/api/history/user/{id}")).await?;
    ensure!(history.len() == 5);
    // The key may come percent-encoded, as `encodeURIComponent` writes it.
    let encoded: Vec<Value> = office
        .get_json(&format!("/api/history/user%2F{id}"))
        .await?;
    ensure!(encoded == history, "an encoded key finds the same history");
    // By category, and empty filters (as a form sends them) mean no filter.
    let changes: Vec<Value> = office
        .get_json("/api/audit?category=changes&limit=1000")
        .await?;
    ensure!(
        changes
            .iter()
            .all(|r| !shared::audit::is_security_event(r["action"].as_str().unwrap_or_default()))
    );
    let security: Vec<Value> = office
        .get_json("/api/audit?category=security&user=&action=")
        .await?;
    ensure!(!security.is_empty());
    ensure!(
        security
            .iter()
            .all(|r| shared::audit::is_security_event(r["action"].as_str().unwrap_or_default()))
    );
    // Paging.
    let page1: Vec<Value> = office.get_json("/api/audit?limit=3").await?;
    let page2: Vec<Value> = office.get_json("/api/audit?limit=3&offset=3").await?;
    ensure!(page1.len() == 3 && page2.len() == 3 && page1[2]["id"] != page2[0]["id"]);

    // The CSV export: a BOM, Chinese headers, Chinese action names, Beijing time.
    let res = office.get("/api/audit.csv?category=security").await?;
    ensure!(res.status() == 200);
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ensure!(content_type.starts_with("text/csv"), "{content_type}");
    let disposition = res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ensure!(disposition.starts_with("attachment"), "{disposition}");
    let bytes = res.bytes().await?;
    ensure!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "no byte-order mark");
    let text = std::str::from_utf8(&bytes[3..])?;
    let mut lines = text.lines();
    ensure!(
        lines.next()
            == Some(
                "时间（北京时间）,操作,操作代码,操作人,所在单位,对象,对象编号,说明,变更前,变更后"
            ),
        "{text}"
    );
    ensure!(text.contains(",登录失败,login_failed,"), "{text}");
    ensure!(text.contains(",变更角色或单位,role_changed,综合办（office）,区全面深化改革工作领导小组综合办公室,zhang.san,"), "{text}");
    let rows = text.lines().count() - 1;
    ensure!(
        rows == security.len(),
        "CSV has {rows} rows, the view {}",
        security.len()
    );
    let today =
        chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).context("tz")?);
    ensure!(
        text.contains(&today.format("%Y-%m-%d ").to_string()),
        "times in Beijing time"
    );

    // Nobody else reads it.
    let unit = server.login("unit16").await?;
    ensure!(unit.get("/api/audit").await?.status() == 403);
    ensure!(unit.get("/api/audit.csv").await?.status() == 403);
    ensure!(unit.get(&format!("/api/history/user/{id}")).await?.status() == 403);
    Ok(())
}

#[tokio::test]
async fn audit_trail_sqlite() -> anyhow::Result<()> {
    audit_trail(Store::Sqlite).await
}

#[tokio::test]
async fn audit_trail_postgres() -> anyhow::Result<()> {
    audit_trail(Store::Postgres).await
}

/// The server's own account (系统, the daily reminders' name) is nobody's: the office doesn't
/// see it among the accounts and can't enable it or give it a password, a role or an e-mail;
/// and a row changed by hand still never signs in.
#[tokio::test]
async fn the_system_account_is_nobodys() -> anyhow::Result<()> {
    let server = start(Store::Sqlite).await?;
    let office = server.login("office").await?;
    let db = ServerDb::open(&server).await?;
    let system = backend::auth::users::SYSTEM_USERNAME;
    let id: String = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(system)
        .fetch_one(&db.pool)
        .await
        .context("the demo's start acts as the system account, so it exists")?;
    let listed: Value = office.get_json("/api/users").await?;
    let listed = listed.as_array().context("a list")?;
    ensure!(
        !listed.is_empty() && !listed.iter().any(|u| u["id"] == id.as_str()),
        "the system account is listed among the office's accounts"
    );
    let me: Value = office.get_json("/api/auth/me").await?;
    let changes = [
        ("enable", json!({})),
        ("password", json!({ "password": "temporary-pass-1" })),
        ("role", json!({ "role": "office", "unit": me["unit"] })),
        ("email", json!({ "email": "system@example.org" })),
    ];
    for (change, body) in changes {
        let res = office
            .post(&format!("/api/users/{id}/{change}"), &body)
            .await?;
        ensure!(
            res.status() == 404,
            "{change} on the system account: {}",
            res.status()
        );
    }
    // By hand, in the database: enabled, with a password someone knows.
    sqlx::query(
        "UPDATE users SET disabled = 0, must_change_password = 0, password_hash = $1 WHERE id = $2",
    )
    .bind(backend::auth::password::hash("known-to-someone-1")?)
    .bind(&id)
    .execute(&db.pool)
    .await?;
    let res = login_raw(&server, None, system, "known-to-someone-1").await?;
    ensure!(
        res.status() == 403,
        "the system account signed in: {}",
        res.status()
    );
    Ok(())
}
