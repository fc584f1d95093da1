//! What a board shows, derived from the synced state: card faces and the order of cards per lane
//! and column. Pure functions of `State`, so screens stay thin.

use crate::board::filters::Filters;
use chrono::NaiveDate;
use shared::actor::Actor;
use shared::board::{Column, is_overdue};
use shared::entity::Task;
use shared::ids::{ItemId, TaskId, UnitId};
use shared::permission::{self, Action, Relation};
use shared::state::State;
use std::collections::HashMap;

/// Which cards a board shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One reform item's board: all its cards, one lane.
    Item(ItemId),
    /// One unit's board: the cards it owns, one lane per item it works on.
    Unit(UnitId),
}

/// Everything a card shows on its face.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CardFace {
    /// Task.
    pub id: TaskId,
    /// Its item.
    pub item: ItemId,
    /// Title.
    pub title: String,
    /// Owner unit's name.
    pub owner: String,
    /// Due date.
    pub due: Option<NaiveDate>,
    /// Past due and not done.
    pub overdue: bool,
    /// Done, but after its due date.
    pub done_late: bool,
    /// 0–100.
    pub progress: u8,
    /// Checklist steps done.
    pub steps_done: usize,
    /// Checklist steps.
    pub steps_total: usize,
    /// Comments on it.
    pub comments: usize,
    /// Blocked reason.
    pub blocked: Option<String>,
    /// A waiting postponement.
    pub postponing: Option<Postponing>,
    /// Column.
    pub column: Column,
    /// Whether the viewer may move it.
    pub movable: bool,
}

/// A waiting postponement, as its card shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Postponing {
    /// Asks for this date.
    To(NaiveDate),
    /// The due date changed after it was asked (`shared::postponement::approvable`): it can
    /// only be declined, so the card no longer shows the date it asked for as if it were coming.
    Overtaken,
}

/// One swimlane: an item's cards in four ordered columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// Item.
    pub item: ItemId,
    /// Item number.
    pub number: u32,
    /// Item title.
    pub title: String,
    /// How the board's unit stands to the item (unit boards).
    pub relation: Relation,
    /// Card ids per column, in order.
    pub columns: [Vec<TaskId>; 4],
}

/// Column index in `Column::ALL`.
pub fn column_index(c: Column) -> usize {
    Column::ALL.iter().position(|x| *x == c).unwrap_or(0)
}

/// A unit board shows the tasks the unit works: its own and its groups'.
fn in_scope(state: &State, task: &Task, scope: Scope) -> bool {
    match scope {
        Scope::Item(item) => task.item == item,
        Scope::Unit(unit) => permission::works_for(unit, state.groups_of(unit), task.owner),
    }
}

/// Card faces of every card in `scope` that passes `filters`.
pub fn faces(
    state: &State,
    scope: Scope,
    filters: &Filters,
    actor: Option<&Actor>,
    today: NaiveDate,
) -> HashMap<TaskId, CardFace> {
    let actor = actor.map(|a| a.in_state(state));
    let actor = actor.as_ref();
    let mut comments: HashMap<TaskId, usize> = HashMap::new();
    for c in state.comments() {
        if let Some(t) = c.task {
            *comments.entry(t).or_default() += 1;
        }
    }
    state
        .tasks()
        .filter(|t| in_scope(state, t, scope) && filters.matches(t, today))
        .map(|t| {
            // An archived card (shown with 显示已归档) is restored first: the server refuses
            // its moves.
            let movable = !t.archived
                && actor.is_some_and(|a| {
                    state
                        .item(t.item)
                        .is_some_and(|item| permission::can(a, item, Action::WorkOnTask(t)))
                });
            let face = CardFace {
                id: t.id,
                item: t.item,
                title: t.title.clone(),
                owner: state
                    .unit(t.owner)
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                due: t.due,
                overdue: is_overdue(t.due, t.column, today),
                done_late: shared::calendar::task_done_late(t),
                progress: t.progress,
                steps_done: t.steps.iter().filter(|s| s.done).count(),
                steps_total: t.steps.len(),
                comments: comments.get(&t.id).copied().unwrap_or(0),
                blocked: t.blocked.clone(),
                postponing: shared::postponement::pending(t).map(|p| {
                    if shared::postponement::approvable(t).is_ok() {
                        Postponing::To(p.due)
                    } else {
                        Postponing::Overtaken
                    }
                }),
                column: t.column,
                movable,
            };
            (t.id, face)
        })
        .collect()
}

/// The lanes of a board, with the cards in `faces` ordered by sort key.
pub fn lanes(state: &State, scope: Scope, faces: &HashMap<TaskId, CardFace>) -> Vec<Lane> {
    let items: Vec<_> = match scope {
        Scope::Item(id) => state.item(id).into_iter().collect(),
        // Only the items it has cards on: those it has nothing on are named in one line
        // (`idle_items`), not drawn as empty swimlanes down the page.
        Scope::Unit(_) => state
            .items()
            .into_iter()
            .filter(|i| faces.values().any(|f| f.item == i.id))
            .collect(),
    };
    let mut sorted: Vec<&Task> = faces.keys().filter_map(|id| state.task(*id)).collect();
    shared::sorting::sort_by(&mut sorted, |a, b| {
        a.sort_key.cmp(&b.sort_key).then(a.id.cmp(&b.id))
    });
    items
        .into_iter()
        .map(|item| {
            let mut columns: [Vec<TaskId>; 4] = Default::default();
            for t in sorted.iter().filter(|t| t.item == item.id) {
                columns[column_index(t.column)].push(t.id);
            }
            Lane {
                item: item.id,
                number: item.number,
                title: item.title.clone(),
                relation: match scope {
                    Scope::Unit(unit) => permission::relation_of(unit, state.groups_of(unit), item),
                    Scope::Item(_) => Relation::Other,
                },
                columns,
            }
        })
        .collect()
}

/// The items `unit` leads or cooperates on where it has no task at all (archived ones aside),
/// by number: its board names them instead of drawing their empty swimlanes.
pub fn idle_items(state: &State, unit: UnitId) -> Vec<(u32, String, Relation)> {
    let groups = state.groups_of(unit);
    let mut idle: Vec<(u32, String, Relation)> = state
        .items()
        .into_iter()
        .filter(|i| permission::may_own(unit, groups, i))
        .filter(|i| {
            !state
                .tasks()
                .any(|t| t.item == i.id && !t.archived && in_scope(state, t, Scope::Unit(unit)))
        })
        .map(|i| {
            (
                i.number,
                i.title.clone(),
                permission::relation_of(unit, groups, i),
            )
        })
        .collect();
    shared::sorting::sort_by_key(&mut idle, |(n, _, _)| *n);
    idle
}
