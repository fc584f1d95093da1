//! `/admin/users`: the office's account screen. Lists every account with its unit and role;
//! creates accounts for a unit; resets passwords, disables and re-enables accounts, and changes
//! roles and units. The destructive actions (reset, disable, role change) open a confirmation
//! inside the row that says what will happen, rather than a browser dialog, so they read the
//! same to a screen reader and work the same on a phone.
//!
//! The server allows all of this to the office only; the page just says so to anyone else.

use crate::api;
use crate::i18n::{Lang, W, lang, t};
use crate::session::use_session;
use crate::sync::use_sync;
use leptos::prelude::*;
use shared::account::{
    CreateUserRequest, ResetPasswordRequest, SetEmailRequest, SetRoleRequest, UserSummary,
};
use shared::actor::Role;
use shared::ids::{UnitId, UserId};
use shared::message::Msg;

/// A role in words.
pub fn role_name(role: Role, l: Lang) -> &'static str {
    match l {
        Lang::Zh => role.zh(),
        Lang::En => role.en(),
    }
}

/// A temporary password: 12 letters and digits from the browser's cryptographic generator
/// (random v4 UUIDs, less their fixed version and variant bytes; bytes past the last whole
/// multiple of the alphabet are skipped, so every character is equally likely: ~69 bits). The
/// user replaces it at first login.
fn temporary_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let fair = 256 - 256 % ALPHABET.len();
    let mut out = String::new();
    while out.len() < 12 {
        let bytes = uuid::Uuid::new_v4().into_bytes();
        for (i, byte) in bytes.iter().enumerate() {
            if i == 6 || i == 8 || usize::from(*byte) >= fair || out.len() == 12 {
                continue;
            }
            out.push(char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()]));
        }
    }
    out
}

/// Every unit as (id, name): the built-in bodies first (the office, leaders, 人大, 政协), then
/// the plan's units by name.
fn all_units() -> Memo<Vec<(UnitId, String)>> {
    let sync = use_sync();
    Memo::new(move |_| {
        sync.view.with(|s| {
            let mut units: Vec<_> = s
                .units()
                .map(|u| (u.in_plan, u.name.clone(), u.id))
                .collect();
            shared::sorting::sort(&mut units);
            units.into_iter().map(|(_, name, id)| (id, name)).collect()
        })
    })
}

/// The panel open in one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Panel {
    Reset,
    Disable,
    Role,
    Email,
}

/// The accounts page.
#[component]
pub fn AccountsPage() -> impl IntoView {
    let session = use_session();
    let lang = lang();
    let is_office = move || session.is_office();
    let reload = RwSignal::new(0u32);
    let users = LocalResource::new(move || {
        reload.track();
        async move { api::get::<Vec<UserSummary>>("/api/users").await }
    });
    let status = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<Msg>);
    let search = RwSignal::new(String::new());
    let open = RwSignal::new(None::<(UserId, Panel)>);
    let ctx = RowCtx {
        reload,
        status,
        error,
        open,
    };

    let list = move || {
        let l = lang.get();
        let result = users.get();
        let Some(result) = result else {
            return view! { <p class="loading">{W::Loading.get(l)}</p> }.into_any();
        };
        let users = match result {
            Ok(users) => users,
            Err(e) => {
                let said = l.of(&e.message()).to_string();
                return view! { <p class="error" role="alert">{said}</p> }.into_any();
            }
        };
        // ASCII case only (usernames; Chinese has none): Unicode's case tables would be
        // ~20 KB more of the wasm for it.
        let needle = search.get().trim().to_ascii_lowercase();
        let shown: Vec<UserSummary> = users
            .into_iter()
            .filter(|u| {
                needle.is_empty()
                    || [&u.username, &u.display_name, &u.unit_name]
                        .iter()
                        .any(|s| s.to_ascii_lowercase().contains(&needle))
            })
            .collect();
        if shown.is_empty() {
            return view! { <p class="empty">{W::NoRecords.get(l)}</p> }.into_any();
        }
        view! {
            <ul class="user-list" role="list">
                {shown.into_iter().map(|u| view! { <UserRow user=u ctx=ctx/> }).collect_view()}
            </ul>
        }
        .into_any()
    };

    view! {
        <article class="accounts-page">
            <h1>{t(W::Accounts)}</h1>
            <Show when=is_office fallback=move || view! { <p class="error" role="alert">{t(W::OfficeOnly)}</p> }>
                <CreateUser ctx=ctx/>
                <p class="ok" role="status" aria-live="polite">{move || status.get().unwrap_or_default()}</p>
                <Show when=move || error.get().is_some()>
                    <p class="error" role="alert">{move || error.get().map(|m| lang.get().of(&m).to_string())}</p>
                </Show>
                <label class="search">{t(W::FilterUsers)}
                    <input type="search" name="search" prop:value=search
                        on:input=move |ev| search.set(event_target_value(&ev))/>
                </label>
                {list}
            </Show>
        </article>
    }
}

