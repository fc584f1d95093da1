//! Deadlines from the requirements: when work plans are due, which reports are required.

use super::scan::{arabic_number, cn_number, year_number};
use crate::plan::Deadlines;
use chrono::NaiveDate;

/// A date as a plan writes it, before the plan's year fills in a missing year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DateExpr {
    /// Character position in the sentence, to tell which date is nearest to 方案.
    at: usize,
    year: Option<i32>,
    month: u32,
    /// `None` for the end of the month (3月底, 3月末, 3月下旬, 3月份).
    day: Option<u32>,
}

impl DateExpr {
    fn resolve(self, plan_year: Option<i32>) -> Option<NaiveDate> {
        let year = self.year.or(plan_year)?;
        match self.day {
            Some(day) => NaiveDate::from_ymd_opt(year, self.month, day),
            None => last_day(year, self.month),
        }
    }
}

fn last_day(year: i32, month: u32) -> Option<NaiveDate> {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)?.pred_opt()
}

fn is_numeral(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c) || "〇零一二两三四五六七八九十".contains(c)
}

fn number(chars: &[char]) -> Option<u32> {
    let s: String = chars.iter().collect();
    arabic_number(&s).or_else(|| cn_number(&s))
}

/// Every date expression in a sentence: 3月底, 2014年3月31日, 三月底前, 4月上旬, 第一季度.
fn dates(sentence: &[char]) -> Vec<DateExpr> {
    let mut found = Vec::new();
    for (k, &c) in sentence.iter().enumerate() {
        if c == '季' && sentence.get(k + 1) == Some(&'度') {
            let quarter = k
                .checked_sub(1)
                .and_then(|i| sentence.get(i))
                .and_then(|&q| number(&[q]));
            if let Some(q @ 1..=4) = quarter {
                found.push(DateExpr {
                    at: k,
                    year: None,
                    month: q * 3,
                    day: None,
                });
            }
            continue;
        }
        if c != '月' {
            continue;
        }
        let mut start = k;
        while start > 0 && k - start < 3 && sentence.get(start - 1).is_some_and(|&p| is_numeral(p))
        {
            start -= 1;
        }
        let Some(month) = sentence
            .get(start..k)
            .and_then(number)
            .filter(|m| (1..=12).contains(m))
        else {
            continue;
        };
        let year = start
            .checked_sub(5)
            .filter(|_| sentence.get(start - 1) == Some(&'年'))
            .and_then(|y| sentence.get(y..start - 1))
            .and_then(|digits| year_number(&digits.iter().collect::<String>()));
        let after: String = sentence.iter().skip(k + 1).take(4).collect();
        let day = if after.starts_with(['底', '末'])
            || after.starts_with("下旬")
            || after.starts_with("份")
        {
            None
        } else if after.starts_with("上旬") {
            Some(10)
        } else if after.starts_with("中旬") {
            Some(20)
        } else {
            let digits: Vec<char> = after.chars().take_while(|&c| is_numeral(c)).collect();
            let unit = after.chars().nth(digits.len());
            match (number(&digits), unit) {
                (Some(d), Some('日' | '号')) => Some(d),
                _ => continue,
            }
        };
        found.push(DateExpr {
            at: start,
            year,
            month,
            day,
        });
    }
    found
}

const REPORT_VERBS: [&str; 6] = ["报送", "上报", "报告", "提交", "总结", "汇报"];

/// Reads the deadlines from `primary` (the requirements), falling back to `fallback` (the rest of
/// the document outside items) for whatever the requirements do not say.
pub(crate) fn find(primary: &[&str], fallback: &[&str], plan_year: Option<i32>) -> Deadlines {
    let mut deadlines = scan(primary, plan_year);
    if deadlines.work_plan.is_none() || !deadlines.half_year_report || !deadlines.annual_report {
        let more = scan(fallback, plan_year);
        deadlines.work_plan = deadlines.work_plan.or(more.work_plan);
        deadlines.half_year_report |= more.half_year_report;
        deadlines.annual_report |= more.annual_report;
    }
    deadlines
}

fn scan(texts: &[&str], plan_year: Option<i32>) -> Deadlines {
    let mut deadlines = Deadlines::default();
    let sentences = texts
        .iter()
        .flat_map(|t| t.split(['。', '；', ';', '！', '!', '\n']));
    for sentence in sentences {
        let reports = REPORT_VERBS.iter().any(|v| sentence.contains(v));
        if reports && (sentence.contains("半年") || sentence.contains("年中")) {
            deadlines.half_year_report = true;
        }
        if reports
            && ["全年", "年度", "年终", "年底", "年末"]
                .iter()
                .any(|w| sentence.contains(w))
        {
            deadlines.annual_report = true;
        }
        if deadlines.work_plan.is_some() {
            continue;
        }
        let chars: Vec<char> = sentence.chars().collect();
        let Some(plan_at) = chars.windows(2).position(|w| w == ['方', '案']) else {
            continue;
        };
        let found = dates(&chars);
        // The date that governs 方案 is the last one before it ("3月底前报送…工作方案"), else the
        // first after it ("工作方案于3月底前报送").
        let chosen = found
            .iter()
            .rev()
            .find(|d| d.at < plan_at)
            .or_else(|| found.first());
        deadlines.work_plan = chosen.and_then(|d| d.resolve(plan_year));
    }
    deadlines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn seed_requirement() {
        let text = "二是制定实施方案。各牵头单位要按照改革目标分解任务,明确实施步骤、工作措施、进度安排,在3月底前报送详细工作方案至区全面深化改革工作领导小组综合办公室,并及时报送半年、全年改革情况。";
        let deadlines = find(&[text], &[], Some(2014));
        assert_eq!(deadlines.work_plan, d(2014, 3, 31));
        assert!(deadlines.half_year_report && deadlines.annual_report);
    }

    #[test]
    fn date_forms() {
        let wp = |s: &str| find(&[s], &[], Some(2015)).work_plan;
        assert_eq!(wp("于4月15日前报送实施方案"), d(2015, 4, 15));
        assert_eq!(wp("实施方案须在二月底前报区改革办"), d(2015, 2, 28));
        assert_eq!(wp("2016年1月10日前提交工作方案"), d(2016, 1, 10));
        assert_eq!(wp("第一季度内报送工作方案"), d(2015, 3, 31));
        assert_eq!(wp("4月上旬报送工作方案"), d(2015, 4, 10));
        assert_eq!(wp("工作方案尽快报送"), None);
        assert_eq!(find(&["3月底前报送工作方案"], &[], None).work_plan, None);
    }

    #[test]
    fn reports_need_a_reporting_verb() {
        let deadlines = find(
            &[
                "改革实施落实情况将纳入区年度勤政考核",
                "定期通报改革工作进展情况",
            ],
            &[],
            None,
        );
        assert!(!deadlines.half_year_report && !deadlines.annual_report);
        let deadlines = find(
            &["每年6月底和12月底前分别报送半年和年度工作总结"],
            &[],
            None,
        );
        assert!(deadlines.half_year_report && deadlines.annual_report);
    }
}
