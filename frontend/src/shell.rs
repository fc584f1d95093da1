//! The frame around every signed-in page: header with navigation, sync state, language switch
//! and the user's account link. Sends visitors who are not signed in to the login page.

use crate::api;
use crate::i18n::{Lang, W, lang, t, tr};
use crate::session::{Session, use_session};
use crate::sync::{Connection, Sync, use_sync};
use leptos::prelude::*;
use leptos_router::components::{A, Redirect};
use shared::actor::Role;

/// What the frame shows; it is rebuilt only when this changes, not whenever the user's details
/// do (a refreshed session, a changed password), so the page inside keeps its state.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Gate {
    Loading,
    SignedOut,
    /// After a reset or at first login the server refuses everything but a password change.
    PasswordFirst,
    Open,
}

/// Wraps a page that needs a signed-in user.
#[component]
pub fn Shell(children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let children = StoredValue::new(children);
    let location = leptos_router::hooks::use_location();
    let gate = Memo::new(move |_| {
        match session.me.with(|me| {
            me.as_ref()
                .map(|me| me.as_ref().map(|m| m.must_change_password))
        }) {
            None => Gate::Loading,
            Some(None) => Gate::SignedOut,
            Some(Some(true)) if location.pathname.get() != "/password" => Gate::PasswordFirst,
            Some(Some(_)) => Gate::Open,
        }
    });
    let username = move || {
        session.me.with(|me| {
            me.as_ref()
                .and_then(|m| m.as_ref().map(|m| m.username.clone()))
        })
    };
    move || match gate.get() {
        Gate::Loading => view! { <p class="loading">{t(W::Loading)}</p> }.into_any(),
        Gate::SignedOut => view! { <Redirect path="/login"/> }.into_any(),
        Gate::PasswordFirst => view! { <Redirect path="/password"/> }.into_any(),
        Gate::Open => view! {
            <div class="app" data-signed-in=username>
                <Header/>
                <SessionEnded/>
                <Notices/>
                <main id="main">{children.with_value(|c| c())}</main>
            </div>
        }
        .into_any(),
    }
}

/// Signs out on this device: the header's 退出 and the account page's.
pub fn sign_out(session: Session, sync: Sync, lang: Lang) {
    // The outbox stays for this user's next sign-in here, but the next person to sign in on
    // this device starts clean: say so while the changes can still be sent.
    let waiting = sync.waiting_untracked();
    if waiting > 0 && !crate::workflow::confirm(&unsent_warning(waiting, lang)) {
        return;
    }
    leptos::task::spawn_local(async move {
        match api::post::<_, ()>("/api/auth/logout", &serde_json::json!({})).await {
            // Unauthorized: the session had ended already.
            Ok(()) | Err(api::ApiError::Unauthorized) => {
                sync.forget_copy().await;
                session.signed_out();
            }
            // The session lives on at the server (its cookie is beyond the page's reach): the
            // next person to open the site here would be let in as this user. Say so, and stay.
            Err(_) => sync.notices.update(|n| {
                n.push(shared::message::Msg::new(
                    "无法连接服务器，尚未退出：请联网后再点“退出”。",
                    "Can't reach the server, so you are still signed in: sign out again once online.",
                ))
            }),
        }
    });
}

/// What signing out with changes still unsent asks first.
fn unsent_warning(n: usize, l: Lang) -> String {
    match (l, n) {
        (Lang::Zh, n) => format!(
            "{n}项更改还没有同步到服务器。退出后若换其他人在本机登录，这些更改将丢失。仍要退出吗？"
        ),
        (Lang::En, 1) => "1 change has not reached the server yet. If someone else signs in on this device after you, it will be lost. Sign out anyway?".into(),
        (Lang::En, n) => format!(
            "{n} changes have not reached the server yet. If someone else signs in on this device after you, they will be lost. Sign out anyway?"
        ),
    }
}

/// "3 项待同步" / "3 to sync": the sync badge's count.
fn waiting_words(n: usize, l: Lang) -> String {
    match l {
        Lang::Zh => format!("{n} 项待同步"),
        // Short: beside the app's name on a phone's header.
        Lang::En => format!("{n} to sync"),
    }
}

/// The language switch, named in the language it switches to: in the header, on the account
/// page, and on the login page (where nobody is signed in yet, so it is remembered on this
/// device only, as every choice is).
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let session = use_session();
    let lang = lang();
    let switch = move |_| {
        let next = if lang.get_untracked() == Lang::Zh {
            Lang::En
        } else {
            Lang::Zh
        };
        next.save();
        session.choose_language(next.into());
        lang.set(next);
    };
    view! {
        // Named by its words on screen and then what it does ("English 切换语言"), so that
        // voice control finds it by what it shows.
        <button type="button" class="link lang-switch" on:click=switch
            aria-label=move || { let l = lang.get(); format!("{} {}", W::Language.get(l), W::SwitchLanguage.get(l)) }>{t(W::Language)}</button>
    }
}

