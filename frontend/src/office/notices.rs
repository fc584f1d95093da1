//! `/notices`: the notification centre — reminders, returns, instructions, mentions, bulletins —
//! newest first; opening one marks it read. Also the unread badge for the header.

use crate::board::CARD_PARAM;
use crate::i18n::{Lang, datetime, lang, tr};
use crate::session::use_session;
use crate::sync::use_sync;
use crate::util::now;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::mutation::Mutation;
use shared::notice::{Link, MAX_MARK_BATCH, MarkRead, Notice, inbox, unread};

/// Unread count of the signed-in user (0 before the first pull).
pub fn use_unread() -> Signal<usize> {
    let sync = use_sync();
    let session = use_session();
    Signal::derive(move || match session.actor() {
        Some(actor) => sync.view.with(|s| unread(s, &actor)),
        None => 0,
    })
}

/// The bell in the header: always visible, on phones too, with the unread count.
#[component]
pub fn NoticeBell() -> impl IntoView {
    let count = use_unread();
    let lang = lang();
    let label = move || {
        let n = count.get();
        match lang.get() {
            Lang::Zh if n > 0 => format!("通知（{n}条未读）"),
            Lang::Zh => "通知".to_string(),
            Lang::En if n > 0 => format!("Notifications ({n} unread)"),
            Lang::En => "Notifications".to_string(),
        }
    };
    view! {
        <A href="/notices" attr:class="bell" attr:aria-label=label attr:title=label>
            // Drawn, not an emoji: phones and kiosks without an emoji font showed a blank box.
            <svg class="bell-icon" aria-hidden="true" viewBox="0 0 24 24" width="22" height="22">
                <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"/>
            </svg>
            <Show when=move || { count.get() > 0 }>
                <span class="badge" aria-hidden="true" data-testid="unread-count">{move || count.get()}</span>
            </Show>
        </A>
    }
}

/// Where a notice leads: the screen that shows what it is about (`Notice::link`).
fn target(n: &Notice, state: &shared::state::State) -> String {
    if let Link::Bulletin(id) = n.link {
        return format!("/bulletins/{id}");
    }
    let Some(number) = n.item.and_then(|i| state.item(i)).map(|i| i.number) else {
        return "/notices".into();
    };
    match n.link {
        Link::Task(task) => format!("/items/{number}/board?{CARD_PARAM}={task}"),
        Link::Submission(kind) => format!("/items/{number}/submissions/{}", kind.as_str()),
        Link::Instructions => format!("/items/{number}/instructions"),
        Link::Difficulties => format!("/items/{number}/difficulties"),
        Link::Evaluations => format!("/items/{number}/evaluations"),
        Link::Item | Link::Bulletin(_) => format!("/items/{number}"),
    }
}

/// The notices page.
#[component]
pub fn NoticesPage() -> impl IntoView {
    let sync = use_sync();
    let session = use_session();
    let lang = lang();
    let navigate = use_navigate();
    let mark = move |keys: Vec<String>| {
        let Some(actor) = session.actor() else { return };
        for chunk in keys.chunks(MAX_MARK_BATCH) {
            let _ = sync.mutate(Mutation::MarkNoticesRead(MarkRead {
                user: actor.user,
                keys: chunk.to_vec(),
                at: now(),
            }));
        }
    };
    let list = move || {
        if !sync.loaded.get() {
            return view! { <p class="loading">{tr("正在加载…", "Loading…")}</p> }.into_any();
        }
        let Some(actor) = session.actor() else {
            return ().into_any();
        };
        let l = lang.get();
        let notices = sync.view.with(|s| {
            inbox(s, &actor)
                .into_iter()
                .map(|n| {
                    let href = target(&n, s);
                    (n, href)
                })
                .collect::<Vec<_>>()
        });
        if notices.is_empty() {
            return view! { <p class="empty">{tr("暂无通知", "No notifications")}</p> }.into_any();
        }
        let navigate = navigate.clone();
        let rows = notices
            .into_iter()
            .map(|(n, href)| {
                let kind = if l == Lang::En { n.kind.en() } else { n.kind.zh() };
                let key = n.key.clone();
                let key2 = n.key.clone();
                let read = n.read;
                let navigate = navigate.clone();
                let open = move |_| {
                    if !read {
                        mark(vec![key.clone()]);
                    }
                    navigate(&href, Default::default());
                };
                // Which notice a 标为已读 is for: one button per row.
                let text_id = format!("notice-{}", n.key.replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
                view! {
                    <li class="notice-row" class:unread=!read data-key=n.key.clone()>
                        <button type="button" class="notice-open" on:click=open>
                            <span class=format!("kind kind-{:?}", n.kind).to_ascii_lowercase()>{kind}</span>
                            <span class="notice-text" id=text_id.clone()>{l.of(&n.text).to_string()}</span>
                            <time>{datetime(n.at.0, l)}</time>
                            {(!read).then(|| view! { <span class="unread-dot">{tr("未读", "Unread")}</span> })}
                        </button>
                        {(!read).then(|| view! {
                            <button type="button" class="mark-read" aria-describedby=text_id.clone() on:click=move |_| mark(vec![key2.clone()])>
                                {tr("标为已读", "Mark read")}
                            </button>
                        })}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="notice-list">{rows}</ul> }.into_any()
    };
    let all_read = move |_| {
        let Some(actor) = session.actor() else { return };
        let keys: Vec<String> = sync.view.with_untracked(|s| {
            inbox(s, &actor)
                .into_iter()
                .filter(|n| !n.read)
                .map(|n| n.key)
                .collect()
        });
        mark(keys);
    };
    let count = use_unread();
    view! {
        <article class="office notices-page">
            <h1>{tr("通知", "Notifications")}
                <span class="count" data-testid="notice-unread">{move || match lang.get() {
                    Lang::Zh => format!("{}条未读", count.get()),
                    Lang::En => format!("{} unread", count.get()),
                }}</span>
            </h1>
            <p>
                <button type="button" on:click=all_read disabled=move || count.get() == 0>
                    {tr("全部标为已读", "Mark all read")}
                </button>
            </p>
            {list}
        </article>
    }
}
