//! Unit lines: who leads an item and who cooperates on it.
//!
//! Plans write this in several ways, all handled by one clause parser:
//! - `（X、Y牵头，Z配合）` — roles as suffixes, in parentheses, usually on a line of its own;
//! - `牵头单位：X；配合单位：Y`, `责任单位：X`, `参与单位：Y`, `牵头区领导：张三` — labels;
//! - `责任单位：X（牵头）、Y` — one unit marked as lead among the responsible ones;
//! - `X、Y等部门配合` — the 等部门 suffix closes a list and is no part of a name.

use super::scan::{depth_delta, is_part_heading, marker, matching_open, split_top};
use crate::unit::{UnitName, is_blank};

/// What a unit (or leader) does for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Lead,
    Cooperate,
    Leader,
}

/// The units and leaders one unit line names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UnitSpec {
    pub lead: Vec<UnitName>,
    pub cooperate: Vec<UnitName>,
    pub leaders: Vec<String>,
    /// Text that could not be read as a unit, for warnings.
    pub problems: Vec<String>,
}

impl UnitSpec {
    fn names_someone(&self) -> bool {
        !self.lead.is_empty() || !self.cooperate.is_empty() || !self.leaders.is_empty()
    }

    fn all_names(&self) -> impl Iterator<Item = &UnitName> {
        self.lead.iter().chain(&self.cooperate)
    }

    /// Adds another unit line of the same item.
    pub fn merge(&mut self, other: UnitSpec) {
        self.lead.extend(other.lead);
        self.cooperate.extend(other.cooperate);
        self.leaders.extend(other.leaders);
        self.problems.extend(other.problems);
    }
}

/// Role suffixes, longest first so 牵头负责 is not read as 牵头 after a name ending in 负.
const LEAD_SUFFIXES: [&str; 8] = [
    "为牵头单位",
    "牵头单位",
    "牵头负责",
    "牵头落实",
    "牵头",
    "负责",
    "主责",
    "主办",
];
const COOPERATE_SUFFIXES: [&str; 9] = [
    "为配合单位",
    "配合单位",
    "协助配合",
    "共同配合",
    "配合",
    "协办",
    "参与",
    "协助",
    "协同",
];

/// Words that close a list of units without naming one.
const LIST_ENDINGS: [&str; 7] = [
    "等有关部门",
    "等相关部门",
    "等有关单位",
    "等相关单位",
    "等部门",
    "等单位",
    "等",
];

/// Answers that mean "nobody" in a labelled line.
const NOBODY: [&str; 4] = ["无", "暂无", "略", "/"];

