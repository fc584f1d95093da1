//! Code in wasm chunks of its own, fetched on first use: `cargo xtask build-site` splits out
//! what only a `#[wasm_split(name, fallible)]` function reaches (the screens of
//! `lazy_screen!`, a task's detail, reading the outbox back), so a first screen waits only for
//! what it shows. The service worker precaches the chunks after the first load.

/// A chunk could not be fetched (no connection before the service worker had precached it).
/// Nothing is lost: the caller says so, and a later call tries again.
#[derive(Debug)]
pub struct NotLoaded;

impl From<wasm_split_helpers::SplitLoaderError> for NotLoaded {
    fn from(_: wasm_split_helpers::SplitLoaderError) -> Self {
        NotLoaded
    }
}

/// Loads the page again: with the service worker's shell when offline, and fetching the
/// current build's chunks afresh.
pub fn reload() {
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

/// In place of a screen whose chunk could not be fetched: what happened, and a way to try again.
#[leptos::component]
pub fn NotLoadedScreen() -> impl leptos::IntoView {
    use crate::i18n::{W, lang};
    use leptos::prelude::*;
    let lang = lang();
    let retry = |_| reload();
    view! {
        <div class="empty" role="alert">
            <p>{move || W::ChunkNotLoaded.get(lang.get())}</p>
            <button type="button" on:click=retry>{move || W::TryAgain.get(lang.get())}</button>
        </div>
    }
}
