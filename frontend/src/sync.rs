//! The browser's side of sync: a local copy of everything this user may see, an outbox of
//! mutations not yet confirmed, and the loop that pushes, pulls and listens for pokes.
//!
//! Screens read `Sync::view`: the last pulled server state with the pending mutations re-applied
//! on top (rebase), so an edit shows at once and never flickers back when a pull lands.

use crate::api::{self, ApiError};
use crate::i18n::W;
use crate::local_db::{self, LocalDb};
use crate::util;
use futures::StreamExt;
use gloo_net::websocket::Message;
use gloo_net::websocket::futures::WebSocket;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::actor::Actor;
use shared::entity::Entity;
use shared::ids::{ClientGroupId, ClientId, TaskId, UserId};
use shared::message::Msg;
use shared::mutation::{Mutation, Rejection, apply};
use shared::state::State;
use shared::sync::{
    Cookie, MAX_RETIRED, Outcome, PROTOCOL_VERSION, PendingMutation, PullRequest, PullResponse,
    PushRequest, PushResponse, ServerMessage, dated_after, in_made_order, push_batch_len,
    sequence_break,
};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

/// Connection state shown in the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// The last request reached the server.
    Online,
    /// It didn't; edits wait in the outbox.
    Offline,
}

/// The sync engine; cheap to copy (every field is an arena handle).
#[derive(Clone, Copy)]
pub struct Sync {
    /// What screens show.
    pub view: RwSignal<State>,
    /// Mutations not yet confirmed by a pull.
    pub pending: RwSignal<Vec<PendingMutation>>,
    /// Saved outbox entries not read yet, because the code that reads them could not be fetched
    /// (`local_db::read_outbox`): still waiting, so counted (`waiting`), and read again at every
    /// round until they join `pending`.
    unread: RwSignal<Vec<String>>,
    /// Online or offline.
    pub connection: RwSignal<Connection>,
    /// Whether the saved copy or the first pull has landed (screens show "loading" until
    /// then); changes once.
    pub loaded: RwSignal<bool>,
    /// Messages for the user (rejected changes), in both languages: shown in the one current
    /// when they are drawn, so switching the language turns them too.
    pub notices: RwSignal<Vec<Msg>>,
    /// Tasks someone else just changed: their cards are briefly highlighted.
    pub recent: RwSignal<HashSet<TaskId>>,
    /// The server no longer knows this session (a 401: it ended elsewhere, timed out, or the
    /// account was disabled): nothing syncs, and the frame says so with a way to sign in again
    /// (`shell::SessionEnded`), rather than leaving the page under text being typed. The outbox
    /// waits for the same user's next sign-in on this browser.
    pub session_ended: RwSignal<bool>,
    base: StoredValue<State>,
    cookie: StoredValue<Option<Cookie>>,
    actor: StoredValue<Option<Actor>>,
    /// The signed-in user's client group (`client_group`), set when the sync starts.
    group: StoredValue<Option<ClientGroupId>>,
    /// This tab's client: its changes are numbered 1, 2, … under it (`next_id`).
    client: StoredValue<ClientId>,
    next_id: StoredValue<u64>,
    running: StoredValue<bool>,
    again: StoredValue<bool>,
    db: StoredValue<Option<LocalDb>, LocalStorage>,
    /// Clients whose changes were renumbered (`renumber`), to tell the server with the next
    /// push (`PushRequest::retire`).
    retire: StoredValue<BTreeMap<ClientId, u64>>,
    /// Each client's last change the server has applied, as of the last pull: the outbox's
    /// entries up to there are on their way out of it, not waiting (`adopt_saved`).
    applied: StoredValue<BTreeMap<ClientId, u64>>,
    /// The browser said it is online again (its `online` event) since the last round began
    /// (`wait_to_retry` then waits no longer).
    back_online: StoredValue<bool>,
    /// Whether the last push refused for a gap (409) was tried again because the pull after it
    /// found none (see `round`).
    conflict_retried: StoredValue<bool>,
    /// The last pull's save failed (storage full, say), so what is saved no longer follows
    /// from one cookie: the next save writes everything this tab holds, with its cookie,
    /// rather than a delta that would claim the missing rows.
    resave: StoredValue<bool>,
    /// Refusals already told: a batch sent again (its pull failed before the refusal dropped
    /// it) is refused again, and said once.
    told: StoredValue<HashSet<(ClientId, u64)>>,
}

