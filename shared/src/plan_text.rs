//! Reading a plan document (see DESIGN.md, "Reading a plan document").
//!
//! Parse, don't guess. The text is read line by line: each line is classified once (numbering
//! marker, section heading, unit line), then the items are assembled from those classes.
//!
//! - **Which numbering marks the items.** Plans nest 一、 > （一） > 1. > （1） > ①, and use any of
//!   the lower levels for items. The level whose numbered blocks each hold exactly one unit line
//!   is the item level; the levels above it are section headings or sub-headings, the levels
//!   below it are sub-points inside an item.
//! - **Which sections hold items.** Only sections with unit lines, so a requirements section
//!   numbered （一）（二） like the items does not turn into items without units.
//! - **Errors and warnings.** What makes the whole document unreadable (empty, binary, no items)
//!   is a [`ParseError`]; anything local (an item without a unit line, unbalanced brackets, a
//!   name that is not a unit) is a [`ParseWarning`] naming the line, and the item is kept.
//!   Nothing panics, and every step is linear in the length of the text.

mod deadline;
mod header;
mod scan;
mod unit_line;

use crate::plan::{Plan, ReformItem, Section, year_in};
use crate::unit::{UnitDirectory, UnitEntry, UnitName, is_blank};
use scan::{Marker, Style, bracket_problem, is_part_heading, marker};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use unit_line::UnitSpec;

/// A plan read from its document, with its unit directory and what looked wrong.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ParsedPlan {
    /// The plan.
    pub plan: Plan,
    /// Every unit the items name, once each, in order of first use.
    pub units: Vec<UnitEntry>,
    /// Problems that did not stop the reading, each with its line.
    pub warnings: Vec<ParseWarning>,
}

/// A problem at one line of the document.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ParseWarning {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong, in English.
    pub message: String,
}

impl fmt::Display for ParseWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why a document could not be read as a plan; each error names its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", join_lines(.errors))]
pub struct ParseError {
    /// The errors, in line order.
    pub errors: Vec<ParseWarning>,
}

fn join_lines(errors: &[ParseWarning]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl ParseError {
    fn at(line: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            errors: vec![ParseWarning {
                line,
                message: message.into(),
            }],
        }
    }
}

/// What `reformboard parse-plan --json` prints: the items with their units, the unit directory
/// and the warnings.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PlanSummary {
    /// Plan title.
    pub title: String,
    /// The items, without their bodies.
    pub items: Vec<ItemSummary>,
    /// The unit directory.
    pub units: Vec<UnitEntry>,
    /// Warnings from reading.
    pub warnings: Vec<ParseWarning>,
}

/// One item in a [`PlanSummary`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ItemSummary {
    /// Item number.
    pub number: u32,
    /// Item title.
    pub title: String,
    /// Lead units, canonical names.
    pub lead_units: Vec<String>,
    /// Cooperating units, canonical names.
    pub cooperating_units: Vec<String>,
    /// Leaders leading it.
    pub lead_leaders: Vec<String>,
}

impl ParsedPlan {
    /// The summary `parse-plan --json` prints.
    pub fn summary(&self) -> PlanSummary {
        PlanSummary {
            title: self.plan.title.clone(),
            items: self
                .plan
                .items
                .iter()
                .map(|item| ItemSummary {
                    number: item.number,
                    title: item.title.clone(),
                    lead_units: item.lead_units.clone(),
                    cooperating_units: item.cooperating_units.clone(),
                    lead_leaders: item.lead_leaders.clone(),
                })
                .collect(),
            units: self.units.clone(),
            warnings: self.warnings.clone(),
        }
    }

    /// The unit directory, to resolve other forms of the names (区纪委 → 区纪委〈监察局〉).
    pub fn directory(&self) -> UnitDirectory {
        UnitDirectory::from_entries(&self.units)
    }
}

