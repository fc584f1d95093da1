//! An item's red / amber / green light with its reasons, from `shared::status::status_of_item`,
//! and the rules next to it so nobody has to guess why.

use super::Ctx;
use crate::i18n::tr;
use chrono::NaiveDate;
use leptos::prelude::*;
use shared::ids::ItemId;
use shared::status::{Light, RULES_EN, RULES_ZH, Reason, status_of_item};

/// The CSS class of a light (`red`, `amber`, `green`), shared with the boards' styles.
pub fn light_class(light: Light) -> &'static str {
    match light {
        Light::Red => "red",
        Light::Amber => "amber",
        Light::Green => "green",
    }
}

/// A light's name in the UI language.
pub fn light_name(light: Light, en: bool) -> &'static str {
    match (light, en) {
        (l, false) => l.zh(),
        (Light::Red, true) => "Late",
        (Light::Amber, true) => "Attention",
        (Light::Green, true) => "On track",
    }
}

/// An item's reasons on one line, separated as each language separates clauses.
pub fn reasons_line(reasons: &[Reason], en: bool) -> String {
    let parts: Vec<String> = reasons
        .iter()
        .map(|r| if en { r.en() } else { r.zh() })
        .collect();
    let line = parts.join(if en { "; " } else { "；" });
    if !en {
        return line;
    }
    // The reasons read inside a sentence ("work plan overdue"); the line starts one.
    shared::message::capitalized(&line)
}

/// `item`'s light as of `as_of`, its reasons, and the rules (folded).
#[component]
pub fn ItemLight(item: ItemId, #[prop(into)] as_of: Signal<NaiveDate>) -> impl IntoView {
    let cx = Ctx::get();
    let status = Memo::new(move |_| cx.sync.view.with(|s| status_of_item(s, item, as_of.get())));
    view! {
        <section class="item-status" aria-label=tr("项目状态", "Item status")>
            {move || {
                let st = status.get();
                let en = cx.en();
                let class = format!("light {}", light_class(st.light));
                view! {
                    <p class="status-line">
                        <span class=class data-light=light_class(st.light)>{light_name(st.light, en)}</span>
                        " "<span class="pct">{tr("总体进度", "Progress")}" "{st.progress}"%"</span>
                    </p>
                    {(!st.reasons.is_empty()).then(|| view! {
                        <ul class="status-reasons" aria-label=tr("原因", "Reasons")>
                            {st.reasons.iter().map(|r| {
                                let class = format!("reason {}", light_class(r.light()));
                                let text = if en { r.en() } else { r.zh() };
                                view! { <li class=class>{text}</li> }
                            }).collect_view()}
                        </ul>
                    })}
                }
            }}
            <details class="status-rules">
                <summary>{tr("状态规则", "How the light is set")}</summary>
                <ul>
                    {move || {
                        let rules = if cx.en() { RULES_EN } else { RULES_ZH };
                        rules.iter().map(|r| view! { <li>{*r}</li> }).collect_view()
                    }}
                </ul>
            </details>
        </section>
    }
}
