//! Applying pushed mutations: each exactly once, in order per client, with the client's last
//! mutation id stored in the same transaction as the effects.

use super::attach;
use super::locking::{self, SpaceLock};
use crate::audit::AuditEntry;
use crate::batch::{Arg, Batch, Handle};
use crate::db::{Db, DbKind, IN_LIST_MAX, now_millis};
use crate::entity_store;
use crate::error::{ApiError, ApiResult};
use shared::actor::Actor;
use shared::entity::{Entity, EntityKey, Millis, Space};
use shared::ids::{ClientGroupId, ClientId};
use shared::message::Msg;
use shared::msg;
use shared::mutation::{Change, Mutation, Rejection, apply};
use shared::op::SpaceOf;
use shared::state::State;
use shared::sync::{
    MAX_PUSH_BATCH, MAX_RETIRED, MutationResult, Outcome, PendingMutation, PushRequest,
    PushResponse, sequence_break,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

/// How often a push that hit a transient failure (lock, serialization, deadlock) is retried
/// here before the client is told to retry.
const RETRIES: u32 = 3;

/// Whose clock the times of a push's changes come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Times {
    /// A client's, which may be wrong or set back on purpose (a report dated before its
    /// deadline). Each change's time is moved to no earlier than its browser's (client
    /// group's) last push less [`CLOCK_SLACK_MS`], and no later than the server's now:
    /// [`Mutation::with_time_within`]. A browser that worked offline made its changes after
    /// its last push, so they keep their times; what can still be dated back is only as far
    /// as a browser's last push, which a unit would have to have left idle since, and never
    /// more than [`MAX_OFFLINE_MS`].
    ///
    /// The bound is coarse where a browser's changes wait behind another of its pushes: a
    /// group's first push counts as its own last, and changes that follow another push of the
    /// same browser (a second tab that was offline too, an outbox of more than
    /// `MAX_PUSH_BATCH`) are dated no earlier than that push less the slack.
    Client,
    /// The server's own (the seed, the demo year, the reminder job): taken as given, and the
    /// audit trail (what the history of a card or an item shows) is dated by them too, so
    /// the demo's 2014 reads as 2014 there as on the cards.
    Server,
}

/// How far behind the server's a client's clock may run without its changes being re-dated:
/// a phone's clock drifts, and a change is timed before it travels. It is all the earlier a
/// change can be dated than the group's last push, far less than a day, which is what
/// deadlines count in.
pub const CLOCK_SLACK_MS: i64 = 10 * 60 * 1000;

/// The furthest back a change keeps its own time, however long ago its browser last pushed:
/// three days. Changes made offline for longer still apply, dated three days back. Without it,
/// a browser left idle since March could push in April a task "done on 30 March", before a
/// deadline it missed, and the assessment would count it on time.
pub const MAX_OFFLINE_MS: i64 = 3 * 24 * 3_600_000;

/// The spaces a push changed, and whether the other processes were told (`poke::at_commit`):
/// what `PokeHub::pushed` needs to tell this one's clients.
#[derive(Debug, Default)]
pub struct Changed {
    /// The spaces.
    pub spaces: BTreeSet<Space>,
    /// Whether the push's NOTIFY went out with its commit (PostgreSQL).
    pub notified: bool,
}

/// Applies `req` for `actor`; returns the per-mutation results and what changed (`Changed`).
pub async fn push(
    db: &Db,
    actor: &Actor,
    req: &PushRequest,
    times: Times,
) -> ApiResult<(PushResponse, Changed)> {
    push_with_changes(db, actor, req, times)
        .await
        .map(|(response, spaces, _)| (response, spaces))
}

