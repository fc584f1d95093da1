//! The sync protocol's messages (Replicache-style server reconciliation).
//!
//! * `push`: a client group sends its pending mutations; the server applies each exactly once, in
//!   order per client, and records the last id per client in the same transaction.
//! * `pull`: the client sends its cookie (space → version); the server answers with every entity
//!   changed since then that this user may see, the new cookie and the last applied mutation id of
//!   each client of the group — all from one snapshot.
//! * `poke`: over the WebSocket, "these spaces changed, pull".

use crate::entity::{Entity, EntityKey, Millis};
use crate::ids::{ClientGroupId, ClientId};
use crate::mutation::{Mutation, Rejection};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of this wire format. A server refuses other versions with a clear error, so a stale
/// app is told to reload instead of corrupting anything. Raised whenever a pull may carry what
/// the previous app can't read (3: the `redraft` and `settings` entities), which would otherwise
/// fail its every pull without telling it why, or a push's answer what it can't (4: a
/// rejection's message in both languages, `{zh, en}`, where it was one Chinese string).
pub const PROTOCOL_VERSION: u32 = 4;

/// Most mutations accepted in one push; a longer outbox is sent in several.
pub const MAX_PUSH_BATCH: usize = 500;

/// Most retired clients one push names (`PushRequest::retire`); a browser with more sends
/// them over several pushes.
pub const MAX_RETIRED: usize = 64;

/// Largest request body the server accepts, in bytes.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// How many of `pending`, from the front, one push sends: at most [`MAX_PUSH_BATCH`], and no
/// more than fit in [`MAX_BODY_BYTES`] as JSON with room for the rest of the request. Always at
/// least one (every text a change carries is bounded, so no single change comes near the
/// limit). Counting alone would let a few hundred long notes written offline make a push the
/// server refuses as too large, again at every round, and the outbox would never drain.
pub fn push_batch_len(pending: &[PendingMutation]) -> usize {
    // The request's other fields: the protocol, the group and at most 64 retired clients.
    const ROOM: usize = 64 * 1024;
    let mut bytes = ROOM;
    let mut n = 0;
    for m in pending.iter().take(MAX_PUSH_BATCH) {
        bytes += serde_json::to_vec(m).map_or(MAX_BODY_BYTES, |v| v.len() + 1);
        if n > 0 && bytes > MAX_BODY_BYTES {
            break;
        }
        n += 1;
    }
    n
}

/// A mutation waiting in a client's outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingMutation {
    /// The tab that made it.
    pub client_id: ClientId,
    /// Per-client sequence number: 1, 2, 3, …
    pub id: u64,
    /// The change.
    pub mutation: Mutation,
}

/// `POST /api/sync/push`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    /// Must be `PROTOCOL_VERSION`.
    pub protocol: u32,
    /// The browser profile.
    pub client_group: ClientGroupId,
    /// In order.
    pub mutations: Vec<PendingMutation>,
    /// Clients of this group whose waiting changes up to the given id were moved to another of
    /// its clients (after a restore from a backup broke their sequence, see `sequence_break`):
    /// the server counts them as applied in the same transaction as this push, so a tab that
    /// still holds the originals can't apply them a second time.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub retire: BTreeMap<ClientId, u64>,
}

/// What became of one pushed mutation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Applied now.
    Applied,
    /// Already applied earlier (a retried push); nothing done.
    Duplicate,
    /// Refused for good; the client drops it and shows the reason. A retried push is told of
    /// an earlier refusal again (not `Duplicate`), so the answer lost the first time is not
    /// lost for good.
    Rejected {
        /// Why.
        reason: Rejection,
    },
}

/// One entry of a push response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResult {
    /// Client.
    pub client_id: ClientId,
    /// Mutation id.
    pub id: u64,
    /// What happened.
    pub outcome: Outcome,
}

/// Response to a push.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    /// One per mutation sent, in order.
    pub results: Vec<MutationResult>,
}

/// The client's position in the server's history: the version of each space it has seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cookie {
    /// Which server history this cookie is from; a restored or reset database has a new epoch.
    pub epoch: String,
    /// The user it was issued to: a cookie is only good for the same user's view.
    pub user: String,
    /// What that user could see when it was issued (the server's words for their role and
    /// unit). A cookie for another view is unusable: a role or unit change resets the browser's
    /// copy, so rows they may no longer see leave it and rows they now may see arrive.
    #[serde(default)]
    pub view: String,
    /// Space → last version seen.
    pub spaces: BTreeMap<String, i64>,
}

