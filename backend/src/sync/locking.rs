//! A push's first trip on PostgreSQL: its clients' rows, the locks on the spaces it writes and
//! the entities it names, in one statement.
//!
//! Sent one after another, these were three round trips of ~150 µs each, half of a one-card
//! push, and one more before them when the push changes stored entities (their spaces, to
//! know what to lock). They can't simply be put in one statement: a statement
//! reads with the snapshot taken when it starts, before it waits for a lock, so a writer that
//! committed meanwhile would be missed (a lost update). So the statement also reads, as its
//! snapshot saw them, each locked space's version and each client's last id:
//! * when every space lock moved the version on by exactly one, no other push committed to
//!   those spaces between the snapshot and the lock, and what was read of them is what a read
//!   under the locks would give; otherwise (contention) the entities are read again, under the
//!   locks;
//! * when a client's row held another last id at the lock than in the snapshot, a push of that
//!   client committed in between, and what it wrote may be missing anywhere, even from the
//!   spaces looked up: the push starts again with the clients first (`push::prepare`).
//!
//! Entities outside the locked spaces (the actor's unit, say) are as of the snapshot, as they
//! were when read after the locks: nothing holds them.
//!
//! The statement's rows share one shape, the entity row's, with `part` telling them apart.

use crate::batch::{Arg, Batch};
use crate::entity_store::{self, EntityRow};
use crate::error::{ApiError, ApiResult};
use shared::entity::{EntityKey, Space};
use shared::ids::{ClientGroupId, ClientId};
use sqlx::any::AnyRow;
use sqlx::{Any, FromRow, Row, Transaction};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A space to lock, and the item that must be stored for it to be (see `push::Lock`).
pub struct SpaceLock {
    /// The space.
    pub space: Space,
    /// Lock only while this item is stored.
    pub if_item: Option<EntityKey>,
}

/// What the statement answered.
pub struct Answer {
    /// Each client's group and last applied id before this push.
    pub clients: HashMap<ClientId, (String, u64)>,
    /// The spaces locked, with their new versions.
    pub versions: BTreeMap<Space, i64>,
    /// The entities found, as stored.
    pub entities: Vec<EntityRow>,
    /// Whether the entities read in the locked spaces are as a read under the locks would give
    /// them (see the module's comment).
    pub fresh: bool,
    /// Whether no push of these clients committed between the snapshot and the locks.
    pub clients_current: bool,
    /// When a client of the group last pushed, as of the snapshot (None: never).
    pub group_last_push: Option<i64>,
}

/// Parts of the statement's answer.
const CLIENT: i64 = 0;
const LOCKED: i64 = 1;
const SNAPSHOT: i64 = 2;
const ENTITY: i64 = 3;
const CLIENT_SNAPSHOT: i64 = 4;
const GROUP_LAST_PUSH: i64 = 5;

/// Raises each client of `group` in `pushed` (at least one) to its highest pushed id, locks
/// `spaces` and the spaces of the stored entities under `targets` (in order of name, as every
/// push locks them) and reads the entities under `keys`, in one statement.
pub async fn lock_and_read(
    tx: &mut Transaction<'_, Any>,
    group: ClientGroupId,
    pushed: &BTreeMap<ClientId, u64>,
    spaces: &[SpaceLock],
    targets: &BTreeSet<EntityKey>,
    keys: &BTreeSet<EntityKey>,
    now: i64,
) -> ApiResult<Answer> {
    let mut args = Args::default();
    let mut sql = String::from("WITH ");
    let mut client_ids = Vec::new();
    let clients: Vec<String> = pushed
        .iter()
        .map(|(client, highest)| {
            let id = args.text(client.to_string());
            client_ids.push(id.clone());
            Ok(format!(
                "({id}, {}, {}, {})",
                args.text(group.to_string()),
                args.int(i64::try_from(*highest).map_err(|_| too_big())?),
                args.int(now),
            ))
        })
        .collect::<ApiResult<_>>()?;
    sql.push_str(&format!(
        "c AS ({})",
        super::push::client_upsert(&clients.join(", "))
    ));
    let mut parts = vec![
        format!(
            "SELECT {CLIENT}::bigint AS part, id, client_group AS space, \
             previous_mutation_id AS version, NULL::text AS visible_unit, NULL::text AS data FROM c"
        ),
        // The same statement's snapshot: it does not see the raise above.
        format!(
            "SELECT {CLIENT_SNAPSHOT}, id, NULL, last_mutation_id, NULL, NULL FROM client \
             WHERE id IN ({})",
            client_ids.join(", ")
        ),
        // As of the snapshot too, before the raise.
        format!(
            "SELECT {GROUP_LAST_PUSH}, '', NULL, ({}), NULL, NULL",
            super::push::group_last_push(&args.text(group.to_string()))
        ),
    ];
    // The spaces to lock: those named, and those of the stored targets (an entity never
    // changes space, so the snapshot's answer holds).
    let mut wanted = Vec::new();
    if !spaces.is_empty() {
        let rows: Vec<String> = spaces
            .iter()
            .map(|lock| {
                let item = lock.if_item.as_ref().map_or(String::new(), |k| k.0.clone());
                format!(
                    "({}::text, {}::text)",
                    args.text(lock.space.to_string()),
                    args.text(item)
                )
            })
            .collect();
        wanted.push(format!(
            "SELECT v.id FROM (VALUES {}) AS v(id, item) WHERE v.item = '' OR {}",
            rows.join(", "),
            entity_store::item_is_stored("v.item")
        ));
    }
    if !targets.is_empty() {
        let ids: Vec<String> = padded(targets).map(|k| args.text(k.0.clone())).collect();
        wanted.push(format!(
            "SELECT DISTINCT entity.space FROM entity WHERE entity.id IN ({})",
            ids.join(", ")
        ));
    }
    if !wanted.is_empty() {
        // Rows are locked in order of name (`push::spaces_to_lock` sorts the same way), so two
        // pushes never wait on each other crosswise, and after the clients' rows (the count
        // over `c` makes this wait for it: the sub-statements of a WITH run in no order of
        // their own), as in `push::prepare`. DISTINCT and UNION leave each space once: an
        // upsert may not touch a row twice.
        sql.push_str(&format!(
            ", s AS (INSERT INTO space (id, version) \
             SELECT t.id, 1 FROM ({}) AS t(id) \
             CROSS JOIN (SELECT count(*) FROM c) AS after_clients \
             ORDER BY t.id COLLATE \"C\" \
             ON CONFLICT (id) DO UPDATE SET version = space.version + 1 RETURNING id, version)",
            wanted.join(" UNION ")
        ));
        parts.push(format!(
            "SELECT {LOCKED}, id, NULL, version, NULL, NULL FROM s"
        ));
        // The same statement's snapshot: it does not see the bumps above.
        parts.push(format!(
            "SELECT {SNAPSHOT}, id, NULL, version, NULL, NULL FROM space \
             WHERE id IN (SELECT id FROM s)"
        ));
    }
    let keys: Vec<String> = padded(keys).map(|k| args.text(k.0.clone())).collect();
    if !keys.is_empty() {
        parts.push(format!(
            "SELECT {ENTITY}, id, space, version, visible_unit, data FROM entity WHERE id IN ({})",
            keys.join(", ")
        ));
    }
    sql.push(' ');
    sql.push_str(&parts.join(" UNION ALL "));

    let mut batch = Batch::new(crate::db::DbKind::Postgres);
    let handle = batch.add(sql, args.0);
    batch.send(tx).await?;
    read(&batch.take(handle))
}