/// Reads a plan from the bytes of a file: UTF-8, with or without a byte-order mark, LF or CRLF.
///
/// # Errors
/// Bytes that are not UTF-8 text, and everything [`parse`] refuses.
pub fn parse_bytes(bytes: &[u8]) -> Result<ParsedPlan, ParseError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ParseError::at(
            1,
            "the file is UTF-16; save it as UTF-8 text",
        ));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(err) => {
            let offset = err.valid_up_to();
            let line = bytes
                .get(..offset)
                .map_or(0, |b| b.iter().filter(|&&b| b == b'\n').count())
                + 1;
            Err(ParseError::at(
                line,
                format!(
                    "invalid UTF-8 at byte {offset}: a plan must be UTF-8 text \
                     (convert GBK/GB18030 files, e.g. with iconv -f GB18030 -t UTF-8)"
                ),
            ))
        }
    }
}

/// At most this many warnings are kept; a broken 1 MB file would otherwise yield one per line.
const MAX_WARNINGS: usize = 500;
/// At most this many errors are reported.
const MAX_ERRORS: usize = 20;

/// Reads a plan document.
///
/// # Errors
/// An empty document, binary data (control characters), or a document with no reform items.
/// Everything else that looks wrong is a warning in [`ParsedPlan::warnings`].
pub fn parse(text: &str) -> Result<ParsedPlan, ParseError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if text.trim_matches(is_blank).is_empty() {
        return Err(ParseError::at(1, "the document is empty"));
    }
    let raw: Vec<&str> = text.split('\n').collect();
    check_characters(&raw)?;
    let logical = logical_lines(&raw);
    let lines: Vec<Line<'_>> = logical
        .iter()
        .map(|(no, text)| Line::read(*no, text))
        .collect();
    let mut warnings = Warnings::default();
    for line in &lines {
        if let Some(problem) = bracket_problem(line.text) {
            warnings.push(line.no, problem);
        }
    }

    let trailer_start = trailer_start(&lines);
    let body = lines.get(..trailer_start).unwrap_or(&[]);
    let starts = group_starts(body);
    let Some(style) = item_style(body, &starts) else {
        return Err(no_items());
    };
    let regions = regions(body, style, &starts);
    let mut outline = Outline::assemble(body, style, &regions, &mut warnings);
    if outline.drafts.is_empty() {
        return Err(no_items());
    }
    let closing_text = outline.detach_closing_text();

    let mut head = header::read(&outline.header_lines);
    let trailer: Vec<&str> = lines
        .get(trailer_start..)
        .unwrap_or(&[])
        .iter()
        .map(|l| l.text)
        .collect();
    let tail = header::read(&trailer);
    if head.issuers.is_empty() {
        head.issuers = tail.issuers;
    }
    let issue_date = head.issue_date.or(tail.issue_date);
    let title = head.title.take().unwrap_or_else(|| {
        warnings.push(
            1,
            "no title found (a line naming the 计划/方案/要点)".to_owned(),
        );
        String::new()
    });
    let plan_year = year_in(&title)
        .or_else(|| issue_date.map(|d| chrono::Datelike::year(&d)))
        .or_else(|| outline.header_lines.iter().find_map(|l| year_in(l)));

    // The requirements are what follows the items: the text after the last item and the
    // sections after it.
    let mut requirements = closing_text;
    requirements.extend(outline.sections_after_items().map(str::to_owned));
    let preamble = head.preamble.join("\n");
    let section_text = outline
        .sections
        .iter()
        .flat_map(|s| s.body.iter().map(String::as_str));
    let other_text: Vec<&str> = std::iter::once(preamble.as_str())
        .chain(section_text)
        .collect();
    let requirement_text: Vec<&str> = requirements.iter().map(String::as_str).collect();
    let deadlines = deadline::find(&requirement_text, &other_text, plan_year);

    let mut directory = UnitDirectory::with_local_prefixes(local_prefixes(&title));
    for draft in &outline.drafts {
        for name in draft.spec.lead.iter().chain(&draft.spec.cooperate) {
            directory.add(name);
        }
    }
    let numbers = numbering(&outline.drafts, &mut warnings);
    let items: Vec<ReformItem> = outline
        .drafts
        .iter()
        .zip(numbers)
        .map(|(draft, number)| draft.finish(number, &directory, &mut warnings))
        .collect();

    let plan = Plan {
        title,
        issuers: head.issuers,
        issue_date,
        preamble,
        sections: outline.sections,
        items,
        requirements,
        deadlines,
    };
    Ok(ParsedPlan {
        plan,
        units: directory.entries(),
        warnings: warnings.finish(),
    })
}

