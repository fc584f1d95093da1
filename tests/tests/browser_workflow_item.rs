//! The item-level screens of running the plan, in real headless Chromium: the lead unit of item
//! 4 drafts its work plan (the schedule filled from its tasks), attaches evidence and submits;
//! the office returns it with a comment; the unit sees the comment and resubmits; the office
//! accepts; both versions stay readable. A leader on a 390×844 phone writes an instruction, the
//! lead unit acknowledges and answers, the leader sees the answer. A unit raises a difficulty
//! and the office resolves it; 区人大 publishes an evaluation the unit then reads. Screenshots
//! at desktop and phone size in target/screenshots/.

use anyhow::{Context, ensure};
use e2e::browser::{Browser, DESKTOP, PHONE};
use e2e::{DEMO_PASSWORD, Server, ServerOptions, demo_username};
use fantoccini::Locator;
use std::time::Duration;

use e2e::sync_client::ITEM4_LEAD as LEAD;

async fn open(b: &Browser, base: &str, path: &str) -> anyhow::Result<()> {
    b.client.goto(&format!("{base}{path}")).await?;
    let shown = b.wait_for_text("开展集体股份合作公司试点改革").await;
    if shown.is_err() {
        // What the page showed instead, for whoever reads the failure.
        let _ = b.screenshot("workflow-failed-open").await;
    }
    shown.with_context(|| format!("opening {path}"))
}