/// `push`, also returning the committed changes that may concern someone by e-mail
/// (`crate::mail::worth_mailing`).
pub async fn push_with_changes(
    db: &Db,
    actor: &Actor,
    req: &PushRequest,
    times: Times,
) -> ApiResult<(PushResponse, Changed, Vec<Change>)> {
    if req.mutations.len() > MAX_PUSH_BATCH {
        return Err(ApiError::bad_request(msg!(
            "一次最多提交{MAX_PUSH_BATCH}项更改",
            "At most {MAX_PUSH_BATCH} changes can be sent at once"
        )));
    }
    // Ids start at 1; a 0 would otherwise be answered "duplicate" and silently lost.
    if req.mutations.iter().any(|m| m.id == 0) || req.retire.values().any(|id| *id == 0) {
        return Err(ApiError::bad_request(Msg::new(
            "更改编号从1开始",
            "Change ids start at 1",
        )));
    }
    if req.retire.len() > MAX_RETIRED {
        return Err(ApiError::bad_request(msg!(
            "一次最多注销{MAX_RETIRED}个同步客户端",
            "At most {MAX_RETIRED} sync clients can be retired at once"
        )));
    }
    let mut attempt = 0;
    let mut poke = true;
    loop {
        match push_once(db, actor, req, times, poke).await {
            Err(ApiError::Unavailable(e)) if attempt < RETRIES => {
                tracing::debug!(error = %e, attempt, "retrying push after a transient failure");
            }
            Ok(Attempt::Again) if attempt < RETRIES => {
                tracing::debug!(
                    attempt,
                    "retrying push that met an entity created meanwhile"
                );
            }
            Ok(Attempt::Again) => {
                return Err(ApiError::Internal(anyhow::anyhow!(
                    "a push kept rewriting an entity outside the spaces it locked"
                )));
            }
            Ok(Attempt::WithoutPoke) => {
                // Pokes are a courtesy (every browser pulls within a minute anyway); the change
                // is not to be refused for one.
                tracing::warn!(
                    "PostgreSQL's NOTIFY queue is full (is a process stuck?): this change is \
                     saved without a poke, and other browsers see it at their next pull"
                );
                poke = false;
                continue;
            }
            Ok(Attempt::Done(done)) => return Ok(done),
            Err(e) => return Err(e),
        }
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(10 << attempt)).await;
    }
}

/// Claimed client groups remembered per process; past this many the memory starts afresh.
const CLAIMED_GROUPS_MAX: usize = 100_000;

/// Claims the client group for `actor` on first use; refuses a group that belongs to someone
/// else. A claim never changes, so a group this process has seen claimed (`Db::claimed_groups`,
/// filled once the claim is committed) is not asked about again: one statement fewer in every
/// push after a client's first. Returns the owner to remember when the database was asked.
async fn check_group(
    db: &Db,
    tx: &mut Transaction<'_, Any>,
    group: ClientGroupId,
    actor: &Actor,
) -> ApiResult<Option<String>> {
    let group = group.to_string();
    let known = db
        .claimed_groups
        .lock()
        .ok()
        .and_then(|claimed| claimed.get(&group).cloned());
    let (owner, asked) = match known {
        Some(owner) => (owner, false),
        None => {
            // One statement: a claim that, on conflict, reads the owner (the no-op update is
            // what makes RETURNING answer for an existing row, in both SQLite and PostgreSQL).
            let owner: String = sqlx::query_scalar(
                "INSERT INTO client_group (id, user_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET user_id = client_group.user_id RETURNING user_id",
            )
            .bind(&group)
            .bind(actor.user.to_string())
            .bind(now_millis())
            .fetch_one(&mut **tx)
            .await?;
            (owner, true)
        }
    };
    if owner != actor.user.to_string() {
        return Err(group_of_another_user());
    }
    Ok(asked.then_some(owner))
}

/// Remembers a committed claim (see `check_group`).
fn remember_claim(db: &Db, group: ClientGroupId, owner: String) {
    if let Ok(mut claimed) = db.claimed_groups.lock() {
        if claimed.len() >= CLAIMED_GROUPS_MAX {
            claimed.clear();
        }
        claimed.insert(group.to_string(), owner);
    }
}

/// The refusal of a client group that another user claimed (pushes and pulls alike).
pub(super) fn group_of_another_user() -> ApiError {
    ApiError::forbidden(Msg::new(
        "该同步客户端属于其他用户",
        "This sync client belongs to another user",
    ))
}

/// Adds to `batch`, for each client in `pushed` (with its highest id in the push), the
/// statement that reads its last applied mutation id before this push, creating rows for new
/// clients; on PostgreSQL the rows stay locked until commit, so two pushes of one client can't
/// interleave. `last_ids` reads the answers.
///
/// The same statement records the client's last id after the push: every mutation of the push
/// advances it, applied or rejected, and a push that fails (a gap, a transient error) is rolled
/// back whole, so it is the higher of the two ids, known before anything is applied.
fn add_clients(
    batch: &mut Batch,
    group: ClientGroupId,
    pushed: &BTreeMap<ClientId, u64>,
) -> ApiResult<Vec<(ClientId, Handle)>> {
    pushed
        .iter()
        .map(|(client, highest)| Ok((*client, add_client(batch, *client, group, *highest)?)))
        .collect()
}

