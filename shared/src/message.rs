//! What a user is told (a refusal, a notice), in both languages of the interface. A message is
//! written where it is made, Chinese and English side by side, so neither can be forgotten and
//! no table keyed by Chinese text has to be kept in step; the browser shows the one of its
//! current language. `Display` is the Chinese, the default language: what logs, the audit
//! trail and the server's records of rejections keep.

use crate::account::Language;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A message to a user, in Chinese and in English.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Msg {
    /// In Chinese.
    zh: Cow<'static, str>,
    /// In English.
    en: Cow<'static, str>,
}

impl Msg {
    /// A fixed message. `const`, so permission refusals and field names can be constants.
    pub const fn new(zh: &'static str, en: &'static str) -> Msg {
        Msg {
            zh: Cow::Borrowed(zh),
            en: Cow::Borrowed(en),
        }
    }

    /// A message made at run time (what [`msg!`](crate::msg) builds).
    pub fn owned(zh: String, en: String) -> Msg {
        Msg {
            zh: Cow::Owned(zh),
            en: Cow::Owned(en),
        }
    }

    /// A name or a user's own text, the same in both languages (区发改局, a task's title).
    pub fn as_written(text: &str) -> Msg {
        Msg::owned(text.to_owned(), text.to_owned())
    }

    /// The Chinese.
    pub fn zh(&self) -> &str {
        &self.zh
    }

    /// The English.
    pub fn en(&self) -> &str {
        &self.en
    }

    /// The text in `language`.
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Zh => &self.zh,
            Language::En => &self.en,
        }
    }

    /// The English with its first letter in capitals, for a noun that starts a sentence
    /// ("task" → "Task not found"); the Chinese as it is.
    pub fn sentence_start(&self) -> Msg {
        Msg::owned(self.zh.to_string(), capitalized(&self.en))
    }
}

/// `text` with its first letter in capitals, if it is an ASCII letter: English as this project
/// writes it. Unicode's case tables (~20 KB) would otherwise be in the wasm every phone loads,
/// for words that never need them; Chinese has no case.
pub fn capitalized(text: &str) -> String {
    let mut out = text.to_string();
    if let Some(first) = out.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    out
}

/// "1 task", "3 tasks": an English count with its noun (a regular plural, as every noun counted
/// in this project's English has).
pub fn counted<N: fmt::Display + PartialEq + From<u8>>(n: N, noun: &str) -> String {
    if n == N::from(1) {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.zh)
    }
}

/// "找不到任务" / "Task not found": what a refusal says when `what` (a noun) is missing. The
/// sync's rejections and the API's 404s say it alike.
pub fn not_found(what: &Msg) -> Msg {
    crate::msg!(
        "找不到{what}",
        "{what} not found",
        what = what.sentence_start()
    )
}

/// A value put into a message by [`msg!`](crate::msg): a message or a date is told in each
/// language its own way, a name or a number the same in both.
pub trait Told {
    /// As written in `language`.
    fn told(&self, language: Language) -> Cow<'_, str>;
}

impl Told for Msg {
    fn told(&self, language: Language) -> Cow<'_, str> {
        Cow::Borrowed(self.get(language))
    }
}

impl Told for str {
    fn told(&self, _: Language) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl Told for String {
    fn told(&self, _: Language) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl<T: Told + ?Sized> Told for &T {
    fn told(&self, language: Language) -> Cow<'_, str> {
        (**self).told(language)
    }
}

/// 2014年3月31日 in Chinese, 31 Mar 2014 in English.
impl Told for NaiveDate {
    fn told(&self, language: Language) -> Cow<'_, str> {
        Cow::Owned(match language {
            Language::Zh => crate::board::zh_date(*self),
            Language::En => crate::board::en_date(*self),
        })
    }
}

macro_rules! told_as_written {
    ($($ty:ty),*) => {$(
        impl Told for $ty {
            fn told(&self, _: Language) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
        }
    )*};
}

told_as_written!(u8, u16, u32, u64, usize, i8, i16, i32, i64, char);

/// A [`Msg`] made with `format!` in each language:
/// `msg!("每个任务最多{MAX_STEPS}个步骤", "A task can have at most {MAX_STEPS} steps")`.
/// Values named after the two texts (`name = expr`) are evaluated once and put in each text as
/// that language tells them ([`Told`]: a `Msg` or a date in its own language), so every named
/// value must appear in both texts; plain variables in braces are captured as `format!` does.
#[macro_export]
macro_rules! msg {
    ($zh:literal, $en:literal $(,)?) => {
        $crate::message::Msg::owned(format!($zh), format!($en))
    };
    ($zh:literal, $en:literal, $($name:ident = $value:expr),+ $(,)?) => {{
        use $crate::message::Told as _;
        $(let $name = &$value;)+
        $crate::message::Msg::owned(
            format!($zh, $($name = $name.told($crate::account::Language::Zh)),+),
            format!($en, $($name = $name.told($crate::account::Language::En)),+),
        )
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_gets_its_own_text_and_values() {
        let what = Msg::new("任务", "task");
        let due = NaiveDate::from_ymd_opt(2014, 3, 31).unwrap_or_default();
        let n = 3;
        let m = crate::msg!(
            "{what}截至{due}共{n}项",
            "{n} of {what} by {due}",
            what = what,
            due = due
        );
        assert_eq!(m.zh(), "任务截至2014年3月31日共3项");
        assert_eq!(m.en(), "3 of task by 31 Mar 2014");
        assert_eq!(m.to_string(), m.zh(), "Display is the Chinese");
        assert_eq!(m.get(Language::En), m.en());
        assert_eq!(what.sentence_start().en(), "Task");
        assert_eq!(capitalized("work plan overdue"), "Work plan overdue");
        assert_eq!(capitalized("任务"), "任务", "no case, no change");
        assert_eq!(capitalized(""), "");
    }

    #[test]
    fn travels_as_both_texts() -> Result<(), serde_json::Error> {
        let m = Msg::new("评分应在1到5之间", "The score is from 1 to 5");
        let json = serde_json::to_value(&m)?;
        assert_eq!(
            json,
            serde_json::json!({"zh": "评分应在1到5之间", "en": "The score is from 1 to 5"})
        );
        assert_eq!(serde_json::from_value::<Msg>(json)?, m);
        Ok(())
    }
}
