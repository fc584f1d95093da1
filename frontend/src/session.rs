//! Who is signed in, as the whole app sees it.

use crate::api;
use crate::sync::Sync;
use leptos::prelude::*;
use shared::account::Me;
use shared::actor::Actor;

/// The signed-in user, once known. `None` inside `Some` means "checked: nobody".
#[derive(Clone, Copy)]
pub struct Session {
    /// `None` until the first check answers.
    pub me: RwSignal<Option<Option<Me>>>,
}

impl Session {
    /// Asks the server who we are, and starts syncing if someone is signed in.
    pub fn check(self, sync: Sync) {
        leptos::task::spawn_local(async move {
            match api::get::<Me>("/api/auth/me").await {
                Ok(me) => self.signed_in(me, sync),
                Err(_) => self.me.set(Some(None)),
            }
        });
    }

    /// Records a successful login and starts syncing — unless a forced password change is
    /// pending, which the server makes sync wait for; the password page starts it then.
    pub fn signed_in(self, me: Me, sync: Sync) {
        if !me.must_change_password {
            sync.start(actor_of(&me));
        }
        self.me.set(Some(Some(me)));
    }

    /// The acting identity, if signed in.
    pub fn actor(self) -> Option<Actor> {
        self.me.get().flatten().as_ref().map(actor_of)
    }
}

/// The `Actor` for permission checks in the browser (the server makes its own).
pub fn actor_of(me: &Me) -> Actor {
    Actor {
        user: me.id,
        name: me.display_name.clone(),
        unit: me.unit,
        role: me.role,
    }
}

/// The session from context.
pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(|| Session {
        me: RwSignal::new(None),
    })
}
