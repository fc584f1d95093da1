//! Members of group units: the office adds a street office under 各街道办, and it then works on
//! what 各街道办 cooperates on — through the one `apply`, as the browser and the server run it.

use shared::actor::{Actor, Role};
use shared::board::{Column, sort_key};
use shared::entity::{Entity, Item, Millis, Unit};
use shared::ids::*;
use shared::membership::{AddUnit, SetMembership, leave, left_behind};
use shared::mutation::{Mutation, Rejection, apply};
use shared::permission::{Relation, relation_of};
use shared::state::State;
use shared::unit::UnitKind;

const AT: Millis = Millis(1_396_000_000_000);

struct World {
    state: State,
    item: ItemId,
    other_item: ItemId,
    lead: Actor,
    office: Actor,
    group: UnitId,
}

fn actor(unit: UnitId, role: Role) -> Actor {
    Actor {
        user: UserId::new_v7(),
        name: "某人".into(),
        unit,
        role,
        groups: vec![],
    }
}

fn world() -> World {
    let mut state = State::new();
    let mut unit = |name: &str, kind: UnitKind| {
        let id = unit_id_for_name(name);
        state.put(Entity::Unit(Unit {
            id,
            name: name.into(),
            aliases: vec![],
            kind,
            in_plan: true,
            groups: vec![],
        }));
        id
    };
    let lead = unit("区财政局", UnitKind::Department);
    let group = unit("各街道办", UnitKind::Group);
    let office = unit(shared::unit::OFFICE_UNIT, UnitKind::Department);
    let mut item = |number: u32, cooperating_units: Vec<UnitId>| {
        let id = item_id_for_number(number);
        state.put(Entity::Item(Item {
            id,
            number,
            title: format!("第{number}项。"),
            body: String::new(),
            lead_units: vec![lead],
            cooperating_units,
            lead_leaders: vec![],
            section: None,
        }));
        id
    };
    let (item, other_item) = (item(4, vec![group]), item(5, vec![]));
    World {
        state,
        item,
        other_item,
        lead: actor(lead, Role::Unit),
        office: actor(office, Role::Office),
        group,
    }
}

fn add(name: &str, groups: Vec<UnitId>) -> Mutation {
    Mutation::AddUnit(AddUnit {
        id: unit_id_for_name(name),
        name: name.into(),
        groups,
        at: AT,
    })
}

fn create_task(item: ItemId, owner: UnitId) -> (TaskId, Mutation) {
    let id = TaskId::new_v7();
    let m = Mutation::CreateTask {
        id,
        item,
        title: "摸排社区工作事项".into(),
        owner,
        column: Column::NotStarted,
        sort_key: sort_key::between(None, None),
        due: None,
        at: AT,
    };
    (id, m)
}

fn progress(task: TaskId) -> Mutation {
    Mutation::SetTaskProgress {
        task,
        progress: 40,
        at: AT,
    }
}

