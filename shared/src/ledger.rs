//! The plan ledger (改革台账) and the assessment as tables: the backend writes them as .xlsx and
//! .csv, so both exports (and any screen that wants them) show the same rows.

use crate::assessment::{FORMULA_ZH, assess};
use crate::board::zh_date;
use crate::calendar::{calendar, required_kinds, submission};
use crate::op::end_of_day;
use crate::op::local_date;
use crate::permission::{Relation, relation_of};
use crate::state::State;
use crate::status::{status_of_item, task_as_of};
use chrono::NaiveDate;
use serde::Serialize;

/// One cell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
    /// A date.
    Date(NaiveDate),
    /// Nothing.
    Empty,
}

impl Cell {
    /// As text (for CSV).
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.into())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<Option<NaiveDate>> for Cell {
    fn from(d: Option<NaiveDate>) -> Self {
        d.map_or(Cell::Empty, Cell::Date)
    }
}

/// One sheet: a name, Chinese headers and rows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sheet {
    /// Sheet name (≤ 31 characters, as Excel requires).
    pub name: &'static str,
    /// Column headers.
    pub headers: Vec<&'static str>,
    /// Rows, as long as the headers.
    pub rows: Vec<Vec<Cell>>,
}

fn num(n: impl Into<f64>) -> Cell {
    Cell::Number(n.into())
}

fn count(n: usize) -> Cell {
    Cell::Number(n as f64)
}

