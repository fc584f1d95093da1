//! An entity's history (留痕), from the audit trail: who changed what, when.

use crate::api;
use crate::i18n::{self, W, lang};
use leptos::prelude::*;
use serde::Deserialize;

/// One row of an entity's history.
#[derive(Clone, Debug, Deserialize)]
struct HistoryRow {
    at: i64,
    #[serde(default)]
    user_name: Option<String>,
    #[serde(default)]
    unit_name: Option<String>,
    action: String,
}

/// The history of the entity stored under `key` (e.g. `task/…`), re-read whenever `changed`
/// changes.
#[component]
pub fn History(key: String, #[prop(into)] changed: Signal<i64>) -> impl IntoView {
    let lang = lang();
    let key = StoredValue::new(key);
    let rows = LocalResource::new(move || {
        changed.track();
        let key = js_sys::encode_uri_component(&key.get_value());
        // Read from the server, not the saved copy: offline, it says it can't be read.
        async move { api::get::<Vec<HistoryRow>>(&format!("/api/history/{key}")).await }
    });
    view! {
        <section class="history" aria-label=move || W::History.get(lang.get())>
            <h3>{move || W::History.get(lang.get())}</h3>
            <Suspense fallback=|| ()>
                {move || rows.get().map(|rows| {
                    let l = lang.get();
                    match rows {
                        Err(e) if e.is_transient() => view! { <p class="muted">{W::HistoryUnavailable.get(l)}</p> }.into_any(),
                        Err(e) => view! { <p class="error">{l.of(&e.message()).to_string()}</p> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! { <p class="muted">{W::NoHistory.get(l)}</p> }.into_any(),
                        Ok(rows) => view! {
                            <ol>
                                {rows.into_iter().map(|r| {
                                    let who = r.user_name.or(r.unit_name).unwrap_or_default();
                                    view! { <li><time>{i18n::datetime(r.at, l)}</time>" "{who}" "{i18n::action_name(&r.action, l)}</li> }
                                }).collect_view()}
                            </ol>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