/// What `Sync::renumber` did.
enum Renumbered {
    /// Moved the changes that did not continue their client's sequence to fresh clients.
    Moved,
    /// Found every client's changes continuing the server's sequence.
    NoGap,
    /// Could not move them (the database refused, or the outbox's code could not be fetched).
    NotMoved,
}

/// Whether `pending` holds `client`'s change `id`.
fn holds(pending: &[PendingMutation], client: ClientId, id: u64) -> bool {
    pending.iter().any(|m| (m.client_id, m.id) == (client, id))
}

/// `message` after `what` ("更改未被接受：…"), in both languages.
fn prefixed(what: W, message: &Msg) -> Msg {
    shared::msg!(
        "{what}{message}",
        "{what}{message}",
        what = what.msg(),
        message = message
    )
}

/// Where this browser keeps each user's client group: `GROUP_KEY.<user id>`. One per user, not
/// one per browser: the server gives a group to the first user who syncs under it and refuses
/// it to anyone else, so on an office computer two people signing in by turns each need their
/// own. boot.js makes the group on a first visit (to send the first pull before the app has
/// started); `client_group` makes it where boot.js could not.
const GROUP_KEY: &str = "reformboard.client_group";

/// `user`'s client group in this browser, made if there is none.
fn client_group(user: UserId) -> ClientGroupId {
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    let key = format!("{GROUP_KEY}.{user}");
    let saved = storage
        .as_ref()
        .and_then(|s| s.get_item(&key).ok().flatten())
        .and_then(|v| v.parse::<ClientGroupId>().ok());
    saved.unwrap_or_else(|| {
        let group = ClientGroupId::new_v7();
        if let Some(s) = storage {
            let _ = s.set_item(&key, &group.to_string());
        }
        group
    })
}

/// The one group of a browser that synced before groups were kept per user, taken out of
/// storage (so that it is considered once). `restore` gives it to the user whose saved copy and
/// outbox this browser holds (their changes were sent under it); anyone else gets their own.
fn take_legacy_group() -> Option<ClientGroupId> {
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten())?;
    let group = storage.get_item(GROUP_KEY).ok().flatten()?.parse().ok();
    let _ = storage.remove_item(GROUP_KEY);
    group
}

/// Makes `group` `user`'s client group in this browser.
fn keep_group(user: UserId, group: ClientGroupId) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(&format!("{GROUP_KEY}.{user}"), &group.to_string());
    }
}

impl Sync {
    /// A new engine with nothing loaded.
    pub fn new() -> Sync {
        Sync {
            view: RwSignal::new(State::new()),
            pending: RwSignal::new(vec![]),
            unread: RwSignal::new(vec![]),
            connection: RwSignal::new(Connection::Online),
            loaded: RwSignal::new(false),
            notices: RwSignal::new(vec![]),
            recent: RwSignal::new(HashSet::new()),
            session_ended: RwSignal::new(false),
            told: StoredValue::new(HashSet::new()),
            base: StoredValue::new(State::new()),
            cookie: StoredValue::new(None),
            actor: StoredValue::new(None),
            group: StoredValue::new(None),
            client: StoredValue::new(ClientId::new_v7()),
            next_id: StoredValue::new(1),
            running: StoredValue::new(false),
            again: StoredValue::new(false),
            db: StoredValue::new_local(None),
            retire: StoredValue::new(BTreeMap::new()),
            applied: StoredValue::new(BTreeMap::new()),
            conflict_retried: StoredValue::new(false),
            resave: StoredValue::new(false),
            back_online: StoredValue::new(false),
        }
    }

    /// Starts syncing as `actor`: what this browser saved is shown at once (it may be offline),
    /// then the first pull, pokes, and a 60-second safety-net pull.
    pub fn start(self, actor: Actor) {
        self.group.set_value(Some(client_group(actor.user)));
        self.actor.set_value(Some(actor.clone()));
        // Pokes only once the saved copy (and its cookie) is in: a pull sent before that
        // carries no cookie, so it is a full reset — every entity sent again and rewritten to
        // IndexedDB — and the board waits for it.
        spawn_local(async move {
            self.restore(&actor).await;
            self.kick();
            // Once the saved copy is in, like the pokes. Dropping the handle leaves the
            // listener in place, for as long as the page lives.
            let _ = window_event_listener(leptos::ev::online, move |_| {
                self.back_online.set_value(true);
                self.kick();
            });
            self.listen().await;
        });
        spawn_local(async move {
            loop {
                gloo_timers::future::sleep(Duration::from_secs(60)).await;
                self.kick();
            }
        });
    }

