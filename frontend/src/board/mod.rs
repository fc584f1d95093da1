//! Kanban boards: one per reform item, one per unit. Every change is a `Mutation` through the
//! sync engine; moving works by mouse, by touch, from the "移动到…" menu and from the keyboard.

pub mod create;
pub mod detail;
pub mod drag;
pub mod filters;
pub mod model;
pub mod postponement;
pub mod window;

use crate::i18n::{self, Lang, W, lang};
use crate::session::use_session;
use crate::sync::use_sync;
use crate::util::{focus_later, now, today};
use drag::{Drag, Place, Target};
use filters::{Filters, use_filters};
use leptos::prelude::*;
use model::{CardFace, Lane, Scope, column_index, faces, lanes};
use shared::board::Column;
use shared::board::key_between;
use shared::ids::{ItemId, TaskId};
use shared::mutation::Mutation;
use shared::permission::Relation;
use std::collections::HashMap;
use std::time::Duration;
use wasm_bindgen::JsCast;
use window::{FIRST_OVERSCAN, Heights, OVERSCAN, Row, Span};

/// Per-board UI state shared by its parts.
#[derive(Clone, Copy)]
struct BoardCtx {
    sync: crate::sync::Sync,
    faces: Memo<HashMap<TaskId, CardFace>>,
    lanes: Memo<Vec<Lane>>,
    drag: Drag,
    menu: RwSignal<Option<TaskId>>,
    open: RwSignal<Option<TaskId>>,
    /// The card that last had focus or was moved by keyboard or menu: it stays rendered
    /// wherever the viewport is, so focus is never lost to a card scrolled out of the window.
    keep: RwSignal<Option<TaskId>>,
    /// Bumped when the page scrolls or resizes or another column shows: long columns then
    /// work out which of their cards are near the viewport.
    viewport: RwSignal<u64>,
    /// Measured card heights, shared by the columns (a card keeps its height when it moves).
    heights: StoredValue<Heights>,
    /// Bumped when a measurement changed a height.
    measured: RwSignal<u64>,
    /// The CSS gap between cards, in pixels.
    gap: StoredValue<f64>,
    /// How far the board has come since it opened; each stage renders in a task of its own,
    /// so the screen shows before the rest is built.
    stage: RwSignal<Stage>,
    /// The column shown when the screen shows one at a time.
    active: RwSignal<Column>,
    /// Whether `active` is settled: picked by the user, or by the board once it had cards (see
    /// `Board`); until then the board moves to the first column with cards when they arrive.
    picked: StoredValue<bool>,
    /// Whether the screen shows one column at a time, as the board opened.
    one_column: bool,
    /// Where the last keyboard or menu move put its card, for screen readers (a live region):
    /// the focus stays on the card, whose name says nothing of its column.
    moved: RwSignal<Option<(Column, usize, usize)>>,
}

/// The media query under which style.css shows one column at a time (its `.board[data-active]`
/// rules). Read before the first paint, when asking the page's layout would compute it twice;
/// were the two to disagree, a board would only open slower, one task later or with cards no
/// one sees yet, never wrong: from then on the columns measure where they really are.
const ONE_COLUMN_QUERY: &str = "(max-width: 480px)";

fn one_column_screen() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media(ONE_COLUMN_QUERY).ok().flatten())
        .is_some_and(|q| q.matches())
}

/// See `BoardCtx::stage`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// Columns render only what is on screen (see `window::FIRST_OVERSCAN`).
    FirstPaint,
    /// Visible columns render their full overscan.
    Overscan,
    /// Columns hidden on a phone render their first screen too, ready for their tab.
    Hidden,
}

impl BoardCtx {
    /// Shows `column` on a screen that shows one at a time, as the user asked.
    fn show(self, column: Column) {
        self.picked.set_value(true);
        self.active.set(column);
    }

    /// Whether `column` shows before the first paint: all of them, or on a phone the active one.
    fn shown_at_first(self, column: Column) -> bool {
        !self.one_column || column == self.active.get_untracked()
    }

    /// Before the first paint: how far down the board lane `item` starts, from the lanes above
    /// it (each as tall as its tallest shown column, in measured or estimated card heights).
    fn lane_offset(self, item: ItemId) -> f64 {
        self.lanes.with_untracked(|lanes| {
            self.heights.with_value(|h| {
                lanes
                    .iter()
                    .take_while(|l| l.item != item)
                    .map(|l| {
                        Column::ALL
                            .into_iter()
                            .zip(&l.columns)
                            .filter(|(c, _)| self.shown_at_first(*c))
                            .map(|(_, ids)| ids.iter().map(|id| h.slot(*id)).sum::<f64>())
                            .fold(0.0, f64::max)
                    })
                    .sum()
            })
        })
    }

    /// Pixels to render beyond the viewport now.
    fn overscan(self) -> f64 {
        if self.stage.get() >= Stage::Overscan {
            OVERSCAN
        } else {
            FIRST_OVERSCAN
        }
    }
}

