//! The plan-level screens of running the plan (issue 6): supervision, notifications, bulletins,
//! the whole-plan timeline, the year-end assessment and inspections. They share one as-of date
//! (查看日期) kept in the URL, so a link shows the plan as it stood on that day.

pub mod assessment;
pub mod bulletins;
pub mod inspections;
pub mod notices;
pub mod supervision;
pub mod timeline;

use crate::i18n::{Lang, lang, tr};
use crate::session::use_session;
use crate::sync::use_sync;
use crate::util::today;
use chrono::{Datelike, NaiveDate};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use shared::actor::Role;
use shared::state::State;

/// The as-of date from `?as_of=YYYY-MM-DD`, today when absent or unreadable.
pub fn use_as_of() -> Memo<NaiveDate> {
    let query = use_query_map();
    Memo::new(move |_| {
        query
            .with(|q| q.get("as_of"))
            .and_then(|v| NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok())
            .unwrap_or_else(today)
    })
}

/// `path` with the as-of date carried along, so moving between these screens keeps the date.
pub fn with_as_of(path: &str, as_of: NaiveDate) -> String {
    if as_of == today() {
        path.to_string()
    } else {
        format!("{path}?as_of={as_of}")
    }
}

/// The plan's year (the seed's is 2014), for the quick picks; this year when unknown.
pub fn plan_year(state: &State) -> i32 {
    state
        .plan()
        .and_then(|p| p.year.or(p.issue_date.map(|d| d.year())))
        .unwrap_or_else(|| today().year())
}

/// The shared 查看日期 control: a date input plus one-tap picks inside the plan's year (a plan
/// from 2014 is otherwise a long way back in a date picker).
#[component]
pub fn AsOfControl() -> impl IntoView {
    let as_of = use_as_of();
    let navigate = use_navigate();
    let location = use_location();
    let sync = use_sync();
    let lang = lang();
    let set = move |d: Option<NaiveDate>| {
        let path = location.pathname.get_untracked();
        let url = match d {
            Some(d) if d != today() => format!("{path}?as_of={d}"),
            _ => path,
        };
        // Replacing the history entry: Back leaves the screen instead of stepping through dates.
        navigate(
            &url,
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    let set2 = set.clone();
    let picks = move || {
        let year = sync.view.with(plan_year);
        let l = lang.get();
        [(3, 31), (6, 30), (7, 10), (9, 30), (12, 31)]
            .into_iter()
            .filter_map(|(m, d)| NaiveDate::from_ymd_opt(year, m, d))
            .map(|d| {
                let set = set2.clone();
                // The year said when it is not this one (a past plan's dates).
                let label = match (l, d.year() == today().year()) {
                    (Lang::Zh, true) => format!("{}月{}日", d.month(), d.day()),
                    (Lang::Zh, false) => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
                    (Lang::En, true) => format!("{} {}", d.day(), crate::i18n::month_abbr(d)),
                    (Lang::En, false) => crate::i18n::date(d, Lang::En),
                };
                let current = move || as_of.get() == d;
                view! {
                    <button type="button" class="chip-button" aria-pressed=move || current().to_string()
                        aria-label=crate::i18n::date(d, l) on:click=move |_| set(Some(d))>{label}</button>
                }
            })
            .collect_view()
    };
    let set3 = set.clone();
    let set4 = set.clone();
    view! {
        <div class="as-of-bar" role="group" aria-label=tr("查看日期", "As-of date")>
            <label>
                <span>{tr("查看日期", "As of")}</span>
                <input type="date" name="as_of" aria-label=tr("查看日期", "As-of date")
                    prop:value=move || as_of.get().to_string()
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        set(NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok());
                    }/>
            </label>
            <span class="as-of-picks">
                {picks}
                <button type="button" class="chip-button" on:click=move |_| set3(None)>{tr("今天", "Today")}</button>
            </span>
            <span class="as-of-text" aria-live="polite">{move || crate::i18n::date(as_of.get(), lang.get())}</span>
        </div>
        // A plan long over, seen as of today, counts its misses in years: say so, and offer it
        // as it ended (its last deadline).
        {move || {
            let today = today();
            let end = sync.view.with(|s| {
                shared::calendar::closed_by(s, today)
                    .then(|| shared::calendar::last_deadline(s))
                    .flatten()
            })?;
            (as_of.get() > end).then(|| {
                let set = set4.clone();
                let l = lang.get();
                let said = match l {
                    Lang::Zh => format!("本计划的最后期限是{}，已经结束；按今天查看，逾期天数从那时一直累计至今。", crate::i18n::date(end, l)),
                    Lang::En => format!("This plan's last deadline was {}: it is over, and seen as of today its misses count the days ever since.", crate::i18n::date(end, l)),
                };
                view! {
                    <p class="note plan-closed" role="note">{said}" "
                        <button type="button" class="link" on:click=move |_| set(Some(end))>
                            {tr("按结束时查看", "See it as it ended")}
                        </button>
                    </p>
                }
            })
        }}
    }
}

/// Tabs between the plan-level screens, carrying the as-of date.
#[component]
pub fn OfficeTabs() -> impl IntoView {
    let as_of = use_as_of();
    let session = use_session();
    let role = move || session.role();
    let tabs = move || {
        let d = as_of.get();
        let supervises = role().is_some_and(Role::reads_supervision);
        let mut tabs: Vec<(&'static str, &'static str, &'static str)> = Vec::new();
        if supervises {
            tabs.push(("/supervision", "督查督办", "Supervision"));
        }
        tabs.extend([
            ("/timeline", "时间轴", "Timeline"),
            ("/bulletins", "通报", "Bulletins"),
            ("/assessment", "勤政考核", "Assessment"),
            ("/inspections", "视察", "Inspections"),
        ]);
        tabs.into_iter()
            .map(|(path, zh, en)| {
                view! { <A href=with_as_of(path, d)>{tr(zh, en)}</A> }
            })
            .collect_view()
    };
    view! { <nav class="office-tabs" aria-label=tr("督查督办栏目", "Supervision screens")>{tabs}</nav> }
}

/// A unit's name, or "—".
pub fn unit_name(state: &State, id: shared::ids::UnitId) -> String {
    state
        .unit(id)
        .map_or_else(|| "—".into(), |u| u.name.clone())
}
