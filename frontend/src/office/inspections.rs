//! `/inspections`: inspection visits (视察) by the People's Congress and the CPPCC — they record
//! one (date, items, findings); everyone sees the list.

use super::{OfficeTabs, unit_name};
use crate::i18n::{self, Lang, lang, tr};
use crate::session::use_session;
use crate::sync::use_sync;
use crate::util::{now, today};
use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::actor::Role;
use shared::evaluation::RecordInspection;
use shared::ids::{InspectionId, ItemId};
use shared::mutation::Mutation;

/// The inspections page.
#[component]
pub fn InspectionsPage() -> impl IntoView {
    let sync = use_sync();
    let session = use_session();
    let lang = lang();
    let supervisor = move || {
        session
            .me
            .get()
            .flatten()
            .is_some_and(|m| m.role == Role::Supervisor)
    };
    let list = move || {
        if !sync.loaded.get() {
            return view! { <p class="loading">{tr("正在加载…", "Loading…")}</p> }.into_any();
        }
        let l = lang.get();
        sync.view.with(|s| {
            let mut all: Vec<_> = s.inspections().cloned().collect();
            shared::sorting::sort_by(&mut all, |a, b| b.date.cmp(&a.date).then(b.at.cmp(&a.at)));
            if all.is_empty() {
                return view! { <p class="empty">{tr("暂无视察记录", "No inspections yet")}</p> }.into_any();
            }
            let rows = all.into_iter()
                .map(|x| {
                    let mut inspected: Vec<_> = x.items.iter().filter_map(|i| s.item(*i)).collect();
                    shared::sorting::sort_by_key(&mut inspected, |i| i.number);
                    let items = inspected
                        .into_iter()
                        .map(|i| {
                            let n = i.number;
                            // The number and the name: a bare "4" meant nothing to a reader.
                            let label = match l {
                                Lang::Zh => format!("第{n}项 {}", i.title.trim_end_matches('。')),
                                Lang::En => format!("Item {n}: {}", i.title.trim_end_matches('。')),
                            };
                            view! { <A href=format!("/items/{n}") attr:class="chip">{label}</A> }
                        })
                        .collect_view();
                    view! {
                        <li class="inspection-row">
                            <div class="meta">
                                <strong>{i18n::date(x.date, l)}</strong>
                                " · "{unit_name(s, x.unit)}
                                // A demo account is named after its unit: the name once then.
                                {(x.by_name != unit_name(s, x.unit)).then(|| format!(" · {}", x.by_name))}
                            </div>
                            <div class="insp-items"><span>{tr("视察项目：", "Items: ")}</span>{items}</div>
                            <p class="findings">{x.findings.clone()}</p>
                        </li>
                    }
                })
                .collect_view();
            view! { <ul class="inspection-list">{rows}</ul> }.into_any()
        })
    };
    view! {
        <article class="office inspections-page">
            <h1>{tr("视察记录", "Inspections")}</h1>
            <OfficeTabs/>
            <Show when=move || supervisor() && sync.loaded.get()>
                <RecordForm/>
            </Show>
            {list}
        </article>
    }
}

#[component]
fn RecordForm() -> impl IntoView {
    let sync = use_sync();
    let lang = lang();
    let date = RwSignal::new(today().to_string());
    let chosen = RwSignal::new(Vec::<ItemId>::new());
    let findings = RwSignal::new(String::new());
    let msg = RwSignal::new(String::new());
    let error = RwSignal::new(String::new());
    let items: Vec<(ItemId, u32, String)> = sync.view.with_untracked(|s| {
        s.items()
            .into_iter()
            .map(|i| (i.id, i.number, i.title.clone()))
            .collect()
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        msg.set(String::new());
        error.set(String::new());
        let Ok(d) = NaiveDate::parse_from_str(&date.get_untracked(), "%Y-%m-%d") else {
            error.set(tr("请填写视察日期", "Fill in the date of the inspection")().into());
            return;
        };
        let m = Mutation::RecordInspection(RecordInspection {
            id: InspectionId::new_v7(),
            date: d,
            items: chosen.get_untracked(),
            findings: findings.get_untracked(),
            at: now(),
        });
        match sync.mutate(m) {
            Ok(()) => {
                chosen.set(vec![]);
                findings.set(String::new());
                msg.set(tr("视察记录已保存", "Inspection recorded")().into());
            }
            // Beside the button pressed; what was written stays to be corrected.
            Err(why) => error.set(lang.get_untracked().of(&why.message()).to_string()),
        }
    };
    view! {
        <form class="inspection-form" on:submit=submit aria-labelledby="insp-h">
            <h2 id="insp-h">{tr("记录视察", "Record an inspection")}</h2>
            <label>
                <span>{tr("视察日期", "Date")}</span>
                <input type="date" name="date" aria-label=tr("视察日期", "Date") prop:value=move || date.get()
                    on:change=move |ev| date.set(event_target_value(&ev))/>
            </label>
            <fieldset>
                <legend>{tr("视察的改革项目", "Items inspected")}</legend>
                <div class="insp-checks">
                    {items.into_iter().map(|(id, n, title)| view! {
                        <label class="check">
                            <input type="checkbox" name="items" value=n.to_string()
                                prop:checked=move || chosen.with(|c| c.contains(&id))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|c| {
                                        c.retain(|x| *x != id);
                                        if on { c.push(id); }
                                    });
                                }/>
                            <span>{move || if lang.get() == Lang::En { format!("Item {n} {title}") } else { format!("第{n}项 {title}") }}</span>
                        </label>
                    }).collect_view()}
                </div>
            </fieldset>
            <label>
                <span>{tr("视察情况", "Findings")}</span>
                <textarea name="findings" rows="5" maxlength=shared::text::INSPECTION_FINDINGS.max aria-label=tr("视察情况", "Findings") prop:value=move || findings.get()
                    on:input=move |ev| findings.set(event_target_value(&ev))></textarea>
            </label>
            <div class="form-actions">
                <button type="submit" class="primary">{tr("记录视察", "Record inspection")}</button>
            </div>
            <p class="error" role="alert">{move || error.get()}</p>
            <p class="ok" role="status">{move || msg.get()}</p>
        </form>
    }
}
