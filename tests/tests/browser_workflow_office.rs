//! The office's plan-level screens in real headless Chromium, on the 2014 seed plan: item 4 has a
//! task due in March 2014 that was never done; as of 2014-04-15 the supervision dashboard shows
//! item 4 red with the overdue task as its reason; the office sends a 催办 to the owner unit,
//! which sees it as an unread notification and marks it read; the office generates a bulletin as
//! of that date, edits and publishes it; the unit marks it read and the office sees that; the
//! timeline and the assessment (with its formula) render. Screenshots at desktop and 390×844.

use e2e::browser::{Browser, DESKTOP, PHONE, xpath_literal};
use e2e::sync_client::{PlanFacts, ServerDb, Session, push_request};
use e2e::{DEMO_PASSWORD, Server, ServerOptions};
use fantoccini::Locator;
use shared::board::Column;
use shared::entity::{Entity, Millis};
use shared::ids::{ClientGroupId, ClientId, TaskId};
use shared::mutation::Mutation;
use shared::submission::{SaveDraft, SubmissionKind, Submit};
use shared::sync::PendingMutation;
use std::time::Duration;

use e2e::sync_client::ITEM4_LEAD as LEAD;
const AS_OF: &str = "2014-04-15";
const TASK: &str = "摸清试点公司底数";

/// Millis of noon Beijing time on a 2014 day.
fn day(m: u32, d: u32) -> anyhow::Result<Millis> {
    let t = chrono::NaiveDate::from_ymd_opt(2014, m, d)
        .and_then(|d| d.and_hms_opt(4, 0, 0))
        .ok_or_else(|| anyhow::anyhow!("bad date"))?;
    Ok(Millis(t.and_utc().timestamp_millis()))
}

