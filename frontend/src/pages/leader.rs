//! `/overview`: the leader's start page — every item with its red/amber/green light, % done and
//! overdue count; tap to open its board.

use crate::i18n::{Lang, W, lang, t};
use crate::sync::use_sync;
use crate::util::today;
use crate::workflow::status::{light_class, light_name, reasons_line};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::status::status_of_item;

/// The overview page.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let sync = use_sync();
    let lang = lang();
    move || {
        if !sync.loaded.get() {
            return view! { <p class="loading">{t(W::Loading)}</p> }.into_any();
        }
        let l = lang.get();
        let today = today();
        let rows = sync.view.with(|s| {
            s.items()
                .into_iter()
                .map(|item| {
                    let status = status_of_item(s, item.id, today);
                    (item.number, item.title.clone(), status)
                })
                .collect::<Vec<_>>()
        });
        view! {
            <article class="overview">
                <h1>{W::Leader.get(l)}</h1>
                <ul class="status-list" role="list">
                    {rows.into_iter().map(|(number, title, status)| {
                        let light = light_class(status.light);
                        let en = l == Lang::En;
                        let reasons = reasons_line(&status.reasons, en);
                        view! {
                            <li>
                                <A href=format!("/items/{number}/board") attr:class="status-row">
                                    // The light in words as well as colour (red and green look alike to many).
                                    <span class=format!("light {light}")>{light_name(status.light, en)}</span>
                                    <span class="num">{number}</span>
                                    <span class="title">{title}</span>
                                    <span class="pct">{status.progress}"%"</span>
                                    <span class="late" class:zero=status.overdue == 0>{W::OverdueCount.get(l)}" "{status.overdue}</span>
                                </A>
                                {(!reasons.is_empty()).then(|| view! { <p class="reasons">{reasons}</p> })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </article>
        }
        .into_any()
    }
}
