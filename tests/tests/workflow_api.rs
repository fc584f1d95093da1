//! The backend half of running the plan, against the real binary on SQLite and PostgreSQL:
//! uploads (limits, types, hostile names, download headers, drafts stay private), attaching
//! only one's own upload, the daily reminder job (each reminder once however often it runs, and
//! mailed), the ledger and assessment spreadsheets read back with calamine, the printable
//! bulletin (escaped), and notification mail written by the file transport.

use anyhow::{Context, ensure};
use calamine::{Reader, Xlsx, open_workbook_from_rs};
use e2e::sync_client::{PlanFacts, Session, pull_request, push_request};
use e2e::{Server, ServerOptions, Store, on_both_stores};
use serde_json::json;
use shared::attachment::{Attach, AttachedTo, Remove, UploadInfo};
use shared::bulletin::{Publish, Save};
use shared::entity::{Entity, EntityKey, Millis};
use shared::ids::{BulletinId, ClientGroupId, ClientId, ReminderId, submission_id};
use shared::mutation::{Mutation, Rejection};
use shared::reminder::{About, Send as Remind};
use shared::submission::{ReviewSubmission, SaveDraft, SubmissionKind, Submit, working_parts};
use shared::sync::{Outcome, PendingMutation};
use std::io::Cursor;
use std::path::Path;

const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";
const LEAD_OF_4: &str = "区财政局〈国资委〉";
const AT: Millis = Millis(1_396_000_000_000);

/// One sync client of a session, pushing one mutation at a time.
struct Client {
    session: Session,
    group: ClientGroupId,
    client: ClientId,
    next: u64,
}

impl Client {
    fn new(session: Session) -> Client {
        Client {
            session,
            group: ClientGroupId::new_v7(),
            client: ClientId::new_v7(),
            next: 1,
        }
    }

    async fn push(&mut self, mutation: Mutation) -> anyhow::Result<Outcome> {
        let pending = PendingMutation {
            client_id: self.client,
            id: self.next,
            mutation,
        };
        self.next += 1;
        let res = self
            .session
            .push_ok(&push_request(self.group, vec![pending]))
            .await?;
        res.results
            .into_iter()
            .next()
            .map(|r| r.outcome)
            .context("one result")
    }

    async fn applied(&mut self, mutation: Mutation) -> anyhow::Result<()> {
        let name = mutation.name();
        let outcome = self.push(mutation).await?;
        ensure!(outcome == Outcome::Applied, "{name}: {outcome:?}");
        Ok(())
    }
}

async fn upload_raw(
    session: &Session,
    name: &str,
    body: Vec<u8>,
) -> anyhow::Result<reqwest::Response> {
    let api = &session.api;
    Ok(api
        .http
        .post(format!("{}/api/uploads", api.base))
        .query(&[("name", name)])
        .body(body)
        .send()
        .await?)
}

async fn upload(session: &Session, name: &str, body: &[u8]) -> anyhow::Result<UploadInfo> {
    let res = upload_raw(session, name, body.to_vec()).await?;
    let status = res.status();
    let text = res.text().await?;
    ensure!(status == 201, "upload {name}: {status} {text}");
    Ok(serde_json::from_str(&text)?)
}

fn unit_name(state: &shared::state::State, id: shared::ids::UnitId) -> anyhow::Result<String> {
    Ok(state.unit(id).context("a unit")?.name.clone())
}

async fn status_of(session: &Session, path: &str) -> anyhow::Result<u16> {
    Ok(session.api.get(path).await?.status().as_u16())
}