/// What every row shares with the page.
#[derive(Clone, Copy)]
struct RowCtx {
    reload: RwSignal<u32>,
    status: RwSignal<Option<String>>,
    /// What went wrong, in both languages (shown in the current one).
    error: RwSignal<Option<Msg>>,
    open: RwSignal<Option<(UserId, Panel)>>,
}

impl RowCtx {
    /// Sends `body` to `path`; on success closes the panel, says `done` and reloads the list.
    fn send<B: serde::Serialize + 'static>(self, path: String, body: B, done: String) {
        leptos::task::spawn_local(async move {
            match api::post::<_, ()>(&path, &body).await {
                Ok(()) => {
                    self.error.set(None);
                    self.status.set(Some(done));
                    self.open.set(None);
                    self.reload.update(|n| *n += 1);
                }
                Err(e) => {
                    self.status.set(None);
                    self.error.set(Some(e.message()));
                }
            }
        });
    }
}

/// The "new account" form.
#[component]
fn CreateUser(ctx: RowCtx) -> impl IntoView {
    let lang = lang();
    let units = all_units();
    let username = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let unit = RwSignal::new(None::<UnitId>);
    let role = RwSignal::new(Role::Unit);
    let password = RwSignal::new(temporary_password());
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = lang.get_untracked();
        let Some(unit_id) = unit.get_untracked() else {
            ctx.error.set(Some(W::PickUnit.msg()));
            return;
        };
        let req = CreateUserRequest {
            username: username.get_untracked().trim().to_string(),
            display_name: name.get_untracked().trim().to_string(),
            unit: unit_id,
            role: role.get_untracked(),
            password: password.get_untracked(),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::post::<_, UserSummary>("/api/users", &req).await {
                Ok(created) => {
                    ctx.error.set(None);
                    ctx.status.set(Some(format!(
                        "{}{}{}{}{}{} {}",
                        W::UserCreated.get(l),
                        l.colon(),
                        created.display_name,
                        l.bracketed(&created.username),
                        l.comma(),
                        W::InitialPassword.get(l),
                        req.password
                    )));
                    username.set(String::new());
                    name.set(String::new());
                    password.set(temporary_password());
                    ctx.reload.update(|n| *n += 1);
                }
                Err(e) => {
                    ctx.status.set(None);
                    ctx.error.set(Some(e.message()));
                }
            }
            busy.set(false);
        });
    };
    let pick_unit = move |ev| {
        let id: Option<UnitId> = event_target_value(&ev).parse().ok();
        unit.set(id);
        let name = units.with_untracked(|us| {
            us.iter()
                .find(|(u, _)| Some(*u) == id)
                .map(|(_, n)| n.clone())
        });
        role.set(shared::unit::role_of_unit(
            name.as_deref().unwrap_or_default(),
        ));
    };
    view! {
        <details class="account-form create-user">
            <summary>{t(W::NewUser)}</summary>
            <form on:submit=submit aria-label=t(W::NewUser)>
                <label>{t(W::Username)}
                    <input name="new_username" required autocomplete="off" minlength="2" maxlength=shared::account::USERNAME_MAX
                        prop:value=username on:input=move |ev| username.set(event_target_value(&ev))/>
                </label>
                <label>{t(W::DisplayName)}
                    <input name="display_name" required maxlength=shared::account::DISPLAY_NAME_MAX
                        prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                <label>{t(W::Unit)}
                    <select name="unit" required on:change=pick_unit>
                        <option value="" selected=move || unit.get().is_none()>{t(W::PickUnit)}</option>
                        {move || units.get().into_iter().map(|(id, n)| view! {
                            <option value=id.to_string() selected=move || unit.get() == Some(id)>{n}</option>
                        }).collect_view()}
                    </select>
                </label>
                <RoleOf role=role/>
                <label>{t(W::InitialPassword)}
                    <span class="with-button">
                        <input name="initial_password" required minlength="8" autocomplete="off"
                            prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                        <button type="button" on:click=move |_| password.set(temporary_password())>
                            {t(W::Generate)}
                        </button>
                    </span>
                </label>
                <p class="hint">{t(W::InitialPasswordHint)}</p>
                <button type="submit" class="primary" disabled=busy>{t(W::CreateUser)}</button>
            </form>
        </details>
    }
}

