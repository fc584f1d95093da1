//! The workflow's mutations (submissions, difficulties, instructions, …) each live beside the
//! entity they change, as a struct implementing `Op`; `Mutation` wraps them, so there is still one
//! mutation type, one `apply` and one permission check per change.

use crate::actor::Actor;
use crate::entity::{Entity, EntityKey, Millis, Space};
use crate::message::Msg;
use crate::mutation::{Change, Rejection};
use crate::state::State;
use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Where a mutation's writes are versioned: a known space, or the space of an entity already
/// stored (the server looks it up before locking).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpaceOf {
    /// This space.
    Space(Space),
    /// Whatever space this stored entity is in (none when it doesn't exist: apply rejects).
    Entity(EntityKey),
}

/// One kind of workflow change.
pub trait Op {
    /// Keys of the entities `apply` reads directly.
    fn keys(&self) -> Vec<EntityKey>;
    /// Where its writes go.
    fn space(&self) -> SpaceOf;
    /// Whether `actor` may make it, given `state`.
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection>;
    /// Validates and writes; called only after `authorize` passed.
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection>;
    /// Client time of the change.
    fn at(&self) -> Millis;
    /// The same, for the server to bound (`Mutation::with_time_within`).
    fn at_mut(&mut self) -> &mut Millis;
}

/// Stores `after` in `state`, returning the change.
pub fn put(state: &mut State, after: Entity) -> Change {
    let before = state.put(after.clone());
    Change { before, after }
}

/// The plan's dates are Beijing dates: the district works in UTC+8, whatever the browser says.
pub fn local_date(at: Millis) -> NaiveDate {
    local_time(at).date()
}

/// The Beijing wall-clock time of `at`, as every screen and export shows a time: a report sent
/// at 07:00 on 1 April in Shenzhen is late, and a browser set to another zone must not show it
/// as sent on 31 March.
pub fn local_time(at: Millis) -> NaiveDateTime {
    DateTime::from_timestamp_millis(at.0.saturating_add(BEIJING_MS))
        .map(|t| t.naive_utc())
        .unwrap_or_default()
}

const BEIJING_MS: i64 = 8 * 3_600_000;

/// Millis at the end of `date` (Beijing time), for "as it stood on that day".
pub fn end_of_day(date: NaiveDate) -> Millis {
    let start = date
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or_default();
    Millis(start - BEIJING_MS + 86_400_000 - 1)
}

/// Fails with `Invalid` when `key` is already taken in `state`; `what` names the kind.
pub fn ensure_new(state: &State, key: &EntityKey, what: Msg) -> Result<(), Rejection> {
    if state.get(key).is_some() {
        Err(Rejection::Invalid(crate::msg!(
            "{what}编号重复",
            "This {what} id is already taken",
            what = what
        )))
    } else {
        Ok(())
    }
}

/// The refusal of a change that names a task of another item than its own.
pub fn task_not_of_item() -> Rejection {
    Rejection::Invalid(Msg::new(
        "任务不属于该改革项目",
        "The task is not part of this reform item",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_dates() {
        // 2014-03-31 23:59:59.999 Beijing is 15:59:59.999 UTC.
        let d = NaiveDate::from_ymd_opt(2014, 3, 31).unwrap_or_default();
        let end = end_of_day(d);
        assert_eq!(local_date(end), d);
        assert_eq!(
            local_date(Millis(end.0 + 1)),
            d.succ_opt().unwrap_or_default()
        );
        // 2014-04-01 07:00 Beijing is 2014-03-31 23:00 UTC.
        let at = Millis(end.0 + 1 + 7 * 3_600_000);
        assert_eq!(
            local_time(at).format("%Y-%m-%d %H:%M").to_string(),
            "2014-04-01 07:00"
        );
    }
}
