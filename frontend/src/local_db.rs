//! The browser's durable copy (IndexedDB, through rexie): the entities of the last pull, the
//! cookie, and the outbox of mutations the server has not confirmed. This is what lets a phone
//! open the app with no connection, keep editing, survive a reload and sync later.
//!
//! Values are stored as JSON strings: the same serde types as the wire, no second schema.

use crate::chunk::NotLoaded;
use rexie::{ObjectStore, Rexie, TransactionMode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::entity::{Entity, EntityKey};
use shared::ids::ClientId;
use shared::sync::{Cookie, PendingMutation, forget_told, note_retired};
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

const NAME: &str = "reformboard";
const ENTITIES: &str = "entities";
const META: &str = "meta";
const OUTBOX: &str = "outbox";

/// What was saved.
#[derive(Default)]
pub struct Saved {
    /// Entities of the last pull.
    pub entities: Vec<Entity>,
    /// Its cookie.
    pub cookie: Option<Cookie>,
    /// The user it belongs to.
    pub user: Option<String>,
    /// Unconfirmed mutations of every tab, as saved (JSON): `read_outbox` decodes them.
    pub outbox: Vec<String>,
    /// Clients whose changes a `take_over` moved, not yet told to the server; read with the
    /// outbox, so a tab never has the moved changes without it.
    pub retire: BTreeMap<ClientId, u64>,
}

/// An open database; cheap to clone.
#[derive(Clone)]
pub struct LocalDb(Rc<Rexie>);

fn js(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn encode<T: Serialize>(v: &T) -> Option<JsValue> {
    serde_json::to_string(v).ok().map(|s| js(&s))
}

fn decode<T: DeserializeOwned>(v: &JsValue) -> Option<T> {
    v.as_string().and_then(|s| serde_json::from_str(&s).ok())
}

/// The outbox key: client id, then the id zero-padded so keys sort in mutation order.
fn outbox_key(p: &PendingMutation) -> JsValue {
    js(&format!("{}:{:016}", p.client_id, p.id))
}

/// The client and id an outbox key names (see `outbox_key`).
fn outbox_entry(key: &JsValue) -> Option<(ClientId, u64)> {
    let key = key.as_string()?;
    let (client, id) = key.split_once(':')?;
    Some((client.parse().ok()?, id.parse().ok()?))
}

type Result<T> = std::result::Result<T, rexie::Error>;

/// Entities written per transaction when a pull brings many (see `LocalDb::save_pull`): each
/// transaction is a task of its own, and with a hundred entities (encoded again, each put
/// across into the browser) the longest took 34–40 ms on a phone at 4× CPU slowdown (60 ms on a
/// slower day), near the 50 ms past which a tap waits; with twenty-five, 11–16 ms, and the
/// whole save no longer (`loadgen board-profile --first-visit`).
const SAVE_BATCH: usize = 25;

async fn put_entities(store: &rexie::Store, entities: &[Entity]) -> Result<()> {
    store
        .put_all(
            entities
                .iter()
                .filter_map(|e| Some((encode(e)?, Some(js(&e.key().0))))),
        )
        .await
}

/// `mutations` (of one client, in id order) under client `to`, numbered 1, 2, ….
fn numbered_from_one(mutations: Vec<PendingMutation>, to: ClientId) -> Vec<PendingMutation> {
    (1..)
        .zip(mutations)
        .map(|(id, p)| PendingMutation {
            client_id: to,
            id,
            mutation: p.mutation,
        })
        .collect()
}

/// What `boot.js` read from the database while the wasm was loading, taken once: a second call
/// (another sign-in in this tab) reads afresh. None when there was nothing to read or it failed.
pub async fn preloaded() -> Option<Saved> {
    let window: JsValue = web_sys::window()?.into();
    let key = js("reformboardSaved");
    let promise = js_sys::Reflect::get(&window, &key).ok()?;
    js_sys::Reflect::set(&window, &key, &JsValue::NULL).ok()?;
    let promise = promise.dyn_into::<js_sys::Promise>().ok()?;
    let saved = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    if saved.is_null() || saved.is_undefined() {
        return None;
    }
    let field = |name: &str| js_sys::Reflect::get(&saved, &js(name)).ok();
    let list = |name: &str| -> Vec<JsValue> {
        field(name)
            .and_then(|v| v.dyn_into::<js_sys::Array>().ok())
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    };
    Some(Saved::decode(
        &list("entities"),
        field("cookie"),
        field("user"),
        field("retire"),
        &list("outbox"),
    ))
}

impl Saved {
    /// The stores' values (JSON strings), decoded but for the outbox's (`read_outbox`); a value
    /// that no longer decodes is skipped.
    fn decode(
        entities: &[JsValue],
        cookie: Option<JsValue>,
        user: Option<JsValue>,
        retire: Option<JsValue>,
        outbox: &[JsValue],
    ) -> Saved {
        Saved {
            entities: entities.iter().filter_map(decode).collect(),
            cookie: cookie.as_ref().and_then(decode),
            user: user.and_then(|v| v.as_string()),
            outbox: outbox.iter().filter_map(JsValue::as_string).collect(),
            retire: retire.as_ref().and_then(decode).unwrap_or_default(),
        }
    }
}

/// Whether `save_pull` must stop at `tx` (see there), and if so whether `tx` is kept: None to
/// go on. When nothing of this save was written yet (`started`: some of it was) and the saved
/// copy is newer, `tx` is dropped; when a reset under way (`reset`) finds a saved cookie, `tx`
/// removes it and is kept. An update under way goes on whatever it finds: the cookie it ends
/// with is no newer than anything it wrote, and a newer entity another tab wrote meanwhile is
/// sent again by the next pull from that cookie.
async fn interrupted(
    tx: &rexie::Transaction,
    cookie: &Cookie,
    started: bool,
    reset: bool,
) -> Result<Option<bool>> {
    if started && !reset {
        return Ok(None);
    }
    let meta = tx.store(META)?;
    let saved = meta.get(js("cookie")).await?;
    let saved = saved.as_ref().and_then(decode::<Cookie>);
    if started {
        if saved.is_none() {
            return Ok(None);
        }
        meta.delete(js("cookie")).await?;
        return Ok(Some(true));
    }
    Ok(saved
        .is_some_and(|saved| saved.is_ahead_of(cookie))
        .then_some(false))
}

/// A client's changes that `take_over` moves (those the server has not applied: above
/// `applied`), numbered from 1 under `to`; and up to which id the server may count the old
/// client's as applied (`PushRequest::retire`), so a tab that still holds the originals can't
/// apply them again. Only as far as the moved ids run on without a break: a change missing
/// between two moved ones (a tab's write to the outbox that failed) was not moved, and must not
/// be counted. A break before the first is what a restore leaves (the changes the backup
/// lacked), and is counted.
pub fn moved(
    theirs: Vec<PendingMutation>,
    applied: u64,
    to: ClientId,
) -> (Vec<PendingMutation>, Option<u64>) {
    let mut waiting: Vec<PendingMutation> = theirs.into_iter().filter(|p| p.id > applied).collect();
    shared::sorting::sort_by_key(&mut waiting, |p| p.id);
    let ids = || waiting.iter().map(|p| p.id);
    let retired = ids()
        .next()
        .and_then(|first| shared::sync::unbroken_end(first - 1, ids()));
    (numbered_from_one(waiting, to), retired)
}

/// The outbox's saved values (`Saved::outbox`) as mutations; a value that no longer decodes is
/// skipped. Err when the code for it could not be fetched: the changes stay in the outbox for a
/// later start.
///
/// Reading mutations back is the only use of their decoders in the app, a sixth of its wasm,
/// and a browser with nothing waiting never needs them. So they are a chunk of their own
/// (`cargo xtask build-site` splits it out), fetched on first use — the service worker
/// precaches it for a start with no connection — instead of holding up every first screen.
/// Once fetched, a call finishes without waiting for anything (`take_over` relies on that).
#[wasm_split_helpers::wasm_split(outbox, fallible)]
pub fn read_outbox(values: Vec<String>) -> std::result::Result<Vec<PendingMutation>, NotLoaded> {
    Ok(values
        .iter()
        .filter_map(|s| serde_json::from_str(s).ok())
        .collect())
}

/// `take_over` moved nothing: the database refused, or the outbox's code could not be fetched.
#[derive(Debug)]
pub struct NotMoved;

impl From<rexie::Error> for NotMoved {
    fn from(_: rexie::Error) -> Self {
        NotMoved
    }
}

impl From<NotLoaded> for NotMoved {
    fn from(_: NotLoaded) -> Self {
        NotMoved
    }
}

/// The meta key of the clients retired by `take_over`.
const RETIRE: &str = "retire";

async fn read_retire(meta: &rexie::Store) -> Result<BTreeMap<ClientId, u64>> {
    let saved = meta.get(js(RETIRE)).await?;
    Ok(saved.as_ref().and_then(decode).unwrap_or_default())
}

/// Commits `tx` (`keep`) or aborts it.
async fn finish(tx: rexie::Transaction, keep: bool) -> Result<()> {
    if keep {
        tx.done().await?;
    } else {
        tx.abort().await?;
    }
    Ok(())
}

impl LocalDb {
    /// Opens (creating if needed) the database; None where IndexedDB is unavailable.
    pub async fn open() -> Option<LocalDb> {
        Rexie::builder(NAME)
            .version(1)
            .add_object_store(ObjectStore::new(ENTITIES))
            .add_object_store(ObjectStore::new(META))
            .add_object_store(ObjectStore::new(OUTBOX))
            .build()
            .await
            .ok()
            .map(|db| LocalDb(Rc::new(db)))
    }

    /// Everything saved.
    pub async fn load(&self) -> Result<Saved> {
        let tx = self
            .0
            .transaction(&[ENTITIES, META, OUTBOX], TransactionMode::ReadOnly)?;
        let entities = tx.store(ENTITIES)?.get_all(None, None).await?;
        let meta = tx.store(META)?;
        let cookie = meta.get(js("cookie")).await?;
        let user = meta.get(js("user")).await?;
        let retire = meta.get(js(RETIRE)).await?;
        let outbox = tx.store(OUTBOX)?.get_all(None, None).await?;
        tx.done().await?;
        Ok(Saved::decode(&entities, cookie, user, retire, &outbox))
    }

    /// Records a pull: replaces everything on a reset, else applies the changes.
    ///
    /// A pull of many entities (a first sync: a thousand cards) is written [`SAVE_BATCH`] at a
    /// time, one transaction each, so the page stays responsive while it saves; in one
    /// transaction it was one ~300 ms task on a throttled phone, just after the board showed.
    /// The saved cookie never claims more than the saved entities hold — it is written with the
    /// last batch, and a reset removes the old one with the first — so a page closed between
    /// batches pulls again, at its next start, what was not saved yet.
    pub async fn save_pull(
        &self,
        reset: bool,
        puts: &[Entity],
        deletes: &[EntityKey],
        cookie: &Cookie,
        user: &str,
    ) -> Result<()> {
        // Another tab of this browser may save a pull while this one is being written (a tab
        // that just started answers its first pull with what boot.js fetched while the wasm
        // loaded, an older view). Each transaction first looks at the saved cookie: before this
        // save has written anything, a newer one means the saved copy is ahead and stays; once a
        // reset has cleared the copy (and its cookie), any cookie means another tab wrote into
        // the half-written copy, which is now a mix: its cookie goes, so the next start pulls
        // everything again rather than trust it. An update keeps the old cookie (which the
        // entities it has written so far are all newer than) until its last batch writes its own.
        let mut batches: Vec<&[Entity]> = puts.chunks(SAVE_BATCH).collect();
        let last = batches.pop().unwrap_or_default();
        // A reset clears the old copy in the first transaction, whichever that is.
        let mut to_clear = reset;
        let mut started = false;
        for batch in batches {
            let tx = self
                .0
                .transaction(&[ENTITIES, META], TransactionMode::ReadWrite)?;
            if let Some(keep) = interrupted(&tx, cookie, started, reset).await? {
                return finish(tx, keep).await;
            }
            let store = tx.store(ENTITIES)?;
            if std::mem::take(&mut to_clear) {
                store.clear().await?;
                let meta = tx.store(META)?;
                meta.delete(js("cookie")).await?;
                // Whose copy it is, from the first batch on: a page closed before the last
                // must not leave entities that another user's start would take for theirs.
                meta.put(&js(user), Some(&js("user"))).await?;
            }
            put_entities(&store, batch).await?;
            tx.done().await?;
            started = true;
        }
        let tx = self
            .0
            .transaction(&[ENTITIES, META], TransactionMode::ReadWrite)?;
        if let Some(keep) = interrupted(&tx, cookie, started, reset).await? {
            return finish(tx, keep).await;
        }
        let store = tx.store(ENTITIES)?;
        if to_clear {
            store.clear().await?;
        }
        for key in deletes {
            store.delete(js(&key.0)).await?;
        }
        put_entities(&store, last).await?;
        let meta = tx.store(META)?;
        if let Some(c) = encode(cookie) {
            meta.put(&c, Some(&js("cookie"))).await?;
        }
        meta.put(&js(user), Some(&js("user"))).await?;
        tx.done().await?;
        Ok(())
    }

    /// Adds a mutation to the outbox.
    pub async fn add_pending(&self, p: &PendingMutation) -> Result<()> {
        let tx = self.0.transaction(&[OUTBOX], TransactionMode::ReadWrite)?;
        if let Some(v) = encode(p) {
            tx.store(OUTBOX)?.put(&v, Some(&outbox_key(p))).await?;
        }
        tx.done().await?;
        Ok(())
    }

    /// The outbox's saved values (JSON, as `Saved::outbox`) of the changes `known` does not
    /// know, each with its client and id: told apart by key alone, so that only new values are
    /// read, and without the code that decodes them.
    pub async fn outbox_unknown(
        &self,
        known: impl Fn(ClientId, u64) -> bool,
    ) -> Result<Vec<((ClientId, u64), String)>> {
        let tx = self.0.transaction(&[OUTBOX], TransactionMode::ReadOnly)?;
        let store = tx.store(OUTBOX)?;
        let mut unknown = Vec::new();
        for key in store.get_all_keys(None, None).await? {
            let Some((client, id)) = outbox_entry(&key) else {
                continue;
            };
            if known(client, id) {
                continue;
            }
            if let Some(value) = store.get(key).await?.and_then(|v| v.as_string()) {
                unknown.push(((client, id), value));
            }
        }
        tx.done().await?;
        Ok(unknown)
    }

    /// Moves `from`'s mutations in the outbox that the server has not applied (ids above
    /// `applied`) to the new client `to`, numbered from 1 in their order, in one transaction,
    /// and drops the ones it has. Nothing to move when another tab moved them first (see
    /// `Sync::renumber`).
    pub async fn take_over(
        &self,
        from: ClientId,
        applied: u64,
        to: ClientId,
    ) -> std::result::Result<(), NotMoved> {
        // Fetched before the transaction: IndexedDB commits a transaction that waits on the
        // network, and `read_outbox` inside it must not.
        read_outbox(Vec::new()).await?;
        let tx = self
            .0
            .transaction(&[OUTBOX, META], TransactionMode::ReadWrite)?;
        let store = tx.store(OUTBOX)?;
        let saved = store.get_all(None, None).await?;
        let theirs: Vec<PendingMutation> =
            read_outbox(saved.iter().filter_map(JsValue::as_string).collect())
                .await?
                .into_iter()
                .filter(|p| p.client_id == from)
                .collect();
        for p in &theirs {
            store.delete(outbox_key(p)).await?;
        }
        let (moved, retired) = moved(theirs, applied, to);
        if let Some(upto) = retired {
            let meta = tx.store(META)?;
            let mut retire = read_retire(&meta).await?;
            note_retired(&mut retire, from, upto);
            if let Some(v) = encode(&retire) {
                meta.put(&v, Some(&js(RETIRE))).await?;
            }
        }
        for p in moved {
            if let Some(v) = encode(&p) {
                store.put(&v, Some(&outbox_key(&p))).await?;
            }
        }
        tx.done().await?;
        Ok(())
    }

    /// Forgets what a push that the server committed told it (`sent`), keeping any later
    /// move of the same client.
    pub async fn forget_retired(&self, sent: &BTreeMap<ClientId, u64>) -> Result<()> {
        let tx = self.0.transaction(&[META], TransactionMode::ReadWrite)?;
        let meta = tx.store(META)?;
        let mut retire = read_retire(&meta).await?;
        forget_told(&mut retire, sent);
        match encode(&retire) {
            Some(v) if !retire.is_empty() => {
                meta.put(&v, Some(&js(RETIRE))).await?;
            }
            _ => meta.delete(js(RETIRE)).await?,
        }
        tx.done().await?;
        Ok(())
    }

    /// Removes confirmed mutations: those at or below each client's last applied id.
    pub async fn confirm(&self, confirmed: &[PendingMutation]) -> Result<()> {
        if confirmed.is_empty() {
            return Ok(());
        }
        let tx = self.0.transaction(&[OUTBOX], TransactionMode::ReadWrite)?;
        let store = tx.store(OUTBOX)?;
        for p in confirmed {
            store.delete(outbox_key(p)).await?;
        }
        tx.done().await?;
        Ok(())
    }

    /// Whose saved copy this is (a user id), and how many of their changes wait in the outbox.
    pub async fn unsent(&self) -> Result<(Option<String>, u32)> {
        let tx = self
            .0
            .transaction(&[META, OUTBOX], TransactionMode::ReadOnly)?;
        let user = tx.store(META)?.get(js("user")).await?;
        let waiting = tx.store(OUTBOX)?.count(None).await?;
        tx.done().await?;
        Ok((user.and_then(|v| v.as_string()), waiting))
    }

    /// Forgets everything (another user signed in on this browser).
    /// Forgets the saved copy of the plan and its cookie, keeping the outbox and whose it is:
    /// what signing out leaves on a shared computer. The changes still waiting go out at the
    /// same user's next sign-in; nobody meanwhile reads the copy (another unit's drafts among
    /// it) from the browser's storage.
    pub async fn forget_copy(&self) -> Result<()> {
        let tx = self
            .0
            .transaction(&[ENTITIES, META], TransactionMode::ReadWrite)?;
        tx.store(ENTITIES)?.clear().await?;
        tx.store(META)?.delete(js("cookie")).await?;
        tx.done().await?;
        Ok(())
    }

    /// Empties every store.
    pub async fn clear(&self) -> Result<()> {
        let tx = self
            .0
            .transaction(&[ENTITIES, META, OUTBOX], TransactionMode::ReadWrite)?;
        for name in [ENTITIES, META, OUTBOX] {
            tx.store(name)?.clear().await?;
        }
        tx.done().await?;
        Ok(())
    }
}
