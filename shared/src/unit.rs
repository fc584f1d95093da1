//! Units (单位) and the directory that folds their short and long names into one.
//!
//! A plan names the same unit in several ways: 区纪委 and 区纪委〈监察局〉, 卫计局 and 区卫计局,
//! 区委组织部 and 区委组织部〈编办〉. The rule that says two names are one unit is [`normalize`]
//! (plus the second name that 〈〉 marks); [`UnitDirectory`] applies it and keeps the fullest
//! form as the canonical name, the others as aliases.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Units that hold accounts but are not named by the plan: the reform office.
pub const OFFICE_UNIT: &str = "区全面深化改革工作领导小组综合办公室";
/// The district leaders' unit.
pub const LEADERS_UNIT: &str = "区领导";
/// The district People's Congress.
pub const NPC_UNIT: &str = "区人大";
/// The district CPPCC.
pub const CPPCC_UNIT: &str = "区政协";
/// All four: the bodies that run, lead and supervise the plan, never members of a group.
pub const BUILTIN_UNITS: [&str; 4] = [OFFICE_UNIT, LEADERS_UNIT, NPC_UNIT, CPPCC_UNIT];

/// The role every account of the unit named `unit_name` has: the built-in units' own, a
/// participating unit's staff's otherwise. The one rule pairing roles with units: the server
/// refuses any other pair and the accounts page offers only this one. (An account of the
/// People's Congress's role in 区发改局 could have scored the items 区发改局 leads, a part of
/// its own assessment; an office account in a unit would have been the office under its name.)
pub fn role_of_unit(unit_name: &str) -> crate::actor::Role {
    use crate::actor::Role;
    match unit_name {
        OFFICE_UNIT => Role::Office,
        LEADERS_UNIT => Role::Leader,
        NPC_UNIT | CPPCC_UNIT => Role::Supervisor,
        _ => Role::Unit,
    }
}

/// Whether a unit is one department or stands for a group of units.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    /// One department or office, e.g. 区发改局.
    Department,
    /// A group of units, e.g. 各街道办, 区属各企业, …领导小组各成员单位.
    Group,
}

impl UnitKind {
    /// The kind a unit name denotes: names that speak of "each" (各), of members (成员单位) or of
    /// "the units concerned" (有关/相关) stand for several units.
    pub fn of(name: &str) -> UnitKind {
        let group = name.contains('各')
            || name.ends_with("成员单位")
            || name.contains("有关")
            || name.contains("相关");
        if group {
            UnitKind::Group
        } else {
            UnitKind::Department
        }
    }
}

/// One unit of a plan: its canonical name, the other names the plan uses, and its kind.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct UnitEntry {
    /// Canonical name: the fullest form the plan uses.
    pub name: String,
    /// Other forms the plan uses for the same unit, in order of first use.
    pub aliases: Vec<String>,
    /// Department or group.
    pub kind: UnitKind,
}

impl UnitEntry {
    /// The canonical name followed by the aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// Longest unit name accepted; real names are far shorter, so longer text is prose.
pub const MAX_UNIT_NAME_CHARS: usize = 40;

/// A unit name that passed validation: trimmed, 2..=40 characters, no whitespace, no list or
/// sentence punctuation, brackets balanced.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitName(String);

/// Why a string is not a unit name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitNameError {
    /// Nothing left after trimming.
    #[error("unit name is empty")]
    Empty,
    /// A single character names no unit.
    #[error("unit name {0:?} is too short")]
    TooShort(String),
    /// Longer than [`MAX_UNIT_NAME_CHARS`].
    #[error("unit name is longer than {MAX_UNIT_NAME_CHARS} characters")]
    TooLong,
    /// Contains whitespace, a control character or punctuation that separates names.
    #[error("unit name {name:?} contains {ch:?}")]
    Forbidden {
        /// The name as given.
        name: String,
        /// The offending character.
        ch: char,
    },
    /// An opening bracket without its closing one, or the reverse.
    #[error("unit name {0:?} has unbalanced brackets")]
    Unbalanced(String),
}

