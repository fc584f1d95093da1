//! The app in real headless Chromium: sign in, see the plan, open item 4 — at desktop size and on
//! a 390×844 phone.

use e2e::browser::{Browser, DESKTOP, PHONE};
use e2e::{DEMO_PASSWORD, Server, ServerOptions};
use fantoccini::Locator;

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

    browser
        .find(Locator::LinkText("4开展集体股份合作公司试点改革"))
        .await
        .ok();
    browser
        .client
        .goto(&format!("{}/items/4", server.url))
        .await?;
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