/// `POST /api/sync/pull`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullRequest {
    /// Must be `PROTOCOL_VERSION`.
    pub protocol: u32,
    /// The browser profile.
    pub client_group: ClientGroupId,
    /// Absent on the first pull.
    pub cookie: Option<Cookie>,
}

/// Where a client's mutation ids, in the order they are sent, stop continuing its sequence on
/// the server (`last`: its last applied id): the id expected there and the id found, or None.
/// An id at or below what was applied already is a retry (a duplicate), not a break. The server
/// refuses a push with a break; a browser that finds one renumbers what it holds.
pub fn sequence_break(last: u64, ids: impl IntoIterator<Item = u64>) -> Option<(u64, u64)> {
    let mut seen = last;
    for id in ids {
        if id > seen + 1 {
            return Some((seen + 1, id));
        }
        seen = seen.max(id);
    }
    None
}

/// `mutation`, made where `held` are waiting, dated after every one of them: it may build on
/// any, and whatever the clock did meanwhile (a phone corrects it as it finds its signal), the
/// order the changes of several tabs are sent in is their times' (`in_made_order`).
pub fn dated_after(mutation: Mutation, held: &[PendingMutation]) -> Mutation {
    match held.iter().map(|p| p.mutation.at()).max() {
        Some(Millis(last)) => mutation
            .with_time_within(Millis(last.saturating_add(1)), Millis(i64::MAX))
            .into_owned(),
        None => mutation,
    }
}

/// Puts the changes waiting in one browser in the order they were made, by the time each
/// carries, each client's in id order: the order to send and re-apply them in. A change that
/// builds on another (a move of a card another tab made) is dated after it (`dated_after`).
/// Changes of one time keep their order.
pub fn in_made_order(pending: &mut Vec<PendingMutation>) {
    crate::sorting::sort_by_key(pending, |p| p.mutation.at());
    // Each client's changes, in id order, into the places its changes now take.
    let slots: Vec<ClientId> = pending.iter().map(|p| p.client_id).collect();
    let mut by_client: BTreeMap<ClientId, Vec<PendingMutation>> = BTreeMap::new();
    for p in pending.drain(..) {
        by_client.entry(p.client_id).or_default().push(p);
    }
    for theirs in by_client.values_mut() {
        // Highest id first, so that popping gives them in order.
        crate::sorting::sort_by_key(theirs, |p| std::cmp::Reverse(p.id));
    }
    pending.extend(
        slots
            .into_iter()
            .filter_map(|client| by_client.get_mut(&client).and_then(Vec::pop)),
    );
}

impl Cookie {
    /// Whether this cookie has seen more than `other` of the same history and user: some space
    /// at a later version. (Two such cookies from one server are snapshots of one sequence of
    /// commits, so the later one is at least as far along in every space.) A browser's saved
    /// copy uses it so that a tab saving an older answer can't write over a newer one.
    pub fn is_ahead_of(&self, other: &Cookie) -> bool {
        self.epoch == other.epoch
            && self.user == other.user
            && self.view == other.view
            && self
                .spaces
                .iter()
                .any(|(space, v)| *v > other.spaces.get(space).copied().unwrap_or(0))
    }
}

/// Response to a pull.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    /// True when the client must drop everything it has and take `puts` as the whole state.
    pub reset: bool,
    /// The cookie to send next time.
    pub cookie: Cookie,
    /// Entities created or changed since the cookie.
    pub puts: Vec<Entity>,
    /// Entities the client must forget (no longer visible to this user).
    pub deletes: Vec<EntityKey>,
    /// Last applied mutation id of each client of the group.
    pub last_mutation_ids: BTreeMap<ClientId, u64>,
}

/// A message from the server on the WebSocket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// These spaces changed: pull.
    Poke {
        /// Space ids.
        spaces: Vec<String>,
    },
}

/// The highest id up to which `ids` (in any order) continue `applied` without a break: None when
/// the first, `applied + 1`, is missing.
pub fn unbroken_end(applied: u64, ids: impl IntoIterator<Item = u64>) -> Option<u64> {
    let mut ids: Vec<u64> = ids.into_iter().filter(|id| *id > applied).collect();
    crate::sorting::sort(&mut ids);
    ids.dedup();
    let mut end = applied;
    for id in ids {
        if id != end + 1 {
            break;
        }
        end = id;
    }
    (end > applied).then_some(end)
}

