//! Work plans and reports (报送材料): the item's list with state badges, due dates and lateness,
//! and one submission's page — the lead unit drafts it part by part and submits it; the office
//! accepts or returns it with comments; every submitted version stays readable.

use super::attachments::Attachments;
use super::today;
use super::{Ctx, confirm, pick};
use crate::i18n::{self, Lang, tr};
use crate::util::now;
use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::attachment::AttachedTo;
use shared::calendar::{calendar, required_kinds, submission as stored_submission};
use shared::ids::{ItemId, submission_id};
use shared::message::counted;
use shared::mutation::Mutation;
use shared::permission::Action;
use shared::submission::{
    ReviewSubmission, SaveDraft, Submission, SubmissionKind, SubmissionState, Submit, Version,
    drafting_unit, schedule_from_tasks, working_parts,
};

/// A submission kind's name in the UI language.
pub fn kind_name(kind: SubmissionKind, en: bool) -> &'static str {
    if en { kind.en() } else { kind.zh() }
}

/// The state badge's text: a state, or 未开始 for a submission nobody has begun.
pub fn state_name(state: Option<SubmissionState>, en: bool) -> &'static str {
    match (state, en) {
        (Some(s), false) => s.zh(),
        (Some(s), true) => s.en(),
        (None, false) => "未开始",
        (None, true) => "Not started",
    }
}

/// The state badge's CSS class.
pub fn state_class(state: Option<SubmissionState>) -> &'static str {
    match state {
        None => "sub-state none",
        Some(SubmissionState::Draft) => "sub-state draft",
        Some(SubmissionState::Submitted) => "sub-state submitted",
        Some(SubmissionState::Returned) => "sub-state returned",
        Some(SubmissionState::Accepted) => "sub-state accepted",
    }
}

/// How late a submission is: submitted N days after `due` (逾期N天报送), or not submitted and
/// N days past it (已逾期N天). None when on time or not yet due.
pub fn lateness(
    sub: Option<&Submission>,
    due: NaiveDate,
    today: NaiveDate,
    l: Lang,
) -> Option<String> {
    match sub.and_then(|s| s.days_late(due)) {
        Some(n) if n > 0 => Some(pick(
            l,
            format!("逾期{n}天报送"),
            format!("{} late", counted(n, "day")),
        )),
        Some(_) => None,
        None => {
            let n = (today - due).num_days();
            (n > 0).then(|| {
                pick(
                    l,
                    format!("已逾期{n}天"),
                    format!("{} overdue", counted(n, "day")),
                )
            })
        }
    }
}

