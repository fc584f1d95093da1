//! Accounts in real headless Chromium, at desktop size and on a 390×844 phone: the office creates
//! an account on its account screen; its owner signs in in a fresh browser, is sent to the
//! password page before anything else, sets a password and lands on the plan; the office
//! disables the account (after confirming) and finds that in the audit view. Each role's
//! navigation has its entries, every one on screen on a phone too (我的任务 only for those who
//! own tasks). The leader signs in on a phone and finds who is signed in behind the account
//! icon; the language a user chooses follows them to another device, and can be chosen on the
//! login page already. Every control used is found by its name or label, as a screen reader
//! would.

use anyhow::{Context, ensure};
use e2e::browser::{Browser, DESKTOP, PHONE, xpath_literal};
use e2e::{DEMO_PASSWORD, Server, ServerOptions};
use fantoccini::Locator;
use serde_json::Value;
use std::time::Duration;

/// Fails unless every button, input, select and link on the page has an accessible name (its
/// text, a label, or aria-label).
async fn all_controls_named(browser: &Browser, what: &str) -> anyhow::Result<()> {
    let unnamed = browser
        .client
        .execute(
            r#"
            const out = [];
            for (const el of document.querySelectorAll('button, input, select, textarea, a[href], summary')) {
                const label = el.getAttribute('aria-label') || (el.labels && el.labels.length && el.labels[0].textContent)
                    || el.textContent || el.getAttribute('title') || el.getAttribute('placeholder');
                if (!label || !label.trim()) out.push(el.outerHTML.slice(0, 120));
            }
            return out;"#,
            vec![],
        )
        .await?;
    ensure!(
        unnamed.as_array().is_some_and(Vec::is_empty),
        "{what}: controls without a name: {unnamed}"
    );
    Ok(())
}

/// The control whose `<label>` says exactly `label` (the label's own text, not its options').
fn labelled(label: &str) -> String {
    let l = xpath_literal(label);
    format!(
        "//label[normalize-space(text()[normalize-space()][1]) = {l}]//*[self::input or self::select]"
    )
}

/// Clicks the element `locator` finds, first scrolling it to the middle of the screen: on a
/// phone a control near the bottom edge is "in view" yet under the navigation bar.
async fn click(browser: &Browser, locator: Locator<'_>) -> anyhow::Result<()> {
    let el = browser.find(locator).await?;
    let arg = serde_json::to_value(&el)?;
    browser
        .client
        .execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg])
        .await?;
    el.click().await?;
    Ok(())
}

/// The office's navigation, in order.
const OFFICE_NAV: [&str; 7] = [
    "总览",
    "改革计划",
    "单位",
    "督查",
    "通报",
    "账号管理",
    "审计日志",
];

/// Fails unless the main navigation reads `expected`, in order, and every entry can be tapped
/// where it is: wholly on screen (none cut off at the edge of a phone or scrolled out of the
/// bar), under nothing else, and at least 44 px tall.
async fn nav_reads(browser: &Browser, expected: &[&str], what: &str) -> anyhow::Result<()> {
    let entries = browser
        .client
        .execute(
            r#"
            const w = document.documentElement.clientWidth, h = window.innerHeight;
            return [...document.querySelectorAll('header.top nav a')].map(a => {
                const r = a.getBoundingClientRect();
                const inside = r.width > 0 && r.left >= -0.5 && r.right <= w + 0.5
                    && r.top >= -0.5 && r.bottom <= h + 0.5;
                const hit = inside
                    && a.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2));
                return [a.textContent.trim(), hit && r.height >= 44];
            });"#,
            vec![],
        )
        .await?;
    let entries: Vec<(String, bool)> = serde_json::from_value(entries)?;
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    ensure!(names == expected, "{what}: the navigation reads {names:?}");
    let out_of_reach: Vec<&str> = entries
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(n, _)| n.as_str())
        .collect();
    ensure!(
        out_of_reach.is_empty(),
        "{what}: out of reach: {out_of_reach:?}"
    );
    Ok(())
}