/// The role a label names: 牵头单位, 责任单位, 配合单位, 参与单位, 协办单位, 牵头区领导…
///
/// A label starts with its role word and ends with what it lists (单位, 领导…), so prose such as
/// 明确责任单位 is not taken for one.
pub(crate) fn label_role(label: &str) -> Option<Role> {
    const LEAD: [&str; 6] = ["牵头", "责任", "主责", "负责", "主办", "主抓"];
    const COOPERATE: [&str; 7] = ["配合", "参与", "协办", "协助", "协同", "协作", "会同"];
    const LEADER_ONLY: [&str; 4] = ["分管", "联系", "挂点", "挂钩"];
    const LISTS: [&str; 6] = ["单位", "部门", "领导", "处室", "机构", "人"];
    // Brackets, bullets and dashes around a label (【牵头单位】, ◆牵头单位, ——牵头单位).
    let label = label.trim_matches(|c: char| !c.is_alphanumeric());
    let label = label
        .strip_prefix("主要")
        .or_else(|| label.strip_prefix("其他"))
        .unwrap_or(label);
    if label.is_empty() || label.chars().count() > 10 {
        return None;
    }
    let starts = |words: &[&'static str]| words.iter().find(|w| label.starts_with(**w)).copied();
    let word = starts(&LEAD)
        .or_else(|| starts(&COOPERATE))
        .or_else(|| starts(&LEADER_ONLY))?;
    if label != word && !LISTS.iter().any(|e| label.ends_with(e)) {
        return None;
    }
    if label.contains("领导") || label.ends_with('人') {
        Some(Role::Leader)
    } else if LEAD.contains(&word) {
        Some(Role::Lead)
    } else if COOPERATE.contains(&word) {
        Some(Role::Cooperate)
    } else {
        None
    }
}

/// A piece that is a label on its own (牵头单位 followed by a space, not a colon).
fn bare_label_role(piece: &str) -> Option<Role> {
    let looks_like_label = ["单位", "部门", "领导", "处室"]
        .iter()
        .any(|e| piece.ends_with(e))
        && !piece.starts_with('为');
    if looks_like_label {
        label_role(piece)
    } else {
        None
    }
}

fn strip_role_suffix(piece: &str) -> (&str, Option<Role>) {
    for suffix in LEAD_SUFFIXES {
        if let Some(name) = piece.strip_suffix(suffix) {
            return (name, Some(Role::Lead));
        }
    }
    for suffix in COOPERATE_SUFFIXES {
        if let Some(name) = piece.strip_suffix(suffix) {
            return (name, Some(Role::Cooperate));
        }
    }
    (piece, None)
}

/// A role mark in parentheses after a name: 区发改局（牵头）.
fn strip_role_mark(name: &str) -> (&str, Option<Role>) {
    let trimmed = name.trim_end_matches(is_blank);
    if !trimmed.ends_with([')', '）']) {
        return (name, None);
    }
    let Some(open) = matching_open(trimmed) else {
        return (name, None);
    };
    let inner = trimmed.get(open..).unwrap_or("");
    let inner = inner
        .trim_start_matches(['(', '（'])
        .trim_end_matches([')', '）'])
        .trim_matches(is_blank);
    let role = match strip_role_suffix(inner) {
        ("", Some(role)) => Some(role),
        _ => label_role(inner).filter(|r| *r != Role::Leader),
    };
    match role {
        Some(role) => (trimmed.get(..open).unwrap_or(""), Some(role)),
        None => (name, None),
    }
}

/// Removes what surrounds a name in a list: 由…, …等部门, …分别 / …共同.
fn clean_name(name: &str) -> &str {
    let mut name = name.trim_matches(is_blank);
    name = name.strip_prefix('由').unwrap_or(name);
    for ending in ["分别", "共同", "具体"] {
        name = name.strip_suffix(ending).unwrap_or(name);
    }
    for ending in LIST_ENDINGS {
        if let Some(stripped) = name.strip_suffix(ending) {
            name = stripped;
            break;
        }
    }
    name.trim_matches(is_blank)
}

/// One piece of a list, and whether only whitespace separated it from the one before.
struct Piece<'a> {
    text: &'a str,
    after_space: bool,
}

/// Splits a clause into list pieces at 、，, and whitespace outside brackets.
fn pieces(clause: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let mut only_space = false;
    for (i, c) in clause.char_indices() {
        depth = (depth + depth_delta(c)).max(0);
        let list_sep = matches!(c, '、' | '，' | ',');
        if depth == 0 && (list_sep || is_blank(c)) {
            let text = clause.get(start..i).unwrap_or("");
            if !text.is_empty() {
                out.push(Piece {
                    text,
                    after_space: only_space,
                });
                only_space = true;
            }
            if list_sep {
                only_space = false;
            }
            start = i + c.len_utf8();
        }
    }
    let text = clause.get(start..).unwrap_or("");
    if !text.is_empty() {
        out.push(Piece {
            text,
            after_space: only_space,
        });
    }
    if let Some(first) = out.first_mut() {
        first.after_space = false;
    }
    out
}

/// Splits `label：rest` (or `【label】rest`) at its first top-level colon.
fn split_label(piece: &str) -> Option<(&str, &str)> {
    if let Some(inner) = piece.strip_prefix('【')
        && let Some(end) = inner.find('】')
    {
        return Some((inner.get(..end)?, inner.get(end + '】'.len_utf8()..)?));
    }
    let mut depth = 0i32;
    for (i, c) in piece.char_indices() {
        depth = (depth + depth_delta(c)).max(0);
        if depth == 0 && matches!(c, ':' | '：') {
            return Some((piece.get(..i)?, piece.get(i + c.len_utf8()..)?));
        }
    }
    None
}

