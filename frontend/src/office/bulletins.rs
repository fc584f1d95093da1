//! `/bulletins` and `/bulletins/:id`: progress bulletins (通报). The office generates a draft for
//! the as-of date, edits it, saves and publishes; every unit reads the published ones and marks
//! them read; the office sees who has. A bulletin prints on A4 and exports as HTML.

use super::{AsOfControl, OfficeTabs, unit_name, use_as_of};
use crate::i18n::{self, datetime, lang, tr};
use crate::session::use_session;
use crate::sync::use_sync;
use crate::util::now;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::bulletin::{Bulletin, MarkRead, Publish, Save, draft};
use shared::entity::{Entity, EntityKey};
use shared::ids::BulletinId;
use shared::mutation::Mutation;
use shared::state::State;

fn bulletin(state: &State, id: BulletinId) -> Option<Bulletin> {
    match state.get(&EntityKey::bulletin(id)) {
        Some(Entity::Bulletin(b)) => Some(b.clone()),
        _ => None,
    }
}

/// The list, and for the office the 生成通报 button.
#[component]
pub fn BulletinsPage() -> impl IntoView {
    let sync = use_sync();
    let session = use_session();
    let lang = lang();
    let as_of = use_as_of();
    let navigate = use_navigate();
    let office = move || session.is_office();
    let generate = move |_| {
        let d = as_of.get_untracked();
        let (title, body) = sync.view.with_untracked(|s| draft(s, d));
        let id = BulletinId::new_v7();
        let m = Mutation::SaveBulletin(Save {
            id,
            title,
            as_of: d,
            body,
            at: now(),
        });
        if sync.mutate(m).is_ok() {
            navigate(&format!("/bulletins/{id}"), Default::default());
        }
    };
    let list = move || {
        if !sync.loaded.get() {
            return view! { <p class="loading">{tr("正在加载…", "Loading…")}</p> }.into_any();
        }
        let l = lang.get();
        let me_unit = session.me.get().flatten().map(|m| m.unit);
        let mut all: Vec<Bulletin> = sync.view.with(|s| s.bulletins().cloned().collect());
        // Drafts first (the office is working on them), then newest published.
        shared::sorting::sort_by(&mut all, |a, b| {
            a.published
                .cmp(&b.published)
                .then(b.published_at.cmp(&a.published_at))
                .then(b.updated_at.cmp(&a.updated_at))
        });
        if all.is_empty() {
            return view! { <p class="empty">{tr("暂无通报", "No bulletins yet")}</p> }.into_any();
        }
        let rows = all.into_iter()
            .map(|b| {
                let read = me_unit.is_some_and(|u| b.read_by.contains(&u));
                let state = if !b.published {
                    tr("草稿", "Draft")().to_string()
                } else {
                    b.published_at
                        .map(|t| datetime(t.0, l))
                        .unwrap_or_default()
                };
                view! {
                    <li class="bulletin-row" class:draft=!b.published class:unread=b.published && !read>
                        <A href=format!("/bulletins/{}", b.id)>{b.title.clone()}</A>
                        <span class="meta">{tr("截至", "As of ")}{i18n::date(b.as_of, l)}" · "{state}</span>
                        {(b.published && !read && !office()).then(|| view! { <span class="unread-dot">{tr("未读", "Unread")}</span> })}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="bulletin-list">{rows}</ul> }.into_any()
    };
    view! {
        <article class="office bulletins-page">
            <h1>{tr("通报", "Bulletins")}</h1>
            <OfficeTabs/>
            <Show when=office>
                <section class="generate" aria-labelledby="gen-h">
                    <h2 id="gen-h">{tr("生成通报", "Generate a bulletin")}</h2>
                    <p class="hint">{tr("按查看日期生成各项改革进展情况的通报初稿，可修改后发布。",
                        "Drafts a bulletin of the plan as it stood on the as-of date; edit it, then publish.")}</p>
                    <AsOfControl/>
                    <button type="button" class="primary" on:click=generate.clone()>{tr("生成通报", "Generate bulletin")}</button>
                </section>
            </Show>
            {list}
        </article>
    }
}

/// One bulletin: editable while a draft (office), readable and printable once published.
#[component]
pub fn BulletinPage() -> impl IntoView {
    let sync = use_sync();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<BulletinId>().ok()));
    // Rebuilt only when the bulletin appears, changes hands between draft and published, or
    // another one is opened — so typing in the draft is never interrupted by a pull.
    let shape = Memo::new(move |_| {
        let loaded = sync.loaded.get();
        let b = id().and_then(|id| sync.view.with(|s| bulletin(s, id)));
        (loaded, id(), b.map(|b| b.published))
    });
    move || match shape.get() {
        (false, _, _) => view! { <p class="loading">{tr("正在加载…", "Loading…")}</p> }.into_any(),
        (true, Some(id), Some(false)) => view! { <DraftEditor id/> }.into_any(),
        (true, Some(id), Some(true)) => view! { <Published id/> }.into_any(),
        _ => view! {
            <article class="office"><p class="empty">{tr("找不到该通报", "Bulletin not found")}</p>
            <A href="/bulletins">{tr("返回通报列表", "Back to bulletins")}</A></article>
        }
        .into_any(),
    }
}

