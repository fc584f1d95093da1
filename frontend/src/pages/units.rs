//! `/units`: every unit the plan names, with the items it leads and cooperates on.

use crate::i18n::{W, lang, t};
use crate::sync::use_sync;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::unit::UnitKind;

/// The units page.
#[component]
pub fn UnitsPage() -> impl IntoView {
    let sync = use_sync();
    let lang = lang();
    move || {
        if !sync.loaded.get() {
            return view! { <p class="loading">{t(W::Loading)}</p> }.into_any();
        }
        let l = lang.get();
        let state = sync.view.read();
        let items = state.items();
        let mut units: Vec<_> = state.units().filter(|u| u.in_plan).collect();
        units.sort_by(|a, b| a.name.cmp(&b.name));
        let links = |numbers: Vec<u32>| {
            if numbers.is_empty() {
                return view! { <span>{W::None.get(l)}</span> }.into_any();
            }
            numbers
                .into_iter()
                .map(|n| view! { <A href=format!("/items/{n}") attr:class="chip">{n}</A> })
                .collect_view()
                .into_any()
        };
        let rows = units.into_iter().map(|u| {
            let leads: Vec<u32> = items.iter().filter(|i| i.lead_units.contains(&u.id)).map(|i| i.number).collect();
            let coops: Vec<u32> = items.iter().filter(|i| i.cooperating_units.contains(&u.id)).map(|i| i.number).collect();
            view! {
                <li class="unit-row">
                    <h3>
                        {u.name.clone()}
                        {(u.kind == UnitKind::Group).then(|| view! { <small class="tag">{W::Group.get(l)}</small> })}
                    </h3>
                    {(!u.aliases.is_empty()).then(|| view! { <p class="aliases">{u.aliases.join("、")}</p> })}
                    <p>{W::Leads.get(l)}"："{links(leads)}</p>
                    <p>{W::Cooperates.get(l)}"："{links(coops)}</p>
                    <A href=format!("/units/{}/board", u.id) attr:class="board-link"
                        attr:aria-label=format!("{} {}", u.name, W::UnitBoard.get(l))>{W::OpenUnitBoard.get(l)}</A>
                </li>
            }
        }).collect_view();
        view! {
            <article class="units-page">
                <h1>{W::UnitsInPlan.get(l)}</h1>
                <ul class="units-list">{rows}</ul>
            </article>
        }
        .into_any()
    }
}
