//! The document's head (and its signature block): title, issuing offices, date, preamble.

use super::scan::{small_number, year_number};
use crate::unit::is_blank;
use chrono::NaiveDate;

/// What the head of a plan document says.
#[derive(Debug, Default)]
pub(crate) struct Header {
    pub title: Option<String>,
    pub issuers: Vec<String>,
    pub issue_date: Option<NaiveDate>,
    pub preamble: Vec<String>,
}

/// Words a plan's title ends in or contains.
const PLAN_WORDS: [&str; 8] = [
    "计划", "方案", "要点", "安排", "意见", "任务", "清单", "规划",
];

/// How issuing offices' names end.
const ISSUER_ENDINGS: [&str; 12] = [
    "办公室",
    "办公厅",
    "人民政府",
    "委员会",
    "区委",
    "市委",
    "县委",
    "党委",
    "工委",
    "政府",
    "领导小组",
    "局",
];

fn trim(text: &str) -> &str {
    text.trim_matches(is_blank)
}

/// A line that is nothing but a date: 2014年3月20日, 二〇一四年三月二十日, （2015年2月10日）,
/// 2014年3月20日印发.
pub(crate) fn date_line(text: &str) -> Option<NaiveDate> {
    let mut t = trim(text);
    let mut noted = false;
    if let Some(inner) = t
        .strip_prefix(['(', '（'])
        .and_then(|s| s.strip_suffix([')', '）']))
    {
        t = trim(inner);
        noted = true;
    }
    for tail in ["印发", "发布", "通过"] {
        t = t.strip_suffix(tail).unwrap_or(t);
    }
    let t: String = t.chars().filter(|&c| !is_blank(c)).collect();
    let (year, rest) = t.split_once('年')?;
    let (month, rest) = rest.split_once('月')?;
    let (day, after) = rest.split_once(['日', '号'])?;
    // A note under the title may go on after the date: （2016年3月1日区委…会议审议通过）.
    if !after.is_empty() && !noted {
        return None;
    }
    NaiveDate::from_ymd_opt(year_number(year)?, small_number(month)?, small_number(day)?)
}

fn has_sentence_punctuation(text: &str) -> bool {
    text.contains([
        '。', '，', ',', '；', ';', '：', ':', '、', '《', '》', '“', '”', '！', '？',
    ])
}

fn is_issuer(text: &str) -> bool {
    let t = trim(text);
    let len = t.chars().count();
    (4..=40).contains(&len)
        && !has_sentence_punctuation(t)
        && !t.chars().any(|c| c.is_ascii_digit() || is_blank(c))
        && !PLAN_WORDS.iter().any(|w| t.contains(w))
        && ISSUER_ENDINGS.iter().any(|e| t.ends_with(e))
}

/// The issuing offices a line names: one office, or several separated by spaces or 、.
pub(crate) fn issuers_in(text: &str) -> Option<Vec<String>> {
    let t = trim(text);
    if is_issuer(t) {
        return Some(vec![t.to_owned()]);
    }
    let parts: Vec<&str> = t
        .split(|c: char| is_blank(c) || c == '、')
        .filter(|p| !p.is_empty())
        .collect();
    (parts.len() >= 2 && parts.iter().all(|p| is_issuer(p)))
        .then(|| parts.into_iter().map(str::to_owned).collect())
}

/// A document number line: 深盐办字〔2013〕15号.
fn is_doc_number(text: &str) -> bool {
    let t = trim(text);
    t.chars().count() <= 30 && t.ends_with('号') && t.contains(['〔', '[', '［', '('])
}

/// Lines of the signature block and the distribution notes after it.
pub(crate) fn is_trailer(text: &str) -> bool {
    let t = trim(text);
    date_line(t).is_some()
        || issuers_in(t).is_some()
        || ["抄送", "印发", "附件", "主题词", "（此件", "(此件", "此件"]
            .iter()
            .any(|p| t.starts_with(p))
}

/// The text between 《》, the first such.
fn book_title(text: &str) -> Option<&str> {
    let start = text.find('《')? + '《'.len_utf8();
    let end = start + text.get(start..)?.find('》')?;
    text.get(start..end).map(trim).filter(|t| !t.is_empty())
}

fn is_title_like(text: &str) -> bool {
    let t = trim(text);
    t.chars().count() <= 80
        && !t.contains('。')
        && !t.ends_with(['：', ':', '，', ','])
        && !t.starts_with("现将")
        && PLAN_WORDS.iter().any(|w| t.contains(w))
}

enum Class<'a> {
    Date(NaiveDate),
    Issuers(Vec<String>),
    /// Notice trappings: document number, addressee, cover note.
    Skip,
    Title,
    Text(&'a str),
}

