//! A card's detail: every field the viewer may edit, the checklist, comments and history. A
//! panel on desktop, the full screen on a phone.

use super::BoardCtx;
use super::column_name;
use crate::api;
use crate::i18n::{self, W, lang};
use crate::session::use_session;
use crate::sync::use_sync;
use crate::util::now;
use leptos::prelude::*;
use serde::Deserialize;
use shared::board::{Column, sort_key};
use shared::entity::Task;
use shared::ids::{CommentId, StepId, TaskId};
use shared::mutation::Mutation;
use shared::permission::{self, Action};

/// One row of a card's history, from the audit trail.
#[derive(Clone, Debug, Deserialize)]
struct HistoryRow {
    at: i64,
    unit_id: Option<String>,
    action: String,
}

/// The detail dialog of task `id`.
#[component]
pub fn Detail(id: TaskId) -> impl IntoView {
    let ctx = use_context::<BoardCtx>().expect("Detail inside a Board");
    let sync = use_sync();
    let session = use_session();
    let lang = lang();
    let task = Memo::new(move |_| sync.view.with(|s| s.task(id).cloned()));
    // What the viewer may do, from the same rules the server applies.
    let rights = Memo::new(move |_| {
        let actor = session.actor();
        sync.view.with(|s| {
            let (Some(a), Some(t)) = (actor, s.task(id)) else { return (false, false, false) };
            let Some(item) = s.item(t.item) else { return (false, false, false) };
            (
                permission::can(&a, item, Action::ManageTasks),
                permission::can(&a, item, Action::WorkOnTask(t)),
                permission::can(&a, item, Action::Comment),
            )
        })
    });
    let manage = move || rights.get().0;
    let work = move || rights.get().1;
    let may_comment = move || rights.get().2;
    let send = move |m: Mutation| {
        let _ = sync.mutate(m);
    };
    let close = move || ctx.open.set(None);
    let history = LocalResource::new(move || async move {
        let key = js_sys::encode_uri_component(&format!("task/{id}"));
        api::get::<Vec<HistoryRow>>(&format!("/api/history/{key}")).await.unwrap_or_default()
    });
    let owners = Memo::new(move |_| {
        sync.view.with(|s| {
            task.with(|t| {
                t.as_ref()
                    .and_then(|t| s.item(t.item))
                    .map(|i| {
                        i.lead_units.iter().chain(&i.cooperating_units).filter_map(|u| s.unit(*u)).map(|u| (u.id, u.name.clone())).collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
        })
    });
    let new_step = RwSignal::new(String::new());
    let new_comment = RwSignal::new(String::new());
    let blocked_reason = RwSignal::new(String::new());

    let body = move || {
        let l = lang.get();
        let Some(t) = task.get() else {
            return view! { <p>{W::NotFound.get(l)}</p> }.into_any();
        };
        let Task { title, notes, owner, column, due, progress, steps, blocked, archived, .. } = t.clone();
        let owner_name = sync.view.with(|s| s.unit(owner).map(|u| u.name.clone()).unwrap_or_default());
        let comments = sync.view.with(|s| {
            let mut c: Vec<_> = s.comments().filter(|c| c.task == Some(id)).cloned().collect();
            c.sort_by_key(|c| c.at);
            c
        });
        let item_id = t.item;
        view! {
            <div class="detail-grid">
                <label class="wide">{W::TaskTitle.get(l)}
                    <input name="title" prop:value=title.clone() disabled=move || !manage() maxlength="200"
                        on:change=move |ev| send(Mutation::SetTaskTitle { task: id, title: event_target_value(&ev), at: now() })/>
                </label>
                <label class="wide">{W::Notes.get(l)}
                    <textarea name="notes" prop:value=notes.clone() disabled=move || !manage() rows="3"
                        on:change=move |ev| send(Mutation::SetTaskNotes { task: id, notes: event_target_value(&ev), at: now() })></textarea>
                </label>
                <label>{W::Owner.get(l)}
                    {move || if manage() {
                        view! {
                            <select name="owner" on:change=move |ev| {
                                if let Ok(o) = event_target_value(&ev).parse() { send(Mutation::AssignTask { task: id, owner: o, at: now() }) }
                            }>
                                {owners.get().into_iter().map(|(u, n)| view! { <option value=u.to_string() selected=u == owner>{n}</option> }).collect_view()}
                            </select>
                        }.into_any()
                    } else {
                        view! { <output>{owner_name.clone()}</output> }.into_any()
                    }}
                </label>
                <label>{W::Due.get(l)}
                    <input type="date" name="due" prop:value=due.map(|d| d.to_string()).unwrap_or_default() disabled=move || !manage()
                        on:change=move |ev| send(Mutation::SetTaskDue { task: id, due: event_target_value(&ev).parse().ok(), at: now() })/>
                </label>
                <label>{W::Column.get(l)}
                    <select name="column" disabled=move || !work() on:change=move |ev| {
                        if let Some(c) = Column::from_slug(&event_target_value(&ev)) {
                            let len = ctx.lanes.with_untracked(|ls| ls.iter().find(|x| x.item == item_id).map_or(0, |x| x.columns[super::column_index(c)].len()));
                            ctx.move_to(id, item_id, c, len);
                        }
                    }>
                        {Column::ALL.into_iter().map(|c| view! { <option value=c.slug() selected=c == column>{column_name(c, l)}</option> }).collect_view()}
                    </select>
                </label>
                <label>{W::Progress.get(l)}" "{progress}"%"
                    <input type="range" name="progress" min="0" max="100" step="5" prop:value=progress.to_string() disabled=move || !work()
                        on:change=move |ev| if let Ok(p) = event_target_value(&ev).parse() { send(Mutation::SetTaskProgress { task: id, progress: p, at: now() }) }/>
                </label>
                <fieldset class="wide blocked-field">
                    <legend>{W::Blocked.get(l)}</legend>
                    {match blocked.clone() {
                        Some(reason) => view! {
                            <p class="blocked-reason">{reason}</p>
                            <button type="button" disabled=move || !work() on:click=move |_| send(Mutation::SetTaskBlocked { task: id, reason: None, at: now() })>{W::Unblock.get(l)}</button>
                        }.into_any(),
                        None => view! {
                            <input name="blocked_reason" aria-label=W::BlockedReason.get(l) placeholder=W::BlockedReason.get(l) disabled=move || !work()
                                prop:value=blocked_reason on:input=move |ev| blocked_reason.set(event_target_value(&ev))/>
                            <button type="button" disabled=move || !work() on:click=move |_| {
                                let r = blocked_reason.get_untracked();
                                if !r.trim().is_empty() { send(Mutation::SetTaskBlocked { task: id, reason: Some(r), at: now() }); blocked_reason.set(String::new()); }
                            }>{W::MarkBlocked.get(l)}</button>
                        }.into_any(),
                    }}
                </fieldset>
            </div>

            <section class="checklist" aria-label=W::Checklist.get(l)>
                <h3>{W::Checklist.get(l)}" "{steps.iter().filter(|s| s.done).count()}"/"{steps.len()}</h3>
                <ul role="list">
                    {steps.iter().enumerate().map(|(i, s)| {
                        let sid = s.id;
                        let keys: Vec<String> = steps.iter().map(|x| x.sort_key.clone()).collect();
                        let up_key = (i > 0).then(|| sort_key::between(i.checked_sub(2).map(|j| keys[j].as_str()), Some(keys[i - 1].as_str())));
                        let down_key = (i + 1 < keys.len()).then(|| sort_key::between(Some(keys[i + 1].as_str()), keys.get(i + 2).map(String::as_str)));
                        let text = s.text.clone();
                        view! {
                            <li class:done=s.done>
                                <label class="check"><input type="checkbox" prop:checked=s.done disabled=move || !work()
                                    on:change=move |ev| send(Mutation::TickStep { task: id, step: sid, done: event_target_checked(&ev), at: now() })/>{text.clone()}</label>
                                <span class="step-actions">
                                    {up_key.map(|k| view! { <button type="button" class="icon" disabled=move || !work() aria-label=format!("{} {}", W::MoveUp.get(l), text.clone())
                                        on:click=move |_| send(Mutation::MoveStep { task: id, step: sid, sort_key: k.clone(), at: now() })>"↑"</button> })}
                                    {down_key.map(|k| view! { <button type="button" class="icon" disabled=move || !work() aria-label=format!("{} {}", W::MoveDown.get(l), s.text.clone())
                                        on:click=move |_| send(Mutation::MoveStep { task: id, step: sid, sort_key: k.clone(), at: now() })>"↓"</button> })}
                                    <button type="button" class="icon" disabled=move || !work() aria-label=format!("{} {}", W::Remove.get(l), s.text.clone())
                                        on:click=move |_| send(Mutation::RemoveStep { task: id, step: sid, at: now() })>"✕"</button>
                                </span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <Show when=work>
                    <form class="inline" on:submit=move |ev| {
                        ev.prevent_default();
                        let text = new_step.get_untracked();
                        if text.trim().is_empty() { return; }
                        let last = task.with_untracked(|t| t.as_ref().and_then(|t| t.steps.last().map(|s| s.sort_key.clone())));
                        send(Mutation::AddStep { task: id, step: StepId::new_v7(), text, sort_key: sort_key::between(last.as_deref(), None), at: now() });
                        new_step.set(String::new());
                    }>
                        <input name="step" aria-label=move || W::NewStep.get(lang.get()) placeholder=move || W::NewStep.get(lang.get())
                            prop:value=new_step on:input=move |ev| new_step.set(event_target_value(&ev))/>
                        <button type="submit">{move || W::AddStep.get(lang.get())}</button>
                    </form>
                </Show>
            </section>

            <section class="comments" aria-label=W::Comments.get(l)>
                <h3>{W::Comments.get(l)}" "{comments.len()}</h3>
                <ul role="list">
                    {comments.into_iter().map(|c| view! {
                        <li><strong>{c.author_name.clone()}</strong>" "<time>{i18n::datetime(c.at.0, l)}</time><p>{c.body.clone()}</p></li>
                    }).collect_view()}
                </ul>
                <Show when=may_comment>
                    <form class="inline" on:submit=move |ev| {
                        ev.prevent_default();
                        let body = new_comment.get_untracked();
                        if body.trim().is_empty() { return; }
                        send(Mutation::AddComment { id: CommentId::new_v7(), item: item_id, task: Some(id), body, at: now() });
                        new_comment.set(String::new());
                    }>
                        <textarea name="comment" rows="2" aria-label=move || W::NewComment.get(lang.get()) placeholder=move || W::NewComment.get(lang.get())
                            prop:value=new_comment on:input=move |ev| new_comment.set(event_target_value(&ev))></textarea>
                        <button type="submit">{move || W::Post.get(lang.get())}</button>
                    </form>
                </Show>
            </section>

            <section class="history" aria-label=W::History.get(l)>
                <h3>{W::History.get(l)}</h3>
                <Suspense fallback=|| ()>
                    <ol>
                        {move || history.get().map(|rows| rows.into_iter().map(|r| {
                            let unit = r.unit_id.and_then(|u| u.parse().ok()).and_then(|u| sync.view.with_untracked(|s| s.unit(u).map(|x| x.name.clone()))).unwrap_or_default();
                            view! { <li><time>{i18n::datetime(r.at, lang.get_untracked())}</time>" "{unit}" "{i18n::action_name(&r.action, lang.get_untracked())}</li> }
                        }).collect_view())}
                    </ol>
                </Suspense>
            </section>

            <Show when=manage>
                <p class="danger-zone">
                    {if archived {
                        view! { <button type="button" on:click=move |_| send(Mutation::RestoreTask { task: id, at: now() })>{W::Restore.get(l)}</button> }.into_any()
                    } else {
                        view! { <button type="button" class="danger" on:click=move |_| {
                            let ok = web_sys::window().and_then(|w| w.confirm_with_message(W::ConfirmArchive.get(l)).ok()).unwrap_or(false);
                            if ok { send(Mutation::ArchiveTask { task: id, at: now() }); ctx.open.set(None); }
                        }>{W::Archive.get(l)}</button> }.into_any()
                    }}
                </p>
            </Show>
        }
        .into_any()
    };
    view! {
        <div class="overlay" on:click=move |_| close()></div>
        <aside class="detail" role="dialog" aria-modal="true"
            aria-label=move || task.with(|t| t.as_ref().map(|t| t.title.clone()).unwrap_or_default())
            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { close() }>
            <header>
                <h2>{move || task.with(|t| t.as_ref().map(|t| t.title.clone()).unwrap_or_default())}</h2>
                <button type="button" class="icon close" aria-label=move || W::Close.get(lang.get()) on:click=move |_| close()>"✕"</button>
            </header>
            {body}
        </aside>
    }
}