/// Sorts the statement's rows into an [`Answer`].
fn read(rows: &[AnyRow]) -> ApiResult<Answer> {
    let mut answer = Answer {
        clients: HashMap::new(),
        versions: BTreeMap::new(),
        entities: Vec::new(),
        fresh: true,
        clients_current: true,
        group_last_push: None,
    };
    let mut seen = HashMap::new();
    let mut last_seen = HashMap::new();
    for row in rows {
        let part: i64 = row.try_get("part")?;
        let id: String = row.try_get("id")?;
        match part {
            CLIENT => {
                let client = id.parse().map_err(|_| stored_fault(&id))?;
                let group: String = row.try_get("space")?;
                let previous: i64 = row.try_get("version")?;
                answer
                    .clients
                    .insert(client, (group, u64::try_from(previous).unwrap_or(0)));
            }
            LOCKED => {
                let space = id.parse().map_err(|_| stored_fault(&id))?;
                answer.versions.insert(space, row.try_get("version")?);
            }
            SNAPSHOT => {
                let space: Space = id.parse().map_err(|_| stored_fault(&id))?;
                seen.insert(space, row.try_get::<i64, _>("version")?);
            }
            GROUP_LAST_PUSH => answer.group_last_push = row.try_get("version")?,
            CLIENT_SNAPSHOT => {
                let client: ClientId = id.parse().map_err(|_| stored_fault(&id))?;
                last_seen.insert(client, row.try_get::<i64, _>("version")?);
            }
            _ => answer.entities.push(EntityRow::from_row(row)?),
        }
    }
    // A client first seen here was not in the snapshot (no id applied).
    answer.clients_current = answer.clients.iter().all(|(client, (_, previous))| {
        i64::try_from(*previous).ok() == Some(last_seen.get(client).copied().unwrap_or(0))
    });
    // A space first locked here was not in the snapshot (version 0).
    answer.fresh = answer
        .versions
        .iter()
        .all(|(space, version)| *version == seen.get(space).copied().unwrap_or(0) + 1);
    Ok(answer)
}

/// `keys`, padded to a power of two (at least 4) by repeating the last, which reads nothing
/// more: each count of keys is another statement for PostgreSQL to parse and plan, a round
/// trip and a few hundred microseconds each time a connection meets a new one.
fn padded(keys: &BTreeSet<EntityKey>) -> impl Iterator<Item = &EntityKey> {
    let extra = keys.len().next_power_of_two().max(4) - keys.len();
    keys.iter()
        .chain(std::iter::repeat_n(keys.last(), extra).flatten())
}

/// A stored id (a client's, a space's) that no longer parses: a fault of ours, not the client's.
pub(super) fn stored_fault(id: &str) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("a stored id does not parse: {id:?}"))
}

/// The refusal of a change's id that does not fit the database's integers.
pub(super) fn too_big() -> ApiError {
    ApiError::bad_request(shared::message::Msg::new(
        "更改编号过大",
        "The change's id is too large",
    ))
}

/// The statement's values, numbered as they are added.
#[derive(Default)]
struct Args(Vec<Arg>);

impl Args {
    /// Adds a text value; returns its placeholder.
    fn text(&mut self, value: String) -> String {
        self.0.push(Arg::Text(value));
        format!("${}", self.0.len())
    }

    /// Adds an integer; returns its placeholder.
    fn int(&mut self, value: i64) -> String {
        self.0.push(Arg::Int(value));
        format!("${}", self.0.len())
    }
}