impl BoardCtx {
    /// Moves `id` to `index` of `column` in its lane: one `MoveTask` with a fractional key.
    fn move_to(self, id: TaskId, item: ItemId, column: Column, index: usize) {
        let sync = self.sync;
        // Focus follows the card (below), so it must render even far from the viewport.
        self.keep.set(Some(id));
        let others: Vec<TaskId> = self.lanes.with_untracked(|ls| {
            ls.iter()
                .find(|l| l.item == item)
                .map(|l| {
                    l.columns[column_index(column)]
                        .iter()
                        .copied()
                        .filter(|x| *x != id)
                        .collect()
                })
                .unwrap_or_default()
        });
        let index = index.min(others.len());
        // Down from the last place, or dropped where it was: nothing moves, so nothing is sent
        // (a move that changes nothing would still be logged and flash on other screens).
        if self.position(id) == Some((item, column_index(column), index)) {
            focus_later(format!("[data-task-id='{id}'] .card-open"));
            return;
        }
        let before = index.checked_sub(1).and_then(|i| others.get(i)).copied();
        let after = others.get(index).copied();
        let sort_key = sync
            .view
            .with_untracked(|s| key_between(s, item, column, id, before, after));
        if sync
            .mutate(Mutation::MoveTask {
                task: id,
                column,
                sort_key,
                at: now(),
            })
            .is_ok()
        {
            self.moved.set(Some((column, index + 1, others.len() + 1)));
        }
        // On a phone the card may now be in a column that is not shown: focus its column's tab
        // (visible, and it names the column and its count) rather than a hidden card.
        if self.one_column && self.active.get_untracked() != column {
            focus_later(format!("[data-drop-tab='{}']", column.slug()));
        } else {
            focus_later(format!("[data-task-id='{id}'] .card-open"));
        }
    }

    /// Moves `id` where a drag dropped it.
    fn move_to_place(self, id: TaskId, t: Target) {
        let index = self.lanes.with_untracked(|ls| {
            let others: Vec<TaskId> = ls
                .iter()
                .find(|l| l.item == t.item)
                .map(|l| {
                    l.columns[column_index(t.column)]
                        .iter()
                        .copied()
                        .filter(|x| *x != id)
                        .collect()
                })
                .unwrap_or_default();
            let at = |x: TaskId| others.iter().position(|o| *o == x);
            match t.place {
                Place::Before(x) => at(x).unwrap_or(others.len()),
                Place::After(x) => at(x).map_or(others.len(), |i| i + 1),
                Place::End | Place::Tab => others.len(),
            }
        });
        self.move_to(id, t.item, t.column, index);
    }

    /// Where `id` is: lane, column and index.
    fn position(self, id: TaskId) -> Option<(ItemId, usize, usize)> {
        self.lanes.with_untracked(|ls| {
            ls.iter().find_map(|l| {
                l.columns
                    .iter()
                    .enumerate()
                    .find_map(|(c, ids)| ids.iter().position(|x| *x == id).map(|i| (l.item, c, i)))
            })
        })
    }

    /// Keyboard moves: Shift+←/→ to the neighbouring column, Shift+↑/↓ within the column.
    fn nudge(self, id: TaskId, dx: isize, dy: isize) {
        let Some((item, col, idx)) = self.position(id) else {
            return;
        };
        if dx != 0 {
            let Some(new_col) = col.checked_add_signed(dx).filter(|c| *c < 4) else {
                return;
            };
            let len = self.lanes.with_untracked(|ls| {
                ls.iter()
                    .find(|l| l.item == item)
                    .map_or(0, |l| l.columns[new_col].len())
            });
            self.move_to(id, item, Column::ALL[new_col], len);
        } else if let Some(new_idx) = idx.checked_add_signed(dy) {
            self.move_to(id, item, Column::ALL[col], new_idx);
        }
    }
}

/// The query parameter that opens a card's detail as the board opens (`?card=<task id>`): where
/// a notice about a task leads, and a link to a card that can be shared.
pub const CARD_PARAM: &str = "card";