    /// Whether the signed-in user may make `mutation` now, by the rules the server applies
    /// (`Mutation::authorize`): what a control asks before it offers the change it sends.
    /// Tracks the local copy.
    pub fn allows(self, mutation: &Mutation) -> bool {
        let Some(actor) = self.actor.get_value() else {
            return false;
        };
        self.view.with(|s| mutation.authorize(s, &actor).is_ok())
    }

    /// Makes a change: applies it locally at once (or reports why not) and queues it for the
    /// server.
    pub fn mutate(self, mutation: Mutation) -> Result<(), Rejection> {
        let actor = self
            .actor
            .get_value()
            .ok_or_else(|| Rejection::Denied(Msg::new("请先登录", "Please sign in")))?;
        let mutation = self.pending.with_untracked(|p| dated_after(mutation, p));
        let result = self
            .view
            .try_update(|state| apply(state, &actor, &mutation).map(|_| ()))
            .unwrap_or(Ok(()));
        if let Err(reason) = result {
            self.notices.update(|n| n.push(reason.message()));
            return Err(reason);
        }
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let pending = PendingMutation {
            client_id: self.client.get_value(),
            id,
            mutation,
        };
        self.pending.update(|p| p.push(pending.clone()));
        // Into the outbox first, so a reload or a crash can't lose it; then to the server.
        match self.db.get_value() {
            Some(db) => spawn_local(async move {
                // Still sent from memory; the user is told that a reload before then loses it.
                if db.add_pending(&pending).await.is_err() {
                    self.notices.update(|n| n.push(W::OutboxNotSaved.msg()));
                }
                self.kick();
            }),
            None => self.kick(),
        }
        Ok(())
    }

    /// Loads what this browser saved for `actor` (none for another user: that is cleared).
    async fn restore(self, actor: &Actor) {
        let legacy = take_legacy_group();
        // boot.js has usually read the saved copy already, while the wasm loaded.
        let (db, preloaded) = futures::join!(LocalDb::open(), local_db::preloaded());
        let Some(db) = db else {
            // Everything lives in this page's memory only: say so once, while it matters.
            self.notices.update(|n| n.push(W::NoLocalCopy.msg()));
            return;
        };
        self.db.set_value(Some(db.clone()));
        let saved = match preloaded {
            Some(saved) => saved,
            None => match db.load().await {
                Ok(saved) => saved,
                Err(_) => return,
            },
        };
        crate::util::mark("saved copy decoded");
        if saved
            .user
            .as_deref()
            .is_some_and(|u| u != actor.user.to_string())
        {
            let _ = db.clear().await;
            return;
        }
        if let Some(group) = legacy
            && saved.user.as_deref() == Some(actor.user.to_string().as_str())
        {
            keep_group(actor.user, group);
            self.group.set_value(Some(group));
        }
        self.base.update_value(|base| {
            for e in saved.entities {
                base.put(e);
            }
        });
        self.cookie.set_value(saved.cookie);
        self.retire.set_value(saved.retire);
        self.unread.set(saved.outbox);
        self.read_unread().await;
        self.rebase();
        // Without a cookie the copy is a first sync cut short (its cookie comes with its last
        // batch): shown, but not taken as complete — a screen that finds nothing in it says
        // "loading" until the pull, not "not found".
        if self.cookie.with_value(Option::is_some) && !self.base.with_value(State::is_empty) {
            self.set_loaded();
        }
        crate::util::mark("saved copy shown");
    }

    /// Changes waiting to reach the server: those held, and those saved but not read yet.
    pub fn waiting(self) -> usize {
        self.pending.with(Vec::len) + self.unread.with(Vec::len)
    }

    /// `waiting`, outside any reactive tracking.
    pub fn waiting_untracked(self) -> usize {
        self.pending.with_untracked(Vec::len) + self.unread.with_untracked(Vec::len)
    }

