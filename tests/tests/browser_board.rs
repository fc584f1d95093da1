//! The boards in real headless Chromium, as their users work them: the lead unit of item 4 breaks
//! it into tasks with checklists and assigns one to a cooperating unit; cards move by mouse, by
//! touch, with the 移动到 menu and the keyboard; everything survives a reload; the cooperating
//! unit finds its card on 我的任务; filters live in the URL; the language switch renames columns.

use anyhow::Context;
use e2e::browser::{Browser, DESKTOP, PHONE, lead_on_item4_board, poll, xpath_literal};
use e2e::{DEMO_PASSWORD, Server, ServerOptions, demo_username};
use fantoccini::Locator;
use fantoccini::actions::{InputSource, MouseActions, PointerAction, TouchActions};
use shared::board::Column;
use std::time::Duration;

use e2e::sync_client::ITEM4_LEAD as LEAD;
const COOP: &str = "区社工委";

async fn card(browser: &Browser, title: &str) -> anyhow::Result<fantoccini::elements::Element> {
    let xpath = format!(
        "//li[contains(@class,'card')][.//button[contains(@class,'card-open') and normalize-space(.)={}]]",
        xpath_literal(title)
    );
    browser.find(Locator::XPath(&xpath)).await
}

/// A finger swiping left across `element`, from `x` right of its centre.
async fn swipe_left(
    browser: &Browser,
    element: fantoccini::elements::Element,
    x: f64,
) -> anyhow::Result<()> {
    let swipe = TouchActions::new("swiping finger".into())
        .then(PointerAction::MoveToElement {
            element,
            duration: None,
            x,
            y: 0.0,
        })
        .then(PointerAction::Down { button: 0 })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(200)),
            x: -160.0,
            y: 5.0,
        })
        .then(PointerAction::Up { button: 0 });
    browser.client.perform_actions(swipe).await?;
    browser.client.release_actions().await?;
    Ok(())
}

/// The column slug a card is in, once it shows (waiting up to 20 s).
async fn column_of(browser: &Browser, title: &str) -> anyhow::Result<String> {
    browser.find(Locator::XPath(&column_xpath(title))).await?;
    column_now(browser, title).await
}

/// The column slug a card is in now, without waiting.
async fn column_now(browser: &Browser, title: &str) -> anyhow::Result<String> {
    Ok(browser
        .client
        .find(Locator::XPath(&column_xpath(title)))
        .await?
        .attr("data-drop-column")
        .await?
        .unwrap_or_default())
}

fn column_xpath(title: &str) -> String {
    format!(
        "//section[@data-drop-column][.//button[contains(@class,'card-open') and normalize-space(.)={}]]",
        xpath_literal(title)
    )
}

/// The titles of the cards in `column`, top to bottom.
async fn titles_in(browser: &Browser, column: &str) -> anyhow::Result<Vec<String>> {
    let v = browser
        .client
        .execute(
            &format!(
                "return [...document.querySelectorAll(\"section[data-drop-column={column}] li.card .card-open\")].map(b => b.textContent.trim());"
            ),
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// Waits up to 20 s until `title` is in `column`.
async fn wait_column(browser: &Browser, title: &str, column: &str) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if column_now(browser, title).await.ok().as_deref() == Some(column) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!(
        "{title} never reached {column} (is in {:?})",
        column_now(browser, title).await.ok()
    )
}

/// Press on `handle`, move a little so the drag starts, move onto `target` (`dy` below its
/// centre) and lift: the same gesture for a mouse and a finger.
fn drag_gesture<S: InputSource<Action = PointerAction>>(
    source: S,
    handle: fantoccini::elements::Element,
    target: fantoccini::elements::Element,
    dy: f64,
) -> S {
    source
        .then(PointerAction::MoveToElement {
            element: handle,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down { button: 0 })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(150)),
            x: 0.0,
            y: 20.0,
        })
        .then(PointerAction::MoveToElement {
            element: target,
            duration: Some(Duration::from_millis(300)),
            x: 0.0,
            y: dy,
        })
        .then(PointerAction::Up { button: 0 })
}

async fn create_task(browser: &Browser, title: &str, owner: &str) -> anyhow::Result<()> {
    let form = browser.open_create_task().await?;
    form.find(Locator::Css("input[name=title]"))
        .await?
        .send_keys(title)
        .await?;
    let select = form.find(Locator::Css("select[name=owner]")).await?;
    select.select_by_label(owner).await?;
    form.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    card(browser, title).await?;
    Ok(())
}

