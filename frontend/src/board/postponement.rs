//! A task's postponements (延期申请) in its detail: the requests and the office's answers; the
//! form to ask for a later date, for the units that work on the task; approve / decline for the
//! office while one waits. Who may do what comes from the same rules the server applies
//! (`shared::postponement`, `Mutation::authorize`).

use crate::i18n::{self, lang, tr};
use crate::sync::use_sync;
use crate::util::now;
use crate::workflow::pick;
use chrono::NaiveDate;
use leptos::prelude::*;
use shared::entity::Task;
use shared::ids::TaskId;
use shared::mutation::Mutation;
use shared::postponement::{Decide, Postponement, Request, approvable, askable, pending};

/// The postponements section of task `id`'s detail.
#[component]
pub fn Postponements(id: TaskId, task: Memo<Option<Task>>) -> impl IntoView {
    let sync = use_sync();
    let lang = lang();
    let requests = Memo::new(move |_| {
        task.with(|t| {
            t.as_ref()
                .map(|t| t.postponements.clone())
                .unwrap_or_default()
        })
    });
    let waiting = Memo::new(move |_| task.with(|t| t.as_ref().and_then(pending).cloned()));
    // Whether the viewer may ask now / answer now: the change they would send, authorized as
    // the server will (`Sync::allows`).
    let may_ask = Memo::new(move |_| {
        task.with(|t| t.as_ref().is_some_and(|t| askable(t).is_ok()))
            && sync.allows(&Mutation::RequestPostponement(Request {
                task: id,
                due: NaiveDate::MAX,
                reason: String::new(),
                at: now(),
            }))
    });
    let may_decide = Memo::new(move |_| {
        waiting.with(Option::is_some)
            && sync.allows(&Mutation::DecidePostponement(Decide {
                task: id,
                approve: true,
                note: String::new(),
                at: now(),
            }))
    });
    // Why the waiting request can no longer be approved (its task's date changed since),
    // if so: then only 不同意 is offered, with this said beside it.
    let overtaken = Memo::new(move |_| {
        task.with(|t| {
            t.as_ref()
                .and_then(|t| approvable(t).err())
                .map(|e| e.message())
        })
    });
    let new_due = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(String::new());
    let send = move |m: Mutation| match sync.mutate(m) {
        Ok(()) => {
            error.set(String::new());
            true
        }
        Err(e) => {
            error.set(lang.get_untracked().of(&e.message()).to_string());
            false
        }
    };
    let ask = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = lang.get_untracked();
        let Ok(due) = new_due.get_untracked().parse::<NaiveDate>() else {
            error.set(pick(l, "请选择申请延期至的日期", "Choose the new date"));
            return;
        };
        if send(Mutation::RequestPostponement(Request {
            task: id,
            due,
            reason: reason.get_untracked(),
            at: now(),
        })) {
            new_due.set(String::new());
            reason.set(String::new());
        }
    };
    let decide = move |approve: bool| {
        if send(Mutation::DecidePostponement(Decide {
            task: id,
            approve,
            note: note.get_untracked(),
            at: now(),
        })) {
            note.set(String::new());
        }
    };
    let min_due = move || {
        task.with(|t| {
            t.as_ref()
                .and_then(|t| t.due)
                .and_then(|d| d.succ_opt())
                .map(|d| d.to_string())
                .unwrap_or_default()
        })
    };
    let shown = move || requests.with(|r| !r.is_empty()) || may_ask.get();
    view! {
        <Show when=shown>
            <section class="postponements" aria-labelledby="postponements-h">
                <h3 id="postponements-h">{tr("延期申请", "Postponement")}</h3>
                <ol class="postponement-list">
                    {move || requests.get().into_iter().map(|p| view! { <Row p/> }).collect_view()}
                </ol>
                <Show when=move || may_decide.get()>
                    <div class="office-controls">
                        <label>{tr("审核意见（不同意时必填）", "Note (required to decline)")}
                            <textarea name="postponement_note" rows="2" maxlength=shared::text::DECISION_NOTE.max
                                prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                        </label>
                        {move || match overtaken.get() {
                            None => view! {
                                <button type="button" class="primary" on:click=move |_| { decide(true); }>{tr("同意延期", "Approve")}</button>
                            }.into_any(),
                            Some(why) => view! { <p class="hint" id="postponement-overtaken">{move || lang.get().of(&why).to_string()}</p> }.into_any(),
                        }}
                        <button type="button" class="secondary" on:click=move |_| { decide(false); }
                            aria-describedby=move || overtaken.with(Option::is_some).then_some("postponement-overtaken")>{tr("不同意", "Decline")}</button>
                    </div>
                </Show>
                <Show when=move || may_ask.get()>
                    <form class="postponement-form" on:submit=ask>
                        <label>{tr("申请延期至", "New due date")}
                            <input type="date" name="postpone_to" min=min_due required=true
                                prop:value=move || new_due.get() on:input=move |ev| new_due.set(event_target_value(&ev))/>
                        </label>
                        <label class="wide">{tr("延期理由", "Reason")}
                            <textarea name="postpone_reason" rows="2" maxlength=shared::text::POSTPONEMENT_REASON.max required=true
                                prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                        </label>
                        <button type="submit">{tr("提交延期申请", "Ask the office")}</button>
                    </form>
                </Show>
                <p class="error" role="alert">{move || error.get()}</p>
            </section>
        </Show>
    }
}

/// One request and its answer.
#[component]
fn Row(p: Postponement) -> impl IntoView {
    let lang = lang();
    move || {
        let l = lang.get();
        let from = p
            .from
            .map(|d| i18n::date(d, l))
            .unwrap_or_else(|| pick(l, "无", "none"));
        let state = match &p.decision {
            None => pick(l, "待综合办审核", "Waiting for the office"),
            Some(d) if d.approved => pick(l, "已同意", "Approved"),
            Some(_) => pick(l, "未同意", "Declined"),
        };
        let state_class = match &p.decision {
            None => "pp-state waiting",
            Some(d) if d.approved => "pp-state approved",
            Some(_) => "pp-state declined",
        };
        view! {
            <li>
                <div class="row-head">
                    <strong>{format!("{from} → {}", i18n::date(p.due, l))}</strong>
                    <span class=state_class>{state}</span>
                </div>
                <p class="muted">{p.by_name.clone()}" · "{i18n::datetime(p.at.0, l)}</p>
                <p class="pre">{p.reason.clone()}</p>
                {p.decision.clone().map(|d| view! {
                    <p class="muted">{d.by_name.clone()}" · "{i18n::datetime(d.at.0, l)}
                        {(!d.note.is_empty()).then(|| format!("{}{}", l.colon(), d.note))}</p>
                })}
            </li>
        }
    }
}