/// A board for `scope`.
#[component]
pub fn Board(scope: Scope) -> impl IntoView {
    let sync = use_sync();
    let session = use_session();
    let (filters, set_filters) = use_filters();
    let linked_card: Option<TaskId> = leptos_router::hooks::use_query_map()
        .with_untracked(|q| q.get(CARD_PARAM).and_then(|v| v.parse().ok()));
    let actor = Memo::new(move |_| session.actor());
    // Checked each minute: a board left open overnight marks what fell overdue at midnight,
    // as the item's header (computed on every change) does.
    let day = RwSignal::new(today());
    if let Ok(ticking) = set_interval_with_handle(
        move || {
            let now = today();
            if day.get_untracked() != now {
                day.set(now);
            }
        },
        std::time::Duration::from_secs(60),
    ) {
        on_cleanup(move || ticking.clear());
    }
    let faces = Memo::new(move |_| {
        let f = filters.get();
        let today = day.get();
        actor.with(|a| sync.view.with(|s| faces(s, scope, &f, a.as_ref(), today)))
    });
    let lanes = Memo::new(move |_| faces.with(|f| sync.view.with(|s| lanes(s, scope, f))));
    // A phone shows one column: the first with cards in it, so that a board whose work is all
    // under way doesn't open on an empty 未启动.
    let opening = lanes.with_untracked(|ls| first_with_cards(ls));
    let ctx = BoardCtx {
        sync,
        faces,
        lanes,
        drag: Drag::new(),
        menu: RwSignal::new(None),
        open: RwSignal::new(linked_card),
        keep: RwSignal::new(linked_card),
        viewport: RwSignal::new(0),
        heights: StoredValue::new(Heights::default()),
        measured: RwSignal::new(0),
        gap: StoredValue::new(0.0),
        stage: RwSignal::new(Stage::FirstPaint),
        active: RwSignal::new(opening.unwrap_or(Column::NotStarted)),
        picked: StoredValue::new(opening.is_some()),
        one_column: one_column_screen(),
        moved: RwSignal::new(None),
    };
    provide_context(ctx);
    // A board opened before its cards arrived (a first visit) moves to them once they do,
    // unless the user has picked a column meanwhile; after that, the column stays the user's.
    Effect::new(move |_| {
        if ctx.picked.get_value() {
            return;
        }
        if let Some(column) = lanes.with(|ls| first_with_cards(ls)) {
            ctx.picked.set_value(true);
            // Setting a signal wakes its subscribers even to the same value: here every
            // column would work out its cards again, on the board's busiest moment.
            if ctx.active.get_untracked() != column {
                ctx.active.set(column);
            }
        }
    });
    // A phone shows the linked card's column behind its detail.
    if let Some((_, column, _)) = linked_card.and_then(|id| ctx.position(id)) {
        ctx.active.set(Column::ALL[column]);
        ctx.picked.set_value(true);
    }
    // A card opened from a link is closed for good: the address drops it (rewritten from the
    // filters, which is all else it holds), so a reload doesn't open the card again.
    if linked_card.is_some() {
        Effect::new(move |was_open: Option<bool>| {
            let open = ctx.open.get().is_some();
            if was_open == Some(true) && !open {
                set_filters(filters.get_untracked());
            }
            open
        });
    }
    // A frame callback runs just before the first paint; a timeout queued from it, just after.
    request_animation_frame(move || next_stage(ctx.stage, Stage::Overscan));
    let active = ctx.active;
    let bump = move || ctx.viewport.update(|n| *n += 1);
    let listeners = StoredValue::new_local(vec![
        window_event_listener(leptos::ev::scroll, move |_| bump()),
        window_event_listener(leptos::ev::resize, move |_| bump()),
    ]);
    on_cleanup(move || {
        for h in listeners
            .try_update_value(std::mem::take)
            .unwrap_or_default()
        {
            h.remove();
        }
    });
    // A column that was hidden (phones show one at a time) has its real position only now.
    Effect::new(move |_| {
        active.track();
        bump();
    });
    let lang = lang();
    let counts = move || {
        let mut counts = [0usize; 4];
        lanes.with(|ls| {
            for l in ls {
                for (i, c) in l.columns.iter().enumerate() {
                    counts[i] += c.len();
                }
            }
        });
        counts
    };
    let show_lane_heads = matches!(scope, Scope::Unit(_));
    view! {
        <FilterBar scope/>
        {match scope { Scope::Item(item) => Some(view! { <create::CreateTask item/> }), Scope::Unit(_) => None }}
        <div class="column-tabs" role="tablist" aria-label=move || W::Columns.get(lang.get())>
            {Column::ALL.into_iter().map(|c| view! {
                <button role="tab" aria-selected=move || (active.get() == c).to_string()
                    class:active=move || active.get() == c data-drop-tab=c.slug()
                    class:drop-over=move || ctx.drag.over.get().is_some_and(|t| t.column == c && t.place == Place::Tab)
                    on:click=move |_| ctx.show(c)>
                    {move || column_name(c, lang.get())}
                    <span class="count">{move || counts()[column_index(c)]}</span>
                </button>
            }).collect_view()}
        </div>
        <div class="board" data-active=move || active.get().slug() class:dragging=move || ctx.drag.dragging.get().is_some()
            on:pointerdown=swipe_start on:pointerup=move |ev| swipe_end(&ev, ctx)
            on:pointercancel=move |_| SWIPE_X.with(|s| s.set(None))>
            <For each=move || lanes.get() key=|l| l.item children=move |lane| {
                let item = lane.item;
                view! { <LaneView item=item head=show_lane_heads.then_some(lane)/> }
            }/>
            <Show when=move || lanes.with(Vec::is_empty)>
                <p class="empty">{move || W::NoCards.get(lang.get())}</p>
            </Show>
        </div>
        {match scope {
            Scope::Unit(unit) => Some(move || {
                let idle = sync.view.with(|s| model::idle_items(s, unit));
                (!idle.is_empty()).then(|| {
                    let links = idle
                        .into_iter()
                        .map(|(n, title, relation)| {
                            // Told apart as on the swimlanes: leading, or cooperating.
                            let tag = match relation {
                                Relation::Lead => Some(("lead", W::Leads)),
                                Relation::Cooperating => Some(("coop", W::Cooperates)),
                                Relation::Other => None,
                            };
                            view! {
                                <li>
                                    <a href=format!("/items/{n}/board")>{n}". "{title}</a>
                                    {tag.map(|(class, w)| view! { <span class=format!("tag rel-{class}")>{move || w.get(lang.get())}</span> })}
                                </li>
                            }
                        })
                        .collect_view();
                    view! {
                        <section class="idle-items">
                            <h2>{move || W::NoTasksOnItems.get(lang.get())}</h2>
                            <ul>{links}</ul>
                        </section>
                    }
                })
            }),
            Scope::Item(_) => None,
        }}
        // Said to screen readers on every card, and shown under the board on a desktop.
        <p class="board-hint" id="board-keys">{move || W::KeyboardHint.get(lang.get())}</p>
        <p class="sr-only" role="status" data-testid="board-moved">{move || ctx.moved.get().map(|(c, n, of)| match lang.get() {
            Lang::Zh => format!("已移至{}，第{n}项，共{of}项", c.zh()),
            Lang::En => format!("Moved to {}, {n} of {of}", c.en()),
        })}</p>
        {move || ctx.open.get().map(|id| view! {
            <Suspense fallback=move || view! { <detail::Placeholder message=W::Loading/> }>
                {Suspend::new(async move {
                    detail::lazily(id).await.unwrap_or_else(|_| {
                        view! { <detail::Placeholder message=W::ChunkNotLoaded/> }.into_any()
                    })
                })}
            </Suspense>
        })}
    }
}

