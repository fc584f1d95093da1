//! Character-level helpers: numerals, item markers, brackets.

use crate::unit::{fold_width, is_blank};

/// The ways items and headings are numbered, highest level of the document outline first
/// (the order Chinese official documents nest them in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Style {
    /// 一、
    CnComma,
    /// （一） or (一)
    ParenCn,
    /// 1. 1． 1、
    ArabicDot,
    /// （1） or (1)
    ParenArabic,
    /// ①
    Circled,
}

impl Style {
    pub(crate) const ALL: [Style; 5] = [
        Style::CnComma,
        Style::ParenCn,
        Style::ArabicDot,
        Style::ParenArabic,
        Style::Circled,
    ];
}

/// A numbering marker at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Marker {
    pub style: Style,
    pub number: u32,
    /// Byte offset in the line where the text after the marker starts.
    pub rest: usize,
}

/// Value of one Chinese digit.
fn cn_digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '零' | '○' | 'Ｏ' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

fn is_cn_numeral(c: char) -> bool {
    cn_digit(c).is_some() || matches!(c, '十' | '百')
}

/// A Chinese numeral as written in counting (十一, 二十三, 一百零五); up to 999.
pub(crate) fn cn_number(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut total = 0u32;
    let mut digit: Option<u32> = None;
    for c in s.chars() {
        match c {
            '百' => {
                total += digit.take().unwrap_or(1) * 100;
            }
            '十' => {
                total += digit.take().unwrap_or(1) * 10;
            }
            _ => {
                let d = cn_digit(c)?;
                // 零 only fills a gap (一百零五); two digits in a row are not a count.
                if digit.is_some_and(|prev| prev != 0) {
                    return None;
                }
                digit = Some(d);
            }
        }
    }
    total += digit.unwrap_or(0);
    (1..=999).contains(&total).then_some(total)
}

/// An Arabic number in ASCII or full-width digits, up to 9999.
pub(crate) fn arabic_number(s: &str) -> Option<u32> {
    if s.is_empty() || s.chars().count() > 4 {
        return None;
    }
    s.chars()
        .try_fold(0u32, |acc, c| Some(acc * 10 + fold_width(c).to_digit(10)?))
}

/// A year written digit by digit: 2014 or 二〇一四.
pub(crate) fn year_number(s: &str) -> Option<i32> {
    if s.chars().count() != 4 {
        return None;
    }
    let mut year = 0i32;
    for c in s.chars() {
        let d = fold_width(c).to_digit(10).or_else(|| cn_digit(c))?;
        year = year * 10 + i32::try_from(d).ok()?;
    }
    Some(year)
}

/// A month or day number, Arabic or Chinese.
pub(crate) fn small_number(s: &str) -> Option<u32> {
    arabic_number(s).or_else(|| cn_number(s))
}

fn is_digit(c: char) -> bool {
    fold_width(c).is_ascii_digit()
}

fn is_open_paren(c: char) -> bool {
    matches!(c, '(' | '（')
}

fn is_close_paren(c: char) -> bool {
    matches!(c, ')' | '）')
}