/// Records in `retire` (`PushRequest::retire`) that `client`'s changes up to `id` moved to
/// another client, keeping a higher record made before.
pub fn note_retired(retire: &mut BTreeMap<ClientId, u64>, client: ClientId, id: u64) {
    let entry = retire.entry(client).or_default();
    *entry = (*entry).max(id);
}

/// Drops from `retire` what a committed push told the server (`told`), keeping any later move
/// of the same client.
pub fn forget_told(retire: &mut BTreeMap<ClientId, u64>, told: &BTreeMap<ClientId, u64>) {
    retire.retain(|client, id| told.get(client).is_none_or(|t| *id > *t));
}

#[cfg(test)]
mod sequence_tests {
    use super::sequence_break;

    #[test]
    fn ids_continue_or_break() {
        assert_eq!(sequence_break(2, [3, 4]), None);
        assert_eq!(sequence_break(2, [1, 2, 3]), None, "retries are not breaks");
        assert_eq!(sequence_break(2, [4]), Some((3, 4)));
        assert_eq!(
            sequence_break(2, [3, 5]),
            Some((4, 5)),
            "a break in the middle"
        );
        assert_eq!(sequence_break(0, []), None);
    }
}

#[cfg(test)]
mod order_tests {
    use super::{ClientId, PendingMutation, in_made_order};
    use crate::entity::Millis;
    use crate::ids::UserId;
    use crate::mutation::Mutation;
    use crate::notice::MarkRead;

    fn change(client: ClientId, id: u64, at: i64) -> PendingMutation {
        PendingMutation {
            client_id: client,
            id,
            mutation: Mutation::MarkNoticesRead(MarkRead {
                user: UserId::new_v7(),
                keys: vec![],
                at: Millis(at),
            }),
        }
    }

    fn order(pending: &[PendingMutation]) -> Vec<(ClientId, u64)> {
        pending.iter().map(|p| (p.client_id, p.id)).collect()
    }

    #[test]
    fn changes_of_several_tabs_go_in_the_order_they_were_made() {
        let (a, b, c) = (ClientId::new_v7(), ClientId::new_v7(), ClientId::new_v7());
        // As a tab may hold them: its own first, then what it took from the outbox, grouped by
        // client; c's move builds on b's card, a's later change on neither.
        let mut pending = vec![
            change(a, 1, 30),
            change(c, 1, 20),
            change(b, 1, 10),
            change(b, 2, 40),
        ];
        in_made_order(&mut pending);
        assert_eq!(order(&pending), [(b, 1), (c, 1), (a, 1), (b, 2)]);
    }

    #[test]
    fn a_change_is_dated_after_every_change_it_may_build_on() {
        let (a, b) = (ClientId::new_v7(), ClientId::new_v7());
        // The clock went back: b's card was made at 100, the move of it comes at 50.
        let held = [change(a, 1, 20), change(b, 1, 100)];
        let moved = super::dated_after(change(a, 2, 50).mutation, &held);
        assert_eq!(moved.at(), Millis(101));
        let later = super::dated_after(change(a, 2, 500).mutation, &held);
        assert_eq!(later.at(), Millis(500), "a later clock is kept");
        let alone = super::dated_after(change(a, 1, 7).mutation, &[]);
        assert_eq!(alone.at(), Millis(7));
        let mut pending = vec![held[1].clone(), held[0].clone()];
        pending.push(PendingMutation {
            client_id: a,
            id: 2,
            mutation: moved,
        });
        in_made_order(&mut pending);
        assert_eq!(
            order(&pending),
            [(a, 1), (b, 1), (a, 2)],
            "the move after the card"
        );
    }

    #[test]
    fn a_clients_changes_stay_in_id_order_whatever_their_times() {
        let (a, b) = (ClientId::new_v7(), ClientId::new_v7());
        // a's clock went back between its two changes.
        let mut pending = vec![change(a, 1, 50), change(a, 2, 10), change(b, 1, 30)];
        in_made_order(&mut pending);
        assert_eq!(order(&pending), [(a, 1), (b, 1), (a, 2)]);
        let mut same_time = vec![change(b, 1, 5), change(a, 1, 5)];
        in_made_order(&mut same_time);
        assert_eq!(order(&same_time), [(b, 1), (a, 1)], "ties keep their order");
    }
}

#[cfg(test)]
mod cookie_tests {
    use super::Cookie;

    fn cookie(epoch: &str, user: &str, spaces: &[(&str, i64)]) -> Cookie {
        Cookie {
            epoch: epoch.into(),
            user: user.into(),
            view: "unit/u1".into(),
            spaces: spaces.iter().map(|(s, v)| ((*s).to_string(), *v)).collect(),
        }
    }