/// The document cut into its head, its sections and its items.
struct Outline<'a> {
    /// Lines before the first section or item.
    header_lines: Vec<&'a str>,
    sections: Vec<Section>,
    /// The line number of each section's heading.
    section_lines: Vec<usize>,
    drafts: Vec<Draft<'a>>,
    /// For each region: the index of its section, if it has a heading.
    section_of: Vec<Option<usize>>,
    /// For each region: the index of its last item, if it holds items.
    last_draft_of: Vec<Option<usize>>,
    last_item_region: Option<usize>,
}

impl<'a> Outline<'a> {
    fn assemble(
        body: &[Line<'a>],
        style: Style,
        regions: &[Region],
        warnings: &mut Warnings,
    ) -> Outline<'a> {
        let mut outline = Outline {
            header_lines: Vec::new(),
            sections: Vec::new(),
            section_lines: Vec::new(),
            drafts: Vec::new(),
            section_of: Vec::new(),
            last_draft_of: Vec::new(),
            last_item_region: None,
        };
        for (index, region) in regions.iter().enumerate() {
            let section = region
                .heading
                .and_then(|i| body.get(i))
                .map(|h| outline.open_section(h));
            outline.section_of.push(section);
            let lines = region.lines.iter().filter_map(|&i| body.get(i));
            if region.holds_items {
                outline.last_item_region = Some(index);
                outline.assemble_items(lines, style, section, warnings);
            } else {
                for line in lines {
                    outline.push_text(section, line.text);
                }
            }
            let last_draft = outline
                .drafts
                .len()
                .checked_sub(1)
                .filter(|_| region.holds_items);
            outline.last_draft_of.push(last_draft);
        }
        outline
    }

    fn open_section(&mut self, heading: &Line<'a>) -> usize {
        let heading_text = heading.text.to_owned();
        self.sections.push(Section {
            heading: heading_text,
            body: Vec::new(),
        });
        self.section_lines.push(heading.no);
        self.sections.len() - 1
    }

    /// Text outside items: the section's body, or the document's head before any section.
    fn push_text(&mut self, section: Option<usize>, text: &'a str) {
        match section.and_then(|s| self.sections.get_mut(s)) {
            Some(section) => section.body.push(text.to_owned()),
            None => self.header_lines.push(text),
        }
    }