/// Reads the text of a unit line (without its surrounding parentheses).
pub(crate) fn parse_spec(text: &str) -> UnitSpec {
    let mut spec = UnitSpec::default();
    for clause in split_top(text, |c| matches!(c, '；' | ';' | '。')) {
        parse_clause(clause, &mut spec);
    }
    spec
}

/// What the current label says about the pieces after it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Labelled {
    None,
    Role(Role),
    /// A label that names no role (完成时限：…): its pieces are skipped.
    Ignored,
}

fn parse_clause(clause: &str, spec: &mut UnitSpec) {
    let mut label = Labelled::None;
    // Names waiting for the role suffix that ends their list (X、Y牵头).
    let mut pending: Vec<&str> = Vec::new();
    // Pieces under a label, with the role mark each carries: resolved when the label ends.
    let mut under_label: Vec<(&str, Option<Role>)> = Vec::new();
    let mut label_role_now = Role::Lead;
    let mut previous_leader_piece: Option<usize> = None;
    for piece in pieces(clause) {
        let mut text = piece.text;
        let new_label = match split_label(text) {
            Some((lab, rest)) => {
                text = rest;
                Some(label_role(lab).map_or(Labelled::Ignored, Labelled::Role))
            }
            None => bare_label_role(text).map(|role| {
                text = "";
                Labelled::Role(role)
            }),
        };
        if let Some(new_label) = new_label {
            flush_label(&mut under_label, label_role_now, spec);
            flush_pending(&mut pending, spec);
            label = new_label;
            if let Labelled::Role(role) = new_label {
                label_role_now = role;
            }
            previous_leader_piece = None;
            if text.trim_matches(is_blank).is_empty() {
                continue;
            }
        }
        match label {
            Labelled::Ignored => continue,
            Labelled::Role(Role::Leader) => {
                add_leader(text, piece.after_space, &mut previous_leader_piece, spec);
                continue;
            }
            _ => {}
        }
        let (name, suffix_role) = strip_role_suffix(text.trim_matches(is_blank));
        let (name, mark) = strip_role_mark(name);
        let name = clean_name(name);
        if let Some(role) = suffix_role {
            pending.push(name);
            for name in pending.drain(..) {
                assign(name, role, spec);
            }
        } else if let Labelled::Role(_) = label {
            under_label.push((name, mark));
        } else if let Some(role) = mark {
            assign(name, role, spec);
        } else {
            pending.push(name);
        }
    }
    flush_label(&mut under_label, label_role_now, spec);
    flush_pending(&mut pending, spec);
}

/// Under 责任单位, a unit marked （牵头） leads and the others cooperate; with no mark they all
/// take the label's role.
fn flush_label(under_label: &mut Vec<(&str, Option<Role>)>, role: Role, spec: &mut UnitSpec) {
    let any_lead_mark = under_label
        .iter()
        .any(|(_, mark)| *mark == Some(Role::Lead));
    for (name, mark) in under_label.drain(..) {
        let role = match mark {
            Some(mark) => mark,
            None if any_lead_mark && role == Role::Lead => Role::Cooperate,
            None => role,
        };
        assign(name, role, spec);
    }
}

fn flush_pending(pending: &mut Vec<&str>, spec: &mut UnitSpec) {
    for name in pending.drain(..) {
        if !name.is_empty() {
            spec.problems
                .push(format!("no role (牵头/配合) for {name:?}"));
        }
    }
}

fn assign(name: &str, role: Role, spec: &mut UnitSpec) {
    if name.is_empty() || NOBODY.contains(&name) {
        return;
    }
    match UnitName::parse(name) {
        Ok(unit) => match role {
            Role::Lead => spec.lead.push(unit),
            Role::Cooperate => spec.cooperate.push(unit),
            Role::Leader => spec.leaders.push(unit.as_str().to_owned()),
        },
        Err(err) => spec.problems.push(err.to_string()),
    }
}