    #[test]
    fn a_later_version_in_any_space_is_ahead() {
        let old = cookie("e", "u", &[("plan", 3), ("item:1", 5)]);
        let new = cookie("e", "u", &[("plan", 3), ("item:1", 6)]);
        assert!(new.is_ahead_of(&old));
        assert!(!old.is_ahead_of(&new));
        assert!(
            !old.is_ahead_of(&old),
            "the same cookie is not ahead of itself"
        );
        let more = cookie("e", "u", &[("plan", 3), ("item:1", 5), ("item:2", 1)]);
        assert!(more.is_ahead_of(&old), "a space the other has not seen yet");
    }

    #[test]
    fn another_history_user_or_view_is_never_ahead() {
        let old = cookie("e", "u", &[("plan", 3)]);
        assert!(!cookie("e2", "u", &[("plan", 9)]).is_ahead_of(&old));
        assert!(!cookie("e", "u2", &[("plan", 9)]).is_ahead_of(&old));
        let other_view = Cookie {
            view: "office/u1".into(),
            ..cookie("e", "u", &[("plan", 9)])
        };
        assert!(!other_view.is_ahead_of(&old));
    }
}

#[cfg(test)]
mod retire_tests {
    use super::{ClientId, forget_told, note_retired};
    use std::collections::BTreeMap;

    #[test]
    fn retired_clients_are_told_once_and_later_moves_are_kept() {
        let (a, b) = (ClientId::new_v7(), ClientId::new_v7());
        let mut retire = BTreeMap::new();
        note_retired(&mut retire, a, 5);
        note_retired(&mut retire, a, 3);
        assert_eq!(retire.get(&a), Some(&5), "the higher move stands");
        let told = retire.clone();
        note_retired(&mut retire, a, 8);
        note_retired(&mut retire, b, 2);
        forget_told(&mut retire, &told);
        assert_eq!(retire.get(&a), Some(&8), "a move after the push is kept");
        assert_eq!(retire.get(&b), Some(&2));
        let all = retire.clone();
        forget_told(&mut retire, &all);
        assert!(retire.is_empty());
    }

    #[test]
    fn only_an_unbroken_run_is_retired() {
        use super::unbroken_end;
        assert_eq!(unbroken_end(4, [5, 6, 7]), Some(7));
        assert_eq!(unbroken_end(4, [7, 5, 6]), Some(7), "in any order");
        assert_eq!(
            unbroken_end(4, [5, 7]),
            Some(5),
            "not past a change missing"
        );
        assert_eq!(unbroken_end(4, [6, 7]), None);
        assert_eq!(
            unbroken_end(4, [3, 4]),
            None,
            "nothing above what was applied"
        );
    }
}

#[cfg(test)]
mod push_tests {
    #[test]
    fn a_push_of_long_texts_stays_under_the_body_limit() {
        use super::{MAX_BODY_BYTES, MAX_PUSH_BATCH, PendingMutation, push_batch_len};
        use crate::entity::Millis;
        use crate::ids::{ClientId, TaskId};
        use crate::mutation::Mutation;
        let client = ClientId::new_v7();
        let notes = "改".repeat(crate::text::TASK_NOTES.max);
        let pending: Vec<PendingMutation> = (1..=300)
            .map(|id| PendingMutation {
                client_id: client,
                id,
                mutation: Mutation::SetTaskNotes {
                    task: TaskId::new_v7(),
                    notes: notes.clone(),
                    at: Millis(0),
                },
            })
            .collect();
        let mut rest = &pending[..];
        let mut pushes = 0;
        while !rest.is_empty() {
            let n = push_batch_len(rest);
            assert!(n >= 1, "always at least one");
            let body = serde_json::to_vec(&rest[..n]).unwrap_or_default();
            assert!(
                body.len() <= MAX_BODY_BYTES,
                "a push of {} bytes",
                body.len()
            );
            rest = &rest[n..];
            pushes += 1;
        }
        assert!(pushes > 1, "300 notes of 30 KB don't go in one push");
        let short: Vec<PendingMutation> = pending
            .iter()
            .map(|p| PendingMutation {
                mutation: Mutation::SetTaskProgress {
                    task: TaskId::new_v7(),
                    progress: 10,
                    at: Millis(0),
                },
                ..p.clone()
            })
            .cycle()
            .take(MAX_PUSH_BATCH + 10)
            .collect();
        assert_eq!(
            push_batch_len(&short),
            MAX_PUSH_BATCH,
            "short changes go by count"
        );
    }
}
