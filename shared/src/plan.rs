//! The plan as issued: title, issuers, items and the rules for running it.
//!
//! These types hold what the document says, read by [`crate::plan_text::parse`]; unit names in
//! them are the canonical names of the plan's unit directory ([`crate::unit`]).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A reform plan document (改革计划), as read from its text.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Plan {
    /// Title, e.g. 盐田区2014年重点改革计划.
    pub title: String,
    /// Issuing offices, in the order the document lists them.
    pub issuers: Vec<String>,
    /// Date of issue.
    pub issue_date: Option<NaiveDate>,
    /// Text between the title and the first section or item.
    pub preamble: String,
    /// Sections (一、… 二、…) in document order, including those that hold the items.
    pub sections: Vec<Section>,
    /// The reform items (改革项目).
    pub items: Vec<ReformItem>,
    /// The rules for running the plan: the paragraphs of the section(s) after the items.
    pub requirements: Vec<String>,
    /// Deadlines the requirements set.
    pub deadlines: Deadlines,
}

/// A numbered section of the document, e.g. "一、指导思想和改革目标".
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Section {
    /// The heading line as written, number included.
    pub heading: String,
    /// The section's paragraphs that are not part of an item.
    pub body: Vec<String>,
}

/// One reform item (改革项目) with the units responsible for it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ReformItem {
    /// Number in the plan (unique within the plan).
    pub number: u32,
    /// The text up to the first 。
    pub title: String,
    /// The full item text without its number and without the unit line.
    pub body: String,
    /// Lead units (牵头), canonical names.
    pub lead_units: Vec<String>,
    /// Cooperating units (配合), canonical names.
    pub cooperating_units: Vec<String>,
    /// Leaders named as leading it (牵头区领导 and the like).
    pub lead_leaders: Vec<String>,
    /// Heading of the section the item is in.
    pub section: Option<String>,
    /// 1-based line of the document where the item starts.
    pub line: usize,
}

/// Deadlines set by the plan's requirements.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Deadlines {
    /// When the lead units' work plans (工作方案) are due.
    pub work_plan: Option<NaiveDate>,
    /// Whether a half-year report (半年) is required.
    pub half_year_report: bool,
    /// Whether an annual report (全年 / 年度) is required.
    pub annual_report: bool,
}

impl Plan {
    /// The year the plan is for: the first year in its title, else the year it was issued.
    pub fn year(&self) -> Option<i32> {
        year_in(&self.title).or_else(|| self.issue_date.map(|d| d.year()))
    }

    /// The item with this number.
    pub fn item(&self, number: u32) -> Option<&ReformItem> {
        self.items.iter().find(|item| item.number == number)
    }
}

impl ReformItem {
    /// Whether the unit (canonical name) leads or cooperates on this item.
    pub fn involves(&self, unit: &str) -> bool {
        self.lead_units
            .iter()
            .chain(&self.cooperating_units)
            .any(|u| u == unit)
    }
}

/// The first "NNNN年" in `text`.
pub(crate) fn year_in(text: &str) -> Option<i32> {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(5).find_map(|w| {
        if w[4] != '年' || !w[..4].iter().all(char::is_ascii_digit) {
            return None;
        }
        let year: String = w[..4].iter().collect();
        year.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_comes_from_the_title_first() {
        let plan = Plan {
            title: "盐田区2014年重点改革计划".into(),
            issuers: vec![],
            issue_date: NaiveDate::from_ymd_opt(2013, 12, 30),
            preamble: String::new(),
            sections: vec![],
            items: vec![],
            requirements: vec![],
            deadlines: Deadlines::default(),
        };
        assert_eq!(plan.year(), Some(2014));
        let untitled = Plan {
            title: "重点改革计划".into(),
            ..plan
        };
        assert_eq!(untitled.year(), Some(2013));
    }

    #[test]
    fn year_in_needs_four_digits_before_nian() {
        assert_eq!(year_in("14年"), None);
        assert_eq!(year_in("深圳市2015年改革要点"), Some(2015));
        assert_eq!(year_in(""), None);
    }
}