async fn wait_for_path(browser: &Browser, path: &str) -> anyhow::Result<()> {
    for _ in 0..100 {
        let url = browser.client.current_url().await?;
        if url.path() == path {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!(
        "never reached {path}: at {}",
        browser.client.current_url().await?
    )
}

async fn accounts_flow(size: (u32, u32), mobile: bool, name: &str) -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let office = Browser::start(size, mobile).await?;
    office.login(&server.url, "office", DEMO_PASSWORD).await?;
    // The office's navigation has its two screens, and no 我的任务 (it owns no tasks): seven
    // entries, every one within reach on a phone as well.
    office.wait_for_text("开展集体股份合作公司试点改革").await?;
    nav_reads(&office, &OFFICE_NAV, "the office").await?;
    click(
        &office,
        Locator::XPath("//nav//a[normalize-space()='账号管理']"),
    )
    .await?;
    wait_for_path(&office, "/admin/users").await?;
    office
        .find(Locator::Css("li.user-row[data-username=unit01]"))
        .await?;
    office.screenshot(&format!("{name}-accounts")).await?;
    office.no_sideways_scroll("the account list").await?;
    all_controls_named(&office, "the account list").await?;

    // Create an account for 区财政局〈国资委〉. The display name is hostile markup: it must come
    // back as text.
    let username = format!("li.si-{name}");
    let display = "李四<img src=x onerror=alert(1)>";
    click(
        &office,
        Locator::XPath("//summary[normalize-space()='新建账号']"),
    )
    .await?;
    office
        .find(Locator::XPath(&labelled("用户名")))
        .await?
        .send_keys(&username)
        .await?;
    office
        .find(Locator::XPath(&labelled("姓名")))
        .await?
        .send_keys(display)
        .await?;
    office
        .find(Locator::XPath(&labelled("所在单位")))
        .await?
        .select_by_label("区财政局〈国资委〉")
        .await?;
    let role = office
        .find(Locator::Css("form .role-of output"))
        .await?
        .attr("data-role")
        .await?;
    ensure!(
        role.as_deref() == Some("unit"),
        "a unit's account gets the unit role: {role:?}"
    );
    let password = office
        .find(Locator::XPath(&labelled("初始密码")))
        .await?
        .prop("value")
        .await?
        .context("an initial password is proposed")?;
    ensure!(password.len() >= 8, "{password}");
    all_controls_named(&office, "the new-account form").await?;
    office
        .screenshot(&format!("{name}-accounts-create"))
        .await?;
    click(
        &office,
        Locator::XPath("//button[normalize-space()='创建账号']"),
    )
    .await?;
    office.wait_for_text("账号已创建").await?;
    let row = office
        .find(Locator::Css(&format!(
            "li.user-row[data-username='{username}']"
        )))
        .await?;
    let text = row.text().await?;
    ensure!(
        text.contains(display) && text.contains("区财政局〈国资委〉") && text.contains("待改密码"),
        "{text}"
    );
    ensure!(
        office.count("li.user-row img").await? == 0,
        "the display name was rendered as HTML"
    );

    // Its owner, in a fresh browser: straight to the password page, whatever was asked for.
    let user = Browser::start(size, mobile).await?;
    user.login(&server.url, &username, &password).await?;
    wait_for_path(&user, "/password").await?;
    user.wait_for_text("请先设置新密码").await?;
    user.client.goto(&format!("{}/units", server.url)).await?;
    wait_for_path(&user, "/password").await?;
    user.screenshot(&format!("{name}-forced-password")).await?;
    user.no_sideways_scroll("the password page").await?;
    all_controls_named(&user, "the password page").await?;
    user.find(Locator::XPath(&labelled("原密码")))
        .await?
        .send_keys(&password)
        .await?;
    user.find(Locator::XPath(&labelled("新密码")))
        .await?
        .send_keys("li-si-new-pass")
        .await?;
    user.find(Locator::XPath(&labelled("再次输入新密码")))
        .await?
        .send_keys("li-si-new-pass")
        .await?;
    click(&user, Locator::Css("form.account-form button[type=submit]")).await?;
    wait_for_path(&user, "/").await?;
    user.wait_for_text("开展集体股份合作公司试点改革").await?;
    user.screenshot(&format!("{name}-after-password")).await?;
    // A unit's staff: their own tasks, not the office's screens.
    nav_reads(
        &user,
        &["总览", "改革计划", "我的任务", "单位", "通报"],
        "a unit",
    )
    .await?;
    user.close().await?;
    let api = server.client();
    api.login(&username, "li-si-new-pass").await?;

    // The office gives the account an address for mailed notices.
    office.client.refresh().await?;
    let email_button =
        format!("//li[@data-username='{username}']//button[starts-with(@aria-label, '通知邮箱')]");
    click(&office, Locator::XPath(&email_button)).await?;
    office
        .find(Locator::XPath(&labelled("通知邮箱")))
        .await?
        .send_keys("lisi@example.org")
        .await?;
    click(
        &office,
        Locator::XPath(&format!(
            "//li[@data-username='{username}']//div[@role='group']//button[normalize-space()='保存']"
        )),
    )
    .await?;
    office.wait_for_text("通知邮箱已保存").await?;
    let office_api = server.login("office").await?;
    let users: Vec<serde_json::Value> = office_api.get_json("/api/users").await?;
    ensure!(
        users
            .iter()
            .any(|u| u["username"] == username.as_str() && u["email"] == "lisi@example.org"),
        "the address was not saved"
    );
    let changes: Vec<serde_json::Value> = office_api
        .get_json("/api/audit?action=email_changed")
        .await?;
    ensure!(
        changes.iter().any(|r| r["detail"]
            .as_str()
            .is_some_and(|d| d.ends_with("（无） → lisi@example.org"))),
        "the change and the address before it are on the record: {changes:?}"
    );

    // The office disables it, confirming first; its session ends at once.
    office.client.refresh().await?;
    let disable =
        format!("//li[@data-username='{username}']//button[starts-with(@aria-label, '停用')]");
    click(&office, Locator::XPath(&disable)).await?;
    office
        .wait_for_text("停用后，该账号在所有设备上立即退出")
        .await?;
    office
        .screenshot(&format!("{name}-accounts-confirm-disable"))
        .await?;
    ensure!(
        api.get("/api/auth/me").await?.status() == 200,
        "disabled before confirming"
    );
    click(
        &office,
        Locator::XPath("//button[normalize-space()='确认停用']"),
    )
    .await?;
    office.wait_for_text("账号已停用").await?;
    ensure!(
        api.get("/api/auth/me").await?.status() == 401,
        "the session outlived the account"
    );

    // The audit view shows it, filtered by action, with a CSV link for the same selection.
    click(
        &office,
        Locator::XPath("//nav//a[normalize-space()='审计日志']"),
    )
    .await?;
    wait_for_path(&office, "/admin/audit").await?;
    office.find(Locator::Css("li.audit-row")).await?;
    office
        .find(Locator::XPath(&labelled("操作")))
        .await?
        .select_by_label("停用账号")
        .await?;
    click(
        &office,
        Locator::XPath("//button[normalize-space()='查询']"),
    )
    .await?;
    office.wait_for_text(&username).await?;
    let rows = office.client.find_all(Locator::Css("li.audit-row")).await?;
    ensure!(
        rows.len() == 1,
        "one account was disabled, {} rows",
        rows.len()
    );
    let row = rows[0].text().await?;
    ensure!(
        row.contains("停用账号") && row.contains("综合办（office）"),
        "{row}"
    );
    let href = office
        .find(Locator::XPath("//a[normalize-space()='导出 CSV（Excel）']"))
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    ensure!(href == "/api/audit.csv?action=user_disabled", "{href}");
    office.screenshot(&format!("{name}-audit")).await?;
    office.no_sideways_scroll("the audit view").await?;
    all_controls_named(&office, "the audit view").await?;
    office.close().await
}

#[tokio::test]
async fn office_creates_an_account_on_desktop() -> anyhow::Result<()> {
    accounts_flow(DESKTOP, false, "desktop").await
}

#[tokio::test]
async fn office_creates_an_account_on_a_phone() -> anyhow::Result<()> {
    accounts_flow(PHONE, true, "phone").await
}

/// The leader signs in on a phone and gets the plan, without the office's screens or a 我的任务
/// (a leader owns no tasks; typed in, it says where the leader's work is), and nothing is wider
/// than the screen. The header's person icon says who is signed in and opens their account:
/// their name, the language, signing out.
#[tokio::test]
async fn leader_signs_in_on_a_phone() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let phone = Browser::start(PHONE, true).await?;
    phone
        .client
        .goto(&format!("{}/admin/users", server.url))
        .await?;
    wait_for_path(&phone, "/login").await?;
    phone.login(&server.url, "leader", DEMO_PASSWORD).await?;
    phone.wait_for_text("开展集体股份合作公司试点改革").await?;
    nav_reads(
        &phone,
        &["总览", "改革计划", "单位", "督查", "通报"],
        "the leader",
    )
    .await?;
    phone.screenshot("phone-leader").await?;
    phone.no_sideways_scroll("the leader's start page").await?;
    // The office's screens say no (the server refuses their data anyway).
    phone
        .client
        .goto(&format!("{}/admin/audit", server.url))
        .await?;
    phone.wait_for_text("只有综合办可以使用此页面").await?;
    phone.client.goto(&format!("{}/my", server.url)).await?;
    phone.wait_for_text("您的账号没有自己的任务").await?;
    phone.named("a", "总览：各项目红黄绿状态").await?;
    ensure!(
        phone.count("[data-active]").await? == 0,
        "an empty board is shown to the leader"
    );
    phone.screenshot("phone-leader-my").await?;
    // Who is signed in: the person icon, named for them, a thumb's size, leads to their account.
    let account = phone.named("a", "当前用户：区领导").await?;
    let size = account.rectangle().await?;
    ensure!(
        size.2 >= 44.0 && size.3 >= 44.0,
        "the account icon is {size:?}"
    );
    account.click().await?;
    wait_for_path(&phone, "/password").await?;
    let card = phone
        .find(Locator::Css("section.account-card"))
        .await?
        .text()
        .await?;
    ensure!(
        card.contains("区领导") && card.contains("leader") && card.contains("退出"),
        "the account page: {card}"
    );
    phone.find(Locator::XPath(&labelled("原密码"))).await?;
    phone.screenshot("phone-leader-password").await?;
    phone.no_sideways_scroll("the password page").await?;
    all_controls_named(&phone, "the password page").await?;
    // Signing out there ends the session like the header's 退出.
    click(
        &phone,
        Locator::XPath(
            "//section[contains(@class,'account-card')]//button[normalize-space()='退出']",
        ),
    )
    .await?;
    wait_for_path(&phone, "/login").await?;
    phone.close().await
}