async fn sync_settled(browser: &Browser) -> anyhow::Result<()> {
    for _ in 0..100 {
        let text = browser
            .find(Locator::Css("[data-testid=sync-state]"))
            .await?
            .text()
            .await?;
        if text == "在线" || text == "Online" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("changes never synced")
}

/// The titles of item 4's cards in `column` as the server holds them, in board order: what a
/// reload shows could come from the browser's own saved copy and outbox.
async fn server_titles_in(server: &Server, column: &str) -> anyhow::Result<Vec<String>> {
    let office = e2e::sync_client::Session::login(server, "office").await?;
    let view = office.server_view().await?;
    let item = shared::ids::item_id_for_number(4);
    let mut cards: Vec<_> = view
        .tasks()
        .filter(|t| {
            t.item == item
                && !t.archived
                && serde_json::to_value(t.column).ok() == Some(column.into())
        })
        .collect();
    cards.sort_by(|a, b| a.sort_key.cmp(&b.sort_key));
    Ok(cards.into_iter().map(|t| t.title.clone()).collect())
}

#[tokio::test]
async fn lead_unit_works_the_board_on_desktop() -> anyhow::Result<()> {
    let (server, browser) = lead_on_item4_board(DESKTOP, false).await?;
    let coop = demo_username(&server, COOP).await?;
    browser
        .wait_for_text("开展集体股份合作公司试点改革")
        .await?;

    create_task(&browser, "摸清试点公司底数", LEAD).await?;
    create_task(&browser, "制定扶持办法", COOP).await?;
    create_task(&browser, "<img src=x onerror=alert(1)>", LEAD).await?;
    // The form stays open for the next task until closed; closed, its button takes the focus.
    browser.click_named("button", "关闭").await?;
    let reopen = browser.named("button", "新建任务").await?;
    assert_eq!(
        browser.count("form.create-task").await?,
        0,
        "the form closed"
    );
    for _ in 0..50 {
        if browser.client.active_element().await?.element_id() == reopen.element_id() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        browser.client.active_element().await?.element_id() == reopen.element_id(),
        "focus returns to the button that opens the form"
    );
    browser.screenshot("board-desktop-form-closed").await?;
    assert_eq!(column_of(&browser, "制定扶持办法").await?, "not_started");

    // Checklist in the card's detail.
    card(&browser, "制定扶持办法")
        .await?
        .find(Locator::Css(".card-open"))
        .await?
        .click()
        .await?;
    let dialog = browser.detail().await?;
    for step in ["调研兄弟区做法", "起草办法"] {
        dialog
            .find(Locator::Css("input[name=step]"))
            .await?
            .send_keys(step)
            .await?;
        dialog
            .find(Locator::XPath(
                ".//form[.//input[@name='step']]//button[@type='submit']",
            ))
            .await?
            .click()
            .await?;
        browser.wait_for_text(step).await?;
    }
    // A step renamed in place (Enter keeps it).
    browser.click_named("button", "修改 起草办法").await?;
    // Select all, type over it, Enter (WebDriver's clear would also blur it, which saves).
    let edit = browser.named("input", "修改 起草办法").await?;
    edit.send_keys("\u{E009}a\u{E000}起草扶持办法\u{E007}")
        .await?;
    browser.wait_for_text("起草扶持办法").await?;
    // Its history, from the audit trail: the card's creation (分解任务) is there.
    browser
        .find(Locator::XPath(
            "//aside[@role='dialog']//section[contains(@class,'history')]//li[contains(.,'分解任务')]",
        ))
        .await?;
    dialog
        .find(Locator::Css("button.close"))
        .await?
        .click()
        .await?;
    browser.wait_for_text("☑ 0/2").await?;

    // Drag by mouse to 推进中.
    let handle = card(&browser, "制定扶持办法")
        .await?
        .find(Locator::Css(".handle"))
        .await?;
    browser.scroll_to(&handle).await?;
    let target = browser
        .find(Locator::Css(
            "section[data-drop-column=in_progress] .column-head",
        ))
        .await?;
    let drag = drag_gesture(MouseActions::new("mouse".into()), handle, target, 30.0);
    browser.client.perform_actions(drag).await?;
    wait_column(&browser, "制定扶持办法", "in_progress").await?;

    // Keyboard: Shift+→ moves the focused card one column right.
    let open = card(&browser, "摸清试点公司底数")
        .await?
        .find(Locator::Css(".card-open"))
        .await?;
    open.send_keys("\u{E008}\u{E014}").await?; // Shift + ArrowRight
    wait_column(&browser, "摸清试点公司底数", "in_progress").await?;
    // It lands at the bottom; Shift+↑ moves it above the other.
    let order = || titles_in(&browser, "in_progress");
    assert_eq!(order().await?, ["制定扶持办法", "摸清试点公司底数"]);
    // A screen reader hears where it went (the focus stays on the card).
    browser
        .find(Locator::XPath(
            "//p[@role='status'][@data-testid='board-moved'][normalize-space(.)='已移至推进中，第2项，共2项']",
        ))
        .await?;
    card(&browser, "摸清试点公司底数")
        .await?
        .find(Locator::Css(".card-open"))
        .await?
        .send_keys("\u{E008}\u{E013}") // Shift + ArrowUp
        .await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while order().await? != ["摸清试点公司底数", "制定扶持办法"] {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "Shift+↑ did not move it"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Opened from the keyboard, the detail takes the focus: Escape closes it, and the focus
    // is back on the card it was opened from.
    card(&browser, "摸清试点公司底数")
        .await?
        .find(Locator::Css(".card-open"))
        .await?
        .send_keys("\u{E007}") // Enter
        .await?;
    browser.detail().await?;
    let focus_in = |selector: &'static str| {
        let browser = &browser;
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                let v = browser
                    .client
                    .execute(
                        &format!("return !!document.activeElement?.closest({selector:?});"),
                        vec![],
                    )
                    .await?;
                if v == serde_json::Value::Bool(true) {
                    return anyhow::Ok(());
                }
                anyhow::ensure!(
                    std::time::Instant::now() < deadline,
                    "the focus never went into {selector}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    focus_in("aside[role=dialog]").await?;
    browser
        .client
        .active_element()
        .await?
        .send_keys("\u{E00C}") // Escape
        .await?;
    focus_in("li.card .card-open").await?;
    anyhow::ensure!(
        browser.count("aside[role=dialog]").await? == 0,
        "Escape left the detail open"
    );

    // The XSS attempt is shown as text, not run.
    let alert = browser.client.get_alert_text().await;
    assert!(alert.is_err(), "an alert opened: {alert:?}");
    assert_eq!(
        browser.count("li.card img").await?,
        0,
        "markup in a title stays text"
    );

    sync_settled(&browser).await?;
    browser.screenshot("board-desktop").await?;

    // Columns and order persisted on the server, and a reload shows them.
    assert_eq!(
        server_titles_in(&server, "in_progress").await?,
        ["摸清试点公司底数", "制定扶持办法"]
    );
    browser.client.refresh().await?;
    wait_column(&browser, "制定扶持办法", "in_progress").await?;
    wait_column(&browser, "摸清试点公司底数", "in_progress").await?;
    assert_eq!(
        titles_in(&browser, "in_progress").await?,
        ["摸清试点公司底数", "制定扶持办法"]
    );

    // Filters narrow the board and survive a reload through the URL.
    let search = browser.find(Locator::Css("input[type=search]")).await?;
    search.send_keys("扶持\n").await?;
    for _ in 0..50 {
        if browser.client.current_url().await?.as_str().contains("q=") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        browser
            .client
            .find_all(Locator::XPath(
                "//button[contains(@class,'card-open') and normalize-space(.)='摸清试点公司底数']"
            ))
            .await?
            .is_empty()
    );
    browser.client.refresh().await?;
    card(&browser, "制定扶持办法").await?;
    assert!(
        browser
            .client
            .find_all(Locator::XPath(
                "//button[contains(@class,'card-open') and normalize-space(.)='摸清试点公司底数']"
            ))
            .await?
            .is_empty()
    );

    // Archive takes a card off the board (after a confirmation); the 已归档 filter shows it
    // again, and Restore puts it back. Nothing is deleted.
    browser
        .client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    let xss = "<img src=x onerror=alert(1)>";
    card(&browser, xss)
        .await?
        .find(Locator::Css(".card-open"))
        .await?
        .click()
        .await?;
    browser
        .find(Locator::XPath(
            "//aside[@role='dialog']//button[normalize-space(.)='归档']",
        ))
        .await?
        .click()
        .await?;
    browser.client.accept_alert().await?;
    for _ in 0..50 {
        if browser
            .client
            .find_all(Locator::XPath(&format!(
                "//button[contains(@class,'card-open') and normalize-space(.)={}]",
                xpath_literal(xss)
            )))
            .await?
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        browser
            .client
            .find_all(Locator::XPath(&format!(
                "//button[contains(@class,'card-open') and normalize-space(.)={}]",
                xpath_literal(xss)
            )))
            .await?
            .is_empty(),
        "archived card left the board"
    );
    browser
        .find(Locator::XPath("//label[normalize-space(.)='已归档']/input"))
        .await?
        .click()
        .await?;
    card(&browser, xss)
        .await?
        .find(Locator::Css(".card-open"))
        .await?
        .click()
        .await?;
    browser
        .find(Locator::XPath(
            "//aside[@role='dialog']//button[normalize-space(.)='恢复']",
        ))
        .await?
        .click()
        .await?;
    browser
        .find(Locator::XPath(
            "//aside[@role='dialog']//button[normalize-space(.)='归档']",
        ))
        .await?;
    browser.close_dialog().await?;
    browser
        .find(Locator::XPath("//label[normalize-space(.)='已归档']/input"))
        .await?
        .click()
        .await?;
    card(&browser, xss).await?;

    // Language switch renames the columns.
    browser
        .find(Locator::Css("button[aria-label='English 切换语言']"))
        .await?
        .click()
        .await?;
    let headings = |browser: &Browser| {
        let client = browser.client.clone();
        async move {
            let v = client
                .execute(
                    "return [...document.querySelectorAll('.column-head')].map(h => h.textContent.replace(h.querySelector('.count')?.textContent ?? '', '').trim());",
                    vec![],
                )
                .await?;
            anyhow::Ok(serde_json::from_value::<Vec<String>>(v)?)
        }
    };
    let columns_read = |want: [&'static str; 4]| {
        let browser = &browser;
        async move {
            poll(
                || async { Ok(headings(browser).await? == want) },
                || async {
                    anyhow::anyhow!(
                        "column headings {:?}, want {want:?}",
                        headings(browser).await.ok()
                    )
                },
            )
            .await
        }
    };
    columns_read(["Not started", "In progress", "Awaiting acceptance", "Done"]).await?;
    browser
        .find(Locator::Css("button[aria-label='中文 Switch language']"))
        .await?
        .click()
        .await?;
    columns_read(["未启动", "推进中", "待验收", "已完成"]).await?;
    browser.close().await?;

    // The cooperating unit finds the card on 我的任务, in item 4's swimlane, and has no
    // create or archive controls on the item.
    let other = Browser::start(DESKTOP, false).await?;
    other.login(&server.url, &coop, DEMO_PASSWORD).await?;
    other.client.goto(&format!("{}/my", server.url)).await?;
    other.find(Locator::XPath("//section[contains(@class,'lane')][.//h2[contains(.,'开展集体股份合作公司试点改革')]]//button[normalize-space(.)='制定扶持办法']")).await?;
    // The items it cooperates on without a task of its own are named in one list, each a
    // link to its board, not drawn as empty swimlanes.
    other
        .find(Locator::XPath(
            "//section[contains(@class,'idle-items')]//a[contains(@href,'/board')]",
        ))
        .await?;
    assert_eq!(
        other.count("section.lane:not(:has(li.card))").await?,
        0,
        "an empty swimlane on a unit board"
    );
    other.screenshot("board-my-tasks").await?;
    other
        .client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    card(&other, "摸清试点公司底数").await?;
    assert_eq!(
        other
            .count("form.create-task, button.create-task-open")
            .await?,
        0,
        "no create form, and no button to open one"
    );
    card(&other, "制定扶持办法")
        .await?
        .find(Locator::Css(".card-open"))
        .await?
        .click()
        .await?;
    other.detail().await?;
    assert!(
        other
            .client
            .find_all(Locator::XPath("//button[normalize-space(.)='归档']"))
            .await?
            .is_empty(),
        "no archive button"
    );
    other.close().await
}

#[tokio::test]
async fn phone_moves_cards_by_touch_and_menu() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let lead = demo_username(&server, LEAD).await?;
    let browser = Browser::start(PHONE, true).await?;
    browser.login(&server.url, &lead, DEMO_PASSWORD).await?;
    browser
        .client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    create_task(&browser, "试点公司一企一策", LEAD).await?;
    create_task(&browser, "财务公开检查", LEAD).await?;

    // Touch drag: press the handle, move a little (the drag starts), then move onto the
    // 推进中 tab and lift.
    let handle = card(&browser, "试点公司一企一策")
        .await?
        .find(Locator::Css(".handle"))
        .await?;
    browser.scroll_to(&handle).await?;
    let target = browser
        .find(Locator::Css("[data-drop-tab=in_progress]"))
        .await?;
    let touch = drag_gesture(TouchActions::new("finger".into()), handle, target, 0.0);
    browser.client.perform_actions(touch).await?;
    browser.client.release_actions().await?;
    wait_column(&browser, "试点公司一企一策", "in_progress").await?;
    // The next tap after a drag opens a card (the drop must not swallow it).
    browser
        .click_named("button", "打开任务 财务公开检查")
        .await?;
    browser.detail().await?;
    browser.close_dialog().await?;

    // The 移动到… menu.
    browser.move_with_menu("财务公开检查", "待验收").await?;
    wait_column(&browser, "财务公开检查", "review").await?;

    // One column at a time, switched with the tabs; nothing wider than the screen.
    browser
        .find(Locator::XPath(
            "//div[@role='tablist']/button[contains(.,'待验收')]",
        ))
        .await?
        .click()
        .await?;
    sync_settled(&browser).await?;
    browser.no_sideways_scroll("the phone board").await?;
    browser.screenshot("board-phone").await?;
    assert!(
        server_titles_in(&server, "in_progress")
            .await?
            .contains(&"试点公司一企一策".to_string()),
        "the touch move reached the server"
    );
    assert!(
        server_titles_in(&server, "review")
            .await?
            .contains(&"财务公开检查".to_string()),
        "the menu move reached the server"
    );

    browser.client.refresh().await?;
    wait_column(&browser, "试点公司一企一策", "in_progress").await?;
    wait_column(&browser, "财务公开检查", "review").await?;
    // Reopened with 未启动 empty, the board shows the first column that has cards; the empty
    // one, when picked, says so.
    browser
        .find(Locator::XPath(
            "//div[@role='tablist']/button[@aria-selected='true'][contains(.,'推进中')]",
        ))
        .await?;
    browser
        .find(Locator::XPath(
            "//div[@role='tablist']/button[contains(.,'未启动')]",
        ))
        .await?
        .click()
        .await?;
    browser
        .find(Locator::XPath(
            "//section[@data-drop-column='not_started']/p[@class='column-empty'][normalize-space(.)='暂无任务']",
        ))
        .await?;
    // A sideways swipe shows the next column.
    let board = browser.find(Locator::Css(".board")).await?;
    swipe_left(&browser, board, 80.0).await?;
    browser
        .find(Locator::XPath(
            "//div[@role='tablist']/button[@aria-selected='true'][contains(.,'推进中')]",
        ))
        .await?;
    // A swipe across a card, not by its handle, is a swipe too: the next column shows, and
    // the card stays where it was (a finger drags by the handle only).
    let face = card(&browser, "试点公司一企一策").await?;
    swipe_left(&browser, face, 60.0).await?;
    browser
        .find(Locator::XPath(
            "//div[@role='tablist']/button[@aria-selected='true'][contains(.,'待验收')]",
        ))
        .await?;
    anyhow::ensure!(column_now(&browser, "试点公司一企一策").await? == "in_progress");
    browser
        .find(Locator::XPath(
            "//div[@role='tablist']/button[contains(.,'推进中')]",
        ))
        .await?
        .click()
        .await?;
    // In English the tabs' longer names wrap rather than push the page sideways, and the
    // item's light is in English too.
    browser.switch_language().await?;
    browser
        .find(Locator::XPath(
            "//div[@role='tablist']/button[contains(.,'Awaiting acceptance')]",
        ))
        .await?;
    browser
        .find(Locator::XPath(
            "//header[@class='board-head']//span[contains(@class,'light')][normalize-space(.)='On track' or normalize-space(.)='Attention' or normalize-space(.)='Late']",
        ))
        .await?;
    browser
        .no_sideways_scroll("the phone board in English")
        .await?;
    let tabs_fit = browser
        .client
        .execute(
            "const tabs = [...document.querySelectorAll('.column-tabs button')];\
             return tabs.length === 4 && tabs.every(t => t.getBoundingClientRect().right <= document.documentElement.clientWidth + 1);",
            vec![],
        )
        .await?;
    assert_eq!(
        tabs_fit,
        serde_json::Value::Bool(true),
        "a column tab runs off the screen in English"
    );
    browser.screenshot("board-phone-en").await?;
    browser.close().await
}

/// A task's detail and the item's other sections are wasm chunks of their own. When one can't be
/// fetched (no connection before the service worker has precached it), the dialog or the screen
/// says so, and the app goes on: the dialog closes, the board still works. Once it can, the
/// next try opens it (a failed fetch is not remembered).
#[tokio::test]
async fn a_chunk_that_cannot_be_fetched_says_so() -> anyhow::Result<()> {
    let (_server, browser) = lead_on_item4_board(DESKTOP, false).await?;
    let title = "梳理国资监管权力清单";
    browser.create_task(title).await?;
    // Past the service worker, and the chunks unreachable.
    browser.bypass_service_worker().await?;
    browser.block_urls(&["*/pkg/split-*.wasm"]).await?;
    let open = || async {
        card(&browser, title)
            .await?
            .find(Locator::Css("button.card-open"))
            .await?
            .click()
            .await?;
        anyhow::Ok(())
    };
    open().await?;
    browser
        .wait_for_exact_text(
            "aside[role=dialog] p[role=alert]",
            "这部分未能加载，请联网后重试",
        )
        .await?;
    browser.close_dialog().await?;
    for _ in 0..50 {
        if browser.count("aside[role=dialog]").await? == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::ensure!(
        browser.count("aside[role=dialog]").await? == 0,
        "the dialog closed"
    );

    // A screen: its place says so, with a way to try again.
    browser.click_named("a", "改革内容").await?;
    browser.click_named("a", "时间轴").await?;
    browser
        .wait_for_exact_text("main [role=alert] p", "这部分未能加载，请联网后重试")
        .await?;
    browser.named("button", "重试").await?;
    // Back past the item's overview to the board.
    browser.client.back().await?;
    browser.client.back().await?;

    browser.block_urls(&[]).await?;
    open().await?;
    browser
        .wait_for_exact_text("aside[role=dialog] header h2", title)
        .await?;
    browser.close().await
}

/// Live: a leader watching the board sees the lead unit's new card, its comment and its move
/// without reloading, each time with the card briefly highlighted.
#[tokio::test]
async fn another_units_changes_show_live_with_a_highlight() -> anyhow::Result<()> {
    let (server, lead) = lead_on_item4_board(DESKTOP, false).await?;
    let leader = Browser::start(DESKTOP, false).await?;
    leader.login(&server.url, "leader", DEMO_PASSWORD).await?;
    leader
        .client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    leader.wait_for_text("开展集体股份合作公司试点改革").await?;
    sync_settled(&leader).await?;

    create_task(&lead, "清产核资", LEAD).await?;
    let highlighted = |title: &str| {
        format!(
            "//li[contains(@class,'card') and contains(@class,'flash')][.//button[contains(@class,'card-open') and normalize-space(.)={}]]",
            xpath_literal(title)
        )
    };
    leader
        .find(Locator::XPath(&highlighted("清产核资")))
        .await?;
    // The highlight is brief.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while leader.count(".card.flash").await? > 0 {
        anyhow::ensure!(std::time::Instant::now() < deadline, "the highlight stays");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A comment on the card highlights it too.
    lead.click_named("button", "打开任务 清产核资").await?;
    let dialog = lead.detail().await?;
    dialog
        .find(Locator::Css("textarea[name=comment]"))
        .await?
        .send_keys("已完成摸底")
        .await?;
    dialog
        .find(Locator::XPath(
            ".//form[.//textarea[@name='comment']]//button[@type='submit']",
        ))
        .await?
        .click()
        .await?;
    leader
        .find(Locator::XPath(&highlighted("清产核资")))
        .await?;
    lead.close_dialog().await?;

    // And a move shows in its new column.
    lead.move_with_menu("清产核资", "推进中").await?;
    wait_column(&leader, "清产核资", "in_progress").await?;
    leader.screenshot("board-live-desktop").await?;
    Ok(())
}

/// A refusal is told in the language on screen, and turns with it: the lead unit, in English,
/// asks to postpone a missed task to a date already past, which the rules refuse (checked in the
/// browser before anything is sent); the form and the notices say why in English, and in
/// Chinese once the language is switched back.
#[tokio::test]
async fn a_refusal_is_told_in_the_language_on_screen() -> anyhow::Result<()> {
    use shared::sync::{Outcome, PendingMutation};
    const TITLE: &str = "逾期的清产核资";
    const WHY_EN: &str = "The new date cannot be before today";
    const WHY_ZH: &str = "申请的日期不能早于今天";
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    // The office gives item 4's lead a task due ten days ago (only the office may set a date
    // already past).
    let e2e::sync_client::Item4 {
        office, item, lead, ..
    } = e2e::sync_client::Item4::on(&server).await?;
    let today = chrono::Utc::now().date_naive();
    let task = shared::mutation::Mutation::CreateTask {
        id: shared::ids::TaskId::new_v7(),
        item: item.id,
        title: TITLE.into(),
        owner: lead.me.unit,
        column: shared::board::Column::InProgress,
        sort_key: shared::board::sort_key::between(None, None),
        due: Some(today - chrono::Duration::days(10)),
        at: shared::entity::Millis(chrono::Utc::now().timestamp_millis()),
    };
    let res = office
        .push_ok(&e2e::sync_client::push_request(
            shared::ids::ClientGroupId::new_v7(),
            vec![PendingMutation {
                client_id: shared::ids::ClientId::new_v7(),
                id: 1,
                mutation: task,
            }],
        ))
        .await?;
    anyhow::ensure!(
        res.results.first().map(|r| &r.outcome) == Some(&Outcome::Applied),
        "{res:?}"
    );

    let browser = Browser::start(DESKTOP, false).await?;
    browser
        .login(&server.url, &lead.me.username, DEMO_PASSWORD)
        .await?;
    browser
        .client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    browser.click_named("button", "English 切换语言").await?;
    browser
        .click_named("button", &format!("Open task {TITLE}"))
        .await?;
    browser.detail().await?;
    // Two days ago: before today in Beijing too, and after the missed date.
    let past = today - chrono::Duration::days(2);
    let to = browser.field("New due date").await?;
    browser.scroll_to(&to).await?;
    browser
        .client
        .execute(
            "const el = arguments[0]; el.value = arguments[1]; el.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![serde_json::to_value(&to)?, past.to_string().into()],
        )
        .await?;
    browser.type_into("Reason", "清产核资尚未完成").await?;
    browser.click_named("button", "Ask the office").await?;
    browser
        .wait_for_exact_text("section.postponements p.error", WHY_EN)
        .await?;
    browser
        .wait_for_exact_text(".notices[role=alert] li", WHY_EN)
        .await?;
    // Seen where the user is looking: above the open detail, not behind it.
    let on_top = browser
        .client
        .execute(
            "const r = document.querySelector('.notices li').getBoundingClientRect();\
             const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);\
             return !!at && !!at.closest('.notices');",
            vec![],
        )
        .await?;
    anyhow::ensure!(
        on_top == serde_json::Value::Bool(true),
        "the refusal is hidden behind the open detail"
    );
    browser.screenshot("board-refusal-in-english").await?;

    browser.close_dialog().await?;
    browser
        .click_named("button", "中文 Switch language")
        .await?;
    browser
        .wait_for_exact_text(".notices[role=alert] li", WHY_ZH)
        .await?;
    anyhow::ensure!(
        lead.server_view()
            .await?
            .tasks()
            .all(|t| t.title != TITLE || t.postponements.is_empty()),
        "nothing was asked of the office"
    );
    Ok(())
}

/// A task done after its due date reads 逾期完成 on its card and on the timeline, in amber: the
/// assessment counts it missed, so it must not look like one done on time (the demo year's
/// item 4 step 开展调研论证 was due on 30 June 2014 and done on 10 July).
#[tokio::test]
async fn a_task_done_late_says_so() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        site: true,
        args: vec!["--demo-year".into()],
        ..Default::default()
    })
    .await?;
    let office = Browser::start(DESKTOP, false).await?;
    office.login(&server.url, "office", DEMO_PASSWORD).await?;
    office
        .client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    office
        .find(Locator::XPath(
            "//li[contains(@class,'card')][contains(.,'开展调研论证')]//span[contains(@class,'due')][contains(@class,'done-late')][normalize-space(.)='逾期完成 · 2014年6月30日']",
        ))
        .await?;
    office
        .client
        .goto(&format!("{}/items/4/timeline", server.url))
        .await?;
    office
        .find(Locator::XPath(
            "//span[contains(@class,'tl-mark')][contains(@class,'met-late')][contains(@aria-label,'开展调研论证')][contains(@aria-label,'逾期完成')]",
        ))
        .await?;
    office.close().await
}