/// Leaders' names are sometimes padded to align (王  伟): single characters split only by
/// spaces are one name.
fn add_leader(text: &str, after_space: bool, previous: &mut Option<usize>, spec: &mut UnitSpec) {
    let name = text.trim_matches(is_blank);
    if name.is_empty() || NOBODY.contains(&name) {
        return;
    }
    let single = name.chars().count() == 1;
    if after_space
        && let Some(at) = *previous
        && let Some(prev) = spec.leaders.get_mut(at)
        && (single || prev.chars().count() == 1)
    {
        prev.push_str(name);
        *previous = if single { None } else { Some(at) };
        return;
    }
    if name.chars().count() > 20 || name.contains(['。', '：', ':']) {
        spec.problems.push(format!("not a leader's name: {name:?}"));
        return;
    }
    spec.leaders.push(name.to_owned());
    *previous = Some(spec.leaders.len() - 1);
}

/// Endings of unit names, to tell a bare unit line (区发改局牵头，区财政局配合) from prose that
/// happens to end in 配合.
fn looks_like_unit(name: &str) -> bool {
    const ENDINGS: &str = "局 办 委 部 院 会 所 处 室 厅 中心 公司 街道 集团 单位 企业 站 队 科 组 庭 \
                           馆 团 校 园 行 联 社 署 台 府 宫 司 厂 场 关 监 区";
    let base = name
        .split(['〈', '<', '＜', '(', '（'])
        .next()
        .unwrap_or(name);
    ENDINGS.split_whitespace().any(|e| base.ends_with(e))
}

/// Where in a line a unit line starts, and what it says.
pub(crate) struct Found {
    /// Byte offset where the unit line starts; the text before it is item text.
    pub start: usize,
    pub spec: UnitSpec,
}

/// Characters that may precede a label: a label starts a clause.
fn is_boundary(c: char) -> bool {
    is_blank(c)
        || matches!(
            c,
            '。' | '；' | ';' | '，' | ',' | '、' | '(' | '（' | '【' | '['
        )
}

/// Finds the unit line in `line`: the whole line or its end. `prose_allowed` is false for lines
/// that carry an item's number, whose text is never a bare unit list.
pub(crate) fn find(line: &str, prose_allowed: bool) -> Option<Found> {
    let trimmed = line.trim_end_matches(|c: char| {
        is_blank(c) || matches!(c, '。' | '；' | ';' | '.' | '，' | ',')
    });
    // （X牵头，Y配合） at the end of the line.
    if trimmed.ends_with([')', '）'])
        && let Some(open) = matching_open(trimmed)
    {
        let spec = parse_spec(strip_outer_parens(trimmed.get(open..).unwrap_or("")));
        if spec.names_someone() {
            return Some(Found { start: open, spec });
        }
    }
    // 牵头单位：X；配合单位：Y, alone or after the item's text.
    if let Some(found) = find_label(trimmed) {
        return Some(found);
    }
    // X牵头，Y配合 with no brackets (or with one of them lost): only when it reads as nothing but
    // unit names, since prose ends in 配合 too.
    if prose_allowed && trimmed.chars().count() <= 400 {
        let bare = trimmed
            .trim_start_matches(['(', '（'])
            .trim_end_matches([')', '）']);
        if !bare.contains('。') {
            let spec = parse_spec(bare);
            if spec.names_someone()
                && spec.problems.is_empty()
                && spec.all_names().all(|n| looks_like_unit(n.as_str()))
            {
                return Some(Found { start: 0, spec });
            }
        }
    }
    None
}