async fn uploads_and_attachments(store: Store) -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        store,
        args: vec!["--max-upload-mb".into(), "1".into()],
        ..Default::default()
    })
    .await?;
    let office = Session::login(&server, "office").await?;
    let state = office.server_view().await?;
    let facts = PlanFacts::new(state.clone());
    let item4 = facts.item(4)?;
    let lead = facts.login_unit(&server, LEAD_OF_4).await?;
    let coop_unit = unit_name(&state, *item4.cooperating_units.first().context("coop")?)?;
    let coop = facts.login_unit(&server, &coop_unit).await?;
    let leader = Session::login(&server, "leader").await?;

    // A file as sent; its name is display text only.
    let info = upload(&lead, "工作方案附件.pdf", PDF).await?;
    ensure!(info.name == "工作方案附件.pdf" && info.size == PDF.len() as u64);
    ensure!(info.content_type == "application/pdf");
    let sneaky = upload(&lead, "../../../etc/passwd.pdf", PDF).await?;
    ensure!(sneaky.name == "passwd.pdf", "{}", sneaky.name);
    let nul = upload(&lead, "a\u{0}b\u{7}c.pdf", PDF).await?;
    ensure!(nul.name == "abc.pdf", "{}", nul.name);
    let png = upload(&lead, "照片.PNG", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").await?;
    ensure!(png.content_type == "image/png");
    // On disk: generated names only, in the data directory's uploads folder.
    if store == Store::Sqlite {
        let dir = server.data_path().join("uploads");
        for entry in std::fs::read_dir(&dir)? {
            let name = entry?.file_name().to_string_lossy().to_string();
            ensure!(
                name.parse::<uuid::Uuid>().is_ok(),
                "a stored file is named {name}"
            );
        }
        ensure!(!server.data_path().join("etc").exists());
    }

    // Refused: wrong types, by name and by content; too large; empty; no name.
    let exe = upload_raw(&lead, "setup.exe", b"MZ\x90\0".to_vec()).await?;
    ensure!(exe.status() == 415, "an .exe: {}", exe.status());
    let disguised = upload_raw(&lead, "报告.pdf", b"MZ\x90\0\x03\0\0\0\x04\0".to_vec()).await?;
    ensure!(
        disguised.status() == 415,
        "an .exe named .pdf: {}",
        disguised.status()
    );
    let mut big = PDF.to_vec();
    big.resize(1024 * 1024 + 1, b' ');
    let too_big = upload_raw(&lead, "big.pdf", big).await?;
    ensure!(
        too_big.status() == 413,
        "over the limit: {}",
        too_big.status()
    );
    let empty = upload_raw(&lead, "empty.pdf", vec![]).await?;
    ensure!(empty.status() == 400, "empty: {}", empty.status());
    let unnamed = lead
        .api
        .http
        .post(format!("{}/api/uploads", server.url))
        .body(PDF.to_vec())
        .send()
        .await?;
    ensure!(unnamed.status() == 400, "no name: {}", unnamed.status());
    let by_leader = upload_raw(&leader, "x.pdf", PDF.to_vec()).await?;
    ensure!(
        by_leader.status() == 403,
        "a leader uploads: {}",
        by_leader.status()
    );

    // Attach to the lead unit's draft work plan; the server takes name and size from the upload.
    let mut lead_client = Client::new(lead.clone());
    let work_plan = submission_id(item4.id, SubmissionKind::WorkPlan.as_str());
    lead_client
        .applied(Mutation::SaveSubmission(SaveDraft {
            id: work_plan,
            item: item4.id,
            kind: SubmissionKind::WorkPlan,
            parts: vec!["步骤".into(), "措施".into(), "安排".into()],
            at: AT,
        }))
        .await?;
    lead_client
        .applied(Mutation::AttachFile(Attach {
            id: info.id,
            item: item4.id,
            to: AttachedTo::Submission(work_plan),
            name: "claimed.exe".into(),
            size: 999_999,
            at: AT,
        }))
        .await?;
    let view = office.server_view().await?;
    match view.get(&EntityKey::attachment(info.id)) {
        Some(Entity::Attachment(a)) => ensure!(
            a.name == info.name && a.size == info.size,
            "stored as {} ({} bytes)",
            a.name,
            a.size
        ),
        other => anyhow::bail!("the attachment: {other:?}"),
    }

    // Someone else's upload can't be attached, not even by the office.
    let mut office_client = Client::new(office.clone());
    let stolen = office_client
        .push(Mutation::AttachFile(Attach {
            id: sneaky.id,
            item: item4.id,
            to: AttachedTo::Submission(work_plan),
            name: "x.pdf".into(),
            size: 1,
            at: AT,
        }))
        .await?;
    ensure!(
        matches!(
            stolen,
            Outcome::Rejected {
                reason: Rejection::Invalid(_)
            }
        ),
        "attaching another user's upload: {stolen:?}"
    );

    // Download: the bytes, as an attachment with the UTF-8 name, never sniffed.
    let path = format!("/api/attachments/{}", info.id);
    let res = lead.api.get(&path).await?;
    ensure!(res.status() == 200, "download: {}", res.status());
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let disposition = header("content-disposition");
    ensure!(
        disposition.starts_with("attachment;")
            && disposition.contains(
                "filename*=UTF-8''%E5%B7%A5%E4%BD%9C%E6%96%B9%E6%A1%88%E9%99%84%E4%BB%B6.pdf"
            ),
        "{disposition}"
    );
    ensure!(header("x-content-type-options") == "nosniff");
    ensure!(header("content-type") == "application/pdf");
    ensure!(res.bytes().await?.as_ref() == PDF, "the bytes come back");
    // The draft is the lead unit's: its files too.
    ensure!(status_of(&office, &path).await? == 200);
    ensure!(
        status_of(&coop, &path).await? == 404,
        "a draft's file leaks"
    );
    ensure!(
        status_of(&leader, &path).await? == 404,
        "a draft's file leaks"
    );
    ensure!(status_of(&lead, "/api/attachments/not-a-uuid").await? == 404);
    ensure!(
        status_of(&lead, &format!("/api/attachments/{}", sneaky.id)).await? == 404,
        "an upload that is not attached is nobody's to download"
    );

    // On a task everyone sees it; removed, nobody downloads it.
    let task = shared::ids::TaskId::new_v7();
    lead_client
        .applied(Mutation::CreateTask {
            id: task,
            item: item4.id,
            title: "有佐证的任务".into(),
            owner: item4.lead_units[0],
            column: shared::board::Column::NotStarted,
            sort_key: shared::board::sort_key::between(None, None),
            due: None,
            at: AT,
        })
        .await?;
    lead_client
        .applied(Mutation::AttachFile(Attach {
            id: png.id,
            item: item4.id,
            to: AttachedTo::Task(task),
            name: String::new(),
            size: 0,
            at: AT,
        }))
        .await?;
    let png_path = format!("/api/attachments/{}", png.id);
    ensure!(status_of(&coop, &png_path).await? == 200);
    ensure!(status_of(&leader, &png_path).await? == 200);
    lead_client
        .applied(Mutation::RemoveAttachment(Remove { id: png.id, at: AT }))
        .await?;
    ensure!(
        status_of(&coop, &png_path).await? == 404,
        "removed files are gone"
    );
    Ok(())
}

fn remind(server: &Server, date: &str, mail_dir: &Path) -> anyhow::Result<String> {
    let mut cmd = std::process::Command::new(e2e::binary());
    cmd.args(["remind", "--date", date, "--data-dir"])
        .arg(server.data_path())
        .arg("--smtp-url")
        .arg(format!("file://{}", mail_dir.display()))
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    if let Some(url) = &server.database_url {
        cmd.env("DATABASE_URL", url);
    }
    let out = cmd.output()?;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    ensure!(
        out.status.success(),
        "remind: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(stdout)
}

/// The .eml files in `dir`, as text.
fn mails(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    if dir.exists() {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "eml") {
                out.push(std::fs::read_to_string(path)?);
            }
        }
    }
    Ok(out)
}

/// The mails in `dir` once there are at least `n` (after 20 s, whatever there is), then once more
/// a moment later, so that one too many is seen too. Mail goes out after the push's commit, on
/// its own task: on a busy machine, seconds later.
async fn mails_once(dir: &Path, n: usize) -> anyhow::Result<Vec<String>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while mails(dir)?.len() < n && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    mails(dir)
}

async fn set_email(office: &Session, username: &str, email: &str) -> anyhow::Result<()> {
    let users: Vec<shared::account::UserSummary> = office.api.get_json("/api/users").await?;
    let user = users
        .iter()
        .find(|u| u.username == username)
        .context("the user")?;
    let res = office
        .api
        .post(
            &format!("/api/users/{}/email", user.id),
            &json!({ "email": email }),
        )
        .await?;
    ensure!(res.status() == 204, "setting the e-mail: {}", res.status());
    Ok(())
}

