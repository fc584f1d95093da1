//! `/supervision`: the office's supervision dashboard (督查督办) — every item's light with its
//! reasons as of the chosen date, units ranked by what they have overdue, open difficulties with
//! their age, postponements waiting for an answer, the rules, 催办 to a unit about a task or a
//! submission, the submission calendar and the ledger exports. Leaders may read it.

use super::{AsOfControl, OfficeTabs, unit_name, use_as_of};
use crate::i18n::{self, Lang, lang, tr};
use crate::session::use_session;
use crate::sync::use_sync;
use crate::util::{now, today};
use crate::workflow::status::{light_class, light_name, reasons_line};
use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::actor::Role;
use shared::calendar::{Due, calendar, deadlines};
use shared::ids::{ItemId, ReminderId, UnitId};
use shared::message::Msg;
use shared::message::counted;
use shared::mutation::Mutation;
use shared::op::{end_of_day, local_date};
use shared::reminder::{About, Ask, Send, automatic_text};
use shared::state::State;
use shared::status::{RULES_EN, RULES_ZH, status_of_item};
use shared::submission::SubmissionState;

/// Something overdue as of the date, and the unit that has to do it.
#[derive(Clone, Debug, PartialEq)]
struct Late {
    item: ItemId,
    number: u32,
    unit: UnitId,
    about: About,
    /// What it is (a task by its title, or a submission), in both languages.
    what: Msg,
    /// What a reminder about it asks for.
    ask: Ask,
    due: NaiveDate,
}

/// Everything overdue as of `as_of`: tasks not done by their due date (owned by a unit), and
/// submissions not in by theirs (owed by each of the item's lead units).
fn late_things(state: &State, as_of: NaiveDate) -> Vec<Late> {
    let mut out = Vec::new();
    for d in deadlines(state, None, as_of) {
        if !d.overdue(as_of) {
            continue;
        }
        let Some(item) = state.item(d.item) else {
            continue;
        };
        // Worded as the daily job words them (`shared::reminder::automatic_text`).
        let ask = Ask::for_deadline(state, &d);
        let (about, what) = match &d.due {
            Due::Task { task, title, .. } => (
                About::Task(*task),
                shared::msg!("任务「{title}」", "The task “{title}”", title = title),
            ),
            Due::Submission { kind } => (
                About::Submission(*kind),
                shared::msg!("{kind}", "The {kind}", kind = kind.in_sentence()),
            ),
        };
        for unit in d.owed_by(state) {
            out.push(Late {
                item: item.id,
                number: item.number,
                unit,
                about,
                what: what.clone(),
                ask,
                due: d.date,
            });
        }
    }
    out
}

/// "已3天" is not said: "已等待3天" / "waiting 3 days", "waiting 1 day".
fn days_waiting(days: i64, l: Lang) -> String {
    match l {
        Lang::Zh => format!("已等待{days}天"),
        Lang::En => format!("waiting {}", counted(days, "day")),
    }
}

/// "第4项" / "item 4".
fn item_number(number: u32, l: Lang) -> String {
    match l {
        Lang::Zh => format!("第{number}项"),
        Lang::En => format!("item {number}"),
    }
}

/// "第4项：title" / "Item 4: title".
fn item_label(number: u32, title: &str, l: Lang) -> String {
    match l {
        Lang::Zh => format!("第{number}项：{title}"),
        Lang::En => format!("Item {number}: {title}"),
    }
}

/// The default text of a reminder about `late`: the daily job's words, as of the page's date.
fn reminder_text(late: &Late, as_of: NaiveDate) -> Msg {
    automatic_text(&late.what, late.due, as_of, late.ask)
}

/// One choice in the reminder form: what it is about, whom, and the text to start from.
#[derive(Clone, Debug, PartialEq)]
struct Target {
    about: About,
    unit: UnitId,
    label: String,
    /// The text to start from, in both languages: sent in both while the office keeps it as
    /// it is; its own words are sent as written.
    text: Msg,
}

/// The reminder form, while open: the item and its choices (fixed while it is open, so typing
/// never rebuilds the form).
#[derive(Clone, Debug, PartialEq)]
struct Open {
    item: ItemId,
    number: u32,
    units: Vec<(UnitId, String)>,
    targets: Vec<Target>,
}

