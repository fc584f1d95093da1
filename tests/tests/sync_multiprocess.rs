//! Pokes, end to end: a change pushed through one backend process reaches a WebSocket client of
//! another process on the same PostgreSQL (through LISTEN/NOTIFY), and of the same process on
//! SQLite (in process); the client then pulls the change from its own process. A WebSocket
//! without a valid session is refused. And what one process checks for all of them (a user's
//! upload quota) holds when two serve the same user at once.

use anyhow::{Context, bail, ensure};
use e2e::sync_client::{ITEM4_LEAD, PlanFacts, PokeSocket, Session, Tab};
use e2e::{Server, ServerOptions, Store};
use shared::board::{Column, sort_key};
use shared::entity::{EntityKey, Item, Millis, Space};
use shared::ids::{ClientGroupId, CommentId, TaskId};
use shared::mutation::Mutation;
use shared::sync::Outcome;
use std::time::Duration;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Generous: a poke normally takes milliseconds, but CI machines are shared.
const POKE_TIMEOUT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn a_push_through_one_process_pokes_a_websocket_of_another_postgres() -> anyhow::Result<()> {
    let a = Server::start(ServerOptions {
        store: Store::Postgres,
        ..Default::default()
    })
    .await?;
    let url = a
        .database_url
        .clone()
        .context("a PostgreSQL server has a database URL")?;
    let b = Server::start(ServerOptions {
        store: Store::Postgres,
        database_url: Some(url),
        ..Default::default()
    })
    .await?;
    let (facts, item2, item4) = plan(&a).await?;
    let lead_on_a = facts.login_unit(&a, ITEM4_LEAD).await?;
    // 区发改局 has the app open on process B.
    let coop_on_b = facts.login_unit(&b, "区发改局").await?;
    let mut coop_tab = Tab::new(ClientGroupId::new_v7());
    pull(&coop_on_b, &mut coop_tab).await?;
    let mut socket = coop_on_b.websocket().await?;
    wait_until_listening(&lead_on_a, &item2, &mut socket).await?;

    let task = create_task(&lead_on_a, &item4).await?;
    let space = Space::Item(item4.id).to_string();
    socket.wait_for_poke(&space, POKE_TIMEOUT).await?;

    let res = pull(&coop_on_b, &mut coop_tab).await?;
    ensure!(
        res.puts.iter().any(|e| e.key() == EntityKey::task(task)),
        "process B serves the change made through A: {:?}",
        res.puts
    );
    Ok(())
}

#[tokio::test]
async fn a_push_pokes_a_websocket_of_the_same_process_sqlite() -> anyhow::Result<()> {
    same_process(Store::Sqlite).await
}

#[tokio::test]
async fn a_push_pokes_a_websocket_of_the_same_process_postgres() -> anyhow::Result<()> {
    same_process(Store::Postgres).await
}

async fn same_process(store: Store) -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        store,
        ..Default::default()
    })
    .await?;
    let (facts, item2, item4) = plan(&server).await?;
    let lead = facts.login_unit(&server, ITEM4_LEAD).await?;
    let coop = facts.login_unit(&server, "区发改局").await?;
    let mut coop_tab = Tab::new(ClientGroupId::new_v7());
    pull(&coop, &mut coop_tab).await?;
    let mut socket = coop.websocket().await?;
    if store == Store::Postgres {
        // Even in one process, pokes go through NOTIFY and the process's own listener.
        wait_until_listening(&lead, &item2, &mut socket).await?;
    }

    // Pushed right after the socket opened: the poke must not fall into a gap before the
    // server's socket task subscribed.
    let task = create_task(&lead, &item4).await?;
    let space = Space::Item(item4.id).to_string();
    socket.wait_for_poke(&space, POKE_TIMEOUT).await?;
    let res = pull(&coop, &mut coop_tab).await?;
    ensure!(
        res.puts.iter().any(|e| e.key() == EntityKey::task(task)),
        "{:?}",
        res.puts
    );
    Ok(())
}

