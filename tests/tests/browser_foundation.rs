//! The app in real headless Chromium: sign in, see the plan, open item 4 — at desktop size and on
//! a 390×844 phone; what it does before it has started (the placeholder, the early first pull).

use e2e::browser::{Browser, DESKTOP, PHONE};
use e2e::sync_client::{Item4, Tab, create_task};
use e2e::{DEMO_PASSWORD, Server, ServerOptions, demo_username};
use fantoccini::Locator;
use shared::entity::Millis;
use shared::ids::ClientGroupId;

async fn plan_in_browser(size: (u32, u32), mobile: bool, name: &str) -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let browser = Browser::start(size, mobile).await?;
    browser.login(&server.url, "unit01", DEMO_PASSWORD).await?;
    browser
        .wait_for_text("开展集体股份合作公司试点改革")
        .await?;
    browser.wait_for_text("区财政局〈国资委〉").await?;
    // index.html's placeholder, shown while the app downloads, is gone once it runs.
    assert_eq!(
        browser.count("#boot").await?,
        0,
        "the loading placeholder stayed"
    );
    browser.screenshot(&format!("{name}-plan")).await?;

    // The plan's fourteen items, in order, each with its lead units.
    let rows = browser
        .client
        .find_all(Locator::Css("ol.items > li.item-row"))
        .await?;
    assert_eq!(rows.len(), 14, "the plan page lists the 14 items");
    let mut numbers = Vec::new();
    for row in &rows {
        numbers.push(row.find(Locator::Css(".num")).await?.text().await?);
        let lead = row.find(Locator::Css("dd.lead")).await?.text().await?;
        assert!(!lead.is_empty(), "an item without its lead units");
    }
    let expected: Vec<String> = (1..=14).map(|n| n.to_string()).collect();
    assert_eq!(numbers, expected);
    // Item 4 opens from its link, as a user would.
    let row4 = rows
        .get(3)
        .ok_or_else(|| anyhow::anyhow!("no fourth row"))?;
    let link = row4.find(Locator::Css("a.item-link")).await?;
    browser.scroll_to(&link).await?;
    link.click().await?;
    let heading = browser
        .find(Locator::Css("article.item h1"))
        .await?
        .text()
        .await?;
    assert!(
        heading.contains("开展集体股份合作公司试点改革"),
        "{heading}"
    );
    let lead = browser
        .find(Locator::Css("article.item dd.lead"))
        .await?
        .text()
        .await?;
    assert_eq!(lead, "区财政局〈国资委〉");
    browser.screenshot(&format!("{name}-item4")).await?;

    // Nothing wider than the screen on a phone.
    browser
        .no_sideways_scroll(&format!("item 4 at {size:?}"))
        .await?;

    // The units page: the plan's 27 units, 区财政局〈国资委〉 leading items 2, 3 and 4.
    browser
        .client
        .goto(&format!("{}/units", server.url))
        .await?;
    browser
        .find(Locator::Css("ul.units-list > li.unit-row"))
        .await?;
    let units = browser
        .client
        .find_all(Locator::Css("ul.units-list > li.unit-row"))
        .await?;
    assert_eq!(units.len(), 27, "the units page lists the plan's 27 units");
    let finance = browser
        .find(Locator::XPath(
            "//li[contains(@class,'unit-row')][.//*[normalize-space(text())='区财政局〈国资委〉']]",
        ))
        .await?
        .text()
        .await?;
    for n in ["2", "3", "4"] {
        assert!(
            finance.contains(n),
            "区财政局〈国资委〉 leads item {n}: {finance}"
        );
    }
    browser.close().await
}

#[tokio::test]
async fn plan_and_item_on_desktop() -> anyhow::Result<()> {
    plan_in_browser(DESKTOP, false, "desktop").await
}

#[tokio::test]
async fn plan_and_item_on_phone() -> anyhow::Result<()> {
    plan_in_browser(PHONE, true, "phone").await
}

