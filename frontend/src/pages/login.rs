//! The login page, with the language switch (someone who reads no Chinese needs it before
//! signing in); in demo mode it lists every demo account for one-click sign-in.

use crate::api;
use crate::i18n::{W, lang, t};
use crate::pages::accounts::role_name;
use crate::session::use_session;
use crate::shell::LanguageSwitch;
use crate::sync::use_sync;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use shared::account::{DemoAccount, LoginRequest, Me};
use shared::actor::Role;
use shared::message::Msg;

/// `/login`
#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let sync = use_sync();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let lang = lang();
    // The language this page opened in: a different one at sign-in was chosen here.
    let opened_in = lang.get_untracked();
    let error = RwSignal::new(None::<Msg>);
    let busy = RwSignal::new(false);
    // Sent here because the server ended the session (`Session::ended`): say so.
    let ended = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|q| q.contains(crate::session::ENDED_QUERY));
    // Changes someone made on this browser that never reached the server are deleted when
    // another person signs in here (`Sync::restore`): say whose, before anyone does.
    let unsent = LocalResource::new(|| async {
        let db = crate::local_db::LocalDb::open().await?;
        let (user, waiting) = db.unsent().await.ok()?;
        (waiting > 0).then(|| {
            let name = user.as_deref().and_then(crate::session::last_user_named);
            waiting_here(name, waiting)
        })
    });
    let demo = LocalResource::new(|| async {
        api::get::<Vec<DemoAccount>>("/api/auth/demo-accounts")
            .await
            .unwrap_or_default()
    });

    let login = move |user: String, pass: String| {
        let navigate = navigate.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let req = LoginRequest {
                username: user,
                password: pass,
            };
            match api::post::<_, Me>("/api/auth/login", &req).await {
                Ok(me) => {
                    error.set(None);
                    // Leaders and supervisors start on the red/amber/green overview; units and
                    // the office on the plan.
                    let start = match me.role {
                        Role::Leader | Role::Supervisor => "/overview",
                        Role::Office | Role::Unit => "/",
                    };
                    // A language chosen here is the user's latest choice: it follows them as
                    // the header's switch would have, rather than the account's earlier one
                    // (which signing in brings) taking its place on screen.
                    let chosen = lang.get_untracked();
                    session.signed_in(me, sync);
                    if chosen != opened_in {
                        session.choose_language(chosen.into());
                    }
                    navigate(start, Default::default());
                }
                Err(e) => error.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    let submit = {
        let login = login.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            login(username.get_untracked(), password.get_untracked());
        }
    };
    view! {
        <main class="login">
            <header class="login-head">
                <h1>{t(W::AppName)}</h1>
                <LanguageSwitch/>
            </header>
            {ended.then(|| view! { <p class="notice" role="status">{t(W::SessionEnded)}</p> })}
            <Suspense fallback=|| ()>
                {move || unsent.get().flatten().map(|m| view! {
                    <p class="notice" role="alert" data-testid="unsent">{move || lang.get().of(&m).to_string()}</p>
                })}
            </Suspense>
            <form on:submit=submit aria-label=t(W::Login)>
                <label>{t(W::Username)}
                    <input name="username" autocomplete="username" required
                        prop:value=username on:input=move |ev| username.set(event_target_value(&ev))/>
                </label>
                <label>{t(W::Password)}
                    <input name="password" type="password" autocomplete="current-password" required
                        prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                <Show when=move || error.get().is_some()>
                    <p class="error" role="alert">{move || error.get().map(|m| lang.get().of(&m).to_string())}</p>
                </Show>
                <button type="submit" class="primary" disabled=busy>{t(W::Login)}</button>
            </form>
            <Suspense fallback=|| ()>
                {move || {
                    let login = login.clone();
                    demo.get().filter(|d| !d.is_empty()).map(move |accounts| view! {
                        <section class="demo" aria-label=t(W::DemoAccounts)>
                            <h2>{t(W::DemoAccounts)}</h2>
                            <ul>
                                {accounts.into_iter().map(|a| {
                                    let login = login.clone();
                                    let (user, pass) = (a.username.clone(), a.password.clone());
                                    view! {
                                        <li>
                                            <button class="demo-account" on:click=move |_| login(user.clone(), pass.clone())>
                                                <span class="role">{move || role_name(a.role, lang.get())}</span>
                                                {a.display_name.clone()}
                                                <small>{a.username.clone()}</small>
                                            </button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </section>
                    })
                }}
            </Suspense>
        </main>
    }
}

/// "本机还有区财政局〈国资委〉的3项更改尚未同步…": what the login page says of changes that
/// wait on this browser for their author to sign in again.
fn waiting_here(name: Option<String>, waiting: u32) -> Msg {
    let (zh_name, en_name) = match &name {
        Some(n) => (n.clone(), n.clone()),
        None => (
            "上一位用户".to_string(),
            "the person who last signed in here".to_string(),
        ),
    };
    let changes = shared::message::capitalized(&shared::message::counted(waiting, "change"));
    let (have, them) = if waiting == 1 {
        ("has", "it")
    } else {
        ("have", "they")
    };
    Msg::owned(
        format!(
            "本机还有{zh_name}的{waiting}项更改尚未同步到服务器。请{zh_name}先在本机登录，更改即会发出；如换其他人登录，这些更改将被删除。"
        ),
        format!(
            "{changes} by {en_name} {have} not reached the server yet. Once they sign in on this device, {them} will be sent; if someone else signs in here first, {them} will be deleted."
        ),
    )
}
