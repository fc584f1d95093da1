//! The year of the seed plan, end to end, in real headless Chromium — issue 6's story in one
//! run, each role in its own browser: the lead unit of item 4 drafts and submits its work plan;
//! the office returns it with a comment; the unit resubmits and the office accepts it; a leader
//! on a 390×844 phone sees item 4 red because of an overdue task and writes an instruction; the
//! lead unit sees the notification and answers; the office sends a 催办, generates and
//! publishes a bulletin, and downloads the ledger, which read back has the 14 items with their
//! units; the unit, no longer able to re-date its missed task, asks for a postponement, which
//! the office approves. (The screens in detail: browser_workflow_item.rs and
//! browser_workflow_office.rs.)

use anyhow::{Context, ensure};
use calamine::{Data, DataType, Reader, Xlsx, open_workbook};
use e2e::browser::{Browser, DESKTOP, PHONE, xpath_literal};
use e2e::sync_client::{PlanFacts, Session, push_request};
use e2e::{DEMO_PASSWORD, Server, ServerOptions};
use fantoccini::Locator;
use shared::board::{Column, sort_key};
use shared::entity::Millis;
use shared::ids::{ClientGroupId, ClientId, TaskId};
use shared::mutation::Mutation;
use shared::sync::PendingMutation;
use std::time::Duration;

use e2e::sync_client::ITEM4_LEAD as LEAD;
const TASK: &str = "摸清试点公司底数";

async fn goto(b: &Browser, server: &Server, path: &str) -> anyhow::Result<()> {
    b.client.goto(&format!("{}{path}", server.url)).await?;
    Ok(())
}