/// A phone whose connection drops while the app downloads is told to reload, not left with a
/// page that says "loading" forever.
#[tokio::test]
async fn a_page_whose_app_cannot_load_says_so() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let browser = Browser::start(PHONE, true).await?;
    browser.cdp("Network.enable", serde_json::json!({})).await?;
    browser
        .cdp(
            "Network.setBlockedURLs",
            serde_json::json!({ "urls": ["*frontend_bg.wasm*"] }),
        )
        .await?;
    browser.client.goto(&server.url).await?;
    browser.wait_for_text("改革看板未能加载").await?;
    let boot = browser.find(Locator::Css("#boot")).await?;
    assert_eq!(boot.attr("role").await?.as_deref(), Some("status"));
    browser.screenshot("phone-app-could-not-load").await?;
    // One tap tries again: unblocked, the app starts.
    browser
        .cdp("Network.setBlockedURLs", serde_json::json!({ "urls": [] }))
        .await?;
    browser.click_named("button", "重新加载 Reload").await?;
    browser.find(Locator::Css("main.login")).await?;
    assert_eq!(
        browser.count("#boot").await?,
        0,
        "the placeholder stayed after the reload"
    );
    browser.close().await
}

/// Times are Beijing times, as the plan's dates and the exports are, whatever zone the browser
/// is set to: in New York, a difficulty the demo year raised at noon on 1 August 2014 in
/// Shenzhen would otherwise read as raised on 31 July.
#[tokio::test]
async fn times_read_in_beijing_time_in_any_browser_zone() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        site: true,
        args: vec!["--demo-year".into()],
        ..Default::default()
    })
    .await?;
    let browser = Browser::start(DESKTOP, false).await?;
    browser
        .cdp(
            "Emulation.setTimezoneOverride",
            serde_json::json!({ "timezoneId": "America/New_York" }),
        )
        .await?;
    browser.login(&server.url, "office", DEMO_PASSWORD).await?;
    browser
        .client
        .goto(&format!("{}/items/9/difficulties", server.url))
        .await?;
    browser
        .find(Locator::XPath(
            "//li[contains(@class,'difficulty')][contains(.,'2014年8月1日 11:59')]",
        ))
        .await?;
    browser.close().await
}