async fn daily_reminders(store: Store) -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        store,
        ..Default::default()
    })
    .await?;
    let office = Session::login(&server, "office").await?;
    let state = office.server_view().await?;
    let facts = PlanFacts::new(state.clone());
    let lead_unit = facts.unit(LEAD_OF_4)?;
    let lead_username = facts.username_of(lead_unit.id)?;
    let lead_item = state
        .items()
        .into_iter()
        .find(|i| i.lead_units.contains(&lead_unit.id))
        .cloned()
        .context("an item the unit leads")?;
    set_email(&office, &lead_username, "caizheng@example.com").await?;
    let bad = office
        .api
        .post(
            &format!("/api/users/{}/email", uuid::Uuid::nil()),
            &json!({ "email": "x@example.com" }),
        )
        .await?;
    ensure!(bad.status() == 404, "unknown user: {}", bad.status());

    let mail_dir = tempfile::tempdir()?;
    // 2 April 2014: every item's work plan (due 31 March) is two days overdue.
    let first = remind(&server, "2014-04-02", mail_dir.path())?;
    let leads: usize = state.items().iter().map(|i| i.lead_units.len()).sum();
    ensure!(
        first.contains(&format!("新发 {leads}，已有 0")),
        "first run: {first}"
    );
    let second = remind(&server, "2014-04-02", mail_dir.path())?;
    ensure!(
        second.contains(&format!("新发 0，已有 {leads}")),
        "second run: {second}"
    );
    let view = office.server_view().await?;
    let reminders: Vec<_> = view.reminders().collect();
    ensure!(reminders.len() == leads, "{} reminders", reminders.len());
    ensure!(reminders.iter().all(|r| r.automatic && r.by_name == "系统"));
    // No browser sends one in the job's name (signed 系统), not even the office's.
    let forged = Client::new(office.clone())
        .push(Mutation::SendReminder(Remind {
            id: ReminderId::new_v7(),
            item: lead_item.id,
            unit: lead_unit.id,
            about: About::Item,
            text: "系统提醒".into(),
            text_en: String::new(),
            automatic: true,
            at: AT,
        }))
        .await?;
    ensure!(
        matches!(
            forged,
            Outcome::Rejected {
                reason: Rejection::Denied(_)
            }
        ),
        "an automatic reminder from a browser: {forged:?}"
    );
    // Told in both languages: the unit reads the one on its screen.
    ensure!(
        reminders.iter().all(
            |r| r.text == "工作方案已逾期2天（2014年3月31日到期），请尽快报送。"
                && r.text_en
                    == "The work plan is 2 days overdue (due 31 Mar 2014): please submit it promptly."
        ),
        "the job's words: {:?}",
        reminders.first().map(|r| (&r.text, &r.text_en))
    );
    ensure!(
        reminders
            .iter()
            .all(|r| r.about == About::Submission(SubmissionKind::WorkPlan))
    );
    // The lead unit sees its own reminders, and only those.
    let lead = facts.login_unit(&server, LEAD_OF_4).await?;
    let mine = lead
        .pull_ok(&pull_request(ClientGroupId::new_v7(), None))
        .await?;
    let mine: Vec<_> = mine
        .puts
        .iter()
        .filter_map(|e| match e {
            Entity::Reminder(r) => Some(r),
            _ => None,
        })
        .collect();
    let led = state
        .items()
        .iter()
        .filter(|i| i.lead_units.contains(&lead_unit.id))
        .count();
    ensure!(mine.len() == led && mine.iter().all(|r| r.unit == lead_unit.id));

    // Mailed once each, to the lead unit's address.
    let sent = mails(mail_dir.path())?;
    ensure!(
        sent.len() == led,
        "{} mails for {led} reminders",
        sent.len()
    );
    ensure!(sent.iter().all(|m| m.contains("caizheng@example.com")));
    // Still unmet, they are reminded of weekly, not daily (the bell and the mail would be
    // ignored): nothing the next day, again a week on.
    let third = remind(&server, "2014-04-03", mail_dir.path())?;
    ensure!(third.contains("新发 0，已有 0"), "next day: {third}");
    let week = remind(&server, "2014-04-09", mail_dir.path())?;
    ensure!(week.contains(&format!("新发 {leads}")), "a week on: {week}");
    // Long after its last deadline (the annual report, 10 January 2015) the plan is history:
    // nobody is chased for it any more.
    let later = remind(&server, "2015-04-11", mail_dir.path())?;
    ensure!(later.contains("新发 0，已有 0"), "a closed plan: {later}");
    Ok(())
}