/// The language follows the user, not the device: the leader switches to English at the desk,
/// then signs in on a phone that has never seen them — English there too; back to Chinese on
/// the phone, and the desk has Chinese at its next start. (The switch is named in the language
/// on screen: English 切换语言 / 中文 Switch language.)
#[tokio::test]
async fn language_follows_the_user_to_another_device() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let desk = Browser::start(DESKTOP, false).await?;
    desk.login(&server.url, "leader", DEMO_PASSWORD).await?;
    desk.wait_for_text("开展集体股份合作公司试点改革").await?;
    desk.click_named("button", "English 切换语言").await?;
    desk.named("button", "中文 Switch language").await?;

    // What the server now says of the leader, as any new device would hear it.
    let mut said = Value::Null;
    for _ in 0..50 {
        let api = server.login("leader").await?;
        said = api.get("/api/auth/me").await?.json().await?;
        if said["language"] == "en" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(
        said["language"] == "en",
        "the server did not keep the choice: {said}"
    );

    let phone = Browser::start(PHONE, true).await?;
    phone.login(&server.url, "leader", DEMO_PASSWORD).await?;
    phone.switch_language().await?;
    phone.named("button", "English 切换语言").await?;
    phone.wait_for_text("开展集体股份合作公司试点改革").await?;
    phone.close().await?;

    desk.client.refresh().await?;
    desk.named("button", "English 切换语言").await?;
    desk.wait_for_text("开展集体股份合作公司试点改革").await?;
    desk.close().await
}