    /// Reads the lines of a region that holds items: each marker of the item level starts an
    /// item, and the lines up to the next one are its body and unit lines.
    fn assemble_items<'l>(
        &mut self,
        lines: impl Iterator<Item = &'l Line<'a>>,
        style: Style,
        region_section: Option<usize>,
        warnings: &mut Warnings,
    ) where
        'a: 'l,
    {
        let mut section = region_section;
        let mut current: Option<Draft<'a>> = None;
        for line in lines {
            match line.marker {
                Some(m) if m.style == style => {
                    self.drafts.extend(current.take());
                    let heading = section
                        .and_then(|s| self.sections.get(s))
                        .map(|s| s.heading.clone());
                    current = Some(Draft::start(line, m, heading));
                }
                // A higher-level marker ends the item: under a 一、 heading it is a sub-heading
                // in the section's text; with no 一、 headings it is the heading itself.
                Some(m) if m.style < style => {
                    self.drafts.extend(current.take());
                    if region_section.is_some() {
                        self.push_text(section, line.text);
                    } else {
                        section = Some(self.open_section(line));
                    }
                }
                _ => match current.as_mut() {
                    Some(draft) => draft.add(line),
                    None => {
                        let in_body = section.is_some() || !self.drafts.is_empty();
                        if in_body && line.unit.is_some() {
                            let message = "unit line outside any item; it is ignored";
                            warnings.push(line.no, message.to_owned());
                        }
                        self.push_text(section, line.text);
                    }
                },
            }
        }
        self.drafts.extend(current);
    }

    /// The text of the sections after the last item (the rules for running the plan).
    fn sections_after_items(&self) -> impl Iterator<Item = &str> {
        let last_item = self.drafts.last().map_or(0, |d| d.line);
        self.sections
            .iter()
            .zip(&self.section_lines)
            .filter(move |(_, line)| **line > last_item)
            .flat_map(|(s, _)| s.body.iter().map(String::as_str))
    }

    /// Where items end with their unit lines, text after the last item's units is not the
    /// item's: it is the section's closing text, or part of the requirements when no heading
    /// follows. Returns the text taken from the last item of the document.
    fn detach_closing_text(&mut self) -> Vec<String> {
        let has_units = |d: &&Draft<'_>| !d.unit_lines.is_empty();
        let units_last = self
            .drafts
            .iter()
            .filter(has_units)
            .filter(|d| d.trailing().is_empty())
            .count();
        let units_first = self
            .drafts
            .iter()
            .filter(|d| !d.trailing().is_empty())
            .count();
        let mut closing = Vec::new();
        if units_last <= units_first {
            return closing;
        }
        for (index, last) in self.last_draft_of.iter().enumerate() {
            let section = self.section_of.get(index).copied().flatten();
            let is_last_region = self.last_item_region == Some(index);
            // Text after the last item before the first heading has nowhere else to go.
            if section.is_none() && !is_last_region {
                continue;
            }
            let Some(draft) = last.and_then(|d| self.drafts.get_mut(d)) else {
                continue;
            };
            let tail = draft.split_trailing();
            if let Some(section) = section.and_then(|s| self.sections.get_mut(s)) {
                section.body.extend(tail.iter().map(|t| (*t).to_owned()));
            }
            if is_last_region {
                closing.extend(tail.iter().map(|t| (*t).to_owned()));
            }
        }
        closing
    }
}

fn no_items() -> ParseError {
    ParseError::at(
        1,
        "no reform items found: expected numbered items (1. / 1． / （一）) each followed by a unit \
         line such as （X牵头，Y配合） or 牵头单位：X",
    )
}

/// Refuses binary junk: control characters and the replacement character that a failed decoding
/// leaves behind. Tabs, carriage returns and form feeds occur in real documents.
fn check_characters(raw: &[&str]) -> Result<(), ParseError> {
    let errors: Vec<ParseWarning> = raw
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            let bad = line.chars().find(|&c| {
                (c.is_control() && !matches!(c, '\t' | '\r' | '\u{0C}'))
                    || matches!(c, '\u{FFFD}' | '\u{FFFE}' | '\u{FFFF}')
            })?;
            let what = if bad == '\u{FFFD}' {
                "a replacement character (U+FFFD): the file was decoded with errors".to_owned()
            } else {
                format!(
                    "control character U+{:04X}: this looks like binary data, not a plan document",
                    bad as u32
                )
            };
            Some(ParseWarning {
                line: i + 1,
                message: format!("contains {what}"),
            })
        })
        .take(MAX_ERRORS)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ParseError { errors })
    }
}

/// The document's lines, trimmed, each with its 1-based number; a unit line wrapped onto the
/// next lines (as PDF and e-mail conversions do) is joined back into one, under the number of
/// its first line.
fn logical_lines<'a>(raw: &[&'a str]) -> Vec<(usize, Cow<'a, str>)> {
    /// A wrapped unit line is joined only if it closes within this many more lines.
    const MAX_CONTINUATION: usize = 3;
    let trim = |line: &'a str| line.trim_matches(|c: char| is_blank(c) || c == '\u{0C}');
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&line) = raw.get(i) {
        let first = trim(line);
        let mut text = Cow::Borrowed(first);
        let mut next = i + 1;
        if unit_line::wraps(first) {
            let mut joined = first.to_owned();
            for (j, &more) in raw.iter().enumerate().skip(i + 1).take(MAX_CONTINUATION) {
                let more = trim(more);
                if more.is_empty() || !unit_line::may_continue(more) {
                    break;
                }
                joined.push_str(more);
                if !unit_line::wraps(&joined) {
                    text = Cow::Owned(joined);
                    next = j + 1;
                    break;
                }
            }
        }
        out.push((i + 1, text));
        i = next;
    }
    out
}

