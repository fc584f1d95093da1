//! Headless Chromium through chromedriver (fantoccini), as the tests' browser.

use anyhow::Context;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Desktop viewport.
pub const DESKTOP: (u32, u32) = (1366, 900);
/// Phone viewport (an ordinary modern phone).
pub const PHONE: (u32, u32) = (390, 844);

/// A chromedriver process plus one browser session; both end when dropped (call `close` to end
/// the session cleanly first).
pub struct Browser {
    driver: Child,
    /// The WebDriver client.
    pub client: Client,
    /// chromedriver's port, for Chrome DevTools commands through its `goog/cdp/execute`.
    port: u16,
    /// Its own profile directory.
    _profile: tempfile::TempDir,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn chromedriver() -> PathBuf {
    std::env::var_os("CHROMEDRIVER")
        .map_or_else(|| PathBuf::from("/usr/bin/chromedriver"), PathBuf::from)
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// A server with the site, and a browser of `size` (`mobile`: touch, phone user agent) signed in
/// as the lead unit of item 4, on that item's board: where most board tests start.
pub async fn lead_on_item4_board(
    size: (u32, u32),
    mobile: bool,
) -> anyhow::Result<(crate::Server, Browser)> {
    let server = crate::Server::start(crate::ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let lead = crate::demo_username(&server, crate::sync_client::ITEM4_LEAD).await?;
    let browser = Browser::start(size, mobile).await?;
    browser
        .login(&server.url, &lead, crate::DEMO_PASSWORD)
        .await?;
    browser
        .client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    Ok((server, browser))
}

/// Asks `check` every 100 ms until it says yes; after 20 s (a page that never got there), the
/// error is `failed()`'s, which may look at the page once more to say what it shows instead.
pub async fn poll<C, CF, F, FF>(mut check: C, failed: F) -> anyhow::Result<()>
where
    C: FnMut() -> CF,
    CF: std::future::Future<Output = anyhow::Result<bool>>,
    F: FnOnce() -> FF,
    FF: std::future::Future<Output = anyhow::Error>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if check().await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(failed().await)
}

/// Whether chromedriver and Chromium are installed (`cargo xtask test` installs them).
pub fn available() -> bool {
    chromedriver().exists() && chromium().exists()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with the given viewport size. `mobile`
    /// turns on touch events, as on a phone.
    pub async fn start(size: (u32, u32), mobile: bool) -> anyhow::Result<Browser> {
        let port = free_port()?;
        let driver = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            // A process group of its own, which the Chromium it starts joins: see `stop`.
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver")?;
        let profile = tempfile::tempdir()?;
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--lang=zh-CN".into(),
            format!("--window-size={},{}", size.0, size.1),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if mobile {
            args.push("--touch-events=enabled".into());
        }
        let mut chrome = serde_json::Map::new();
        chrome.insert("args".into(), serde_json::json!(args));
        chrome.insert("binary".into(), serde_json::json!(chromium()));
        if mobile {
            chrome.insert(
                "mobileEmulation".into(),
                serde_json::json!({
                    "deviceMetrics": { "width": size.0, "height": size.1, "pixelRatio": 3.0, "touch": true },
                    "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36"
                }),
            );
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::Value::Object(chrome),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_err = None;
        for _ in 0..50 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Ok(Browser {
                        driver,
                        client,
                        port,
                        _profile: profile,
                    });
                }
                Err(e) => {
                    last_err = Some(e);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        Err(anyhow::anyhow!(
            "chromedriver did not start a session: {last_err:?}"
        ))
    }

    /// Sends a Chrome DevTools command (e.g. `Emulation.setCPUThrottlingRate`) through
    /// chromedriver; returns its result.
    pub async fn cdp(
        &self,
        cmd: &str,
        params: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let session = self
            .client
            .session_id()
            .await?
            .context("no WebDriver session")?;
        let res = reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{}/session/{session}/goog/cdp/execute",
                self.port
            ))
            .json(&serde_json::json!({ "cmd": cmd, "params": params }))
            .send()
            .await?;
        anyhow::ensure!(
            res.status().is_success(),
            "CDP {cmd}: {} {}",
            res.status(),
            res.text().await?
        );
        // chromedriver wraps the answer as {"value": result}.
        let mut body: serde_json::Value = res.json().await?;
        Ok(body["value"].take())
    }

    /// Waits up to 20 s for an element.
    pub async fn find(
        &self,
        locator: Locator<'_>,
    ) -> anyhow::Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(locator)
            .await
            .with_context(|| format!("waiting for {locator:?}"))
    }

    /// Waits up to 20 s until the page's text contains `text`.
    pub async fn wait_for_text(&self, text: &str) -> anyhow::Result<()> {
        let xpath = format!("//*[contains(normalize-space(.), {})]", xpath_literal(text));
        self.find(Locator::XPath(&xpath)).await.map(|_| ())
    }

