//! A timeline of deadlines on a month axis: months across, rows down, one marker per deadline
//! coloured by whether it was met on time, missed (past and not met, or met late) or is still
//! ahead — all judged as of a chosen date.
//!
//! Use it for one item (`item_rows`: its submissions, then one row per task) or for the whole
//! plan (`plan_rows`: one row per item), e.g.
//!
//! ```ignore
//! let as_of = RwSignal::new(crate::workflow::today());
//! let rows = Signal::derive(move || sync.view.with(|s| timeline::plan_rows(s, as_of.get())));
//! view! { <timeline::Timeline rows as_of label="全计划时间轴"/> }
//! ```
//!
//! The months shown run from the earliest to the latest deadline of the rows (at most
//! `MAX_MONTHS`). The grid scrolls sideways inside its own box on a phone; a list by date under
//! it says the same in words.

use super::pick;
use super::submissions::kind_name;
use crate::i18n::{self, Lang, lang, month_abbr};
use chrono::{Datelike, Months, NaiveDate};
use leptos::prelude::*;
use shared::calendar::{Deadline, Due, deadlines};
use shared::ids::ItemId;
use shared::state::State;

/// Most months one timeline shows (later deadlines are left off the grid, not the list).
pub const MAX_MONTHS: usize = 36;

/// One row of a timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Shown at the row's start: an item's number and title, a task's title.
    pub label: String,
    /// Where the label links to, if anywhere.
    pub href: Option<String>,
    /// Its deadlines.
    pub deadlines: Vec<Deadline>,
}

/// Where a deadline stands as of a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Met by its date.
    Met,
    /// Met, but after its date.
    MetLate,
    /// Past and not met.
    Missed,
    /// Still ahead (or due today) and not met.
    Upcoming,
}

impl Mark {
    /// Of `d` as of `as_of`.
    pub fn of(d: &Deadline, as_of: NaiveDate) -> Mark {
        if d.met_late() {
            Mark::MetLate
        } else if d.missed(as_of) {
            Mark::Missed
        } else if d.met_on.is_some() {
            Mark::Met
        } else {
            Mark::Upcoming
        }
    }

    /// CSS class.
    pub fn class(self) -> &'static str {
        match self {
            Mark::Met => "met",
            Mark::MetLate => "met-late",
            Mark::Missed => "missed",
            Mark::Upcoming => "upcoming",
        }
    }

    /// In words.
    pub fn name(self, l: Lang) -> &'static str {
        match (self, l) {
            (Mark::Met, Lang::Zh) => "按时完成",
            (Mark::MetLate, Lang::Zh) => "逾期完成",
            (Mark::Missed, Lang::Zh) => "逾期",
            (Mark::Upcoming, Lang::Zh) => "未到期",
            (Mark::Met, Lang::En) => "met",
            (Mark::MetLate, Lang::En) => "met late",
            (Mark::Missed, Lang::En) => "missed",
            (Mark::Upcoming, Lang::En) => "upcoming",
        }
    }
}

/// What a deadline is, in words: a task's title or a submission's name.
pub fn what(d: &Deadline, l: Lang) -> String {
    match &d.due {
        Due::Task { title, .. } => title.clone(),
        Due::Submission { kind } => kind_name(*kind, l == Lang::En).to_string(),
    }
}

/// The whole plan: one row per item, linking to the item's timeline.
pub fn plan_rows(state: &State, as_of: NaiveDate) -> Vec<Row> {
    let all = deadlines(state, None, as_of);
    state
        .items()
        .into_iter()
        .map(|it| Row {
            label: format!("{}. {}", it.number, it.title),
            href: Some(format!("/items/{}/timeline", it.number)),
            deadlines: all.iter().filter(|d| d.item == it.id).cloned().collect(),
        })
        .collect()
}

