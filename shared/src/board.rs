//! Board vocabulary: the four columns every board has, sort keys, and the derived overdue flag.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A board column. The order of the variants is the order on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    /// 未启动
    NotStarted,
    /// 推进中
    InProgress,
    /// 待验收
    Review,
    /// 已完成
    Done,
}

impl Column {
    /// All columns, left to right.
    pub const ALL: [Column; 4] = [
        Column::NotStarted,
        Column::InProgress,
        Column::Review,
        Column::Done,
    ];

    /// The column's name in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Column::NotStarted => "未启动",
            Column::InProgress => "推进中",
            Column::Review => "待验收",
            Column::Done => "已完成",
        }
    }

    /// The column's name in English.
    pub fn en(self) -> &'static str {
        match self {
            Column::NotStarted => "Not started",
            Column::InProgress => "In progress",
            Column::Review => "Awaiting acceptance",
            Column::Done => "Done",
        }
    }

    /// Stable identifier used in URLs and the DOM.
    pub fn slug(self) -> &'static str {
        match self {
            Column::NotStarted => "not_started",
            Column::InProgress => "in_progress",
            Column::Review => "review",
            Column::Done => "done",
        }
    }

    /// The column with this slug.
    pub fn from_slug(s: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.slug() == s)
    }
}

/// Overdue is derived, never stored: a due date in the past on a card that is not done.
pub fn is_overdue(due: Option<NaiveDate>, column: Column, today: NaiveDate) -> bool {
    column != Column::Done && due.is_some_and(|d| d < today)
}

/// Fractional-index sort keys: a move changes one card's key and nothing else.
pub mod sort_key {
    use fractional_index::FractionalIndex;

    /// Longest key accepted from a client; a pathological sequence of inserts at one spot grows
    /// keys by about a byte per insert, and this bound keeps rows small.
    pub const MAX_LEN: usize = 256;

    /// A key that sorts strictly between `before` and `after` (either may be absent).
    /// Invalid neighbour keys are treated as absent, so a corrupt key can't block a move.
    pub fn between(before: Option<&str>, after: Option<&str>) -> String {
        let before = before
            .filter(|k| is_valid(k))
            .and_then(|k| FractionalIndex::from_string(k).ok());
        let after = after
            .filter(|k| is_valid(k))
            .and_then(|k| FractionalIndex::from_string(k).ok());
        let key = match (&before, &after) {
            (None, None) => FractionalIndex::default(),
            (Some(b), None) => FractionalIndex::new_after(b),
            (None, Some(a)) => FractionalIndex::new_before(a),
            (Some(b), Some(a)) => {
                FractionalIndex::new_between(b, a).unwrap_or_else(|| FractionalIndex::new_after(b))
            }
        };
        key.to_string()
    }

    /// Whether `key` is a well-formed key (lower-case hex of whole bytes, bounded length).
    pub fn is_valid(key: &str) -> bool {
        !key.is_empty()
            && key.len() <= MAX_LEN
            && key.len().is_multiple_of(2)
            && key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            // The crate's encoding ends every key with its terminator byte 0x80.
            && key.ends_with("80")
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn keys_sort_as_strings() {
            let a = between(None, None);
            let b = between(Some(&a), None);
            let c = between(Some(&a), Some(&b));
            let z = between(None, Some(&a));
            assert!(z < a && a < c && c < b, "{z} {a} {c} {b}");
            for k in [&a, &b, &c, &z] {
                assert!(is_valid(k), "{k}");
            }
        }

        #[test]
        fn repeated_inserts_stay_ordered() {
            let mut lo = between(None, None);
            let hi = between(Some(&lo), None);
            for _ in 0..50 {
                let mid = between(Some(&lo), Some(&hi));
                assert!(lo < mid && mid < hi);
                lo = mid;
            }
        }
    }
}

/// The sort key for `moving` dropped into `column` of `item` right after the card `before`
/// (with none, right before `after`; with neither, last). The neighbours are the ones the user
/// saw, but the key is bounded by the column's whole order — every live card of the item there,
/// the ones this board filters out or another unit owns included — so it never lands on a
/// hidden card's key, and never between two cards that share one (a card goes after both).
pub fn key_between(
    state: &crate::state::State,
    item: crate::ids::ItemId,
    column: Column,
    moving: crate::ids::TaskId,
    before: Option<crate::ids::TaskId>,
    after: Option<crate::ids::TaskId>,
) -> String {
    let mut keys: Vec<&str> = state
        .tasks()
        .filter(|t| t.item == item && t.column == column && !t.archived && t.id != moving)
        .map(|t| t.sort_key.as_str())
        .collect();
    crate::sorting::sort(&mut keys);
    let key_of = |id: Option<crate::ids::TaskId>| {
        id.and_then(|id| state.task(id))
            .map(|t| t.sort_key.as_str())
    };
    let (low, high) = match (key_of(before), key_of(after)) {
        (Some(b), _) => (Some(b), keys.iter().copied().find(|k| *k > b)),
        (None, Some(a)) => (keys.iter().copied().rev().find(|k| *k < a), Some(a)),
        (None, None) => (keys.last().copied(), None),
    };
    sort_key::between(low, high)
}

/// A date as Chinese documents write it: 2014年3月31日.
pub fn zh_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// A date in English: 31 Mar 2014.
pub fn en_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{} {} {}", d.day(), month_abbr(d), d.year())
}

/// The English short name of `d`'s month (Mar). Written out rather than through chrono's
/// `format`, whose parser of format strings would otherwise be in the wasm every phone loads.
pub fn month_abbr(d: NaiveDate) -> &'static str {
    use chrono::Datelike;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    MONTHS[d.month0() as usize % 12]
}