    /// Scrolls `el` to the middle of the viewport (pointer actions need their target in view).
    pub async fn scroll_to(&self, el: &fantoccini::elements::Element) -> anyhow::Result<()> {
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![serde_json::to_value(el)?],
            )
            .await?;
        Ok(())
    }

    /// Saves a screenshot under `target/screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.client.screenshot().await?)?;
        Ok(path)
    }

    /// Logs in through the login form.
    pub async fn login(&self, base: &str, username: &str, password: &str) -> anyhow::Result<()> {
        self.client.goto(&format!("{base}/login")).await?;
        self.find(Locator::Css("input[name=username]"))
            .await?
            .send_keys(username)
            .await?;
        self.find(Locator::Css("input[name=password]"))
            .await?
            .send_keys(password)
            .await?;
        self.find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        self.find(Locator::Css("[data-signed-in]")).await?;
        Ok(())
    }

    /// The `tag` element whose accessible name — `aria-label` or its own text — is `name`
    /// (how users and screen readers find a control, and so how the tests do).
    pub async fn named(
        &self,
        tag: &str,
        name: &str,
    ) -> anyhow::Result<fantoccini::elements::Element> {
        let n = xpath_literal(name);
        self.find(Locator::XPath(&format!(
            "//{tag}[@aria-label={n} or normalize-space(.)={n}][not(@disabled)]"
        )))
        .await
    }

    /// How many elements match `css` now (no waiting).
    pub async fn count(&self, css: &str) -> anyhow::Result<usize> {
        Ok(self.client.find_all(Locator::Css(css)).await?.len())
    }

    /// A board's "新建任务" form, opened first if it is closed (as a board starts).
    pub async fn open_create_task(&self) -> anyhow::Result<fantoccini::elements::Element> {
        let open = Locator::Css("form.create-task");
        if let Some(form) = self.client.find_all(open).await?.into_iter().next() {
            return Ok(form);
        }
        self.click_named("button", "新建任务").await?;
        self.find(open).await
    }

    /// Creates a task titled `title` through the open board's "新建任务" form (its owner left
    /// as the form suggests).
    pub async fn create_task(&self, title: &str) -> anyhow::Result<()> {
        let form = self.open_create_task().await?;
        form.find(Locator::Css("input[name=title]"))
            .await?
            .send_keys(title)
            .await?;
        form.find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        Ok(())
    }

    /// Moves the card titled `title` to the column named `column` (推进中…) with its 移动到… menu.
    pub async fn move_with_menu(&self, title: &str, column: &str) -> anyhow::Result<()> {
        let card = self
            .find(Locator::XPath(&format!(
                "//li[contains(@class,'card')][.//button[contains(@class,'card-open') and normalize-space(.)={}]]",
                xpath_literal(title)
            )))
            .await?;
        let menu = card.find(Locator::Css(".move-menu button")).await?;
        self.scroll_to(&menu).await?;
        menu.click().await?;
        self.find(Locator::XPath(&format!(
            "//div[@role='menu']/button[normalize-space(.)={}]",
            xpath_literal(column)
        )))
        .await?
        .click()
        .await?;
        Ok(())
    }

    /// Makes requests to URLs matching any of `patterns` (`*` wildcards) fail as if the network
    /// were down, until called again (with none to let everything through).
    pub async fn block_urls(&self, patterns: &[&str]) -> anyhow::Result<()> {
        self.network(
            "Network.setBlockedURLs",
            serde_json::json!({ "urls": patterns }),
        )
        .await
    }

    /// Sends the page's requests past its service worker, to the network: what a browser whose
    /// worker has not cached them yet does.
    pub async fn bypass_service_worker(&self) -> anyhow::Result<()> {
        self.network(
            "Network.setBypassServiceWorker",
            serde_json::json!({ "bypass": true }),
        )
        .await
    }

    /// A DevTools `Network.*` command, the domain enabled first (it must be, and enabling twice
    /// is harmless).
    async fn network(&self, cmd: &str, params: serde_json::Value) -> anyhow::Result<()> {
        self.cdp("Network.enable", serde_json::json!({})).await?;
        self.cdp(cmd, params).await?;
        Ok(())
    }

    /// The open task's detail, once its chunk has loaded: the frame shown meanwhile (or when the
    /// chunk can't be fetched) says `aria-busy`, and is replaced, so an element of it goes stale.
    pub async fn detail(&self) -> anyhow::Result<fantoccini::elements::Element> {
        self.find(Locator::Css("aside[role=dialog]:not([aria-busy])"))
            .await
    }

    /// Closes the open dialog (a task's detail) with its ✕ button.
    pub async fn close_dialog(&self) -> anyhow::Result<()> {
        self.find(Locator::Css("aside[role=dialog] button.close"))
            .await?
            .click()
            .await?;
        Ok(())
    }

    /// Switches the language as its user would: with the header's switch, or on a phone, whose
    /// header leaves it to the account page, there, and then back to the page they were on.
    pub async fn switch_language(&self) -> anyhow::Result<()> {
        self.account_control(".lang-switch", true).await
    }

    /// Signs out as its user would: 退出 in the header, or on a phone on the account page (and
    /// stays there should the app ask first).
    pub async fn sign_out(&self) -> anyhow::Result<()> {
        self.account_control(".sign-out", false).await
    }

    /// Clicks the header's control of `class`, or when the header hides it (a phone), the
    /// account page's, reached through the person in the header.
    async fn account_control(&self, class: &str, back: bool) -> anyhow::Result<()> {
        let in_header = self
            .find(Locator::Css(&format!("header.top > {class}")))
            .await?;
        if in_header.is_displayed().await? {
            return Ok(in_header.click().await?);
        }
        self.find(Locator::Css("header.top a.who"))
            .await?
            .click()
            .await?;
        let on_account_page = self
            .find(Locator::Css(&format!(".account-card {class}")))
            .await?;
        self.scroll_to(&on_account_page).await?;
        on_account_page.click().await?;
        if back {
            self.client.back().await?;
        }
        Ok(())
    }

    /// Clicks the `tag` element named `name`, scrolled into view first.
    pub async fn click_named(&self, tag: &str, name: &str) -> anyhow::Result<()> {
        let el = self.named(tag, name).await?;
        self.scroll_to(&el).await?;
        el.click().await?;
        Ok(())
    }

    /// The text box, input or select labelled `name` (by a `<label>` around it or `aria-label`).
    pub async fn field(&self, name: &str) -> anyhow::Result<fantoccini::elements::Element> {
        let n = xpath_literal(name);
        self.find(Locator::XPath(&format!(
            "(//label[normalize-space(.)={n} or .//span[normalize-space(.)={n}]]\
             //*[self::textarea or self::input or self::select] \
             | //*[@aria-label={n}][self::textarea or self::input or self::select])[1]"
        )))
        .await
    }

    /// Types `text` into the field labelled `name`.
    pub async fn type_into(&self, name: &str, text: &str) -> anyhow::Result<()> {
        let el = self.field(name).await?;
        self.scroll_to(&el).await?;
        el.send_keys(text).await?;
        Ok(())
    }

    /// Waits up to 15 s until the element matching `css` reads exactly `want` (a state badge).
    pub async fn wait_for_exact_text(&self, css: &str, want: &str) -> anyhow::Result<()> {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let mut last = None;
        loop {
            // Looked up without waiting: the deadline above is the only wait.
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                let text = el.text().await.unwrap_or_default();
                if text == want {
                    return Ok(());
                }
                last = Some(text);
            }
            if std::time::Instant::now() >= deadline {
                anyhow::bail!("{css} read {last:?} (None: absent), wanted {want}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until every change made in this browser has reached the server (the sync badge
    /// reads 在线 again).
    pub async fn settled(&self) -> anyhow::Result<()> {
        for _ in 0..150 {
            let text = self
                .find(Locator::Css("[data-testid=sync-state]"))
                .await?
                .text()
                .await?;
            if text == "在线" {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("changes never synced")
    }

    /// Fails if the page is wider than the viewport: a phone must never scroll sideways.
    pub async fn no_sideways_scroll(&self, what: &str) -> anyhow::Result<()> {
        let widths = self
            .client
            .execute(
                // Not window.innerWidth: on a phone the layout viewport grows to fit what is
                // too wide, and innerWidth grows with it; the root's clientWidth stays the screen's.
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
                vec![],
            )
            .await?;
        let w: Vec<i64> = serde_json::from_value(widths)?;
        // A pixel of rounding is not a scroll bar.
        anyhow::ensure!(
            matches!((w.first(), w.get(1)), (Some(page), Some(view)) if *page <= *view + 1),
            "{what}: the page is {:?} wide in a {:?} viewport",
            w.first(),
            w.get(1)
        );
        Ok(())
    }

    /// Makes downloads land in `dir` (Chromium's DevTools protocol; headless has no dialog).
    pub async fn download_to(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        self.cdp(
            "Browser.setDownloadBehavior",
            serde_json::json!({ "behavior": "allow", "downloadPath": dir.display().to_string() }),
        )
        .await?;
        Ok(())
    }

    /// Ends the session and chromedriver.
    pub async fn close(mut self) -> anyhow::Result<()> {
        let result = self.client.clone().close().await;
        self.stop();
        result.map_err(Into::into)
    }

    /// Kills chromedriver's whole process group. Killing chromedriver alone left its Chromium
    /// running, and rendering, after every test and every bench run that didn't close its
    /// session: hundreds of processes by the end of a suite, and load under the next
    /// measurement.
    fn stop(&mut self) {
        if let Ok(pid) = i32::try_from(self.driver.id()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `text` as an XPath string literal (handles quotes).
pub fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
