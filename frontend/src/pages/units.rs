//! `/units`: every unit the plan names, in the plan's order (`State::plan_units`), with the
//! items it leads and cooperates on; under each group unit (各街道办…), its members, which the
//! office adds and removes here.

use crate::i18n::{Lang, W, lang, t};
use crate::session::use_session;
use crate::sync::use_sync;
use crate::util::now;
use crate::workflow::{confirm, pick};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::ids::UnitId;
use shared::message::Msg;
use shared::unit::{UnitKind, UnitName};

/// The units page.
#[component]
pub fn UnitsPage() -> impl IntoView {
    let sync = use_sync();
    let session = use_session();
    let lang = lang();
    move || {
        if !sync.loaded.get() {
            return view! { <p class="loading">{t(W::Loading)}</p> }.into_any();
        }
        let l = lang.get();
        let office = session.is_office();
        let state = sync.view.read();
        let items = state.items();
        let units = state.plan_units();
        // An item's chip shows its number; its name says which item that is.
        let links = |numbers: Vec<u32>| {
            if numbers.is_empty() {
                return view! { <span>{W::None.get(l)}</span> }.into_any();
            }
            numbers
                .into_iter()
                .map(|n| {
                    let title = items.iter().find(|i| i.number == n).map(|i| i.title.clone()).unwrap_or_default();
                    view! { <A href=format!("/items/{n}") attr:class="chip" attr:aria-label=format!("{n}. {title}")>{n}</A> }
                })
                .collect_view()
                .into_any()
        };
        let rows = units.into_iter().map(|u| {
            let leads: Vec<u32> = items.iter().filter(|i| i.lead_units.contains(&u.id)).map(|i| i.number).collect();
            let coops: Vec<u32> = items.iter().filter(|i| i.cooperating_units.contains(&u.id)).map(|i| i.number).collect();
            let groups: Vec<String> = u.groups.iter().filter_map(|g| state.unit(*g)).map(|g| g.name.clone()).collect();
            let is_group = u.kind == UnitKind::Group;
            view! {
                <li class="unit-row">
                    <h3>
                        {u.name.clone()}
                        {is_group.then(|| view! { <small class="tag">{W::Group.get(l)}</small> })}
                    </h3>
                    {(!u.aliases.is_empty()).then(|| view! { <p class="aliases">{u.aliases.join(l.list_separator())}</p> })}
                    <p>{W::Leads.get(l)}{l.colon()}{links(leads)}</p>
                    <p>{W::Cooperates.get(l)}{l.colon()}{links(coops)}</p>
                    {(!groups.is_empty()).then(|| view! { <p>{W::MemberOf.get(l)}{l.colon()}{groups.join(l.list_separator())}</p> })}
                    {is_group.then(|| view! { <GroupMembers group=u.id group_name=u.name.clone() office=office/> })}
                    <A href=format!("/units/{}/board", u.id) attr:class="board-link"
                        attr:aria-label=format!("{} {}", u.name, W::UnitBoard.get(l))>{W::OpenUnitBoard.get(l)}</A>
                </li>
            }
        }).collect_view();
        view! {
            <article class="units-page">
                <h1>{W::UnitsInPlan.get(l)}</h1>
                <ul class="units-list">{rows}</ul>
            </article>
        }
        .into_any()
    }
}

/// A group's members, each with its board; for the office, removing one and adding another
/// (a new unit, or one that exists already, such as a department of the plan). A member taken
/// out hands its open tasks on the group's items back to the group (`membership::leave`).
#[component]
fn GroupMembers(group: UnitId, group_name: String, office: bool) -> impl IntoView {
    let sync = use_sync();
    let lang = lang();
    let name = RwSignal::new(String::new());
    let members = Memo::new(move |_| {
        sync.view.with(|s| {
            s.members_of(group)
                .into_iter()
                .map(|u| (u.id, u.name.clone()))
                .collect::<Vec<_>>()
        })
    });
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The rule the server applies (`AddUnit`), so the id made here is the name's.
        let Ok(typed) = UnitName::parse(&name.get_untracked()) else {
            sync.notices.update(|n| {
                n.push(Msg::new(
                    "单位名称应为2至40个字，不含空格和标点",
                    "A unit's name is 2 to 40 characters, without spaces or punctuation",
                ))
            });
            return;
        };
        let Some(m) = sync
            .view
            .with_untracked(|s| shared::membership::join(s, &typed, group, now()))
        else {
            name.set(String::new());
            return;
        };
        if sync.mutate(m).is_ok() {
            name.set(String::new());
        }
    };
    let remove = move |unit: UnitId, unit_name: String, l: Lang| {
        let (changes, handed, group_name) = sync.view.with_untracked(|s| {
            let name = s.unit(group).map(|g| g.name.clone()).unwrap_or_default();
            let handed = shared::membership::left_behind(s, unit, group).len();
            (
                shared::membership::leave(s, unit, group, now()),
                handed,
                name,
            )
        });
        let question = match handed {
            0 => pick(
                l,
                format!("将“{unit_name}”移出单位组？它将不再承担该组配合的改革项目。"),
                format!(
                    "Remove {unit_name} from the group? It will no longer work on the group's items."
                ),
            ),
            n => pick(
                l,
                format!(
                    "将“{unit_name}”移出单位组？它将不再承担该组配合的改革项目，它在这些项目上未完成的{n}项任务交回“{group_name}”，由牵头单位重新指派。"
                ),
                format!(
                    "Remove {unit_name} from the group? It will no longer work on the group's items; its unfinished tasks on them ({n}) go back to {group_name}, for the lead unit to give again."
                ),
            ),
        };
        if !confirm(&question) {
            return;
        }
        for m in changes {
            if sync.mutate(m).is_err() {
                break;
            }
        }
    };
    let group_label = group_name.clone();
    view! {
        <div class="members">
            <p>
                {move || W::Members.get(lang.get())}{move || lang.get().colon()}
                {move || {
                    let l = lang.get();
                    let list = members.get();
                    if list.is_empty() {
                        return view! { <span>{W::None.get(l)}</span> }.into_any();
                    }
                    list.into_iter()
                        .map(|(id, member)| {
                            let label = format!("{} {}", W::RemoveMember.get(l), member);
                            let shown = member.clone();
                            view! {
                                <span class="member">
                                    <A href=format!("/units/{id}/board")
                                        attr:aria-label=format!("{} {}", member, W::UnitBoard.get(l))>{shown}</A>
                                    {office.then(|| {
                                        let member = member.clone();
                                        view! {
                                            <button type="button" class="remove-member" aria-label=label
                                                on:click=move |_| remove(id, member.clone(), l)>"×"</button>
                                        }
                                    })}
                                </span>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </p>
            {office.then(|| view! {
                <form class="add-member" on:submit=add>
                    <label>
                        <span class="sr-only">{move || W::MemberName.get(lang.get())}</span>
                        <input type="text" maxlength=shared::unit::MAX_UNIT_NAME_CHARS required
                            placeholder=move || W::MemberName.get(lang.get())
                            aria-label=move || format!("{} {}", group_label, W::MemberName.get(lang.get()))
                            prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))/>
                    </label>
                    <button type="submit"
                        aria-label=move || format!("{} {}", W::AddMember.get(lang.get()), group_name)>
                        {move || W::AddMember.get(lang.get())}
                    </button>
                </form>
            })}
        </div>
    }
}
