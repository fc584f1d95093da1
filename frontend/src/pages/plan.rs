//! `/`: the plan — title, issuers, date, and the items with their units.

use crate::i18n::{self, W, lang, t};
use crate::sync::use_sync;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::ids::UnitId;
use shared::state::State;

/// Names of `ids`, joined as a list is in `l` (with 、 as the plan writes them, in Chinese).
pub fn unit_names(state: &State, ids: &[UnitId], l: crate::i18n::Lang) -> String {
    let names: Vec<&str> = ids
        .iter()
        .filter_map(|id| state.unit(*id))
        .map(|u| u.name.as_str())
        .collect();
    if names.is_empty() {
        "—".into()
    } else {
        names.join(l.list_separator())
    }
}

/// The plan page.
#[component]
pub fn PlanPage() -> impl IntoView {
    let sync = use_sync();
    let lang = lang();
    move || {
        if !sync.loaded.get() {
            return view! { <p class="loading">{t(W::Loading)}</p> }.into_any();
        }
        let l = lang.get();
        sync.view.with(|state| page(state, l))
    }
}

fn page(state: &State, l: crate::i18n::Lang) -> AnyView {
    let Some(plan) = state.plan() else {
        return view! { <p class="empty">{W::Loading.get(l)}</p> }.into_any();
    };
    let date = plan
        .issue_date
        .map(|d| i18n::date(d, l))
        .unwrap_or_default();
    let items = state.items().into_iter().map(|item| {
            let href = format!("/items/{}", item.number);
            let (number, title) = (item.number, item.title.clone());
            let board_label = format!("{}{}{number}. {title}", W::Board.get(l), l.colon());
            view! {
                <li class="item-row">
                    <A href=href attr:class="item-link">
                        <span class="num">{number}</span>
                        <span class="title">{title}</span>
                    </A>
                    // Fourteen of them: the name says which item's (its word first, as on screen).
                    <A href=format!("/items/{number}/board") attr:class="board-link"
                        attr:aria-label=board_label>{W::Board.get(l)}</A>
                    <dl class="units">
                        <dt>{W::Lead.get(l)}</dt><dd class="lead">{unit_names(state, &item.lead_units, l)}</dd>
                        <dt>{W::Cooperating.get(l)}</dt><dd>{unit_names(state, &item.cooperating_units, l)}</dd>
                    </dl>
                </li>
            }
        }).collect_view();
    view! {
        <article class="plan">
            <h1>{plan.title.clone()}</h1>
            <p class="meta">
                {plan.issuers.join("　")}
                <span class="date">{date}</span>
            </p>
            <h2>{W::Items.get(l)}</h2>
            <ol class="items" aria-label=W::Items.get(l)>{items}</ol>
        </article>
    }
    .into_any()
}