async fn mail_after_push(store: Store) -> anyhow::Result<()> {
    let mail_dir = tempfile::tempdir()?;
    let server = Server::start(ServerOptions {
        store,
        args: vec![
            "--smtp-url".into(),
            format!("file://{}", mail_dir.path().display()),
        ],
        ..Default::default()
    })
    .await?;
    let office = Session::login(&server, "office").await?;
    let state = office.server_view().await?;
    let facts = PlanFacts::new(state.clone());
    let item4 = facts.item(4)?;
    let lead_unit = facts.unit(LEAD_OF_4)?;
    set_email(
        &office,
        &facts.username_of(lead_unit.id)?,
        "lead@example.com",
    )
    .await?;
    let bad = office
        .api
        .post(
            &format!("/api/users/{}/email", office.me.id),
            &json!({ "email": "not an address" }),
        )
        .await?;
    ensure!(bad.status() == 400, "a bad address: {}", bad.status());

    // The upload route has its own limit (20 MB by default), not the API's 2 MB for JSON.
    let mut large = PDF.to_vec();
    large.resize(3 * 1024 * 1024, b' ');
    let info = upload(&office, "扫描件.pdf", &large).await?;
    ensure!(info.size == large.len() as u64);
    let mut huge = PDF.to_vec();
    huge.resize(20 * 1024 * 1024 + 1, b' ');
    let refused = upload_raw(&office, "huge.pdf", huge).await?;
    ensure!(refused.status() == 413, "over 20 MB: {}", refused.status());

    let mut client = Client::new(office.clone());
    client
        .applied(Mutation::SendReminder(Remind {
            id: ReminderId::new_v7(),
            item: item4.id,
            unit: lead_unit.id,
            about: About::Item,
            text: "请于本周内报送工作方案".into(),
            text_en: String::new(),
            automatic: false,
            at: AT,
        }))
        .await?;
    let sent = mails_once(mail_dir.path(), 1).await?;
    ensure!(sent.len() == 1, "{} mails", sent.len());
    ensure!(sent[0].contains("lead@example.com"), "{}", sent[0]);
    ensure!(
        sent[0].contains("=?utf-8?b?") && !sent[0].contains("Sign in to Reformboard"),
        "a reader who never chose a language is written to in Chinese: {}",
        sent[0]
    );

    // Having chosen English on screen, the lead unit's user is written to in English.
    let lead_api = server.login(&facts.username_of(lead_unit.id)?).await?;
    let chose = lead_api
        .post("/api/auth/language", &json!({ "language": "en" }))
        .await?;
    ensure!(chose.status().is_success(), "{}", chose.status());

    // A leader's instruction on an item the unit leads, and a published bulletin, are mailed
    // too; a draft bulletin and a comment are not.
    let leader = Session::login(&server, "leader").await?;
    Client::new(leader)
        .applied(Mutation::WriteInstruction(shared::instruction::Write {
            id: shared::ids::InstructionId::new_v7(),
            item: item4.id,
            text: "请加快推进".into(),
            at: AT,
        }))
        .await?;
    let bulletin = BulletinId::new_v7();
    client
        .applied(Mutation::SaveBulletin(Save {
            id: bulletin,
            title: "第一季度通报".into(),
            as_of: chrono::NaiveDate::from_ymd_opt(2014, 3, 31).context("date")?,
            body: "正文".into(),
            at: AT,
        }))
        .await?;
    client
        .applied(Mutation::AddComment {
            id: shared::ids::CommentId::new_v7(),
            item: item4.id,
            task: None,
            body: "请牵头单位抓紧".into(),
            at: AT,
        })
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    client
        .applied(Mutation::PublishBulletin(Publish {
            id: bulletin,
            at: AT,
        }))
        .await?;
    let sent = mails_once(mail_dir.path(), 3).await?;
    ensure!(sent.len() == 3, "{} mails: {sent:?}", sent.len());
    ensure!(sent.iter().all(|m| m.contains("lead@example.com")));
    let english = sent
        .iter()
        .filter(|m| m.contains("Sign in to Reformboard to see it and act on it."))
        .count();
    ensure!(
        english == 2,
        "{english} of the later two mails in English: {sent:?}"
    );
    Ok(())
}

async fn xlsx_sheet(bytes: Vec<u8>, name: &str) -> anyhow::Result<Vec<Vec<String>>> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))?;
    let range = book.worksheet_range(name)?;
    Ok(range
        .rows()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect())
}

async fn get_bytes(session: &Session, path: &str) -> anyhow::Result<(u16, String, Vec<u8>)> {
    let res = session.api.get(path).await?;
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Ok((status, ct, res.bytes().await?.to_vec()))
}

async fn exports(store: Store) -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        store,
        ..Default::default()
    })
    .await?;
    let office = Session::login(&server, "office").await?;
    let state = office.server_view().await?;
    let facts = PlanFacts::new(state.clone());
    let lead = facts.login_unit(&server, LEAD_OF_4).await?;

    // The ledger, read back: 14 items with their lead units, for the office and for a unit.
    for who in [&office, &lead] {
        let (status, ct, bytes) =
            get_bytes(who, "/api/export/ledger.xlsx?as_of=2014-04-02").await?;
        ensure!(status == 200, "ledger.xlsx: {status}");
        ensure!(ct.contains("spreadsheetml"), "{ct}");
        let book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.clone()))?;
        ensure!(
            book.sheet_names() == ["改革项目", "单位", "任务", "报送材料", "困难和问题"],
            "{:?}",
            book.sheet_names()
        );
        let rows = xlsx_sheet(bytes, "改革项目").await?;
        ensure!(
            rows[0][0] == "序号" && rows[0][2] == "牵头单位",
            "{:?}",
            rows[0]
        );
        ensure!(rows.len() == 15, "{} rows", rows.len());
        for (n, row) in rows[1..].iter().enumerate() {
            let item = facts.item(u32::try_from(n + 1)?)?;
            ensure!(row[0] == (n + 1).to_string(), "row {n}: {row:?}");
            for unit in &item.lead_units {
                let name = unit_name(&state, *unit)?;
                ensure!(
                    row[2].contains(&name),
                    "item {}: {} lacks {name}",
                    n + 1,
                    row[2]
                );
            }
        }
        ensure!(rows[4][2].contains(LEAD_OF_4));
    }

    // CSV: one sheet, BOM first, tasks by default.
    let (status, ct, csv) = get_bytes(&lead, "/api/export/ledger.csv").await?;
    ensure!(status == 200 && ct.starts_with("text/csv"), "{status} {ct}");
    let text = String::from_utf8(csv)?;
    ensure!(text.starts_with("\u{feff}项目序号,任务,"), "{text}");
    let (_, _, items) = get_bytes(&lead, "/api/export/ledger.csv?sheet=items").await?;
    ensure!(String::from_utf8(items)?.lines().count() == 15);
    ensure!(status_of(&lead, "/api/export/ledger.csv?sheet=nope").await? == 400);
    ensure!(status_of(&lead, "/api/export/ledger.xlsx?as_of=2014-02-30").await? == 400);

    // The assessment: the office's.
    let (status, _, bytes) =
        get_bytes(&office, "/api/export/assessment.xlsx?as_of=2014-12-31").await?;
    ensure!(status == 200, "assessment: {status}");
    let rows = xlsx_sheet(bytes, "勤政考核").await?;
    ensure!(rows[0][1] == "单位" && rows.len() > 2, "{rows:?}");
    ensure!(status_of(&lead, "/api/export/assessment.xlsx").await? == 403);

    // A bulletin as a printable page: its text is escaped; a draft is the office's.
    let mut client = Client::new(office.clone());
    let (published, draft) = (BulletinId::new_v7(), BulletinId::new_v7());
    for id in [published, draft] {
        client
            .applied(Mutation::SaveBulletin(Save {
                id,
                title: "<script>alert(1)</script>通报".into(),
                as_of: chrono::NaiveDate::from_ymd_opt(2014, 6, 30).context("date")?,
                body: "一、总体情况\n<img src=x onerror=alert(1)> & 进展".into(),
                at: AT,
            }))
            .await?;
    }
    client
        .applied(Mutation::PublishBulletin(Publish {
            id: published,
            at: AT,
        }))
        .await?;
    let res = lead
        .api
        .get(&format!("/api/export/bulletins/{published}.html"))
        .await?;
    ensure!(res.status() == 200, "bulletin: {}", res.status());
    let csp = res
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    ensure!(csp.starts_with("default-src 'none'"), "{csp}");
    let html = res.text().await?;
    ensure!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;通报"),
        "{html}"
    );
    ensure!(html.contains("&lt;img src=x onerror=alert(1)&gt; &amp; 进展"));
    ensure!(!html.contains("<script") && !html.contains("<img"));
    ensure!(html.contains("size: A4"));
    // A draft can't be marked read, and nobody marks someone else's notifications.
    let mut lead_client = Client::new(lead.clone());
    let read_draft = lead_client
        .push(Mutation::ReadBulletin(shared::bulletin::MarkRead {
            id: draft,
            at: AT,
        }))
        .await?;
    ensure!(
        matches!(
            read_draft,
            Outcome::Rejected {
                reason: Rejection::NotFound(_)
            }
        ),
        "{read_draft:?}"
    );
    let others = lead_client
        .push(Mutation::MarkNoticesRead(shared::notice::MarkRead {
            user: office.me.id,
            keys: vec!["bulletin/x".into()],
            at: AT,
        }))
        .await?;
    ensure!(
        matches!(
            others,
            Outcome::Rejected {
                reason: Rejection::Denied(_)
            }
        ),
        "{others:?}"
    );
    let draft_path = format!("/api/export/bulletins/{draft}.html");
    ensure!(
        status_of(&lead, &draft_path).await? == 404,
        "a draft bulletin leaks"
    );
    ensure!(status_of(&office, &draft_path).await? == 200);
    Ok(())
}

