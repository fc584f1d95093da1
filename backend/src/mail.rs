//! Notifications by e-mail (optional): when SMTP is configured (`--smtp-url`), every change that
//! puts a new notice in a unit's inbox — a reminder to it, its submission returned, an
//! instruction on an item it leads, a bulletin published — is mailed to that unit's users who
//! have an address, in the language each last chose on screen. What counts as a notice is
//! `shared::notice::inbox`, applied to the state before and after the change, so mail and the
//! in-app centre never disagree.
//!
//! Mail goes out after the change has committed, in the background: a mail server that is slow
//! or down is logged and never fails or delays a push. `file://DIR` writes each mail as an
//! `.eml` file into DIR instead (for tests and for trying it out).

use crate::auth::users;
use crate::db::Db;
use crate::entity_store;
use anyhow::Context;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use shared::account::Language;
use shared::entity::Entity;
use shared::mutation::Change;
use shared::notice::{Notice, NoticeKind, inbox};
use shared::state::State;
use std::collections::HashSet;
use std::sync::Arc;

/// The notices that are mailed; the others (awaiting review, mentions, …) stay in the app.
const MAILED: [NoticeKind; 4] = [
    NoticeKind::Reminder,
    NoticeKind::Returned,
    NoticeKind::Instruction,
    NoticeKind::Bulletin,
];

/// Sends mail through SMTP or into a directory.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    from: Mailbox,
    description: String,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("to", &self.inner.description)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `url`: `smtp://[user:pass@]host[:port]` (STARTTLS with `?tls=required`),
    /// `smtps://…` (TLS), or `file:///dir`; mail comes from `from` (`改革看板 <noreply@…>`).
    pub fn new(url: &str, from: &str) -> anyhow::Result<Mailer> {
        let from: Mailbox = from
            .parse()
            .with_context(|| format!("--smtp-from {from:?} is not an e-mail address"))?;
        let (transport, description) = match url.strip_prefix("file://") {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the mail directory {dir}"))?;
                (
                    Transport::File(AsyncFileTransport::<Tokio1Executor>::new(dir)),
                    format!("file://{dir}"),
                )
            }
            None => {
                let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .with_context(|| format!("bad SMTP URL {}", crate::db::redact(url)))?
                    .build();
                (Transport::Smtp(smtp), crate::db::redact(url))
            }
        };
        Ok(Mailer {
            inner: Arc::new(Inner {
                transport,
                from,
                description,
            }),
        })
    }

    /// Sends one plain-text mail.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> anyhow::Result<()> {
        let to: Mailbox = to.parse().with_context(|| format!("bad address {to:?}"))?;
        let message = Message::builder()
            .from(self.inner.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)?;
        match &self.inner.transport {
            Transport::Smtp(t) => {
                t.send(message).await?;
            }
            Transport::File(t) => {
                t.send(message).await?;
            }
        }
        Ok(())
    }
}

/// Whether a change may put a mailed notice in someone's inbox (kept cheap: it runs on every
/// change of every push).
pub fn worth_mailing(change: &Change) -> bool {
    matches!(
        change.after,
        Entity::Reminder(_) | Entity::Submission(_) | Entity::Instruction(_) | Entity::Bulletin(_)
    )
}

/// After a commit: mails the notices `changes` created, in the background.
pub fn after_commit(db: &Db, mailer: Option<&Mailer>, changes: Vec<Change>) {
    let Some(mailer) = mailer else { return };
    if changes.is_empty() {
        return;
    }
    let (db, mailer) = (db.clone(), mailer.clone());
    tokio::spawn(async move {
        if let Err(e) = notify(&db, &mailer, &changes).await {
            tracing::warn!(error = %format!("{e:#}"), "mailing notifications failed");
        }
    });
}

/// Mails every user with an address each notice `changes` added to their inbox. Returns how
/// many mails went out.
pub async fn notify(db: &Db, mailer: &Mailer, changes: &[Change]) -> anyhow::Result<usize> {
    let recipients = users::with_email(&db.pool).await?;
    if recipients.is_empty() {
        return Ok(0);
    }
    // Items and units are what inbox reads besides the changed entities themselves.
    let mut before = State::new();
    for kind in ["item", "unit", "plan"] {
        for e in entity_store::all_of_kind(&db.pool, kind).await? {
            before.put(e);
        }
    }
    let mut after = before.clone();
    for c in changes {
        if let Some(b) = &c.before {
            before.put(b.clone());
        }
        after.put(c.after.clone());
    }
    let mut sent = 0;
    for user in &recipients {
        let (Some(actor), Some(address)) = (user.actor(), user.email.as_deref()) else {
            continue;
        };
        let old: HashSet<String> = inbox(&before, &actor).into_iter().map(|n| n.key).collect();
        for notice in inbox(&after, &actor) {
            if !MAILED.contains(&notice.kind) || old.contains(&notice.key) {
                continue;
            }
            let (subject, body) = letter(
                &user.display_name,
                &notice,
                // The one they last chose on screen, else Chinese.
                user.language().unwrap_or(Language::Zh),
            );
            match mailer.send(address, &subject, body).await {
                Ok(()) => sent += 1,
                Err(e) => {
                    tracing::warn!(user = %user.username, error = %format!("{e:#}"), "mail not sent")
                }
            }
        }
    }
    Ok(sent)
}

/// The subject and body of the mail telling `name` of `notice`, in `language`.
fn letter(name: &str, notice: &Notice, language: Language) -> (String, String) {
    let text = notice.text.get(language);
    match language {
        Language::Zh => (
            format!("【改革看板】{}：{}", notice.kind.zh(), short(text, 40)),
            format!(
                "{name}：\n\n{text}\n\n请登录改革看板查看和办理。\n（此邮件由系统自动发送，请勿回复。）\n"
            ),
        ),
        Language::En => (
            format!("[Reformboard] {}: {}", notice.kind.en(), short(text, 60)),
            format!(
                "{name},\n\n{text}\n\nSign in to Reformboard to see it and act on it.\n(This mail was sent automatically; please do not reply.)\n"
            ),
        ),
    }
}

fn short(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max).collect::<String>())
    } else {
        line.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::entity::Millis;
    use shared::message::Msg;
    use shared::notice::Link;

    #[test]
    fn a_mail_is_written_in_its_readers_language() {
        let notice = Notice {
            key: "reminder/1".into(),
            kind: NoticeKind::Reminder,
            item: None,
            link: Link::Item,
            text: Msg::new(
                "请于本周内报送工作方案",
                "Please send the work plan this week",
            ),
            at: Millis(0),
            read: false,
        };
        let (subject, body) = letter("区发改局", &notice, Language::Zh);
        assert_eq!(subject, "【改革看板】催办：请于本周内报送工作方案");
        assert!(
            body.starts_with("区发改局：") && body.contains("请登录改革看板"),
            "{body}"
        );
        let (subject, body) = letter("Fagai", &notice, Language::En);
        assert_eq!(
            subject,
            format!(
                "[Reformboard] {}: Please send the work plan this week",
                NoticeKind::Reminder.en()
            )
        );
        assert!(
            body.starts_with("Fagai,") && body.contains("Sign in to Reformboard"),
            "{body}"
        );
        assert!(
            !body.contains('请') && !subject.contains('催'),
            "{subject} {body}"
        );
    }
}