/// A person, drawn (as the bell is): the account link on a phone is this icon alone.
#[component]
pub fn PersonIcon() -> impl IntoView {
    view! {
        <svg class="person-icon" aria-hidden="true" viewBox="0 0 24 24" width="22" height="22">
            <circle cx="12" cy="8" r="4" fill="none" stroke="currentColor" stroke-width="2"/>
            <path d="M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>
        </svg>
    }
}

#[component]
fn Header() -> impl IntoView {
    let session = use_session();
    let lang = lang();
    let name = move || {
        session
            .me
            .get()
            .flatten()
            .map(|m| m.display_name)
            .unwrap_or_default()
    };
    let sync = use_sync();
    let logout = move |_| sign_out(session, sync, lang.get_untracked());
    let is_office = move || session.is_office();
    let has_tasks = move || session.role().is_some_and(Role::owns_tasks);
    let supervises = move || session.role().is_some_and(Role::reads_supervision);
    let inspects = move || session.role() == Some(Role::Supervisor);
    // Who is signed in, for the account link: its only words on a phone, where it is an icon.
    let who = move || {
        let l = lang.get();
        format!("{}{}{}", W::SignedInAs.get(l), l.colon(), name())
    };
    let who_title = move || format!("{} · {}", who(), W::MyAccount.get(lang.get()));
    view! {
        // The office's seven entries take two rows of the phone's bottom bar (style.css): said
        // with a class, not `:has()`, whose checks ran on every change to the page.
        <header class="top" class:two-row-nav=is_office>
            <A href="/" attr:class="brand">{t(W::AppName)}</A>
            <nav aria-label=t(W::MainNav)>
                <A href="/overview">{t(W::Leader)}</A>
                <A href="/">{t(W::Plan)}</A>
                {move || has_tasks().then(|| view! { <A href="/my">{t(W::MyTasks)}</A> })}
                <A href="/units">{t(W::Units)}</A>
                {move || supervises().then(|| view! { <A href="/supervision">{tr("督查", "Supervision")}</A> })}
                <A href="/bulletins">{tr("通报", "Bulletins")}</A>
                {move || inspects().then(|| view! { <A href="/inspections">{tr("视察", "Inspections")}</A> })}
                {move || is_office().then(|| view! {
                    <A href="/admin/users">{t(W::Accounts)}</A>
                    <A href="/admin/audit">{t(W::AuditLog)}</A>
                })}
            </nav>
            <crate::office::notices::NoticeBell/>
            <SyncBadge/>
            <LanguageSwitch/>
            <A href="/password" attr:class="who" attr:aria-label=who attr:title=who_title>
                <PersonIcon/>
                <span class="who-name">{name}</span>
            </A>
            <button type="button" class="link sign-out" on:click=logout>{t(W::Logout)}</button>
        </header>
    }
}

/// 在线 / 离线 / N 项待同步: always visible.
#[component]
fn SyncBadge() -> impl IntoView {
    let sync = use_sync();
    let lang = lang();
    let text = move || {
        let l = lang.get();
        let waiting = sync.waiting();
        let state = match sync.connection.get() {
            Connection::Online => W::Online.get(l),
            Connection::Offline => W::Offline.get(l),
        };
        if waiting > 0 {
            format!("{state} · {}", waiting_words(waiting, l))
        } else {
            state.to_string()
        }
    };
    let class = move || match sync.connection.get() {
        Connection::Online => "sync online",
        Connection::Offline => "sync offline",
    };
    view! { <span class=class role="status" aria-live="polite" data-testid="sync-state">{text}</span> }
}

/// The server ended the session (`Sync::session_ended`): said until the user signs in again,
/// from the page they are on, so that what they are typing can still be copied first.
#[component]
fn SessionEnded() -> impl IntoView {
    let sync = use_sync();
    let session = use_session();
    view! {
        <Show when=move || sync.session_ended.get()>
            <p class="stopped" role="alert">
                {t(W::SessionEnded)}
                <button type="button" class="primary" on:click=move |_| session.ended()>{t(W::SignInAgain)}</button>
            </p>
        </Show>
    }
}

/// Rejected changes and other messages, dismissible.
#[component]
fn Notices() -> impl IntoView {
    let sync = use_sync();
    let lang = lang();
    view! {
        <Show when=move || sync.notices.with(|n| !n.is_empty())>
            <div class="notices" role="alert">
                <ul>
                    {move || {
                        let l = lang.get();
                        sync.notices.get().into_iter().map(|n| view! { <li>{l.of(&n).to_string()}</li> }).collect_view()
                    }}
                </ul>
                <button class="link" on:click=move |_| sync.notices.set(vec![]) aria-label=t(W::Dismiss)>"×"</button>
            </div>
        </Show>
    }
}