/// PostgreSQL ends the listener's connection (a restart, a failover, an administrator). sqlx
/// reconnects it by itself; whatever was notified in between is lost, so the process must poke
/// every client ("*": pull everything you follow) and read every session afresh — which it can
/// only do if it notices the reconnect (`PgListener::recv` hides it; `try_recv` tells).
#[tokio::test]
async fn a_listener_that_lost_its_connection_pokes_everyone_postgres() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        store: Store::Postgres,
        ..Default::default()
    })
    .await?;
    let (facts, item2, _) = plan(&server).await?;
    let lead = facts.login_unit(&server, ITEM4_LEAD).await?;
    let mut socket = lead.websocket().await?;
    wait_until_listening(&lead, &item2, &mut socket).await?;
    let db = e2e::sync_client::ServerDb::open(&server).await?;
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_all(&db.pool)
    .await?;
    ensure!(ended == [true], "one listener to end: {ended:?}");
    socket.wait_for_poke("*", POKE_TIMEOUT).await?;
    Ok(())
}

/// Signing out everywhere through process A closes the WebSocket the user has open on process
/// B at once (the NOTIFY that ends B's memory of the sessions), not at B's next ping (30 s).
#[tokio::test]
async fn signing_out_through_one_process_closes_the_socket_on_another_postgres()
-> anyhow::Result<()> {
    let a = Server::start(ServerOptions {
        store: Store::Postgres,
        ..Default::default()
    })
    .await?;
    let b = Server::start(ServerOptions {
        store: Store::Postgres,
        database_url: a.database_url.clone(),
        ..Default::default()
    })
    .await?;
    let (facts, item2, _) = plan(&a).await?;
    let lead_on_b = facts.login_unit(&b, ITEM4_LEAD).await?;
    let mut socket = lead_on_b.websocket().await?;
    wait_until_listening(&lead_on_b, &item2, &mut socket).await?;
    let lead_on_a = facts.login_unit(&a, ITEM4_LEAD).await?;
    let res = lead_on_a.api.logout_everywhere().await?;
    ensure!(res.status() == 204, "logout everywhere: {}", res.status());
    ensure!(
        socket.closes_within(Duration::from_secs(10)).await?,
        "the socket on B stayed open after signing out everywhere through A"
    );
    Ok(())
}

#[tokio::test]
async fn a_websocket_without_a_session_is_refused() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions::default()).await?;
    let url = format!("{}/api/sync/ws", server.url.replacen("http://", "ws://", 1));
    let refused = |cookie: Option<&str>| {
        let url = url.clone();
        let cookie = cookie.map(str::to_string);
        async move {
            let mut req = url.into_client_request()?;
            req.headers_mut()
                .insert("x-reformboard", HeaderValue::from_static("1"));
            if let Some(c) = cookie {
                req.headers_mut()
                    .insert("cookie", HeaderValue::from_str(&c)?);
            }
            match tokio_tungstenite::connect_async(req).await {
                Err(tungstenite::Error::Http(res)) => anyhow::Ok(res.status().as_u16()),
                Err(e) => bail!("expected an HTTP refusal, got {e}"),
                Ok(_) => bail!("the upgrade was accepted"),
            }
        }
    };
    ensure!(refused(None).await? == 401, "no cookie");
    ensure!(
        refused(Some("rb_session=forged")).await? == 401,
        "a forged cookie"
    );

    // A session that has ended is no session.
    let office = Session::login(&server, "office").await?;
    let cookie = office.cookie_header()?;
    office
        .websocket()
        .await
        .context("a live session may connect")?;
    let res = office
        .api
        .post("/api/auth/logout", &serde_json::json!({}))
        .await?;
    ensure!(res.status().is_success(), "logout: {}", res.status());
    ensure!(refused(Some(&cookie)).await? == 401, "a logged-out session");
    Ok(())
}

/// The plan's facts, and items 2 and 4 (both led by 区财政局〈国资委〉).
async fn plan(server: &Server) -> anyhow::Result<(PlanFacts, Item, Item)> {
    let office = Session::login(server, "office").await?;
    let facts = PlanFacts::new(office.server_view().await?);
    let (item2, item4) = (facts.item(2)?, facts.item(4)?);
    Ok((facts, item2, item4))
}