/// Warnings as they are found, capped at [`MAX_WARNINGS`].
#[derive(Default)]
struct Warnings {
    list: Vec<ParseWarning>,
    dropped: usize,
}

impl Warnings {
    fn push(&mut self, line: usize, message: String) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(ParseWarning { line, message });
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self) -> Vec<ParseWarning> {
        crate::sorting::sort_by_key(&mut self.list, |w| w.line);
        if self.dropped > 0 {
            let line = self.list.last().map_or(1, |w| w.line);
            self.list.push(ParseWarning {
                line,
                message: format!("{} more warnings not shown", self.dropped),
            });
        }
        self.list
    }
}

/// One line, classified.
struct Line<'a> {
    no: usize,
    /// Trimmed text.
    text: &'a str,
    marker: Option<Marker>,
    /// 第一部分 / 第一章.
    part: bool,
    /// The unit line in this line, if any; its start is relative to `text`.
    unit: Option<unit_line::Found>,
    /// Whether the unit line is all the line holds.
    whole_unit: bool,
}

impl<'a> Line<'a> {
    fn read(no: usize, raw: &'a str) -> Line<'a> {
        let text = raw.trim_matches(|c: char| is_blank(c) || c == '\u{0C}');
        let marker = marker(text);
        let part = marker.is_none() && is_part_heading(text);
        let (unit, whole_unit) = match marker {
            Some(m) => {
                let rest = text.get(m.rest..).unwrap_or("");
                let found = unit_line::find(rest, false).map(|mut f| {
                    f.start += m.rest;
                    f
                });
                (found, false)
            }
            None if part => (None, false),
            None => {
                let found = unit_line::find(text, true);
                let whole = found.as_ref().is_some_and(|f| {
                    text.get(..f.start)
                        .is_some_and(|before| before.trim_matches(is_blank).is_empty())
                });
                (found, whole)
            }
        };
        Line {
            no,
            text,
            marker,
            part,
            unit,
            whole_unit,
        }
    }

    fn is_blank(&self) -> bool {
        self.text.is_empty()
    }
}

/// Where the signature block and distribution notes at the end of the document begin.
fn trailer_start(lines: &[Line<'_>]) -> usize {
    let mut start = lines.len();
    for (i, line) in lines.iter().enumerate().rev() {
        if line.is_blank() {
            continue;
        }
        if line.marker.is_some() || line.unit.is_some() || !header::is_trailer(line.text) {
            break;
        }
        start = i;
    }
    start
}

/// For each line, whether a group of unit lines starts there. Unit lines that follow each other
/// (牵头单位：… then 配合单位：…) are one group, belonging to one item.
fn group_starts(lines: &[Line<'_>]) -> Vec<bool> {
    let mut starts = Vec::with_capacity(lines.len());
    let mut previous_had_unit = false;
    for line in lines {
        if line.is_blank() {
            starts.push(false);
            continue;
        }
        let continues = previous_had_unit && line.whole_unit;
        starts.push(line.unit.is_some() && !continues);
        previous_had_unit = line.unit.is_some();
    }
    starts
}

/// Whether a line ends the numbered block of `style`: a marker of the same or a higher level.
fn closes(line: &Line<'_>, style: Style) -> bool {
    line.part || line.marker.is_some_and(|m| m.style <= style)
}

/// The numbering level that marks items: the one whose blocks each hold exactly one group of
/// unit lines. With no unit lines at all, the level below 一、 used most often, so that an
/// unreadable unit format still yields items (with warnings) rather than nothing.
fn item_style(lines: &[Line<'_>], starts: &[bool]) -> Option<Style> {
    let mut best: Option<(i64, Style)> = None;
    let mut most_used: Option<(usize, Style)> = None;
    for style in Style::ALL {
        let used = lines
            .iter()
            .filter(|l| l.marker.is_some_and(|m| m.style == style))
            .count();
        if used == 0 {
            continue;
        }
        // Without unit lines, 一、 lines are read as section headings, never as items.
        if style != Style::CnComma && most_used.is_none_or(|(n, _)| used > n) {
            most_used = Some((used, style));
        }
        let (mut good, mut bad) = (0i64, 0i64);
        let mut open: Option<usize> = None;
        let mut finish = |open: Option<usize>| match open {
            Some(1) => good += 1,
            Some(n) if n > 1 => bad += 1,
            _ => {}
        };
        for (line, &start) in lines.iter().zip(starts) {
            if closes(line, style) {
                finish(open);
                open = line.marker.is_some_and(|m| m.style == style).then_some(0);
            }
            if start && let Some(count) = open.as_mut() {
                *count += 1;
            }
        }
        finish(open);
        let score = good - bad;
        if score > 0 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, style));
        }
    }
    best.or(most_used.map(|(n, s)| (i64::try_from(n).unwrap_or(i64::MAX), s)))
        .map(|(_, s)| s)
}

/// The document cut at its section headings.
struct Region {
    /// Index of the heading line; `None` for the text before the first heading.
    heading: Option<usize>,
    /// Indices of the lines after the heading, blank lines left out.
    lines: Vec<usize>,
    holds_items: bool,
}

fn regions(lines: &[Line<'_>], style: Style, starts: &[bool]) -> Vec<Region> {
    let is_heading = |l: &Line<'_>| {
        l.part || (style != Style::CnComma && l.marker.is_some_and(|m| m.style == Style::CnComma))
    };
    let mut regions = vec![Region {
        heading: None,
        lines: Vec::new(),
        holds_items: false,
    }];
    let mut has_units = vec![false];
    let mut has_markers = vec![false];
    for (i, line) in lines.iter().enumerate() {
        if is_heading(line) {
            regions.push(Region {
                heading: Some(i),
                lines: Vec::new(),
                holds_items: false,
            });
            has_units.push(false);
            has_markers.push(false);
            continue;
        }
        if line.is_blank() {
            continue;
        }
        if let Some(region) = regions.last_mut() {
            region.lines.push(i);
        }
        if let Some(flag) = has_units.last_mut() {
            *flag |= starts.get(i).copied().unwrap_or(false);
        }
        if let Some(flag) = has_markers.last_mut() {
            *flag |= line.marker.is_some_and(|m| m.style == style);
        }
    }
    // Sections without unit lines hold no items; if no section has any, every section with
    // item markers does, so that items are reported (with warnings) rather than lost.
    let any_units = has_units.iter().any(|&u| u);
    for (region, (&units, &markers)) in regions.iter_mut().zip(has_units.iter().zip(&has_markers)) {
        region.holds_items = markers && (units || !any_units);
    }
    regions
}

/// An item being assembled.
struct Draft<'a> {
    line: usize,
    printed: u32,
    section: Option<String>,
    body: Vec<&'a str>,
    spec: UnitSpec,
    unit_lines: Vec<usize>,
    /// How many body lines there were when the last unit line was read.
    body_at_last_unit: Option<usize>,
}