/// The statement of `add_clients` for one client: its last id raised to `id` (never lowered),
/// the one it replaced kept; it answers the client's group and that previous id.
fn add_client(
    batch: &mut Batch,
    client: ClientId,
    group: ClientGroupId,
    id: u64,
) -> ApiResult<Handle> {
    Ok(batch.add(
        client_upsert("($1, $2, $3, $4)"),
        vec![
            Arg::Text(client.to_string()),
            Arg::Text(group.to_string()),
            Arg::Int(id_i64(id)?),
            Arg::Int(now_millis()),
        ],
    ))
}

/// The query for when a client of the group `group` (a placeholder) last pushed: one row,
/// NULL when none has. Both ways of preparing a push ask it (`locking` as a sub-query).
pub(super) fn group_last_push(group: &str) -> String {
    format!("SELECT max(updated_at) FROM client WHERE client_group = {group}")
}

/// The statement that raises clients' last ids, given as `VALUES` rows of (id, group, id,
/// time): each to the id given, never lower, the one it replaced kept as the previous. It
/// answers each client's `id`, `client_group` and `previous_mutation_id`.
pub(super) fn client_upsert(values: &str) -> String {
    format!(
        "INSERT INTO client (id, client_group, last_mutation_id, updated_at) VALUES {values} \
         ON CONFLICT (id) DO UPDATE SET previous_mutation_id = client.last_mutation_id, \
             last_mutation_id = CASE WHEN client.last_mutation_id > excluded.last_mutation_id \
                 THEN client.last_mutation_id ELSE excluded.last_mutation_id END, \
             updated_at = excluded.updated_at \
         RETURNING id, client_group, previous_mutation_id"
    )
}

/// Adds to `batch` the statements that count each retired client's changes up to the given id
/// as applied (`PushRequest::retire`), creating its row when the server has none (restored
/// from a backup older than its first change); `check_retired` reads the answers.
fn add_retired(batch: &mut Batch, req: &PushRequest) -> ApiResult<Vec<Handle>> {
    req.retire
        .iter()
        .map(|(client, upto)| add_client(batch, *client, req.client_group, *upto))
        .collect()
}

/// The group a client statement answered, refused when it is not `group`: a group pushes for
/// and retires only its own clients.
fn own_client(row: Option<&AnyRow>, group: ClientGroupId) -> ApiResult<&AnyRow> {
    let row = row.ok_or(sqlx::Error::RowNotFound)?;
    let owner_group: String = row.try_get("client_group")?;
    check_own(&owner_group, group)?;
    Ok(row)
}

/// Refuses a client whose row names another group than `group`.
fn check_own(owner_group: &str, group: ClientGroupId) -> ApiResult<()> {
    if owner_group == group.to_string() {
        Ok(())
    } else {
        Err(ApiError::forbidden(Msg::new(
            "该同步客户端属于其他会话",
            "This sync client belongs to another session",
        )))
    }
}

/// The answers of `add_retired` and `add_clients`, once sent: each client's last applied id
/// before this push, after refusing clients of another group and gaps in the ids.
fn read_clients(
    batch: &mut Batch,
    req: &PushRequest,
    pushed: &BTreeMap<ClientId, u64>,
    retired: &[Handle],
    clients: &[(ClientId, Handle)],
) -> ApiResult<HashMap<ClientId, u64>> {
    check_retired(batch, req.client_group, retired)?;
    let last = last_ids(batch, req.client_group, clients)?;
    check_sequences(req, pushed, &last)?;
    Ok(last)
}

/// Refuses a retired client of another group.
fn check_retired(batch: &mut Batch, group: ClientGroupId, retired: &[Handle]) -> ApiResult<()> {
    for handle in retired {
        own_client(batch.take(*handle).first(), group)?;
    }
    Ok(())
}

/// The last applied mutation id of each client before this push, from `add_clients`'
/// statements, once sent; refuses a client of another group.
fn last_ids(
    batch: &mut Batch,
    group: ClientGroupId,
    clients: &[(ClientId, Handle)],
) -> ApiResult<HashMap<ClientId, u64>> {
    let mut out = HashMap::new();
    for (client, handle) in clients {
        let rows = batch.take(*handle);
        let previous: i64 = own_client(rows.first(), group)?.try_get("previous_mutation_id")?;
        out.insert(*client, u64::try_from(previous).unwrap_or(0));
    }
    Ok(out)
}