/// Someone who reads no Chinese switches the login page to English before signing in: the page
/// and its demo accounts read in English, and signing in there makes it the user's choice — in
/// the app at once, and on the server for their other devices, although their account had
/// Chinese chosen before. The units page's labels read "Leads: ", not "Leads："; a phone's
/// navigation has every entry, in English, within reach. Signed out, the login page stays in
/// English on this device.
#[tokio::test]
async fn the_login_page_switches_language() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let api = server.login("npc").await?;
    let res = api
        .post(
            "/api/auth/language",
            &serde_json::json!({ "language": "zh" }),
        )
        .await?;
    ensure!(res.status().is_success(), "{}", res.status());

    let phone = Browser::start(PHONE, true).await?;
    phone.client.goto(&format!("{}/login", server.url)).await?;
    phone.click_named("button", "English 切换语言").await?;
    phone.named("button", "中文 Switch language").await?;
    phone.named("button", "Sign in").await?;
    phone.wait_for_text("Demo accounts").await?;
    // The demo accounts' roles too.
    phone
        .find(Locator::XPath(
            "//button[contains(@class,'demo-account')][contains(., 'npc')]//span[@class='role'][normalize-space()='NPC / CPPCC']",
        ))
        .await?;
    phone
        .no_sideways_scroll("the login page in English")
        .await?;
    phone.screenshot("phone-login-en").await?;

    // Signing in on this page, as it is.
    phone
        .find(Locator::Css("input[name=username]"))
        .await?
        .send_keys("npc")
        .await?;
    phone
        .find(Locator::Css("input[name=password]"))
        .await?
        .send_keys(DEMO_PASSWORD)
        .await?;
    click(&phone, Locator::Css("button[type=submit]")).await?;
    phone.find(Locator::Css("[data-signed-in]")).await?;
    phone.named("button", "中文 Switch language").await?;
    nav_reads(
        &phone,
        &[
            "Overview",
            "Reform plan",
            "Units",
            "Bulletins",
            "Inspections",
        ],
        "the People's Congress in English",
    )
    .await?;
    let mut said = Value::Null;
    for _ in 0..50 {
        said = api.get("/api/auth/me").await?.json().await?;
        if said["language"] == "en" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(
        said["language"] == "en",
        "the choice made before signing in is the user's: {said}"
    );

    phone.client.goto(&format!("{}/units", server.url)).await?;
    phone.wait_for_text("Cooperates on: ").await?;
    let units = phone
        .find(Locator::Css("ul.units-list"))
        .await?
        .text()
        .await?;
    ensure!(
        units.contains("Leads: ") && !units.contains('：'),
        "the units page in English: {units}"
    );
    phone
        .no_sideways_scroll("the units page in English")
        .await?;

    phone.sign_out().await?;
    wait_for_path(&phone, "/login").await?;
    phone.named("button", "Sign in").await?;
    let html_lang = phone.find(Locator::Css("html")).await?.attr("lang").await?;
    ensure!(
        html_lang.as_deref() == Some("en"),
        "<html lang={html_lang:?}>"
    );
    phone.close().await
}

