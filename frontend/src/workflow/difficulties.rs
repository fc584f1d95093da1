//! Difficulties and problems (困难和问题) of an item: any of its units raises one; the office
//! coordinates (asks units to help, notes what it does) and records the resolution.

use super::today;
use super::{Ctx, pick, unit_name};
use crate::i18n::{self, Lang, tr};
use crate::util::now;
use leptos::prelude::*;
use shared::difficulty::{Coordinate, Difficulty, DifficultyState, Raise, Resolve};
use shared::entity::{Entity, EntityKey};
use shared::ids::{DifficultyId, ItemId, TaskId, UnitId};
use shared::message::counted;
use shared::mutation::Mutation;
use shared::permission::Action;

fn state_name(s: DifficultyState, en: bool) -> &'static str {
    if en { s.en() } else { s.zh() }
}

fn state_class(s: DifficultyState) -> &'static str {
    match s {
        DifficultyState::Open => "diff-state open",
        DifficultyState::Coordinating => "diff-state coordinating",
        DifficultyState::Resolved => "diff-state resolved",
    }
}

/// The item's difficulties (unresolved first, newest first) and, folded above them so that the
/// list is what the page opens on (a leader's phone shows little else), the form to raise one.
#[component]
pub fn Difficulties(item: ItemId) -> impl IntoView {
    let cx = Ctx::get();
    let ids = Memo::new(move |_| {
        cx.sync.view.with(|s| {
            let mut list: Vec<&Difficulty> = s.difficulties().filter(|d| d.item == item).collect();
            shared::sorting::sort_by_key(&mut list, |d| {
                (
                    d.state == DifficultyState::Resolved,
                    std::cmp::Reverse(d.raised_at),
                )
            });
            list.into_iter().map(|d| d.id).collect::<Vec<_>>()
        })
    });
    let may_raise = Memo::new(move |_| cx.may(item, Action::RaiseDifficulty));
    view! {
        <section class="difficulties" aria-label=tr("困难和问题", "Difficulties")>
            <Show when=move || may_raise.get()>
                <RaiseForm item/>
            </Show>
            <Show when=move || ids.with(Vec::is_empty)>
                <p class="hint">{tr("暂无困难和问题", "No difficulties raised")}</p>
            </Show>
            <ul class="difficulty-list" role="list">
                <For each=move || ids.get() key=|id| *id children=move |id| view! { <DifficultyRow id item/> }/>
            </ul>
        </section>
    }
}

