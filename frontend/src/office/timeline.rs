//! `/timeline`: the whole plan on one page — months across, items down, every deadline of a task
//! or a submission as a marker (met / missed / upcoming) as of the chosen date. The grid itself is
//! the item timeline's component (`workflow::timeline`), fed one row per item.

use super::{AsOfControl, OfficeTabs, use_as_of};
use crate::i18n::tr;
use crate::sync::use_sync;
use crate::workflow::timeline::{Timeline, plan_rows};
use leptos::prelude::*;

/// The timeline page.
#[component]
pub fn TimelinePage() -> impl IntoView {
    let sync = use_sync();
    let as_of = use_as_of();
    let rows = Signal::derive(move || sync.view.with(|s| plan_rows(s, as_of.get())));
    view! {
        <article class="office timeline-page">
            <h1>{tr("计划时间轴", "Plan timeline")}</h1>
            <OfficeTabs/>
            <AsOfControl/>
            <Show when=move || sync.loaded.get() fallback=|| view! { <p class="loading">{tr("正在加载…", "Loading…")}</p> }>
                <Timeline rows as_of label=Signal::derive(move || tr("全计划时间轴", "Plan timeline")().to_string())/>
            </Show>
        </article>
    }
}
