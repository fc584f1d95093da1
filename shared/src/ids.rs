//! Typed identifiers. Every id is a UUID (v7 when made by a client, v5 when derived from the plan
//! document so re-imports find the same rows); the types keep a task id from being used as a unit id.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh time-ordered id (UUID v7). Call at the edge, never inside `apply`.
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

id_type!(
    /// A unit (单位).
    UnitId,
    /// A reform item (改革项目).
    ItemId,
    /// A task, i.e. a card on a board.
    TaskId,
    /// A checklist step inside a task.
    StepId,
    /// A comment on an item or a task.
    CommentId,
    /// A user account.
    UserId,
    /// One browser tab's sync client (Replicache's client id).
    ClientId,
    /// All sync clients of one browser profile (they share storage).
    ClientGroupId,
    /// A work plan or report (报送材料) of an item.
    SubmissionId,
    /// A difficulty raised on an item (困难和问题).
    DifficultyId,
    /// A leader's instruction (领导批示).
    InstructionId,
    /// An evaluation of an item by the People's Congress or the CPPCC (评议).
    EvaluationId,
    /// An inspection visit (视察).
    InspectionId,
    /// A reminder to a unit (催办).
    ReminderId,
    /// A progress bulletin (通报).
    BulletinId,
    /// An uploaded file attached to a task or a submission (佐证材料).
    AttachmentId,
    /// An adjustment of a unit's assessment score.
    AdjustmentId,
);

/// Namespace for ids derived from the plan document, so that importing the same document twice
/// finds the same rows.
const PLAN_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a9e_3b7d_4e21_9a0f_5c8d_1e2b_7a44);

/// The id of the item with this number in the plan.
pub fn item_id_for_number(number: u32) -> ItemId {
    ItemId(Uuid::new_v5(
        &PLAN_NAMESPACE,
        format!("item:{number}").as_bytes(),
    ))
}

/// The id of the unit with this canonical name.
pub fn unit_id_for_name(name: &str) -> UnitId {
    UnitId(Uuid::new_v5(
        &PLAN_NAMESPACE,
        format!("unit:{name}").as_bytes(),
    ))
}

/// The id of `item`'s submission of a kind (one work plan, one half-year and one annual report
/// per item), so two lead-unit users starting the same draft offline meet on one row.
pub fn submission_id(item: ItemId, kind: &str) -> SubmissionId {
    SubmissionId(Uuid::new_v5(
        &PLAN_NAMESPACE,
        format!("submission:{item}:{kind}").as_bytes(),
    ))
}

/// The id of the automatic reminder about `subject` on `date`, so the daily job creates each
/// reminder once however often it runs.
pub fn daily_reminder_id(subject: &str, date: chrono::NaiveDate) -> ReminderId {
    ReminderId(Uuid::new_v5(
        &PLAN_NAMESPACE,
        format!("reminder:{subject}:{date}").as_bytes(),
    ))
}