/// Refuses gaps before anything is applied: ids must continue each client's sequence.
fn check_sequences(
    req: &PushRequest,
    pushed: &BTreeMap<ClientId, u64>,
    last: &HashMap<ClientId, u64>,
) -> ApiResult<()> {
    for client in pushed.keys() {
        let ids = req
            .mutations
            .iter()
            .filter(|m| m.client_id == *client)
            .map(|m| m.id);
        let applied = last.get(client).copied().unwrap_or(0);
        if let Some((expected, got)) = sequence_break(applied, ids) {
            return Err(ApiError::conflict(msg!(
                "客户端 {client} 的更改编号不连续：应为 {expected}，收到 {got}",
                "The change ids of client {client} are not consecutive: expected {expected}, got {got}"
            )));
        }
    }
    Ok(())
}

/// How a space a push writes to is locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lock {
    /// Its version is bumped.
    Always,
    /// An item's space, bumped only while the item exists: made-up item ids create no spaces
    /// (the mutation is then rejected by `apply`, which finds no item).
    IfItemExists,
}

/// What a push has read and locked before it applies anything.
struct Prepared {
    /// Each pushed client's last applied mutation id before this push.
    last: HashMap<ClientId, u64>,
    /// The spaces locked (bumped), with their new versions.
    versions: BTreeMap<Space, i64>,
    /// The entities the new mutations name, as stored.
    state: State,
    /// The keys read so far, found or not.
    asked: BTreeSet<EntityKey>,
    /// When a client of the group last pushed (server time; None: never), before this push.
    group_last_push: Option<i64>,
}

/// Reads the clients' last ids, locks the spaces the new mutations write and reads the entities
/// they name. With `clients_first` the clients' rows are held before anything else is read
/// (see `add_clients`) and a gap is refused before any space is locked. Without, the clients go
/// in one trip with the spaces and the entities, all mutations assumed new: on SQLite one
/// multi-statement hop (its write lock keeps every other writer out already), on PostgreSQL one
/// statement (`prepare_in_one_trip`; a push naming more than [`IN_LIST_MAX`] entities, or none
/// of the clients, takes the clients first instead). None when one turns out to have been
/// applied already (a retried push), or on PostgreSQL when a push of the same client committed
/// meanwhile: its spaces must not be bumped, or the entities it wrote were not seen, so the
/// caller starts again with the clients first.
async fn prepare(
    tx: &mut Transaction<'_, Any>,
    kind: DbKind,
    actor: &Actor,
    req: &PushRequest,
    pushed: &BTreeMap<ClientId, u64>,
    clients_first: bool,
) -> ApiResult<Option<Prepared>> {
    let mut clients_first = clients_first;
    if kind == DbKind::Postgres && !clients_first {
        let asked = asked_keys(req, actor, |_| true);
        if !pushed.is_empty() && asked.len() <= IN_LIST_MAX {
            return prepare_in_one_trip(tx, req, pushed, asked).await;
        }
        // PostgreSQL sends a batch's statements one by one anyway.
        clients_first = true;
    }
    let mut batch = Batch::new(kind);
    // Before the clients' statements raise their times.
    let group_last_push = batch.add(
        group_last_push("$1"),
        vec![Arg::Text(req.client_group.to_string())],
    );
    // Before the clients' own statements, so a client both retired and pushed continues from
    // the retired id.
    let retired = add_retired(&mut batch, req)?;
    let clients = add_clients(&mut batch, req.client_group, pushed)?;
    let mut known = None;
    if clients_first {
        batch.send(tx).await?;
        known = Some(read_clients(&mut batch, req, pushed, &retired, &clients)?);
    }
    // A mutation the server has applied (a retried push) writes nothing, so it needs no lock
    // and no entities.
    let is_new = |pending: &&PendingMutation| {
        known.as_ref().is_none_or(|last: &HashMap<ClientId, u64>| {
            pending.id > last.get(&pending.client_id).copied().unwrap_or(0)
        })
    };

    // Every space the batch writes is locked (its version bumped) first, all at once and in one
    // order (by name: `spaces_to_lock`), and only then are the entities read, so no other writer can slip between.
    // Locking as the mutations come would let two pushes that touch the same items in different
    // orders deadlock, each deadlock costing PostgreSQL's deadlock_timeout and a retry. An
    // entity never changes space, so its space can be read before the lock.
    let bumps: Vec<(Space, Handle)> = spaces_to_lock(tx, req, is_new)
        .await?
        .into_iter()
        .map(|(space, lock)| {
            let (sql, args) = match (lock, space) {
                (Lock::IfItemExists, Space::Item(item)) => {
                    entity_store::bump_item_space_statement(item)
                }
                _ => entity_store::bump_space_statement(space),
            };
            (space, batch.add(sql, args))
        })
        .collect();
    // The entities every new mutation names, read once for the whole push, with the actor's
    // unit (its groups count in every permission check: `Actor::in_state`); the entities they
    // refer to (`Entity::context_keys`) are read as each mutation comes.
    let asked = asked_keys(req, actor, is_new);
    let loads = entity_store::add_loads(&mut batch, &asked.iter().collect::<Vec<_>>());
    batch.send(tx).await?;
    let last = match known {
        Some(last) => last,
        None => {
            let last = read_clients(&mut batch, req, pushed, &retired, &clients)?;
            let applied =
                |p: &PendingMutation| p.id <= last.get(&p.client_id).copied().unwrap_or(0);
            if req.mutations.iter().any(applied) {
                return Ok(None);
            }
            last
        }
    };
    let mut versions = BTreeMap::new();
    for (space, handle) in bumps {
        if let Some(v) = entity_store::bumped_version(&batch.take(handle))? {
            versions.insert(space, v);
        }
    }
    let mut state = State::new();
    entity_store::loaded(&mut batch, &loads, &mut state).map_err(db_fault)?;
    let group_last_push = batch
        .take(group_last_push)
        .first()
        .map(|row| row.try_get::<Option<i64>, _>(0))
        .transpose()?
        .flatten();
    Ok(Some(Prepared {
        last,
        versions,
        state,
        asked,
        group_last_push,
    }))
}

