//! Leaders' instructions (领导批示) on an item, newest first. A leader writes one — the form is
//! made for a phone: one big text box and a full-width button. The lead unit acknowledges
//! (收悉) and answers; everyone who may see the item sees the answer.

use super::{Ctx, pick, unit_name};
use crate::i18n::{self, tr};
use crate::util::now;
use leptos::prelude::*;
use shared::entity::{Entity, EntityKey};
use shared::ids::{InstructionId, ItemId};
use shared::instruction::{Instruction, Respond, Write};
use shared::mutation::Mutation;
use shared::permission::Action;

/// The item's instructions and, for a leader, the form to write one.
#[component]
pub fn Instructions(item: ItemId) -> impl IntoView {
    let cx = Ctx::get();
    let ids = Memo::new(move |_| {
        cx.sync.view.with(|s| {
            let mut list: Vec<&Instruction> = s.instructions().filter(|i| i.item == item).collect();
            shared::sorting::sort_by_key(&mut list, |i| std::cmp::Reverse((i.at, i.id)));
            list.into_iter().map(|i| i.id).collect::<Vec<_>>()
        })
    });
    let may_write = Memo::new(move |_| cx.may(item, Action::Instruct));
    view! {
        <section class="instructions" aria-label=tr("领导批示", "Leaders' instructions")>
            <Show when=move || may_write.get()>
                <WriteForm item/>
            </Show>
            <Show when=move || ids.with(Vec::is_empty)>
                <p class="hint">{tr("暂无领导批示", "No instructions yet")}</p>
            </Show>
            <ol class="instruction-list" role="list">
                <For each=move || ids.get() key=|id| *id children=move |id| view! { <InstructionRow id item/> }/>
            </ol>
        </section>
    }
}

#[component]
fn WriteForm(item: ItemId) -> impl IntoView {
    let cx = Ctx::get();
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(String::new());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = text.get_untracked();
        if t.trim().is_empty() {
            error.set(pick(
                cx.lang.get_untracked(),
                "请写下批示内容",
                "Write the instruction first",
            ));
            return;
        }
        if cx.send(Mutation::WriteInstruction(Write {
            id: InstructionId::new_v7(),
            item,
            text: t,
            at: now(),
        })) {
            text.set(String::new());
            error.set(String::new());
        }
    };
    view! {
        <form class="instruction-form card-form" on:submit=on_submit>
            <label>
                <span class="part-name">{tr("批示内容", "Instruction")}</span>
                <textarea name="instruction" rows="6" maxlength=shared::text::INSTRUCTION.max prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </label>
            <p class="error" role="alert">{move || error.get()}</p>
            <button type="submit" class="primary wide-button">{tr("作出批示", "Send instruction")}</button>
        </form>
    }
}

#[component]
fn InstructionRow(id: InstructionId, item: ItemId) -> impl IntoView {
    let cx = Ctx::get();
    let ins = Memo::new(move |_| {
        cx.sync
            .view
            .with(|s| match s.get(&EntityKey::instruction(id)) {
                Some(Entity::Instruction(i)) => Some(i.clone()),
                _ => None,
            })
    });
    let may_respond = Memo::new(move |_| cx.may(item, Action::Report) && !cx.session.is_office());
    let acknowledged = move || ins.with(|i| i.as_ref().is_some_and(|i| i.acknowledged.is_some()));
    // A second answer replaces the first (the audit trail keeps it): the form says so.
    let answered = move || ins.with(|i| i.as_ref().is_some_and(|i| i.answer.is_some()));
    let answer = RwSignal::new(String::new());
    let error = RwSignal::new(String::new());
    let body = move || {
        let l = cx.lang.get();
        let i = ins.get()?;
        Some(cx.sync.view.with(|s| {
            // A demo account is often named after its unit: say the name once then.
            let who = |r: &shared::instruction::Reply| {
                let unit = unit_name(s, r.unit);
                if unit == r.by_name || unit.is_empty() {
                    r.by_name.clone()
                } else {
                    format!("{unit} {}", r.by_name)
                }
            };
            let ack: Option<String> = i.acknowledged.as_ref().map(|r| {
                pick(
                    l,
                    format!("{} 已收悉 · {}", who(r), i18n::datetime(r.at.0, l)),
                    format!("Acknowledged by {} · {}", who(r), i18n::datetime(r.at.0, l)),
                )
            });
            let ack_class = if ack.is_some() {
                "ack done"
            } else {
                "ack waiting"
            };
            view! {
                <p class="muted">{i.leader_name.clone()}" · "{i18n::datetime(i.at.0, l)}</p>
                <p class="instruction-text pre" id=format!("instruction-{}", i.id)>{i.text.clone()}</p>
                <p class=ack_class data-testid="ack">
                    {ack.unwrap_or_else(|| pick(l, "待收悉", "Not yet acknowledged"))}
                </p>
                {i.answer.clone().map(|a| view! {
                    <div class="answer" role="note" aria-label=pick(l, "回复", "Answer")>
                        <strong>{pick(l, "回复：", "Answer: ")}</strong>
                        <p class="pre">{a.text.clone()}</p>
                        <small>{who(&a)}" · "{i18n::datetime(a.at.0, l)}</small>
                    </div>
                })}
            }
        }))
    };
    let respond = move |text: String| {
        if cx.send(Mutation::RespondInstruction(Respond {
            id,
            text,
            at: now(),
        })) {
            answer.set(String::new());
            error.set(String::new());
        }
    };
    view! {
        <li class="instruction">
            {body}
            <Show when=move || may_respond.get()>
                <div class="respond">
                    <Show when=move || !acknowledged()>
                        // Which instruction: an item may have several, each with these buttons.
                        <button type="button" class="secondary" aria-describedby=format!("instruction-{id}")
                            on:click=move |_| respond(String::new())>{tr("收悉", "Acknowledge")}</button>
                    </Show>
                    <label>
                        <span class="part-name">{move || if answered() {
                            pick(cx.lang.get(), "修改回复（替换上面的回复）", "Change the answer (replaces the one above)")
                        } else {
                            pick(cx.lang.get(), "回复内容", "Answer")
                        }}</span>
                        <textarea name="answer" rows="3" maxlength=shared::text::INSTRUCTION.max prop:value=move || answer.get()
                            on:input=move |ev| answer.set(event_target_value(&ev))></textarea>
                    </label>
                    <button type="button" class="primary" aria-describedby=format!("instruction-{id}") on:click=move |_| {
                        let t = answer.get_untracked();
                        if t.trim().is_empty() {
                            error.set(pick(cx.lang.get_untracked(), "请写下回复内容", "Write the answer first"));
                        } else {
                            respond(t);
                        }
                    }>{move || if answered() {
                        pick(cx.lang.get(), "修改回复", "Change the answer")
                    } else {
                        pick(cx.lang.get(), "回复", "Answer")
                    }}</button>
                    <p class="error" role="alert">{move || error.get()}</p>
                </div>
            </Show>
        </li>
    }
}
