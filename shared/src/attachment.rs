//! Evidence (佐证材料): files attached to tasks and submissions. The bytes are uploaded over plain
//! HTTP first (uploads are not mutations); `Attach` then records the attachment, and the server
//! checks that the upload exists and is the actor's before applying it.

use crate::actor::Actor;
use crate::entity::Item;
use crate::entity::{Entity, EntityKey, Millis, Space};
use crate::ids::{AttachmentId, ItemId, SubmissionId, TaskId, UnitId};
use crate::message::Msg;
use crate::mutation::{Change, Rejection};
use crate::op::{Op, SpaceOf, ensure_new, put};
use crate::permission::{self, Action};
use crate::state::State;
use crate::text;
use serde::{Deserialize, Serialize};

/// Default size limit of one file.
pub const DEFAULT_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// File types accepted, by extension, with the content type they are served as.
pub const ALLOWED_TYPES: &[(&str, &str)] = &[
    ("pdf", "application/pdf"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
];

/// The content type a file of this name is stored and served as, if its type is accepted.
pub fn content_type_for(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    ALLOWED_TYPES
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, t)| *t)
}

/// The refusal of a file whose type `content_type_for` does not accept (the server's upload
/// says the same).
pub const ACCEPTED_TYPES: Msg = Msg::new(
    "只接受 pdf、doc、docx、xls、xlsx、jpg、png 文件",
    "Only pdf, doc, docx, xls, xlsx, jpg and png files are accepted",
);

/// What `POST /api/uploads` answers: the upload's id (attach it with `Attach { id, .. }`) and
/// the file as stored — its cleaned display name, size and content type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadInfo {
    /// The upload's id, which becomes the attachment's.
    pub id: AttachmentId,
    /// File name, as shown (never used on disk).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Content type it is served as.
    pub content_type: String,
}

crate::tagged::adjacently_tagged! {
    tag = "to", content = "id";
    /// What a file is attached to.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum AttachedTo {
        /// A task (card).
        Task(TaskId),
        /// A work plan or report.
        Submission(SubmissionId),
    }
}

impl AttachedTo {
    /// The task, when it is attached to one.
    pub fn task(self) -> Option<TaskId> {
        match self {
            AttachedTo::Task(t) => Some(t),
            AttachedTo::Submission(_) => None,
        }
    }
}

/// An attached file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// Id (the upload's id).
    pub id: AttachmentId,
    /// The item it belongs to.
    pub item: ItemId,
    /// Where it is attached.
    pub to: AttachedTo,
    /// File name as uploaded.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Content type.
    pub content_type: String,
    /// The uploader's unit.
    pub unit: UnitId,
    /// The uploader's name.
    pub by_name: String,
    /// When attached.
    pub at: Millis,
    /// Removed attachments stay on record (and on disk) but are hidden.
    pub removed: bool,
    /// For evidence on a submission: the submission's unit, which sees it whoever uploaded it.
    #[serde(default)]
    pub for_unit: Option<UnitId>,
}

/// Whether `actor` may attach evidence to `to` (or hide it) on `item` now: working on the task,
/// or reporting on the item for a submission the unit may still edit. The browser asks it to
/// offer the controls; `Attach` and `Remove` check it.
pub fn check_target(
    state: &State,
    actor: &Actor,
    item: ItemId,
    to: AttachedTo,
) -> Result<(), Rejection> {
    let actor = &actor.in_state(state);
    let it = state.find::<Item>(item)?;
    match to {
        AttachedTo::Task(t) => {
            let task = state
                .task(t)
                .filter(|t| t.item == item)
                .ok_or_else(crate::state::missing::<crate::entity::Task>)?;
            permission::check(actor, it, Action::WorkOnTask(task))?;
        }
        AttachedTo::Submission(s) => {
            match state.get(&EntityKey::submission(s)) {
                // Evidence is part of what the office reviews: it changes with the text, while
                // the unit may edit it (a draft, or returned for changes), and not while it is
                // under review or once accepted.
                Some(Entity::Submission(sub)) if sub.item == item && !sub.editable() => {
                    return Err(Rejection::Invalid(crate::msg!(
                        "{kind}{state}，不能再增删佐证材料",
                        "This {kind} is {state}: its evidence can no longer be changed",
                        kind = sub.kind.in_sentence(),
                        state = sub.state.in_sentence()
                    )));
                }
                Some(Entity::Submission(sub)) if sub.item == item => {
                    crate::submission::check_drafter(state, sub, actor)?;
                }
                _ => return Err(crate::state::missing::<crate::submission::Submission>()),
            }
            permission::check(actor, it, Action::Report)?;
        }
    }
    Ok(())
}

fn target_key(to: AttachedTo) -> EntityKey {
    match to {
        AttachedTo::Task(t) => EntityKey::task(t),
        AttachedTo::Submission(s) => EntityKey::submission(s),
    }
}

/// Record an uploaded file as attached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attach {
    /// The upload's id.
    pub id: AttachmentId,
    /// The item.
    pub item: ItemId,
    /// Where.
    pub to: AttachedTo,
    /// File name (the server replaces it with the upload's).
    pub name: String,
    /// Size (the server replaces it with the upload's).
    pub size: u64,
    /// Client time.
    pub at: Millis,
}

impl Op for Attach {
    fn keys(&self) -> Vec<EntityKey> {
        vec![
            EntityKey::attachment(self.id),
            EntityKey::item(self.item),
            target_key(self.to),
        ]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Space(Space::Item(self.item))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        check_target(state, actor, self.item, self.to)
    }
    fn apply(&self, state: &mut State, actor: &Actor) -> Result<Vec<Change>, Rejection> {
        ensure_new(
            state,
            &EntityKey::attachment(self.id),
            Msg::new("附件", "attachment"),
        )?;
        let name = text::FILE_NAME.parse(&self.name)?;
        let content_type = content_type_for(&name).ok_or(Rejection::Invalid(ACCEPTED_TYPES))?;
        let a = Attachment {
            id: self.id,
            item: self.item,
            to: self.to,
            name,
            size: self.size,
            content_type: content_type.into(),
            unit: actor.unit,
            by_name: actor.name.clone(),
            at: self.at,
            removed: false,
            for_unit: match self.to {
                AttachedTo::Submission(id) => match state.get(&EntityKey::submission(id)) {
                    Some(Entity::Submission(sub)) => Some(sub.unit),
                    _ => None,
                },
                AttachedTo::Task(_) => None,
            },
        };
        Ok(vec![put(state, Entity::Attachment(a))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}

/// Hide an attachment (it stays on record).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Remove {
    /// Attachment.
    pub id: AttachmentId,
    /// Client time.
    pub at: Millis,
}

impl Op for Remove {
    fn keys(&self) -> Vec<EntityKey> {
        vec![EntityKey::attachment(self.id)]
    }
    fn space(&self) -> SpaceOf {
        SpaceOf::Entity(EntityKey::attachment(self.id))
    }
    fn authorize(&self, state: &State, actor: &Actor) -> Result<(), Rejection> {
        let a = state.find::<Attachment>(self.id)?;
        check_target(state, actor, a.item, a.to)
    }
    fn apply(&self, state: &mut State, _actor: &Actor) -> Result<Vec<Change>, Rejection> {
        let mut a = state.find::<Attachment>(self.id)?.clone();
        if a.removed {
            return Ok(vec![]);
        }
        a.removed = true;
        Ok(vec![put(state, Entity::Attachment(a))])
    }
    fn at(&self) -> Millis {
        self.at
    }
    fn at_mut(&mut self) -> &mut Millis {
        &mut self.at
    }
}