    /// Takes the saved outbox entries not read yet into `pending`. They are mutations other
    /// tabs (or this tab before a reload) left unconfirmed: this tab sends them under their own
    /// client ids, so the server still applies each exactly once. Nothing waiting, nothing to
    /// fetch (see `read_outbox`); when that fails they stay unread for the next round. Whether
    /// any joined (the view then needs a `rebase`).
    ///
    /// With what this tab holds, they go in the order they were made (`in_made_order`): another
    /// tab's change may build on one of this tab's, or on a third tab's, and must reach the
    /// server after it; changes left unread at this tab's start (their code could not be
    /// fetched) come before what was done here since.
    async fn read_unread(self) -> bool {
        let saved = self.unread.get_untracked();
        if saved.is_empty() {
            return false;
        }
        let Ok(mut outbox) = local_db::read_outbox(saved).await else {
            return false;
        };
        self.unread.set(Vec::new());
        self.pending.update(|p| {
            // Held already: restore's read and a round's (started by a change made meanwhile)
            // may both have taken it.
            outbox.retain(|o| !holds(p, o.client_id, o.id));
            p.append(&mut outbox);
            in_made_order(p);
        });
        true
    }

    /// Takes into `unread` what other tabs saved to the outbox since this tab read it: the
    /// changes of a tab closed while offline wait there, and go out from the tabs still open
    /// (under their own client ids, so applied once however many tabs send them), which show
    /// them meanwhile. Left for the next round while saved entries are still unread.
    async fn adopt_saved(self) {
        let Some(db) = self.db.get_value() else {
            return;
        };
        if !self.unread.with_untracked(Vec::is_empty) {
            return;
        }
        // Judged as things stand when asked: a change this tab made is held in `pending` before
        // it is saved, and one confirmed is in `applied` before it leaves the outbox.
        let known = |client: ClientId, id: u64| {
            self.applied
                .with_value(|applied| applied.get(&client).is_some_and(|last| id <= *last))
                || self.pending.with_untracked(|p| holds(p, client, id))
        };
        let Ok(saved) = db.outbox_unknown(known).await else {
            return;
        };
        // And again once read: the tab went on meanwhile.
        let new: Vec<String> = saved
            .into_iter()
            .filter(|((client, id), _)| !known(*client, *id))
            .map(|(_, value)| value)
            .collect();
        if !new.is_empty() {
            self.unread.set(new);
        }
    }

    /// Says the state is loaded, once: every screen that waits for it rebuilds when it changes,
    /// and setting it again at every pull rebuilt them each time.
    fn set_loaded(self) {
        if !self.loaded.get_untracked() {
            self.loaded.set(true);
        }
    }

    /// Asks the loop to push and pull soon.
    pub fn kick(self) {
        if self.running.get_value() {
            self.again.set_value(true);
            return;
        }
        self.running.set_value(true);
        spawn_local(async move {
            let mut delay = Duration::from_millis(500);
            loop {
                self.again.set_value(false);
                // Only an `online` event during this round or the wait after it counts.
                self.back_online.set_value(false);
                match self.round().await {
                    Ok(()) => {
                        self.connection.set(Connection::Online);
                        delay = Duration::from_millis(500);
                        if !self.again.get_value() {
                            break;
                        }
                    }
                    Err(e) if e.is_transient() => {
                        self.connection.set(Connection::Offline);
                        self.wait_to_retry(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(30));
                    }
                    Err(ApiError::Unauthorized) => {
                        // Nothing syncs until the user signs in again (their edits wait in
                        // the outbox till then): the frame says so.
                        self.session_ended.set(true);
                        break;
                    }
                    Err(e) => {
                        self.notices.update(|n| n.push(e.message()));
                        break;
                    }
                }
            }
            self.running.set_value(false);
        });
    }

    /// Waits `delay` before trying the server again, or less should the browser say it is
    /// back online: a phone that found its signal again syncs at once, not up to half a minute
    /// later.
    async fn wait_to_retry(self, delay: Duration) {
        const STEP: Duration = Duration::from_millis(250);
        let mut waited = Duration::ZERO;
        while waited < delay {
            if self.back_online.get_value() {
                // What a test (or whoever wonders why it synced then) reads.
                crate::util::mark("retry: back online");
                return;
            }
            gloo_timers::future::sleep(STEP).await;
            waited += STEP;
        }
    }