/// The numbering marker a line starts with, if any.
pub(crate) fn marker(line: &str) -> Option<Marker> {
    let mut chars = line.char_indices().peekable();
    let (_, first) = *chars.peek()?;
    let (style, number, end) = if is_open_paren(first) {
        chars.next();
        let start = chars.peek()?.0;
        let mut end = start;
        let mut close = None;
        for (i, c) in chars.by_ref() {
            if is_close_paren(c) {
                close = Some(i + c.len_utf8());
                break;
            }
            if end - start > 12 {
                return None;
            }
            end = i + c.len_utf8();
        }
        let inner = line.get(start..end)?;
        let close = close?;
        if inner.chars().all(is_cn_numeral) {
            (Style::ParenCn, cn_number(inner)?, close)
        } else if inner.chars().all(is_digit) {
            (Style::ParenArabic, arabic_number(inner)?, close)
        } else {
            return None;
        }
    } else if ('\u{2460}'..='\u{2473}').contains(&first) {
        (Style::Circled, first as u32 - 0x245F, first.len_utf8())
    } else if is_digit(first) || is_cn_numeral(first) {
        let arabic = is_digit(first);
        let mut end = 0;
        let mut punct = None;
        for (i, c) in chars.by_ref() {
            let same_kind = if arabic {
                is_digit(c)
            } else {
                is_cn_numeral(c)
            };
            if same_kind {
                end = i + c.len_utf8();
                continue;
            }
            punct = Some((i, c));
            break;
        }
        let (at, p) = punct?;
        let number_text = line.get(..end)?;
        if arabic && is_close_paren(p) && number_text.chars().count() <= 2 {
            // 1） ranks with （1）.
            (
                Style::ParenArabic,
                arabic_number(number_text)?,
                at + p.len_utf8(),
            )
        } else if arabic {
            // "1." but not a decimal (1.5亿) nor a date (2014.3).
            if !matches!(p, '.' | '．' | '、') || number_text.chars().count() > 4 {
                return None;
            }
            if chars.peek().is_some_and(|&(_, c)| is_digit(c)) {
                return None;
            }
            (
                Style::ArabicDot,
                arabic_number(number_text)?,
                at + p.len_utf8(),
            )
        } else {
            if !matches!(p, '、' | '．' | '.') || number_text.chars().count() > 4 {
                return None;
            }
            (Style::CnComma, cn_number(number_text)?, at + p.len_utf8())
        }
    } else {
        return None;
    };
    let rest = line.get(end..)?;
    // Some writers put a 、 or a space after （一）; it is not part of the text.
    let skipped = rest.len()
        - rest
            .trim_start_matches(|c: char| is_blank(c) || c == '、')
            .len();
    Some(Marker {
        style,
        number,
        rest: end + skipped,
    })
}

/// Whether a line is a part heading (第一部分 / 第二章), which ranks above 一、.
pub(crate) fn is_part_heading(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('第') else {
        return false;
    };
    let numeral_len: usize = rest
        .chars()
        .take_while(|&c| is_cn_numeral(c) || is_digit(c))
        .map(char::len_utf8)
        .sum();
    numeral_len > 0
        && rest
            .get(numeral_len..)
            .is_some_and(|r| r.starts_with("部分") || r.starts_with('章'))
}

/// Bracket families checked for balance; full- and half-width parentheses are one family
/// because plans mix them ("（区发改局牵头)").
fn bracket_family(c: char) -> Option<(usize, bool)> {
    Some(match c {
        '(' | '（' => (0, true),
        ')' | '）' => (0, false),
        '〈' => (1, true),
        '〉' => (1, false),
        '《' => (2, true),
        '》' => (2, false),
        '【' => (3, true),
        '】' => (3, false),
        '〔' => (4, true),
        '〕' => (4, false),
        _ => return None,
    })
}

/// What is wrong with the brackets of a line, if anything.
pub(crate) fn bracket_problem(line: &str) -> Option<String> {
    let mut stack: Vec<(usize, char)> = Vec::new();
    for c in line.chars() {
        match bracket_family(c) {
            Some((family, true)) => stack.push((family, c)),
            Some((family, false)) => match stack.pop() {
                Some((open_family, _)) if open_family == family => {}
                Some((_, open)) => {
                    return Some(format!("unbalanced brackets: '{open}' is closed by '{c}'"));
                }
                None => return Some(format!("unbalanced brackets: '{c}' has no opening bracket")),
            },
            None => {}
        }
    }
    stack
        .first()
        .map(|(_, open)| format!("unbalanced brackets: '{open}' is never closed"))
}