thread_local! {
    static SWIPE_X: std::cell::Cell<Option<(i32, i32)>> = const { std::cell::Cell::new(None) };
}

/// Remembers where a touch began, for column swiping on phones.
fn swipe_start(ev: leptos::ev::PointerEvent) {
    if ev.pointer_type() == "touch" {
        SWIPE_X.with(|s| s.set(Some((ev.client_x(), ev.client_y()))));
    }
}

/// A mostly horizontal swipe of 60 px or more shows the next or previous column (phones show
/// one at a time).
fn swipe_end(ev: &leptos::ev::PointerEvent, ctx: BoardCtx) {
    let drag = ctx.drag;
    let Some((x0, y0)) = SWIPE_X.with(|s| s.take()) else {
        return;
    };
    let (dx, dy) = (ev.client_x() - x0, ev.client_y() - y0);
    if dx.abs() < 60
        || dx.abs() < dy.abs() * 2
        || drag.just_dropped.get_value()
        || drag.dragging.get_untracked().is_some()
    {
        return;
    }
    let i = column_index(ctx.active.get_untracked());
    let next = if dx < 0 {
        (i + 1).min(3)
    } else {
        i.saturating_sub(1)
    };
    ctx.show(Column::ALL[next]);
}

/// The first column, in board order, with a card in any lane.
fn first_with_cards(lanes: &[Lane]) -> Option<Column> {
    Column::ALL.into_iter().find(|c| {
        lanes
            .iter()
            .any(|l| !l.columns[column_index(*c)].is_empty())
    })
}

/// A column's name in `lang`.
pub fn column_name(c: Column, lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => c.zh(),
        Lang::En => c.en(),
    }
}

/// A column's name and card count, one level below what is above it: the page's h1 on an item
/// board (one lane, no lane heading), the lane's h2 on a unit board. Screen readers list
/// headings by level, and a skipped level reads as a missing section.
fn column_heading(
    below_lane_head: bool,
    name: impl Fn() -> &'static str + Send + Sync + 'static,
    count: impl Fn() -> usize + Send + Sync + 'static,
) -> AnyView {
    let inner = view! { {name}<span class="count">{count}</span> };
    if below_lane_head {
        view! { <h3 class="column-head">{inner}</h3> }.into_any()
    } else {
        view! { <h2 class="column-head">{inner}</h2> }.into_any()
    }
}

