//! `/items/:number`: one reform item — its text, units and the rules that apply.

use crate::history::History;
use crate::i18n::{self, W, lang, t};
use crate::pages::plan::unit_names;
use crate::sync::use_sync;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// The item page.
#[component]
pub fn ItemPage() -> impl IntoView {
    let sync = use_sync();
    let lang = lang();
    let params = use_params_map();
    let number = move || params.with(|p| p.get("number").and_then(|n| n.parse::<u32>().ok()));
    move || {
        if !sync.loaded.get() {
            return view! { <p class="loading">{t(W::Loading)}</p> }.into_any();
        }
        let l = lang.get();
        let state = sync.view.read();
        let Some(item) =
            number().and_then(|n| state.items().into_iter().find(|i| i.number == n).cloned())
        else {
            return view! { <p class="empty">{W::NotFound.get(l)}</p> }.into_any();
        };
        let plan = state.plan().cloned();
        let due = plan
            .as_ref()
            .and_then(|p| p.deadlines.work_plan)
            .map(|d| i18n::date(d, l));
        let requirements = plan.map(|p| p.requirements).unwrap_or_default();
        view! {
            <article class="item">
                <p class="crumbs"><A href="/">{"← "}{W::BackToPlan.get(l)}</A>
                    <A href=format!("/items/{}/board", item.number) attr:class="board-link">{W::Board.get(l)}</A></p>
                <h1><span class="num">{item.number}"."</span>{item.title.clone()}</h1>
                <dl class="units">
                    <dt>{W::Lead.get(l)}</dt><dd class="lead">{unit_names(&state, &item.lead_units)}</dd>
                    <dt>{W::Cooperating.get(l)}</dt><dd>{unit_names(&state, &item.cooperating_units)}</dd>
                    {(!item.lead_leaders.is_empty()).then(|| view! {
                        <dt>{W::LeadLeaders.get(l)}</dt><dd>{item.lead_leaders.join("、")}</dd>
                    })}
                    {due.map(|d| view! { <dt>{W::WorkPlanDue.get(l)}</dt><dd>{d}</dd> })}
                </dl>
                <h2>{W::ItemBody.get(l)}</h2>
                <p class="body">{item.body.clone()}</p>
                <h2>{W::Requirements.get(l)}</h2>
                <ul class="requirements">
                    {requirements.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                </ul>
                <History key=format!("item/{}", item.id) changed=Signal::stored(0)/>
            </article>
        }
        .into_any()
    }
}
