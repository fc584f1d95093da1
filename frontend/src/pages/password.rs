//! `/password`: the user's own account — who is signed in (the header's account link comes
//! here, and on a phone it is only an icon), the language, signing out; changing the password.
//! After a reset by the office (or at first login) the shell sends the user here before
//! anything else, since the server answers every other request with 403 until the password is
//! changed. Also where a user signs out on every device.

use crate::api;
use crate::i18n::{W, lang, t};
use crate::pages::accounts::role_name;
use crate::session::{actor_of, use_session};
use crate::shell::{LanguageSwitch, PersonIcon, sign_out};
use crate::sync::use_sync;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use shared::account::{ChangePasswordRequest, LogoutRequest};
use shared::message::Msg;

/// Shortest password the server accepts (`backend::auth::password::MIN_LEN`).
const MIN_LEN: usize = 8;

/// The password page.
#[component]
pub fn PasswordPage() -> impl IntoView {
    let session = use_session();
    let sync = use_sync();
    let lang = lang();
    let navigate = use_navigate();
    let old = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let error = RwSignal::new(None::<Msg>);
    let done = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let confirm_everywhere = RwSignal::new(false);
    let forced = move || {
        session
            .me
            .get()
            .flatten()
            .is_some_and(|m| m.must_change_password)
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (o, n, a) = (
            old.get_untracked(),
            new.get_untracked(),
            again.get_untracked(),
        );
        // The server checks all of this too; checking here saves a round trip and says why.
        if n.chars().count() < MIN_LEN {
            error.set(Some(W::PasswordTooShort.msg()));
            return;
        }
        if n != a {
            error.set(Some(W::PasswordsDiffer.msg()));
            return;
        }
        let navigate = navigate.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let req = ChangePasswordRequest {
                old_password: o,
                new_password: n,
            };
            match api::post::<_, ()>("/api/auth/password", &req).await {
                Ok(()) => {
                    let me = session.me.get_untracked().flatten();
                    let was_forced = me.as_ref().is_some_and(|m| m.must_change_password);
                    session.password_changed();
                    error.set(None);
                    done.set(true);
                    old.set(String::new());
                    new.set(String::new());
                    again.set(String::new());
                    // Sync waited for this (see `Session::signed_in`).
                    match me.filter(|_| was_forced) {
                        Some(me) => {
                            sync.start(actor_of(&me));
                            navigate("/", Default::default());
                        }
                        None => sync.kick(),
                    }
                }
                Err(e) => error.set(Some(e.message())),
            }
            busy.set(false);
        });
    };

    // Only once the server has ended the other sessions is this one ended too: someone who lost
    // a phone must not leave believing it signed out when the request never arrived.
    let everywhere_error = RwSignal::new(None::<Msg>);
    let everywhere = move |_| {
        everywhere_error.set(None);
        leptos::task::spawn_local(async move {
            let req = LogoutRequest { everywhere: true };
            match api::post::<_, ()>("/api/auth/logout", &req).await {
                // Unauthorized: this session had already ended; signing in again is next.
                Ok(()) | Err(api::ApiError::Unauthorized) => {
                    sync.forget_copy().await;
                    session.signed_out();
                }
                Err(e) => everywhere_error.set(Some(e.message())),
            }
        });
    };

    // Who this is: the name, the username they sign in with, their unit (once synced; not
    // during a forced password change, before sync starts) and their role.
    let who = move || {
        let l = lang.get();
        let me = session.me.get().flatten()?;
        let unit = sync
            .view
            .with(|s| s.unit(me.unit).map(|u| u.name.clone()))
            .unwrap_or_default();
        // Each name once: a leader's account is often named 区领导, in the unit 区领导, with
        // the role 区领导.
        let role = role_name(me.role, l);
        let show_role = role != me.display_name && role != unit;
        let show_unit = !unit.is_empty() && unit != me.display_name;
        Some(view! {
            <p class="account-who">
                <strong class="account-name">{me.display_name}</strong>
                <span class="account-username">{me.username}</span>
                {show_role.then(|| view! { <span class="tag">{role}</span> })}
                {show_unit.then(|| view! { <span class="account-unit">{unit}</span> })}
            </p>
        })
    };

    view! {
        <article class="password-page">
            <h1>{t(W::MyAccount)}</h1>
            <Show when=forced>
                <p class="notice" role="alert">{t(W::MustChangePassword)}</p>
            </Show>
            <section class="account-form account-card" aria-label=t(W::SignedInAs)>
                <PersonIcon/>
                {who}
                <div class="account-actions">
                    <LanguageSwitch/>
                    <button type="button" class="secondary sign-out" on:click=move |_| sign_out(session, sync, lang.get_untracked())>
                        {t(W::Logout)}
                    </button>
                </div>
            </section>
            <form class="account-form" on:submit=submit aria-label=t(W::ChangePassword)>
                <h2>{t(W::ChangePassword)}</h2>
                <label>{t(W::CurrentPassword)}
                    <input name="old_password" type="password" autocomplete="current-password" required
                        prop:value=old on:input=move |ev| old.set(event_target_value(&ev))/>
                </label>
                <label>{t(W::NewPassword)}
                    <input name="new_password" type="password" autocomplete="new-password" required
                        minlength=MIN_LEN.to_string() aria-describedby="password-rule"
                        prop:value=new on:input=move |ev| new.set(event_target_value(&ev))/>
                </label>
                <p id="password-rule" class="hint">{t(W::PasswordTooShort)}</p>
                <label>{t(W::ConfirmPassword)}
                    <input name="confirm_password" type="password" autocomplete="new-password" required
                        prop:value=again on:input=move |ev| again.set(event_target_value(&ev))/>
                </label>
                <Show when=move || error.get().is_some()>
                    <p class="error" role="alert">{move || error.get().map(|m| lang.get().of(&m).to_string())}</p>
                </Show>
                <Show when=move || done.get()>
                    <p class="ok" role="status">{t(W::PasswordChanged)}</p>
                </Show>
                <button type="submit" class="primary" disabled=busy>{t(W::ChangePassword)}</button>
            </form>

            <section class="account-form everywhere" aria-label=t(W::LogoutEverywhere)>
                <h2>{t(W::LogoutEverywhere)}</h2>
                <p class="hint">{t(W::LogoutEverywhereExplain)}</p>
                <Show
                    when=move || confirm_everywhere.get()
                    fallback=move || view! {
                        <button type="button" on:click=move |_| confirm_everywhere.set(true)>
                            {t(W::LogoutEverywhere)}
                        </button>
                    }
                >
                    <div class="confirm" role="group" aria-label=t(W::LogoutEverywhere)>
                        <p>{t(W::ConfirmLogoutEverywhere)}</p>
                        <button type="button" class="danger" on:click=everywhere>{t(W::Confirm)}</button>
                        <button type="button" on:click=move |_| confirm_everywhere.set(false)>{t(W::Cancel)}</button>
                    </div>
                </Show>
                <Show when=move || everywhere_error.get().is_some()>
                    <p class="error" role="alert">{move || everywhere_error.get().map(|m| lang.get().of(&m).to_string())}</p>
                </Show>
            </section>
        </article>
    }
}