/// The item's submissions, one row each, linking to their pages.
#[component]
pub fn SubmissionList(item: ItemId, number: u32) -> impl IntoView {
    let cx = Ctx::get();
    move || {
        let l = cx.lang.get();
        let en = l == Lang::En;
        let today = today();
        cx.sync.view.with(|s| {
            let cal = calendar(s);
            let rows = required_kinds(s)
                .into_iter()
                .map(|kind| {
                    let sub = stored_submission(s, item, kind);
                    let state = sub.map(|x| x.state);
                    let due = cal.as_ref().map(|c| c.due(kind));
                    let late = due.and_then(|d| lateness(sub, d, today, l));
                    let versions = sub.map_or(0, |x| x.versions.len());
                    view! {
                        <li class="submission-row" data-kind=kind.as_str()>
                            <A href=format!("/items/{number}/submissions/{}", kind.as_str()) attr:class="submission-link">
                                {kind_name(kind, en)}
                            </A>
                            <span class=state_class(state)>{state_name(state, en)}</span>
                            {due.map(|d| view! {
                                <span class="due-date">{pick(l, "截止", "Due")}" "{i18n::date(d, l)}</span>
                            })}
                            {late.map(|t| view! { <span class="late-tag">{t}</span> })}
                            {(versions > 0).then(|| view! {
                                <span class="muted">{pick(l, format!("共{versions}个版本"), counted(versions, "version"))}</span>
                            })}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <ul class="submission-list" role="list" aria-label=pick(l, "报送材料", "Work plans and reports")>{rows}</ul>
            }
        })
    }
}

/// One submission of an item: its draft (editable by the lead unit), the office's review, every
/// version and the evidence attached.
#[component]
pub fn SubmissionPage(item: ItemId, number: u32, kind: SubmissionKind) -> impl IntoView {
    let cx = Ctx::get();
    let id = submission_id(item, kind.as_str());
    let sub = Memo::new(move |_| {
        cx.sync
            .view
            .with(|s| stored_submission(s, item, kind).cloned())
    });
    let due = Memo::new(move |_| cx.sync.view.with(|s| calendar(s).map(|c| c.due(kind))));
    // The office reviews; it may also draft for a unit by the rules, but its screen is the
    // reviewer's so the two roles never share one set of buttons.
    // Asked of the rules the server applies: on an item with two lead units, only the first
    // (`drafting_unit`), or whichever began the draft (`check_drafter`).
    let may_edit = Memo::new(move |_| {
        !cx.session.is_office()
            && sub.with(|s| s.as_ref().is_none_or(Submission::editable))
            && cx.sync.allows(&Mutation::SaveSubmission(SaveDraft {
                id,
                item,
                kind,
                parts: vec![],
                at: now(),
            }))
    });
    let may_review = Memo::new(move |_| {
        cx.may(item, Action::Review)
            && sub.with(|s| {
                s.as_ref()
                    .is_some_and(|s| s.state == SubmissionState::Submitted)
            })
    });
    let n_parts = kind.parts().len();
    // The text being typed; None follows what is stored, so a pull never overwrites typing.
    let edits: RwSignal<Option<Vec<String>>> = RwSignal::new(None);
    let stored_parts = move || {
        let mut p = cx.sync.view.with(|state| {
            sub.with(|s| {
                s.as_ref()
                    .map(|s| working_parts(state, s).to_vec())
                    .unwrap_or_default()
            })
        });
        p.resize(n_parts, String::new());
        p
    };
    let current = move || edits.get_untracked().unwrap_or_else(stored_parts);
    let message = RwSignal::new(String::new());
    let error = RwSignal::new(String::new());
    let review_comment = RwSignal::new(String::new());

    let save = move || -> bool {
        let parts = current();
        let ok = cx.send(Mutation::SaveSubmission(SaveDraft {
            id,
            item,
            kind,
            parts,
            at: now(),
        }));
        if ok {
            edits.set(None);
        }
        ok
    };
    // Each action starts by clearing what the last one said: a "saved" must not stand beside
    // a refusal of the next.
    let on_save = move |_| {
        error.set(String::new());
        message.set(String::new());
        if save() {
            message.set(pick(cx.lang.get_untracked(), "草稿已保存", "Draft saved"));
        }
    };
    let on_fill = move |_| {
        let schedule = cx
            .sync
            .view
            .with_untracked(|s| schedule_from_tasks(s, item));
        let l = cx.lang.get_untracked();
        if schedule.is_empty() {
            error.set(pick(
                l,
                "该项目还没有任务，请先在看板上分解任务",
                "The item has no tasks yet: break it down on its board first",
            ));
            return;
        }
        let mut parts = current();
        if let Some(p) = parts.get_mut(2) {
            *p = schedule;
        }
        edits.set(Some(parts));
        error.set(String::new());
        message.set(pick(
            l,
            "已从任务生成进度安排（尚未保存）",
            "Schedule filled from the tasks (not saved yet)",
        ));
    };
    let on_submit = move |_| {
        let l = cx.lang.get_untracked();
        error.set(String::new());
        message.set(String::new());
        if current().iter().all(|p| p.trim().is_empty()) {
            error.set(pick(
                l,
                "报送内容不能为空",
                "Write something before submitting",
            ));
            return;
        }
        let question = pick(
            l,
            format!("确定报送{}？报送后不能修改，除非综合办退回。", kind.zh()),
            format!(
                "Submit the {}? It can't be changed unless the office returns it.",
                kind.en().to_ascii_lowercase()
            ),
        );
        if !confirm(&question) {
            return;
        }
        if save() && cx.send(Mutation::SubmitSubmission(Submit { id, at: now() })) {
            message.set(pick(l, "已报送", "Submitted"));
        }
    };
    let review = move |accept: bool| {
        let l = cx.lang.get_untracked();
        let comment = review_comment.get_untracked();
        if !accept && comment.trim().is_empty() {
            error.set(pick(
                l,
                "退回修改时请写明审核意见",
                "Say what to change before returning it",
            ));
            return;
        }
        error.set(String::new());
        message.set(String::new());
        if cx.send(Mutation::ReviewSubmission(ReviewSubmission {
            id,
            accept,
            comment,
            at: now(),
        })) {
            review_comment.set(String::new());
            message.set(if accept {
                pick(l, "已通过", "Accepted")
            } else {
                pick(l, "已退回修改", "Returned")
            });
        }
    };

    let header = move || {
        let l = cx.lang.get();
        let en = l == Lang::En;
        let state = sub.with(|s| s.as_ref().map(|s| s.state));
        let due = due.get();
        let late = due.and_then(|d| sub.with(|s| lateness(s.as_ref(), d, today(), l)));
        view! {
            <p class="submission-meta">
                <span class=state_class(state) data-testid="submission-state">{state_name(state, en)}</span>
                {due.map(|d| view! { <span class="due-date">{pick(l, "截止日期", "Due")}" "{i18n::date(d, l)}</span> })}
                {late.map(|t| view! { <span class="late-tag">{t}</span> })}
            </p>
        }
    };
    // The office's comments on a returned version, where the unit can't miss them.
    let returned_note = move || {
        let l = cx.lang.get();
        sub.with(|s| {
            let s = s.as_ref()?;
            if s.state != SubmissionState::Returned {
                return None;
            }
            let r = s.versions.last()?.review.clone()?;
            Some(view! {
                <div class="returned-note" role="note" aria-label=pick(l, "退回修改意见", "The office's comments")>
                    <strong>{pick(l, "退回修改意见：", "Returned with comments: ")}</strong>
                    <p class="pre">{r.comment}</p>
                    <small>{r.by_name}" · "{i18n::datetime(r.at.0, l)}</small>
                </div>
            })
        })
    };

    let editor = move || {
        view! {
            <form class="submission-form" on:submit=|ev| ev.prevent_default()>
                {kind.parts().iter().enumerate().map(|(i, (zh, en))| {
                    let (zh, en) = (*zh, *en);
                    view! {
                        <label class="part">
                            <span class="part-name">{tr(zh, en)}</span>
                            <textarea name=format!("part{i}") rows="6" maxlength=shared::text::SUBMISSION_PART.max
                                prop:value=move || edits.with(|e| e.as_ref().and_then(|v| v.get(i).cloned())).unwrap_or_else(|| stored_parts().get(i).cloned().unwrap_or_default())
                                on:input=move |ev| {
                                    let v = event_target_value(&ev);
                                    let mut parts = current();
                                    if let Some(p) = parts.get_mut(i) { *p = v; }
                                    edits.set(Some(parts));
                                }></textarea>
                        </label>
                    }
                }).collect_view()}
                <div class="form-actions">
                    {(kind == SubmissionKind::WorkPlan).then(|| view! {
                        <button type="button" class="secondary" on:click=on_fill>{tr("从任务生成进度安排", "Fill the schedule from the tasks")}</button>
                    })}
                    <button type="button" class="secondary" on:click=on_save>{tr("保存草稿", "Save draft")}</button>
                    <button type="button" class="primary" on:click=on_submit>{tr("报送", "Submit")}</button>
                </div>
            </form>
        }
    };
    let read_only = move || {
        let l = cx.lang.get();
        sub.with(|s| {
            let s = s.as_ref()?;
            // Once submitted, the text is the latest version's, shown open in the list below.
            if !s.editable() {
                return None;
            }
            let draft = s.state == SubmissionState::Draft;
            Some(view! {
                <section class="submission-text" aria-label=pick(l, "报送内容", "Text")>
                    {draft.then(|| view! { <p class="hint">{pick(l, "草稿，尚未报送", "Draft, not submitted yet")}</p> })}
                    {parts_view(kind, &s.parts, l)}
                </section>
            })
        })
    };

    // Who writes it, for everyone else: on an item with two lead units the second one reads
    // here that the first drafts it (`shared::submission::drafting_unit`).
    let drafter_note = move || {
        let l = cx.lang.get();
        if may_edit.get() || sub.with(|s| s.as_ref().is_some_and(|s| !s.editable())) {
            return None;
        }
        let name = cx.sync.view.with(|state| {
            let unit = sub
                .with(|s| s.as_ref().map(|s| s.unit))
                .or_else(|| state.item(item).and_then(drafting_unit))?;
            state.unit(unit).map(|u| u.name.clone())
        })?;
        Some(view! {
            <p class="hint" data-testid="drafter-note">{pick(
                l,
                format!("{}由{name}起草报送。", kind.zh()),
                format!("The {} is drafted and submitted by {name}.", kind.en().to_ascii_lowercase()),
            )}</p>
        })
    };

    view! {
        <article class="submission-page">
            <p class="crumbs">
                <A href=format!("/items/{number}/submissions")>{"← "}{tr("报送材料", "Work plans and reports")}</A>
            </p>
            <h2>{move || kind_name(kind, cx.en())}</h2>
            {header}
            {returned_note}
            <p class="ok" role="status">{move || message.get()}</p>
            <p class="error" role="alert">{move || error.get()}</p>
            {drafter_note}
            <Show when=move || may_edit.get() fallback=read_only>{editor}</Show>
            <Show when=move || may_review.get()>
                <section class="review-form" aria-label=tr("审核", "Review")>
                    <h3>{tr("审核", "Review")}</h3>
                    <label class="part">
                        <span class="part-name">{tr("审核意见", "Comments")}</span>
                        <textarea name="review_comment" rows="3" maxlength=shared::text::REVIEW_COMMENT.max
                            prop:value=move || review_comment.get()
                            on:input=move |ev| review_comment.set(event_target_value(&ev))></textarea>
                    </label>
                    <div class="form-actions">
                        <button type="button" class="primary" on:click=move |_| review(true)>{tr("通过", "Accept")}</button>
                        <button type="button" class="danger" on:click=move |_| review(false)>{tr("退回修改", "Return for changes")}</button>
                    </div>
                </section>
            </Show>
            <section class="versions" aria-label=tr("历次版本", "Versions")>
                <h3>{tr("历次版本", "Versions")}</h3>
                {move || {
                    let l = cx.lang.get();
                    let versions = sub.with(|s| s.as_ref().map(|s| s.versions.clone()).unwrap_or_default());
                    if versions.is_empty() {
                        return view! { <p class="hint">{pick(l, "尚未报送", "Not submitted yet")}</p> }.into_any();
                    }
                    let last = versions.len();
                    view! {
                        <ol class="version-list" role="list" reversed>
                            {versions.into_iter().rev().map(|v| version_view(kind, v, last, l)).collect_view()}
                        </ol>
                    }.into_any()
                }}
            </section>
            <Show when=move || sub.with(Option::is_some)
                fallback=move || view! { <p class="hint">{tr("保存草稿后可上传佐证材料。", "Save a draft to attach evidence.")}</p> }>
                <Attachments item to=AttachedTo::Submission(id)/>
            </Show>
        </article>
    }
}

/// The parts of a text with their headings.
fn parts_view(kind: SubmissionKind, parts: &[String], l: Lang) -> impl IntoView + use<> {
    kind.parts()
        .iter()
        .zip(parts.iter().cloned())
        .map(|((zh, en), text)| {
            let name = pick(l, *zh, *en);
            view! {
                <h4>{name}</h4>
                <p class="pre">{if text.trim().is_empty() { "—".to_string() } else { text }}</p>
            }
        })
        .collect_view()
}

/// One submitted version: who and when, its text, and the office's decision.
fn version_view(kind: SubmissionKind, v: Version, last: usize, l: Lang) -> impl IntoView + use<> {
    let verdict = v.review.as_ref().map(|r| {
        if r.accepted {
            pick(l, "已通过", "Accepted")
        } else {
            pick(l, "退回修改", "Returned")
        }
    });
    let summary = format!(
        "{} {} · {} · {}{}",
        pick(l, "版本", "Version"),
        v.number,
        v.submitted_by_name,
        i18n::datetime(v.submitted_at.0, l),
        verdict.map(|x| format!(" · {x}")).unwrap_or_default()
    );
    let review = v.review.clone().map(|r| {
        let class = if r.accepted {
            "verdict accepted"
        } else {
            "verdict returned"
        };
        let verdict = if r.accepted {
            pick(l, "已通过", "Accepted")
        } else {
            pick(l, "退回修改", "Returned")
        };
        let comment = (!r.comment.is_empty()).then(|| {
            view! {
                <strong>{pick(l, "审核意见", "Comments")}</strong>
                <p class="pre">{r.comment.clone()}</p>
            }
        });
        view! {
            <div class=class>
                {comment}
                <small>{verdict}" · "{r.by_name}" · "{i18n::datetime(r.at.0, l)}</small>
            </div>
        }
    });
    let open = usize::try_from(v.number).is_ok_and(|n| n == last);
    view! {
        <li class="version" data-version=v.number>
            <details open=open>
                <summary>{summary}</summary>
                {parts_view(kind, &v.parts, l)}
                {review}
            </details>
        </li>
    }
}
