//! The item-level screens of running the plan (issue 6): work plans and reports with their
//! review, evidence files, difficulties, leaders' instructions, evaluations, the item's timeline
//! and its status light. Every change is a `Mutation` through the sync engine; which controls
//! show is decided by `shared::permission`, the same rules the server applies.
//!
//! Lists are keyed (`<For>`) and each row reads its own entity, so a pull that lands while
//! someone types in a row's form re-renders the row's text, never the form under the cursor.

pub mod attachments;
pub mod difficulties;
pub mod evaluations;
pub mod instructions;
pub mod status;
pub mod submissions;
pub mod timeline;

use crate::i18n::{Lang, lang};
use crate::session::{Session, use_session};
use crate::sync::{Sync, use_sync};
use leptos::prelude::*;
use shared::actor::Actor;
use shared::ids::{ItemId, UnitId};
use shared::mutation::Mutation;
use shared::permission::{self, Action};
use shared::state::State;

/// What every workflow screen needs: the sync engine, the session and the language.
#[derive(Clone, Copy)]
pub struct Ctx {
    /// Local state and `mutate`.
    pub sync: Sync,
    /// Who is signed in.
    pub session: Session,
    /// UI language.
    pub lang: RwSignal<Lang>,
}

impl Ctx {
    /// From context (call while building a component, not in an event handler).
    pub fn get() -> Ctx {
        Ctx {
            sync: use_sync(),
            session: use_session(),
            lang: lang(),
        }
    }

    /// The signed-in user as an actor.
    pub fn actor(self) -> Option<Actor> {
        self.session.actor()
    }

    /// Whether the signed-in user may do `action` on `item` (reactive). Convenience only: the
    /// server checks every mutation again.
    pub fn may(self, item: ItemId, action: Action<'_>) -> bool {
        let Some(actor) = self.actor() else {
            return false;
        };
        self.sync.view.with(|s| {
            s.item(item)
                .is_some_and(|i| permission::can(&actor.in_state(s), i, action))
        })
    }

    /// Makes a change; false when it was refused locally (the sync engine shows why).
    pub fn send(self, m: Mutation) -> bool {
        self.sync.mutate(m).is_ok()
    }

    /// Whether the UI is in English (reactive).
    pub fn en(self) -> bool {
        self.lang.get() == Lang::En
    }
}

/// The browser's own confirm box; false when it can't be shown.
pub fn confirm(message: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(message).ok())
        .unwrap_or(false)
}

/// A unit's name, or an empty string for an unknown unit.
pub fn unit_name(state: &State, unit: UnitId) -> String {
    state.unit(unit).map(|u| u.name.clone()).unwrap_or_default()
}

/// `zh` or `en` by language.
pub fn pick(l: Lang, zh: impl Into<String>, en: impl Into<String>) -> String {
    if l == Lang::En { en.into() } else { zh.into() }
}

pub use crate::util::today;