    /// One push (if anything is pending) and one pull.
    async fn round(self) -> Result<(), ApiError> {
        // Nothing to sync, and no one to sync as, before `start`.
        let Some(group) = self.group.get_value() else {
            return Ok(());
        };
        self.adopt_saved().await;
        if self.read_unread().await {
            self.rebase();
        }
        let batch: Vec<PendingMutation> = self
            .pending
            .with_untracked(|p| p.iter().take(push_batch_len(p)).cloned().collect());
        let retire: BTreeMap<ClientId, u64> = self
            .retire
            .get_value()
            .into_iter()
            .take(MAX_RETIRED)
            .collect();
        let pushing = !batch.is_empty() || !retire.is_empty();
        if pushing {
            let req = PushRequest {
                protocol: PROTOCOL_VERSION,
                client_group: group,
                mutations: batch,
                retire,
            };
            let res: PushResponse = match api::post("/api/sync/push", &req).await {
                Err(ApiError::Server {
                    status: 409,
                    message,
                }) => {
                    // Some client's changes don't continue the server's sequence: see
                    // `renumber`. Once they are numbered afresh, round again to send them.
                    let last = self.pull(group, false).await?;
                    let retried = self.conflict_retried.get_value();
                    self.conflict_retried.set_value(false);
                    match self.renumber(&last).await {
                        Renumbered::Moved => self.again.set_value(true),
                        // Another tab sent what was missing between the push and the pull: the
                        // pull's confirmations closed the gap. Once, lest a refusal this tab
                        // can't explain make it push again and again.
                        Renumbered::NoGap if !retried => {
                            self.conflict_retried.set_value(true);
                            self.again.set_value(true);
                        }
                        Renumbered::NoGap | Renumbered::NotMoved => self
                            .notices
                            .update(|n| n.push(prefixed(W::OfflineChangesDropped, &message))),
                    }
                    return Ok(());
                }
                other => other?,
            };
            self.conflict_retried.set_value(false);
            // Committed with the push: the server knows, and need not be told again.
            if !req.retire.is_empty() {
                self.retire
                    .update_value(|r| shared::sync::forget_told(r, &req.retire));
                if let Some(db) = self.db.get_value() {
                    let _ = db.forget_retired(&req.retire).await;
                }
            }
            for r in res.results {
                if let Outcome::Rejected { reason } = r.outcome {
                    let new = self
                        .told
                        .try_update_value(|t| t.insert((r.client_id, r.id)))
                        .unwrap_or(true);
                    if new {
                        self.notices
                            .update(|n| n.push(prefixed(W::ChangeRefused, &reason.message())));
                    }
                }
            }
        }
        let waiting = self.pending.with_untracked(Vec::len);
        self.pull(group, !pushing).await?;
        // A long outbox goes out batch after batch, not a batch a minute: round again while
        // the push moved it on.
        if pushing
            && self
                .pending
                .with_untracked(|p| !p.is_empty() && p.len() < waiting)
        {
            self.again.set_value(true);
        }
        Ok(())
    }