/// Creates a task of item 4 as `session` and attaches the upload `file` to it.
async fn attach_to_a_new_task(
    session: &Session,
    item4: &shared::entity::Item,
    file: shared::ids::AttachmentId,
) -> anyhow::Result<()> {
    let task = shared::ids::TaskId::new_v7();
    let mut client = Client::new(session.clone());
    client
        .applied(Mutation::CreateTask {
            id: task,
            item: item4.id,
            title: "有佐证的任务".into(),
            owner: item4.lead_units[0],
            column: shared::board::Column::NotStarted,
            sort_key: shared::board::sort_key::between(None, None),
            due: None,
            at: AT,
        })
        .await?;
    client
        .applied(Mutation::AttachFile(Attach {
            id: file,
            item: item4.id,
            to: AttachedTo::Task(task),
            name: String::new(),
            size: 0,
            at: AT,
        }))
        .await
}

/// Uploads nobody attached are deleted after a week, by the daily job; attached ones stay.
async fn orphaned_uploads_are_swept(store: Store) -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        store,
        ..Default::default()
    })
    .await?;
    let office = Session::login(&server, "office").await?;
    let facts = PlanFacts::new(office.server_view().await?);
    let item4 = facts.item(4)?;
    let kept = upload(&office, "kept.pdf", PDF).await?;
    let orphan = upload(&office, "orphan.pdf", PDF).await?;
    attach_to_a_new_task(&office, &item4, kept.id).await?;
    // Both a fortnight old.
    let db = e2e::sync_client::ServerDb::open(&server).await?;
    sqlx::query("UPDATE upload SET at = at - 1209600000")
        .execute(&db.pool)
        .await?;
    db.pool.close().await;
    let uploads = server.data_path().join("uploads");
    ensure!(uploads.join(orphan.id.to_string()).exists());
    // Partial files of uploads cut short by a process that stopped: a two days' old one goes,
    // one being received now stays.
    let stale_part = uploads.join("stale.part");
    let fresh_part = uploads.join("fresh.part");
    std::fs::write(&fresh_part, b"%PDF")?;
    let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86_400);
    std::fs::File::create(&stale_part)?.set_modified(two_days_ago)?;
    // A file stored under its final name by a process killed before its row was committed
    // goes too; a stored file as old, with its row, stays.
    let rowless = uploads.join(shared::ids::AttachmentId::new_v7().to_string());
    std::fs::File::create(&rowless)?.set_modified(two_days_ago)?;
    std::fs::File::options()
        .append(true)
        .open(uploads.join(kept.id.to_string()))?
        .set_modified(two_days_ago)?;
    let (dir, url) = server.kill();
    let server = Server::start_in(
        ServerOptions {
            store,
            reminders: true,
            database_url: url.clone(),
            ..Default::default()
        },
        dir,
        url,
    )
    .await?;
    let db = e2e::sync_client::ServerDb::open(&server).await?;
    let uploads = server.data_path().join("uploads");
    // The sweep deletes the row first and the file after it, so wait for both.
    let mut left: Vec<String> = vec![];
    let mut file_stays = true;
    for _ in 0..100 {
        left = sqlx::query_scalar("SELECT id FROM upload")
            .fetch_all(&db.pool)
            .await?;
        file_stays = uploads.join(orphan.id.to_string()).exists();
        if left.len() == 1 && !file_stays && !stale_part.exists() && !rowless.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    ensure!(left == vec![kept.id.to_string()], "left: {left:?}");
    ensure!(!file_stays, "the file stays");
    ensure!(!stale_part.exists(), "the stale partial file stays");
    ensure!(!rowless.exists(), "a stored file no row names stays");
    ensure!(fresh_part.exists(), "a partial file being received is kept");
    ensure!(uploads.join(kept.id.to_string()).exists());
    let office = Session::login(&server, "office").await?;
    ensure!(status_of(&office, &format!("/api/attachments/{}", kept.id)).await? == 200);
    Ok(())
}

