//! Offline, as on a phone in a lift: the backend goes away, the user keeps editing, reloads the
//! page (it still opens, from the service worker and IndexedDB), opens a screen never opened
//! before (a lazily loaded chunk, precached), and when the backend is back the edit reaches the
//! server exactly once and another unit sees it without reloading. Item 4 holds more cards than
//! the browser saves in one transaction, so the saved copy the reload reads was written in
//! several.

use e2e::browser::{Browser, DESKTOP, PHONE, xpath_literal};
use e2e::sync_client::{Item4, Tab, create_task};
use e2e::{DEMO_PASSWORD, Server, ServerOptions, demo_username};
use fantoccini::Locator;
use shared::board::Column;
use shared::entity::Millis;
use shared::ids::ClientGroupId;
use shared::mutation::Mutation;
use std::time::Duration;

const TITLE: &str = "离线也能推进的任务";

/// Cards put on item 4 before the phone's first sync: more than the browser writes to its saved
/// copy per transaction (`local_db::SAVE_BATCH`, 25), fewer than one push may carry.
const SEEDED: usize = 250;

/// The cards the board's column tabs count (the phone shows the tabs).
async fn counted(browser: &Browser) -> i64 {
    let script = "return [...document.querySelectorAll('.column-tabs .count')] \
                  .reduce((sum, e) => sum + (parseInt(e.textContent, 10) || 0), 0);";
    browser
        .client
        .execute(script, vec![])
        .await
        .ok()
        .and_then(|v| v.as_i64())
        .unwrap_or(-1)
}

/// What the browser's saved copy holds: how many entities, and whether it has a cookie.
async fn saved_copy(browser: &Browser) -> (i64, bool) {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const open = indexedDB.open("reformboard");
        open.onerror = () => done([-1, false]);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(["entities", "meta"], "readonly");
          const count = tx.objectStore("entities").count();
          const cookie = tx.objectStore("meta").get("cookie");
          tx.oncomplete = () => { db.close(); done([count.result, cookie.result != null]); };
        };
    "#;
    match browser.client.execute_async(script, vec![]).await {
        Ok(v) => (v[0].as_i64().unwrap_or(-1), v[1].as_bool().unwrap_or(false)),
        Err(_) => (-1, false),
    }
}

/// How many changes the browser's outbox holds (every tab's).
async fn saved_outbox(browser: &Browser) -> i64 {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const open = indexedDB.open("reformboard");
        open.onerror = () => done(-1);
        open.onsuccess = () => {
          const db = open.result;
          const count = db.transaction("outbox", "readonly").objectStore("outbox").count();
          count.onsuccess = () => { db.close(); done(count.result); };
          count.onerror = () => { db.close(); done(-1); };
        };
    "#;
    match browser.client.execute_async(script, vec![]).await {
        Ok(v) => v.as_i64().unwrap_or(-1),
        Err(_) => -1,
    }
}

async fn column_of(browser: &Browser, title: &str) -> Option<String> {
    let xpath = format!(
        "//section[@data-drop-column][.//button[contains(@class,'card-open') and normalize-space(.)={}]]",
        xpath_literal(title)
    );
    let el = browser.client.find(Locator::XPath(&xpath)).await.ok()?;
    el.attr("data-drop-column").await.ok().flatten()
}

/// The lead unit of item 4 on its board (`size`, `mobile` as `Browser::start`), with a card
/// `title` of their own, made there and synced.
async fn lead_with_card(
    size: (u32, u32),
    mobile: bool,
    title: &str,
) -> anyhow::Result<(Server, Browser)> {
    let (server, browser) = e2e::browser::lead_on_item4_board(size, mobile).await?;
    browser.create_task(title).await?;
    wait_until("the task is created and synced", || async {
        column_of(&browser, title).await.is_some() && sync_text(&browser).await == "在线"
    })
    .await?;
    Ok((server, browser))
}

/// The column the server has the card `title` in, as the office reads it.
async fn server_column(server: &Server, title: &str) -> anyhow::Result<Option<Column>> {
    let office = e2e::sync_client::Session::login(server, "office").await?;
    let state = office.server_view().await?;
    Ok(state.tasks().find(|t| t.title == title).map(|t| t.column))
}