    /// Moves the changes of every client whose waiting changes don't continue the server's
    /// sequence for it (`last`: its last applied id; `shared::sync::sequence_break`, the rule
    /// the server refuses them by) to a fresh client id, numbered from 1; whether it did. The
    /// server lost the changes before them (it was restored from a backup), or one of them never
    /// reached the outbox (a tab closed mid-write). Either way the server never applied them, so
    /// under a new client they apply once. The move is one transaction of the outbox, so of the
    /// tabs holding them exactly one makes it; that tab then starts afresh (a reload) from the
    /// outbox, which now holds all of them renumbered, including any it never had in memory,
    /// and a change made meanwhile that landed under the old client is moved at the next gap.
    async fn renumber(self, last: &BTreeMap<ClientId, u64>) -> Renumbered {
        let gapped: Vec<ClientId> = self.pending.with_untracked(|pending| {
            let clients: BTreeSet<ClientId> = pending.iter().map(|p| p.client_id).collect();
            clients
                .into_iter()
                .filter(|client| {
                    // In id order: a gap is changes missing, never changes held out of order
                    // (that would move changes another tab still sends under their ids).
                    let mut ids: Vec<u64> = pending
                        .iter()
                        .filter(|p| p.client_id == *client)
                        .map(|p| p.id)
                        .collect();
                    shared::sorting::sort(&mut ids);
                    sequence_break(last.get(client).copied().unwrap_or(0), ids).is_some()
                })
                .collect()
        });
        if gapped.is_empty() {
            return Renumbered::NoGap;
        }
        let Some(db) = self.db.get_value() else {
            // No outbox (IndexedDB unavailable): this tab alone holds its changes.
            self.pending.update(|pending| {
                for old in &gapped {
                    let applied = last.get(old).copied().unwrap_or(0);
                    let theirs: Vec<PendingMutation> = pending
                        .iter()
                        .filter(|p| p.client_id == *old)
                        .cloned()
                        .collect();
                    pending.retain(|p| p.client_id != *old);
                    let fresh = ClientId::new_v7();
                    let (moved, retired) = local_db::moved(theirs, applied, fresh);
                    if let Some(upto) = retired {
                        self.retire
                            .update_value(|r| shared::sync::note_retired(r, *old, upto));
                    }
                    if *old == self.client.get_value() {
                        self.client.set_value(fresh);
                        self.next_id.set_value(moved.len() as u64 + 1);
                    }
                    pending.extend(moved);
                }
            });
            return Renumbered::Moved;
        };
        for old in &gapped {
            let applied = last.get(old).copied().unwrap_or(0);
            if db
                .take_over(*old, applied, ClientId::new_v7())
                .await
                .is_err()
            {
                return Renumbered::NotMoved;
            }
        }
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
        Renumbered::Moved
    }

    /// Returns each client's last applied id, as the server said.
    async fn pull(
        self,
        group: ClientGroupId,
        early: bool,
    ) -> Result<BTreeMap<ClientId, u64>, ApiError> {
        const PATH: &str = "/api/sync/pull";
        let req = PullRequest {
            protocol: PROTOCOL_VERSION,
            client_group: group,
            cookie: self.cookie.get_value(),
        };
        let res: PullResponse = if early {
            api::post_prefetched(PATH, &req, "reformboardPull").await?
        } else {
            api::post(PATH, &req).await?
        };
        // Nothing new (most pulls after a poke for another unit's change, the one after a start
        // from the saved copy, the minutely one): the screen stays as it is. Re-deriving it from
        // an equal state would redo every board's faces and lanes for nothing.
        let unchanged = !res.reset && res.puts.is_empty() && res.deletes.is_empty();
        if !unchanged {
            // Decoding a big pull (a first visit: a thousand cards) and building the screen from
            // it are each a long task on a slow phone; in one, the page would not answer a tap
            // for both.
            util::next_task().await;
        }
        let flashed = if res.reset {
            vec![]
        } else {
            self.changed_by_others(&res.puts)
        };
        // The screen first, the saved copy after: writing a big pull down (each entity encoded
        // again) is a long task of its own, and the board should not wait behind it.
        self.base.update_value(|base| {
            if res.reset {
                *base = State::new();
            }
            for key in &res.deletes {
                base.remove(key);
            }
            for entity in &res.puts {
                base.put(entity.clone());
            }
        });
        self.cookie.set_value(Some(res.cookie.clone()));
        self.applied.set_value(res.last_mutation_ids.clone());
        // Every client's confirmed mutations leave the outbox, other tabs' too.
        let is_confirmed = |m: &PendingMutation| {
            res.last_mutation_ids
                .get(&m.client_id)
                .is_some_and(|last| m.id <= *last)
        };
        let confirmed: Vec<PendingMutation> = self
            .pending
            .with_untracked(|p| p.iter().filter(|m| is_confirmed(m)).cloned().collect());
        if !confirmed.is_empty() {
            self.pending.update(|p| p.retain(|m| !is_confirmed(m)));
        }
        // A confirmed mutation with no effect in the pull (rejected, or a duplicate) must leave
        // the screen, so only a pull that changed nothing and confirmed nothing skips this.
        if !(unchanged && confirmed.is_empty()) {
            self.rebase();
        }
        self.set_loaded();
        self.flash(flashed);

        util::after_paint().await;
        if let (Some(db), Some(actor)) = (self.db.get_value(), self.actor.get_value()) {
            let user = actor.user.to_string();
            let saved = if self.resave.get_value() {
                let all: Vec<Entity> = self.base.with_value(|b| b.iter().cloned().collect());
                db.save_pull(true, &all, &[], &res.cookie, &user).await
            } else {
                db.save_pull(res.reset, &res.puts, &res.deletes, &res.cookie, &user)
                    .await
            };
            self.resave.set_value(saved.is_err());
            // Only once the pull that holds their effects is saved: a reload in between must
            // find them in one or the other. (Unsaved, they stay and are sent again: the
            // server answers "duplicate".)
            if saved.is_ok() {
                let _ = db.confirm(&confirmed).await;
            }
        }
        util::announce_started();
        Ok(res.last_mutation_ids)
    }