#[tokio::test]
async fn submissions_instructions_and_difficulties() -> anyhow::Result<()> {
    if !e2e::browser::available() {
        return e2e::skipped("chromium/chromedriver");
    }
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let base = server.url.clone();
    let lead_user = demo_username(&server, LEAD).await?;

    // The lead unit breaks the item into a task, so the work plan has a schedule to pull in.
    let lead = Browser::start(DESKTOP, false).await?;
    lead.login(&base, &lead_user, DEMO_PASSWORD).await?;
    open(&lead, &base, "/items/4/board").await?;
    let form = lead.open_create_task().await?;
    form.find(Locator::Css("input[name=title]"))
        .await?
        .send_keys("摸清试点公司底数")
        .await?;
    form.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    lead.wait_for_text("摸清试点公司底数").await?;

    // Draft the work plan part by part; the schedule comes from the tasks.
    open(&lead, &base, "/items/4/submissions").await?;
    lead.wait_for_text("未开始").await?;
    lead.find(Locator::XPath("//a[normalize-space(.)='工作方案']"))
        .await?
        .click()
        .await?;
    lead.wait_for_exact_text("[data-testid=submission-state]", "未开始")
        .await?;
    lead.type_into("实施步骤", "一、摸底调查；二、制定方案；三、组织实施。")
        .await?;
    lead.click_named("button", "从任务生成进度安排").await?;
    let schedule = lead.field("进度安排").await?;
    for _ in 0..50 {
        if schedule
            .prop("value")
            .await?
            .unwrap_or_default()
            .contains("摸清试点公司底数")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        schedule
            .prop("value")
            .await?
            .unwrap_or_default()
            .contains("1. 摸清试点公司底数（区财政局〈国资委〉）"),
        "schedule filled from the tasks"
    );
    lead.click_named("button", "保存草稿").await?;
    lead.wait_for_exact_text("[data-testid=submission-state]", "草稿")
        .await?;

    // Evidence: a wrong type is refused before upload; a PDF is uploaded and listed.
    let dir = tempfile::tempdir()?;
    let exe = dir.path().join("工具.exe");
    std::fs::write(&exe, b"MZ")?;
    let pdf = dir.path().join("摸底调查表.pdf");
    std::fs::write(
        &pdf,
        b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
    )?;
    let upload = lead.field("上传佐证材料").await?;
    upload.send_keys(&exe.display().to_string()).await?;
    lead.wait_for_text("只接受 pdf、doc、docx、xls、xlsx、jpg、png 文件")
        .await?;
    let upload = lead.field("上传佐证材料").await?;
    upload.send_keys(&pdf.display().to_string()).await?;
    lead.find(Locator::XPath(
        "//section[contains(@class,'attachments')]//a[normalize-space(.)='摸底调查表.pdf']",
    ))
    .await?;
    lead.settled().await?;
    let href = lead
        .find(Locator::XPath("//a[normalize-space(.)='摸底调查表.pdf']"))
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    assert!(
        href.starts_with("/api/attachments/"),
        "download link {href}"
    );

    lead.click_named("button", "报送").await?;
    lead.client.accept_alert().await?;
    lead.wait_for_exact_text("[data-testid=submission-state]", "已报送")
        .await?;
    lead.wait_for_text("逾期").await?; // the seed plan's work plan was due 2014-03-31
    lead.settled().await?;
    lead.screenshot("workflow-submission-desktop").await?;

    // The office returns it: a comment is required.
    let office = Browser::start(DESKTOP, false).await?;
    office.login(&base, "office", DEMO_PASSWORD).await?;
    open(&office, &base, "/items/4/submissions/work_plan").await?;
    office
        .wait_for_exact_text("[data-testid=submission-state]", "已报送")
        .await?;
    office
        .wait_for_text("一、摸底调查；二、制定方案；三、组织实施。")
        .await?;
    office.click_named("button", "退回修改").await?;
    office.wait_for_text("退回修改时请写明审核意见").await?;
    office
        .type_into("审核意见", "请补充工作措施和责任分工。")
        .await?;
    office.click_named("button", "退回修改").await?;
    office
        .wait_for_exact_text("[data-testid=submission-state]", "退回修改")
        .await?;
    office.settled().await?;

    // The unit sees the return and the comment, adds the measures and resubmits.
    open(&lead, &base, "/items/4/submissions").await?;
    lead.find(Locator::XPath(
        "//li[@data-kind='work_plan']//span[normalize-space(.)='退回修改']",
    ))
    .await?;
    open(&lead, &base, "/items/4/submissions/work_plan").await?;
    lead.wait_for_exact_text("[data-testid=submission-state]", "退回修改")
        .await?;
    lead.wait_for_text("请补充工作措施和责任分工。").await?;
    lead.type_into(
        "工作措施",
        "成立试点工作小组，区财政局〈国资委〉牵头，各街道配合。",
    )
    .await?;
    lead.click_named("button", "报送").await?;
    lead.client.accept_alert().await?;
    lead.wait_for_exact_text("[data-testid=submission-state]", "已报送")
        .await?;
    lead.settled().await?;

    // The office accepts version 2; both versions are there with who, when and the review.
    open(&office, &base, "/items/4/submissions/work_plan").await?;
    office
        .wait_for_exact_text("[data-testid=submission-state]", "已报送")
        .await?;
    office.click_named("button", "通过").await?;
    office
        .wait_for_exact_text("[data-testid=submission-state]", "已通过")
        .await?;
    office.settled().await?;
    for v in ["1", "2"] {
        office
            .find(Locator::Css(&format!(
                "li.version[data-version='{v}'] summary"
            )))
            .await?;
    }
    office.wait_for_text("版本 1").await?;
    office.wait_for_text("版本 2").await?;
    let summary1 = office
        .find(Locator::Css("li.version[data-version='1'] summary"))
        .await?
        .text()
        .await?;
    assert!(summary1.contains("退回修改"), "version 1: {summary1}");
    office.screenshot("workflow-review-desktop").await?;

    // A leader on a phone writes an instruction.
    let leader = Browser::start(PHONE, true).await?;
    leader.login(&base, "leader", DEMO_PASSWORD).await?;
    open(&leader, &base, "/items/4").await?;
    leader.find(Locator::Css(".item-status .light")).await?;
    leader.no_sideways_scroll("page").await?;
    leader.screenshot("workflow-item-phone").await?;
    leader
        .find(Locator::XPath(
            "//nav[@aria-label='项目栏目']//a[normalize-space(.)='领导批示']",
        ))
        .await?
        .click()
        .await?;
    let text = leader.field("批示内容").await?;
    text.send_keys("请加快试点进度，6月底前报告进展。").await?;
    let send = leader.named("button", "作出批示").await?;
    let size = send.rectangle().await?;
    assert!(size.3 >= 44.0, "the button is a thumb's size: {size:?}");
    send.click().await?;
    leader.wait_for_text("待收悉").await?;
    leader.settled().await?;
    leader.no_sideways_scroll("page").await?;
    leader.screenshot("workflow-instruction-phone").await?;

    // The lead unit acknowledges and answers.
    open(&lead, &base, "/items/4/instructions").await?;
    lead.wait_for_text("请加快试点进度，6月底前报告进展。")
        .await?;
    lead.click_named("button", "收悉").await?;
    lead.wait_for_text("已收悉").await?;
    lead.type_into("回复内容", "已部署，6月25日前报送进展报告。")
        .await?;
    lead.click_named("button", "回复").await?;
    lead.find(Locator::XPath(
        "//div[contains(@class,'answer')][contains(.,'已部署，6月25日前报送进展报告。')]",
    ))
    .await?;
    // Answered, the form says a new answer replaces this one.
    lead.named("button", "修改回复").await?;
    lead.settled().await?;

    // The leader sees the answer.
    leader.client.refresh().await?;
    leader
        .find(Locator::XPath(
            "//div[contains(@class,'answer')][contains(.,'已部署，6月25日前报送进展报告。')]",
        ))
        .await?;
    leader.no_sideways_scroll("page").await?;
    leader.screenshot("workflow-answer-phone").await?;

    // A unit raises a difficulty; the office resolves it.
    open(&lead, &base, "/items/4/difficulties").await?;
    // The form is folded above the list; its summary opens it.
    lead.click_named("summary", "反映困难和问题").await?;
    lead.type_into("问题", "试点公司财务数据不全").await?;
    lead.type_into(
        "具体情况",
        "部分股份合作公司近三年账目缺失，需审计部门协助。",
    )
    .await?;
    lead.click_named("button", "反映问题").await?;
    lead.find(Locator::XPath(
        "//li[contains(@class,'difficulty')][contains(.,'试点公司财务数据不全')]//span[normalize-space(.)='待协调']",
    ))
    .await?;
    // Raised, the form folds away again (its fields emptied for the next one).
    ensure!(
        lead.count("details.raise[open]").await? == 0,
        "the raise form stays open after raising"
    );
    lead.settled().await?;

    open(&office, &base, "/items/4/difficulties").await?;
    office.wait_for_text("试点公司财务数据不全").await?;
    office
        .type_into("协调说明", "已请区审计局派员协助。")
        .await?;
    office.click_named("button", "协调").await?;
    office
        .find(Locator::XPath(
            "//li[contains(@class,'difficulty')]//span[normalize-space(.)='协调中']",
        ))
        .await?;
    office
        .type_into("解决情况", "区审计局已完成专项审计，账目补齐。")
        .await?;
    office.click_named("button", "标记解决").await?;
    office
        .find(Locator::XPath(
            "//li[contains(@class,'difficulty')]//span[normalize-space(.)='已解决']",
        ))
        .await?;
    office.settled().await?;
    office.screenshot("workflow-difficulty-desktop").await?;

    // Status and timeline, for the eye.
    open(&office, &base, "/items/4").await?;
    let status = office
        .find(Locator::Css(".item-status"))
        .await?
        .text()
        .await?;
    // The work plan is in (whatever the hour in UTC): only the reports are missing.
    assert!(
        status.contains("半年报告、年度报告逾期未报送") && !status.contains("工作方案"),
        "status: {status}"
    );
    office.screenshot("workflow-item-desktop").await?;
    open(&office, &base, "/items/4/timeline").await?;
    office.find(Locator::Css(".timeline-grid")).await?;
    office.screenshot("workflow-timeline-desktop").await?;
    open(&leader, &base, "/items/4/timeline").await?;
    leader.find(Locator::Css(".timeline-grid")).await?;
    leader.no_sideways_scroll("page").await?;
    leader.screenshot("workflow-timeline-phone").await?;
    open(&lead, &base, "/items/4/difficulties").await?;
    lead.find(Locator::XPath("//span[normalize-space(.)='已解决']"))
        .await?;

    // 区人大 evaluates the item and publishes; the lead unit sees it.
    let npc = Browser::start(DESKTOP, false).await?;
    npc.login(&base, "npc", DEMO_PASSWORD).await?;
    open(&npc, &base, "/items/4/evaluations").await?;
    npc.field("4分").await?.click().await?;
    npc.type_into("评议意见", "试点推进有力，财务公开仍需加强。")
        .await?;
    npc.click_named("button", "发布评议").await?;
    npc.client.accept_alert().await?;
    npc.wait_for_text("评议已发布").await?;
    npc.settled().await?;
    open(&lead, &base, "/items/4/evaluations").await?;
    lead.find(Locator::XPath(
        "//li[contains(@class,'evaluation')][contains(.,'试点推进有力，财务公开仍需加强。')]//*[@aria-label='评分4分']",
    ))
    .await?;
    lead.screenshot("workflow-evaluation-desktop").await?;

    npc.close().await?;

    // On item 1, led by two units, the second is told who drafts the work plan before it
    // types anything, rather than having its text refused.
    let second_lead = demo_username(&server, "区委组织部〈编办〉").await?;
    let second = Browser::start(DESKTOP, false).await?;
    second.login(&base, &second_lead, DEMO_PASSWORD).await?;
    second
        .client
        .goto(&format!("{base}/items/1/submissions/work_plan"))
        .await?;
    second
        .wait_for_text("工作方案由区委〈府〉办起草报送。")
        .await?;
    anyhow::ensure!(
        second.count("form.submission-form textarea").await? == 0,
        "the second lead unit is offered an editor the server refuses"
    );
    second.close().await?;

    lead.close().await?;
    office.close().await?;
    leader.close().await
}