/// Bracket depth change of a character, for splitting at top level only. Quotes count too, so a
/// 、 inside “…” does not split.
pub(crate) fn depth_delta(c: char) -> i32 {
    match c {
        '(' | '（' | '〈' | '＜' | '<' | '《' | '【' | '[' | '〔' | '“' | '「' => 1,
        ')' | '）' | '〉' | '＞' | '>' | '》' | '】' | ']' | '〕' | '”' | '」' => -1,
        _ => 0,
    }
}

/// Splits `text` at characters matching `sep` that are outside any bracket.
pub(crate) fn split_top(text: &str, sep: impl Fn(char) -> bool) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        depth = (depth + depth_delta(c)).max(0);
        if depth == 0 && sep(c) {
            parts.push(text.get(start..i).unwrap_or(""));
            start = i + c.len_utf8();
        }
    }
    parts.push(text.get(start..).unwrap_or(""));
    parts
}

/// Byte offset of the opening parenthesis that matches the closing one ending `text`.
pub(crate) fn matching_open(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices().rev() {
        if is_close_paren(c) {
            depth += 1;
        } else if is_open_paren(c) {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numbers() {
        assert_eq!(cn_number("一"), Some(1));
        assert_eq!(cn_number("十"), Some(10));
        assert_eq!(cn_number("十四"), Some(14));
        assert_eq!(cn_number("二十"), Some(20));
        assert_eq!(cn_number("二十三"), Some(23));
        assert_eq!(cn_number("一百零五"), Some(105));
        assert_eq!(cn_number("一二"), None);
        assert_eq!(cn_number(""), None);
        assert_eq!(cn_number("零"), None);
        assert_eq!(year_number("二〇一四"), Some(2014));
        assert_eq!(year_number("２０１５"), Some(2015));
    }

    #[test]
    fn markers() {
        fn m(s: &str) -> Option<(Style, u32, &str)> {
            marker(s).map(|m| (m.style, m.number, &s[m.rest..]))
        }
        assert_eq!(m("1.深入推进"), Some((Style::ArabicDot, 1, "深入推进")));
        assert_eq!(m("3. 推进"), Some((Style::ArabicDot, 3, "推进")));
        assert_eq!(m("１２．推进"), Some((Style::ArabicDot, 12, "推进")));
        assert_eq!(m("4、推进"), Some((Style::ArabicDot, 4, "推进")));
        assert_eq!(m("（十一）推进"), Some((Style::ParenCn, 11, "推进")));
        assert_eq!(m("(二) 推进"), Some((Style::ParenCn, 2, "推进")));
        assert_eq!(m("（3）推进"), Some((Style::ParenArabic, 3, "推进")));
        assert_eq!(
            m("二、2014年重点改革项目"),
            Some((Style::CnComma, 2, "2014年重点改革项目"))
        );
        assert_eq!(m("②推进"), Some((Style::Circled, 2, "推进")));
        assert_eq!(m("2）推进"), Some((Style::ParenArabic, 2, "推进")));
        assert_eq!(m("1.5亿元"), None);
        assert_eq!(m("2014年3月20日"), None);
        assert_eq!(m("2014.3"), None);
        assert_eq!(m("一是加强组织领导"), None);
        assert_eq!(m("(区法院牵头)"), None);
        assert_eq!(m("（"), None);
        assert_eq!(m(""), None);
        assert!(is_part_heading("第一部分 总体要求"));
        assert!(!is_part_heading("第一批试点"));
    }

    #[test]
    fn brackets() {
        assert_eq!(bracket_problem("（区发改局牵头)"), None);
        assert_eq!(bracket_problem("《A<B>C》"), None);
        assert!(bracket_problem("（区发改局牵头").is_some());
        assert!(bracket_problem("区发改局牵头)").is_some());
        assert!(bracket_problem("（区发改局》").is_some());
        assert_eq!(
            split_top("A、B（C、D）、E", |c| c == '、'),
            vec!["A", "B（C、D）", "E"]
        );
        assert_eq!(matching_open("x(a(b)c)"), Some(1));
        assert_eq!(matching_open("a)"), None);
    }
}