/// Opens item 4's board in a second tab of the browser, switched to, once it shows the card
/// `title` and is in step with the server; the tab's handle.
async fn second_tab_on_board(
    browser: &Browser,
    server: &Server,
    title: &str,
) -> anyhow::Result<fantoccini::wd::WindowHandle> {
    let tab = browser.client.new_window(true).await?.handle;
    browser.client.switch_to_window(tab.clone()).await?;
    browser
        .client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    wait_until("the second tab shows the card, synced", || async {
        column_of(browser, title).await.is_some() && sync_text(browser).await == "在线"
    })
    .await?;
    Ok(tab)
}

async fn wait_until<F, Fut>(what: &str, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    // A minute: a tab without a connection tries again at most every 30 s.
    for _ in 0..600 {
        if check().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("timed out waiting until {what}")
}

async fn sync_text(browser: &Browser) -> String {
    match browser
        .client
        .find(Locator::Css("[data-testid=sync-state]"))
        .await
    {
        Ok(el) => el.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// What the page knows of its service worker, for a failure message: which workers the
/// registration has, in which states, and what the shell cache holds.
async fn worker_state(browser: &Browser) -> String {
    let script = r#"
        const done = arguments[arguments.length - 1];
        (async () => {
          const reg = await navigator.serviceWorker.getRegistration();
          const state = (w) => (w ? w.state : null);
          const caches_ = await Promise.all((await caches.keys()).map(async (k) => [k, (await (await caches.open(k)).keys()).length]));
          return {
            registration: !!reg,
            installing: state(reg && reg.installing),
            waiting: state(reg && reg.waiting),
            active: state(reg && reg.active),
            caches: caches_,
          };
        })().then(done, (e) => done(String(e)));
    "#;
    match browser.client.execute_async(script, vec![]).await {
        Ok(v) => v.to_string(),
        Err(e) => format!("unknown ({e})"),
    }
}

#[tokio::test]
async fn edits_made_offline_survive_a_reload_and_sync_once() -> anyhow::Result<()> {
    let opts = ServerOptions {
        site: true,
        ..Default::default()
    };
    let server = Server::start(opts.clone()).await?;
    let addr = server.addr()?;
    let lead = demo_username(&server, "区财政局〈国资委〉").await?;

    // The lead unit has broken item 4 into many tasks already.
    let world = Item4::on(&server).await?;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    for n in 0..SEEDED {
        let at = Millis(1_396_224_000_000);
        let (_, mut m) = create_task(
            world.item.id,
            world.lead.me.unit,
            &format!("分解任务{n}"),
            at,
        );
        // Awaiting acceptance, out of the way of the card the phone creates and moves below
        // (a long column renders only the cards near the screen).
        if let Mutation::CreateTask { column, .. } = &mut m {
            *column = Column::Review;
        }
        tab.add(m);
    }
    world.lead.push_ok(&tab.push_request()).await?;
    let entities = world.lead.server_view().await?.len();

    // The lead unit, on a phone, creates a task while online.
    let phone = Browser::start(PHONE, true).await?;
    phone.login(&server.url, &lead, DEMO_PASSWORD).await?;
    phone
        .client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    phone.create_task(TITLE).await?;
    wait_until("the task is created and synced", || async {
        column_of(&phone, TITLE).await.is_some() && sync_text(&phone).await == "在线"
    })
    .await?;
    // Its first sync is saved, in several transactions: every entity, and the cookie last.
    let cards = i64::try_from(SEEDED + 1)?;
    wait_until("the board counts every card", || async {
        counted(&phone).await == cards
    })
    .await?;
    let mut saved = (0, false);
    for _ in 0..100 {
        saved = saved_copy(&phone).await;
        if saved.0 > i64::try_from(entities)? && saved.1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        saved.0 > i64::try_from(entities)? && saved.1,
        "the saved copy holds the {entities} entities of the first sync and the new task, and a cookie: {saved:?}"
    );
    // A later pull of more than one transaction's worth (another unit's 150 new cards) is
    // saved whole too, its cookie last: the copy a reload or an offline start trusts.
    let mut more = Tab::new(ClientGroupId::new_v7());
    for n in 0..150 {
        let (_, mut m) = create_task(
            world.item.id,
            world.lead.me.unit,
            &format!("又一项任务{n}"),
            Millis(1_396_224_000_000),
        );
        if let Mutation::CreateTask { column, .. } = &mut m {
            *column = Column::Review;
        }
        more.add(m);
    }
    world.lead.push_ok(&more.push_request()).await?;
    wait_until("the board counts the 150 new cards", || async {
        counted(&phone).await == cards + 150
    })
    .await?;
    let before = saved.0;
    for _ in 0..100 {
        saved = saved_copy(&phone).await;
        if saved.0 >= before + 150 && saved.1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        saved.0 >= before + 150 && saved.1,
        "the saved copy holds the 150 new cards ({before} entities before) and a cookie: {saved:?}"
    );
    // The service worker has taken control, so the app shell is cached. It claims the page
    // when it activates; should that claim miss the page (seen once on a loaded CI machine:
    // active, shell cached, no controller), the next load is controlled, as a user's would be.
    let is_controlled = || async {
        phone
            .client
            .execute("return !!navigator.serviceWorker.controller;", vec![])
            .await
            .ok()
            == Some(serde_json::Value::Bool(true))
    };
    let mut controlled = wait_until("the service worker controls the page", is_controlled).await;
    if controlled.is_err() {
        phone.client.refresh().await?;
        controlled = wait_until(
            "the service worker controls the reloaded page",
            is_controlled,
        )
        .await;
    }
    if let Err(e) = controlled {
        anyhow::bail!(
            "{e}; the worker's registration: {}",
            worker_state(&phone).await
        );
    }

    // The office watches the same board on a desktop.
    let office = Browser::start(DESKTOP, false).await?;
    office.login(&server.url, "office", DEMO_PASSWORD).await?;
    office
        .client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    wait_until("the office sees the task", || async {
        column_of(&office, TITLE).await.as_deref() == Some("not_started")
    })
    .await?;

    // The backend dies.
    let server_url = server.url.clone();
    let (data_dir, database_url) = server.kill();

    // The phone keeps working: move the card with the menu.
    phone.move_with_menu(TITLE, "推进中").await?;
    wait_until("the move shows locally", || async {
        column_of(&phone, TITLE).await.as_deref() == Some("in_progress")
    })
    .await?;
    wait_until(
        "the phone says it is offline with 1 change waiting",
        || async {
            let t = sync_text(&phone).await;
            t.contains("离线") && t.contains("1 项待同步")
        },
    )
    .await?;

    // Reload with no server: the app still opens, the edit is still there.
    phone.client.refresh().await?;
    wait_until("the reloaded app shows the edit", || async {
        column_of(&phone, TITLE).await.as_deref() == Some("in_progress")
    })
    .await?;
    wait_until("the reloaded board counts every card", || async {
        counted(&phone).await == cards + 150
    })
    .await?;
    phone.screenshot("offline-phone-after-reload").await?;
    // A screen this phone never opened online, whose code is a lazily loaded wasm chunk: the
    // service worker precached the chunks with the app, so it opens offline too.
    phone
        .client
        .goto(&format!("{server_url}/items/4/timeline"))
        .await?;
    phone.find(Locator::Css("input[name=as_of]")).await?;
    phone.find(Locator::Css(".item-tabs")).await?;
    phone
        .client
        .goto(&format!("{server_url}/items/4/board"))
        .await?;
    wait_until(
        "the board opens again offline, the edit still waiting",
        || async { column_of(&phone, TITLE).await.as_deref() == Some("in_progress") },
    )
    .await?;
    // A task's detail is a chunk of its own too (never opened online here): it opens offline.
    let title = phone
        .find(Locator::XPath(&format!(
            "//li[contains(@class,'card')]//button[normalize-space(.)={}]",
            xpath_literal(TITLE)
        )))
        .await?;
    phone.scroll_to(&title).await?;
    title.click().await?;
    let heading = phone
        .find(Locator::Css("aside[role=dialog] header h2"))
        .await?;
    assert_eq!(heading.text().await?, TITLE, "the detail opened offline");
    // Its history is the server's: offline the panel says so, rather than showing none.
    phone
        .wait_for_exact_text(
            "aside[role=dialog] section.history p",
            "历史记录暂时无法读取（需要连接服务器）",
        )
        .await?;
    phone.close_dialog().await?;
    // Signing out now would leave the edit to whoever signs in next: the phone asks first.
    phone.sign_out().await?;
    let asked = phone.client.get_alert_text().await?;
    assert!(
        asked.starts_with("1项更改还没有同步到服务器"),
        "signing out with a change waiting asks first: {asked}"
    );
    phone.client.dismiss_alert().await?;
    phone.find(Locator::Css("[data-signed-in]")).await?;

    // The backend comes back on the same address; the edit reaches it and the office sees it.
    let server = Server::start_in(
        ServerOptions {
            addr: Some(addr),
            ..opts
        },
        data_dir,
        database_url,
    )
    .await?;
    wait_until("the phone is back online with nothing waiting", || async {
        sync_text(&phone).await == "在线"
    })
    .await?;
    wait_until("the office sees the move without reloading", || async {
        column_of(&office, TITLE).await.as_deref() == Some("in_progress")
    })
    .await?;

    // Exactly once: one move in the task's history.
    let api = server.login("office").await?;
    let pull: serde_json::Value = api
        .post_json(
            "/api/sync/pull",
            &serde_json::json!({ "protocol": shared::sync::PROTOCOL_VERSION, "client_group": uuid::Uuid::now_v7(), "cookie": null }),
        )
        .await?;
    let task_id = pull["puts"]
        .as_array()
        .and_then(|puts| {
            puts.iter()
                .find(|e| e["kind"] == "task" && e["data"]["title"] == TITLE)
        })
        .and_then(|e| e["data"]["id"].as_str().map(String::from))
        .ok_or_else(|| anyhow::anyhow!("task not on the server"))?;
    let history: Vec<serde_json::Value> = api
        .get_json(&format!("/api/history/task%2F{task_id}"))
        .await?;
    let moves = history
        .iter()
        .filter(|h| h["action"] == "move_task")
        .count();
    assert_eq!(moves, 1, "{history:#?}");
    phone.close().await?;
    office.close().await
}

/// The server is restored from a backup while a browser has a change waiting. The restore lost
/// the changes the browser made after the backup, so its waiting change no longer continues the
/// server's numbering for its client: the browser renumbers it under a new client and it
/// arrives, once, instead of being refused for ever.
#[tokio::test]
async fn a_change_waiting_through_a_restore_from_backup_still_arrives() -> anyhow::Result<()> {
    let opts = ServerOptions {
        site: true,
        ..Default::default()
    };
    let server = Server::start(opts.clone()).await?;
    let addr = server.addr()?;
    let lead = demo_username(&server, "区财政局〈国资委〉").await?;
    let desk = Browser::start(DESKTOP, false).await?;
    desk.login(&server.url, &lead, DEMO_PASSWORD).await?;
    desk.client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    let office = e2e::sync_client::Session::login(&server, "office").await?;
    let synced = |title: &'static str| {
        let office = office.clone();
        let desk = &desk;
        async move {
            office.wait_for_task(title).await?;
            wait_until("nothing waits", || async {
                sync_text(desk).await == "在线"
            })
            .await
        }
    };
    desk.create_task("备份前的任务").await?;
    synced("备份前的任务").await?;

    let backup = tempfile::tempdir()?;
    let file = backup.path().join("reformboard.db");
    let out = std::process::Command::new(e2e::binary())
        .arg("backup")
        .arg(&file)
        .arg("--data-dir")
        .arg(server.data_path())
        .output()?;
    anyhow::ensure!(out.status.success(), "backup: {out:?}");
    // The highest change id the lead's clients had applied when the backup was made.
    let lasts_of_lead = "SELECT last_mutation_id FROM client WHERE client_group IN \
         (SELECT id FROM client_group WHERE user_id IN (SELECT id FROM users WHERE username = $1))";
    let backed_up: i64 = {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&format!("sqlite://{}?mode=ro", file.display())).await?;
        let ids: Vec<i64> = sqlx::query_scalar(lasts_of_lead)
            .bind(&lead)
            .fetch_all(&pool)
            .await?;
        let id = ids.into_iter().max().unwrap_or(0);
        pool.close().await;
        id
    };
    desk.create_task("备份后的任务").await?;
    synced("备份后的任务").await?;

    // The server goes down and comes back from the backup; meanwhile a change waits.
    let (data_dir, database_url) = server.kill();
    desk.create_task("恢复期间的任务").await?;
    wait_until("the change waits", || async {
        sync_text(&desk).await.contains("1 项待同步")
    })
    .await?;
    let out = std::process::Command::new(e2e::binary())
        .arg("restore")
        .arg(&file)
        .arg("--data-dir")
        .arg(data_dir.path())
        .arg("--force")
        .output()?;
    anyhow::ensure!(out.status.success(), "restore: {out:?}");
    let server = Server::start_in(
        ServerOptions {
            addr: Some(addr),
            ..opts
        },
        data_dir,
        database_url,
    )
    .await?;
    let office = e2e::sync_client::Session::login(&server, "office").await?;
    office.wait_for_task("恢复期间的任务").await?;
    wait_until("nothing waits any more", || async {
        sync_text(&desk).await == "在线"
    })
    .await?;
    let view = office.server_view().await?;
    let count = |title: &str| view.tasks().filter(|t| t.title == title).count();
    assert_eq!(count("恢复期间的任务"), 1, "applied once");
    assert_eq!(count("备份前的任务"), 1, "the backup's own");
    assert_eq!(
        count("备份后的任务"),
        0,
        "lost with the restore, as expected"
    );
    // The old client was retired up to the change the tab moved (made after the backup's last
    // and the lost task), so a tab still holding that change can't send it again. Without
    // that, no client would be past the backup's ids but the fresh one, at 1.
    let db = e2e::sync_client::ServerDb::open(&server).await?;
    let lasts: Vec<i64> = sqlx::query_scalar(lasts_of_lead)
        .bind(&lead)
        .fetch_all(&db.pool)
        .await?;
    assert!(
        lasts.iter().any(|last| *last > backed_up.max(1)),
        "the old client retired: {lasts:?}, the backup's highest {backed_up}"
    );
    desk.close().await
}

/// The code that reads the outbox back is a chunk of its own. A start that can't fetch it (no
/// connection before the service worker precached it) still counts the saved changes as
/// waiting, so signing out warns, and sends them once it can: here, the next time it syncs.
#[tokio::test]
async fn saved_changes_wait_for_the_code_that_reads_them() -> anyhow::Result<()> {
    let moved = "等待读出的任务";
    let (server, browser) = lead_with_card(DESKTOP, false, moved).await?;

    // Pushes stop reaching the server; the card moves, and the move waits in the outbox.
    browser.block_urls(&["*/api/sync/push*"]).await?;
    browser.move_with_menu(moved, "推进中").await?;
    wait_until("the move waits", || async {
        sync_text(&browser).await.contains("1 项待同步")
    })
    .await?;

    // A start with the chunks out of reach: the move is not shown, but it is counted.
    browser.bypass_service_worker().await?;
    browser
        .block_urls(&["*/api/sync/push*", "*/pkg/split-*.wasm"])
        .await?;
    browser.client.refresh().await?;
    wait_until("the reloaded board shows the card", || async {
        column_of(&browser, moved).await.is_some()
    })
    .await?;
    wait_until("the unread move is counted", || async {
        sync_text(&browser).await.contains("1 项待同步")
    })
    .await?;
    anyhow::ensure!(
        column_of(&browser, moved).await.as_deref() == Some("not_started"),
        "the move is not read yet, so not shown"
    );

    // Everything reachable again: the next sync (here, a new task's) reads the move and sends it.
    browser.block_urls(&[]).await?;
    browser.create_task("再建一项任务").await?;
    wait_until("everything is sent", || async {
        sync_text(&browser).await == "在线"
            && column_of(&browser, moved).await.as_deref() == Some("in_progress")
    })
    .await?;
    let column = server_column(&server, moved).await?;
    anyhow::ensure!(
        column == Some(Column::InProgress),
        "the server has the move: {column:?}"
    );
    browser.close().await
}

/// Two tabs of one browser; one loses its connection, a card is moved there, and the tab is
/// closed before the move went out. The tab still open sends it, without a reload: the closed
/// tab's change waits in the outbox they share, not in a tab that is gone.
#[tokio::test]
async fn a_closed_tabs_waiting_change_goes_out_from_a_tab_still_open() -> anyhow::Result<()> {
    let moved = "关掉的标签页里的更改";
    let (server, browser) = lead_with_card(DESKTOP, false, moved).await?;
    let closing = browser.client.window().await?;
    let open = second_tab_on_board(&browser, &server, moved).await?;

    // The first tab alone loses the server (DevTools blocks a tab's own requests).
    browser.client.switch_to_window(closing).await?;
    browser.block_urls(&["*/api/sync/push*"]).await?;
    browser.move_with_menu(moved, "推进中").await?;
    wait_until("the move waits in the outbox", || async {
        sync_text(&browser).await.contains("1 项待同步") && saved_outbox(&browser).await == 1
    })
    .await?;
    browser.client.close_window().await?;

    // The open tab's next round (here, for a task of its own) takes the move and sends it.
    browser.client.switch_to_window(open).await?;
    browser.create_task("仍开着的标签页的任务").await?;
    wait_until("the move is sent and shown", || async {
        sync_text(&browser).await == "在线"
            && column_of(&browser, moved).await.as_deref() == Some("in_progress")
            && saved_outbox(&browser).await == 0
    })
    .await?;
    let column = server_column(&server, moved).await?;
    anyhow::ensure!(
        column == Some(Column::InProgress),
        "the server has the move: {column:?}"
    );
    browser.close().await
}

/// Two tabs of one browser, both offline, building on each other's changes: a card made in
/// one is moved in the other, which moves another card before and after. The first tab takes
/// the second's changes as they are saved, in two rounds, and when it alone comes back sends
/// everything in an order the server accepts: the card before its move, each tab's changes in
/// their order. Nothing is refused, nothing reloads, and the second tab, back later, sends
/// duplicates only.
#[tokio::test]
async fn offline_tabs_building_on_each_others_changes_send_them_in_order() -> anyhow::Result<()> {
    let (made, moved) = ("甲标签页新建的任务", "两个标签页先后移动的任务");
    let (server, browser) = lead_with_card(DESKTOP, false, moved).await?;
    let first = browser.client.window().await?;
    let second = second_tab_on_board(&browser, &server, moved).await?;
    // A reload would drop this mark.
    let mark = "window.notReloaded = true; return true;";
    browser.client.execute(mark, vec![]).await?;
    browser.block_urls(&["*/api/sync/push*"]).await?;
    browser.client.switch_to_window(first.clone()).await?;
    browser.client.execute(mark, vec![]).await?;
    browser.block_urls(&["*/api/sync/push*"]).await?;

    // The first tab makes a card; the second, with a change of its own, takes it and shows it.
    browser.create_task(made).await?;
    browser.client.switch_to_window(second.clone()).await?;
    browser.move_with_menu(moved, "推进中").await?;
    wait_until("the second tab shows the first tab's card", || async {
        column_of(&browser, made).await.is_some()
    })
    .await?;
    // The first tab takes that move (its next round, while it waits for the server)…
    browser.client.switch_to_window(first.clone()).await?;
    wait_until("the first tab shows the second tab's move", || async {
        column_of(&browser, moved).await.as_deref() == Some("in_progress")
    })
    .await?;
    // …and then the second tab's moves of the new card and of the first one again.
    browser.client.switch_to_window(second.clone()).await?;
    browser.move_with_menu(made, "推进中").await?;
    browser.move_with_menu(moved, "待验收").await?;
    browser.client.switch_to_window(first.clone()).await?;
    wait_until(
        "the first tab shows the second tab's later moves",
        || async {
            column_of(&browser, made).await.as_deref() == Some("in_progress")
                && column_of(&browser, moved).await.as_deref() == Some("review")
        },
    )
    .await?;

    // The first tab alone is back: it sends all of it, in order.
    browser.block_urls(&[]).await?;
    wait_until("the first tab has sent everything", || async {
        sync_text(&browser).await == "在线" && saved_outbox(&browser).await == 0
    })
    .await?;
    let column = server_column(&server, made).await?;
    anyhow::ensure!(
        column == Some(Column::InProgress),
        "the card was made before it was moved: {column:?}"
    );
    let column = server_column(&server, moved).await?;
    anyhow::ensure!(
        column == Some(Column::Review),
        "the second tab's moves arrived in their order: {column:?}"
    );
    let refusals = browser.count(".notices li").await?;
    anyhow::ensure!(refusals == 0, "the first tab says nothing was refused");
    let kept = browser
        .client
        .execute("return window.notReloaded === true;", vec![])
        .await?;
    anyhow::ensure!(
        kept == serde_json::json!(true),
        "the first tab did not reload"
    );

    // The second tab, back too, finds its changes applied.
    browser.client.switch_to_window(second).await?;
    browser.block_urls(&[]).await?;
    wait_until("the second tab is in step", || async {
        sync_text(&browser).await == "在线"
            && column_of(&browser, moved).await.as_deref() == Some("review")
    })
    .await?;
    let refusals = browser.count(".notices li").await?;
    anyhow::ensure!(refusals == 0, "the second tab says nothing was refused");
    let kept = browser
        .client
        .execute("return window.notReloaded === true;", vec![])
        .await?;
    anyhow::ensure!(
        kept == serde_json::json!(true),
        "the second tab did not reload"
    );
    browser.close().await
}

/// A phone without a connection waits longer between tries the longer it lasts (up to half a
/// minute); when the browser says it is online again, it tries at once.
#[tokio::test]
async fn back_online_the_page_syncs_without_waiting_out_its_retry() -> anyhow::Result<()> {
    let title = "信号回来就同步的任务";
    let (server, browser) = lead_with_card(PHONE, true, title).await?;
    let offline = |offline: bool| {
        serde_json::json!({
            "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1
        })
    };
    browser.cdp("Network.enable", serde_json::json!({})).await?;
    browser
        .cdp("Network.emulateNetworkConditions", offline(true))
        .await?;
    browser.move_with_menu(title, "推进中").await?;
    wait_until("the move waits", || async {
        sync_text(&browser).await.contains("1 项待同步")
    })
    .await?;
    // Failed tries meanwhile: the next one is seconds away.
    tokio::time::sleep(Duration::from_secs(4)).await;
    browser
        .cdp("Network.emulateNetworkConditions", offline(false))
        .await?;
    wait_until("the move is sent", || async {
        sync_text(&browser).await == "在线" && saved_outbox(&browser).await == 0
    })
    .await?;
    let early = browser
        .client
        .execute(
            "return performance.getEntriesByName('retry: back online').length > 0;",
            vec![],
        )
        .await?;
    anyhow::ensure!(
        early == serde_json::json!(true),
        "the page tried again when the browser said it was online, not at its next retry"
    );
    let column = server_column(&server, title).await?;
    anyhow::ensure!(
        column == Some(Column::InProgress),
        "the server has the move: {column:?}"
    );
    browser.close().await
}

/// The server ends a session while its page is open (signed out everywhere from another
/// device, say) and a change is made after: the page says so, and its 重新登录 leads to the
/// login page, which says why and that the change is still waiting here, and whose; signing in
/// again sends it.
#[tokio::test]
async fn a_change_made_as_the_session_ended_waits_for_the_next_sign_in() -> anyhow::Result<()> {
    const TITLE: &str = "会话结束后建的任务";
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let lead = demo_username(&server, "区财政局〈国资委〉").await?;
    let browser = Browser::start(DESKTOP, false).await?;
    browser.login(&server.url, &lead, DEMO_PASSWORD).await?;
    browser
        .client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    wait_until("the board is synced", || async {
        sync_text(&browser).await == "在线"
    })
    .await?;

    // Signed out everywhere, from another device.
    let other = e2e::sync_client::Session::login(&server, &lead).await?;
    let res = other.api.logout_everywhere().await?;
    anyhow::ensure!(res.status().is_success(), "logout: {}", res.status());

    browser.create_task(TITLE).await?;
    // Said on the page the user is on (what they may still be typing stays), with a way on.
    browser
        .find(Locator::XPath(
            "//p[contains(@class,'stopped')][contains(.,'登录已失效，请重新登录')]",
        ))
        .await?;
    browser.click_named("button", "重新登录").await?;
    browser
        .wait_for_exact_text("main.login p.notice[role=status]", "登录已失效，请重新登录")
        .await?;
    let unsent = browser
        .find(Locator::Css("[data-testid=unsent]"))
        .await?
        .text()
        .await?;
    anyhow::ensure!(
        unsent.contains("1项更改尚未同步") && unsent.contains("区财政局〈国资委〉"),
        "the login page names the change waiting and whose it is: {unsent}"
    );
    browser.screenshot("login-after-session-ended").await?;

    let office = e2e::sync_client::Session::login(&server, "office").await?;
    anyhow::ensure!(
        !office
            .server_view()
            .await?
            .tasks()
            .any(|t| t.title == TITLE),
        "the change reached the server without a session"
    );
    browser.login(&server.url, &lead, DEMO_PASSWORD).await?;
    office.wait_for_task(TITLE).await?;
    browser.close().await
}
