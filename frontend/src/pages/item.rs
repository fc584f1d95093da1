//! `/items/:number` and its sections: one reform item's hub — 概况 (its text, units, status and
//! the rules), a link to its board, 报送材料, 困难和问题, 领导批示, 评议 and 时间轴. Each section
//! is its own route, so a notification or a test can link straight to it.

use crate::history::History;
use crate::i18n::{self, W, lang, t, tr};
use crate::pages::plan::unit_names;
use crate::sync::use_sync;
use crate::workflow::today;
use crate::workflow::{difficulties, evaluations, instructions, status, submissions, timeline};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::entity::Item;
use shared::submission::SubmissionKind;

/// One section of the item page, drawn for the item being shown. The routes (lib.rs) pass these
/// in, so every section but 概况 is compiled only into the lazily loaded screen that shows it,
/// not into the main wasm.
pub type Section = fn(&Item) -> AnyView;

/// The item page, showing `section` (概况 when none).
#[component]
pub fn ItemPage(#[prop(optional)] section: Option<Section>) -> impl IntoView {
    let section = section.unwrap_or(overview);
    let sync = use_sync();
    let params = use_params_map();
    let number = move || params.with(|p| p.get("number").and_then(|n| n.parse::<u32>().ok()));
    // The item itself changes only with a plan import: the page is rebuilt then, not on every
    // pull, so forms in the sections keep what is being typed.
    let item = Memo::new(move |_| {
        let n = number()?;
        sync.view
            .with(|s| s.items().into_iter().find(|i| i.number == n).cloned())
    });
    move || {
        if !sync.loaded.get() {
            return view! { <p class="loading">{t(W::Loading)}</p> }.into_any();
        }
        let Some(it) = item.get() else {
            return view! { <p class="empty">{t(W::NotFound)}</p> }.into_any();
        };
        let n = it.number;
        let section = section(&it);
        view! {
            <article class="item item-hub">
                <p class="crumbs"><A href="/">{"← "}{t(W::BackToPlan)}</A></p>
                <h1><span class="num">{n}"."</span>{it.title.clone()}</h1>
                <Tabs number=n/>
                <div class="item-section">{section}</div>
            </article>
        }
        .into_any()
    }
}

/// 报送材料: the list.
pub fn submissions_section(it: &Item) -> AnyView {
    view! { <h2>{tr("报送材料", "Work plan and reports")}</h2><submissions::SubmissionList item=it.id number=it.number/> }.into_any()
}

/// One submission (`/items/:number/submissions/:kind`).
pub fn submission_section(it: &Item) -> AnyView {
    let params = use_params_map();
    match params.with(|p| p.get("kind").and_then(|k| SubmissionKind::parse(&k))) {
        Some(k) => {
            view! { <submissions::SubmissionPage item=it.id number=it.number kind=k/> }.into_any()
        }
        None => view! { <p class="empty">{t(W::NotFound)}</p> }.into_any(),
    }
}

/// 困难和问题.
pub fn difficulties_section(it: &Item) -> AnyView {
    view! { <h2>{tr("困难和问题", "Difficulties")}</h2><difficulties::Difficulties item=it.id/> }
        .into_any()
}

/// 领导批示.
pub fn instructions_section(it: &Item) -> AnyView {
    view! { <h2>{tr("领导批示", "Leaders' instructions")}</h2><instructions::Instructions item=it.id/> }.into_any()
}

/// 评议.
pub fn evaluations_section(it: &Item) -> AnyView {
    view! { <h2>{tr("评议", "Evaluations")}</h2><evaluations::Evaluations item=it.id/> }.into_any()
}

/// 时间轴.
pub fn timeline_section(it: &Item) -> AnyView {
    view! { <ItemTimeline item=it.clone()/> }.into_any()
}

/// The sections' navigation; scrolls sideways inside itself on a phone.
#[component]
fn Tabs(number: u32) -> impl IntoView {
    let base = format!("/items/{number}");
    let link = move |path: &str, zh: &'static str, en: &'static str, exact: bool| {
        view! { <A href=format!("{base}{path}") exact=exact>{tr(zh, en)}</A> }
    };
    view! {
        <nav class="item-tabs" aria-label=tr("项目栏目", "Item sections")>
            {link("", "概况", "Overview", true)}
            <A href=format!("/items/{number}/board") attr:class="tab-board">{tr("看板", "Board")}</A>
            {link("/submissions", "报送材料", "Reports", false)}
            {link("/difficulties", "困难和问题", "Difficulties", false)}
            {link("/instructions", "领导批示", "Instructions", false)}
            {link("/evaluations", "评议", "Evaluations", false)}
            {link("/timeline", "时间轴", "Timeline", false)}
        </nav>
    }
}

/// 概况: text, units, status, rules, history.
fn overview(it: &Item) -> AnyView {
    let item = it.clone();
    let sync = use_sync();
    let lang = lang();
    (move || {
        let l = lang.get();
        sync.view.with(|state| {
            let plan = state.plan().cloned();
            let due = shared::calendar::calendar(state).map(|c| i18n::date(c.work_plan, l));
            let requirements = plan.map(|p| p.requirements).unwrap_or_default();
            view! {
                <status::ItemLight item=item.id as_of=Signal::stored(today())/>
                <dl class="units">
                    <dt>{W::Lead.get(l)}</dt><dd class="lead">{unit_names(state, &item.lead_units, l)}</dd>
                    <dt>{W::Cooperating.get(l)}</dt><dd>{unit_names(state, &item.cooperating_units, l)}</dd>
                    {(!item.lead_leaders.is_empty()).then(|| view! {
                        <dt>{W::LeadLeaders.get(l)}</dt><dd>{item.lead_leaders.join(l.list_separator())}</dd>
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
            }
        })
    })
    .into_any()
}

/// 时间轴: the item's deadlines as of a date the viewer may change (查看日期).
#[component]
fn ItemTimeline(item: Item) -> impl IntoView {
    let sync = use_sync();
    let lang = lang();
    let as_of = RwSignal::new(today());
    let id = item.id;
    let rows = Signal::derive(move || {
        let l = lang.get();
        sync.view
            .with(|s| timeline::item_rows(s, id, as_of.get(), l))
    });
    view! {
        <h2>{tr("时间轴", "Timeline")}</h2>
        <label class="as-of">{tr("查看日期", "As of")}
            <input type="date" name="as_of" prop:value=move || as_of.get().to_string()
                on:change=move |ev| if let Ok(d) = event_target_value(&ev).parse() { as_of.set(d) }/>
        </label>
        <status::ItemLight item=id as_of=as_of/>
        <timeline::Timeline rows as_of label=format!("{}. {}", item.number, item.title)/>
    }
}