/// What a reminder can be about on `item`: each late thing, then the item in general.
/// The labels are in the UI's language (`en`); the reminder's text is offered in both.
fn targets_for(
    state: &State,
    item: ItemId,
    as_of: NaiveDate,
    late: &[Late],
    en: bool,
) -> Option<Open> {
    let it = state.item(item)?;
    let mut targets: Vec<Target> = late
        .iter()
        .filter(|l| l.item == item)
        .map(|l| Target {
            about: l.about,
            unit: l.unit,
            label: if en {
                format!(
                    "{} ({}, due {})",
                    l.what.en(),
                    unit_name(state, l.unit),
                    i18n::date(l.due, Lang::En)
                )
            } else {
                format!(
                    "{}（{}，截止{}）",
                    l.what.zh(),
                    unit_name(state, l.unit),
                    shared::board::zh_date(l.due)
                )
            },
            text: reminder_text(l, as_of),
        })
        .collect();
    let status = status_of_item(state, item, as_of);
    let reasons = |en: bool| reasons_line(&status.reasons, en);
    let lead = it.lead_units.first().copied()?;
    targets.push(Target {
        about: About::Item,
        unit: lead,
        label: if en {
            "The whole item"
        } else {
            "整个改革项目"
        }
        .into(),
        text: if status.reasons.is_empty() {
            shared::msg!(
                "请加快推进第{n}项改革，并及时更新进展。",
                "Please speed up item {n} and keep its progress up to date.",
                n = it.number
            )
        } else {
            Msg::owned(
                format!(
                    "截至{}，第{}项改革状态为“{}”：{}。请抓紧推进并及时更新进展。",
                    shared::board::zh_date(as_of),
                    it.number,
                    status.light.zh(),
                    reasons(false)
                ),
                format!(
                    "As of {}, item {} is {}: {}. Please push it forward and keep its progress up to date.",
                    i18n::date(as_of, Lang::En),
                    it.number,
                    light_name(status.light, true).to_ascii_lowercase(),
                    reasons(true)
                ),
            )
        },
    });
    // A group with members holds no accounts: its members are reminded, each by name.
    let units = state
        .units_of(it)
        .into_iter()
        .filter(|u| state.readers_of(*u) == [*u])
        .map(|u| (u, unit_name(state, u)))
        .collect();
    Some(Open {
        item,
        number: it.number,
        units,
        targets,
    })
}

