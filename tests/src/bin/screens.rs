//! Screenshots of a running server as a user sees it, at desktop size and on a 390×844 phone:
//! `cargo run -p e2e --bin screens -- http://127.0.0.1:8080 office /supervision /items/4 …`
//! (`--en` first: in English).
//! Writes target/screenshots/screens-<user>-<page>-{desktop,phone}.png (the README's pictures
//! come from here).

use anyhow::Context;
use e2e::browser::Browser;
use std::time::Duration;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    let english = args.next_if(|a| a == "--en").is_some();
    let base = args
        .next()
        .context("usage: screens BASE_URL USERNAME PATH…")?;
    let user = args
        .next()
        .context("usage: screens BASE_URL USERNAME PATH…")?;
    let paths: Vec<String> = args.collect();
    for (size, mobile, label) in [((1366, 900), false, "desktop"), ((390, 844), true, "phone")] {
        let browser = Browser::start(size, mobile).await?;
        browser.login(&base, &user, "demo1234").await?;
        // The choice follows the user: the second browser may already be in English.
        let in_chinese = fantoccini::Locator::XPath("//button[@aria-label='English 切换语言']");
        if english && !browser.client.find_all(in_chinese).await?.is_empty() {
            browser.switch_language().await?;
        }
        for path in &paths {
            browser.client.goto(&format!("{base}{path}")).await?;
            // Let the first pull land and the page settle.
            tokio::time::sleep(Duration::from_millis(2500)).await;
            let name: String = path
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let file = browser
                .screenshot(&format!(
                    "screens-{user}-{}-{label}{}",
                    name.trim_matches('_'),
                    if english { "-en" } else { "" }
                ))
                .await?;
            println!("{}", file.display());
        }
        browser.close().await?;
    }
    Ok(())
}