#[component]
fn LaneView(item: ItemId, head: Option<Lane>) -> impl IntoView {
    let ctx = use_context::<BoardCtx>().expect("LaneView inside a Board");
    let lang = lang();
    let head = head.map(|l| {
        let tag = match l.relation {
            Relation::Lead => Some(W::Leads),
            Relation::Cooperating => Some(W::Cooperates),
            Relation::Other => None,
        };
        view! {
            <h2 class="lane-head">
                <a href=format!("/items/{}/board", l.number)>{l.number}". "{l.title.clone()}</a>
                {tag.map(|w| view! { <span class=format!("tag rel-{}", if w == W::Leads { "lead" } else { "coop" })>{move || w.get(lang.get())}</span> })}
            </h2>
        }
    });
    let lane_heads = head.is_some();
    view! {
        <section class="lane" aria-label=move || {
            let name = ctx.sync.view.with(|s| s.item(item).map(|i| format!("{}. {}", i.number, i.title)));
            format!("{} {}", W::Lane.get(lang.get()), name.unwrap_or_default())
        }>
            {head}
            <div class="columns">
                {Column::ALL.into_iter().map(|column| {
                    let ids = Memo::new(move |_| ctx.lanes.with(|ls| {
                        ls.iter().find(|l| l.item == item).map(|l| l.columns[column_index(column)].clone()).unwrap_or_default()
                    }));
                    let is_over = move || ctx.drag.over.get().is_some_and(|t| t.item == item && t.column == column);
                    view! {
                        <section class=format!("column {}", column.slug()) class:drop-over=is_over
                            class:no-cards=move || ids.with(Vec::is_empty)
                            data-drop-column=column.slug() data-lane=item.to_string()
                            aria-label=move || column_name(column, lang.get())>
                            {column_heading(lane_heads, move || column_name(column, lang.get()), move || ids.with(Vec::len))}
                            <CardList item column ids/>
                            // Shown by style.css while the column is empty.
                            <p class="column-empty">{move || W::NoCards.get(lang.get())}</p>
                        </section>
                    }
                }).collect_view()}
            </div>
        </section>
    }
}

/// A column's cards: those near the viewport, with spacers for the rest (see `window`).
#[component]
fn CardList(item: ItemId, column: Column, ids: Memo<Vec<TaskId>>) -> impl IntoView {
    let ctx = use_context::<BoardCtx>().expect("CardList inside a Board");
    let list = NodeRef::<leptos::html::Ul>::new();
    // Nothing until the column is placed (below): a column hidden on a phone renders no cards.
    let span = RwSignal::new(Span::default());
    let rows = Memo::new(move |_| {
        ctx.measured.track();
        let pinned: Vec<TaskId> = [ctx.keep.get(), ctx.drag.dragging.get()]
            .into_iter()
            .flatten()
            .collect();
        let span = span.get();
        let gap = ctx.gap.get_value();
        ids.with(|ids| {
            ctx.heights
                .with_value(|h| window::rows(ids, span, &pinned, h, gap))
        })
    });
    // After each render: measure the cards that rendered — from the first paint on; before it
    // the page has not been laid out, and measuring would lay it out once more.
    Effect::new(move |_| {
        rows.track();
        if ctx.stage.get() == Stage::FirstPaint {
            return;
        }
        if let Some(ul) = list.get()
            && measure(&ul, ctx)
        {
            ctx.measured.update(|n| *n += 1);
        }
    });
    // After a scroll, a resize, new cards or new heights: which cards are near the viewport.
    Effect::new(move |_| {
        ctx.viewport.track();
        ctx.measured.track();
        let Some(ul) = list.get() else {
            return;
        };
        // The cards whose slots meet `from..to`, in pixels from the top of the list.
        let covering = |from: f64, to: f64| {
            ids.with(|ids| {
                ctx.heights
                    .with_value(|h| Span::covering(ids.iter().map(|id| h.slot(*id)), from, to))
            })
        };
        let new = if ctx.stage.get() == Stage::FirstPaint {
            // Nothing is laid out yet, and asking where the list is (or even the window's
            // inner height) would lay out the page once more. A list opens at or below the top
            // of the window — below the lanes above it, on a unit board — and the window is no
            // taller than the screen, so the cards that fill a screen from the list's top, less
            // those lanes, cover whatever part of it shows.
            if ctx.shown_at_first(column) {
                covering(
                    0.0,
                    screen_height() + FIRST_OVERSCAN - ctx.lane_offset(item),
                )
            } else {
                Span::default()
            }
        } else {
            let rect = ul.get_bounding_client_rect();
            // A hidden column (phones show one at a time) has no box. It renders its first
            // screen of cards, ready for its tab — but only once the visible ones are built.
            let hidden = rect.width() == 0.0 && rect.height() == 0.0;
            if hidden && ctx.stage.get() < Stage::Hidden {
                Span::default()
            } else if hidden {
                covering(0.0, viewport_height())
            } else {
                let (top, overscan) = (rect.top(), ctx.overscan());
                covering(-top - overscan, viewport_height() - top + overscan)
            }
        };
        if new != span.get_untracked() {
            span.set(new);
        }
    });
    let gap_height = move |k: usize| rows.with(|r| css_px(r.gaps.get(k).copied().unwrap_or(0.0)));
    view! {
        <ul role="list" class="cards" node_ref=list>
            <For each=move || rows.with(|r| r.rows.clone()) key=|r| *r children=move |r| match r {
                Row::Card(id) => view! { <Card id ids/> }.into_any(),
                Row::Gap(k) => view! { <li class="spacer" aria-hidden="true" style:height=move || gap_height(k)></li> }.into_any(),
            }/>
        </ul>
    }
}

