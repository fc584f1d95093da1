//! A card's detail: every field the viewer may edit, the checklist, comments and history. A
//! panel on desktop, the full screen on a phone.
//!
//! The dialog's controls are made once; only their values follow the data. A pull that lands
//! while someone types must not replace the field under their cursor.

use super::{BoardCtx, column_index, column_name};
use crate::history::History;
use crate::i18n::{self, W, lang};
use crate::sync::use_sync;
use crate::util::{focus_later, now};
use leptos::prelude::*;
use shared::board::{Column, sort_key};
use shared::entity::{Comment, Step, Task};
use shared::ids::{CommentId, StepId, TaskId, UnitId};
use shared::mutation::Mutation;
use shared::text::{BLOCKED_REASON, COMMENT, STEP_TEXT, TASK_NOTES, TASK_TITLE};

/// The detail of task `id`, from a wasm chunk of its own: a board shows without it, and the
/// first card opened fetches it (the service worker precaches it). Err when it can't be fetched.
#[wasm_split_helpers::wasm_split(task_detail, fallible)]
pub fn lazily(id: TaskId) -> Result<AnyView, crate::chunk::NotLoaded> {
    Ok(view! { <Detail id/> }.into_any())
}

/// Closes the open card's detail, focus going back to the card it was opened from.
fn close_detail(ctx: BoardCtx) {
    if let Some(id) = ctx.open.get_untracked() {
        focus_later(format!("[data-task-id='{id}'] .card-open"));
    }
    ctx.open.set(None);
}

/// The detail's frame with only `message` in it, closable: while its chunk loads
/// (`W::Loading`), or when it can't be fetched, with a way to try again (a reload: a tab of an
/// older build whose chunks are gone needs one anyway). Part of the board, not of the chunk.
#[component]
pub fn Placeholder(message: W) -> impl IntoView {
    let ctx = use_context::<BoardCtx>().expect("Placeholder inside a Board");
    let lang = lang();
    let close = move || close_detail(ctx);
    let loading = message == W::Loading;
    focus_later(".detail .close".to_string());
    view! {
        <div class="overlay" on:click=move |_| close()></div>
        <aside class="detail" role="dialog" aria-modal="true" aria-busy=loading.to_string()
            aria-label=move || message.get(lang.get())
            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { close() }>
            <header>
                <p class="loading" role=if loading { "status" } else { "alert" }>{move || message.get(lang.get())}</p>
                <button type="button" class="icon close" aria-label=move || W::Close.get(lang.get())
                    on:click=move |_| close()>"✕"</button>
            </header>
            {(!loading).then(|| view! {
                <button type="button" on:click=|_| crate::chunk::reload()>{move || W::TryAgain.get(lang.get())}</button>
            })}
        </aside>
    }
}