impl UnitName {
    /// Validates `text` (after trimming) as a unit name.
    ///
    /// # Errors
    /// When the trimmed text breaks one of the rules in [`UnitName`]'s description.
    pub fn parse(text: &str) -> Result<UnitName, UnitNameError> {
        let name = text.trim_matches(is_blank);
        if name.is_empty() {
            return Err(UnitNameError::Empty);
        }
        let len = name.chars().count();
        if len < 2 {
            return Err(UnitNameError::TooShort(name.to_owned()));
        }
        if len > MAX_UNIT_NAME_CHARS {
            return Err(UnitNameError::TooLong);
        }
        if let Some(ch) = name
            .chars()
            .find(|&c| is_blank(c) || c.is_control() || is_forbidden(c))
        {
            return Err(UnitNameError::Forbidden {
                name: name.to_owned(),
                ch,
            });
        }
        if !brackets_balanced(name) {
            return Err(UnitNameError::Unbalanced(name.to_owned()));
        }
        Ok(UnitName(name.to_owned()))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for UnitName {
    type Error = UnitNameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        UnitName::parse(&value)
    }
}

impl From<UnitName> for String {
    fn from(value: UnitName) -> Self {
        value.0
    }
}

/// Whitespace, including the ideographic space and the zero-width characters that word
/// processors leave behind.
pub(crate) fn is_blank(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{FEFF}')
}

/// Characters that separate names or end sentences, so never occur inside one name.
fn is_forbidden(c: char) -> bool {
    matches!(
        c,
        '、' | '，'
            | ','
            | '；'
            | ';'
            | '：'
            | ':'
            | '。'
            | '！'
            | '!'
            | '？'
            | '?'
            | '“'
            | '”'
            | '"'
    )
}

fn brackets_balanced(name: &str) -> bool {
    let mut stack = Vec::new();
    for c in name.chars() {
        match bracket(c) {
            Some((open, true)) => stack.push(open),
            Some((open, false)) if stack.pop() != Some(open) => return false,
            _ => {}
        }
    }
    stack.is_empty()
}

/// For a bracket character: the opening form of its family (full and half width fold together)
/// and whether it opens.
fn bracket(c: char) -> Option<(char, bool)> {
    match c {
        '(' | '（' => Some(('(', true)),
        ')' | '）' => Some(('(', false)),
        '〈' | '＜' | '<' | '⟨' => Some(('〈', true)),
        '〉' | '＞' | '>' | '⟩' => Some(('〈', false)),
        _ => None,
    }
}

/// The folding key of a unit name: two names with the same key are the same unit.
///
/// Full- and half-width forms fold together; the second name in 〈〉 (or parentheses) is dropped,
/// so 区纪委〈监察局〉 and 区纪委 share a key; a leading 区 is dropped, so 卫计局 and 区卫计局
/// share one. A district-level plan writes 区 before most of its own units and leaves it off at
/// will; it never uses the bare and the 区 form for two different units.
pub fn normalize(name: &str) -> String {
    strip_prefixes(&primary(&fold(name)), &[]).to_owned()
}

/// Whether two names denote the same unit: they share a folding key, or one is the second name
/// that the other marks with 〈〉 (区国资委 and 区财政局〈国资委〉).
pub fn same_unit(a: &str, b: &str) -> bool {
    let ka = keys(a, &[]);
    keys(b, &[]).iter().any(|k| ka.contains(k))
}

/// Full-width ASCII to ASCII, every angle or round bracket to 〈〉, whitespace removed.
fn fold(name: &str) -> String {
    name.chars()
        .filter(|&c| !is_blank(c))
        .map(|c| match bracket(c) {
            Some((_, true)) => '〈',
            Some((_, false)) => '〉',
            None => fold_width(c),
        })
        .collect()
}

/// Full-width ASCII variants (U+FF01–U+FF5E) to ASCII.
pub(crate) fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// The folded name without its bracketed parts.
fn primary(folded: &str) -> String {
    let mut depth = 0usize;
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        match c {
            '〈' => depth += 1,
            '〉' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The second name that the first 〈X〉 marks: at the end it names the unit on its own
/// (区财政局〈国资委〉 is also 区国资委); in the middle it replaces the character before it
/// (区委〈府〉办 is also 区府办, 各基层党〈工〉委 also 各基层工委).
fn secondary(folded: &str) -> Option<String> {
    let open = folded.find('〈')?;
    let rest = &folded[open + '〈'.len_utf8()..];
    let close = rest.find('〉')?;
    let inner = &rest[..close];
    let after = primary(&rest[close + '〉'.len_utf8()..]);
    if inner.is_empty() {
        return None;
    }
    if after.is_empty() {
        return Some(inner.to_owned());
    }
    let before = &folded[..open];
    let mut kept: Vec<char> = before.chars().collect();
    kept.pop();
    let mut name: String = kept.into_iter().collect();
    name.push_str(inner);
    name.push_str(&after);
    Some(name)
}

/// Drops one leading district prefix: the longest of `local` that matches, else 区. Never
/// leaves the key empty.
fn strip_prefixes<'a>(key: &'a str, local: &[String]) -> &'a str {
    let mut best: Option<&str> = None;
    for prefix in local
        .iter()
        .map(String::as_str)
        .chain(std::iter::once("区"))
    {
        if let Some(rest) = key.strip_prefix(prefix)
            && !rest.is_empty()
            && best.is_none_or(|b| rest.len() < b.len())
        {
            best = Some(rest);
        }
    }
    best.unwrap_or(key)
}

/// Every key under which a name is known: its folding key and that of its second name.
fn keys(name: &str, local: &[String]) -> Vec<String> {
    let folded = fold(name);
    let mut keys = vec![strip_prefixes(&primary(&folded), local).to_owned()];
    if let Some(second) = secondary(&folded) {
        let key = strip_prefixes(&second, local).to_owned();
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.retain(|k| !k.is_empty());
    keys
}

/// The units of one plan, each with every form of its name the plan uses.
///
/// A union-find over name keys: a name whose keys hit two units seen apart so far joins them
/// (区府办, then 区委办, then 区委〈府〉办). Union by size keeps a 1 MB document linear.
#[derive(Debug, Clone, Default)]
pub struct UnitDirectory {
    parent: Vec<usize>,
    slots: Vec<Slot>,
    index: BTreeMap<String, usize>,
    seen: BTreeMap<String, usize>,
    local_prefixes: Vec<String>,
    next_seq: usize,
}

#[derive(Debug, Clone, Default)]
struct Slot {
    /// Forms with the order they were first used in.
    forms: Vec<(usize, String)>,
    /// Fullest form so far: (length in chars, order, index into `forms`).
    best: Option<(usize, usize, usize)>,
}

impl Slot {
    fn consider(&mut self, at: usize) {
        let Some((seq, form)) = self.forms.get(at) else {
            return;
        };
        let len = form.chars().count();
        // The fullest form wins; on a tie, the first used.
        let better = match self.best {
            None => true,
            Some((best_len, best_seq, _)) => len > best_len || (len == best_len && *seq < best_seq),
        };
        if better {
            self.best = Some((len, *seq, at));
        }
    }

    fn canonical(&self) -> &str {
        self.best
            .and_then(|(_, _, at)| self.forms.get(at))
            .map_or("", |(_, f)| f.as_str())
    }

    fn first_seq(&self) -> usize {
        self.forms
            .iter()
            .map(|(seq, _)| *seq)
            .min()
            .unwrap_or(usize::MAX)
    }

    fn entry(&self) -> UnitEntry {
        let name = self.canonical().to_owned();
        let mut forms: Vec<&(usize, String)> = self.forms.iter().collect();
        crate::sorting::sort_by_key(&mut forms, |(seq, _)| *seq);
        let aliases = forms
            .into_iter()
            .filter(|(_, f)| *f != name)
            .map(|(_, f)| f.clone())
            .collect();
        let kind = UnitKind::of(&name);
        UnitEntry {
            name,
            aliases,
            kind,
        }
    }
}

impl UnitDirectory {
    /// An empty directory.
    pub fn new() -> UnitDirectory {
        UnitDirectory::default()
    }

    /// An empty directory that also folds the district's own name written before a unit
    /// (e.g. with prefix 盐田区, 盐田区发改局 is 区发改局).
    pub fn with_local_prefixes<I, S>(prefixes: I) -> UnitDirectory
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let local_prefixes = prefixes
            .into_iter()
            .map(|p| fold(&p.into()))
            .filter(|p| !p.is_empty())
            .collect();
        UnitDirectory {
            local_prefixes,
            ..UnitDirectory::default()
        }
    }

    /// A directory holding stored entries, e.g. to look names up in a plan read earlier.
    pub fn from_entries(entries: &[UnitEntry]) -> UnitDirectory {
        let mut dir = UnitDirectory::new();
        for entry in entries {
            for name in entry.names() {
                if let Ok(name) = UnitName::parse(name) {
                    dir.add(&name);
                }
            }
        }
        dir
    }

    fn root(&self, mut i: usize) -> usize {
        while let Some(&p) = self.parent.get(i) {
            if p == i {
                break;
            }
            i = p;
        }
        i
    }

    fn root_compress(&mut self, i: usize) -> usize {
        let root = self.root(i);
        let mut at = i;
        while at != root {
            let Some(next) = self.parent.get(at).copied() else {
                break;
            };
            if let Some(p) = self.parent.get_mut(at) {
                *p = root;
            }
            at = next;
        }
        root
    }

    fn union(&mut self, a: usize, b: usize) -> usize {
        let (ra, rb) = (self.root_compress(a), self.root_compress(b));
        if ra == rb {
            return ra;
        }
        let size = |s: &Self, r: usize| s.slots.get(r).map_or(0, |slot| slot.forms.len());
        let (big, small) = if size(self, ra) >= size(self, rb) {
            (ra, rb)
        } else {
            (rb, ra)
        };
        let moved = self
            .slots
            .get_mut(small)
            .map(std::mem::take)
            .unwrap_or_default();
        if let Some(p) = self.parent.get_mut(small) {
            *p = big;
        }
        if let Some(slot) = self.slots.get_mut(big) {
            for form in moved.forms {
                slot.forms.push(form);
                slot.consider(slot.forms.len() - 1);
            }
        }
        big
    }

    /// Records one use of a name, folding it into the unit it denotes.
    pub fn add(&mut self, name: &UnitName) {
        if self.seen.contains_key(name.as_str()) {
            return;
        }
        let keys = keys(name.as_str(), &self.local_prefixes);
        let hits: Vec<usize> = keys
            .iter()
            .filter_map(|k| self.index.get(k).copied())
            .collect();
        let slot_id = match hits.split_first() {
            Some((&first, rest)) => rest
                .iter()
                .fold(first, |acc, &other| self.union(acc, other)),
            None => {
                self.slots.push(Slot::default());
                self.parent.push(self.slots.len() - 1);
                self.slots.len() - 1
            }
        };
        let root = self.root_compress(slot_id);
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(slot) = self.slots.get_mut(root) {
            slot.forms.push((seq, name.as_str().to_owned()));
            slot.consider(slot.forms.len() - 1);
        }
        for key in keys {
            self.index.entry(key).or_insert(root);
        }
        self.seen.insert(name.as_str().to_owned(), root);
    }

    fn slot(&self, name: &str) -> Option<&Slot> {
        let id = match self.seen.get(name.trim_matches(is_blank)) {
            Some(&id) => id,
            None => keys(name, &self.local_prefixes)
                .iter()
                .find_map(|k| self.index.get(k).copied())?,
        };
        self.slots.get(self.root(id))
    }

    /// The canonical name of the unit `name` denotes, if the directory knows it.
    pub fn canonical(&self, name: &str) -> Option<&str> {
        self.slot(name).map(Slot::canonical)
    }

    /// The entry of the unit `name` denotes.
    pub fn get(&self, name: &str) -> Option<UnitEntry> {
        self.slot(name).map(Slot::entry)
    }

    /// All units, in order of first use.
    pub fn entries(&self) -> Vec<UnitEntry> {
        let mut roots: Vec<&Slot> = (0..self.slots.len())
            .filter(|&i| self.root(i) == i)
            .filter_map(|i| self.slots.get(i))
            .filter(|s| !s.forms.is_empty())
            .collect();
        crate::sorting::sort_by_key(&mut roots, |s| s.first_seq());
        roots.into_iter().map(Slot::entry).collect()
    }

    /// How many distinct units the directory holds.
    pub fn len(&self) -> usize {
        (0..self.slots.len()).filter(|&i| self.root(i) == i).count()
    }

    /// Whether the directory holds no unit.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> UnitName {
        UnitName::parse(s).expect("valid unit name")
    }