/// The ledger as of `as_of`: items, units, tasks, submissions, difficulties.
pub fn ledger(state: &State, as_of: NaiveDate) -> Vec<Sheet> {
    let unit_name = |u| state.unit(u).map_or_else(String::new, |u| u.name.clone());
    let names = |units: &[crate::ids::UnitId]| {
        units
            .iter()
            .map(|u| unit_name(*u))
            .collect::<Vec<_>>()
            .join("、")
    };
    let item_number = |i| state.item(i).map_or(0, |i| i.number);
    let items = state.items();
    // Every sheet is the plan as it stood at the end of `as_of`: the tasks created by then, as
    // they were then (`task_as_of`), the submissions as submitted and reviewed by then.
    let end = end_of_day(as_of);
    let live_tasks: Vec<crate::entity::Task> = state
        .tasks()
        .filter(|t| !t.archived)
        .filter_map(|t| task_as_of(t, end))
        .collect();

    let item_rows = items
        .iter()
        .map(|i| {
            let s = status_of_item(state, i.id, as_of);
            let tasks = live_tasks.iter().filter(|t| t.item == i.id).count();
            vec![
                num(i.number),
                i.title.as_str().into(),
                names(&i.lead_units).into(),
                names(&i.cooperating_units).into(),
                count(tasks),
                num(s.progress),
                count(s.overdue),
                s.light.zh().into(),
                s.reasons
                    .iter()
                    .map(|r| r.zh())
                    .collect::<Vec<_>>()
                    .join("；")
                    .into(),
            ]
        })
        .collect();

    // The plan's units and the members of its groups (a street office of 各街道办).
    let mut units: Vec<_> = state
        .units()
        .filter(|u| u.in_plan || !u.groups.is_empty())
        .collect();
    crate::sorting::sort_by(&mut units, |a, b| a.name.cmp(&b.name));
    let unit_rows = units
        .iter()
        .map(|u| {
            let numbers = |relation: Relation| -> Vec<String> {
                items
                    .iter()
                    .filter(|i| relation_of(u.id, &u.groups, i) == relation)
                    .map(|i| i.number.to_string())
                    .collect()
            };
            let lead = numbers(Relation::Lead);
            let coop = numbers(Relation::Cooperating);
            let owned = live_tasks.iter().filter(|t| t.owner == u.id);
            let (mut n, mut overdue) = (0, 0);
            for t in owned {
                n += 1;
                if crate::board::is_overdue(t.due, t.column, as_of) {
                    overdue += 1;
                }
            }
            vec![
                u.name.as_str().into(),
                u.aliases.join("、").into(),
                lead.join("、").into(),
                coop.join("、").into(),
                count(n),
                count(overdue),
            ]
        })
        .collect();

    let mut tasks: Vec<_> = live_tasks.iter().collect();
    crate::sorting::sort_by(&mut tasks, |a, b| {
        item_number(a.item)
            .cmp(&item_number(b.item))
            .then(a.column.cmp(&b.column))
            .then(a.sort_key.cmp(&b.sort_key))
    });
    let task_rows = tasks
        .iter()
        .map(|t| {
            let done = t.steps.iter().filter(|s| s.done).count();
            vec![
                num(item_number(t.item)),
                t.title.as_str().into(),
                unit_name(t.owner).into(),
                t.column.zh().into(),
                t.due.into(),
                num(t.progress),
                if crate::board::is_overdue(t.due, t.column, as_of) {
                    "是".into()
                } else {
                    "否".into()
                },
                t.blocked.clone().unwrap_or_default().into(),
                format!("{done}/{}", t.steps.len()).into(),
                crate::postponement::ledger_text(t, end).into(),
            ]
        })
        .collect();

    let cal = calendar(state);
    let mut sub_rows = Vec::new();
    for i in &items {
        for kind in required_kinds(state) {
            let due = cal.as_ref().map(|c| c.due(kind));
            let sub = submission(state, i.id, kind);
            let state_name = sub
                .and_then(|s| s.state_at(end))
                .map_or("未报送", |s| s.zh());
            let first = sub
                .and_then(|s| s.first_submitted())
                .filter(|at| *at <= end)
                .map(local_date);
            let late = match (first, due) {
                (Some(f), Some(d)) if f > d => format!("逾期{}天", (f - d).num_days()),
                (Some(_), _) => "按时".into(),
                (None, Some(d)) if d < as_of => format!("逾期{}天未报送", (as_of - d).num_days()),
                _ => String::new(),
            };
            sub_rows.push(vec![
                num(i.number),
                kind.zh().into(),
                names(&i.lead_units).into(),
                due.into(),
                first.into(),
                state_name.into(),
                count(sub.map_or(0, |s| {
                    s.versions.iter().filter(|v| v.submitted_at <= end).count()
                })),
                late.into(),
            ]);
        }
    }

    let mut diffs: Vec<_> = state
        .difficulties()
        .filter(|d| d.raised_at <= end)
        .collect();
    crate::sorting::sort_by_key(&mut diffs, |d| (item_number(d.item), d.raised_at));
    let diff_rows = diffs
        .iter()
        .map(|d| {
            vec![
                num(item_number(d.item)),
                d.title.as_str().into(),
                unit_name(d.unit).into(),
                Cell::Date(local_date(d.raised_at)),
                d.state_at(end).zh().into(),
                names(&d.assigned).into(),
                if d.state_at(end) == crate::difficulty::DifficultyState::Resolved {
                    d.resolution.clone().unwrap_or_default()
                } else {
                    String::new()
                }
                .into(),
            ]
        })
        .collect();

    vec![
        Sheet {
            name: "改革项目",
            headers: vec![
                "序号",
                "改革项目",
                "牵头单位",
                "配合单位",
                "任务数",
                "进度(%)",
                "逾期任务",
                "状态",
                "原因",
            ],
            rows: item_rows,
        },
        Sheet {
            name: "单位",
            headers: vec![
                "单位",
                "别称",
                "牵头项目",
                "配合项目",
                "承担任务",
                "逾期任务",
            ],
            rows: unit_rows,
        },
        Sheet {
            name: "任务",
            headers: vec![
                "项目序号",
                "任务",
                "承担单位",
                "状态",
                "完成时限",
                "进度(%)",
                "是否逾期",
                "受阻原因",
                "步骤",
                "延期申请",
            ],
            rows: task_rows,
        },
        Sheet {
            name: "报送材料",
            headers: vec![
                "项目序号",
                "材料",
                "牵头单位",
                "截止日期",
                "首次报送",
                "状态",
                "版本数",
                "是否按时",
            ],
            rows: sub_rows,
        },
        Sheet {
            name: "困难和问题",
            headers: vec![
                "项目序号",
                "问题",
                "反映单位",
                "反映日期",
                "状态",
                "协调单位",
                "解决情况",
            ],
            rows: diff_rows,
        },
    ]
}

/// The assessment as of `as_of`, with the formula in the last row.
pub fn assessment_sheet(state: &State, as_of: NaiveDate) -> Sheet {
    let mut rows: Vec<Vec<Cell>> = assess(state, as_of)
        .into_iter()
        .map(|s| {
            vec![
                count(s.rank),
                s.name.into(),
                count(s.submissions_on_time),
                count(s.submissions_due),
                count(s.tasks_on_time),
                count(s.tasks_due),
                s.evaluation.map_or(Cell::Empty, Cell::Number),
                count(s.stale_difficulties),
                num(s.base),
                num(-s.penalty),
                num(s.adjustment),
                num(s.total),
            ]
        })
        .collect();
    rows.push(vec![Cell::Text(format!(
        "截至{}。{FORMULA_ZH}",
        zh_date(as_of)
    ))]);
    Sheet {
        name: "勤政考核",
        headers: vec![
            "排名",
            "单位",
            "按时报送",
            "应报送",
            "按时完成任务",
            "到期任务",
            "评议均分",
            "超期未解决问题",
            "基础分",
            "扣分",
            "调整分",
            "得分",
        ],
        rows,
    }
}