/// The detail dialog of task `id`: its fields, checklist, comments and evidence, each editable
/// as far as the viewer may.
#[component]
pub fn Detail(id: TaskId) -> impl IntoView {
    let ctx = use_context::<BoardCtx>().expect("Detail inside a Board");
    let sync = use_sync();
    let lang = lang();
    let task = Memo::new(move |_| sync.view.with(|s| s.task(id).cloned()));
    let field =
        move |pick: fn(&Task) -> String| task.with(|t| t.as_ref().map(pick).unwrap_or_default());
    // What the viewer may do: each control asks whether the change it sends would be accepted,
    // by the rules the server applies (`Sync::allows`; an archived card takes none but restore).
    let may_edit = Memo::new(move |_| {
        sync.allows(&Mutation::SetTaskTitle {
            task: id,
            title: String::new(),
            at: now(),
        })
    });
    let may_work = Memo::new(move |_| {
        sync.allows(&Mutation::SetTaskProgress {
            task: id,
            progress: 0,
            at: now(),
        })
    });
    let may_comment = Memo::new(move |_| {
        let item = task.with(|t| t.as_ref().map(|t| t.item));
        item.is_some_and(|item| {
            sync.allows(&Mutation::AddComment {
                id: CommentId::new_v7(),
                item,
                task: Some(id),
                body: String::new(),
                at: now(),
            })
        })
    });
    let may_restore = Memo::new(move |_| {
        sync.allows(&Mutation::RestoreTask {
            task: id,
            at: now(),
        })
    });
    let manage = move || may_edit.get();
    // Past its due date, the date, the owner and (once missed) archiving are the office's
    // (`shared::postponement`): the change each control sends, asked of the same rules the
    // server applies.
    let may_redate = Memo::new(move |_| {
        sync.allows(&Mutation::SetTaskDue {
            task: id,
            due: None,
            at: now(),
        })
    });
    let may_reassign = Memo::new(move |_| {
        let owner = task.with(|t| t.as_ref().map(|t| t.owner));
        owner.is_some_and(|owner| {
            sync.allows(&Mutation::AssignTask {
                task: id,
                owner,
                at: now(),
            })
        })
    });
    let may_archive = Memo::new(move |_| {
        sync.allows(&Mutation::ArchiveTask {
            task: id,
            at: now(),
        })
    });
    let work = move || may_work.get();
    // Whether the change was made (locally, at once). A refused one is told in the notices,
    // which float above this dialog; what the user typed stays for them to correct.
    let send = move |m: Mutation| sync.mutate(m).is_ok();
    // The date picker offers what the rules accept (`shared::postponement::earliest_due`), as
    // the new-task form's does.
    let session = crate::session::use_session();
    let min_due = move || {
        session
            .actor()
            .and_then(|a| shared::postponement::earliest_due(&a, now()))
            .map(|d| d.to_string())
    };
    let due_value = move || {
        task.with(|t| {
            t.as_ref()
                .and_then(|t| t.due)
                .map(|d| d.to_string())
                .unwrap_or_default()
        })
    };
    let close = move || close_detail(ctx);
    // Into the dialog as it opens (the placeholder had it while the chunk loaded): Escape
    // closes it and Tab walks it, rather than the board behind.
    focus_later(".detail .close".to_string());
    // The units that may own it, and its owner even when it no longer may (a member taken out
    // of its group): the list shows who has it now, and the lead picks another.
    let owners = Memo::new(move |_| {
        let (item, current) = task.with(|t| t.as_ref().map(|t| (t.item, t.owner))).unzip();
        sync.view.with(|s| {
            let mut units = item
                .and_then(|i| s.item(i))
                .map(|i| s.units_of(i))
                .unwrap_or_default();
            if let Some(owner) = current
                && !units.contains(&owner)
            {
                units.push(owner);
            }
            units
                .into_iter()
                .filter_map(|u| s.unit(u))
                .map(|u| (u.id, u.name.clone()))
                .collect::<Vec<(UnitId, String)>>()
        })
    });
    let owner = Memo::new(move |_| task.with(|t| t.as_ref().map(|t| t.owner)));
    let column =
        Memo::new(move |_| task.with(|t| t.as_ref().map_or(Column::NotStarted, |t| t.column)));
    let progress = Memo::new(move |_| task.with(|t| t.as_ref().map_or(0, |t| t.progress)));
    let blocked = Memo::new(move |_| task.with(|t| t.as_ref().and_then(|t| t.blocked.clone())));
    let archived = Memo::new(move |_| task.with(|t| t.as_ref().is_some_and(|t| t.archived)));
    let steps =
        Memo::new(move |_| task.with(|t| t.as_ref().map(|t| t.steps.clone()).unwrap_or_default()));
    let comments = Memo::new(move |_| {
        sync.view.with(|s| {
            let mut c: Vec<Comment> = s
                .comments()
                .filter(|c| c.task == Some(id))
                .cloned()
                .collect();
            shared::sorting::sort_by_key(&mut c, |c| c.at);
            c
        })
    });
    let changed = Memo::new(move |_| task.with(|t| t.as_ref().map_or(0, |t| t.updated_at.0)));
    let new_step = RwSignal::new(String::new());
    let new_comment = RwSignal::new(String::new());
    let blocked_reason = RwSignal::new(String::new());
    let owner_name = move || {
        let o = owner.get();
        owners.with(|list| {
            list.iter()
                .find(|(u, _)| Some(*u) == o)
                .map(|(_, n)| n.clone())
                .unwrap_or_default()
        })
    };
    let item_id = move || task.with_untracked(|t| t.as_ref().map(|t| t.item));
    let w = move |word: W| move || word.get(lang.get());

    view! {
        <div class="overlay" on:click=move |_| close()></div>
        <aside class="detail" role="dialog" aria-modal="true" aria-label=move || field(|t| t.title.clone())
            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { close() }>
            <header>
                <h2>{move || field(|t| t.title.clone())}</h2>
                <button type="button" class="icon close" aria-label=w(W::Close) on:click=move |_| close()>"✕"</button>
            </header>
            <div class="detail-grid">
                // Whose it is, said once, rather than a form of greyed-out controls.
                <Show when=move || !work()>
                    <p class="wide note" role="note">{move || {
                        let l = lang.get();
                        format!("{}{}{}", W::ViewOnly.get(l), owner_name(), W::ViewOnlyEnd.get(l))
                    }}</p>
                </Show>
                <label class="wide">{w(W::TaskTitle)}
                    <input name="title" prop:value=move || field(|t| t.title.clone()) disabled=move || !manage() maxlength=TASK_TITLE.max
                        on:change=move |ev| if !send(Mutation::SetTaskTitle { task: id, title: event_target_value(&ev), at: now() }) {
                            event_target::<web_sys::HtmlInputElement>(&ev).set_value(&field(|t| t.title.clone()));
                        }/>
                </label>
                <label class="wide">{w(W::Notes)}
                    <textarea name="notes" prop:value=move || field(|t| t.notes.clone()) disabled=move || !manage() rows="3" maxlength=TASK_NOTES.max
                        on:change=move |ev| { send(Mutation::SetTaskNotes { task: id, notes: event_target_value(&ev), at: now() }); }></textarea>
                </label>
                <label>{w(W::Owner)}
                    <Show when=move || may_reassign.get() fallback=move || view! { <output>{owner_name}</output> }>
                        <select name="owner" on:change=move |ev| {
                            if let Ok(o) = event_target_value(&ev).parse() { send(Mutation::AssignTask { task: id, owner: o, at: now() }); }
                        }>
                            {move || owners.get().into_iter().map(|(u, n)| view! {
                                <option value=u.to_string() selected=move || owner.get() == Some(u)>{n}</option>
                            }).collect_view()}
                        </select>
                    </Show>
                </label>
                <label>{w(W::Due)}
                    // A date that can't be changed here is text, as dates are written elsewhere
                    // (2014年9月30日), not a greyed picker in the browser's own format.
                    <Show when=move || may_redate.get() fallback=move || view! {
                        <output name="due">{move || {
                            let l = lang.get();
                            task.with(|t| t.as_ref().and_then(|t| t.due))
                                .map_or_else(|| W::None.get(l).to_string(), |d| crate::i18n::date(d, l))
                        }}</output>
                    }>
                        <input type="date" name="due" min=min_due prop:value=due_value
                            on:change=move |ev| {
                                // A refused date goes back to the one the task has: the picker must not show a date that was not set.
                                if !send(Mutation::SetTaskDue { task: id, due: event_target_value(&ev).parse().ok(), at: now() }) {
                                    event_target::<web_sys::HtmlInputElement>(&ev).set_value(&due_value());
                                }
                            }/>
                    </Show>
                </label>
                <Show when=move || manage() && !may_redate.get()>
                    <p class="wide notice" role="note">{w(W::MissedHint)}
                        // Asked already: the panel below shows the request waiting.
                        {move || task.with(|t| t.as_ref().and_then(shared::postponement::pending).is_none())
                            .then(|| view! { " "{w(W::MissedAsk)} })}
                    </p>
                </Show>
                <label>{w(W::Column)}
                    <select name="column" disabled=move || !work() on:change=move |ev| {
                        let (Some(c), Some(item)) = (Column::from_slug(&event_target_value(&ev)), item_id()) else { return };
                        let len = ctx.lanes.with_untracked(|ls| ls.iter().find(|x| x.item == item).map_or(0, |x| x.columns[column_index(c)].len()));
                        ctx.move_to(id, item, c, len);
                    }>
                        {Column::ALL.into_iter().map(|c| view! {
                            <option value=c.slug() selected=move || column.get() == c>{move || column_name(c, lang.get())}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>{w(W::Progress)}" "{move || progress.get()}"%"
                    // A done task stays at 100% (shared::mutation's rule): moved out of 已完成, it moves again.
                    <input type="range" name="progress" min="0" max="100" step="5" disabled=move || !work() || column.get() == Column::Done
                        prop:value=move || progress.get().to_string()
                        on:change=move |ev| if let Ok(p) = event_target_value(&ev).parse() { send(Mutation::SetTaskProgress { task: id, progress: p, at: now() }); }/>
                </label>
                <fieldset class="wide blocked-field">
                    <legend>{w(W::Blocked)}</legend>
                    <Show when=move || blocked.with(Option::is_some) fallback=move || view! {
                        <input name="blocked_reason" aria-label=w(W::BlockedReason) placeholder=w(W::BlockedReason) disabled=move || !work() maxlength=BLOCKED_REASON.max
                            prop:value=blocked_reason on:input=move |ev| blocked_reason.set(event_target_value(&ev))/>
                        <button type="button" disabled=move || !work() on:click=move |_| {
                            let r = blocked_reason.get_untracked();
                            if !r.trim().is_empty() && send(Mutation::SetTaskBlocked { task: id, reason: Some(r), at: now() }) {
                                blocked_reason.set(String::new());
                            }
                        }>{w(W::MarkBlocked)}</button>
                    }>
                        <p class="blocked-reason">{move || blocked.get().unwrap_or_default()}</p>
                        <button type="button" disabled=move || !work()
                            on:click=move |_| { send(Mutation::SetTaskBlocked { task: id, reason: None, at: now() }); }>{w(W::Unblock)}</button>
                    </Show>
                </fieldset>
            </div>

            <section class="checklist" aria-label=w(W::Checklist)>
                <h3>{w(W::Checklist)}" "{move || steps.with(|s| format!("{}/{}", s.iter().filter(|x| x.done).count(), s.len()))}</h3>
                <ul role="list">
                    // Keyed by what a row shows and the order (its move buttons' keys come from its
                    // neighbours), so a tick or rename elsewhere doesn't rebuild it: someone else
                    // ticking another step doesn't end a rename in progress.
                    <For each=move || {
                        let list = steps.get();
                        let keys: Vec<String> = list.iter().map(|x| x.sort_key.clone()).collect();
                        list.into_iter().enumerate().map(|(i, step)| (i, step, keys.clone())).collect::<Vec<_>>()
                    } key=|(i, step, keys)| (step.id, *i, step.text.clone(), step.done, keys.clone())
                    children=move |(i, step, keys)| view! { <StepRow step i keys task=id work=Signal::derive(work)/> }/>
                </ul>
                <Show when=work>
                    <form class="inline" on:submit=move |ev| {
                        ev.prevent_default();
                        let text = new_step.get_untracked();
                        if text.trim().is_empty() { return; }
                        let last = steps.with_untracked(|s| s.last().map(|x| x.sort_key.clone()));
                        if send(Mutation::AddStep { task: id, step: StepId::new_v7(), text, sort_key: sort_key::between(last.as_deref(), None), at: now() }) {
                            new_step.set(String::new());
                        }
                    }>
                        <input name="step" aria-label=w(W::NewStep) placeholder=w(W::NewStep) maxlength=STEP_TEXT.max
                            prop:value=new_step on:input=move |ev| new_step.set(event_target_value(&ev))/>
                        <button type="submit">{w(W::AddStep)}</button>
                    </form>
                </Show>
            </section>

            <section class="comments" aria-label=w(W::Comments)>
                <h3>{w(W::Comments)}" "{move || comments.with(Vec::len)}</h3>
                <ul role="list">
                    <For each=move || comments.get() key=|c| c.id children=move |c| view! {
                        <li><strong>{c.author_name.clone()}</strong>" "<time>{move || i18n::datetime(c.at.0, lang.get())}</time><p>{c.body.clone()}</p></li>
                    }/>
                </ul>
                <Show when=move || may_comment.get()>
                    <form class="inline" on:submit=move |ev| {
                        ev.prevent_default();
                        let body = new_comment.get_untracked();
                        let Some(item) = item_id() else { return };
                        if body.trim().is_empty() { return; }
                        if send(Mutation::AddComment { id: CommentId::new_v7(), item, task: Some(id), body, at: now() }) {
                            new_comment.set(String::new());
                        }
                    }>
                        <textarea name="comment" rows="2" aria-label=w(W::NewComment) placeholder=w(W::NewComment) maxlength=COMMENT.max
                            prop:value=new_comment on:input=move |ev| new_comment.set(event_target_value(&ev))></textarea>
                        <button type="submit">{w(W::Post)}</button>
                    </form>
                </Show>
            </section>

            <super::postponement::Postponements id task/>
            {move || item_id().map(|item| view! { <crate::workflow::attachments::Attachments item to=shared::attachment::AttachedTo::Task(id)/> })}
            <History key=format!("task/{id}") changed=changed/>

            <Show when=move || if archived.get() { may_restore.get() } else { may_archive.get() }>
                <p class="danger-zone">
                    <Show when=move || archived.get() fallback=move || view! {
                        <button type="button" class="danger" on:click=move |_| {
                            let ok = web_sys::window()
                                .and_then(|win| win.confirm_with_message(W::ConfirmArchive.get(lang.get_untracked())).ok())
                                .unwrap_or(false);
                            if ok {
                                send(Mutation::ArchiveTask { task: id, at: now() });
                                ctx.open.set(None);
                            }
                        }>{w(W::Archive)}</button>
                    }>
                        <button type="button" on:click=move |_| { send(Mutation::RestoreTask { task: id, at: now() }); }>{w(W::Restore)}</button>
                    </Show>
                </p>
            </Show>
        </aside>
    }
}

/// One checklist step with its tick box and reorder / remove buttons.
#[component]
fn StepRow(
    step: Step,
    i: usize,
    keys: Vec<String>,
    task: TaskId,
    work: Signal<bool>,
) -> impl IntoView {
    let sync = use_sync();
    let lang = lang();
    let send = move |m: Mutation| {
        let _ = sync.mutate(m);
    };
    let sid = step.id;
    // New keys that put the step one place up or down: between its neighbours' neighbours.
    let up_key = (i > 0).then(|| {
        sort_key::between(
            i.checked_sub(2).map(|j| keys[j].as_str()),
            Some(keys[i - 1].as_str()),
        )
    });
    let down_key = (i + 1 < keys.len()).then(|| {
        sort_key::between(
            Some(keys[i + 1].as_str()),
            keys.get(i + 2).map(String::as_str),
        )
    });
    let text = step.text.clone();
    let name = StoredValue::new(step.text);
    let label = move |word: W| format!("{} {}", word.get(lang.get()), name.get_value());
    // The step's text being edited in place (None: shown as text).
    let editing = RwSignal::new(None::<String>);
    let finish = move || {
        if let Some(new) = editing.get_untracked() {
            editing.set(None);
            let new = new.trim().to_string();
            if !new.is_empty() && new != name.get_value() {
                send(Mutation::RenameStep {
                    task,
                    step: sid,
                    text: new,
                    at: now(),
                });
            }
        }
    };
    view! {
        <li class:done=step.done data-step=sid.to_string()>
            <Show when=move || editing.with(Option::is_some) fallback=move || view! {
                <label class="check">
                    <input type="checkbox" prop:checked=step.done disabled=move || !work.get()
                        on:change=move |ev| send(Mutation::TickStep { task, step: sid, done: event_target_checked(&ev), at: now() })/>
                    {text.clone()}
                </label>
            }>
                <input class="step-edit" name="step_text" maxlength=STEP_TEXT.max aria-label=move || label(W::Rename)
                    prop:value=move || editing.get().unwrap_or_default()
                    on:input=move |ev| editing.set(Some(event_target_value(&ev)))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
                        "Enter" => { ev.prevent_default(); finish() }
                        "Escape" => { ev.stop_propagation(); editing.set(None) }
                        _ => {}
                    }
                    on:blur=move |_| finish()/>
            </Show>
            <span class="step-actions">
                <button type="button" class="icon" disabled=move || !work.get() aria-label=move || label(W::Rename)
                    on:click=move |_| {
                        editing.set(Some(name.get_value()));
                        focus_later(format!("[data-step='{sid}'] .step-edit"));
                    }>"✎"</button>
                {up_key.map(|k| view! {
                    <button type="button" class="icon" disabled=move || !work.get() aria-label=move || label(W::MoveUp)
                        on:click=move |_| send(Mutation::MoveStep { task, step: sid, sort_key: k.clone(), at: now() })>"↑"</button>
                })}
                {down_key.map(|k| view! {
                    <button type="button" class="icon" disabled=move || !work.get() aria-label=move || label(W::MoveDown)
                        on:click=move |_| send(Mutation::MoveStep { task, step: sid, sort_key: k.clone(), at: now() })>"↓"</button>
                })}
                <button type="button" class="icon" disabled=move || !work.get() aria-label=move || label(W::Remove)
                    on:click=move |_| send(Mutation::RemoveStep { task, step: sid, at: now() })>"✕"</button>
            </span>
        </li>
    }
}