/// A street office's comment on an item, pushed as its demo account: what the server made of it.
async fn street_office_comments(
    member: &e2e::sync_client::Session,
    (group, client): (shared::ids::ClientGroupId, shared::ids::ClientId),
    id: &mut u64,
    item: u32,
) -> anyhow::Result<shared::sync::Outcome> {
    *id += 1;
    let req = e2e::sync_client::push_request(
        group,
        vec![shared::sync::PendingMutation {
            client_id: client,
            id: *id,
            mutation: shared::mutation::Mutation::AddComment {
                id: shared::ids::CommentId::new_v7(),
                item: shared::ids::item_id_for_number(item),
                task: None,
                body: "本街道已完成摸排".into(),
                at: shared::entity::Millis(1_396_000_000_000),
            },
        }],
    );
    let res = member.push_ok(&req).await?;
    Ok(res
        .results
        .into_iter()
        .next()
        .context("one result")?
        .outcome)
}

/// The office manages the members of a group unit on the units page: a street office taken
/// out of 各街道办 can no longer work on the group's items and its unfinished task goes back to
/// the group, put back it can work again (on the server, not only on screen), and a new street
/// office added by name joins the group.
#[tokio::test]
async fn office_manages_the_members_of_a_group_unit() -> anyhow::Result<()> {
    use shared::sync::Outcome;
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    // 海山街道办, one of the demo's members of 各街道办, which cooperates on item 4 but not on 1.
    let member = e2e::sync_client::Session::login(&server, "member01").await?;
    ensure!(member.me.display_name == "海山街道办", "{:?}", member.me);
    let client = (
        shared::ids::ClientGroupId::new_v7(),
        shared::ids::ClientId::new_v7(),
    );
    let mut id = 0;
    let applied = street_office_comments(&member, client, &mut id, 4).await?;
    ensure!(
        applied == Outcome::Applied,
        "on its group's item: {applied:?}"
    );
    let denied = street_office_comments(&member, client, &mut id, 1).await?;
    ensure!(
        matches!(denied, Outcome::Rejected { .. }),
        "on another item: {denied:?}"
    );

    // The lead unit of item 4 gives it a task of its own.
    let office_api = e2e::sync_client::Session::login(&server, "office").await?;
    let state = office_api.server_view().await?;
    let group = state
        .units()
        .find(|u| u.name == "各街道办")
        .context("各街道办")?
        .id;
    let facts = e2e::sync_client::PlanFacts::new(state);
    let lead = facts
        .login_unit(&server, e2e::sync_client::ITEM4_LEAD)
        .await?;
    let own = give_task(&lead, member.me.unit, "海山社区网格摸排").await?;

    let office = Browser::start(DESKTOP, false).await?;
    office.login(&server.url, "office", DEMO_PASSWORD).await?;
    office.client.goto(&format!("{}/units", server.url)).await?;
    office.named("a", "海山街道办 单位看板").await?;
    all_controls_named(&office, "the units page").await?;
    // The units in the order the plan names them (item 1's lead units, its cooperating units,
    // then item 2's new ones), not by code point.
    let order = office
        .client
        .execute(
            "return [...document.querySelectorAll('li.unit-row h3')].slice(0, 7).map(h => h.firstChild.textContent);",
            vec![],
        )
        .await?;
    let order: Vec<String> = serde_json::from_value(order)?;
    ensure!(
        order
            == [
                "区委〈府〉办",
                "区委组织部〈编办〉",
                "区纪委〈监察局〉",
                "区经促局",
                "盐田市场监管分局",
                "区财政局〈国资委〉",
                "区发改局",
            ],
        "the units page's order: {order:?}"
    );

    // Out of the group, after confirming; its unfinished task goes back to the group.
    office.click_named("button", "移出 海山街道办").await?;
    let asked = office.client.get_alert_text().await?;
    ensure!(
        asked.contains("它在这些项目上未完成的1项任务交回“各街道办”"),
        "the office is told where its task goes: {asked}"
    );
    office.client.accept_alert().await?;
    office.settled().await?;
    let owner = office_api.server_view().await?.task(own).map(|t| t.owner);
    ensure!(
        owner == Some(group),
        "the task went back to the group: {owner:?}"
    );
    ensure!(
        office
            .client
            .find_all(Locator::XPath("//a[@aria-label='海山街道办 单位看板']"))
            .await?
            .is_empty(),
        "海山街道办 is still listed"
    );
    let out = street_office_comments(&member, client, &mut id, 4).await?;
    ensure!(
        matches!(out, Outcome::Rejected { .. }),
        "out of the group, on its item: {out:?}"
    );

    // Back in by its name, and a new one beside it.
    office
        .type_into("各街道办 成员单位名称", "海山街道办")
        .await?;
    office
        .click_named("button", "添加成员单位 各街道办")
        .await?;
    office.named("a", "海山街道办 单位看板").await?;
    office
        .type_into("各街道办 成员单位名称", "试验街道办")
        .await?;
    office
        .click_named("button", "添加成员单位 各街道办")
        .await?;
    office.named("a", "试验街道办 单位看板").await?;
    office.settled().await?;
    office.screenshot("units-group-members").await?;
    let back = street_office_comments(&member, client, &mut id, 4).await?;
    ensure!(back == Outcome::Applied, "back in the group: {back:?}");
    let state = office_api.server_view().await?;
    let added = state
        .unit(shared::ids::unit_id_for_name("试验街道办"))
        .context("the new street office is on the server")?;
    ensure!(added.groups == vec![group] && !added.in_plan, "{added:?}");
    office.close().await?;

    // The lead unit gives a task to the whole group: the member's board shows it, beside the
    // group's items.
    give_task(&lead, group, "各街道摸排试点股份公司").await?;
    let street = Browser::start(DESKTOP, false).await?;
    street.login(&server.url, "member01", DEMO_PASSWORD).await?;
    street.client.goto(&format!("{}/my", server.url)).await?;
    street.wait_for_text("各街道摸排试点股份公司").await?;
    street.wait_for_text("8. 优化基层治理体制改革").await?;
    street.screenshot("units-member-board").await?;
    street.close().await
}