/// One item: a row for its submissions, then one row per task with a due date (by date).
pub fn item_rows(state: &State, item: ItemId, as_of: NaiveDate, l: Lang) -> Vec<Row> {
    let all = deadlines(state, Some(item), as_of);
    let number = state.item(item).map_or(0, |i| i.number);
    let mut rows = vec![Row {
        label: pick(l, "报送材料", "Work plan and reports"),
        href: Some(format!("/items/{number}/submissions")),
        deadlines: all
            .iter()
            .filter(|d| matches!(d.due, Due::Submission { .. }))
            .cloned()
            .collect(),
    }];
    rows.extend(all.iter().filter_map(|d| match &d.due {
        Due::Task { title, .. } => Some(Row {
            label: title.clone(),
            href: Some(format!("/items/{number}/board")),
            deadlines: vec![d.clone()],
        }),
        Due::Submission { .. } => None,
    }));
    rows
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The months from the earliest to the latest deadline, at most `MAX_MONTHS`.
fn months(rows: &[Row]) -> Vec<NaiveDate> {
    let dates = rows.iter().flat_map(|r| r.deadlines.iter().map(|d| d.date));
    let (Some(lo), Some(hi)) = (dates.clone().min(), dates.max()) else {
        return vec![];
    };
    let mut m = first_of_month(lo);
    let end = first_of_month(hi);
    let mut out = vec![];
    while m <= end && out.len() < MAX_MONTHS {
        out.push(m);
        let Some(next) = m.checked_add_months(Months::new(1)) else {
            break;
        };
        m = next;
    }
    out
}

fn month_label(m: NaiveDate, first: bool, l: Lang) -> String {
    match l {
        Lang::Zh if first || m.month() == 1 => format!("{}年{}月", m.year(), m.month()),
        Lang::Zh => format!("{}月", m.month()),
        Lang::En if first || m.month() == 1 => format!("{} {}", month_abbr(m), m.year()),
        Lang::En => month_abbr(m).to_string(),
    }
}

/// Days in `m`'s month.
fn days_in(m: NaiveDate) -> u32 {
    m.checked_add_months(Months::new(1))
        .map_or(31, |n| u32::try_from((n - m).num_days()).unwrap_or(31))
}

/// The timeline of `rows` as of `as_of`; `label` names it for screen readers.
#[component]
pub fn Timeline(
    #[prop(into)] rows: Signal<Vec<Row>>,
    #[prop(into)] as_of: Signal<NaiveDate>,
    #[prop(into)] label: Signal<String>,
) -> impl IntoView {
    let lang = lang();
    let grid = move || {
        let l = lang.get();
        let as_of = as_of.get();
        let rows = rows.get();
        let months = months(&rows);
        if months.is_empty() {
            return view! { <p class="hint">{pick(l, "没有截止日期", "No deadlines")}</p> }
                .into_any();
        }
        let now_month = first_of_month(as_of);
        let head = months
            .iter()
            .enumerate()
            .map(|(i, m)| {
                view! { <th scope="col" class:now=*m == now_month>{month_label(*m, i == 0, l)}</th> }
            })
            .collect_view();
        let body = rows
            .into_iter()
            .map(|row| {
                let label = match row.href {
                    Some(h) => view! { <a href=h>{row.label}</a> }.into_any(),
                    None => view! { <span>{row.label}</span> }.into_any(),
                };
                let cells = months
                    .iter()
                    .map(|m| {
                        let marks = row
                            .deadlines
                            .iter()
                            .filter(|d| first_of_month(d.date) == *m)
                            .map(|d| {
                                let mark = Mark::of(d, as_of);
                                let text = format!("{} {} {}", what(d, l), i18n::date(d.date, l), mark.name(l));
                                // The marker's centre on the middle of its day.
                                let left = (f64::from(d.date.day()) - 0.5) * 100.0
                                    / f64::from(days_in(*m));
                                view! {
                                    <span class=format!("tl-mark {}", mark.class()) role="img"
                                        aria-label=text.clone() title=text style:left=format!("{left:.1}%")></span>
                                }
                            })
                            .collect_view();
                        view! { <td class:now=*m == now_month>{marks}</td> }
                    })
                    .collect_view();
                view! { <tr><th scope="row" class="tl-label">{label}</th>{cells}</tr> }
            })
            .collect_view();
        view! {
            <div class="timeline-scroll" tabindex="0">
                <table class="timeline-grid">
                    <thead><tr><th class="tl-label"></th>{head}</tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let list = move || {
        let l = lang.get();
        let as_of = as_of.get();
        let mut all: Vec<(String, Deadline)> = rows
            .get()
            .into_iter()
            .flat_map(|r| {
                let label = r.label;
                r.deadlines.into_iter().map(move |d| (label.clone(), d))
            })
            .collect();
        shared::sorting::sort_by_key(&mut all, |a| a.1.date);
        all.dedup_by(|a, b| a.1 == b.1);
        all.into_iter()
            .map(|(row, d)| {
                let mark = Mark::of(&d, as_of);
                let what = what(&d, l);
                // A task's row is its own title; say the row only where it adds something.
                let row = (row != what).then(|| l.bracketed(&row));
                view! {
                    <li class=format!("tl-item {}", mark.class())>
                        <time>{i18n::date(d.date, l)}</time>" "{what}{row}" · "<strong>{mark.name(l)}</strong>
                        {d.met_on.map(|m| view! { <span class="muted">" · "{pick(l, "完成于", "done ")}{i18n::date(m, l)}</span> })}
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="timeline" aria-label=label>
            <p class="tl-legend">
                <span class="tl-mark met"></span>{move || Mark::Met.name(lang.get())}
                <span class="tl-mark met-late"></span>{move || Mark::MetLate.name(lang.get())}
                <span class="tl-mark missed"></span>{move || Mark::Missed.name(lang.get())}
                <span class="tl-mark upcoming"></span>{move || Mark::Upcoming.name(lang.get())}
            </p>
            {grid}
            <details class="tl-list">
                <summary>{move || pick(lang.get(), "按日期列出", "As a list by date")}</summary>
                <ol>{list}</ol>
            </details>
        </section>
    }
}