/// Whether a unit line goes on in the next line, as it does when a long line was wrapped: a
/// parenthesis around units left open (（区发改局牵头，区财政局、), or a labelled list that ends
/// in a separator (配合单位：区财政局、).
pub(crate) fn wraps(line: &str) -> bool {
    const ROLE_WORDS: [&str; 7] = ["牵头", "配合", "负责", "单位", "协办", "参与", "领导"];
    let line = line.trim_end_matches(is_blank);
    let mut unclosed: Vec<usize> = Vec::new();
    for (i, c) in line.char_indices() {
        match c {
            '(' | '（' => unclosed.push(i),
            ')' | '）' => {
                unclosed.pop();
            }
            _ => {}
        }
    }
    if let Some(&open) = unclosed.first() {
        let tail = line.get(open..).unwrap_or("");
        return ROLE_WORDS.iter().any(|w| tail.contains(w));
    }
    line.ends_with(['、', '，', ',']) && find_label(line).is_some()
}

/// Whether a line can be the rest of a wrapped unit line: no number, no sentence, and no label
/// but a role label.
pub(crate) fn may_continue(line: &str) -> bool {
    let has_colon = line.contains(['：', ':']);
    marker(line).is_none()
        && !is_part_heading(line)
        && !line.trim_end_matches(['。', '.']).contains('。')
        && (!has_colon || find_label(line).is_some())
}

fn strip_outer_parens(inner: &str) -> &str {
    let mut chars = inner.chars();
    chars.next();
    chars.next_back();
    chars.as_str()
}

