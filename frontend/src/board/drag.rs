//! Dragging cards with a mouse or a finger, on pointer events (HTML5 drag-and-drop does not work
//! on phones). A drag starts only after the pointer moved a few pixels, so a tap still opens the
//! card and, on touch, scrolling works everywhere but on the card's handle (`touch-action: none`).
//! The drop target is found by hit-testing under the pointer.

use leptos::ev;
use leptos::prelude::*;
use shared::board::Column;
use shared::ids::{ItemId, TaskId};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, PointerEvent};

/// Pixels the pointer must travel before a press becomes a drag.
const THRESHOLD: f64 = 6.0;

/// Where a card would land: lane (item), column and place among the column's other cards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// The lane's item.
    pub item: ItemId,
    /// Column.
    pub column: Column,
    /// Where in the column.
    pub place: Place,
}

/// A place in a column, named by a neighbouring card rather than an index: long columns render
/// only the cards near the viewport, so the DOM does not know indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Just above this card.
    Before(TaskId),
    /// Just below this card.
    After(TaskId),
    /// Last (an empty column).
    End,
    /// Last, dropped on the column's tab (phones show one column at a time).
    Tab,
}

struct Active {
    id: TaskId,
    item: ItemId,
    x: f64,
    y: f64,
    started: bool,
    el: HtmlElement,
}

/// Drag state of one board.
#[derive(Clone, Copy)]
pub struct Drag {
    active: StoredValue<Option<Active>, LocalStorage>,
    /// The card being dragged.
    pub dragging: RwSignal<Option<TaskId>>,
    /// Where it would land now.
    pub over: RwSignal<Option<Target>>,
    /// Set right after a drag ends, so the click that follows doesn't open the card.
    pub just_dropped: StoredValue<bool>,
}

impl Drag {
    /// Idle state.
    pub fn new() -> Drag {
        Drag {
            active: StoredValue::new_local(None),
            dragging: RwSignal::new(None),
            over: RwSignal::new(None),
            just_dropped: StoredValue::new(false),
        }
    }