/// A postponement asked against a due date the office has changed since can't be approved
/// (`shared::postponement::approvable`): the office's card offers only 不同意, and says why.
#[tokio::test]
async fn an_overtaken_postponement_offers_only_decline() -> anyhow::Result<()> {
    use e2e::sync_client::{PlanFacts, Session, Tab};
    use shared::ids::ClientGroupId;
    use shared::sync::Outcome;

    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let office = Session::login(&server, "office").await?;
    let facts = PlanFacts::new(office.server_view().await?);
    let item4 = facts.item(4)?;
    let lead = facts.login_unit(&server, LEAD).await?;
    let today = chrono::Utc::now().date_naive();
    let at = shared::entity::Millis(chrono::Utc::now().timestamp_millis());
    let (task, mut create) =
        e2e::sync_client::create_task(item4.id, item4.lead_units[0], "清产核资", at);
    if let shared::mutation::Mutation::CreateTask { due, .. } = &mut create {
        *due = Some(today + chrono::Duration::days(30));
    }
    let asked = shared::mutation::Mutation::RequestPostponement(shared::postponement::Request {
        task,
        due: today + chrono::Duration::days(60),
        reason: "清产核资工作量大".into(),
        at,
    });
    let office_due = today + chrono::Duration::days(90);
    let redate = shared::mutation::Mutation::SetTaskDue {
        task,
        due: Some(office_due),
        at,
    };
    for (session, mutations) in [(&lead, vec![create, asked]), (&office, vec![redate])] {
        let mut tab = Tab::new(ClientGroupId::new_v7());
        for m in mutations {
            tab.add(m);
        }
        let res = session.push_ok(&tab.push_request()).await?;
        anyhow::ensure!(
            res.results
                .iter()
                .all(|r| matches!(r.outcome, Outcome::Applied)),
            "{:?}",
            res.results
        );
    }

    let browser = Browser::start(DESKTOP, false).await?;
    browser.login(&server.url, "office", DEMO_PASSWORD).await?;
    browser
        .client
        .goto(&format!("{}/items/4/board?card={task}", server.url))
        .await?;
    browser.detail().await?;
    browser
        .wait_for_text(&format!(
            "申请提出后截止日期已改为{}",
            shared::board::zh_date(office_due)
        ))
        .await?;
    browser.named("button", "不同意").await?;
    let approve = browser
        .client
        .find_all(Locator::XPath(
            "//aside[@role='dialog']//button[normalize-space(.)='同意延期']",
        ))
        .await?;
    anyhow::ensure!(
        approve.is_empty(),
        "an overtaken request is offered for approval"
    );
    // The card no longer announces the date asked for as if it were coming.
    browser
        .wait_for_exact_text("li.card .postponing-badge", "延期申请已失效")
        .await?;
    browser
        .screenshot("board-postponement-overtaken-desktop")
        .await?;
    browser.close().await
}