/// The role that goes with the unit picked (`shared::unit::role_of_unit`: one per unit), shown
/// rather than offered: no other pair would be accepted.
#[component]
fn RoleOf(role: RwSignal<Role>) -> impl IntoView {
    let lang = lang();
    view! {
        <p class="role-of">{t(W::Role)}{move || lang.get().colon()}
            <output data-role=move || role.get().as_str()>{move || role_name(role.get(), lang.get())}</output>
        </p>
    }
}

/// One account, its actions and (when open) one confirmation panel.
#[component]
fn UserRow(user: UserSummary, ctx: RowCtx) -> impl IntoView {
    let lang = lang();
    let session = use_session();
    let units = all_units();
    let id = user.id;
    let is_me = session
        .me
        .get_untracked()
        .flatten()
        .is_some_and(|m| m.id == id);
    // "综合办（office）" / "综合办 (office)": whose account, in the language on screen.
    let names = StoredValue::new((user.display_name.clone(), user.username.clone()));
    let who = move |l: Lang| {
        names.with_value(|(name, username)| format!("{name}{}", l.bracketed(username)))
    };
    let unit_name = if user.unit_name.is_empty() {
        units.with_untracked(|us| {
            us.iter()
                .find(|(u, _)| *u == user.unit)
                .map(|(_, n)| n.clone())
                .unwrap_or_default()
        })
    } else {
        user.unit_name.clone()
    };
    let open_panel = move |p: Panel| {
        ctx.open.update(|o| {
            *o = if *o == Some((id, p)) {
                None
            } else {
                Some((id, p))
            }
        })
    };
    let is_open = move |p: Panel| ctx.open.get() == Some((id, p));
    let temp = RwSignal::new(temporary_password());
    let new_role = RwSignal::new(user.role);
    let email = RwSignal::new(user.email.clone().unwrap_or_default());
    let new_unit = RwSignal::new(user.unit);
    let disabled = user.disabled;
    // Every row has the same buttons: their accessible names say whose account they act on.
    let label = move |w: W| {
        let l = lang.get();
        format!("{}{}{}", w.get(l), l.colon(), who(l))
    };

    let reset = move |_| {
        let l = lang.get_untracked();
        let body = ResetPasswordRequest {
            password: temp.get_untracked(),
        };
        let done = format!(
            "{}{}{}{}{} {}",
            W::PasswordResetDone.get(l),
            l.colon(),
            who(l),
            l.comma(),
            W::TempPassword.get(l),
            body.password
        );
        ctx.send(format!("/api/users/{id}/password"), body, done);
    };
    let set_disabled = move |disable: bool| {
        let l = lang.get_untracked();
        let (path, word) = if disable {
            ("disable", W::DisabledDone)
        } else {
            ("enable", W::EnabledDone)
        };
        let done = format!("{}{}{}", word.get(l), l.colon(), who(l));
        ctx.send(
            format!("/api/users/{id}/{path}"),
            serde_json::json!({}),
            done,
        );
    };
    let save_role = move |_| {
        let l = lang.get_untracked();
        let body = SetRoleRequest {
            role: new_role.get_untracked(),
            unit: new_unit.get_untracked(),
        };
        let done = format!("{}{}{}", W::RoleChanged.get(l), l.colon(), who(l));
        ctx.send(format!("/api/users/{id}/role"), body, done);
    };
    let save_email = move |_| {
        let l = lang.get_untracked();
        let address = email.get_untracked().trim().to_string();
        let body = SetEmailRequest {
            email: (!address.is_empty()).then_some(address),
        };
        let done = format!("{}{}{}", W::EmailSaved.get(l), l.colon(), who(l));
        ctx.send(format!("/api/users/{id}/email"), body, done);
    };
    let enable = set_disabled;
    let disable = set_disabled;

    view! {
        <li class="user-row" class:disabled=disabled data-username=user.username.clone()>
            <div class="user-main">
                <strong>{user.display_name.clone()}</strong>
                <small class="username">{user.username.clone()}</small>
                <span class="tag">{move || role_name(user.role, lang.get())}</span>
                {is_me.then(|| view! { <span class="tag">{t(W::ThisIsYou)}</span> })}
                {disabled.then(|| view! { <span class="tag warn">{t(W::Disabled)}</span> })}
                {user.must_change_password.then(|| view! { <span class="tag">{t(W::MustChange)}</span> })}
                <div class="unit-name">{unit_name}</div>
            </div>
            <div class="user-actions">
                <button type="button" aria-label={move || label(W::ResetPassword)}
                    aria-expanded=move || is_open(Panel::Reset).to_string()
                    on:click=move |_| open_panel(Panel::Reset)>{t(W::ResetPassword)}</button>
                // Not on one's own account: the server refuses the office's role or the account
                // taken from the one signed in (someone else in the office can).
                {(!is_me).then(|| view! {
                    <button type="button" aria-label={move || label(W::ChangeRole)}
                        aria-expanded=move || is_open(Panel::Role).to_string()
                        on:click=move |_| open_panel(Panel::Role)>{t(W::ChangeRole)}</button>
                })}
                <button type="button" aria-label={move || label(W::Email)}
                    aria-expanded=move || is_open(Panel::Email).to_string()
                    on:click=move |_| open_panel(Panel::Email)>{t(W::Email)}</button>
                {if disabled {
                    view! {
                        <button type="button" aria-label={move || label(W::Enable)}
                            on:click=move |_| enable(false)>{t(W::Enable)}</button>
                    }.into_any()
                } else if is_me {
                    ().into_any()
                } else {
                    view! {
                        <button type="button" class="danger"
                            aria-label={move || label(W::Disable)}
                            aria-expanded=move || is_open(Panel::Disable).to_string()
                            on:click=move |_| open_panel(Panel::Disable)>{t(W::Disable)}</button>
                    }.into_any()
                }}
            </div>
            <Show when=move || is_open(Panel::Reset)>
                <div class="confirm" role="group" aria-label={move || label(W::ResetPassword)}>
                    <p>{t(W::ResetExplain)}</p>
                    <label>{t(W::TempPassword)}
                        <input name="temp_password" required minlength="8" autocomplete="off"
                            prop:value=temp on:input=move |ev| temp.set(event_target_value(&ev))/>
                    </label>
                    <button type="button" class="danger" on:click=reset>{t(W::ConfirmReset)}</button>
                    <button type="button" on:click=move |_| ctx.open.set(None)>{t(W::Cancel)}</button>
                </div>
            </Show>
            <Show when=move || is_open(Panel::Disable)>
                <div class="confirm" role="group" aria-label={move || label(W::Disable)}>
                    <p>{t(W::DisableExplain)}</p>
                    <button type="button" class="danger" on:click=move |_| disable(true)>{t(W::ConfirmDisable)}</button>
                    <button type="button" on:click=move |_| ctx.open.set(None)>{t(W::Cancel)}</button>
                </div>
            </Show>
            <Show when=move || is_open(Panel::Email)>
                <div class="confirm" role="group" aria-label={move || label(W::Email)}>
                    <p>{t(W::EmailExplain)}</p>
                    <label>{t(W::Email)}
                        <input type="email" name="email" autocomplete="off" maxlength="254"
                            prop:value=email on:input=move |ev| email.set(event_target_value(&ev))/>
                    </label>
                    <button type="button" class="primary" on:click=save_email>{t(W::Save)}</button>
                    <button type="button" on:click=move |_| ctx.open.set(None)>{t(W::Cancel)}</button>
                </div>
            </Show>
            <Show when=move || is_open(Panel::Role)>
                <div class="confirm" role="group" aria-label={move || label(W::ChangeRole)}>
                    <p>{t(W::RoleExplain)}</p>
                    <label>{t(W::Unit)}
                        <select name="new_unit" on:change=move |ev| {
                            if let Ok(u) = event_target_value(&ev).parse() {
                                new_unit.set(u);
                                let name = units.with_untracked(|us| {
                                    us.iter().find(|(id, _)| *id == u).map(|(_, n)| n.clone())
                                });
                                new_role.set(shared::unit::role_of_unit(name.as_deref().unwrap_or_default()));
                            }
                        }>
                            {move || units.get().into_iter().map(|(u, n)| view! {
                                <option value=u.to_string() selected=move || new_unit.get() == u>{n}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <RoleOf role=new_role/>
                    <button type="button" class="danger" on:click=save_role>{t(W::Save)}</button>
                    <button type="button" on:click=move |_| ctx.open.set(None)>{t(W::Cancel)}</button>
                </div>
            </Show>
        </li>
    }
}
