//! Who is signed in, as the whole app sees it.

use crate::api::{self, ApiError};
use crate::sync::Sync;
use leptos::prelude::*;
use shared::account::{Language, Me, SetLanguageRequest};
use shared::actor::{Actor, Role};

/// The signed-in user, once known. `None` inside `Some` means "checked: nobody".
#[derive(Clone, Copy)]
pub struct Session {
    /// `None` until the first check answers.
    pub me: RwSignal<Option<Option<Me>>>,
}

impl Session {
    /// Asks the server who we are, and starts syncing if someone is signed in.
    ///
    /// A returning user does not wait for that answer: whoever signed in last on this browser
    /// gets their saved copy on screen at once (as they would offline), and the sync's first
    /// pull runs beside the question. The answer then confirms them, or ends the session.
    pub fn check(self, sync: Sync) {
        self.follow_other_tabs();
        let early = cached().filter(|me| !me.must_change_password);
        if let Some(me) = &early {
            sync.start(actor_of(me));
            self.me.set(Some(Some(me.clone())));
        }
        leptos::task::spawn_local(async move {
            let answer = api::get_prefetched::<Me>("/api/auth/me", "reformboardMe")
                .await
                .map(with_pending_language);
            match (answer, early) {
                // The same person in the same place: keep going, with their details as the
                // server has them now.
                (Ok(me), Some(early))
                    if me.id == early.id
                        && !me.must_change_password
                        && (me.unit, me.role) == (early.unit, early.role) =>
                {
                    remember(&me);
                    self.me.set(Some(Some(me)));
                }
                // The office moved them to another unit or role since this browser saw them:
                // the sync started as the old one (what it lets them do, what it applies at
                // once), so start again as they are now.
                (Ok(me), Some(early)) if me.id == early.id && !me.must_change_password => {
                    remember(&me);
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().reload();
                    }
                }
                // Someone else signed in on this browser meanwhile: start clean as them.
                (Ok(me), Some(_)) => {
                    remember(&me);
                    go_to("/");
                }
                (Ok(me), None) => self.signed_in(me, sync),
                // The server says the session is over: sign out here too.
                (Err(ApiError::Unauthorized), _) => self.signed_out(),
                // Offline, the server briefly unwell, or something between (a captive portal's
                // page, a proxy's error, a 429) answering instead: the saved copy carries on;
                // the server checks the session again with the next request.
                (Err(_), Some(_)) => {}
                (Err(ApiError::Network), None) => self.me.set(Some(None)),
                (Err(_), None) => self.signed_out(),
            }
        });
    }

    /// Another tab of this browser signed out, or in as someone else: this one follows, rather
    /// than carrying on as the last user with the other person's session (its requests would
    /// be refused as the wrong user, and its edits would wait in the outbox they share).
    fn follow_other_tabs(self) {
        let _ = window_event_listener(leptos::ev::storage, move |ev| {
            // None: the whole storage was cleared.
            if ev.key().is_some_and(|k| k != ME_KEY) {
                return;
            }
            let mine = self.me.get_untracked().flatten().map(|m| m.id);
            let theirs = ev
                .new_value()
                .and_then(|j| serde_json::from_str::<Me>(&j).ok())
                .map(|m| m.id);
            if mine.is_some() && mine != theirs {
                go_to(if theirs.is_some() { "/" } else { "/login" });
            }
        });
    }

    /// The user set a new password (the one they were given, or their own): remembered so, so
    /// that the app opens from the saved copy offline too (a remembered forced change would
    /// keep it waiting for the server).
    pub fn password_changed(self) {
        self.me.update(|me| {
            if let Some(Some(me)) = me {
                me.must_change_password = false;
                remember(me);
            }
        });
    }

    /// Signs out on this device.
    pub fn signed_out(self) {
        forget();
        if self.me.get_untracked().flatten().is_some() {
            // What the last user saw is still in this page's memory (and its sync running as
            // them): the next user starts from a fresh page.
            go_to("/login");
        } else {
            self.me.set(Some(None));
        }
    }

    /// The server ended this session while the app was open: to the login page, which says so.
    pub fn ended(self) {
        forget();
        go_to(&format!("/login?{ENDED_QUERY}"));
    }

    /// Records a successful login and starts syncing — unless a forced password change is
    /// pending, which the server makes sync wait for; the password page starts it then.
    pub fn signed_in(self, me: Me, sync: Sync) {
        remember(&me);
        if !me.must_change_password {
            sync.start(actor_of(&me));
        }
        self.me.set(Some(Some(me)));
    }

    /// The user chose a language: shown at once, remembered with the session on this device,
    /// and sent to the server so their other devices follow — later, if this one is offline.
    pub fn choose_language(self, language: Language) {
        let signed_in = self
            .me
            .try_update(|me| match me {
                Some(Some(me)) => {
                    me.language = Some(language);
                    remember(me);
                    true
                }
                _ => false,
            })
            .unwrap_or(false);
        if signed_in {
            set_pending_language(Some(language));
            leptos::task::spawn_local(send_pending_language());
        }
    }

    /// Whether the signed-in user is the reform office (for showing office-only screens; the
    /// server checks again).
    pub fn is_office(self) -> bool {
        self.role() == Some(Role::Office)
    }

    /// The signed-in user's role (tracked: what shows for it follows a role change).
    pub fn role(self) -> Option<Role> {
        self.me.get().flatten().map(|m| m.role)
    }

    /// The acting identity, if signed in.
    pub fn actor(self) -> Option<Actor> {
        self.me.get().flatten().as_ref().map(actor_of)
    }
}