#[test]
fn a_member_works_on_what_its_group_cooperates_on() {
    let mut w = world();
    let street = unit_id_for_name("沙头角街道办");
    apply(&mut w.state, &w.office, &add("沙头角街道办", vec![w.group])).expect("added");
    let member = actor(street, Role::Unit);
    let item = w.state.item(w.item).cloned().expect("item 4");
    assert_eq!(
        relation_of(street, w.state.groups_of(street), &item),
        Relation::Cooperating
    );

    // Comments and difficulties on item 4, not on item 5.
    let comment = |item| Mutation::AddComment {
        id: CommentId::new_v7(),
        item,
        task: None,
        body: "已完成摸排".into(),
        at: AT,
    };
    apply(&mut w.state, &member, &comment(w.item)).expect("comments on its group's item");
    assert!(matches!(
        apply(&mut w.state, &member, &comment(w.other_item)),
        Err(Rejection::Denied(_))
    ));

    // The lead unit gives it a task of its own, and one to the whole group: it works on both.
    let (own, m) = create_task(w.item, street);
    apply(&mut w.state, &w.lead, &m).expect("a task for the member");
    let (for_group, m) = create_task(w.item, w.group);
    apply(&mut w.state, &w.lead, &m).expect("a task for the group");
    // What is addressed to the group is its members' to read (a group holds no accounts): a
    // deadline of the group's task is owed by the member, not by the group.
    assert_eq!(w.state.readers_of(w.group), vec![street]);
    assert_eq!(w.state.readers_of(street), vec![street]);
    let deadline = shared::calendar::Deadline {
        date: chrono::NaiveDate::from_ymd_opt(2014, 12, 31).unwrap_or_default(),
        item: w.item,
        due: shared::calendar::Due::Task {
            task: for_group,
            title: "摸排".into(),
            owner: w.group,
        },
        met_on: None,
    };
    assert_eq!(deadline.owed_by(&w.state), vec![street]);
    apply(&mut w.state, &member, &progress(own)).expect("works on its own task");
    apply(&mut w.state, &member, &progress(for_group)).expect("works on its group's task");
    // Not on the lead unit's own, and it may not break the item down.
    let (lead_task, m) = create_task(w.item, w.lead.unit);
    apply(&mut w.state, &w.lead, &m).expect("the lead's task");
    assert!(matches!(
        apply(&mut w.state, &member, &progress(lead_task)),
        Err(Rejection::Denied(_))
    ));
    assert!(matches!(
        apply(&mut w.state, &member, &create_task(w.item, street).1),
        Err(Rejection::Denied(_))
    ));
    // Item 5 does not involve the group: no task of it goes to the member.
    assert!(matches!(
        apply(&mut w.state, &w.lead, &create_task(w.other_item, street).1),
        Err(Rejection::Invalid(_))
    ));

    // Out of the group, it is out of the item: its task stays, untouchable by it.
    let leave = Mutation::SetMembership(SetMembership {
        unit: street,
        group: w.group,
        member: false,
        at: AT,
    });
    apply(&mut w.state, &w.office, &leave).expect("leaves");
    assert!(matches!(
        apply(&mut w.state, &member, &progress(own)),
        Err(Rejection::Denied(_))
    ));
}

#[test]
fn leaving_a_group_hands_its_open_tasks_back_to_the_group() {
    let mut w = world();
    let street = unit_id_for_name("沙头角街道办");
    apply(&mut w.state, &w.office, &add("沙头角街道办", vec![w.group])).expect("added");
    // Item 6 names the street office itself: it keeps that work whatever its groups.
    let named = item_id_for_number(6);
    w.state.put(Entity::Item(Item {
        id: named,
        number: 6,
        title: "第6项。".into(),
        body: String::new(),
        lead_units: vec![w.lead.unit],
        cooperating_units: vec![street],
        lead_leaders: vec![],
        section: None,
    }));
    let mut task = |item, column| {
        let (id, mut m) = create_task(item, street);
        if let Mutation::CreateTask { column: c, .. } = &mut m {
            *c = column;
        }
        apply(&mut w.state, &w.lead, &m).expect("a task for the member");
        id
    };
    let open = task(w.item, Column::InProgress);
    let done = task(w.item, Column::Done);
    let archived = task(w.item, Column::NotStarted);
    let kept = task(named, Column::NotStarted);
    let archive = Mutation::ArchiveTask {
        task: archived,
        at: AT,
    };
    apply(&mut w.state, &w.lead, &archive).expect("archived");

    assert_eq!(left_behind(&w.state, street, w.group), vec![open]);
    let changes = leave(&w.state, street, w.group, AT);
    assert_eq!(changes.len(), 2, "{changes:?}");
    for m in &changes {
        apply(&mut w.state, &w.office, m).expect("the office takes it out");
    }
    let owner = |id| w.state.task(id).map(|t| t.owner);
    assert_eq!(
        owner(open),
        Some(w.group),
        "open work goes back to the group"
    );
    assert_eq!(owner(done), Some(street), "done work stays its record");
    assert_eq!(
        owner(archived),
        Some(street),
        "archived work stays its record"
    );
    assert_eq!(owner(kept), Some(street), "work of an item naming it stays");
    assert!(w.state.groups_of(street).is_empty());
    assert!(
        leave(&w.state, street, w.group, AT).is_empty(),
        "not a member: nothing to do"
    );
}

