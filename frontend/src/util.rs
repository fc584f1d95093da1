//! Small browser helpers.

use chrono::NaiveDate;
use shared::entity::Millis;

/// Today in the plan's time zone (Beijing), the day `shared` judges deadlines and "as of" by:
/// a browser elsewhere (or one set to UTC, after 16:00) would otherwise count a change made this
/// Beijing morning as tomorrow's and call it missing today.
pub fn today() -> NaiveDate {
    shared::op::local_date(now())
}

/// Now, as the client timestamp mutations carry.
pub fn now() -> Millis {
    Millis(js_sys::Date::now() as i64)
}

/// Resolves once the browser has painted what the current task changed: a timeout queued from
/// the next frame callback. Hidden tabs get no frames, so it waits at most 100 ms for one.
pub async fn after_paint() {
    let (painted, frame) = futures::channel::oneshot::channel::<()>();
    leptos::prelude::request_animation_frame(move || {
        leptos::prelude::set_timeout(
            move || {
                let _ = painted.send(());
            },
            std::time::Duration::ZERO,
        );
    });
    let hidden = gloo_timers::future::TimeoutFuture::new(100);
    futures::future::select(frame, hidden).await;
}

/// Resolves in a later task (a zero timeout): the browser may handle a tap and paint before
/// what follows runs.
pub async fn next_task() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

/// The event that tells boot.js the app's start is over.
const STARTED_EVENT: &str = "reformboard-started";

/// Tells boot.js, once, that the app's start is over: its first pull is in, on screen and
/// saved. boot.js then registers the service worker (why it waits: see there).
pub fn announce_started() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static ANNOUNCED: AtomicBool = AtomicBool::new(false);
    if ANNOUNCED.swap(true, Ordering::Relaxed) {
        return;
    }
    if let (Some(window), Ok(event)) = (web_sys::window(), web_sys::Event::new(STARTED_EVENT)) {
        let _ = window.dispatch_event(&event);
    }
}

/// Names a step of the app's start on the page's timeline (`performance.mark`), beside boot.js's
/// marks: `loadgen board-profile` prints them, DevTools shows them.
pub fn mark(step: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(step);
    }
}

/// The element that has the focus now: what a dialog opened from gives it back to on close.
pub fn focused() -> Option<web_sys::HtmlElement> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
}

/// Gives the focus back to `el` (what `focused` found) after the next render, if it is still
/// on the page.
pub fn refocus(el: Option<web_sys::HtmlElement>) {
    let Some(el) = el else { return };
    leptos::task::spawn_local(async move {
        next_task().await;
        if el.is_connected() {
            let _ = el.focus();
        }
    });
}

/// Focuses the element matching `selector` after the next render.
pub fn focus_later(selector: String) {
    leptos::task::spawn_local(async move {
        next_task().await;
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