/// Moves the board to `stage` in a task of its own, and on to the next stage after that.
fn next_stage(signal: RwSignal<Stage>, stage: Stage) {
    set_timeout(
        move || {
            // Named by what is done when the stage starts.
            crate::util::mark(match stage {
                Stage::FirstPaint => "board opened",
                Stage::Overscan => "board's first screen painted",
                Stage::Hidden => "board's overscan built",
            });
            if signal.try_set(stage).is_none() && stage == Stage::Overscan {
                next_stage(signal, Stage::Hidden);
            }
        },
        Duration::ZERO,
    );
}

/// `px` as a CSS length to a hundredth of a pixel, written with integers: formatting an `f64`
/// would put the float printer (~15 KB) into the wasm every phone loads, for the board's
/// spacers and a dragged card's offset.
fn css_px(px: f64) -> String {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a length on screen, far below i64"
    )]
    let hundredths = (px * 100.0).round() as i64;
    let sign = if hundredths < 0 { "-" } else { "" };
    let abs = hundredths.unsigned_abs();
    format!("{sign}{}.{:02}px", abs / 100, abs % 100)
}

/// The screen's height in CSS pixels: unlike the window's, known without a layout.
fn screen_height() -> f64 {
    web_sys::window()
        .and_then(|w| w.screen().ok())
        .and_then(|s| s.height().ok())
        .map_or(1000.0, f64::from)
}

fn viewport_height() -> f64 {
    web_sys::window()
        .and_then(|w| w.inner_height().ok())
        .and_then(|h| h.as_f64())
        .unwrap_or(800.0)
}

/// Records the heights of the cards rendered in `ul`; whether any changed.
fn measure(ul: &web_sys::HtmlUListElement, ctx: BoardCtx) -> bool {
    let mut changed = false;
    let gap = web_sys::window()
        .and_then(|w| w.get_computed_style(ul).ok().flatten())
        .and_then(|st| st.get_property_value("row-gap").ok())
        .and_then(|g| g.trim_end_matches("px").parse::<f64>().ok())
        .unwrap_or(0.0);
    if (gap - ctx.gap.get_value()).abs() > 0.1 {
        ctx.gap.set_value(gap);
        changed = true;
    }
    let Ok(cards) = ul.query_selector_all(":scope > li[data-task-id]") else {
        return changed;
    };
    ctx.heights.update_value(|h| {
        for i in 0..cards.length() {
            let Some(el) = cards
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
            else {
                continue;
            };
            let Some(id) = el
                .get_attribute("data-task-id")
                .and_then(|v| v.parse::<TaskId>().ok())
            else {
                continue;
            };
            // Zero: a hidden column; its cards keep their last (or guessed) height.
            let height = f64::from(el.offset_height());
            if height > 0.0 {
                changed |= h.record(id, height + gap);
            }
        }
    });
    changed
}