#[test]
fn a_member_of_another_group_on_the_item_keeps_its_tasks() {
    let mut w = world();
    // 区属各企业 cooperates on item 4 too.
    let companies = unit_id_for_name("区属各企业");
    w.state.put(Entity::Unit(Unit {
        id: companies,
        name: "区属各企业".into(),
        aliases: vec![],
        kind: UnitKind::Group,
        in_plan: true,
        groups: vec![],
    }));
    if let Some(mut item) = w.state.item(w.item).cloned() {
        item.cooperating_units.push(companies);
        w.state.put(Entity::Item(item));
    }
    let member = unit_id_for_name("盐田港集团");
    apply(
        &mut w.state,
        &w.office,
        &add("盐田港集团", vec![w.group, companies]),
    )
    .expect("added to both");
    let (task, m) = create_task(w.item, member);
    apply(&mut w.state, &w.lead, &m).expect("a task for the member");
    assert!(left_behind(&w.state, member, w.group).is_empty());
    for m in leave(&w.state, member, w.group, AT) {
        apply(&mut w.state, &w.office, &m).expect("out of one group");
    }
    assert_eq!(w.state.task(task).map(|t| t.owner), Some(member));
    assert_eq!(w.state.groups_of(member), [companies]);
}

#[test]
fn only_the_office_adds_units_and_only_under_groups() {
    let mut w = world();
    let group = w.group;
    let lead = w.lead.clone();
    assert!(matches!(
        apply(&mut w.state, &lead, &add("海山街道办", vec![group])),
        Err(Rejection::Denied(_))
    ));
    let office = w.office.clone();
    let refused = |w: &mut World, m: Mutation| {
        matches!(
            apply(&mut w.state, &office, &m),
            Err(Rejection::Invalid(_) | Rejection::NotFound(_))
        )
    };
    // Under no group, under a department, under an unknown unit.
    assert!(refused(&mut w, add("海山街道办", vec![])));
    assert!(refused(&mut w, add("海山街道办", vec![lead.unit])));
    assert!(refused(
        &mut w,
        add("海山街道办", vec![unit_id_for_name("不存在")])
    ));
    // A name that is no unit's, a group's name, an id that is not the name's.
    assert!(refused(&mut w, add("海", vec![group])));
    assert!(refused(&mut w, add("各社区", vec![group])));
    let mut wrong_id = add("海山街道办", vec![group]);
    if let Mutation::AddUnit(a) = &mut wrong_id {
        a.id = UnitId::new_v7();
    }
    assert!(refused(&mut w, wrong_id));
    // Once; a second time is a duplicate.
    apply(
        &mut w.state,
        &office,
        &add("海山街道办", vec![group, group]),
    )
    .expect("added");
    let unit = w
        .state
        .unit(unit_id_for_name("海山街道办"))
        .cloned()
        .expect("stored");
    assert_eq!(unit.groups, vec![group], "one membership, not two");
    assert!(!unit.in_plan && unit.kind == UnitKind::Department);
    assert!(refused(&mut w, add("海山街道办", vec![group])));
    // A group joins no group; the office joins none either.
    let join = |unit| {
        Mutation::SetMembership(SetMembership {
            unit,
            group,
            member: true,
            at: AT,
        })
    };
    assert!(refused(&mut w, join(group)));
    assert!(refused(&mut w, join(office.unit)));
    // A plan department joins, once however often asked, and leaves again.
    apply(&mut w.state, &office, &join(lead.unit)).expect("joins");
    apply(&mut w.state, &office, &join(lead.unit)).expect("joins again");
    assert_eq!(w.state.groups_of(lead.unit), &[group]);
    let leave = Mutation::SetMembership(SetMembership {
        unit: lead.unit,
        group,
        member: false,
        at: AT,
    });
    apply(&mut w.state, &office, &leave).expect("leaves");
    assert!(w.state.groups_of(lead.unit).is_empty());
}