/// The dashboard.
#[component]
pub fn SupervisionPage() -> impl IntoView {
    let sync = use_sync();
    let session = use_session();
    let lang = lang();
    let as_of = use_as_of();
    let role = move || session.role();
    let office = move || role() == Some(Role::Office);
    let allowed = move || role().is_some_and(Role::reads_supervision);
    // The reminder form and its fields.
    let open: RwSignal<Option<Open>> = RwSignal::new(None);
    let chosen = RwSignal::new(0usize);
    let unit = RwSignal::new(None::<UnitId>);
    let text = RwSignal::new(String::new());
    let sent = RwSignal::new(String::new());
    // The button the form was opened from, which has the focus back when it closes.
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    let close = move || {
        open.set(None);
        crate::util::refocus(opener.get_value());
    };
    let start = move |item: ItemId, pick: Option<(About, UnitId)>| {
        opener.set_value(crate::util::focused());
        let d = as_of.get_untracked();
        let form = sync.view.with_untracked(|s| {
            let late = late_things(s, d);
            targets_for(s, item, d, &late, lang.get_untracked() == Lang::En)
        });
        let Some(form) = form else { return };
        let idx = pick
            .and_then(|(a, u)| {
                form.targets
                    .iter()
                    .position(|t| t.about == a && t.unit == u)
            })
            .unwrap_or(0);
        if let Some(t) = form.targets.get(idx) {
            unit.set(Some(t.unit));
            text.set(lang.get_untracked().of(&t.text).to_string());
        }
        chosen.set(idx);
        sent.set(String::new());
        open.set(Some(form));
        crate::util::focus_later("#reminder-text".into());
    };

    let content = move || {
        if !sync.loaded.get() {
            return view! { <p class="loading">{tr("正在加载…", "Loading…")}</p> }.into_any();
        }
        let l = lang.get();
        let d = as_of.get();
        // A reminder goes out now, about what is late now: on a past date's view the page reads
        // the record, and what was late then may have been done since.
        let may_remind = office() && d == today();
        sync.view.with(|s| {
            let late = late_things(s, d);
            let items = s.items();
            let rows = items
                .iter()
                .map(|item| {
                    let status = status_of_item(s, item.id, d);
                    let class = light_class(status.light);
                    let reasons = reasons_line(&status.reasons, l == Lang::En);
                    let number = item.number;
                    let id = item.id;
                    let title = item.title.clone();
                    let title_id = format!("sup-item-{number}");
                    view! {
                        <li class=format!("sup-item {class}") data-item=number.to_string() data-light=class>
                            <div class="sup-main">
                                <span class=format!("light {class}")>{light_name(status.light, l == Lang::En)}</span>
                                <A href=format!("/items/{number}") attr:id=title_id.clone() attr:class="sup-title">
                                    <span class="num">{number}"."</span>{title}
                                </A>
                            </div>
                            <div class="sup-figures">
                                <span class="pct">{tr("进度", "Progress")}" "{status.progress}"%"</span>
                                <span class="late" class:zero=status.overdue == 0>{tr("逾期任务", "Overdue tasks")}" "{status.overdue}</span>
                            </div>
                            <p class="reasons">{if reasons.is_empty() { "—".to_string() } else { reasons }}</p>
                            {may_remind.then(|| view! {
                                <button type="button" class="remind" aria-describedby=title_id
                                    on:click=move |_| start(id, None)>{tr("催办", "Remind")}</button>
                            })}
                        </li>
                    }
                })
                .collect_view();
            // Units ranked by how much they have overdue.
            let mut by_unit: Vec<(UnitId, Vec<Late>)> = Vec::new();
            for x in &late {
                match by_unit.iter_mut().find(|(u, _)| *u == x.unit) {
                    Some((_, v)) => v.push(x.clone()),
                    None => by_unit.push((x.unit, vec![x.clone()])),
                }
            }
            let name = |u: UnitId| unit_name(s, u);
            shared::sorting::sort_by(&mut by_unit, |a, b| b.1.len().cmp(&a.1.len()).then(name(a.0).cmp(&name(b.0))));
            let units = if by_unit.is_empty() {
                view! { <p class="empty">{tr("没有逾期事项", "Nothing is overdue")}</p> }.into_any()
            } else {
                let list = by_unit
                    .into_iter()
                    .map(|(u, things)| {
                        let uname = name(u);
                        let count = things.len();
                        let lines = things
                            .into_iter()
                            .map(|x| {
                                let (item, about, who) = (x.item, x.about, x.unit);
                                let label = match l {
                                    Lang::Zh => format!(
                                        "第{}项 {}，截止{}",
                                        x.number,
                                        x.what.zh(),
                                        i18n::date(x.due, l)
                                    ),
                                    Lang::En => format!(
                                        "Item {}: {}, due {}",
                                        x.number,
                                        x.what.en(),
                                        i18n::date(x.due, l)
                                    ),
                                };
                                // Which deadline a 催办 is about: one button per row.
                                let label_id = format!("sup-due-{}-{}-{}", x.number, x.what.en().replace(' ', "-"), who);
                                view! {
                                    <li>
                                        <span id=label_id.clone()>{label}</span>
                                        {may_remind.then(|| view! {
                                            <button type="button" class="remind small" aria-describedby=label_id
                                                on:click=move |_| start(item, Some((about, who)))>{tr("催办", "Remind")}</button>
                                        })}
                                    </li>
                                }
                            })
                            .collect_view();
                        let shown = uname.clone();
                        view! {
                            <li class="sup-unit" data-unit=uname>
                                <div class="sup-unit-head">
                                    <strong>{shown}</strong>
                                    <span class="late">{tr("逾期", "Overdue")}" "{count}</span>
                                </div>
                                <ul class="sup-late">{lines}</ul>
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ol class="sup-units">{list}</ol> }.into_any()
            };
            // Open difficulties, oldest first.
            let end = end_of_day(d);
            let mut open_diffs: Vec<_> = s.difficulties().filter(|x| x.open_at(end)).collect();
            shared::sorting::sort_by_key(&mut open_diffs, |x| x.raised_at);
            let diffs = if open_diffs.is_empty() {
                view! { <p class="empty">{tr("没有未解决的困难和问题", "No open difficulties")}</p> }
                    .into_any()
            } else {
                let list = open_diffs
                    .into_iter()
                    .map(|x| {
                        let number = s.item(x.item).map_or(0, |i| i.number);
                        let age = x.age_days(d);
                        let state = if l == Lang::En { x.state.en() } else { x.state.zh() };
                        let label = item_label(number, &x.title, l);
                        view! {
                            <li class="sup-diff" class:stale={age > shared::difficulty::STALE_DAYS}>
                                <A href=format!("/items/{number}")>{label}</A>
                                <span class="meta">{unit_name(s, x.unit)}" · "{state}</span>
                                <span class="age">{match l {
                                    Lang::Zh => format!("已{age}天"),
                                    Lang::En => format!("open {}", counted(age, "day")),
                                }}</span>
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="sup-diffs">{list}</ul> }.into_any()
            };
            // Postponements waiting for the office at the end of the day, oldest first: each is
            // answered on its card.
            let mut waiting: Vec<_> = s
                .tasks()
                .filter(|t| !t.archived)
                .flat_map(|t| t.postponements.iter().map(move |p| (t, p)))
                .filter(|(_, p)| p.at <= end && p.decision.as_ref().is_none_or(|x| x.at > end))
                .collect();
            shared::sorting::sort_by_key(&mut waiting, |(_, p)| p.at);
            let postponements = if waiting.is_empty() {
                view! { <p class="empty">{tr("没有待审核的延期申请", "No postponement waits for an answer")}</p> }
                    .into_any()
            } else {
                let list = waiting
                    .into_iter()
                    .map(|(t, p)| {
                        let number = s.item(t.item).map_or(0, |i| i.number);
                        let label = item_label(number, &t.title, l);
                        let from = p.from.map(|x| i18n::date(x, l)).unwrap_or_default();
                        view! {
                            <li class="sup-postponement">
                                <A href=format!("/items/{number}/board")>{label}</A>
                                <span class="meta">{unit_name(s, p.unit)}" · "{from}" → "{i18n::date(p.due, l)}</span>
                                <p class="pre">{p.reason.clone()}</p>
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="sup-diffs">{list}</ul> }.into_any()
            };
            // Work plans and reports the office has yet to answer at the end of the day, the
            // longest waiting first: each is reviewed on its own page.
            let mut to_review: Vec<_> = s
                .submissions()
                .filter(|x| x.state_at(end) == Some(SubmissionState::Submitted))
                .filter_map(|x| {
                    let version = x.versions.iter().rev().find(|v| v.submitted_at <= end)?;
                    Some((x, version))
                })
                .collect();
            shared::sorting::sort_by_key(&mut to_review, |(x, v)| {
                (v.submitted_at, s.item(x.item).map_or(0, |i| i.number))
            });
            let reviews = if to_review.is_empty() {
                view! { <p class="empty">{tr("没有待审核的报送材料", "No work plan or report waits for review")}</p> }
                    .into_any()
            } else {
                let list = to_review
                    .into_iter()
                    .map(|(x, v)| {
                        let number = s.item(x.item).map_or(0, |i| i.number);
                        let kind = if l == Lang::En { x.kind.en() } else { x.kind.zh() };
                        let label = match l {
                            Lang::Zh => format!("第{number}项{kind}（第{}版）", v.number),
                            Lang::En => format!("Item {number}: {kind} (version {})", v.number),
                        };
                        let waiting = (d - local_date(v.submitted_at)).num_days().max(0);
                        view! {
                            <li class="sup-review">
                                <A href=format!("/items/{number}/submissions/{}", x.kind.as_str())>{label}</A>
                                <span class="meta">{unit_name(s, x.unit)}" · "{tr("报送于", "submitted ")}{i18n::date(local_date(v.submitted_at), l)}</span>
                                <span class="age">{days_waiting(waiting, l)}</span>
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="sup-diffs">{list}</ul> }.into_any()
            };
            // Leaders' instructions the lead unit has not answered by the end of the day, the
            // oldest first: a leader reads this page to see what became of them.
            let mut unanswered: Vec<_> = s
                .instructions()
                .filter(|i| i.unanswered_at(end))
                .collect();
            shared::sorting::sort_by_key(&mut unanswered, |i| i.at);
            let instructions = if unanswered.is_empty() {
                view! { <p class="empty">{tr("没有待答复的领导批示", "No instruction awaits an answer")}</p> }
                    .into_any()
            } else {
                let list = unanswered
                    .into_iter()
                    .map(|i| {
                        let number = s.item(i.item).map_or(0, |x| x.number);
                        let seen = i.acknowledged_at(end);
                        let state = match (seen, l) {
                            (true, Lang::Zh) => "已收悉，未答复",
                            (true, Lang::En) => "acknowledged, not answered",
                            (false, Lang::Zh) => "待收悉",
                            (false, Lang::En) => "not yet acknowledged",
                        };
                        let waiting = (d - local_date(i.at)).num_days().max(0);
                        // Its opening words: the whole text is a tap away.
                        let mut text: String = i.text.chars().take(40).collect();
                        if i.text.chars().nth(40).is_some() {
                            text.push('…');
                        }
                        view! {
                            <li class="sup-review" class:stale=!seen>
                                <A href=format!("/items/{number}/instructions")>{item_label(number, &text, l)}</A>
                                <span class="meta">{i.leader_name.clone()}" · "{i18n::date(local_date(i.at), l)}" · "{state}</span>
                                <span class="age">{days_waiting(waiting, l)}</span>
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="sup-diffs">{list}</ul> }.into_any()
            };
            let instructions = view! {
                <section aria-labelledby="sup-instructions-h">
                    <h2 id="sup-instructions-h">{tr("待答复的领导批示", "Instructions awaiting an answer")}</h2>
                    {instructions}
                </section>
            };
            let reviews = view! {
                <section aria-labelledby="sup-review-h">
                    <h2 id="sup-review-h">{tr("待审核的报送材料", "Work plans and reports to review")}</h2>
                    {reviews}
                </section>
            };
            let items = view! {
                <section aria-labelledby="sup-items-h">
                    <h2 id="sup-items-h">{tr("各项改革状态", "Items")}</h2>
                    <ul class="sup-items">{rows}</ul>
                </section>
                <section aria-labelledby="sup-units-h">
                    <h2 id="sup-units-h">{tr("单位逾期排名", "Units by overdue count")}</h2>
                    {units}
                </section>
            };
            let rest = view! {
                <section aria-labelledby="sup-diffs-h">
                    <h2 id="sup-diffs-h">{tr("未解决的困难和问题", "Open difficulties")}</h2>
                    {diffs}
                </section>
                <section aria-labelledby="sup-postpone-h">
                    <h2 id="sup-postpone-h">{tr("待审核的延期申请", "Postponements to answer")}</h2>
                    {postponements}
                </section>
            };
            // The office opens this page for its own work (what waits on it) first; a leader,
            // often on a phone, for how the items stand, with the office's queue after.
            if office() {
                view! { {instructions} {reviews} {items} {rest} }.into_any()
            } else {
                view! { {items} {instructions} {rest} {reviews} }.into_any()
            }
        })
    };

    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = open.get_untracked() else {
            return;
        };
        let Some(target) = form.targets.get(chosen.get_untracked()).cloned() else {
            return;
        };
        let Some(to) = unit.get_untracked() else {
            return;
        };
        let written = text.get_untracked();
        // The words offered, kept as they are (in either language), go in both languages; the
        // office's own, as written.
        let (text, text_en) = if written == target.text.zh() || written == target.text.en() {
            (target.text.zh().to_string(), target.text.en().to_string())
        } else {
            (written, String::new())
        };
        let m = Mutation::SendReminder(Send {
            id: ReminderId::new_v7(),
            item: form.item,
            unit: to,
            about: target.about,
            text,
            text_en,
            automatic: false,
            at: now(),
        });
        if sync.mutate(m).is_ok() {
            let who = form
                .units
                .iter()
                .find(|(u, _)| *u == to)
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            sent.set(match lang.get_untracked() {
                Lang::Zh => format!("已向{who}发送催办（第{}项）", form.number),
                Lang::En => format!("Reminder sent to {who} (item {})", form.number),
            });
            close();
        }
    };
    let dialog = move || {
        open.get().map(|form| {
            let targets = form.targets.clone();
            let options = form
                .targets
                .iter()
                .enumerate()
                .map(|(i, t)| view! { <option value=i.to_string() prop:selected=move || chosen.get() == i>{t.label.clone()}</option> })
                .collect_view();
            let units = form
                .units
                .iter()
                .map(|(u, n)| {
                    let u = *u;
                    view! { <option value=u.to_string() prop:selected=move || unit.get() == Some(u)>{n.clone()}</option> }
                })
                .collect_view();
            view! {
                <div class="dialog-backdrop">
                    <form class="reminder-form" role="dialog" aria-modal="true"
                        aria-label=move || format!("{}{}", tr("催办：", "Reminder: ")(), item_number(form.number, lang.get()))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { close() }
                        on:submit=send>
                        <h2>{tr("催办", "Reminder")}" · "{move || item_number(form.number, lang.get())}</h2>
                        <label>
                            <span>{tr("催办事项", "About")}</span>
                            <select name="about" aria-label=tr("催办事项", "About") on:change=move |ev| {
                                let i: usize = event_target_value(&ev).parse().unwrap_or(0);
                                chosen.set(i);
                                if let Some(t) = targets.get(i) {
                                    unit.set(Some(t.unit));
                                    text.set(lang.get_untracked().of(&t.text).to_string());
                                }
                            }>{options}</select>
                        </label>
                        <label>
                            <span>{tr("催办单位", "Unit")}</span>
                            <select name="unit" aria-label=tr("催办单位", "Unit") on:change=move |ev| {
                                unit.set(event_target_value(&ev).parse().ok());
                            }>{units}</select>
                        </label>
                        <label>
                            <span>{tr("催办内容", "Message")}</span>
                            <textarea id="reminder-text" name="text" rows="4" maxlength=shared::text::REMINDER.max aria-label=tr("催办内容", "Message")
                                prop:value=move || text.get()
                                on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                        </label>
                        <div class="form-actions">
                            <button type="submit" class="primary">{tr("发送催办", "Send reminder")}</button>
                            <button type="button" on:click=move |_| close()>{tr("取消", "Cancel")}</button>
                        </div>
                    </form>
                </div>
            }
        })
    };

    view! {
        <article class="office supervision">
            <h1>{tr("督查督办", "Supervision")}</h1>
            <OfficeTabs/>
            {move || if allowed() {
                view! {
                    <AsOfControl/>
                    <LedgerExports/>
                    <p class="ok" role="status">{move || sent.get()}</p>
                    {content}
                    {dialog}
                    <Rules/>
                    // The settings are today's, whatever date the page is read at.
                    <Show when=move || office() && sync.loaded.get() && as_of.get() == today()>
                        <CalendarForm/>
                        <SettingsForm/>
                    </Show>
                }.into_any()
            } else {
                view! { <p class="empty">{tr("只有综合办和区领导可以查看督查督办", "Only the reform office and leaders can open supervision")}</p> }.into_any()
            }}
        </article>
    }
}

/// The status rules, as every light on the page follows them.
#[component]
pub fn Rules() -> impl IntoView {
    let lang = lang();
    view! {
        <section class="rules" aria-labelledby="rules-h">
            <h2 id="rules-h">{tr("状态规则", "How the lights are set")}</h2>
            <ul>
                {move || {
                    let rules = if lang.get() == Lang::En { RULES_EN } else { RULES_ZH };
                    rules.iter().map(|r| view! { <li>{*r}</li> }).collect_view()
                }}
            </ul>
        </section>
    }
}

/// Links to the plan ledger (改革台账) as of the chosen date.
#[component]
pub fn LedgerExports() -> impl IntoView {
    let as_of = use_as_of();
    // (name in the URL, as backend::export takes it; name shown, in Chinese and English).
    let sheets = [
        ("items", "改革项目", "Items"),
        ("units", "单位", "Units"),
        ("tasks", "任务", "Tasks"),
        ("submissions", "报送材料", "Submissions"),
        ("difficulties", "困难和问题", "Difficulties"),
    ];
    view! {
        <div class="exports">
            <a class="button" download="" aria-label=tr("导出台账", "Export ledger")
                href=move || format!("/api/export/ledger.xlsx?as_of={}", as_of.get())>
                {tr("导出台账（Excel）", "Export ledger (Excel)")}
            </a>
            <span class="csv-links">
                {tr("CSV：", "CSV:")}
                {sheets.into_iter().map(|(slug, zh, en)| {
                    let name = tr(zh, en);
                    view! {
                        <a download="" aria-label=move || format!("{}{}", tr("导出台账CSV：", "Export ledger CSV: ")(), name())
                            href=move || format!("/api/export/ledger.csv?sheet={slug}&as_of={}", as_of.get())>{name}</a>
                    }
                }).collect_view()}
            </span>
        </div>
    }
}

/// The office's settings for the plan: whether units with no part in an item may comment on it.
#[component]
fn SettingsForm() -> impl IntoView {
    let sync = use_sync();
    let others = Memo::new(move |_| {
        sync.view
            .with(|s| shared::settings::settings(s).others_may_comment)
    });
    let toggle = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        let _ = sync.mutate(Mutation::SetSettings(shared::settings::Set {
            others_may_comment: on,
            at: now(),
        }));
    };
    view! {
        <section class="settings-form" aria-labelledby="settings-h">
            <h2 id="settings-h">{tr("意见设置", "Comments")}</h2>
            <label class="check">
                <input type="checkbox" name="others_may_comment" prop:checked=move || others.get() on:change=toggle/>
                <span>{tr("允许非牵头、配合单位在改革项目下发表意见", "Units with no part in an item may comment on it")}</span>
            </label>
        </section>
    }
}

/// The office sets when the work plan and the reports are due.
#[component]
fn CalendarForm() -> impl IntoView {
    let sync = use_sync();
    let current = sync.view.with_untracked(calendar);
    let (wp, hy, an) = current
        .map(|c| (c.work_plan, c.half_year, c.annual))
        .unwrap_or_default();
    let work_plan = RwSignal::new(wp.to_string());
    let half_year = RwSignal::new(hy.to_string());
    let annual = RwSignal::new(an.to_string());
    let saved = RwSignal::new(String::new());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let parse = |s: RwSignal<String>| NaiveDate::parse_from_str(&s.get_untracked(), "%Y-%m-%d");
        let (Ok(w), Ok(h), Ok(a)) = (parse(work_plan), parse(half_year), parse(annual)) else {
            saved.set(tr("请填写三个日期", "Fill in all three dates")().into());
            return;
        };
        let m = Mutation::SetCalendar(shared::calendar::SetCalendar {
            work_plan: w,
            half_year: h,
            annual: a,
            at: now(),
        });
        saved.set(if sync.mutate(m).is_ok() {
            tr("报送日期已保存", "Due dates saved")().into()
        } else {
            String::new()
        });
    };
    let field = move |label: (&'static str, &'static str),
                      sig: RwSignal<String>,
                      name: &'static str| {
        view! {
            <label>
                <span>{tr(label.0, label.1)}</span>
                <input type="date" name=name aria-label=tr(label.0, label.1) prop:value=move || sig.get()
                    on:change=move |ev| sig.set(event_target_value(&ev))/>
            </label>
        }
    };
    view! {
        <section class="calendar-form" aria-labelledby="cal-h">
            <h2 id="cal-h">{tr("报送日期设置", "Submission calendar")}</h2>
            <form on:submit=save>
                {field(("工作方案报送日期", "Work plan due"), work_plan, "work_plan")}
                {field(("半年报告报送日期", "Half-year report due"), half_year, "half_year")}
                {field(("年度报告报送日期", "Annual report due"), annual, "annual")}
                <button type="submit" class="primary">{tr("保存报送日期", "Save dates")}</button>
                <p class="ok" role="status">{move || saved.get()}</p>
            </form>
        </section>
    }
}