/// An upload that stalls after its first bytes, as a script filling the disk would send it:
/// the open connection, with `declared` bytes promised.
async fn stalled_upload(
    server: &Server,
    session: &Session,
    declared: usize,
) -> anyhow::Result<tokio::net::TcpStream> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = server.url.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await?;
    // With `Expect: 100-continue` the server says "100 Continue" once the handler reads the
    // body: past its checks, holding its place. Sent one after another, each upload is then
    // held before the next (or a poll) arrives.
    let head = format!(
        "POST /api/uploads?name=stall.pdf HTTP/1.1\r\nHost: {addr}\r\nX-Reformboard: 1\r\n\
         Cookie: {}\r\nContent-Length: {declared}\r\nExpect: 100-continue\r\n\r\n",
        session.cookie_header()?
    );
    tcp.write_all(head.as_bytes()).await?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .context("no 100 Continue within 10 s")??;
        ensure!(n > 0, "the server closed the stalled upload");
        seen.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    ensure!(
        seen.starts_with(b"HTTP/1.1 100"),
        "the stalled upload was answered: {}",
        String::from_utf8_lossy(&seen)
    );
    tcp.write_all(PDF).await?;
    tcp.flush().await?;
    Ok(tcp)
}

/// A server taking files of at most 1 MB (so a quota of 10 MB), the office, the plan, item
/// 4's lead unit, and a file of the largest size.
async fn quota_fixture(
    store: Store,
) -> anyhow::Result<(Server, Session, PlanFacts, Session, Vec<u8>)> {
    let server = Server::start(ServerOptions {
        store,
        args: vec!["--max-upload-mb".into(), "1".into()],
        ..Default::default()
    })
    .await?;
    let office = Session::login(&server, "office").await?;
    let facts = PlanFacts::new(office.server_view().await?);
    let lead = facts.login_unit(&server, LEAD_OF_4).await?;
    let mut file = PDF.to_vec();
    file.resize(1024 * 1024, b' ');
    Ok((server, office, facts, lead, file))
}