/// The deployment the README describes: two backend processes on one PostgreSQL. A card made
/// and moved by a browser on one process shows, live, on a board open on the other (the poke
/// crosses through LISTEN/NOTIFY).
#[tokio::test]
async fn two_processes_on_postgresql_show_each_others_changes_live() -> anyhow::Result<()> {
    let a = Server::start(ServerOptions {
        store: e2e::Store::Postgres,
        site: true,
        ..Default::default()
    })
    .await?;
    let b = Server::start(ServerOptions {
        store: e2e::Store::Postgres,
        site: true,
        database_url: a.database_url.clone(),
        ..Default::default()
    })
    .await?;
    let leader = Browser::start(DESKTOP, false).await?;
    leader.login(&b.url, "leader", DEMO_PASSWORD).await?;
    leader
        .client
        .goto(&format!("{}/items/4/board", b.url))
        .await?;
    leader.wait_for_text("开展集体股份合作公司试点改革").await?;
    sync_settled(&leader).await?;

    let lead = Browser::start(DESKTOP, false).await?;
    let lead_user = demo_username(&a, LEAD).await?;
    lead.login(&a.url, &lead_user, DEMO_PASSWORD).await?;
    lead.client
        .goto(&format!("{}/items/4/board", a.url))
        .await?;
    lead.wait_for_text("开展集体股份合作公司试点改革").await?;
    create_task(&lead, "跨进程清产核资", LEAD).await?;
    wait_column(&leader, "跨进程清产核资", "not_started").await?;
    lead.move_with_menu("跨进程清产核资", "推进中").await?;
    wait_column(&leader, "跨进程清产核资", "in_progress").await?;
    assert_eq!(
        server_titles_in(&b, "in_progress").await?,
        ["跨进程清产核资"],
        "both processes read the same database"
    );
    Ok(())
}