/// Reads the head of the document: the lines before the first section or item.
pub(crate) fn read(lines: &[&str]) -> Header {
    let mut header = Header::default();
    let mut from_cover: Option<String> = None;
    let classes: Vec<Class<'_>> = lines
        .iter()
        .map(|&line| {
            let t = trim(line);
            if let Some(date) = date_line(t) {
                return Class::Date(date);
            }
            if is_doc_number(t) {
                return Class::Skip;
            }
            // 现将《…》印发给你们 / 关于印发《…》的通知: the title of what is attached.
            let cover = t.starts_with("现将")
                || t.contains("印发给")
                || t.contains("关于印发")
                || (t.starts_with("关于") && t.contains("通知"))
                || (t.contains('《') && t.ends_with("通知"));
            if cover {
                if from_cover.is_none() {
                    from_cover = book_title(t).map(str::to_owned);
                }
                return Class::Skip;
            }
            if t.ends_with(['：', ':']) && t.chars().count() <= 80 && !t.contains('。') {
                return Class::Skip;
            }
            if let Some(issuers) = issuers_in(t) {
                return Class::Issuers(issuers);
            }
            if is_title_like(t) {
                return Class::Title;
            }
            Class::Text(t)
        })
        .collect();
    let titles: Vec<usize> = classes
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, Class::Title))
        .map(|(i, _)| i)
        .collect();
    let chosen = titles
        .iter()
        .copied()
        .find(|&i| {
            from_cover
                .as_deref()
                .is_some_and(|b| lines.get(i).map(|l| trim(l)) == Some(b))
        })
        .or_else(|| titles.first().copied())
        .or_else(|| {
            // No line names a plan: a short heading-like line before any prose is the title,
            // unless a cover note named one.
            if from_cover.is_some() {
                return None;
            }
            let first_text = classes.iter().position(|c| matches!(c, Class::Text(_)))?;
            let line = trim(lines.get(first_text)?);
            let heading_like = line.chars().count() <= 60
                && !has_sentence_punctuation(line)
                && !line.starts_with('为');
            heading_like.then_some(first_text)
        });
    header.title = chosen
        .and_then(|i| lines.get(i))
        .map(|l| trim(l).to_owned())
        .or(from_cover);
    for (i, class) in classes.into_iter().enumerate() {
        match class {
            Class::Date(date) => {
                header.issue_date.get_or_insert(date);
            }
            Class::Issuers(issuers) => header.issuers.extend(issuers),
            Class::Skip => {}
            Class::Title | Class::Text(_) if chosen.is_some_and(|c| i <= c) => {}
            Class::Title => {
                if let Some(line) = lines.get(i) {
                    header.preamble.push(trim(line).to_owned());
                }
            }
            Class::Text(t) => header.preamble.push(t.to_owned()),
        }
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(date_line("2014年3月20日"), d(2014, 3, 20));
        assert_eq!(date_line("二〇一四年三月二十日"), d(2014, 3, 20));
        assert_eq!(date_line("（２０１５年２月１０日）"), d(2015, 2, 10));
        assert_eq!(date_line("2015年 2月 10日印发"), d(2015, 2, 10));
        assert_eq!(date_line("2014年2月30日"), None);
        assert_eq!(date_line("2014年重点改革计划"), None);
        assert_eq!(
            date_line("（2016年3月1日区委全面深化改革领导小组第五次会议审议通过）"),
            d(2016, 3, 1)
        );
        assert_eq!(date_line("2016年3月1日区委常委会审议通过"), None);
    }

    #[test]
    fn seed_head() {
        let lines = [
            "现将《盐田区2014年重点改革计划》印发给你们,请结合实际认真贯彻执行。",
            "中共深圳市盐田区委办公室",
            "深圳市盐田区人民政府办公室",
            "2014年3月20日",
            "盐田区2014年重点改革计划",
            "为深入学习贯彻党的十八届三中全会精神,制定本计划。",
        ];
        let header = read(&lines);
        assert_eq!(header.title.as_deref(), Some("盐田区2014年重点改革计划"));
        assert_eq!(
            header.issuers,
            ["中共深圳市盐田区委办公室", "深圳市盐田区人民政府办公室"]
        );
        assert_eq!(header.issue_date, NaiveDate::from_ymd_opt(2014, 3, 20));
        assert_eq!(
            header.preamble,
            ["为深入学习贯彻党的十八届三中全会精神,制定本计划。"]
        );
    }

    #[test]
    fn title_without_a_plan_word() {
        let header = read(&["福田区2015年重点改革项目", "为推进改革，制定本计划。"]);
        assert_eq!(header.title.as_deref(), Some("福田区2015年重点改革项目"));
        assert_eq!(header.preamble, ["为推进改革，制定本计划。"]);
        let header = read(&["为推进改革，制定本计划。"]);
        assert_eq!(header.title, None);
        assert_eq!(header.preamble.len(), 1);
    }

    #[test]
    fn notice_title_with_its_issuers() {
        let header = read(&[
            "中共深圳市南山区委办公室 深圳市南山区人民政府办公室关于印发《南山区2015年改革要点》的通知",
            "南山区2015年改革要点",
        ]);
        assert_eq!(header.title.as_deref(), Some("南山区2015年改革要点"));
        assert!(header.preamble.is_empty());
    }

    #[test]
    fn notice_head() {
        let lines = [
            "深福办发〔2015〕3号",
            "关于印发《福田区2015年全面深化改革工作要点》的通知",
            "各街道办事处，区直各单位：",
            "中共深圳市福田区委办公室  深圳市福田区人民政府办公室",
        ];
        let header = read(&lines);
        assert_eq!(
            header.title.as_deref(),
            Some("福田区2015年全面深化改革工作要点")
        );
        assert_eq!(header.issuers.len(), 2);
        assert!(header.preamble.is_empty());
        assert_eq!(
            issuers_in("中共盐田区委办公室、盐田区人民政府办公室"),
            Some(vec![
                "中共盐田区委办公室".to_owned(),
                "盐田区人民政府办公室".to_owned()
            ])
        );
    }
}
