//! Small browser helpers.

use chrono::NaiveDate;
use shared::entity::Millis;

/// Today in the browser's local time zone.
pub fn today() -> NaiveDate {
    let d = js_sys::Date::new_0();
    NaiveDate::from_ymd_opt(d.get_full_year() as i32, d.get_month() + 1, d.get_date())
        .unwrap_or_default()
}

/// Now, as the client timestamp mutations carry.
pub fn now() -> Millis {
    Millis(js_sys::Date::now() as i64)
}

/// Focuses the element matching `selector` after the next render.
pub fn focus_later(selector: String) {
    leptos::task::spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(0).await;
        let el = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(&selector).ok().flatten());
        if let Some(el) =
            el.and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
        {
            let _ = el.focus();
        }
    });
}