/// Creates a task of item 4 owned by `owner`, as `lead` (its lead unit); its id.
async fn give_task(
    lead: &e2e::sync_client::Session,
    owner: shared::ids::UnitId,
    title: &str,
) -> anyhow::Result<shared::ids::TaskId> {
    let id = shared::ids::TaskId::new_v7();
    let task = shared::mutation::Mutation::CreateTask {
        id,
        item: shared::ids::item_id_for_number(4),
        title: title.into(),
        owner,
        column: shared::board::Column::NotStarted,
        sort_key: shared::board::sort_key::between(None, None),
        due: None,
        at: shared::entity::Millis(1_396_000_000_000),
    };
    let res = lead
        .push_ok(&e2e::sync_client::push_request(
            shared::ids::ClientGroupId::new_v7(),
            vec![shared::sync::PendingMutation {
                client_id: shared::ids::ClientId::new_v7(),
                id: 1,
                mutation: task,
            }],
        ))
        .await?;
    ensure!(
        res.results.first().map(|r| &r.outcome) == Some(&shared::sync::Outcome::Applied),
        "{title}: {res:?}"
    );
    Ok(id)
}

/// The audit view reads back past its first page, page by page, to the first row: a year of
/// work is many thousands of rows, and the server answers at most 1,000 at once.
#[tokio::test]
async fn the_audit_view_reads_back_page_by_page() -> anyhow::Result<()> {
    use e2e::sync_client::Item4;
    use shared::ids::{ClientGroupId, CommentId};
    use shared::mutation::Mutation;
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let Item4 { lead, item, .. } = Item4::on(&server).await?;
    // Signed in first: its own sign-in is not a row the view could not have shown.
    let office_api = server.login("office").await?;
    // 250 comments: 250 rows of their own, beside the sign-ins.
    let mut tab = e2e::sync_client::Tab::new(ClientGroupId::new_v7());
    for n in 1..=250 {
        tab.add(Mutation::AddComment {
            id: CommentId::new_v7(),
            item: item.id,
            task: None,
            body: format!("第{n}条意见"),
            at: shared::entity::Millis(0),
        });
    }
    lead.push_ok(&tab.push_request()).await?;

    let office = Browser::start(DESKTOP, false).await?;
    office.login(&server.url, "office", DEMO_PASSWORD).await?;
    office
        .client
        .goto(&format!("{}/admin/audit", server.url))
        .await?;
    office.find(Locator::Css("li.audit-row")).await?;
    let mut shown = office.count("li.audit-row").await?;
    ensure!(shown == 100, "the first page: {shown} rows");
    // Page back until the button goes; every row once, the first comment at the end.
    for _ in 0..10 {
        let more = office
            .client
            .find_all(Locator::XPath("//button[normalize-space()='加载更多']"))
            .await?;
        let Some(button) = more.first() else { break };
        office.scroll_to(button).await?;
        button.click().await?;
        e2e::browser::poll(
            || async { Ok(office.count("li.audit-row").await? != shown) },
            || async { anyhow::anyhow!("a page never came") },
        )
        .await?;
        shown = office.count("li.audit-row").await?;
    }
    let all: Vec<Value> = office_api.get_json("/api/audit?limit=1000").await?;
    ensure!(
        shown == all.len() && shown > 250,
        "{shown} rows shown of {}",
        all.len()
    );
    office.close().await
}
