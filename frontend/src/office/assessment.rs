//! `/assessment`: the year-end assessment (勤政考核) as of the chosen date — each unit's score
//! and how it was reached, the formula beside it, the office's adjustments with their reasons.
//! A unit sees its own row; the office and leaders see every row.

use super::{AsOfControl, OfficeTabs, use_as_of};
use crate::i18n::{Lang, datetime, lang, tr};
use crate::session::use_session;
use crate::sync::use_sync;
use crate::util::now;
use leptos::prelude::*;
use shared::actor::Role;
use shared::assessment::{Adjust, FORMULA_EN, FORMULA_ZH, MAX_ADJUSTMENT, assess};
use shared::ids::{AdjustmentId, UnitId};
use shared::mutation::Mutation;

fn ratio(ok: usize, due: usize) -> String {
    if due == 0 {
        "—".into()
    } else {
        format!("{ok}/{due}")
    }
}

/// The assessment page.
#[component]
pub fn AssessmentPage() -> impl IntoView {
    let sync = use_sync();
    let session = use_session();
    let lang = lang();
    let as_of = use_as_of();
    // Which unit's adjustment form is open (one at a time), and the button it was opened
    // from, which has the focus back when it closes.
    let adjusting = RwSignal::new(None::<UnitId>);
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    let table = move || {
        if !sync.loaded.get() {
            return view! { <p class="loading">{tr("正在加载…", "Loading…")}</p> }.into_any();
        }
        let me = session.me.get().flatten();
        let role = me.as_ref().map(|m| m.role);
        let office = role == Some(Role::Office);
        let sees_all = matches!(role, Some(Role::Office | Role::Leader | Role::Supervisor));
        let my_unit = me.map(|m| m.unit);
        let l = lang.get();
        let d = as_of.get();
        sync.view.with(|s| {
            let scores = assess(s, d);
            let rows = scores
                .into_iter()
                .filter(|x| sees_all || Some(x.unit) == my_unit)
                .map(|x| {
                    let unit = x.unit;
                    let mut adjustments: Vec<_> = s.adjustments().filter(|a| a.unit == unit).cloned().collect();
                    shared::sorting::sort_by_key(&mut adjustments, |a| a.at);
                    let adj_list = (!adjustments.is_empty()).then(|| {
                        view! {
                            <ul class="adjustments">
                                {adjustments.into_iter().map(|a| {
                                    view! {
                                        <li>{format!("{:+}", a.points)}" "{a.reason}
                                            <span class="meta">" · "{a.by_name}" · "{datetime(a.at.0, l)}</span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }
                    });
                    let name = x.name.clone();
                    view! {
                        <tr data-unit=x.name.clone()>
                            // A unit sees its own adjustments, not the others': a rank it
                            // worked out would be wrong, so only those who see all are ranked.
                            <td data-label=tr("名次", "Rank")>{if sees_all { x.rank.to_string() } else { "—".to_string() }}</td>
                            <th scope="row" data-label=tr("单位", "Unit")>{x.name.clone()}{adj_list}</th>
                            <td data-label=tr("按时报送", "Submissions on time")>{ratio(x.submissions_on_time, x.submissions_due)}</td>
                            <td data-label=tr("任务按时完成", "Tasks on time")>{ratio(x.tasks_on_time, x.tasks_due)}</td>
                            <td data-label=tr("评议平均分", "Evaluation")>{x.evaluation.map_or("—".into(), |e| format!("{e:.1}"))}</td>
                            <td data-label=tr("超期问题", "Stale difficulties")>{x.stale_difficulties}</td>
                            <td data-label=tr("基础分", "Base")>{format!("{:.1}", x.base)}</td>
                            <td data-label=tr("扣分", "Penalty")>{if x.penalty > 0.0 { format!("−{:.0}", x.penalty) } else { "0".into() }}</td>
                            <td data-label=tr("调整", "Adjustment")>{if x.adjustment == 0 { "0".into() } else { format!("{:+}", x.adjustment) }}</td>
                            <td data-label=tr("得分", "Score") class="total">{format!("{:.1}", x.total)}</td>
                            {office.then(|| view! {
                                <td class="actions">
                                    <button type="button" aria-label=format!("{}{name}", tr("调整分数：", "Adjust score: ")())
                                        on:click=move |_| {
                                            opener.set_value(crate::util::focused());
                                            adjusting.set(Some(unit));
                                        }>{tr("调整分数", "Adjust")}</button>
                                </td>
                            })}
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table class="assess-table">
                    <thead>
                        <tr>
                            <th scope="col">{tr("名次", "Rank")}</th>
                            <th scope="col">{tr("单位", "Unit")}</th>
                            <th scope="col">{tr("按时报送", "Submissions on time")}</th>
                            <th scope="col">{tr("任务按时完成", "Tasks on time")}</th>
                            <th scope="col">{tr("评议平均分", "Evaluation")}</th>
                            <th scope="col">{tr("超期问题", "Stale difficulties")}</th>
                            <th scope="col">{tr("基础分", "Base")}</th>
                            <th scope="col">{tr("扣分", "Penalty")}</th>
                            <th scope="col">{tr("调整", "Adjustment")}</th>
                            <th scope="col">{tr("得分", "Score")}</th>
                            {office.then(|| view! { <th scope="col"><span class="sr-only">{tr("操作", "Actions")}</span></th> })}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any()
        })
    };
    view! {
        <article class="office assessment-page">
            <h1>{tr("勤政考核", "Year-end assessment")}</h1>
            <OfficeTabs/>
            <AsOfControl/>
            // The export is the office's (the server answers others 403).
            <Show when=move || session.is_office()>
                <div class="exports">
                    <a class="button" download="" aria-label=tr("导出考核表", "Export assessment")
                        href=move || format!("/api/export/assessment.xlsx?as_of={}", as_of.get())>
                        {tr("导出考核表（Excel）", "Export assessment (Excel)")}
                    </a>
                </div>
            </Show>
            <div class="assess-layout">
                <div class="assess-scroll">{table}</div>
                <aside class="formula" aria-labelledby="formula-h">
                    <h2 id="formula-h">{tr("计分公式", "Formula")}</h2>
                    <p>{move || if lang.get() == Lang::En { FORMULA_EN } else { FORMULA_ZH }}</p>
                </aside>
            </div>
            {move || adjusting.get().map(|unit| view! { <AdjustForm unit close=move || {
                adjusting.set(None);
                crate::util::refocus(opener.get_value());
            }/> })}
        </article>
    }
}

/// The office adjusts a unit's score, with a reason.
#[component]
fn AdjustForm(unit: UnitId, close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let sync = use_sync();
    let lang = lang();
    let name = sync
        .view
        .with_untracked(|s| s.unit(unit).map(|u| u.name.clone()))
        .unwrap_or_default();
    let points = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let p: i32 = match points
            .get_untracked()
            .trim()
            .trim_start_matches('+')
            .parse::<i32>()
        {
            Ok(p) if shared::assessment::points_allowed(p) => p,
            _ => {
                error.set(if lang.get_untracked() == Lang::En {
                    format!(
                        "Points must be between −{MAX_ADJUSTMENT} and {MAX_ADJUSTMENT}, and not 0"
                    )
                } else {
                    format!("调整分应在−{MAX_ADJUSTMENT}到{MAX_ADJUSTMENT}之间且不为0")
                });
                return;
            }
        };
        let m = Mutation::AdjustAssessment(Adjust {
            id: AdjustmentId::new_v7(),
            unit,
            points: p,
            reason: reason.get_untracked(),
            at: now(),
        });
        match sync.mutate(m) {
            Ok(()) => close(),
            // Said here too: the dialog is what the user is looking at.
            Err(why) => error.set(lang.get_untracked().of(&why.message()).to_string()),
        }
    };
    crate::util::focus_later("form.adjust-form input[name=points]".to_string());
    view! {
        <div class="dialog-backdrop">
            <form class="adjust-form" role="dialog" aria-modal="true" aria-label=format!("{}{name}", tr("调整分数：", "Adjust score: ")())
                on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { close() }
                on:submit=submit>
                <h2>{tr("调整分数", "Adjust score")}" · "{name.clone()}</h2>
                <label>
                    <span>{tr("调整分值（正数加分，负数扣分）", "Points (negative to take off)")}</span>
                    // No value written back: a lone "-" reads as "" in a number input, and
                    // writing that back would wipe the sign being typed.
                    <input type="number" name="points" min=-MAX_ADJUSTMENT max=MAX_ADJUSTMENT step="1"
                        aria-label=tr("调整分值", "Points")
                        on:input=move |ev| points.set(event_target_value(&ev))/>
                </label>
                <label>
                    <span>{tr("调整原因", "Reason")}</span>
                    <textarea name="reason" rows="3" required maxlength=shared::text::ADJUSTMENT_REASON.max aria-label=tr("调整原因", "Reason") prop:value=move || reason.get()
                        on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                </label>
                <p class="error" role="alert">{move || error.get()}</p>
                <div class="form-actions">
                    <button type="submit" class="primary">{tr("保存调整", "Save adjustment")}</button>
                    <button type="button" on:click=move |_| close()>{tr("取消", "Cancel")}</button>
                </div>
            </form>
        </div>
    }
}