/// The spaces the mutations chosen by `is_new` name, each with how it is locked, and the
/// stored entities whose spaces they write (`SpaceOf::Entity`), to be looked up.
fn locks_named(
    req: &PushRequest,
    is_new: impl Fn(&&PendingMutation) -> bool,
) -> (BTreeMap<Space, Lock>, BTreeSet<EntityKey>) {
    let mut spaces = BTreeMap::new();
    let mut targets = BTreeSet::new();
    for pending in req.mutations.iter().filter(is_new) {
        match pending.mutation.space() {
            SpaceOf::Space(space @ Space::Item(_)) => {
                add_lock(&mut spaces, space, Lock::IfItemExists)
            }
            SpaceOf::Space(space) => add_lock(&mut spaces, space, Lock::Always),
            SpaceOf::Entity(key) => {
                targets.insert(key);
            }
        }
    }
    (spaces, targets)
}

/// Adds `space` to `spaces`, locked unconditionally if any mutation needs it so.
fn add_lock(spaces: &mut BTreeMap<Space, Lock>, space: Space, how: Lock) {
    let known = spaces.entry(space).or_insert(how);
    if how == Lock::Always {
        *known = Lock::Always;
    }
}

/// The spaces the mutations chosen by `is_new` write, each with how it is locked, in the one
/// order every push locks them in: by name, as PostgreSQL sorts text in `COLLATE "C"`
/// (`locking`).
///
/// A mutation on a stored entity writes to the entity's space (read here, before the lock: an
/// entity never changes space); one whose target doesn't exist locks nothing (apply then
/// rejects it).
async fn spaces_to_lock(
    tx: &mut Transaction<'_, Any>,
    req: &PushRequest,
    is_new: impl Fn(&&PendingMutation) -> bool,
) -> ApiResult<Vec<(Space, Lock)>> {
    let (mut spaces, targets) = locks_named(req, is_new);
    if !targets.is_empty() {
        for space in entity_store::spaces_of(tx, &targets).await?.values() {
            // As in the one-trip way: a stored space that no longer parses is our fault, and
            // skipping it would write to the space without its lock.
            let space = space.parse().map_err(|_| locking::stored_fault(space))?;
            add_lock(&mut spaces, space, Lock::Always);
        }
    }
    let mut spaces: Vec<(Space, Lock)> = spaces.into_iter().collect();
    spaces.sort_by_cached_key(|(space, _)| space.to_string());
    Ok(spaces)
}

/// The entities the mutations chosen by `is_new` name, read once for the whole push, with the
/// actor's unit (its groups count in every permission check: `Actor::in_state`); the entities
/// they refer to (`Entity::context_keys`) are read as each mutation comes.
fn asked_keys(
    req: &PushRequest,
    actor: &Actor,
    is_new: impl Fn(&&PendingMutation) -> bool,
) -> BTreeSet<EntityKey> {
    req.mutations
        .iter()
        .filter(is_new)
        .flat_map(|pending| pending.mutation.keys())
        .chain(std::iter::once(EntityKey::unit(actor.unit)))
        .collect()
}