    /// Starts tracking a press on a card; `on_drop` runs when a drag ends over a column.
    pub fn press(
        self,
        ev: &PointerEvent,
        id: TaskId,
        item: ItemId,
        on_drop: impl Fn(TaskId, Target) + 'static,
    ) {
        if ev.button() != 0 {
            return;
        }
        // On touch the rest of a card scrolls, and swipes to the next column on a phone: a
        // finger drags by the handle only.
        let on_handle = || {
            ev.target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|e| e.closest(".handle").ok().flatten())
                .is_some()
        };
        if ev.pointer_type() == "touch" && !on_handle() {
            return;
        }
        let Some(el) = ev
            .current_target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|e| e.closest("[data-task-id]").ok().flatten())
            .and_then(|e| e.dyn_into::<HtmlElement>().ok())
        else {
            return;
        };
        self.active.set_value(Some(Active {
            id,
            item,
            x: f64::from(ev.client_x()),
            y: f64::from(ev.client_y()),
            started: false,
            el,
        }));
        // Listen on the window for the rest of the gesture, so the card can move under the
        // pointer without losing events; all three listeners go when it ends.
        let listeners = StoredValue::new_local(Vec::<WindowListenerHandle>::new());
        let on_drop = std::rc::Rc::new(on_drop);
        let finish = move |_: PointerEvent, cancelled: bool| {
            for h in listeners
                .try_update_value(std::mem::take)
                .unwrap_or_default()
            {
                h.remove();
            }
            if let Some((id, target)) = self.release(cancelled) {
                on_drop(id, target);
            }
        };
        let finish2 = finish.clone();
        listeners.update_value(|l| {
            l.push(window_event_listener(ev::pointermove, move |e| {
                self.moved(&e)
            }));
            l.push(window_event_listener(ev::pointerup, move |e| {
                finish(e, false)
            }));
            l.push(window_event_listener(ev::pointercancel, move |e| {
                finish2(e, true)
            }));
        });
    }

    fn moved(self, ev: &PointerEvent) {
        let (x, y) = (f64::from(ev.client_x()), f64::from(ev.client_y()));
        let mut start = None;
        let mut target_item = None;
        self.active.update_value(|a| {
            if let Some(a) = a {
                if !a.started && ((x - a.x).powi(2) + (y - a.y).powi(2)).sqrt() >= THRESHOLD {
                    a.started = true;
                    start = Some(a.id);
                }
                if a.started {
                    let style = a.el.style();
                    let _ = style.set_property(
                        "transform",
                        &format!(
                            "translate({}, {})",
                            super::css_px(x - a.x),
                            super::css_px(y - a.y)
                        ),
                    );
                    let _ = style.set_property("pointer-events", "none");
                    target_item = Some(a.item);
                }
            }
        });
        if let Some(id) = start {
            self.dragging.set(Some(id));
        }
        if let Some(item) = target_item {
            ev.prevent_default();
            self.over.set(hit_test(x, y, item));
        }
    }

    fn release(self, cancelled: bool) -> Option<(TaskId, Target)> {
        let active = self.active.try_update_value(Option::take).flatten()?;
        let style = active.el.style();
        let _ = style.remove_property("transform");
        let _ = style.remove_property("pointer-events");
        let target = self.over.get_untracked();
        self.dragging.set(None);
        self.over.set(None);
        if !active.started {
            return None;
        }
        // Only the click that a mouse release makes on the card is to be ignored; a touch or a
        // release off the card makes none, and the flag must not eat the next real tap.
        self.just_dropped.set_value(true);
        let just_dropped = self.just_dropped;
        set_timeout(
            move || just_dropped.set_value(false),
            std::time::Duration::ZERO,
        );
        if cancelled {
            return None;
        }
        // The card lands where the highlighted target was at the last move: the page may have
        // scrolled under a finger since, and what the user saw is what counts.
        Some((active.id, target?))
    }
}

impl Default for Drag {
    fn default() -> Self {
        Self::new()
    }
}

/// The drop target under (x, y) within the lane of `item` (cards don't leave their item).
fn hit_test(x: f64, y: f64, item: ItemId) -> Option<Target> {
    let doc = web_sys::window()?.document()?;
    let under = doc.element_from_point(x as f32, y as f32)?;
    // On phones only one column shows; its tabs are drop targets too (the card goes last).
    if let Some(tab) = under.closest("[data-drop-tab]").ok().flatten() {
        let column = Column::from_slug(&tab.get_attribute("data-drop-tab")?)?;
        return Some(Target {
            item,
            column,
            place: Place::Tab,
        });
    }
    let col_el = under.closest("[data-drop-column]").ok().flatten()?;
    let column = Column::from_slug(&col_el.get_attribute("data-drop-column")?)?;
    let lane: ItemId = col_el.get_attribute("data-lane")?.parse().ok()?;
    if lane != item {
        return None;
    }
    // The first rendered card (other than the lifted one) whose middle is below the pointer;
    // the cards around the pointer are always rendered, as it is in the viewport.
    let cards = col_el.query_selector_all("[data-task-id]").ok()?;
    let mut place = Place::End;
    for i in 0..cards.length() {
        let Some(card) = cards.item(i).and_then(|n| n.dyn_into::<HtmlElement>().ok()) else {
            continue;
        };
        if card
            .style()
            .get_property_value("pointer-events")
            .ok()
            .as_deref()
            == Some("none")
        {
            continue;
        }
        let Some(id) = card
            .get_attribute("data-task-id")
            .and_then(|v| v.parse::<TaskId>().ok())
        else {
            continue;
        };
        let rect = card.get_bounding_client_rect();
        if y > rect.top() + rect.height() / 2.0 {
            place = Place::After(id);
        } else {
            place = Place::Before(id);
            break;
        }
    }
    Some(Target {
        item,
        column,
        place,
    })
}