#[tokio::test]
async fn office_supervises_reminds_and_publishes_a_bulletin() -> anyhow::Result<()> {
    if !e2e::browser::available() {
        return e2e::skipped("chromium/chromedriver");
    }
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;

    // Seed through the sync API: the lead unit of item 4 broke it into two tasks on 1 March
    // 2014; the first was due on 20 March and never done, the second is due in June. The office
    // records them (a unit can no longer set a date already past).
    let office_api = Session::login(&server, "office").await?;
    let facts = PlanFacts::new(office_api.server_view().await?);
    let item4 = facts.item(4)?;
    let lead_unit = facts.unit(LEAD)?;
    let lead = facts.login_unit(&server, LEAD).await?;
    let lead_username = lead.me.username.clone();
    let client = ClientId::new_v7();
    let first_key = shared::board::sort_key::between(None, None);
    let second_key = shared::board::sort_key::between(Some(&first_key), None);
    let task = |id: u64, title: &str, due: (u32, u32)| -> anyhow::Result<PendingMutation> {
        Ok(PendingMutation {
            client_id: client,
            id,
            mutation: Mutation::CreateTask {
                id: TaskId::new_v7(),
                item: item4.id,
                title: title.into(),
                owner: lead_unit.id,
                column: Column::InProgress,
                sort_key: if id == 1 {
                    first_key.clone()
                } else {
                    second_key.clone()
                },
                due: chrono::NaiveDate::from_ymd_opt(2014, due.0, due.1),
                at: day(3, 1)?,
            },
        })
    };
    let res = office_api
        .push_ok(&push_request(
            ClientGroupId::new_v7(),
            vec![task(1, TASK, (3, 20))?, task(2, "制定扶持办法", (6, 30))?],
        ))
        .await?;
    anyhow::ensure!(
        res.results
            .iter()
            .all(|r| matches!(r.outcome, shared::sync::Outcome::Applied)),
        "seed tasks were not applied: {:?}",
        res.results
    );
    // The server dated them when they arrived, not on the 1 March 2014 they claim (a browser's
    // first push can't date a change before itself): set the scene's history directly.
    let db = ServerDb::open(&server).await?;
    for entity in db.entities().await?.iter() {
        if let Entity::Task(t) = entity
            && t.item == item4.id
            && [TASK, "制定扶持办法"].contains(&t.title.as_str())
        {
            let mut t = t.clone();
            (t.created_at, t.updated_at) = (day(3, 1)?, day(3, 1)?);
            db.overwrite(&Entity::Task(t)).await?;
        }
    }

    // The office opens the dashboard as of 15 April 2014: item 4 is red, the overdue task is
    // among its reasons, and the lead unit heads the ranking.
    let office = Browser::start(DESKTOP, false).await?;
    office.login(&server.url, "office", DEMO_PASSWORD).await?;
    // On the board the late card says so in words, not only in red.
    office
        .client
        .goto(&format!("{}/items/4/board", server.url))
        .await?;
    office
        .find(Locator::XPath(&format!(
            "//li[contains(@class,'card')][contains(.,{})]//span[contains(@class,'due')][contains(@class,'late')][starts-with(normalize-space(.),'已逾期 · ')]",
            xpath_literal(TASK)
        )))
        .await?;
    office
        .client
        .goto(&format!("{}/supervision?as_of={AS_OF}", server.url))
        .await?;
    let row = office
        .find(Locator::Css("li.sup-item[data-item='4'][data-light='red']"))
        .await?;
    let reasons = row.find(Locator::Css(".reasons")).await?.text().await?;
    assert!(reasons.contains("1项任务逾期"), "item 4 reasons: {reasons}");
    let date_input = office.named("input", "查看日期").await?;
    assert_eq!(
        date_input.prop("value").await?.as_deref(),
        Some(AS_OF),
        "the as-of date comes from the URL"
    );
    office
        .find(Locator::XPath(&format!(
            "//li[contains(@class,'sup-unit') and @data-unit={}]",
            xpath_literal(LEAD)
        )))
        .await?;
    office.wait_for_text("红（滞后）").await?;
    // A past date's view is the record: nothing is sent from it, and the settings (today's)
    // are not on it.
    assert!(
        office
            .client
            .find_all(Locator::Css(
                "button.remind, input[name=others_may_comment]"
            ))
            .await?
            .is_empty(),
        "催办 or a setting on the view of a past date"
    );

    // 催办 about the overdue task, from today's view (the task is still not done): the form
    // starts on it, addressed to its owner, with a text saying what is late; the office edits
    // the text and sends it.
    office
        .client
        .goto(&format!("{}/supervision", server.url))
        .await?;
    let row = office
        .find(Locator::Css("li.sup-item[data-item='4'][data-light='red']"))
        .await?;
    let remind = row.find(Locator::Css("button.remind")).await?;
    office.scroll_to(&remind).await?;
    remind.click().await?;
    let text = office.named("textarea", "催办内容").await?;
    let default = text.prop("value").await?.unwrap_or_default();
    // Days since 20 March 2014, to today in Beijing (the dashboard's today).
    let beijing_today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let overdue_days = (beijing_today
        - chrono::NaiveDate::from_ymd_opt(2014, 3, 20).unwrap_or_default())
    .num_days();
    assert!(
        default.contains(TASK) && default.contains(&format!("已逾期{overdue_days}天")),
        "default reminder text: {default}"
    );
    let unit_select = office.named("select", "催办单位").await?;
    assert_eq!(
        unit_select.prop("value").await?.as_deref(),
        Some(lead_unit.id.to_string().as_str())
    );
    text.clear().await?;
    text.send_keys("请于4月20日前完成摸底并更新进度。").await?;
    office.screenshot("office-reminder-desktop").await?;
    office.click_named("button", "发送催办").await?;
    office
        .wait_for_text("已向区财政局〈国资委〉发送催办")
        .await?;
    office.settled().await?;
    office.screenshot("office-supervision-desktop").await?;
    // Comments from units with no part in an item are off until the office turns them on; the
    // choice is kept.
    let allow = office
        .find(Locator::Css("input[name=others_may_comment]"))
        .await?;
    assert_eq!(allow.prop("checked").await?.as_deref(), Some("false"));
    office.scroll_to(&allow).await?;
    allow.click().await?;
    office.settled().await?;
    office.client.refresh().await?;
    let allow = office
        .find(Locator::Css("input[name=others_may_comment]"))
        .await?;
    assert_eq!(allow.prop("checked").await?.as_deref(), Some("true"));

    // The lead unit sends its work plan in: the office finds it under 待审核的报送材料 today
    // (and not as of 15 April 2014, before it was sent), and opens it from there.
    let work_plan = shared::ids::submission_id(item4.id, SubmissionKind::WorkPlan.as_str());
    let lead_client = ClientId::new_v7();
    lead.push_ok(&push_request(
        ClientGroupId::new_v7(),
        vec![
            PendingMutation {
                client_id: lead_client,
                id: 1,
                mutation: Mutation::SaveSubmission(SaveDraft {
                    id: work_plan,
                    item: item4.id,
                    kind: SubmissionKind::WorkPlan,
                    parts: vec!["摸底、试点、推开".into(), "扶持办法".into(), "全年".into()],
                    at: day(3, 25)?,
                }),
            },
            PendingMutation {
                client_id: lead_client,
                id: 2,
                mutation: Mutation::SubmitSubmission(Submit {
                    id: work_plan,
                    at: day(3, 25)?,
                }),
            },
        ],
    ))
    .await?;
    office
        .client
        .goto(&format!("{}/supervision?as_of={AS_OF}", server.url))
        .await?;
    office
        .find(Locator::XPath(
            "//section[@aria-labelledby='sup-review-h']//p[normalize-space(.)='没有待审核的报送材料']",
        ))
        .await?;
    office
        .client
        .goto(&format!("{}/supervision", server.url))
        .await?;
    let review = office
        .find(Locator::XPath(&format!(
            "//li[contains(@class,'sup-review')][contains(.,{})]//a[contains(.,'第4项工作方案（第1版）')]",
            xpath_literal(LEAD)
        )))
        .await?;
    office.scroll_to(&review).await?;
    review.click().await?;
    office.wait_for_text("已报送").await?;
    assert!(
        office
            .client
            .current_url()
            .await?
            .path()
            .ends_with("/items/4/submissions/work_plan"),
        "the review entry opens the work plan"
    );

    // The lead unit sees it as an unread notification, with the count in the header.
    let unit = Browser::start(DESKTOP, false).await?;
    unit.login(&server.url, &lead_username, DEMO_PASSWORD)
        .await?;
    unit.find(Locator::Css("a.bell [data-testid=unread-count]"))
        .await?;
    unit.client.goto(&format!("{}/notices", server.url)).await?;
    let notice = unit
        .find(Locator::XPath(
            "//li[contains(@class,'notice-row') and contains(@class,'unread')][contains(., '请于4月20日前完成摸底并更新进度。')]",
        ))
        .await?;
    unit.screenshot("office-notices-desktop").await?;
    notice
        .find(Locator::XPath(".//button[normalize-space(.)='标为已读']"))
        .await?
        .click()
        .await?;
    unit.find(Locator::XPath(
        "//li[contains(@class,'notice-row') and not(contains(@class,'unread'))][contains(., '请于4月20日前完成摸底并更新进度。')]",
    ))
    .await?;
    unit.settled().await?;

    // The office generates a bulletin as of 15 April 2014, edits its title, saves, publishes.
    office
        .client
        .goto(&format!("{}/bulletins?as_of={AS_OF}", server.url))
        .await?;
    office.click_named("button", "生成通报").await?;
    let title = office.named("input", "通报标题").await?;
    let generated = title.prop("value").await?.unwrap_or_default();
    assert!(
        generated.contains("截至2014年4月15日"),
        "generated title: {generated}"
    );
    let body = office.named("textarea", "通报正文").await?;
    let text = body.prop("value").await?.unwrap_or_default();
    assert!(
        text.contains("4. ") && text.contains("滞后"),
        "generated text: {text}"
    );
    title.clear().await?;
    title
        .send_keys("关于2014年第一季度重点改革工作进展情况的通报")
        .await?;
    office.screenshot("office-bulletin-edit-desktop").await?;
    office.click_named("button", "保存通报").await?;
    office.wait_for_text("通报已保存").await?;
    office.click_named("button", "发布通报").await?;
    office.named("button", "打印").await?;
    office
        .wait_for_text("关于2014年第一季度重点改革工作进展情况的通报")
        .await?;
    office.settled().await?;
    let bulletin_url = office.client.current_url().await?.to_string();
    office.screenshot("office-bulletin-desktop").await?;
    // Printed, only the bulletin itself is on the page: no header, no buttons.
    office
        .cdp(
            "Emulation.setEmulatedMedia",
            serde_json::json!({ "media": "print" }),
        )
        .await?;
    assert!(
        !office
            .find(Locator::Css("header.top"))
            .await?
            .is_displayed()
            .await?,
        "the header prints"
    );
    office.screenshot("office-bulletin-print").await?;
    office
        .cdp(
            "Emulation.setEmulatedMedia",
            serde_json::json!({ "media": "" }),
        )
        .await?;

    // The unit reads it and marks it read; the office sees the unit among the readers.
    // It reaches the unit as a notification; opening that opens the bulletin.
    unit.client.goto(&format!("{}/notices", server.url)).await?;
    let open = unit
        .find(Locator::XPath(
            "//li[contains(@class,'notice-row') and contains(@class,'unread')][contains(., '关于2014年第一季度重点改革工作进展情况的通报')]//button[contains(@class,'notice-open')]",
        ))
        .await?;
    unit.scroll_to(&open).await?;
    open.click().await?;
    unit.named("button", "标为已读").await?;
    assert_eq!(unit.client.current_url().await?.as_str(), bulletin_url);
    unit.click_named("button", "标为已读").await?;
    unit.wait_for_text("本单位已阅").await?;
    unit.settled().await?;
    office.client.refresh().await?;
    let mut seen = false;
    for _ in 0..100 {
        if let Ok(el) = office
            .client
            .find(Locator::Css("[data-testid=read-by]"))
            .await
            && el.text().await?.contains(LEAD)
        {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(seen, "the office never saw the unit's read mark");

    // The plan timeline (a missed marker for the overdue task) and the assessment with its formula.
    office
        .client
        .goto(&format!("{}/timeline?as_of={AS_OF}", server.url))
        .await?;
    office.find(Locator::Css(".tl-mark.missed")).await?;
    office.screenshot("office-timeline-desktop").await?;
    office
        .client
        .goto(&format!("{}/assessment?as_of={AS_OF}", server.url))
        .await?;
    office.wait_for_text("得分 = 100").await?;
    office
        .find(Locator::XPath(&format!(
            "//tr[@data-unit={}]",
            xpath_literal(LEAD)
        )))
        .await?;
    // The office takes two points off, with a reason shown in the unit's row.
    office
        .click_named("button", &format!("调整分数：{LEAD}"))
        .await?;
    office
        .named("input", "调整分值")
        .await?
        .send_keys("-2")
        .await?;
    office
        .named("textarea", "调整原因")
        .await?
        .send_keys("工作方案逾期未报送，经督办仍未整改")
        .await?;
    office.click_named("button", "保存调整").await?;
    office
        .find(Locator::XPath(&format!(
            "//tr[@data-unit={}][contains(., '-2 工作方案逾期未报送，经督办仍未整改')]",
            xpath_literal(LEAD)
        )))
        .await?;
    office.screenshot("office-assessment-desktop").await?;
    office.settled().await?;

    // The ledger export the dashboard links to downloads as of the chosen date.
    office
        .client
        .goto(&format!("{}/supervision?as_of={AS_OF}", server.url))
        .await?;
    let href = office
        .named("a", "导出台账")
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    assert_eq!(href, format!("/api/export/ledger.xlsx?as_of={AS_OF}"));
    let res = office_api.api.get(&href).await?;
    assert!(res.status().is_success(), "{href}: {}", res.status());

    // 区人大 records an inspection of items 4 and 5; everyone sees it.
    let npc = Browser::start(DESKTOP, false).await?;
    npc.login(&server.url, "npc", DEMO_PASSWORD).await?;
    npc.client
        .goto(&format!("{}/inspections", server.url))
        .await?;
    let date = npc.named("input", "视察日期").await?;
    npc.client
        .execute(
            "const el = arguments[0]; el.value = '2014-05-20'; el.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![serde_json::to_value(&date)?],
        )
        .await?;
    for n in ["4", "5"] {
        let check = npc
            .find(Locator::Css(&format!("input[name=items][value='{n}']")))
            .await?;
        npc.scroll_to(&check).await?;
        check.click().await?;
    }
    npc.named("textarea", "视察情况")
        .await?
        .send_keys("试点公司清产核资已启动，建议加快制定扶持办法。")
        .await?;
    npc.click_named("button", "记录视察").await?;
    npc.wait_for_text("视察记录已保存").await?;
    npc.settled().await?;
    npc.screenshot("office-inspections-desktop").await?;
    npc.close().await?;
    unit.client
        .goto(&format!("{}/inspections", server.url))
        .await?;
    unit.find(Locator::XPath(
        "//li[contains(@class,'inspection-row')][contains(., '2014年5月20日')][contains(., '建议加快制定扶持办法')]",
    ))
    .await?;

    // On a phone: the same screens fit 390 px without sideways scrolling.
    let phone = Browser::start(PHONE, true).await?;
    phone.login(&server.url, "office", DEMO_PASSWORD).await?;
    for (path, ready, shot) in [
        (
            format!("/supervision?as_of={AS_OF}"),
            "li.sup-item[data-item='4'][data-light='red']",
            "office-supervision-phone",
        ),
        (
            format!("/timeline?as_of={AS_OF}"),
            ".tl-mark.missed",
            "office-timeline-phone",
        ),
        (
            format!("/assessment?as_of={AS_OF}"),
            "table.assess-table",
            "office-assessment-phone",
        ),
        (
            bulletin_url.trim_start_matches(&server.url).to_string(),
            ".paper",
            "office-bulletin-phone",
        ),
        (
            "/notices".to_string(),
            "ul.notice-list",
            "office-notices-phone",
        ),
    ] {
        phone.client.goto(&format!("{}{path}", server.url)).await?;
        phone.find(Locator::Css(ready)).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        phone.screenshot(shot).await?;
        phone.no_sideways_scroll(&path).await?;
    }

    phone.close().await?;
    unit.close().await?;
    office.close().await?;
    Ok(())
}
