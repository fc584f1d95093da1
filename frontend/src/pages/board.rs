//! Board pages: `/items/:number/board`, `/units/:id/board`, `/my` (我的任务).

use crate::board::model::Scope;
use crate::board::{Board, column_name};
use crate::i18n::{Lang, W, lang, t, tr};
use crate::pages::plan::unit_names;
use crate::session::use_session;
use crate::sync::use_sync;
use crate::util::today;
use crate::workflow::status::{light_class, light_name, reasons_line};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::actor::Role;
use shared::board::Column;
use shared::ids::UnitId;
use shared::status::status_of_item;

/// One reform item's board, with the item's header.
#[component]
pub fn ItemBoardPage() -> impl IntoView {
    let sync = use_sync();
    let lang = lang();
    let params = use_params_map();
    let item = Memo::new(move |_| {
        let n: Option<u32> = params.with(|p| p.get("number").and_then(|n| n.parse().ok()));
        sync.view
            .with(|s| n.and_then(|n| s.items().into_iter().find(|i| i.number == n).map(|i| i.id)))
    });
    let header = move || {
        let l = lang.get();
        let id = item.get()?;
        sync.view.with(|s| {
            let item = s.item(id)?;
            let tasks: Vec<_> = s.tasks().filter(|t| t.item == id && !t.archived).collect();
            // The same light as the overview and supervision (submissions and difficulties count
            // too), so a leader who taps a red row does not land on a green board.
            let status = status_of_item(s, id, today());
            let reasons = reasons_line(&status.reasons, l == Lang::En);
            let counts = Column::ALL.map(|c| tasks.iter().filter(|t| t.column == c).count());
            Some(view! {
                <header class="board-head">
                    <h1><span class="num">{item.number}"."</span>{item.title.clone()}</h1>
                    <dl class="units">
                        <dt>{W::Lead.get(l)}</dt><dd class="lead">{unit_names(s, &item.lead_units, l)}</dd>
                        <dt>{W::Cooperating.get(l)}</dt><dd>{unit_names(s, &item.cooperating_units, l)}</dd>
                    </dl>
                    <p class="summary">
                        {Column::ALL.iter().zip(counts).map(|(c, n)| view! { <span>{column_name(*c, l)}" "<b>{n}</b></span> }).collect_view()}
                        <span>{W::OverallProgress.get(l)}" "<b>{status.progress}"%"</b></span>
                        <span class=format!("light {}", light_class(status.light))>{light_name(status.light, l == Lang::En)}</span>
                        <A href=format!("/items/{}", item.number)>{W::ItemBody.get(l)}</A>
                        // A leader reads the board on a phone and writes an instruction from it.
                        <A href=format!("/items/{}/instructions", item.number)>{W::Instructions.get(l)}</A>
                    </p>
                    // Why it is not green, in words: a phone has no hover for a tooltip.
                    {(!reasons.is_empty()).then(|| view! { <p class="board-reasons">{reasons}</p> })}
                </header>
            })
        })
    };
    view! {
        {header}
        {move || match item.get() {
            Some(id) => view! { <Board scope=Scope::Item(id)/> }.into_any(),
            None if sync.loaded.get() => view! { <p class="empty">{t(W::NotFound)}</p> }.into_any(),
            None => view! { <p class="loading">{t(W::Loading)}</p> }.into_any(),
        }}
    }
}

/// A unit's board: `/units/:id/board`.
#[component]
pub fn UnitBoardPage() -> impl IntoView {
    let params = use_params_map();
    let unit =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<UnitId>().ok())));
    let sync = use_sync();
    let known = move |u: UnitId| sync.view.with(|s| s.unit(u).is_some());
    // A mistyped or stale address says so, as an item's does, instead of a blank page.
    view! {
        {move || match unit.get() {
            Some(u) if known(u) => view! { <UnitBoard unit=u/> }.into_any(),
            Some(_) if !sync.loaded.get() => view! { <p class="loading">{t(W::Loading)}</p> }.into_any(),
            _ => view! { <p class="empty">{t(W::NotFound)}</p> }.into_any(),
        }}
    }
}

/// 我的任务: the signed-in user's unit board. Someone who owns no tasks (a bookmark, a typed
/// address) is told where their work is instead of being shown an empty board.
#[component]
pub fn MyBoardPage() -> impl IntoView {
    let session = use_session();
    move || {
        session.actor().map(|a| {
            if a.role.owns_tasks() {
                view! { <UnitBoard unit=a.unit mine=true/> }.into_any()
            } else {
                view! { <NoTasksOfYourOwn role=a.role/> }.into_any()
            }
        })
    }
}

/// What 我的任务 says to the office, a leader or a supervisor: tasks belong to units, and
/// where this role's own work is.
#[component]
fn NoTasksOfYourOwn(role: Role) -> impl IntoView {
    let elsewhere = match role {
        Role::Office => view! {
            <li><A href="/supervision">{tr("督查：逾期、待审核和待办事项", "Supervision: what is late and what waits for you")}</A></li>
            <li><A href="/">{tr("改革计划：各项目的看板", "Reform plan: every item's board")}</A></li>
        }
        .into_any(),
        Role::Leader => view! {
            <li><A href="/overview">{tr("总览：各项目红黄绿状态", "Overview: every item's red, amber or green")}</A></li>
            <li><A href="/supervision">{tr("督查：逾期事项和待答复的批示", "Supervision: what is late, and instructions not yet answered")}</A></li>
        }
        .into_any(),
        Role::Supervisor => view! {
            <li><A href="/overview">{tr("总览：各项目红黄绿状态", "Overview: every item's red, amber or green")}</A></li>
            <li><A href="/inspections">{tr("视察：视察记录", "Inspections: the record of your visits")}</A></li>
        }
        .into_any(),
        // A unit has its board instead.
        Role::Unit => ().into_any(),
    };
    view! {
        <article class="no-own-tasks">
            <h1>{t(W::MyTasks)}</h1>
            <p>{tr(
                "任务由牵头单位和配合单位承担，您的账号没有自己的任务。各单位的看板在“单位”页，各项目的看板在改革计划中。",
                "Tasks are owned by the lead and cooperating units; your account has none of its own. Each unit's board is on the Units page, each item's on the reform plan.",
            )}</p>
            <ul>{elsewhere}</ul>
        </article>
    }
}

/// A unit's board; `mine`: reached as 我的任务, and titled so.
#[component]
fn UnitBoard(unit: UnitId, #[prop(optional)] mine: bool) -> impl IntoView {
    let sync = use_sync();
    let name = move || {
        sync.view
            .with(|s| s.unit(unit).map(|u| u.name.clone()).unwrap_or_default())
    };
    let what = if mine { W::MyTasks } else { W::UnitBoard };
    view! {
        <header class="board-head">
            <h1>{t(what)}" · "{name}</h1>
        </header>
        {move || if sync.loaded.get() {
            view! { <Board scope=Scope::Unit(unit)/> }.into_any()
        } else {
            view! { <p class="loading">{t(W::Loading)}</p> }.into_any()
        }}
    }
}