    /// Tasks in `puts` that differ from what this tab shows, or that have a comment or evidence
    /// it has not seen: someone else changed them.
    fn changed_by_others(self, puts: &[Entity]) -> Vec<TaskId> {
        self.view.with_untracked(|view| {
            puts.iter()
                .filter_map(|e| {
                    let task = match e {
                        Entity::Task(t) => Some(t.id),
                        Entity::Comment(c) => c.task,
                        Entity::Attachment(a) => a.to.task(),
                        _ => None,
                    }?;
                    (view.get(&e.key()) != Some(e)).then_some(task)
                })
                .collect()
        })
    }

    fn flash(self, ids: Vec<TaskId>) {
        if ids.is_empty() {
            return;
        }
        self.recent.update(|r| r.extend(ids.iter().copied()));
        spawn_local(async move {
            gloo_timers::future::sleep(Duration::from_millis(2500)).await;
            self.recent.update(|r| {
                for id in &ids {
                    r.remove(id);
                }
            });
        });
    }

    /// view = base + pending, re-applied in order. A pending mutation that no longer applies
    /// (someone else changed the card) is kept for the server to decide.
    fn rebase(self) {
        let Some(actor) = self.actor.get_value() else {
            return;
        };
        let mut view = self.base.with_value(State::clone);
        self.pending.with_untracked(|pending| {
            for p in pending {
                let _ = apply(&mut view, &actor, &p.mutation);
            }
        });
        self.view.set(view);
    }

    /// Signing out: the saved copy of the plan goes from this browser, the outbox stays for
    /// the user's next sign-in (`LocalDb::forget_copy`).
    pub async fn forget_copy(self) {
        if let Some(db) = self.db.get_value() {
            let _ = db.forget_copy().await;
        }
    }

    /// Keeps a WebSocket open for pokes, reconnecting with backoff for as long as the session
    /// holds. The wait grows from half a second to 30 s while connecting fails (a refused
    /// upgrade — 401, 429 — or no network), and starts over once a socket has delivered
    /// something; each wait is drawn from half to all of it, so that a restarted server is not
    /// met by every browser at the same instant.
    async fn listen(self) {
        const FIRST: Duration = Duration::from_millis(500);
        let mut delay = FIRST;
        loop {
            if self.session_ended.get_untracked() {
                // Nothing to listen for until the user signs in again (a new page).
                return;
            }
            if let Some(mut socket) = ws_url().and_then(|url| WebSocket::open(&url).ok()) {
                // Anything may have changed while we were not listening.
                self.kick();
                let opened = js_sys::Date::now();
                while let Some(msg) = socket.next().await {
                    let Ok(msg) = msg else {
                        break;
                    };
                    // It connected and speaks: the next drop waits from the start again.
                    delay = FIRST;
                    let Message::Text(text) = msg else {
                        continue;
                    };
                    if let Ok(ServerMessage::Poke { .. }) = serde_json::from_str(&text) {
                        self.kick();
                    }
                }
                // Open a good while (the server's pings never reach the page): it worked.
                if js_sys::Date::now() - opened > 20_000.0 {
                    delay = FIRST;
                }
            }
            let jittered = delay.mul_f64(0.5 + js_sys::Math::random() / 2.0);
            gloo_timers::future::sleep(jittered).await;
            delay = (delay * 2).min(Duration::from_secs(30));
        }
    }
}

impl Default for Sync {
    fn default() -> Self {
        Self::new()
    }
}

fn ws_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/api/sync/ws", location.host().ok()?))
}

/// The sync engine from context.
pub fn use_sync() -> Sync {
    use_context::<Sync>().unwrap_or_default()
}