const ME_KEY: &str = "reformboard.me";
/// The login page's query after `Session::ended`: it says why the user is there.
pub const ENDED_QUERY: &str = "session=ended";
/// Who last signed in on this browser (their id and name, "区财政局〈国资委〉"), kept past
/// signing out: the login page names them when changes of theirs are still waiting here. The
/// name only, not the username one signs in with.
const LAST_USER_KEY: &str = "reformboard.last_user";
/// A language chosen here that the server has not yet confirmed.
const PENDING_LANGUAGE_KEY: &str = "reformboard.language.pending";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn remember(me: &Me) {
    if let (Some(s), Ok(json)) = (storage(), serde_json::to_string(me)) {
        let _ = s.set_item(ME_KEY, &json);
        let _ = s.set_item(LAST_USER_KEY, &format!("{}\n{}", me.id, me.display_name));
    }
}

/// Who last signed in here, if that was the user with this id: "区财政局〈国资委〉".
pub fn last_user_named(id: &str) -> Option<String> {
    let saved = storage()?.get_item(LAST_USER_KEY).ok().flatten()?;
    let (saved_id, name) = saved.split_once('\n')?;
    (saved_id == id).then(|| name.to_string())
}

fn cached() -> Option<Me> {
    storage()?
        .get_item(ME_KEY)
        .ok()
        .flatten()
        .and_then(|j| serde_json::from_str(&j).ok())
}

fn pending_language() -> Option<Language> {
    storage()?
        .get_item(PENDING_LANGUAGE_KEY)
        .ok()
        .flatten()
        .as_deref()
        .and_then(Language::parse)
}

fn set_pending_language(language: Option<Language>) {
    if let Some(s) = storage() {
        let _ = match language {
            Some(l) => s.set_item(PENDING_LANGUAGE_KEY, l.as_str()),
            None => s.remove_item(PENDING_LANGUAGE_KEY),
        };
    }
}

/// Sends the language chosen offline (or just now); forgets it once the server has it.
async fn send_pending_language() {
    let Some(language) = pending_language() else {
        return;
    };
    let req = SetLanguageRequest { language };
    if api::post::<_, ()>("/api/auth/language", &req).await.is_ok()
        && pending_language() == Some(language)
    {
        set_pending_language(None);
    }
}

/// The server's account details, with a choice made here that it has not heard of yet (which
/// is sent again now).
fn with_pending_language(mut me: Me) -> Me {
    if let Some(l) = pending_language() {
        me.language = Some(l);
        leptos::task::spawn_local(send_pending_language());
    }
    me
}

/// Leaves this page for a fresh load of `path`.
fn go_to(path: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(path);
    }
}

fn forget() {
    if let Some(s) = storage() {
        let _ = s.remove_item(ME_KEY);
    }
    set_pending_language(None);
}

/// The `Actor` for permission checks in the browser (the server makes its own).
pub fn actor_of(me: &Me) -> Actor {
    Actor {
        user: me.id,
        name: me.display_name.clone(),
        unit: me.unit,
        role: me.role,
        groups: vec![],
    }
}

/// The session from context.
pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(|| Session {
        me: RwSignal::new(None),
    })
}
