//! Board filters, kept in the URL query so a leader can share a filtered board as a link.

use chrono::{Datelike, NaiveDate};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use shared::board::is_overdue;
use shared::entity::Task;
use shared::ids::UnitId;

/// The active filters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filters {
    /// Only overdue cards.
    pub overdue: bool,
    /// Only blocked cards.
    pub blocked: bool,
    /// Only cards due this month.
    pub this_month: bool,
    /// Only cards owned by this unit.
    pub owner: Option<UnitId>,
    /// Text that title or notes must contain.
    pub text: String,
    /// Show the archived cards (to restore them) instead of the live ones.
    pub archived: bool,
}

impl Filters {
    /// Whether `task` passes, as of `today`.
    pub fn matches(&self, task: &Task, today: NaiveDate) -> bool {
        task.archived == self.archived
            && (!self.overdue || is_overdue(task.due, task.column, today))
            && (!self.blocked || task.blocked.is_some())
            && (!self.this_month
                || task
                    .due
                    .is_some_and(|d| d.year() == today.year() && d.month() == today.month()))
            && self.owner.is_none_or(|o| task.owner == o)
            && (self.text.is_empty() || {
                // Case matters only for Latin letters (PPP, O2O) in these Chinese texts: ASCII
                // folding keeps Unicode's case tables out of the wasm every phone loads.
                let needle = self.text.to_ascii_lowercase();
                task.title.to_ascii_lowercase().contains(&needle)
                    || task.notes.to_ascii_lowercase().contains(&needle)
            })
    }

    /// Whether any filter is on.
    pub fn any(&self) -> bool {
        *self != Filters::default()
    }
}

/// The filters in the current URL, and a setter that writes them back (replacing the history
/// entry, so Back leaves the board instead of stepping through filter changes).
pub fn use_filters() -> (Memo<Filters>, impl Fn(Filters) + Clone) {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| Filters {
            overdue: q.get("overdue").is_some_and(|v| v == "1"),
            blocked: q.get("blocked").is_some_and(|v| v == "1"),
            this_month: q.get("month").is_some_and(|v| v == "1"),
            owner: q.get("owner").and_then(|v| v.parse().ok()),
            text: q.get("q").unwrap_or_default(),
            archived: q.get("archived").is_some_and(|v| v == "1"),
        })
    });
    let navigate = use_navigate();
    let location = use_location();
    let set = move |f: Filters| {
        let mut parts = Vec::new();
        if f.overdue {
            parts.push("overdue=1".to_string());
        }
        if f.blocked {
            parts.push("blocked=1".into());
        }
        if f.this_month {
            parts.push("month=1".into());
        }
        if f.archived {
            parts.push("archived=1".into());
        }
        if let Some(o) = f.owner {
            parts.push(format!("owner={o}"));
        }
        if !f.text.is_empty() {
            parts.push(format!("q={}", js_sys::encode_uri_component(&f.text)));
        }
        let path = location.pathname.get_untracked();
        let url = if parts.is_empty() {
            path
        } else {
            format!("{path}?{}", parts.join("&"))
        };
        navigate(
            &url,
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    (filters, set)
}
