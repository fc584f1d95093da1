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
    let overflow = browser
        .client
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth;",
            vec![],
        )
        .await?;
    assert_eq!(
        overflow,
        serde_json::Value::Bool(false),
        "horizontal overflow at {size:?}"
    );
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