#[tokio::test]
async fn a_year_of_the_seed_plan() -> anyhow::Result<()> {
    if !e2e::browser::available() {
        return e2e::skipped("chromium/chromedriver");
    }
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let office_session = Session::login(&server, "office").await?;
    let facts = PlanFacts::new(office_session.server_view().await?);
    let item4 = facts.item(4)?;
    ensure!(
        item4.lead_units.contains(&facts.unit(LEAD)?.id),
        "{LEAD} leads item 4"
    );

    // March 2014: the lead unit's task due on 20 March, recorded by the office through the sync
    // API, dated then (a unit can't set a date already past); it is never finished.
    let lead_session = facts.login_unit(&server, LEAD).await?;
    let lead_user = lead_session.me.username.clone();
    let created = chrono::NaiveDate::from_ymd_opt(2014, 3, 1)
        .and_then(|d| d.and_hms_opt(4, 0, 0))
        .context("date")?;
    let create = Mutation::CreateTask {
        id: TaskId::new_v7(),
        item: item4.id,
        title: TASK.into(),
        owner: facts.unit(LEAD)?.id,
        column: Column::InProgress,
        sort_key: sort_key::between(None, None),
        due: chrono::NaiveDate::from_ymd_opt(2014, 3, 20),
        at: Millis(created.and_utc().timestamp_millis()),
    };
    let pushed = office_session
        .push_ok(&push_request(
            ClientGroupId::new_v7(),
            vec![PendingMutation {
                client_id: ClientId::new_v7(),
                id: 1,
                mutation: create,
            }],
        ))
        .await?;
    ensure!(
        pushed
            .results
            .iter()
            .map(|r| &r.outcome)
            .eq([&shared::sync::Outcome::Applied]),
        "the task was recorded: {pushed:?}"
    );

    // The lead unit drafts the work plan (the schedule pulled in from its tasks) and submits it.
    let lead = Browser::start(DESKTOP, false).await?;
    lead.login(&server.url, &lead_user, DEMO_PASSWORD).await?;
    goto(&lead, &server, "/items/4/submissions/work_plan").await?;
    lead.wait_for_exact_text("[data-testid=submission-state]", "未开始")
        .await?;
    lead.type_into("实施步骤", "一、摸底调查；二、制定方案；三、组织实施。")
        .await?;
    lead.type_into("工作措施", "成立专班，每月调度。").await?;
    lead.click_named("button", "从任务生成进度安排").await?;
    let schedule = lead.field("进度安排").await?;
    for _ in 0..50 {
        if schedule
            .prop("value")
            .await?
            .unwrap_or_default()
            .contains(TASK)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(
        schedule
            .prop("value")
            .await?
            .unwrap_or_default()
            .contains(TASK),
        "the schedule comes from the item's tasks"
    );
    lead.click_named("button", "保存草稿").await?;
    lead.wait_for_exact_text("[data-testid=submission-state]", "草稿")
        .await?;
    lead.click_named("button", "报送").await?;
    lead.client.accept_alert().await?;
    lead.wait_for_exact_text("[data-testid=submission-state]", "已报送")
        .await?;
    lead.settled().await?;

    // The office returns it with a comment.
    let office = Browser::start(DESKTOP, false).await?;
    office.login(&server.url, "office", DEMO_PASSWORD).await?;
    goto(&office, &server, "/items/4/submissions/work_plan").await?;
    office
        .wait_for_exact_text("[data-testid=submission-state]", "已报送")
        .await?;
    office.wait_for_text("成立专班，每月调度。").await?;
    office
        .type_into("审核意见", "请细化责任分工和时间节点。")
        .await?;
    office.click_named("button", "退回修改").await?;
    office
        .wait_for_exact_text("[data-testid=submission-state]", "退回修改")
        .await?;
    office.settled().await?;

    // The unit sees the return and the comment, revises and resubmits; the office accepts.
    goto(&lead, &server, "/items/4/submissions/work_plan").await?;
    lead.wait_for_exact_text("[data-testid=submission-state]", "退回修改")
        .await?;
    lead.wait_for_text("请细化责任分工和时间节点。").await?;
    lead.type_into("工作措施", "财政局牵头，各街道办4月底前报送底数。")
        .await?;
    lead.click_named("button", "报送").await?;
    lead.client.accept_alert().await?;
    lead.wait_for_exact_text("[data-testid=submission-state]", "已报送")
        .await?;
    lead.settled().await?;
    goto(&office, &server, "/items/4/submissions/work_plan").await?;
    office
        .wait_for_exact_text("[data-testid=submission-state]", "已报送")
        .await?;
    office.click_named("button", "通过").await?;
    office
        .wait_for_exact_text("[data-testid=submission-state]", "已通过")
        .await?;
    office.wait_for_text("版本 2").await?;
    office.settled().await?;

    // A leader on a phone: item 4 is red on the overview because of the overdue task.
    let leader = Browser::start(PHONE, true).await?;
    leader.login(&server.url, "leader", DEMO_PASSWORD).await?;
    goto(&leader, &server, "/overview").await?;
    let row = leader
        .find(Locator::XPath(
            "//a[contains(@class,'status-row')][@href='/items/4/board']/..",
        ))
        .await?;
    let light = row.find(Locator::Css(".light.red")).await?.text().await?;
    ensure!(light == "滞后", "item 4's light reads {light:?}");
    let reasons = row.text().await?;
    ensure!(
        reasons.contains("项任务逾期"),
        "item 4 is red for its overdue task: {reasons}"
    );
    // Its work plan is in (whatever the hour: "today" is the Beijing date on both sides).
    ensure!(
        !reasons.contains("工作方案"),
        "the accepted work plan is not overdue: {reasons}"
    );
    leader.no_sideways_scroll("overview").await?;
    leader.screenshot("year-leader-overview-phone").await?;
    // …and writes an instruction on it.
    goto(&leader, &server, "/items/4/instructions").await?;
    leader
        .type_into("批示内容", "请加快试点进度，6月底前报告进展。")
        .await?;
    leader.click_named("button", "作出批示").await?;
    leader.wait_for_text("待收悉").await?;
    leader.settled().await?;
    leader.no_sideways_scroll("instructions").await?;
    leader.screenshot("year-leader-instruction-phone").await?;
    // Until it is answered, the overview says so and 督查 lists it.
    goto(&leader, &server, "/overview").await?;
    leader.click_named("a", "1条领导批示待答复").await?;
    leader
        .find(Locator::XPath(
            "//section[@aria-labelledby='sup-instructions-h']//li[contains(@class,'sup-review')][contains(.,'待收悉')]//a[contains(.,'请加快试点进度')]",
        ))
        .await?;

    // The lead unit sees the notification, opens it and answers.
    goto(&lead, &server, "/notices").await?;
    let notice = lead
        .find(Locator::XPath(&format!(
            "//li[contains(@class,'notice-row') and contains(@class,'unread')][contains(., {})]//button[contains(@class,'notice-open')]",
            xpath_literal("请加快试点进度，6月底前报告进展。")
        )))
        .await?;
    lead.scroll_to(&notice).await?;
    // The notice leads to the item's instructions, where it is answered.
    notice.click().await?;
    lead.named("button", "收悉").await?;
    let url = lead.client.current_url().await?;
    ensure!(
        url.path() == "/items/4/instructions",
        "the instruction's notice opened {url}"
    );
    lead.click_named("button", "收悉").await?;
    lead.wait_for_text("已收悉").await?;
    lead.type_into("回复内容", "已部署，6月25日前报送进展报告。")
        .await?;
    lead.click_named("button", "回复").await?;
    lead.settled().await?;
    // The leader sees the answer.
    goto(&leader, &server, "/items/4/instructions").await?;
    leader
        .wait_for_text("已部署，6月25日前报送进展报告。")
        .await?;
    goto(&leader, &server, "/supervision").await?;
    leader.wait_for_text("没有待答复的领导批示").await?;
    // The item's timeline on the phone: each row's name is a link a thumb can hit.
    goto(&leader, &server, "/items/4/timeline").await?;
    leader.find(Locator::Css(".tl-label a")).await?;
    let heights = leader
        .client
        .execute(
            "return [...document.querySelectorAll('.tl-label a')].map(a => a.getBoundingClientRect().height);",
            vec![],
        )
        .await?;
    let heights: Vec<f64> = serde_json::from_value(heights)?;
    ensure!(
        !heights.is_empty() && heights.iter().all(|h| *h >= 44.0),
        "the timeline's row links are {heights:?} px tall"
    );

    // The office chases the overdue task (催办) from today's dashboard (a past date's view
    // sends nothing)…
    goto(&office, &server, "/supervision").await?;
    let item_row = office
        .find(Locator::Css("li.sup-item[data-item='4'][data-light='red']"))
        .await?;
    let remind = item_row.find(Locator::Css("button.remind")).await?;
    office.scroll_to(&remind).await?;
    remind.click().await?;
    let text = office.named("textarea", "催办内容").await?;
    text.clear().await?;
    text.send_keys("请于4月20日前完成摸底并更新进度。").await?;
    office.click_named("button", "发送催办").await?;
    office.wait_for_text(&format!("已向{LEAD}发送催办")).await?;
    office.settled().await?;
    // …which the unit finds among its notifications.
    goto(&lead, &server, "/notices").await?;
    lead.find(Locator::XPath(
        "//li[contains(@class,'notice-row')][contains(., '请于4月20日前完成摸底并更新进度。')]",
    ))
    .await?;

    // The office generates a bulletin as of 15 April 2014 and publishes it.
    goto(&office, &server, "/bulletins?as_of=2014-04-15").await?;
    office.click_named("button", "生成通报").await?;
    let body = office.named("textarea", "通报正文").await?;
    let generated = body.prop("value").await?.unwrap_or_default();
    ensure!(
        generated.contains("滞后") && generated.contains(LEAD),
        "the bulletin names item 4 late and its unit: {generated}"
    );
    office.click_named("button", "保存通报").await?;
    office.wait_for_text("通报已保存").await?;
    office.click_named("button", "发布通报").await?;
    office.named("button", "打印").await?;
    office.settled().await?;
    goto(&lead, &server, "/notices").await?;
    lead.find(Locator::XPath(
        "//li[contains(@class,'notice-row')][contains(., '截至2014年4月15日')]",
    ))
    .await?;

    // The ledger downloads from the dashboard and, read back, has the 14 items and their units.
    let downloads = tempfile::tempdir()?;
    office.download_to(downloads.path()).await?;
    goto(&office, &server, "/supervision?as_of=2014-04-15").await?;
    let link = office
        .find(Locator::Css("a[href^='/api/export/ledger.xlsx']"))
        .await?;
    office.scroll_to(&link).await?;
    link.click().await?;
    let mut file = None;
    for _ in 0..100 {
        file = std::fs::read_dir(downloads.path())?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "xlsx"));
        if file.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let file = file.context("the ledger never downloaded")?;
    let mut book: Xlsx<_> = open_workbook(&file)?;
    let items = book.worksheet_range("改革项目")?;
    let rows: Vec<&[Data]> = items.rows().skip(1).collect();
    ensure!(
        rows.len() == 14,
        "14 items in the ledger, got {}",
        rows.len()
    );
    for row in &rows {
        let lead_units = row.get(2).map(|c| c.to_string()).unwrap_or_default();
        ensure!(
            !lead_units.is_empty(),
            "every item has its lead units: {row:?}"
        );
    }
    let four = rows
        .iter()
        .find(|r| r.first().and_then(DataType::as_f64) == Some(4.0))
        .context("item 4 in the ledger")?;
    ensure!(
        four.get(2).map(|c| c.to_string()).as_deref() == Some(LEAD),
        "item 4's lead unit: {four:?}"
    );
    ensure!(
        four.get(7).map(|c| c.to_string()).as_deref() == Some("滞后"),
        "item 4 is late in the ledger as of 15 April: {four:?}"
    );

    // The task is still not done, long past its date: the date is no longer the unit's to move
    // (nor the owner, nor archiving). The unit asks for more time on the card; the office finds
    // the request among its notices and approves it on the card; the card shows the new date.
    goto(&lead, &server, "/items/4/board").await?;
    lead.click_named("button", &format!("打开任务 {TASK}"))
        .await?;
    let detail = lead.detail().await?;
    lead.wait_for_text("截止日期已过：截止日期和承担单位由综合办调整")
        .await?;
    let due = detail
        .find(Locator::Css("output[name=due]"))
        .await?
        .text()
        .await?;
    ensure!(
        lead.count("aside[role=dialog] input[name=due]").await? == 0 && due.contains("2014年"),
        "a missed date can't be edited by the unit, and reads as a date: {due}"
    );
    ensure!(
        lead.count("aside[role=dialog] select[name=owner]").await? == 0
            && lead.count("aside[role=dialog] .danger-zone").await? == 0,
        "nor its owner changed, nor the task archived"
    );
    // A month from now: a date already past can't be asked for.
    let new_due = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    let new_due_zh = shared::board::zh_date(new_due);
    let to = lead.field("申请延期至").await?;
    lead.scroll_to(&to).await?;
    lead.client
        .execute(
            "const el = arguments[0]; el.value = arguments[1]; el.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![serde_json::to_value(&to)?, new_due.to_string().into()],
        )
        .await?;
    lead.type_into("延期理由", "试点公司清产核资工作量大，需延至6月底。")
        .await?;
    lead.screenshot("year-postponement-form-desktop").await?;
    lead.click_named("button", "提交延期申请").await?;
    lead.wait_for_text("待综合办审核").await?;
    lead.settled().await?;
    lead.close_dialog().await?;
    lead.find(Locator::Css("li.card .postponing-badge")).await?;
    lead.screenshot("year-postponement-asked-desktop").await?;

    goto(&office, &server, "/notices").await?;
    let notice = office
        .find(Locator::XPath(&format!(
            "//li[contains(@class,'notice-row') and contains(@class,'unread')][contains(., {})]//button[contains(@class,'notice-open')]",
            xpath_literal(&format!("申请延期至{new_due_zh}"))
        )))
        .await?;
    office.scroll_to(&notice).await?;
    // The notice opens the card itself, on its board.
    notice.click().await?;
    office.detail().await?;
    office
        .wait_for_text("试点公司清产核资工作量大，需延至6月底。")
        .await?;
    let url = office.client.current_url().await?;
    ensure!(
        url.path() == "/items/4/board" && url.query().is_some_and(|q| q.starts_with("card=")),
        "the request's notice opened {url}"
    );
    office.click_named("button", "同意延期").await?;
    office.wait_for_text("已同意").await?;
    office.settled().await?;
    office
        .screenshot("year-postponement-approved-desktop")
        .await?;
    let due = office
        .find(Locator::Css("aside[role=dialog] input[name=due]"))
        .await?;
    ensure!(
        due.prop("value").await? == Some(new_due.to_string()),
        "the approved date is the task's"
    );
    // Closed, the card leaves the address: a reload shows the board without it.
    office.close_dialog().await?;
    office.settled().await?;
    let url = office.client.current_url().await?;
    ensure!(
        url.path() == "/items/4/board" && url.query().is_none(),
        "after closing the card: {url}"
    );

    // The unit hears the answer; the card shows the new date.
    goto(&lead, &server, "/notices").await?;
    lead.find(Locator::XPath(&format!(
        "//li[contains(@class,'notice-row')][contains(., {})]",
        xpath_literal(&format!("延期申请已同意，截止日期改为{new_due_zh}"))
    )))
    .await?;
    goto(&lead, &server, "/items/4/board").await?;
    lead.wait_for_text(&new_due_zh).await?;

    // The year's assessment in English: the units' names keep a line's width beside the long
    // headings (they were squeezed to a few characters a line), and the score is in ink, not
    // the red that means late everywhere else.
    goto(&office, &server, "/assessment?as_of=2014-12-31").await?;
    office.click_named("button", "English 切换语言").await?;
    office
        .find(Locator::XPath(
            "//th[normalize-space()='Submissions on time']",
        ))
        .await?;
    let look = office
        .client
        .execute(
            r#"
            const name = document.querySelector('table.assess-table tbody th[scope=row]');
            const score = document.querySelector('table.assess-table tbody td.total');
            return [name.getBoundingClientRect().width, getComputedStyle(score).color];"#,
            vec![],
        )
        .await?;
    let (name_width, score_colour): (f64, String) = serde_json::from_value(look)?;
    ensure!(
        name_width >= 120.0,
        "the unit column is {name_width} px wide in English"
    );
    ensure!(
        score_colour == "rgb(29, 29, 31)",
        "the score is in {score_colour}, not ink"
    );
    office.screenshot("year-assessment-desktop-en").await?;

    for b in [lead, office, leader] {
        b.close().await?;
    }
    Ok(())
}