impl<'a> Draft<'a> {
    fn start(line: &Line<'a>, m: Marker, section: Option<String>) -> Draft<'a> {
        let mut draft = Draft {
            line: line.no,
            printed: m.number,
            section,
            body: Vec::new(),
            spec: UnitSpec::default(),
            unit_lines: Vec::new(),
            body_at_last_unit: None,
        };
        let end = line.unit.as_ref().map_or(line.text.len(), |u| u.start);
        let text = line
            .text
            .get(m.rest..end)
            .unwrap_or("")
            .trim_matches(is_blank);
        if !text.is_empty() {
            draft.body.push(text);
        }
        if let Some(found) = &line.unit {
            draft.spec.merge(found.spec.clone());
            draft.unit_lines.push(line.no);
            draft.body_at_last_unit = Some(draft.body.len());
        }
        draft
    }

    /// Body lines after the last unit line.
    fn trailing(&self) -> &[&'a str] {
        self.body_at_last_unit
            .and_then(|at| self.body.get(at..))
            .unwrap_or(&[])
    }

    fn split_trailing(&mut self) -> Vec<&'a str> {
        match self.body_at_last_unit {
            Some(at) if at < self.body.len() => self.body.split_off(at),
            _ => Vec::new(),
        }
    }

    fn add(&mut self, line: &Line<'a>) {
        match &line.unit {
            Some(found) => {
                let before = line
                    .text
                    .get(..found.start)
                    .unwrap_or("")
                    .trim_matches(is_blank);
                if !line.whole_unit && !before.is_empty() {
                    self.body.push(before);
                }
                self.spec.merge(found.spec.clone());
                self.unit_lines.push(line.no);
                self.body_at_last_unit = Some(self.body.len());
            }
            None => self.body.push(line.text),
        }
    }