#[component]
fn DraftEditor(id: BulletinId) -> impl IntoView {
    let sync = use_sync();
    let session = use_session();
    let lang = lang();
    let current = sync.view.with_untracked(|s| bulletin(s, id));
    let (t0, b0, d0) = current
        .map(|b| (b.title, b.body, b.as_of))
        .unwrap_or_default();
    let title = RwSignal::new(t0);
    let body = RwSignal::new(b0);
    let msg = RwSignal::new(String::new());
    let save_m = move || {
        Mutation::SaveBulletin(Save {
            id,
            title: title.get_untracked(),
            as_of: d0,
            body: body.get_untracked(),
            at: now(),
        })
    };
    let said = move |zh: &str, en: &str| {
        msg.set(
            if lang.get_untracked() == crate::i18n::Lang::En {
                en
            } else {
                zh
            }
            .to_string(),
        );
    };
    // A refusal (in the notices) must not stand beside the last "saved".
    let save = move |_| {
        said("", "");
        if sync.mutate(save_m()).is_ok() {
            said("通报已保存", "Saved");
        }
    };
    let publish = move |_| {
        said("", "");
        // The text on screen is what goes out: save it first, then publish.
        if sync.mutate(save_m()).is_ok()
            && sync
                .mutate(Mutation::PublishBulletin(Publish { id, at: now() }))
                .is_ok()
        {
            said("通报已发布", "Published");
        }
    };
    view! {
        <article class="office bulletin-edit">
            <p class="crumbs no-print"><A href="/bulletins">{"← "}{tr("返回通报列表", "Back to bulletins")}</A></p>
            <h1>{tr("编辑通报（草稿）", "Edit bulletin (draft)")}</h1>
            <p class="meta">{tr("截至", "As of ")}{move || i18n::date(d0, lang.get())}</p>
            <Show when=move || session.is_office()>
                <label class="field">
                    <span>{tr("通报标题", "Title")}</span>
                    <input type="text" name="title" maxlength=shared::text::BULLETIN_TITLE.max aria-label=tr("通报标题", "Title")
                        prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span>{tr("通报正文", "Text")}</span>
                    <textarea name="body" rows="24" maxlength=shared::text::BULLETIN_BODY.max aria-label=tr("通报正文", "Text")
                        prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                </label>
                <div class="form-actions">
                    <button type="button" on:click=save>{tr("保存通报", "Save bulletin")}</button>
                    <button type="button" class="primary" on:click=publish>{tr("发布通报", "Publish bulletin")}</button>
                </div>
            </Show>
            <p class="ok" role="status">{move || msg.get()}</p>
        </article>
    }
}

#[component]
fn Published(id: BulletinId) -> impl IntoView {
    let sync = use_sync();
    let session = use_session();
    let lang = lang();
    let b = Memo::new(move |_| sync.view.with(|s| bulletin(s, id)));
    let mark = move |_| {
        let _ = sync.mutate(Mutation::ReadBulletin(MarkRead { id, at: now() }));
    };
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    move || {
        let Some(b) = b.get() else {
            return ().into_any();
        };
        let l = lang.get();
        let me = session.me.get().flatten();
        let office = session.is_office();
        let read = me.as_ref().is_some_and(|m| b.read_by.contains(&m.unit));
        let paragraphs = b
            .body
            .split('\n')
            .map(|p| view! { <p>{p.to_string()}</p> })
            .collect_view();
        let readers = office.then(|| {
            sync.view.with(|s| {
                let names: Vec<String> = b.read_by.iter().map(|u| unit_name(s, *u)).collect();
                let not_yet: Vec<String> = s
                    .plan_readers()
                    .into_iter()
                    .filter(|u| !b.read_by.contains(u))
                    .map(|u| unit_name(s, u))
                    .collect();
                view! {
                    <section class="readers no-print" aria-labelledby="readers-h">
                        <h2 id="readers-h">{tr("已阅单位", "Read by")}" "{names.len()}</h2>
                        <p data-testid="read-by">{if names.is_empty() { "—".to_string() } else { names.join(lang.get().list_separator()) }}</p>
                        <h3>{tr("未阅单位", "Not yet read")}" "{not_yet.len()}</h3>
                        <p class="muted">{if not_yet.is_empty() { "—".to_string() } else { not_yet.join(lang.get().list_separator()) }}</p>
                    </section>
                }
            })
        });
        view! {
            <article class="office bulletin-doc">
                <p class="crumbs no-print"><A href="/bulletins">{"← "}{tr("返回通报列表", "Back to bulletins")}</A></p>
                <div class="doc-actions no-print">
                    <button type="button" on:click=print>{tr("打印", "Print")}</button>
                    <a class="button" href=format!("/api/export/bulletins/{id}.html") download=""
                        aria-label=tr("导出通报", "Export bulletin")>{tr("导出（HTML）", "Export (HTML)")}</a>
                    {(!office && !read).then(|| view! {
                        <button type="button" class="primary" on:click=mark>{tr("标为已读", "Mark read")}</button>
                    })}
                    {(!office && read).then(|| view! { <span class="done">{tr("本单位已阅", "Read by your unit")}</span> })}
                </div>
                <div class="paper">
                    <h1>{b.title.clone()}</h1>
                    <p class="doc-meta">{b.by_name.clone()}" · "{tr("截至", "As of ")}{i18n::date(b.as_of, l)}
                        {b.published_at.map(|t| format!(" · {}", datetime(t.0, l)))}</p>
                    <div class="doc-body">{paragraphs}</div>
                </div>
                {readers}
            </article>
        }
        .into_any()
    }
}
