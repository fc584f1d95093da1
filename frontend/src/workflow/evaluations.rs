//! Evaluations (评议) of an item by the People's Congress and the CPPCC: a score of 1–5 and a
//! text, kept as a draft of the body that wrote it until published; published ones are for all.

use super::{Ctx, confirm, pick, unit_name};
use crate::i18n::{self, tr};
use crate::util::now;
use leptos::prelude::*;
use shared::actor::Role;
use shared::evaluation::{Evaluation, Publish, Record, SCORES};
use shared::ids::{EvaluationId, ItemId};
use shared::mutation::Mutation;
use shared::permission::Action;

/// The item's evaluations, and for 区人大 / 区政协 the form to write theirs.
#[component]
pub fn Evaluations(item: ItemId) -> impl IntoView {
    let cx = Ctx::get();
    let list = Memo::new(move |_| {
        let me = cx.actor();
        cx.sync.view.with(|s| {
            let mut l: Vec<Evaluation> = s
                .evaluations()
                .filter(|e| e.item == item)
                // Drafts are their body's own (the server sends them only there and to the office).
                .filter(|e| {
                    e.published
                        || me
                            .as_ref()
                            .is_some_and(|m| m.unit == e.unit || m.role == Role::Office)
                })
                .cloned()
                .collect();
            shared::sorting::sort_by_key(&mut l, |e| {
                std::cmp::Reverse((e.published_at.unwrap_or(e.at), e.id))
            });
            l
        })
    });
    let may_evaluate = Memo::new(move |_| cx.may(item, Action::Evaluate));
    view! {
        <section class="evaluations" aria-label=tr("评议", "Evaluations")>
            <Show when=move || may_evaluate.get()>
                <EvaluationForm item/>
            </Show>
            <Show when=move || list.with(Vec::is_empty)>
                <p class="hint">{tr("暂无评议", "No evaluations yet")}</p>
            </Show>
            <ul class="evaluation-list" role="list">
                {move || {
                    let l = cx.lang.get();
                    list.get().into_iter().map(|e| {
                        let unit = cx.sync.view.with_untracked(|s| unit_name(s, e.unit));
                        let stars = format!("{}{}", "★".repeat(usize::from(e.score)), "☆".repeat(5usize.saturating_sub(usize::from(e.score))));
                        view! {
                            <li class="evaluation" class:draft=!e.published>
                                <div class="row-head">
                                    <strong>{unit}</strong>
                                    <span class="score" role="img" aria-label=pick(l, format!("评分{}分", e.score), format!("score {}", e.score))>{stars}</span>
                                    {(!e.published).then(|| view! { <span class="sub-state draft">{pick(l, "草稿", "Draft")}</span> })}
                                </div>
                                <p class="pre">{e.text.clone()}</p>
                                <p class="muted">{e.by_name.clone()}" · "{i18n::datetime(e.published_at.unwrap_or(e.at).0, l)}</p>
                            </li>
                        }
                    }).collect_view()
                }}
            </ul>
        </section>
    }
}

#[component]
fn EvaluationForm(item: ItemId) -> impl IntoView {
    let cx = Ctx::get();
    // The body's unpublished evaluation of this item, if it began one: the form continues it.
    let draft = Memo::new(move |_| {
        let me = cx.actor();
        cx.sync.view.with(|s| {
            s.evaluations()
                .find(|e| {
                    e.item == item && !e.published && me.as_ref().is_some_and(|m| m.unit == e.unit)
                })
                .cloned()
        })
    });
    let score = RwSignal::new(draft.with_untracked(|d| d.as_ref().map_or(0, |d| d.score)));
    let text = RwSignal::new(
        draft.with_untracked(|d| d.as_ref().map(|d| d.text.clone()).unwrap_or_default()),
    );
    let error = RwSignal::new(String::new());
    let message = RwSignal::new(String::new());
    let record = move || -> Option<EvaluationId> {
        let l = cx.lang.get_untracked();
        let sc = score.get_untracked();
        if !SCORES.contains(&sc) {
            error.set(pick(
                l,
                "请选择评分（1到5分）",
                "Choose a score from 1 to 5",
            ));
            return None;
        }
        let t = text.get_untracked();
        if t.trim().is_empty() {
            error.set(pick(l, "请写下评议意见", "Write the evaluation first"));
            return None;
        }
        error.set(String::new());
        let id = draft
            .with_untracked(|d| d.as_ref().map(|d| d.id))
            .unwrap_or_else(EvaluationId::new_v7);
        cx.send(Mutation::RecordEvaluation(Record {
            id,
            item,
            score: sc,
            text: t,
            at: now(),
        }))
        .then_some(id)
    };
    let on_save = move |_| {
        // A refusal (in the notices) must not stand beside the last "saved".
        message.set(String::new());
        if record().is_some() {
            message.set(pick(
                cx.lang.get_untracked(),
                "评议已保存（未发布）",
                "Saved (not published)",
            ));
        }
    };
    let on_publish = move |_| {
        let l = cx.lang.get_untracked();
        if !confirm(&pick(
            l,
            "确定发布评议？发布后所有单位可见，不能再修改。",
            "Publish? Everyone will see it and it can't be changed.",
        )) {
            return;
        }
        message.set(String::new());
        if let Some(id) = record()
            && cx.send(Mutation::PublishEvaluation(Publish { id, at: now() }))
        {
            score.set(0);
            text.set(String::new());
            message.set(pick(l, "评议已发布", "Published"));
        }
    };
    view! {
        <form class="evaluation-form card-form" on:submit=|ev| ev.prevent_default()>
            <fieldset class="scores">
                <legend>{tr("评分", "Score")}</legend>
                {SCORES.map(|n| view! {
                    <label class="score-option">
                        <input type="radio" name="score" value=n.to_string()
                            prop:checked=move || score.get() == n on:change=move |_| score.set(n)/>
                        {move || pick(cx.lang.get(), format!("{n}分"), n.to_string())}
                    </label>
                }).collect_view()}
            </fieldset>
            <label>
                <span class="part-name">{tr("评议意见", "Evaluation")}</span>
                <textarea name="evaluation" rows="4" maxlength=shared::text::FINDINGS.max prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </label>
            <p class="error" role="alert">{move || error.get()}</p>
            <p class="ok" role="status">{move || message.get()}</p>
            <div class="form-actions">
                <button type="button" class="secondary" on:click=on_save>{tr("保存评议", "Save")}</button>
                <button type="button" class="primary" on:click=on_publish>{tr("发布评议", "Publish")}</button>
            </div>
        </form>
    }
}
