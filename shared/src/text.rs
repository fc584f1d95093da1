//! User-written text fields: trimmed, bounded, free of control characters. Parsed once here so
//! that `apply` never stores a string that breaks a screen or a spreadsheet.

use crate::message::Msg;
use serde::Serialize;

/// Why a text was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum TextError {
    /// Nothing but white space.
    Empty {
        /// Field name.
        field: Msg,
    },
    /// Over the limit.
    TooLong {
        /// Field name.
        field: Msg,
        /// Limit in characters.
        max: usize,
    },
}

impl TextError {
    /// What the user is told, in both languages.
    pub fn message(&self) -> Msg {
        match self {
            TextError::Empty { field } => crate::msg!(
                "{field}不能为空",
                "{field} cannot be empty",
                field = field.sentence_start()
            ),
            TextError::TooLong { field, max } => crate::msg!(
                "{field}过长（最多{max}字）",
                "{field} is too long (at most {max} characters)",
                field = field.sentence_start(),
                max = max
            ),
        }
    }
}

/// The Chinese (`message` has both).
impl std::fmt::Display for TextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message().zh())
    }
}

/// A bounded text field.
#[derive(Clone, Debug)]
pub struct Field {
    /// Name shown in errors (in English, as it reads inside a sentence).
    pub name: Msg,
    /// Longest allowed, in characters.
    pub max: usize,
    /// Whether it may be empty.
    pub required: bool,
    /// Whether line breaks are kept (notes, comments) or folded to spaces (titles).
    pub multiline: bool,
}

/// A task's title.
pub const TASK_TITLE: Field = Field {
    name: Msg::new("标题", "title"),
    max: 200,
    required: true,
    multiline: false,
};
/// A task's notes.
pub const TASK_NOTES: Field = Field {
    name: Msg::new("说明", "note"),
    max: 10_000,
    required: false,
    multiline: true,
};
/// A checklist step.
pub const STEP_TEXT: Field = Field {
    name: Msg::new("步骤", "step"),
    max: 300,
    required: true,
    multiline: false,
};
/// Why a task is blocked.
pub const BLOCKED_REASON: Field = Field {
    name: Msg::new("受阻原因", "blocking reason"),
    max: 500,
    required: true,
    multiline: true,
};
/// A comment.
pub const COMMENT: Field = Field {
    name: Msg::new("意见", "comment"),
    max: 5_000,
    required: true,
    multiline: true,
};

/// One part of a work plan or report (steps, measures, schedule, progress, …).
pub const SUBMISSION_PART: Field = Field {
    name: Msg::new("报送内容", "submission text"),
    max: 20_000,
    required: false,
    multiline: true,
};
/// The office's review comment on a submission.
pub const REVIEW_COMMENT: Field = Field {
    name: Msg::new("审核意见", "review comment"),
    max: 5_000,
    required: false,
    multiline: true,
};
/// A difficulty's title.
pub const DIFFICULTY_TITLE: Field = Field {
    name: Msg::new("问题", "problem"),
    max: 200,
    required: true,
    multiline: false,
};
/// Details of a difficulty, a coordination note or a resolution.
pub const DIFFICULTY_TEXT: Field = Field {
    name: Msg::new("说明", "description"),
    max: 5_000,
    required: false,
    multiline: true,
};
/// A leader's instruction or the answer to one.
pub const INSTRUCTION: Field = Field {
    name: Msg::new("批示", "instruction"),
    max: 5_000,
    required: true,
    multiline: true,
};
/// An evaluation's text.
pub const FINDINGS: Field = Field {
    name: Msg::new("意见", "evaluation text"),
    max: 10_000,
    required: true,
    multiline: true,
};
/// What an inspection found.
pub const INSPECTION_FINDINGS: Field = Field {
    name: Msg::new("视察情况", "findings"),
    max: 10_000,
    required: true,
    multiline: true,
};
/// A reminder's text.
pub const REMINDER: Field = Field {
    name: Msg::new("催办内容", "reminder text"),
    max: 1_000,
    required: true,
    multiline: true,
};
/// A bulletin's title.
pub const BULLETIN_TITLE: Field = Field {
    name: Msg::new("通报标题", "bulletin title"),
    max: 200,
    required: true,
    multiline: false,
};
/// A bulletin's text.
pub const BULLETIN_BODY: Field = Field {
    name: Msg::new("通报正文", "bulletin text"),
    max: 50_000,
    required: true,
    multiline: true,
};
/// An uploaded file's name.
pub const FILE_NAME: Field = Field {
    name: Msg::new("文件名", "file name"),
    max: 200,
    required: true,
    multiline: false,
};
/// Why the office adjusted a score.
pub const ADJUSTMENT_REASON: Field = Field {
    name: Msg::new("调整理由", "reason for the adjustment"),
    max: 1_000,
    required: true,
    multiline: true,
};

/// Why a unit asks for a later due date (延期申请).
pub const POSTPONEMENT_REASON: Field = Field {
    name: Msg::new("延期理由", "reason for the postponement"),
    max: 1_000,
    required: true,
    multiline: true,
};
/// The office's note when it approves a postponement.
pub const DECISION_NOTE: Field = Field {
    name: Msg::new("审核意见", "review comment"),
    max: 1_000,
    required: false,
    multiline: true,
};
/// The office's reason when it declines one: the unit must know what to do instead.
pub const DECLINE_NOTE: Field = Field {
    name: Msg::new("不同意的理由", "reason for declining"),
    max: 1_000,
    required: true,
    multiline: true,
};

impl Field {
    /// The cleaned text, or why it can't be stored.
    pub fn parse(&self, raw: &str) -> Result<String, TextError> {
        let cleaned: String = raw
            .trim()
            .chars()
            .filter_map(|c| match c {
                '\n' if self.multiline => Some('\n'),
                '\r' => None,
                c if c.is_control() => Some(' ').filter(|_| c == '\n' || c == '\t'),
                c => Some(c),
            })
            .collect();
        if self.required && cleaned.trim().is_empty() {
            return Err(TextError::Empty {
                field: self.name.clone(),
            });
        }
        if cleaned.chars().count() > self.max {
            return Err(TextError::TooLong {
                field: self.name.clone(),
                max: self.max,
            });
        }
        Ok(cleaned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_controls_and_bounds_length() {
        assert_eq!(TASK_TITLE.parse("  a\u{0}b\nc ").as_deref(), Ok("ab c"));
        assert_eq!(TASK_NOTES.parse("a\r\nb").as_deref(), Ok("a\nb"));
        assert!(matches!(
            TASK_TITLE.parse("  "),
            Err(TextError::Empty { .. })
        ));
        assert!(matches!(
            TASK_TITLE.parse(&"字".repeat(201)),
            Err(TextError::TooLong { .. })
        ));
        assert!(TASK_NOTES.parse("").is_ok());
    }

    #[test]
    fn refusals_name_the_field_in_both_languages() {
        let Err(e) = TASK_TITLE.parse(&"字".repeat(201)) else {
            panic!("201 characters are over the limit");
        };
        assert_eq!(e.to_string(), "标题过长（最多200字）");
        assert_eq!(
            e.message().en(),
            "Title is too long (at most 200 characters)"
        );
        let Err(e) = COMMENT.parse(" ") else {
            panic!("a blank comment is refused");
        };
        assert_eq!(e.message().en(), "Comment cannot be empty");
    }
}