/// Whether the app took the answer to the first pull that boot.js sent while the wasm loaded
/// (`api::post_prefetched` marks it), polled for up to 10 s as the start runs.
async fn took_early_pull(browser: &Browser) -> anyhow::Result<bool> {
    for _ in 0..100 {
        let taken = browser
            .client
            .execute(
                "return performance.getEntriesByName('reformboardPull taken').length;",
                vec![],
            )
            .await?;
        if taken.as_i64() == Some(1) {
            return Ok(true);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(false)
}

/// Whether this browser's saved copy has a cookie yet (its first sync written down).
async fn saved_cookie(browser: &Browser) -> anyhow::Result<bool> {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const open = indexedDB.open("reformboard");
        open.onerror = () => done(false);
        open.onsuccess = () => {
          const db = open.result;
          const get = db.transaction("meta", "readonly").objectStore("meta").get("cookie");
          get.onsuccess = () => { db.close(); done(get.result != null); };
          get.onerror = () => { db.close(); done(false); };
        };
    "#;
    Ok(browser
        .client
        .execute_async(script, vec![])
        .await?
        .as_bool()
        == Some(true))
}

/// boot.js sends the first pull while the wasm downloads, and the app takes its answer instead
/// of asking again: on a first visit (no saved copy, no client group yet) and on a return (the
/// saved copy's cookie: only what changed since comes, here a card another unit made while
/// the page was closed). A visitor who is not signed in sends none.
#[tokio::test]
async fn the_first_pull_goes_out_while_the_app_loads() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let browser = Browser::start(DESKTOP, false).await?;
    browser.client.goto(&server.url).await?;
    browser.find(Locator::Css("main.login")).await?;
    let sent = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             window.reformboardPull.then((p) => done(p === null));",
            vec![],
        )
        .await?;
    assert_eq!(sent.as_bool(), Some(true), "signed out, no pull is sent");
    browser.login(&server.url, "unit01", DEMO_PASSWORD).await?;

    // A first visit: nothing saved and no client group in this browser. On the CI machine,
    // with seven other browsers running beside this one, boot.js's answer once went untaken
    // (cause not yet found; the app's 5-s wait for boot.js's request running out is the
    // likeliest), so a first visit is tried up to three times and one must take it.
    let board = format!("{}/items/4/board", server.url);
    let mut taken = false;
    for _ in 0..3 {
        browser.client.goto("about:blank").await?;
        browser
            .cdp(
                "Storage.clearDataForOrigin",
                serde_json::json!({ "origin": server.url, "storageTypes": "indexeddb,local_storage" }),
            )
            .await?;
        browser.client.goto(&board).await?;
        browser
            .find(Locator::Css("header.board-head dd.lead"))
            .await?;
        taken = took_early_pull(&browser).await?;
        if taken {
            break;
        }
        // Why not (`api::post_prefetched` marks it), for whoever reads a failure.
        let why = browser
            .client
            .execute(
                "return performance.getEntriesByType('mark').map((m) => m.name) \
                 .filter((n) => n.startsWith('reformboardPull'));",
                vec![],
            )
            .await?;
        eprintln!("the early pull was not taken: {why}");
    }
    assert!(
        taken,
        "the first visit's pull was sent by boot.js and taken"
    );
    let group = browser
        .client
        .execute(
            "return Object.entries(localStorage) \
             .filter(([k]) => k.startsWith('reformboard.client_group.')).map(([, v]) => v)[0];",
            vec![],
        )
        .await?;
    assert!(
        group
            .as_str()
            .is_some_and(|g| g.parse::<ClientGroupId>().is_ok()),
        "the client group boot.js made for the first visit's pull is kept: {group:?}"
    );
    let mut saved = false;
    for _ in 0..100 {
        saved = saved_cookie(&browser).await?;
        if saved {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(saved, "the first sync was written down");

    // Closed; meanwhile the lead unit adds a card. The return pulls from the saved cookie.
    browser.client.goto("about:blank").await?;
    let world = Item4::on(&server).await?;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    let (_, m) = create_task(
        world.item.id,
        world.lead.me.unit,
        "页面关闭时新增的任务",
        Millis(1_396_224_000_000),
    );
    tab.add(m);
    world.lead.push_ok(&tab.push_request()).await?;
    browser.client.goto(&board).await?;
    browser.wait_for_text("页面关闭时新增的任务").await?;
    assert!(
        took_early_pull(&browser).await?,
        "the return's pull was sent by boot.js and taken"
    );

    // A browser from before client groups were kept per user has one group for everyone: the
    // app takes it over for whoever starts first (their outbox was sent under it), and boot.js
    // leaves that first pull to the app.
    browser.client.goto(&server.url).await?;
    browser.find(Locator::Css("[data-signed-in]")).await?;
    let legacy = ClientGroupId::new_v7().to_string();
    browser
        .client
        .execute(
            "localStorage.clear(); localStorage.setItem('reformboard.client_group', arguments[0]);",
            vec![serde_json::json!(legacy)],
        )
        .await?;
    browser.client.goto(&board).await?;
    browser
        .find(Locator::Css("header.board-head dd.lead"))
        .await?;
    let groups = browser
        .client
        .execute(
            "return Object.entries(localStorage) \
             .filter(([k]) => k.startsWith('reformboard.client_group'));",
            vec![],
        )
        .await?;
    let groups: Vec<(String, String)> = serde_json::from_value(groups)?;
    assert!(
        groups.len() == 1
            && groups[0].0.starts_with("reformboard.client_group.")
            && groups[0].1 == legacy,
        "the one group was taken over by the user: {groups:?}"
    );
    browser.close().await
}

/// Two people take turns on one office computer. Each syncs under a client group of their own:
/// the server refuses a group to anyone but the user who first synced under it, so with one
/// group per browser the second person's board would stay "loading" and their changes would be
/// refused.
#[tokio::test]
async fn two_people_take_turns_on_one_browser() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let office = e2e::sync_client::Session::login(&server, "office").await?;
    let lead = demo_username(&server, "区财政局〈国资委〉").await?;
    let board = format!("{}/items/4/board", server.url);
    let browser = Browser::start(DESKTOP, false).await?;

    browser.login(&server.url, &lead, DEMO_PASSWORD).await?;
    browser.client.goto(&board).await?;
    browser.create_task("甲在这台电脑上建的任务").await?;
    office.wait_for_task("甲在这台电脑上建的任务").await?;
    browser.click_named("button", "退出").await?;
    browser.find(Locator::Css("main.login")).await?;

    browser.login(&server.url, "office", DEMO_PASSWORD).await?;
    browser.client.goto(&board).await?;
    browser.wait_for_text("甲在这台电脑上建的任务").await?;
    browser.create_task("乙在同一台电脑上建的任务").await?;
    office.wait_for_task("乙在同一台电脑上建的任务").await?;
    let groups = browser
        .client
        .execute(
            "return Object.keys(localStorage).filter(k => k.startsWith('reformboard.client_group')).length;",
            vec![],
        )
        .await?;
    assert_eq!(
        groups.as_i64(),
        Some(2),
        "a client group for each of the two"
    );
    browser.close().await
}

/// An app whose wasm stops on an error (a trap, as a bug's panic ends in) says so with a button
/// to reload, instead of leaving a page that ignores every tap. (A chunk that can't be fetched
/// no longer stops it: see `browser_board::a_chunk_that_cannot_be_fetched_says_so`.) The trap is
/// reported to the page as a trap is, an error event carrying a `WebAssembly.RuntimeError`
/// (one thrown by a script the test injects reaches the page's listeners muted).
#[tokio::test]
async fn an_app_that_stopped_says_so() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let browser = Browser::start(DESKTOP, false).await?;
    browser.login(&server.url, "office", DEMO_PASSWORD).await?;
    browser
        .client
        .goto(&format!("{}/admin/users", server.url))
        .await?;
    browser.wait_for_text("新建账号").await?;
    browser
        .client
        .execute(
            "window.dispatchEvent(new ErrorEvent('error', \
             { error: new WebAssembly.RuntimeError('unreachable') }));",
            vec![],
        )
        .await?;
    let note = browser.find(Locator::Css("p.stopped[role=alert]")).await?;
    assert!(note.text().await?.contains("改革看板出错停止了"));
    browser.screenshot("desktop-app-stopped").await?;
    browser.click_named("button", "重新加载 Reload").await?;
    browser.wait_for_text("新建账号").await?;
    assert_eq!(
        browser.count("p.stopped").await?,
        0,
        "the reload started afresh"
    );
    browser.close().await
}

/// Signing out in one tab signs out the others of the browser too: a tab left showing the last
/// user would carry on with whoever signs in next (its requests carry the browser's session).
#[tokio::test]
async fn signing_out_in_one_tab_signs_out_the_others() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let browser = Browser::start(DESKTOP, false).await?;
    browser.login(&server.url, "unit01", DEMO_PASSWORD).await?;
    let first = browser.client.window().await?;
    let second = browser.client.new_window(true).await?;
    browser.client.switch_to_window(second.handle).await?;
    browser.client.goto(&server.url).await?;
    browser.find(Locator::Css("[data-signed-in]")).await?;
    browser.click_named("button", "退出").await?;
    browser.find(Locator::Css("main.login")).await?;
    browser.client.switch_to_window(first).await?;
    browser.find(Locator::Css("main.login")).await?;
    browser.close().await
}