/// The board's filters, each against the same rule computed from the server's copy: overdue,
/// blocked, due this month, one owner; each in the URL, and cleared again.
#[tokio::test]
async fn the_filters_show_what_they_say() -> anyhow::Result<()> {
    use e2e::sync_client::Item4;
    use shared::entity::Millis;
    use shared::ids::{ClientGroupId, TaskId};
    use shared::mutation::Mutation;
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let Item4 {
        office,
        facts,
        item,
        ..
    } = Item4::on(&server).await?;
    let lead = facts.unit(LEAD)?.id;
    let coop = facts.unit(COOP)?.id;
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let long_ago = chrono::NaiveDate::from_ymd_opt(2020, 1, 10).context("date")?;
    let next_year = today + chrono::Duration::days(400);
    let mut mutations = Vec::new();
    let mut card = |title: &str, owner, due| {
        let id = TaskId::new_v7();
        mutations.push(Mutation::CreateTask {
            id,
            item: item.id,
            title: title.into(),
            owner,
            column: Column::NotStarted,
            sort_key: shared::board::sort_key::between(None, None),
            due,
            at: Millis(0),
        });
        id
    };
    card("早已逾期的任务", lead, Some(long_ago));
    let stuck = card("受阻的任务", coop, Some(next_year));
    card("本月到期的任务", lead, Some(today));
    card("没有期限的任务", coop, None);
    mutations.push(Mutation::SetTaskBlocked {
        task: stuck,
        reason: Some("等待批复".into()),
        at: Millis(0),
    });
    let mut tab = e2e::sync_client::Tab::new(ClientGroupId::new_v7());
    for m in mutations {
        tab.add(m);
    }
    let res = office.push_ok(&tab.push_request()).await?;
    anyhow::ensure!(
        res.results
            .iter()
            .all(|r| matches!(r.outcome, shared::sync::Outcome::Applied)),
        "{res:?}"
    );
    let view = office.server_view().await?;
    let expected = |keep: &dyn Fn(&shared::entity::Task) -> bool| {
        let mut titles: Vec<String> = view
            .tasks()
            .filter(|t| t.item == item.id && !t.archived && keep(t))
            .map(|t| t.title.clone())
            .collect();
        titles.sort();
        titles
    };
    let shown = |browser: &Browser| {
        let browser = browser.client.clone();
        async move {
            let v = browser
                .execute(
                    "return [...document.querySelectorAll('section[data-drop-column] li.card .card-open')].map(b => b.textContent.trim());",
                    vec![],
                )
                .await?;
            let mut titles: Vec<String> = serde_json::from_value(v)?;
            titles.sort();
            anyhow::Ok(titles)
        }
    };

    let browser = Browser::start(DESKTOP, false).await?;
    let user = demo_username(&server, LEAD).await?;
    browser.login(&server.url, &user, DEMO_PASSWORD).await?;
    browser
        .client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    browser.wait_for_text("没有期限的任务").await?;
    let all = expected(&|_| true);
    anyhow::ensure!(shown(&browser).await? == all, "unfiltered");

    type Rule = Box<dyn Fn(&shared::entity::Task) -> bool>;
    let checks: [(&str, &str, Rule); 3] = [
        (
            "已逾期",
            "overdue=1",
            Box::new(move |t| shared::board::is_overdue(t.due, t.column, today)),
        ),
        ("受阻", "blocked=1", Box::new(|t| t.blocked.is_some())),
        (
            "本月到期",
            "month=1",
            Box::new(move |t| {
                t.due.is_some_and(|d| {
                    chrono::Datelike::year(&d) == chrono::Datelike::year(&today)
                        && chrono::Datelike::month(&d) == chrono::Datelike::month(&today)
                })
            }),
        ),
    ];
    for (label, param, rule) in &checks {
        let want = expected(rule.as_ref());
        anyhow::ensure!(
            !want.is_empty() && want.len() < all.len(),
            "{label}: the data tells the filter's cards apart"
        );
        let checkbox = format!(
            "//form[@role='search']//label[normalize-space()={}]/input",
            xpath_literal(label)
        );
        browser
            .find(Locator::XPath(&checkbox))
            .await?
            .click()
            .await?;
        poll(
            || async {
                let url = browser.client.current_url().await?;
                Ok(url.as_str().contains(param) && shown(&browser).await? == want)
            },
            || async {
                let url = browser.client.current_url().await.ok();
                anyhow::anyhow!(
                    "{label}: shown {:?}, want {want:?} ({url:?})",
                    shown(&browser).await.ok()
                )
            },
        )
        .await?;
        browser
            .find(Locator::XPath(&checkbox))
            .await?
            .click()
            .await?;
    }
    // One owner.
    browser
        .find(Locator::XPath(
            "//form[@role='search']//label[starts-with(normalize-space(),'承担单位')]//select",
        ))
        .await?
        .select_by_label(COOP)
        .await?;
    let want = expected(&|t| t.owner == coop);
    poll(
        || async { Ok(shown(&browser).await? == want) },
        || async {
            anyhow::anyhow!(
                "owner: shown {:?}, want {want:?}",
                shown(&browser).await.ok()
            )
        },
    )
    .await?;
    browser.click_named("button", "清除筛选").await?;
    poll(
        || async { Ok(shown(&browser).await? == all) },
        || async { anyhow::anyhow!("cleared") },
    )
    .await?;
    browser.close().await
}