    fn dir(names: &[&str]) -> UnitDirectory {
        let mut dir = UnitDirectory::new();
        for n in names {
            dir.add(&name(n));
        }
        dir
    }

    #[test]
    fn short_and_full_forms_fold_into_the_fullest() {
        let dir = dir(&[
            "区纪委〈监察局〉",
            "区纪委",
            "卫计局",
            "区卫计局",
            "区委组织部",
            "区委组织部〈编办〉",
        ]);
        let entries = dir.entries();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].name, "区纪委〈监察局〉");
        assert_eq!(entries[0].aliases, vec!["区纪委"]);
        assert_eq!(entries[1].name, "区卫计局");
        assert_eq!(entries[1].aliases, vec!["卫计局"]);
        assert_eq!(entries[2].name, "区委组织部〈编办〉");
        assert_eq!(dir.canonical("区委组织部"), Some("区委组织部〈编办〉"));
        assert_eq!(dir.canonical("区编办"), Some("区委组织部〈编办〉"));
    }

    #[test]
    fn second_names_in_angle_brackets_are_the_same_unit() {
        assert!(same_unit("区委〈府〉办", "区府办"));
        assert!(same_unit("区委〈府〉办", "区委办"));
        assert!(same_unit("区财政局〈国资委〉", "区国资委"));
        assert!(same_unit("各基层党〈工〉委", "各基层工委"));
        assert!(same_unit("区财政局（国资委）", "区财政局<国资委>"));
        assert!(!same_unit("区委办", "区府办"));
        assert!(!same_unit("各街道办", "沙头角街道办"));
        assert!(!same_unit("区发改局", "市发改局"));
    }

    #[test]
    fn a_later_name_can_bridge_two_units() {
        let dir = dir(&["区府办", "区委办", "区委〈府〉办"]);
        let entries = dir.entries();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].name, "区委〈府〉办");
        assert_eq!(entries[0].aliases, vec!["区府办", "区委办"]);
    }

    #[test]
    fn local_prefix_folds_the_district_name() {
        let mut dir = UnitDirectory::with_local_prefixes(["盐田区"]);
        dir.add(&name("区发改局"));
        dir.add(&name("盐田区发改局"));
        dir.add(&name("盐田市场监管分局"));
        assert_eq!(dir.len(), 2);
        assert_eq!(dir.canonical("发改局"), Some("盐田区发改局"));
    }

    #[test]
    fn normalize_folds_width_and_brackets() {
        assert_eq!(normalize(" 区委（府）办 "), "委办");
        assert_eq!(normalize("区纪委〈监察局〉"), "纪委");
        assert_eq!(normalize("区"), "区");
    }

    #[test]
    fn kinds() {
        for group in [
            "各街道办",
            "区属各企业",
            "区垃圾减量分类工作领导小组各成员单位",
            "各基层党〈工〉委",
            "区有关部门",
        ] {
            assert_eq!(UnitKind::of(group), UnitKind::Group, "{group}");
        }
        for dept in [
            "区发改局",
            "沙头角街道办",
            "区委〈府〉办",
            "盐田市场监管分局",
        ] {
            assert_eq!(UnitKind::of(dept), UnitKind::Department, "{dept}");
        }
        assert_eq!(
            serde_json::to_string(&UnitKind::Group).ok().as_deref(),
            Some("\"group\"")
        );
    }

    #[test]
    fn unit_name_validation() {
        assert_eq!(name(" 区发改局\u{3000}").as_str(), "区发改局");
        assert_eq!(UnitName::parse("  "), Err(UnitNameError::Empty));
        assert!(matches!(
            UnitName::parse("含"),
            Err(UnitNameError::TooShort(_))
        ));
        assert!(matches!(
            UnitName::parse("区发改局、区财政局"),
            Err(UnitNameError::Forbidden { .. })
        ));
        assert!(matches!(
            UnitName::parse("区财政局〈国资委"),
            Err(UnitNameError::Unbalanced(_))
        ));
        assert!(matches!(
            UnitName::parse(&"局".repeat(41)),
            Err(UnitNameError::TooLong)
        ));
        let json = serde_json::to_string(&name("区法院")).expect("serializes");
        assert_eq!(json, "\"区法院\"");
        assert!(serde_json::from_str::<UnitName>("\"x\"").is_err());
    }

    #[test]
    fn from_entries_round_trips() {
        let entries = dir(&["卫计局", "区卫计局", "各街道办"]).entries();
        let again = UnitDirectory::from_entries(&entries);
        assert_eq!(again.entries(), entries);
        assert_eq!(
            again.get("卫计局").map(|e| e.kind),
            Some(UnitKind::Department)
        );
    }
}