/// Files still arriving count against a user's quota of uploads not attached yet, and only so
/// many arrive at once: stalled uploads can't hold the disk past the quota.
async fn uploads_still_arriving_count_against_the_quota(store: Store) -> anyhow::Result<()> {
    let (server, _, _, lead, file) = quota_fixture(store).await?;
    // A tiny file: what each poll below sends (and, when it goes in, stores).
    let tiny = || upload_raw(&lead, "小.pdf", PDF.to_vec());
    // Until `refused` says yes to an answer to a tiny upload (up to 10 s).
    async fn until(
        send: impl AsyncFn() -> anyhow::Result<reqwest::Response>,
        refused: impl Fn(u16, &serde_json::Value) -> bool,
        what: &str,
    ) -> anyhow::Result<()> {
        let mut last = (0, serde_json::Value::Null);
        for _ in 0..100 {
            let res = send().await?;
            let status = res.status().as_u16();
            let body: serde_json::Value = res.json().await.unwrap_or_default();
            if refused(status, &body) {
                return Ok(());
            }
            last = (status, body);
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        anyhow::bail!("never {what}; the last answer: {} {}", last.0, last.1)
    }
    // Seven of the ten files' worth stored; a full one promised by a stalled upload.
    for n in 0..7 {
        upload(&lead, &format!("材料{n}.pdf"), &file).await?;
    }
    let stalled = stalled_upload(&server, &lead, 1024 * 1024).await?;
    // Only four arrive at once: with three small ones stalled beside it, the next is refused
    // for that (not the quota), which also says the server holds all four.
    let mut small = Vec::new();
    for _ in 0..3 {
        small.push(stalled_upload(&server, &lead, 1000).await?);
    }
    until(
        tiny,
        |status, body| status == 429 && body["error"] != "quota_exceeded",
        "refused a fifth upload at once",
    )
    .await?;
    // The small ones dropped, the room they held comes back.
    drop(small);
    until(tiny, |status, _| status == 201, "took an upload again").await?;
    // Beside the stalled one, one more full file fits, not two (nor two and a bit, as when
    // only stored files counted).
    let mut went_in = 0;
    let refused = loop {
        let res = upload_raw(&lead, "满.pdf", file.clone()).await?;
        match res.status().as_u16() {
            201 if went_in < 3 => went_in += 1,
            429 => break res.json::<serde_json::Value>().await?,
            other => anyhow::bail!("a full file beside the stalled one: {other}"),
        }
    };
    ensure!(
        went_in == 1,
        "{went_in} full files went in beside the stalled upload"
    );
    ensure!(refused["error"] == "quota_exceeded", "{refused}");
    // Dropped, the stalled upload gives its room back.
    drop(stalled);
    let mut back = false;
    for _ in 0..50 {
        if upload_raw(&lead, "再来.pdf", file.clone()).await?.status() == 201 {
            back = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    ensure!(back, "the dropped uploads kept their room");
    Ok(())
}

/// A user's uploads not attached yet are bounded (ten largest files' worth); attaching one
/// makes room again, and another user is not held back by it.
async fn unattached_uploads_have_a_quota(store: Store) -> anyhow::Result<()> {
    let (server, office, facts, lead, file) = quota_fixture(store).await?;
    let item4 = facts.item(4)?;
    let mut uploaded = Vec::new();
    for n in 0..10 {
        uploaded.push(upload(&lead, &format!("材料{n}.pdf"), &file).await?);
    }
    let over = upload_raw(&lead, "再一份.pdf", file.clone()).await?;
    ensure!(over.status() == 429, "past the quota: {}", over.status());
    let body: serde_json::Value = over.json().await?;
    ensure!(
        body["error"] == "quota_exceeded"
            && body["message"]
                .as_str()
                .is_some_and(|m| m.contains("10 MB"))
            && body["message_en"]
                .as_str()
                .is_some_and(|m| m.contains("10 MB") && m.contains("attach")),
        "{body}"
    );
    // Small files count too, once the large ones fill the quota.
    let small = upload_raw(&lead, "小.pdf", PDF.to_vec()).await?;
    ensure!(
        small.status() == 429,
        "a small one past the quota: {}",
        small.status()
    );
    // Nothing of the refused ones was kept.
    if store == Store::Sqlite {
        let stored = std::fs::read_dir(server.data_path().join("uploads"))?.count();
        ensure!(stored == 10, "{stored} files stored");
    }
    // Another user has their own.
    upload(&office, "综合办.pdf", PDF).await?;

    // Attaching one makes room for one more.
    attach_to_a_new_task(&lead, &item4, uploaded[0].id).await?;
    upload(&lead, "再一份.pdf", &file).await?;
    let full = upload_raw(&lead, "又一份.pdf", file).await?;
    ensure!(full.status() == 429, "full again: {}", full.status());
    Ok(())
}

/// A fresh server on a store, the office signed in, the plan as the office sees it, item 4.
struct Plan4 {
    server: Server,
    office: Session,
    state: shared::state::State,
    facts: PlanFacts,
    item4: shared::entity::Item,
}

async fn plan4(store: Store) -> anyhow::Result<Plan4> {
    let server = Server::start(ServerOptions {
        store,
        ..Default::default()
    })
    .await?;
    let office = Session::login(&server, "office").await?;
    let state = office.server_view().await?;
    let facts = PlanFacts::new(state.clone());
    let item4 = facts.item(4)?;
    Ok(Plan4 {
        server,
        office,
        state,
        facts,
        item4,
    })
}

/// Item 4's first cooperating unit, signed in.
async fn plan4_coop(
    server: &Server,
    state: &shared::state::State,
    facts: &PlanFacts,
    item4: &shared::entity::Item,
) -> anyhow::Result<Session> {
    let name = unit_name(state, *item4.cooperating_units.first().context("coop")?)?;
    facts.login_unit(server, &name).await
}

/// A report the office returned is redrafted out of sight: until it is sent again, the other
/// units and the leaders see the text that was sent, and the new text reaches only the lead
/// unit and the office (a redraft written into the public submission reached every reader).
async fn a_returned_reports_redraft_reaches_only_its_unit(store: Store) -> anyhow::Result<()> {
    let Plan4 {
        server,
        office,
        state,
        facts,
        item4,
    } = plan4(store).await?;
    let lead = facts.login_unit(&server, LEAD_OF_4).await?;
    let coop = plan4_coop(&server, &state, &facts, &item4).await?;
    let leader = Session::login(&server, "leader").await?;
    let id = submission_id(item4.id, SubmissionKind::WorkPlan.as_str());
    let save = |text: &str| {
        Mutation::SaveSubmission(SaveDraft {
            id,
            item: item4.id,
            kind: SubmissionKind::WorkPlan,
            parts: vec![text.into(); 3],
            at: AT,
        })
    };
    let mut lead_client = Client::new(lead.clone());
    let mut office_client = Client::new(office.clone());
    lead_client.applied(save("第一稿")).await?;
    lead_client
        .applied(Mutation::SubmitSubmission(Submit { id, at: AT }))
        .await?;
    office_client
        .applied(Mutation::ReviewSubmission(ReviewSubmission {
            id,
            accept: false,
            comment: "请补充进度安排".into(),
            at: AT,
        }))
        .await?;
    lead_client.applied(save("尚未报送的第二稿")).await?;

    let texts = |state: &shared::state::State| -> Vec<String> {
        state
            .iter()
            .filter_map(|e| match e {
                Entity::Submission(s) if s.id == id => Some(s.parts.join("|")),
                Entity::Redraft(r) if r.id == id => Some(r.parts.join("|")),
                _ => None,
            })
            .collect()
    };
    for (who, session) in [("the cooperating unit", &coop), ("the leader", &leader)] {
        let seen = texts(&session.server_view().await?);
        ensure!(
            seen == ["第一稿|第一稿|第一稿"],
            "{who} sees {seen:?}, not only what was sent"
        );
    }
    for (who, session) in [("the lead unit", &lead), ("the office", &office)] {
        let state = session.server_view().await?;
        let s = state
            .get(&EntityKey::submission(id))
            .and_then(|e| match e {
                Entity::Submission(s) => Some(s.clone()),
                _ => None,
            })
            .context("the submission")?;
        ensure!(
            working_parts(&state, &s).join("|")
                == "尚未报送的第二稿|尚未报送的第二稿|尚未报送的第二稿",
            "{who} does not see the redraft"
        );
    }
    // Sent again, it is everyone's.
    lead_client
        .applied(Mutation::SubmitSubmission(Submit { id, at: AT }))
        .await?;
    let seen = texts(&coop.server_view().await?);
    ensure!(
        seen == ["尚未报送的第二稿|尚未报送的第二稿|尚未报送的第二稿"],
        "after resubmitting, the cooperating unit sees {seen:?}"
    );
    Ok(())
}

/// A postponement asked against a due date the office has changed since can't be approved
/// (that would undo the office's date, here a later one than asked), only declined; the task
/// keeps the office's date.
async fn a_postponement_the_office_overtook_is_only_declined(store: Store) -> anyhow::Result<()> {
    let Plan4 {
        server,
        office,
        facts,
        item4,
        ..
    } = plan4(store).await?;
    // Dates to come: a unit may not set or ask for one already past.
    let today = chrono::Utc::now().date_naive();
    let (due, asked, office_due) = (
        today + chrono::Duration::days(30),
        today + chrono::Duration::days(60),
        today + chrono::Duration::days(90),
    );
    let mut lead = Client::new(facts.login_unit(&server, LEAD_OF_4).await?);
    let mut office = Client::new(office);
    let task = shared::ids::TaskId::new_v7();
    lead.applied(Mutation::CreateTask {
        id: task,
        item: item4.id,
        title: "试点企业清产核资".into(),
        owner: item4.lead_units[0],
        column: shared::board::Column::InProgress,
        sort_key: shared::board::sort_key::between(None, None),
        due: Some(due),
        at: AT,
    })
    .await?;
    lead.applied(Mutation::RequestPostponement(
        shared::postponement::Request {
            task,
            due: asked,
            reason: "清产核资工作量大".into(),
            at: AT,
        },
    ))
    .await?;
    office
        .applied(Mutation::SetTaskDue {
            task,
            due: Some(office_due),
            at: AT,
        })
        .await?;
    let decide = |approve| {
        Mutation::DecidePostponement(shared::postponement::Decide {
            task,
            approve,
            note: "已按新日期安排".into(),
            at: AT,
        })
    };
    match office.push(decide(true)).await? {
        Outcome::Rejected { reason } => ensure!(
            reason
                .message()
                .zh()
                .contains(&shared::board::zh_date(office_due)),
            "refused for another reason: {reason:?}"
        ),
        other => anyhow::bail!("approved a request the office's own date overtook: {other:?}"),
    }
    office.applied(decide(false)).await?;
    let state = office.session.server_view().await?;
    let t = state.task(task).context("the task")?;
    ensure!(
        t.due == Some(office_due) && shared::postponement::pending(t).is_none(),
        "after declining: due {:?}, requests {:?}",
        t.due,
        t.postponements
    );
    Ok(())
}

/// A unit with no part in an item comments on it only once the office allows it, and the server
/// reads the setting (it is among the keys a comment loads).
async fn other_units_comment_once_the_office_allows_it(store: Store) -> anyhow::Result<()> {
    let Plan4 {
        server,
        office,
        state,
        facts,
        item4,
    } = plan4(store).await?;
    let outsider = state
        .units()
        .find(|u| {
            u.in_plan
                && u.kind != shared::unit::UnitKind::Group
                && shared::permission::relation_of(u.id, &u.groups, &item4)
                    == shared::permission::Relation::Other
        })
        .context("a unit with no part in item 4")?
        .name
        .clone();
    let mut outsider = Client::new(facts.login_unit(&server, &outsider).await?);
    let comment = || Mutation::AddComment {
        id: shared::ids::CommentId::new_v7(),
        item: item4.id,
        task: None,
        body: "建议参考兄弟区做法".into(),
        at: AT,
    };
    let refused = outsider.push(comment()).await?;
    ensure!(
        matches!(refused, Outcome::Rejected { .. }),
        "before the office allows it: {refused:?}"
    );
    Client::new(office.clone())
        .applied(Mutation::SetSettings(shared::settings::Set {
            others_may_comment: true,
            at: AT,
        }))
        .await?;
    outsider.applied(comment()).await?;
    Ok(())
}

/// An assessment adjustment is seen by its unit and by those who oversee the plan (the leaders,
/// the People's Congress), whose assessment screens rank every unit; not by other units.
async fn adjustments_reach_their_unit_and_those_who_oversee(store: Store) -> anyhow::Result<()> {
    let Plan4 {
        server,
        office,
        state,
        facts,
        item4,
    } = plan4(store).await?;
    let lead = facts.login_unit(&server, LEAD_OF_4).await?;
    let coop = plan4_coop(&server, &state, &facts, &item4).await?;
    let leader = Session::login(&server, "leader").await?;
    let npc = Session::login(&server, "npc").await?;
    let lead_unit = facts.unit(LEAD_OF_4)?.id;
    // A leader's copy from before: what it pulls next must bring the adjustment too.
    let before = leader
        .pull_ok(&pull_request(ClientGroupId::new_v7(), None))
        .await?;
    Client::new(office.clone())
        .applied(Mutation::AdjustAssessment(shared::assessment::Adjust {
            id: shared::ids::AdjustmentId::new_v7(),
            unit: lead_unit,
            points: 2,
            reason: "试点工作突出".into(),
            at: AT,
        }))
        .await?;
    let sees = |state: &shared::state::State| state.adjustments().any(|a| a.unit == lead_unit);
    for (who, session, expected) in [
        ("the unit", &lead, true),
        ("a leader", &leader, true),
        ("the People's Congress", &npc, true),
        ("another unit", &coop, false),
    ] {
        ensure!(
            sees(&session.server_view().await?) == expected,
            "{who} sees the adjustment: {}",
            !expected
        );
    }
    let after = leader
        .pull_ok(&pull_request(ClientGroupId::new_v7(), Some(before.cookie)))
        .await?;
    ensure!(
        after
            .puts
            .iter()
            .any(|e| matches!(e, Entity::Adjustment(a) if a.unit == lead_unit)),
        "an incremental pull brings it"
    );
    Ok(())
}

/// A user moved to another unit keeps what they have read: their read marks are seen by their
/// unit, and the move takes them along at once (before, they reappeared as unread until the
/// user's next mark).
async fn read_marks_follow_a_user_to_another_unit(store: Store) -> anyhow::Result<()> {
    let Plan4 {
        server,
        office,
        state,
        facts,
        item4,
    } = plan4(store).await?;
    let coop = plan4_coop(&server, &state, &facts, &item4).await?;
    let key = "bulletin/seen-before-the-move".to_string();
    coop.push_ok(&push_request(
        ClientGroupId::new_v7(),
        vec![PendingMutation {
            client_id: ClientId::new_v7(),
            id: 1,
            mutation: Mutation::MarkNoticesRead(shared::notice::MarkRead {
                user: coop.me.id,
                keys: vec![key.clone()],
                at: AT,
            }),
        }],
    ))
    .await?;
    let new_unit = *item4.lead_units.first().context("lead")?;
    let res = office
        .api
        .post(
            &format!("/api/users/{}/role", coop.me.id),
            &json!({ "role": "unit", "unit": new_unit }),
        )
        .await?;
    ensure!(res.status() == 204, "role: {}", res.status());
    let view = coop.server_view().await?;
    match view.get(&EntityKey::read_marks(coop.me.id)) {
        Some(Entity::ReadMarks(m)) => ensure!(
            m.unit == new_unit && m.keys.contains(&key),
            "the marks after the move: {m:?}"
        ),
        other => anyhow::bail!("the moved user no longer sees their read marks: {other:?}"),
    }
    Ok(())
}

on_both_stores!(orphaned_uploads_are_swept, unattached_uploads_have_a_quota);

#[tokio::test]
async fn uploads_still_arriving_count_against_the_quota_sqlite() -> anyhow::Result<()> {
    uploads_still_arriving_count_against_the_quota(Store::Sqlite).await
}
on_both_stores!(
    a_postponement_the_office_overtook_is_only_declined,
    read_marks_follow_a_user_to_another_unit,
    adjustments_reach_their_unit_and_those_who_oversee,
    other_units_comment_once_the_office_allows_it,
    a_returned_reports_redraft_reaches_only_its_unit,
    uploads_and_attachments,
    daily_reminders,
    mail_after_push,
    exports
);
