//! User-written text fields: trimmed, bounded, free of control characters. Parsed once here so
//! that `apply` never stores a string that breaks a screen or a spreadsheet.

use serde::Serialize;

/// Why a text was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum TextError {
    /// Nothing but white space.
    #[error("{field}不能为空")]
    Empty {
        /// Field name (Chinese).
        field: &'static str,
    },
    /// Over the limit.
    #[error("{field}过长（最多{max}字）")]
    TooLong {
        /// Field name (Chinese).
        field: &'static str,
        /// Limit in characters.
        max: usize,
    },
}

/// A bounded text field.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// Name shown in errors.
    pub name: &'static str,
    /// Longest allowed, in characters.
    pub max: usize,
    /// Whether it may be empty.
    pub required: bool,
    /// Whether line breaks are kept (notes, comments) or folded to spaces (titles).
    pub multiline: bool,
}

/// A task's title.
pub const TASK_TITLE: Field = Field {
    name: "标题",
    max: 200,
    required: true,
    multiline: false,
};
/// A task's notes.
pub const TASK_NOTES: Field = Field {
    name: "说明",
    max: 10_000,
    required: false,
    multiline: true,
};
/// A checklist step.
pub const STEP_TEXT: Field = Field {
    name: "步骤",
    max: 300,
    required: true,
    multiline: false,
};
/// Why a task is blocked.
pub const BLOCKED_REASON: Field = Field {
    name: "受阻原因",
    max: 500,
    required: true,
    multiline: true,
};
/// A comment.
pub const COMMENT: Field = Field {
    name: "意见",
    max: 5_000,
    required: true,
    multiline: true,
};

/// One part of a work plan or report (steps, measures, schedule, progress, …).
pub const SUBMISSION_PART: Field = Field {
    name: "报送内容",
    max: 20_000,
    required: false,
    multiline: true,
};
/// The office's review comment on a submission.
pub const REVIEW_COMMENT: Field = Field {
    name: "审核意见",
    max: 5_000,
    required: false,
    multiline: true,
};
/// A difficulty's title.
pub const DIFFICULTY_TITLE: Field = Field {
    name: "问题",
    max: 200,
    required: true,
    multiline: false,
};
/// Details of a difficulty, a coordination note or a resolution.
pub const DIFFICULTY_TEXT: Field = Field {
    name: "说明",
    max: 5_000,
    required: false,
    multiline: true,
};
/// A leader's instruction or the answer to one.
pub const INSTRUCTION: Field = Field {
    name: "批示",
    max: 5_000,
    required: true,
    multiline: true,
};
/// An evaluation's or an inspection's text.
pub const FINDINGS: Field = Field {
    name: "意见",
    max: 10_000,
    required: true,
    multiline: true,
};
/// A reminder's text.
pub const REMINDER: Field = Field {
    name: "催办内容",
    max: 1_000,
    required: true,
    multiline: true,
};
/// A bulletin's title.
pub const BULLETIN_TITLE: Field = Field {
    name: "通报标题",
    max: 200,
    required: true,
    multiline: false,
};
/// A bulletin's text.
pub const BULLETIN_BODY: Field = Field {
    name: "通报正文",
    max: 50_000,
    required: true,
    multiline: true,
};
/// An uploaded file's name.
pub const FILE_NAME: Field = Field {
    name: "文件名",
    max: 200,
    required: true,
    multiline: false,
};
/// Why the office adjusted a score.
pub const ADJUSTMENT_REASON: Field = Field {
    name: "调整理由",
    max: 1_000,
    required: true,
    multiline: true,
};

/// Why a unit asks for a later due date (延期申请).
pub const POSTPONEMENT_REASON: Field = Field {
    name: "延期理由",
    max: 1_000,
    required: true,
    multiline: true,
};
/// The office's note when it approves a postponement.
pub const DECISION_NOTE: Field = Field {
    name: "审核意见",
    max: 1_000,
    required: false,
    multiline: true,
};
/// The office's reason when it declines one: the unit must know what to do instead.
pub const DECLINE_NOTE: Field = Field {
    name: "不同意的理由",
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
            return Err(TextError::Empty { field: self.name });
        }
        if cleaned.chars().count() > self.max {
            return Err(TextError::TooLong {
                field: self.name,
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
}