#[component]
fn Card(id: TaskId, ids: Memo<Vec<TaskId>>) -> impl IntoView {
    let ctx = use_context::<BoardCtx>().expect("Card inside a Board");
    let sync = use_sync();
    let lang = lang();
    let face = Memo::new(move |_| ctx.faces.with(|f| f.get(&id).cloned()));
    // The <li> is made once and only its parts follow the data, so focus, an open menu and a
    // drag in progress survive a pull that changes the card.
    let get = move |pick: fn(&CardFace) -> String| {
        face.with(|f| f.as_ref().map(pick).unwrap_or_default())
    };
    let has = move |pick: fn(&CardFace) -> bool| face.with(|f| f.as_ref().is_some_and(pick));
    let movable = move || has(|f| f.movable);
    let press = move |ev: leptos::ev::PointerEvent| {
        let Some(f) = face.get_untracked() else {
            return;
        };
        if f.movable {
            ctx.drag.press(&ev, id, f.item, move |id, t: Target| {
                ctx.move_to_place(id, t)
            });
        }
    };
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        if !face.with_untracked(|f| f.as_ref().is_some_and(|f| f.movable)) || !ev.shift_key() {
            return;
        }
        let (dx, dy) = match ev.key().as_str() {
            "ArrowLeft" => (-1, 0),
            "ArrowRight" => (1, 0),
            "ArrowUp" => (0, -1),
            "ArrowDown" => (0, 1),
            _ => return,
        };
        ev.prevent_default();
        ctx.nudge(id, dx, dy);
    };
    let open = move |_| {
        if ctx.drag.just_dropped.get_value() {
            ctx.drag.just_dropped.set_value(false);
            return;
        }
        ctx.open.set(Some(id));
    };
    let progress = move || face.with(|f| f.as_ref().map_or(0, |f| f.progress));
    view! {
        <li class="card" class:overdue=move || has(|f| f.overdue) class:blocked=move || has(|f| f.blocked.is_some())
            class:flash=move || sync.recent.with(|r| r.contains(&id))
            class:lifted=move || ctx.drag.dragging.get() == Some(id)
            data-task-id=id.to_string() on:pointerdown=press on:keydown=keydown
            on:focusin=move |_| if ctx.keep.get_untracked() != Some(id) { ctx.keep.set(Some(id)) }
            aria-posinset=move || ids.with(|v| v.iter().position(|x| *x == id).map_or(0, |i| i + 1))
            aria-setsize=move || ids.with(Vec::len)>
            <div class="card-top">
                <button class="card-open" on:click=open aria-describedby="board-keys"
                    aria-label=move || format!("{} {}", W::OpenCard.get(lang.get()), get(|f| f.title.clone()))>
                    {move || get(|f| f.title.clone())}
                </button>
                <Show when=movable>
                    <span class="handle" aria-hidden="true" title=move || W::DragHint.get(lang.get())>"⠿"</span>
                </Show>
            </div>
            <div class="card-meta">
                <span class="owner">{move || get(|f| f.owner.clone())}</span>
                {move || face.with(|f| f.as_ref().and_then(|f| f.due.map(|d| (d, f.overdue, f.done_late)))).map(|(d, late, done_late)| view! {
                    // Said in words, not only in colour; done late is not the same as done on
                    // time (the assessment counts it missed).
                    <span class="due" class:late=late class:done-late=done_late>{move || {
                        let l = lang.get();
                        let date = i18n::date(d, l);
                        if late {
                            format!("{} · {date}", W::Overdue.get(l))
                        } else if done_late {
                            format!("{} · {date}", W::DoneLate.get(l))
                        } else {
                            date
                        }
                    }}</span>
                })}
                {move || face.with(|f| f.as_ref().and_then(|f| f.postponing)).map(|p| view! {
                    <span class="badge postponing-badge">{move || {
                        let l = lang.get();
                        match p {
                            model::Postponing::To(d) => format!("{} → {}", W::Postponing.get(l), i18n::date(d, l)),
                            model::Postponing::Overtaken => W::PostponingOvertaken.get(l).to_string(),
                        }
                    }}</span>
                })}
                {move || face.with(|f| f.as_ref().and_then(|f| f.blocked.clone())).map(|r| {
                    // The reason on the card itself (cut to a line; whole in the detail): a
                    // phone has no hover for a tooltip.
                    let title = r.clone();
                    view! {
                        <span class="badge blocked-badge" title=title>{move || {
                            let l = lang.get();
                            format!("{}{}{r}", W::Blocked.get(l), l.colon())
                        }}</span>
                    }
                })}
            </div>
            <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=progress aria-label=move || W::Progress.get(lang.get())>
                <span style:width=move || format!("{}%", progress())></span>
            </div>
            <div class="card-foot">
                <span>{progress}"%"</span>
                {move || face.with(|f| f.as_ref().filter(|f| f.steps_total > 0).map(|f| (f.steps_done, f.steps_total))).map(|(d, t)| view! {
                    // A span's label is not read out unless it is an image of its own.
                    <span role="img" aria-label=move || format!("{} {d}/{t}", W::Checklist.get(lang.get()))>{format!("☑ {d}/{t}")}</span>
                })}
                {move || face.with(|f| f.as_ref().map_or(0, |f| f.comments)).gt(&0).then(|| view! {
                    <span class="comment-count" role="img"
                        aria-label=move || format!("{} {}", W::Comments.get(lang.get()), face.with(|f| f.as_ref().map_or(0, |f| f.comments)))>
                        // Drawn, not an emoji: without an emoji font (kiosks, some phones) it was a blank box.
                        <svg aria-hidden="true" viewBox="0 0 24 24" width="13" height="13">
                            <path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/>
                        </svg>
                        " "{move || face.with(|f| f.as_ref().map_or(0, |f| f.comments))}
                    </span>
                })}
                <Show when=movable>
                    <MoveMenu id column=Signal::derive(move || face.with(|f| f.as_ref().map_or(Column::NotStarted, |f| f.column)))
                        title=Signal::derive(move || face.with(|f| f.as_ref().map(|f| f.title.clone()).unwrap_or_default()))/>
                </Show>
            </div>
        </li>
    }
}

/// "移动到…": move without dragging.
#[component]
fn MoveMenu(id: TaskId, column: Signal<Column>, title: Signal<String>) -> impl IntoView {
    let ctx = use_context::<BoardCtx>().expect("MoveMenu inside a Board");
    let lang = lang();
    let open = move || ctx.menu.get() == Some(id);
    let choose = move |target: Column| {
        ctx.menu.set(None);
        if let Some((item, _, _)) = ctx.position(id) {
            let len = ctx.lanes.with_untracked(|ls| {
                ls.iter()
                    .find(|l| l.item == item)
                    .map_or(0, |l| l.columns[column_index(target)].len())
            });
            ctx.move_to(id, item, target, len);
        }
    };
    view! {
        <span class="move-menu">
            // Every card has one: the name says whose (its words first, as they are on screen).
            <button class="link" aria-haspopup="menu" aria-expanded=move || open().to_string()
                aria-label=move || format!("{} {}", W::MoveTo.get(lang.get()), title.get())
                on:click=move |_| ctx.menu.update(|m| *m = if *m == Some(id) { None } else { Some(id) })>
                {move || W::MoveTo.get(lang.get())}
            </button>
            <Show when=open>
                <div class="menu" role="menu" aria-label=move || W::MoveTo.get(lang.get())>
                    {move || Column::ALL.into_iter().filter(|c| *c != column.get()).map(|c| view! {
                        <button role="menuitem" on:click=move |_| choose(c)>{move || column_name(c, lang.get())}</button>
                    }).collect_view()}
                    <button role="menuitem" on:click=move |_| { ctx.menu.set(None); ctx.nudge(id, 0, -1); }>{move || W::MoveUp.get(lang.get())}</button>
                    <button role="menuitem" on:click=move |_| { ctx.menu.set(None); ctx.nudge(id, 0, 1); }>{move || W::MoveDown.get(lang.get())}</button>
                </div>
            </Show>
        </span>
    }
}