/// `prepare` on PostgreSQL without the clients first: every mutation assumed new, the clients,
/// the locks and the entities `asked` in one statement (`locking`). None when one turns out
/// to have been applied already (a retried push) or a push of the same client committed
/// meanwhile, as in `prepare`.
async fn prepare_in_one_trip(
    tx: &mut Transaction<'_, Any>,
    req: &PushRequest,
    pushed: &BTreeMap<ClientId, u64>,
    asked: BTreeSet<EntityKey>,
) -> ApiResult<Option<Prepared>> {
    let (named, targets) = locks_named(req, |_| true);
    let locks: Vec<SpaceLock> = named
        .into_iter()
        .map(|(space, lock)| SpaceLock {
            space,
            if_item: match (lock, space) {
                (Lock::IfItemExists, Space::Item(item)) => Some(EntityKey::item(item)),
                _ => None,
            },
        })
        .collect();
    let answer = locking::lock_and_read(
        tx,
        req.client_group,
        pushed,
        &locks,
        &targets,
        &asked,
        now_millis(),
    )
    .await?;
    if !answer.clients_current {
        // A push of one of these clients committed between the statement's snapshot and its
        // lock on the client's row: what it wrote may be missing from the spaces looked up
        // and the entities read (a client that sends later changes while earlier ones are
        // still on their way).
        return Ok(None);
    }
    let mut last = HashMap::new();
    for client in pushed.keys() {
        let (group, previous) = answer.clients.get(client).ok_or(sqlx::Error::RowNotFound)?;
        check_own(group, req.client_group)?;
        last.insert(*client, *previous);
    }
    check_sequences(req, pushed, &last)?;
    let applied = |p: &PendingMutation| p.id <= last.get(&p.client_id).copied().unwrap_or(0);
    if req.mutations.iter().any(applied) {
        return Ok(None);
    }
    let mut state = State::new();
    if answer.fresh {
        for row in &answer.entities {
            state.put(row.entity().map_err(db_fault)?);
        }
    } else {
        // Another push committed to a locked space between the statement's snapshot and its
        // lock: read again, under the locks.
        let keys: Vec<EntityKey> = asked.iter().cloned().collect();
        entity_store::load_into(tx, &keys, &mut state)
            .await
            .map_err(db_fault)?;
    }
    Ok(Some(Prepared {
        last,
        versions: answer.versions,
        state,
        asked,
        group_last_push: answer.group_last_push,
    }))
}

/// How one attempt at `push_with_changes` ended.
enum Attempt {
    /// Committed: the answer, the spaces changed and the changes that may be mailed.
    Done((PushResponse, Changed, Vec<Change>)),
    /// Rolled back, to be tried again (see the check on `changes` in `push_once`).
    Again,
    /// Rolled back because the poke could not be queued (`db::is_notify_queue_full`): to be
    /// tried again without it.
    WithoutPoke,
}