    fn finish(
        &self,
        number: u32,
        directory: &UnitDirectory,
        warnings: &mut Warnings,
    ) -> ReformItem {
        let first = self.body.first().copied().unwrap_or("");
        let title = first.split('。').next().unwrap_or("");
        // 【深化商事制度改革】推进… : the bracketed words are the title.
        let title = title
            .strip_prefix('【')
            .and_then(|t| t.split_once('】'))
            .map_or(title, |(inside, _)| inside)
            .trim_end_matches(|c: char| {
                is_blank(c) || matches!(c, '：' | ':' | '，' | ',' | '；' | ';')
            });
        let unit_line = self.unit_lines.first().copied().unwrap_or(self.line);
        for problem in &self.spec.problems {
            warnings.push(unit_line, format!("item {number}: {problem}"));
        }
        let canonical = |names: &[UnitName]| -> Vec<String> {
            let mut seen = BTreeSet::new();
            names
                .iter()
                .map(|n| {
                    directory
                        .canonical(n.as_str())
                        .unwrap_or(n.as_str())
                        .to_owned()
                })
                .filter(|n| seen.insert(n.clone()))
                .collect()
        };
        let lead_units = canonical(&self.spec.lead);
        let lead_set: BTreeSet<&String> = lead_units.iter().collect();
        let mut cooperating_units = canonical(&self.spec.cooperate);
        cooperating_units.retain(|u| {
            let both = lead_set.contains(u);
            if both {
                warnings.push(
                    unit_line,
                    format!("item {number}: {u} is named both to lead and to cooperate"),
                );
            }
            !both
        });
        if self.unit_lines.is_empty() {
            warnings.push(
                self.line,
                format!(
                    "item {number} has no unit line (X牵头，Y配合 / 牵头单位：X); it has no units"
                ),
            );
        } else if lead_units.is_empty() {
            warnings.push(
                unit_line,
                format!("item {number} names no lead unit (牵头/责任单位)"),
            );
        }
        let mut leaders = Vec::new();
        for leader in &self.spec.leaders {
            if !leaders.contains(leader) {
                leaders.push(leader.clone());
            }
        }
        ReformItem {
            number,
            title: title.to_owned(),
            body: self.body.join("\n"),
            lead_units,
            cooperating_units,
            lead_leaders: leaders,
            section: self.section.clone(),
            line: self.line,
        }
    }
}

