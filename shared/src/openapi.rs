//! OpenAPI schemas (utoipa) for the types on the wire that are not derived where they are
//! defined: the id newtypes (UUID strings) and the two open-ended enums `Mutation` and `Entity`.
//! Only the backend enables the `openapi` feature, so none of this reaches the wasm build.
//!
//! `Mutation` and `Entity` are described as their envelopes (`{type, args}` and `{kind, data}`)
//! rather than variant by variant: they grow with every workflow feature, and an envelope can't
//! fall out of date, while a hand-kept list of variants would. The contents are checked by the
//! server's own deserialization (a malformed mutation is a 400).

use crate::entity::{Entity, EntityKey};
use crate::ids;
use crate::message::Msg;
use crate::mutation::{Mutation, Rejection};
use std::borrow::Cow;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{RefOr, schema};
use utoipa::{PartialSchema, ToSchema};

fn uuid_string(description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .description(Some(description))
        .into()
}

macro_rules! uuid_schema {
    ($($name:ident),* $(,)?) => {$(
        impl PartialSchema for ids::$name {
            fn schema() -> RefOr<Schema> {
                uuid_string(stringify!($name))
            }
        }
        impl ToSchema for ids::$name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

uuid_schema!(
    UnitId,
    ItemId,
    TaskId,
    StepId,
    CommentId,
    UserId,
    ClientId,
    ClientGroupId,
    AttachmentId,
    BulletinId
);

impl PartialSchema for EntityKey {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("`kind/id`, e.g. `task/0190…`"))
            .into()
    }
}
impl ToSchema for EntityKey {}

/// An object of any shape (the contents of a tagged enum's variant).
fn any_object() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(schema::SchemaType::AnyValue)
}

impl PartialSchema for Mutation {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A change to board state: `type` is the snake_case variant name \
                 (`create_task`, `move_task`, …), `args` its fields.",
            ))
            .property(
                "type",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[a-z][a-z0-9_]*$")),
            )
            .required("type")
            .property("args", any_object())
            .into()
    }
}
impl ToSchema for Mutation {}

impl PartialSchema for Entity {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A synced entity: `kind` (`plan`, `unit`, `item`, `task`, `comment`, …) and its \
                 `data`.",
            ))
            .property("kind", ObjectBuilder::new().schema_type(Type::String))
            .required("kind")
            .property("data", any_object())
            .required("data")
            .into()
    }
}
impl ToSchema for Entity {}

impl PartialSchema for Rejection {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Why a mutation was refused for good: `code` (`denied`, `not_found`, \
                 `archived`, `invalid`, …) and, for most codes, a message to show, in Chinese \
                 and English (`not_found` names what is missing: a noun).",
            ))
            .property("code", ObjectBuilder::new().schema_type(Type::String))
            .required("code")
            .property("message", Msg::schema())
            .into()
    }
}
impl ToSchema for Rejection {}