#[component]
fn FilterBar(scope: Scope) -> impl IntoView {
    let (filters, set_filters) = use_filters();
    let more = RwSignal::new(false);
    let sync = use_sync();
    let lang = lang();
    let owners = Memo::new(move |_| {
        sync.view.with(|s| {
            let units: Vec<(String, String)> = match scope {
                Scope::Item(item) => s
                    .item(item)
                    .map(|i| {
                        s.units_of(i)
                            .into_iter()
                            .filter_map(|u| s.unit(u))
                            .map(|u| (u.id.to_string(), u.name.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
                Scope::Unit(_) => vec![],
            };
            units
        })
    });
    let toggle = {
        let set = set_filters.clone();
        move |which: fn(&mut Filters)| {
            let mut f = filters.get_untracked();
            which(&mut f);
            set(f);
        }
    };
    let t1 = toggle.clone();
    let t2 = toggle.clone();
    let t3 = toggle.clone();
    let t4 = toggle.clone();
    let set_text = set_filters.clone();
    let set_owner = set_filters.clone();
    let clear = set_filters.clone();
    view! {
        <form class="filters" role="search" aria-label=move || W::Filters.get(lang.get()) on:submit=|ev| ev.prevent_default()>
            <input type="search" aria-label=move || W::Search.get(lang.get()) placeholder=move || W::Search.get(lang.get())
                prop:value=move || filters.with(|f| f.text.clone())
                on:change=move |ev| { let mut f = filters.get_untracked(); f.text = event_target_value(&ev).trim().to_string(); set_text(f); }/>
            // On a phone the checkboxes fold behind one button, so the cards start higher up.
            <button type="button" class="link filters-toggle" aria-expanded=move || more.get().to_string()
                on:click=move |_| more.update(|m| *m = !*m)>
                {move || W::Filters.get(lang.get())}
                {move || { let n = filters.with(|f| usize::from(f.overdue) + usize::from(f.blocked) + usize::from(f.this_month) + usize::from(f.archived) + usize::from(f.owner.is_some())); (n > 0).then(|| format!(" ({n})")) }}
            </button>
            <div class="filters-more" class:open=move || more.get()>
                <label class="check"><input type="checkbox" prop:checked=move || filters.with(|f| f.overdue)
                    on:change=move |_| t1(|f| f.overdue = !f.overdue)/>{move || W::Overdue.get(lang.get())}</label>
                <label class="check"><input type="checkbox" prop:checked=move || filters.with(|f| f.blocked)
                    on:change=move |_| t2(|f| f.blocked = !f.blocked)/>{move || W::Blocked.get(lang.get())}</label>
                <label class="check"><input type="checkbox" prop:checked=move || filters.with(|f| f.this_month)
                    on:change=move |_| t3(|f| f.this_month = !f.this_month)/>{move || W::DueThisMonth.get(lang.get())}</label>
                <label class="check"><input type="checkbox" prop:checked=move || filters.with(|f| f.archived)
                    on:change=move |_| t4(|f| f.archived = !f.archived)/>{move || W::ShowArchived.get(lang.get())}</label>
                <Show when=move || owners.with(|o| !o.is_empty())>
                    <label>{move || W::Owner.get(lang.get())}
                        <select on:change={
                            let set_owner = set_owner.clone();
                            move |ev| { let mut f = filters.get_untracked(); f.owner = event_target_value(&ev).parse().ok(); set_owner(f); }
                        }>
                            <option value="" selected=move || filters.with(|f| f.owner.is_none())>{move || W::All.get(lang.get())}</option>
                            {move || owners.get().into_iter().map(|(id, name)| {
                                let sel = id.clone();
                                view! { <option value=id selected=move || filters.with(|f| f.owner.map(|o| o.to_string()) == Some(sel.clone()))>{name}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                </Show>
            </div>
            <Show when=move || filters.with(Filters::any)>
                <button type="button" class="link" on:click={
                    let clear = clear.clone();
                    move |_| clear(Filters::default())
                }>{move || W::ClearFilters.get(lang.get())}</button>
            </Show>
        </form>
    }
}