/// One attempt at `push_with_changes`; `poke`: notify the other processes at commit
/// (PostgreSQL).
async fn push_once(
    db: &Db,
    actor: &Actor,
    req: &PushRequest,
    times: Times,
    poke: bool,
) -> ApiResult<Attempt> {
    let _guard = db.write_guard().await;
    let mut pushed: BTreeMap<ClientId, u64> = BTreeMap::new();
    for m in &req.mutations {
        let highest = pushed.entry(m.client_id).or_default();
        *highest = (*highest).max(m.id);
    }
    let mut tx = db.pool.begin().await?;
    let mut claim = check_group(db, &mut tx, req.client_group, actor).await?;
    // A client both retired and pushed needs the retirement first; the one-trip statement
    // (PostgreSQL) raises each client once.
    let clients_first = db.kind == DbKind::Postgres && !req.retire.is_empty();
    let prepared = match prepare(&mut tx, db.kind, actor, req, &pushed, clients_first).await? {
        Some(prepared) => prepared,
        None => {
            // A retried push (or on PostgreSQL one that met a push of its own client),
            // prepared for whole: start again with the clients first. (On
            // SQLite the write lock, held throughout, keeps every other push out meanwhile; on
            // PostgreSQL the rollback let go of the locks, and the new transaction takes them
            // again.)
            tx.rollback().await?;
            tx = db.pool.begin().await?;
            claim = check_group(db, &mut tx, req.client_group, actor).await?;
            prepare(&mut tx, db.kind, actor, req, &pushed, true)
                .await?
                .ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!(
                        "a push prepared with its clients first was asked to start again"
                    ))
                })?
        }
    };
    let Prepared {
        mut last,
        mut versions,
        mut state,
        mut asked,
        group_last_push,
    } = prepared;
    let bounds = match times {
        Times::Client => {
            let now = now_millis();
            let earliest = group_last_push
                .unwrap_or(now)
                .min(now)
                .max(now.saturating_sub(MAX_OFFLINE_MS))
                .saturating_sub(CLOCK_SLACK_MS);
            Some((Millis(earliest), Millis(now)))
        }
        Times::Server => None,
    };

    let mut dirty: BTreeMap<EntityKey, Entity> = BTreeMap::new();
    let mut logged = Vec::new();
    let mut results = Vec::with_capacity(req.mutations.len());
    let mut mailable = Vec::new();
    let refused = refused_before(&mut tx, req, &last).await?;
    for pending in &req.mutations {
        let last_id = last.entry(pending.client_id).or_default();
        if pending.id <= *last_id {
            let outcome = match refused.get(&(pending.client_id, pending.id)) {
                Some(reason) => Outcome::Rejected {
                    reason: reason.clone(),
                },
                None => Outcome::Duplicate,
            };
            results.push(MutationResult {
                client_id: pending.client_id,
                id: pending.id,
                outcome,
            });
            continue;
        }
        let bounded = match bounds {
            Some((earliest, latest)) => pending.mutation.with_time_within(earliest, latest),
            None => Cow::Borrowed(&pending.mutation),
        };
        let m: &Mutation = &bounded;
        let context: Vec<EntityKey> = m
            .keys()
            .iter()
            .filter_map(|k| state.get(k))
            .flat_map(Entity::context_keys)
            .filter(|k| !asked.contains(k))
            .collect();
        entity_store::load_into(&mut tx, &context, &mut state)
            .await
            .map_err(db_fault)?;
        asked.extend(context);

        let resolved = match (times, m) {
            // The daily job's reminders are signed 系统: no browser may send one in its name.
            (Times::Client, Mutation::SendReminder(r)) if r.automatic => {
                Err(Rejection::Denied(Msg::new(
                    "自动催办只由系统发送",
                    "Only the system sends automatic reminders",
                )))
            }
            _ => attach::resolve(db, &mut tx, &state, actor, m).await?,
        };
        let outcome = match resolved.and_then(|m| apply(&mut state, actor, &m)) {
            Ok(changes) => {
                // Every stored entity a change rewrites must be as its space's lock, taken
                // above, left it (read after the lock, or checked against the space's version:
                // `locking`). One that was not there when the spaces were looked up (created by
                // a push still in flight then) is not covered by any lock, and another push may
                // have changed it since: try again, now that its space can be found. (No
                // mutation rewrites a stored entity outside its own space.)
                let unlocked =
                    |c: &Change| c.before.is_some() && !versions.contains_key(&c.after.space());
                if changes.iter().any(unlocked) {
                    tx.rollback().await?;
                    return Ok(Attempt::Again);
                }
                for change in &changes {
                    let row = AuditEntry {
                        actor: Some(actor),
                        action: m.name(),
                        before: change.before.as_ref(),
                        after: Some(&change.after),
                        mutation: Some((pending.client_id.to_string(), id_i64(pending.id)?)),
                        detail: None,
                    }
                    .row()
                    .map_err(db_fault)?;
                    let row = match times {
                        Times::Server => row.dated(m.at()),
                        Times::Client => row,
                    };
                    logged.push(row);
                    dirty.insert(change.after.key(), change.after.clone());
                }
                mailable.extend(changes.into_iter().filter(crate::mail::worth_mailing));
                Outcome::Applied
            }
            Err(reason) => {
                // As sent: the time it claimed is part of the record.
                let sent = &pending.mutation;
                record_rejection(&mut tx, actor, pending.client_id, pending.id, sent, &reason)
                    .await?;
                Outcome::Rejected { reason }
            }
        };
        *last_id = pending.id;
        results.push(MutationResult {
            client_id: pending.client_id,
            id: pending.id,
            outcome,
        });
    }

    let mut saved = Vec::with_capacity(dirty.len());
    for entity in dirty.values() {
        let space = entity.space();
        let version = match versions.get(&space) {
            Some(v) => *v,
            None => {
                let v = entity_store::bump_space(&mut tx, space).await?;
                versions.insert(space, v);
                v
            }
        };
        saved.push((entity, version));
    }
    let changed: BTreeSet<Space> = dirty.values().map(Entity::space).collect();
    let notify = super::poke::at_commit(db.kind, &changed).filter(|_| poke);
    let notified = notify.is_some();
    entity_store::save_with_audit(&mut tx, db.kind, logged, &saved, notify)
        .await
        .map_err(db_fault)?;
    debug_assert!(
        pushed
            .iter()
            .all(|(c, h)| last.get(c).is_some_and(|l| l >= h)),
        "every client advanced at least to its highest pushed id, as last_ids recorded"
    );
    // PostgreSQL queues the notification as it commits, and refuses the commit when it can't.
    match tx.commit().await {
        Err(e) if notified && crate::db::is_notify_queue_full(&e) => {
            return Ok(Attempt::WithoutPoke);
        }
        other => other?,
    }
    if let Some(owner) = claim {
        remember_claim(db, req.client_group, owner);
    }
    let changed = Changed {
        spaces: changed,
        notified,
    };
    Ok(Attempt::Done((PushResponse { results }, changed, mailable)))
}

