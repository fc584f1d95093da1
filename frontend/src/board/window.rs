//! Long columns render only the cards near the viewport (a board may hold a thousand cards;
//! building all of them took seconds on a phone). The cards left out are replaced by empty
//! spacers of their height, so the page scrolls as if they were there. Heights are measured as
//! cards render and estimated from the average until then.
//!
//! Pure arithmetic here; `CardList` in the board module wires it to the DOM.

use shared::ids::TaskId;
use std::collections::HashMap;

/// Pixels rendered above and below the viewport, so a scroll or a flick shows cards at once.
pub const OVERSCAN: f64 = 800.0;

/// The overscan of a board's first render: just past the bottom of the screen. The rest of
/// [`OVERSCAN`] follows once the first screen is painted — on a slow phone, building the cards
/// no one sees yet was most of the wait for the ones they do.
pub const FIRST_OVERSCAN: f64 = 150.0;

/// A card's slot (its height plus the gap after it) before any card has been measured.
const FIRST_GUESS: f64 = 120.0;

/// The cards of a column that render because they are near the viewport: indices
/// `start..end`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// First rendered index.
    pub start: usize,
    /// One past the last.
    pub end: usize,
}

impl Span {
    /// The cards whose slots intersect `from_px..to_px` (pixels from the top of the list).
    pub fn covering(slots: impl Iterator<Item = f64>, from_px: f64, to_px: f64) -> Span {
        let mut top = 0.0;
        let mut start = None;
        let mut i = 0;
        for h in slots {
            if top >= to_px {
                break;
            }
            if start.is_none() && top + h > from_px {
                start = Some(i);
            }
            top += h;
            i += 1;
        }
        Span {
            start: start.unwrap_or(i),
            end: i,
        }
    }
}

/// One row of a rendered column: a card, or a spacer standing for a run of cards not rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Row {
    /// A rendered card.
    Card(TaskId),
    /// The `n`-th spacer of the column (its height is in [`Rows::gaps`]).
    Gap(usize),
}

/// What a column renders.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rows {
    /// Cards and spacers, top to bottom.
    pub rows: Vec<Row>,
    /// Height of each spacer in pixels, by its number.
    pub gaps: Vec<f64>,
}

/// Measured slot heights (card height plus the gap after it) of one board's cards.
#[derive(Clone, Debug, Default)]
pub struct Heights {
    slots: HashMap<TaskId, f64>,
    sum: f64,
}

impl Heights {
    /// The slot of `id`: measured, or the average of those measured so far.
    pub fn slot(&self, id: TaskId) -> f64 {
        self.slots.get(&id).copied().unwrap_or_else(|| self.guess())
    }

    /// The average measured slot (a first guess before any).
    pub fn guess(&self) -> f64 {
        if self.slots.is_empty() {
            FIRST_GUESS
        } else {
            #[expect(clippy::cast_precision_loss, reason = "a count of cards")]
            let n = self.slots.len() as f64;
            self.sum / n
        }
    }

    /// Records a measurement; whether it changed what was known by more than a pixel.
    pub fn record(&mut self, id: TaskId, slot: f64) -> bool {
        let old = self.slots.insert(id, slot);
        self.sum += slot - old.unwrap_or(0.0);
        old.is_none_or(|o| (o - slot).abs() > 1.0)
    }
}

/// The rows of a column with cards `ids`: those in `span` and the `pinned` ones (focused or
/// dragged: they must not vanish under the user), with spacers between. `gap` is the CSS gap
/// between rows, which a spacer gets after it like a card.
pub fn rows(ids: &[TaskId], span: Span, pinned: &[TaskId], heights: &Heights, gap: f64) -> Rows {
    let mut out = Rows::default();
    let mut run = 0.0;
    let mut in_run = false;
    for (i, id) in ids.iter().enumerate() {
        if (span.start..span.end).contains(&i) || pinned.contains(id) {
            if in_run {
                out.rows.push(Row::Gap(out.gaps.len()));
                out.gaps.push((run - gap).max(0.0));
                run = 0.0;
                in_run = false;
            }
            out.rows.push(Row::Card(*id));
        } else {
            run += heights.slot(*id);
            in_run = true;
        }
    }
    if in_run {
        out.rows.push(Row::Gap(out.gaps.len()));
        out.gaps.push((run - gap).max(0.0));
    }
    out
}
