//! `/overview`: the leader's start page — every item with its red/amber/green light, % done and
//! overdue count; tap to open its board.

use crate::i18n::{Lang, W, lang, t};
use crate::session::use_session;
use crate::sync::use_sync;
use crate::util::today;
use crate::workflow::status::{light_class, light_name, reasons_line};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::op::end_of_day;
use shared::status::status_of_item;

/// The overview page.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let sync = use_sync();
    let session = use_session();
    let lang = lang();
    // Those who may open 督查 are told there of instructions still unanswered.
    let supervises = move || {
        session
            .role()
            .is_some_and(shared::actor::Role::reads_supervision)
    };
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
        let unanswered = sync.view.with(|s| {
            s.instructions()
                .filter(|i| i.unanswered_at(end_of_day(today)))
                .count()
        });
        let chase = (supervises() && unanswered > 0).then(|| {
            let text = match l {
                Lang::Zh => format!("{unanswered}条领导批示待答复"),
                Lang::En => format!("Instructions awaiting an answer: {unanswered}"),
            };
            view! { <p class="chase"><A href="/supervision#sup-instructions-h">{text}</A></p> }
        });
        view! {
            <article class="overview">
                <h1>{W::Leader.get(l)}</h1>
                {chase}
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
                                    // Why, inside the item's card: below it, it read as the next one's.
                                    {(!reasons.is_empty()).then(|| view! { <span class="reasons">{reasons}</span> })}
                                </A>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </article>
        }
        .into_any()
    }
}