#[component]
fn RaiseForm(item: ItemId) -> impl IntoView {
    let cx = Ctx::get();
    let title = RwSignal::new(String::new());
    let detail = RwSignal::new(String::new());
    let task = RwSignal::new(String::new());
    let error = RwSignal::new(String::new());
    let fold = NodeRef::<leptos::html::Details>::new();
    let tasks = Memo::new(move |_| {
        cx.sync.view.with(|s| {
            let mut t: Vec<(TaskId, String)> = s
                .tasks()
                .filter(|t| t.item == item && !t.archived)
                .map(|t| (t.id, t.title.clone()))
                .collect();
            shared::sorting::sort_by(&mut t, |a, b| a.1.cmp(&b.1));
            t
        })
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = cx.lang.get_untracked();
        let t = title.get_untracked();
        if t.trim().is_empty() {
            error.set(pick(l, "请写明问题", "Say what the problem is"));
            return;
        }
        let ok = cx.send(Mutation::RaiseDifficulty(Raise {
            id: DifficultyId::new_v7(),
            item,
            task: task.get_untracked().parse().ok(),
            title: t,
            detail: detail.get_untracked(),
            at: now(),
        }));
        if ok {
            title.set(String::new());
            detail.set(String::new());
            task.set(String::new());
            error.set(String::new());
            // Folded again, the new difficulty shows at the top of the list just below.
            if let Some(fold) = fold.get_untracked() {
                fold.set_open(false);
            }
        }
    };
    view! {
        <details class="raise" node_ref=fold>
        <summary>{tr("反映困难和问题", "Raise a difficulty")}</summary>
        <form class="raise-form card-form" on:submit=on_submit>
            <label>{tr("问题", "Problem")}
                <input name="difficulty_title" maxlength=shared::text::DIFFICULTY_TITLE.max prop:value=move || title.get()
                    on:input=move |ev| title.set(event_target_value(&ev))/>
            </label>
            <label>{tr("具体情况", "Details")}
                <textarea name="difficulty_detail" rows="3" maxlength=shared::text::DIFFICULTY_TEXT.max prop:value=move || detail.get()
                    on:input=move |ev| detail.set(event_target_value(&ev))></textarea>
            </label>
            <label>{tr("相关任务（可选）", "Task (optional)")}
                <select name="difficulty_task" on:change=move |ev| task.set(event_target_value(&ev))
                    prop:value=move || task.get()>
                    <option value="">{tr("不涉及具体任务", "None")}</option>
                    {move || tasks.get().into_iter().map(|(id, t)| view! { <option value=id.to_string()>{t}</option> }).collect_view()}
                </select>
            </label>
            <p class="error" role="alert">{move || error.get()}</p>
            <div class="form-actions">
                <button type="submit" class="primary">{tr("反映问题", "Raise it")}</button>
            </div>
        </form>
        </details>
    }
}

#[component]
fn DifficultyRow(id: DifficultyId, item: ItemId) -> impl IntoView {
    let cx = Ctx::get();
    let diff = Memo::new(move |_| {
        cx.sync
            .view
            .with(|s| match s.get(&EntityKey::difficulty(id)) {
                Some(Entity::Difficulty(d)) => Some(d.clone()),
                _ => None,
            })
    });
    let may_supervise = Memo::new(move |_| {
        cx.may(item, Action::Supervise)
            && diff.with(|d| {
                d.as_ref()
                    .is_some_and(|d| d.state != DifficultyState::Resolved)
            })
    });
    let body = move || {
        let l = cx.lang.get();
        let en = l == Lang::En;
        let d = diff.get()?;
        Some(cx.sync.view.with(|s| {
            let unit = unit_name(s, d.unit);
            // A demo account is often named after its unit: say the name once then.
            let who = if unit == d.raised_by_name || unit.is_empty() {
                d.raised_by_name.clone()
            } else {
                format!("{unit} · {}", d.raised_by_name)
            };
            let task = d.task.and_then(|t| s.task(t)).map(|t| t.title.clone());
            let assigned: Vec<String> = d.assigned.iter().map(|u| unit_name(s, *u)).collect();
            let stale = d.resolved_at.is_none() && d.age_days(today()) > shared::difficulty::STALE_DAYS;
            let age = match d.resolved_at {
                Some(at) => pick(l, format!("于{}解决", i18n::date(shared::op::local_time(at).date(), l)), format!("resolved {}", i18n::date(shared::op::local_time(at).date(), l))),
                None => {
                    let n = d.age_days(today());
                    pick(l, format!("已{n}天"), format!("open {}", counted(n, "day")))
                }
            };
            view! {
                <div class="row-head">
                    <strong class="row-title">{d.title.clone()}</strong>
                    <span class=state_class(d.state)>{state_name(d.state, en)}</span>
                    <span class="age" class:stale=stale>{age}</span>
                </div>
                <p class="muted">{who}" · "{i18n::datetime(d.raised_at.0, l)}</p>
                {task.map(|t| view! { <p class="muted">{pick(l, "相关任务：", "Task: ")}{t}</p> })}
                {(!d.detail.is_empty()).then(|| view! { <p class="pre">{d.detail.clone()}</p> })}
                {(!assigned.is_empty()).then(|| view! {
                    <p class="assigned">{pick(l, "协调单位：", "Units helping: ")}{assigned.join(l.list_separator())}</p>
                })}
                {(!d.log.is_empty()).then(|| view! {
                    <ol class="diff-log">
                        {d.log.iter().map(|e| view! {
                            <li><span class="muted">{e.by_name.clone()}" · "{i18n::datetime(e.at.0, l)}</span><p class="pre">{if e.text.is_empty() { pick(l, "已安排协调", "Coordination arranged") } else { e.text.clone() }}</p></li>
                        }).collect_view()}
                    </ol>
                })}
                {d.resolution.clone().map(|r| view! {
                    <p class="resolution"><strong>{pick(l, "解决情况：", "Resolution: ")}</strong>{r}</p>
                })}
            }
        }))
    };
    view! {
        <li class="difficulty" data-state=move || diff.with(|d| d.as_ref().map(|d| format!("{:?}", d.state).to_ascii_lowercase()))>
            {body}
            <Show when=move || may_supervise.get()>
                <OfficeControls id item diff/>
            </Show>
        </li>
    }
}

/// The office's two actions on an unresolved difficulty.
#[component]
fn OfficeControls(id: DifficultyId, item: ItemId, diff: Memo<Option<Difficulty>>) -> impl IntoView {
    let cx = Ctx::get();
    let picked: RwSignal<Vec<UnitId>> = RwSignal::new(
        diff.with_untracked(|d| d.as_ref().map(|d| d.assigned.clone()).unwrap_or_default()),
    );
    let note = RwSignal::new(String::new());
    let resolution = RwSignal::new(String::new());
    let error = RwSignal::new(String::new());
    // The item's own units first, then every other unit of the plan.
    let units = Memo::new(move |_| {
        cx.sync.view.with(|s| {
            let Some(it) = s.item(item) else {
                return vec![];
            };
            let mut own: Vec<(UnitId, String)> = s
                .units_of(it)
                .into_iter()
                .map(|u| (u, unit_name(s, u)))
                .collect();
            let mut rest: Vec<(UnitId, String)> = s
                .units()
                .filter(|u| u.in_plan && !own.iter().any(|(o, _)| *o == u.id))
                .map(|u| (u.id, u.name.clone()))
                .collect();
            shared::sorting::sort_by(&mut rest, |a, b| a.1.cmp(&b.1));
            own.extend(rest);
            own
        })
    });
    let title = move || diff.with(|d| d.as_ref().map(|d| d.title.clone()).unwrap_or_default());
    let coordinate = move |_| {
        error.set(String::new());
        if cx.send(Mutation::CoordinateDifficulty(Coordinate {
            id,
            units: picked.get_untracked(),
            note: note.get_untracked(),
            at: now(),
        })) {
            note.set(String::new());
        }
    };
    let resolve = move |_| {
        let l = cx.lang.get_untracked();
        let r = resolution.get_untracked();
        if r.trim().is_empty() {
            error.set(pick(l, "请写明解决情况", "Say how it was resolved"));
            return;
        }
        error.set(String::new());
        cx.send(Mutation::ResolveDifficulty(Resolve {
            id,
            resolution: r,
            at: now(),
        }));
    };
    view! {
        <div class="office-controls">
            <details class="pick-units">
                <summary>{tr("选择协调单位", "Choose units to help")}" ("{move || picked.with(Vec::len)}")"</summary>
                <fieldset>
                    <legend class="sr-only">{tr("协调单位", "Units to help")}</legend>
                    {move || units.get().into_iter().map(|(u, name)| view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=move || picked.with(|p| p.contains(&u))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    picked.update(|p| { p.retain(|x| *x != u); if on { p.push(u); } });
                                }/>
                            {name}
                        </label>
                    }).collect_view()}
                </fieldset>
            </details>
            <label>{tr("协调说明", "Coordination note")}
                <textarea name="coordinate_note" rows="2" maxlength=shared::text::DIFFICULTY_TEXT.max
                    aria-label=move || format!("{} {}", pick(cx.lang.get(), "协调说明", "Coordination note"), title())
                    prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))></textarea>
            </label>
            <button type="button" class="secondary" on:click=coordinate
                aria-label=move || format!("{} {}", pick(cx.lang.get(), "协调", "Coordinate"), title())>{tr("协调", "Coordinate")}</button>
            <label>{tr("解决情况", "Resolution")}
                <textarea name="resolution" rows="2" maxlength=shared::text::DIFFICULTY_TEXT.max
                    aria-label=move || format!("{} {}", pick(cx.lang.get(), "解决情况", "Resolution"), title())
                    prop:value=move || resolution.get() on:input=move |ev| resolution.set(event_target_value(&ev))></textarea>
            </label>
            <button type="button" class="primary" on:click=resolve
                aria-label=move || format!("{} {}", pick(cx.lang.get(), "标记解决", "Mark resolved"), title())>{tr("标记解决", "Mark resolved")}</button>
            <p class="error" role="alert">{move || error.get()}</p>
        </div>
    }
}