/// Item numbers: as printed while they keep rising (a gap is warned about); numbered in document
/// order when they restart, as they do when every section counts from （一）, so that numbers stay
/// unique.
fn numbering(drafts: &[Draft<'_>], warnings: &mut Warnings) -> Vec<u32> {
    let rising = drafts.windows(2).all(|w| w[1].printed > w[0].printed);
    if rising {
        let mut expected = 1;
        for draft in drafts {
            if draft.printed != expected {
                warnings.push(
                    draft.line,
                    format!(
                        "item numbering jumps from {} to {}",
                        expected - 1,
                        draft.printed
                    ),
                );
            }
            expected = draft.printed + 1;
        }
        return drafts.iter().map(|d| d.printed).collect();
    }
    let mut previous: Option<&Draft<'_>> = None;
    for draft in drafts {
        if let Some(prev) = previous {
            let restart = draft.printed == 1 && draft.section != prev.section;
            if draft.printed != prev.printed + 1 && !restart {
                warnings.push(
                    draft.line,
                    format!(
                        "item number {} does not follow {}; items are numbered in document order",
                        draft.printed, prev.printed
                    ),
                );
            }
        }
        previous = Some(draft);
    }
    (1..).take(drafts.len()).collect()
}

/// The district's own name as units may carry it (盐田区发改局), from a title such as
/// 盐田区2014年重点改革计划 or 深圳市盐田区…; also the bare 县 / 市 of county and city plans.
fn local_prefixes(title: &str) -> Vec<String> {
    let end = title
        .char_indices()
        .take(10)
        .take_while(|&(_, c)| !c.is_ascii_digit() && !is_blank(c))
        .find(|&(_, c)| matches!(c, '区' | '县' | '市'));
    let Some((at, c)) = end else {
        return Vec::new();
    };
    let place = title.get(..at + c.len_utf8()).unwrap_or("");
    let mut prefixes = Vec::new();
    if place.chars().count() >= 2 {
        prefixes.push(place.to_owned());
    }
    if c != '区' {
        prefixes.push(c.to_string());
    }
    prefixes
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "测试区2015年改革计划\n一、改革项目\n1.推进甲改革。内容。\n（区发改局牵头，区财政局配合）\n2.推进乙改革。\n（卫计局牵头）\n二、工作要求\n在4月底前报送工作方案。\n";

    #[test]
    fn reads_a_small_plan() {
        let parsed = parse(SMALL).expect("parses");
        let plan = &parsed.plan;
        assert_eq!(plan.title, "测试区2015年改革计划");
        assert_eq!(plan.items.len(), 2);
        assert_eq!(plan.items[0].title, "推进甲改革");
        assert_eq!(plan.items[0].body, "推进甲改革。内容。");
        assert_eq!(plan.items[0].lead_units, ["区发改局"]);
        assert_eq!(plan.items[0].section.as_deref(), Some("一、改革项目"));
        assert_eq!(plan.items[1].line, 5);
        assert_eq!(plan.requirements, ["在4月底前报送工作方案。"]);
        assert_eq!(
            plan.deadlines.work_plan,
            chrono::NaiveDate::from_ymd_opt(2015, 4, 30)
        );
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    }

    #[test]
    fn local_prefix_from_title() {
        assert_eq!(local_prefixes("盐田区2014年重点改革计划"), ["盐田区"]);
        assert_eq!(local_prefixes("深圳市2014年改革计划"), ["深圳市", "市"]);
        assert!(local_prefixes("2014年改革计划").is_empty());
    }

    #[test]
    fn errors_name_lines() {
        let err = parse("").expect_err("empty");
        assert_eq!(err.to_string(), "line 1: the document is empty");
        let err = parse("标题\n正文\x00\x01").expect_err("binary");
        assert_eq!(err.errors[0].line, 2);
        let err = parse_bytes(b"ok\n\xff\xfe junk").expect_err("invalid utf-8");
        assert_eq!(err.errors[0].line, 2);
        assert!(parse("只有一行文字，没有任何项目。").is_err());
    }

    #[test]
    fn summary_json_shape() {
        let summary = parse(SMALL).expect("parses").summary();
        let json = serde_json::to_value(&summary).expect("serializes");
        let keys: Vec<&String> = json
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys.len(), 4);
        assert_eq!(json["items"][0]["lead_units"][0], "区发改局");
        assert_eq!(json["units"][2]["kind"], "department");
    }
}
