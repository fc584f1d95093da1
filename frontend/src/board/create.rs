//! Breaking an item into tasks (分解任务): the form the lead unit and the office see on an
//! item's board.
//!
//! It opens from a "＋ 新建任务" button, as boards usually do: most visits are to follow the
//! cards, a phone has no room to spare above them, and a date field is one of the dearest
//! controls a page can build (measured: ~25 ms of a throttled phone's first screen).

use crate::i18n::{W, lang};
use crate::session::use_session;
use crate::sync::use_sync;
use crate::util::{focus_later, now};
use leptos::prelude::*;
use shared::board::{Column, key_between};
use shared::ids::{ItemId, TaskId, UnitId};
use shared::mutation::Mutation;
use shared::permission::{self, Action};

/// The "new task" form, shown only to those who may create tasks on `item`.
#[component]
pub fn CreateTask(item: ItemId) -> impl IntoView {
    let sync = use_sync();
    let board = use_context::<super::BoardCtx>();
    let session = use_session();
    let lang = lang();
    let allowed = Memo::new(move |_| {
        let actor = session.actor();
        sync.view.with(|s| {
            actor.is_some_and(|a| {
                s.item(item)
                    .is_some_and(|i| permission::can(&a.in_state(s), i, Action::ManageTasks))
            })
        })
    });
    let units = Memo::new(move |_| {
        sync.view.with(|s| {
            s.item(item)
                .map(|i| {
                    s.units_of(i)
                        .into_iter()
                        .filter_map(|u| s.unit(u))
                        .map(|u| (u.id, u.name.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let open = RwSignal::new(false);
    let title = RwSignal::new(String::new());
    let owner = RwSignal::new(None::<UnitId>);
    let due = RwSignal::new(String::new());
    // The date picker offers what the server accepts (`shared::postponement::earliest_due`).
    let min_due = move || {
        session
            .actor()
            .and_then(|a| shared::postponement::earliest_due(&a, now()))
            .map(|d| d.to_string())
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = title.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let Some(owner) = owner
            .get_untracked()
            .or_else(|| units.with_untracked(|u| u.first().map(|x| x.0)))
        else {
            return;
        };
        // New cards go to the end of 未启动.
        let id = TaskId::new_v7();
        let sort_key = sync
            .view
            .with_untracked(|s| key_between(s, item, Column::NotStarted, id, None, None));
        let m = Mutation::CreateTask {
            id,
            item,
            title: text,
            owner,
            column: Column::NotStarted,
            sort_key,
            due: due.get_untracked().parse().ok(),
            at: now(),
        };
        if sync.mutate(m).is_ok() {
            title.set(String::new());
            due.set(String::new());
            // A phone showing another column shows 未启动, so the new card is seen to land.
            if let Some(board) = board {
                board.show(Column::NotStarted);
            }
        }
    };
    let show = move |_| {
        open.set(true);
        focus_later("form.create-task input[name=title]".to_owned());
    };
    let hide = move |_| {
        open.set(false);
        focus_later("button.create-task-open".to_owned());
    };
    let closed = move || {
        view! {
            <button type="button" class="create-task-open" aria-expanded="false" on:click=show>
                {move || W::NewTask.get(lang.get())}
            </button>
        }
    };
    view! {
        <Show when=move || allowed.get()>
            <Show when=move || open.get() fallback=closed>
            <form class="create-task" on:submit=submit aria-label=move || W::NewTask.get(lang.get())>
                <input name="title" required maxlength=shared::text::TASK_TITLE.max aria-label=move || W::TaskTitle.get(lang.get())
                    placeholder=move || W::NewTaskPlaceholder.get(lang.get())
                    prop:value=title on:input=move |ev| title.set(event_target_value(&ev))/>
                <label>{move || W::Owner.get(lang.get())}
                    <select name="owner" on:change=move |ev| owner.set(event_target_value(&ev).parse().ok())>
                        {move || units.get().into_iter().map(|(id, name)| view! {
                            <option value=id.to_string() selected=move || owner.get() == Some(id)>{name}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>{move || W::Due.get(lang.get())}
                    <input type="date" name="due" min=min_due prop:value=due on:input=move |ev| due.set(event_target_value(&ev))/>
                </label>
                <button type="submit" class="primary">{move || W::AddTask.get(lang.get())}</button>
                <button type="button" aria-expanded="true" on:click=hide>{move || W::Close.get(lang.get())}</button>
            </form>
            </Show>
        </Show>
    }
}