/// `entity_store` and `audit` report through `anyhow`; a database error inside must keep its
/// class, so that a transient one (a lock timeout, a serialization failure) is retried here and
/// at worst answered 503, not 500.
fn db_fault(e: anyhow::Error) -> ApiError {
    match e.downcast::<sqlx::Error>() {
        Ok(e) => e.into(),
        Err(e) => ApiError::Internal(e),
    }
}

fn id_i64(id: u64) -> ApiResult<i64> {
    i64::try_from(id).map_err(|_| locking::too_big())
}

async fn record_rejection(
    tx: &mut Transaction<'_, Any>,
    actor: &Actor,
    client: ClientId,
    id: u64,
    m: &Mutation,
    reason: &Rejection,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO rejection (client_id, mutation_id, user_id, reason, mutation, at, refusal) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (client_id, mutation_id) DO NOTHING",
    )
    .bind(client.to_string())
    .bind(id_i64(id)?)
    .bind(actor.user.to_string())
    // In Chinese (`Rejection`'s `Display`), as the audit trail and the logs keep everything.
    .bind(reason.to_string())
    .bind(serde_json::to_string(m).map_err(anyhow::Error::from)?)
    .bind(now_millis())
    // As the client was told it, to tell it again (`refused_before`).
    .bind(serde_json::to_string(reason).map_err(anyhow::Error::from)?)
    .execute(&mut **tx)
    .await?;
    // And in the audit trail, where the office looks: a refusal is someone trying what they
    // may not (or a change made offline that lost its target meanwhile).
    crate::audit::refusal_row(actor, m, reason)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The refusals recorded for the mutations of `req` that the server has seen before (at or
/// below their client's last id, `last`), by client and id: a push sent again because its
/// answer was lost is told of a refusal again, rather than "duplicate", which the client takes
/// for applied and drops without a word. One statement per client with such mutations (a
/// retried push has one), over the range of their ids.
async fn refused_before(
    tx: &mut Transaction<'_, Any>,
    req: &PushRequest,
    last: &HashMap<ClientId, u64>,
) -> ApiResult<HashMap<(ClientId, u64), Rejection>> {
    let mut seen: BTreeMap<ClientId, (u64, u64)> = BTreeMap::new();
    for m in &req.mutations {
        if last.get(&m.client_id).is_some_and(|l| m.id <= *l) {
            let range = seen.entry(m.client_id).or_insert((m.id, m.id));
            *range = (range.0.min(m.id), range.1.max(m.id));
        }
    }
    let mut refused = HashMap::new();
    for (client, (low, high)) in seen {
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT mutation_id, refusal FROM rejection \
             WHERE client_id = $1 AND mutation_id BETWEEN $2 AND $3",
        )
        .bind(client.to_string())
        .bind(id_i64(low)?)
        .bind(id_i64(high)?)
        .fetch_all(&mut **tx)
        .await?;
        for (id, refusal) in rows {
            let reason = refusal.and_then(|r| serde_json::from_str::<Rejection>(&r).ok());
            if let (Ok(id), Some(reason)) = (u64::try_from(id), reason) {
                refused.insert((client, id), reason);
            }
        }
    }
    Ok(refused)
}