/// The first label at a clause boundary, and the unit line from there to the end.
fn find_label(line: &str) -> Option<Found> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    for (pos, &(_, c)) in chars.iter().enumerate() {
        if !matches!(c, ':' | '：' | '】') {
            continue;
        }
        // Walk back over the label, at most 10 characters, to the clause boundary before it.
        let mut start = pos;
        while start > 0 && pos - start < 11 {
            let Some(&(_, prev)) = chars.get(start - 1) else {
                break;
            };
            if is_boundary(prev) {
                break;
            }
            start -= 1;
        }
        let at_boundary = start == 0 || chars.get(start - 1).is_some_and(|&(_, p)| is_boundary(p));
        let label_start = chars.get(start).map_or(0, |&(i, _)| i);
        let colon_at = chars.get(pos).map_or(0, |&(i, _)| i);
        let label = line.get(label_start..colon_at).unwrap_or("");
        if !at_boundary || label_role(label).is_none() {
            continue;
        }
        // A label inside （…） or 【…】 takes the bracket with it, and the closing one at the end
        // goes too.
        let mut begin = label_start;
        let mut text = line.get(label_start..).unwrap_or("");
        if start > 0
            && let Some(&(open_at, open)) = chars.get(start - 1)
            && matches!(open, '(' | '（' | '【' | '[')
        {
            begin = open_at;
            text = if c == '】' {
                // 【牵头单位】区发改局: the brackets are the label's own.
                line.get(open_at..).unwrap_or("")
            } else {
                text.strip_suffix([')', '）', '】', ']']).unwrap_or(text)
            };
        }
        // A label makes a unit line even when it names nobody (配合单位：无).
        return Some(Found {
            start: begin,
            spec: parse_spec(text),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[UnitName]) -> Vec<&str> {
        v.iter().map(UnitName::as_str).collect()
    }

    #[test]
    fn suffix_roles_apply_to_the_list_before_them() {
        let spec = parse_spec(
            "区委〈府〉办、区委组织部〈编办〉牵头,区纪委〈监察局〉、区经促局、盐田市场监管分局配合",
        );
        assert_eq!(names(&spec.lead), ["区委〈府〉办", "区委组织部〈编办〉"]);
        assert_eq!(
            names(&spec.cooperate),
            ["区纪委〈监察局〉", "区经促局", "盐田市场监管分局"]
        );
        assert!(spec.problems.is_empty());
    }

    #[test]
    fn labels_and_leaders() {
        let spec = parse_spec(
            "牵头区领导：王  伟、李明；牵头单位：区发改局；配合单位：区财政局，区审计局等部门",
        );
        assert_eq!(spec.leaders, ["王伟", "李明"]);
        assert_eq!(names(&spec.lead), ["区发改局"]);
        assert_eq!(names(&spec.cooperate), ["区财政局", "区审计局"]);
        let spec = parse_spec("牵头单位 区发改局  配合单位 区财政局");
        assert_eq!(names(&spec.lead), ["区发改局"]);
        assert_eq!(names(&spec.cooperate), ["区财政局"]);
        let spec = parse_spec("牵头领导：张三 李四");
        assert_eq!(spec.leaders, ["张三", "李四"]);
    }

    #[test]
    fn responsible_units_with_a_lead_mark() {
        let spec = parse_spec("责任单位：区发改局（牵头）、区财政局、区审计局");
        assert_eq!(names(&spec.lead), ["区发改局"]);
        assert_eq!(names(&spec.cooperate), ["区财政局", "区审计局"]);
        let spec = parse_spec("责任单位：区发改局、区财政局；参与单位：各街道办");
        assert_eq!(names(&spec.lead), ["区发改局", "区财政局"]);
        assert_eq!(names(&spec.cooperate), ["各街道办"]);
    }

    #[test]
    fn list_endings_and_unknown_labels() {
        let spec = parse_spec("区发改局牵头，区财政局、区审计局等部门配合；完成时限：2015年6月底");
        assert_eq!(names(&spec.cooperate), ["区财政局", "区审计局"]);
        assert!(spec.problems.is_empty());
        let spec = parse_spec("协办单位：无");
        assert!(spec.cooperate.is_empty() && spec.problems.is_empty());
        assert!(find("配合单位：无", true).is_some());
    }

    #[test]
    fn wrapped_unit_lines() {
        assert!(wraps("（区委〈府〉办牵头，区纪委〈监察局〉、"));
        assert!(wraps("1.推进改革。（牵头单位：区发改局；"));
        assert!(wraps("配合单位：区财政局、区审计局、"));
        assert!(!wraps(
            "（区委〈府〉办牵头，区纪委〈监察局〉、区经促局配合）"
        ));
        assert!(!wraps("按照建设“公共信息资源库(以下简称“一库一队伍,"));
        assert!(!wraps("各单位要积极配合，"));
        assert!(may_continue("区经促局配合）"));
        assert!(may_continue("配合单位：区财政局）。"));
        assert!(!may_continue("主要内容：推进改革。"));
        assert!(!may_continue("2.推进改革"));
    }

    #[test]
    fn find_in_lines() {
        let found = find("(区法院牵头,区委组织部〈编办〉配合)", true).expect("unit line");
        assert_eq!(found.start, 0);
        let line = "1.推进改革。加快建设。（区发改局牵头）";
        let found = find(line, false).expect("trailing unit line");
        assert_eq!(&line[..found.start], "1.推进改革。加快建设。");
        let line = "推进改革。责任单位：区发改局；参与单位：区财政局。";
        let found = find(line, false).expect("labelled");
        assert_eq!(&line[..found.start], "推进改革。");
        assert_eq!(names(&found.spec.cooperate), ["区财政局"]);
        assert!(find("以区妇幼保健院(计生中心)为试点", true).is_none());
        assert!(find("选择5家公司试点（不含6亩）。", true).is_none());
        assert!(find("各单位要积极配合", true).is_none());
        assert!(find("明确责任单位：区发改局", true).is_none());
        let found = find("区发改局牵头，区财政局配合", true).expect("bare");
        assert_eq!(names(&found.spec.lead), ["区发改局"]);
        assert!(find("区发改局牵头，区财政局配合", false).is_none());
        let found = find("（牵头单位：区发改局；配合单位：区财政局", true).expect("unclosed");
        assert_eq!(names(&found.spec.cooperate), ["区财政局"]);
        let found = find("【牵头单位：区发改局；配合单位：区财政局】", true).expect("in 【】");
        assert_eq!(names(&found.spec.cooperate), ["区财政局"]);
        assert!(found.spec.problems.is_empty());
        assert!(find("◆牵头单位：区发改局", true).is_some());
        let found = find("【牵头单位】区发改局", true).expect("label in 【】");
        assert_eq!(
            (found.start, names(&found.spec.lead)),
            (0, vec!["区发改局"])
        );
    }
}