async fn pull(session: &Session, tab: &mut Tab) -> anyhow::Result<shared::sync::PullResponse> {
    let sent = tab.cookie.clone();
    let res = session.pull_ok(&tab.pull_request()).await?;
    tab.take_pull(&sent, res.clone())?;
    Ok(res)
}

async fn create_task(session: &Session, item: &Item) -> anyhow::Result<TaskId> {
    let mut tab = Tab::new(ClientGroupId::new_v7());
    let id = TaskId::new_v7();
    tab.add(Mutation::CreateTask {
        id,
        item: item.id,
        title: "制定试点方案".into(),
        owner: session.me.unit,
        column: Column::NotStarted,
        sort_key: sort_key::between(None, None),
        due: None,
        at: Millis(1_400_000_000_000),
    });
    let res = session.push_ok(&tab.push_request()).await?;
    ensure!(
        res.results.iter().all(|r| r.outcome == Outcome::Applied),
        "{res:?}"
    );
    Ok(id)
}

/// A process's LISTEN connection comes up on its own schedule after start. Until the socket has
/// seen a poke that came through it (the "everyone pull" it sends when it connects, or a real
/// one), a missing poke would prove nothing; so comment on `item` (not the item the test is
/// about, so a late poke of this can't pass for the real one) until one arrives.
async fn wait_until_listening(
    session: &Session,
    item: &Item,
    socket: &mut PokeSocket,
) -> anyhow::Result<()> {
    let mut tab = Tab::new(ClientGroupId::new_v7());
    let deadline = tokio::time::Instant::now() + POKE_TIMEOUT;
    while tokio::time::Instant::now() < deadline {
        tab.add(Mutation::AddComment {
            id: CommentId::new_v7(),
            item: item.id,
            task: None,
            body: "请各单位抓紧推进".into(),
            at: Millis(1_400_000_000_000),
        });
        session.push_ok(&tab.push_request()).await?;
        tab.outbox.clear();
        if socket
            .next_poke(Duration::from_millis(500))
            .await?
            .is_some()
        {
            // Drain whatever else is already queued, so the next poke is a fresh one.
            while socket
                .next_poke(Duration::from_millis(100))
                .await?
                .is_some()
            {}
            return Ok(());
        }
    }
    bail!("no poke at all within {POKE_TIMEOUT:?}: the process does not listen")
}

/// A user's uploads not attached yet have a quota (`upload::PENDING_FILES` largest files), and
/// it holds when their uploads go through two processes at once: each process used to check it
/// on its own, so side by side both let one more in.
#[tokio::test]
async fn the_upload_quota_holds_across_processes_postgres() -> anyhow::Result<()> {
    let args = vec!["--max-upload-mb".to_string(), "1".to_string()];
    let a = Server::start(ServerOptions {
        store: Store::Postgres,
        args: args.clone(),
        ..Default::default()
    })
    .await?;
    let b = Server::start(ServerOptions {
        store: Store::Postgres,
        database_url: a.database_url.clone(),
        args,
        ..Default::default()
    })
    .await?;
    let (facts, _, _) = plan(&a).await?;
    let on_a = facts.login_unit(&a, ITEM4_LEAD).await?;
    let on_b = facts.login_unit(&b, ITEM4_LEAD).await?;
    // Ten of these fill the quota (10 × 1 MB).
    let mut file =
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    file.resize(1024 * 1024, b' ');
    let send = |session: &Session, n: usize| {
        let api = &session.api;
        api.http
            .post(format!("{}/api/uploads", api.base))
            .query(&[("name", format!("材料{n}.pdf"))])
            .body(file.clone())
            .send()
    };
    // Side by side through both processes, four at a time (two per process: a user sends at
    // most four at once to one process, `upload::MAX_PARALLEL_UPLOADS`).
    let mut stored = 0;
    for round in 0..4 {
        let sent = (0..4).map(|i| {
            let n = round * 4 + i;
            send(if n % 2 == 0 { &on_a } else { &on_b }, n)
        });
        for res in futures_util::future::join_all(sent).await {
            match res?.status().as_u16() {
                201 => stored += 1,
                429 => {}
                other => bail!("an upload answered {other}"),
            }
        }
    }
    ensure!(
        stored == 10,
        "{stored} of 16 uploads stored, the quota is 10"
    );
    Ok(())
}
