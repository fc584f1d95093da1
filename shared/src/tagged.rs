//! Adjacently tagged enums (`{"kind": "task", "data": {…}}`) read without buffering.
//!
//! serde's derived `Deserialize` for an adjacently tagged enum must also accept the content
//! before the tag, so it buffers the content into its private `Content` tree and decodes every
//! variant a second time from that tree. For `Entity` and `Mutation` that second decoder of every
//! entity and argument type was a tenth of the browser's wasm. The `adjacently_tagged!` macro
//! keeps serde's derived `Serialize` (same attributes, same wire format) and reads through an
//! externally tagged mirror of the enum instead: the tag names the variant, the content is
//! decoded once, straight from the input.
//!
//! The tag comes first in everything this project writes (serde writes fields in declaration
//! order). Content before the tag is still accepted on the server, which may meet other clients,
//! by buffering into a `serde_json::Value` there; the browser only reads what the server and
//! its own IndexedDB wrote, and refuses it with a clear error instead of carrying the code.

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, VariantAccess, Visitor,
};
use std::fmt;
use std::marker::PhantomData;

/// Declares an adjacently tagged enum (`rename_all = "snake_case"`) with `Serialize` derived by
/// serde and `Deserialize` read tag first. Variants are newtype (`Task(Task)`) or struct
/// (`MoveTask { task: TaskId, … }`) variants; attributes on fields (docs, `#[serde(…)]`) apply to
/// both directions.
macro_rules! adjacently_tagged {
    (
        tag = $tag:literal, content = $content:literal;
        $(#[$attr:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vattr:meta])*
                $variant:ident
                $( { $( $(#[$fattr:meta])* $field:ident : $fty:ty ),* $(,)? } )?
                $( ( $inner:ty ) )?
            ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(serde::Serialize)]
        #[serde(tag = $tag, content = $content, rename_all = "snake_case")]
        $vis enum $name {
            $(
                $(#[$vattr])*
                $variant
                $( { $( $(#[$fattr])* $field : $fty ),* } )?
                $( ( $inner ) )?
            ),*
        }

        const _: () = {
            /// The same variants, externally tagged: serde reads these through `EnumAccess`,
            /// which needs no buffering.
            #[derive(serde::Deserialize)]
            #[serde(rename_all = "snake_case")]
            enum Mirror {
                $(
                    $variant
                    $( { $( $(#[$fattr])* $field : $fty ),* } )?
                    $( ( $inner ) )?
                ),*
            }

            impl From<Mirror> for $name {
                fn from(mirror: Mirror) -> Self {
                    match mirror {
                        $(
                            Mirror::$variant $( { $( $field ),* } )? $( ($crate::tagged::adjacently_tagged!(@bind $inner, value)) )?
                                => $name::$variant $( { $( $field ),* } )? $( ($crate::tagged::adjacently_tagged!(@bind $inner, value)) )?,
                        )*
                    }
                }
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    $crate::tagged::deserialize::<Mirror, D>(deserializer, $tag, $content)
                        .map(Self::from)
                }
            }
        };
    };
    // A newtype variant's one binding: the type only drives the repetition. The name comes from
    // the caller so the pattern and the expression share its hygiene.
    (@bind $inner:ty, $value:ident) => { $value };
}

pub(crate) use adjacently_tagged;

/// Reads `{tag: variant, content: value}` into the externally tagged `M`.
pub fn deserialize<'de, M, D>(
    deserializer: D,
    tag: &'static str,
    content: &'static str,
) -> Result<M, D::Error>
where
    M: de::Deserialize<'de>,
    D: Deserializer<'de>,
{
    deserializer.deserialize_map(TaggedVisitor {
        fields: Fields { tag, content },
        mirror: PhantomData,
    })
}

struct TaggedVisitor<M> {
    fields: Fields,
    mirror: PhantomData<M>,
}

impl<'de, M: de::Deserialize<'de>> Visitor<'de> for TaggedVisitor<M> {
    type Value = M;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "an object with `{}` and `{}`",
            self.fields.tag, self.fields.content
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<M, A::Error> {
        let fields = self.fields;
        match map.next_key_seed(fields)? {
            Some(Field::Tag) => {}
            Some(first) => return content_first(map, first, fields),
            None => return Err(de::Error::missing_field(fields.tag)),
        }
        let value = M::deserialize(Enum {
            map: &mut map,
            fields,
        })?;
        // What follows the content is ignored, as serde's derive ignores unknown fields.
        while map.next_key::<de::IgnoredAny>()?.is_some() {
            map.next_value::<de::IgnoredAny>()?;
        }
        Ok(value)
    }
}

/// The first key was not the tag: buffer the object and read it again in tag-first order.
#[cfg(not(target_arch = "wasm32"))]
fn content_first<'de, M, A>(mut map: A, first: Field, fields: Fields) -> Result<M, A::Error>
where
    M: de::Deserialize<'de>,
    A: MapAccess<'de>,
{
    use serde_json::Value;
    let (mut tag, mut content) = (None, None);
    let mut key = Some(first);
    while let Some(field) = key {
        match field {
            Field::Tag => tag = Some(map.next_value::<Value>()?),
            Field::Content => content = Some(map.next_value::<Value>()?),
            Field::Unknown => {
                map.next_value::<de::IgnoredAny>()?;
            }
        }
        key = map.next_key_seed(fields)?;
    }
    let tag = tag.ok_or_else(|| de::Error::missing_field(fields.tag))?;
    let mut entries = vec![(fields.tag, tag)];
    entries.extend(content.map(|value| (fields.content, value)));
    let mut reordered =
        de::value::MapDeserializer::<_, serde_json::Error>::new(entries.into_iter());
    // Past the tag's key, where `Enum` starts.
    reordered
        .next_key::<de::IgnoredAny>()
        .and_then(|_| {
            M::deserialize(Enum {
                map: reordered,
                fields,
            })
        })
        .map_err(de::Error::custom)
}

/// The browser only reads what this project wrote, tag first.
#[cfg(target_arch = "wasm32")]
fn content_first<'de, M, A>(_: A, _: Field, fields: Fields) -> Result<M, A::Error>
where
    A: MapAccess<'de>,
{
    Err(de::Error::custom(format_args!(
        "`{}` must come first",
        fields.tag
    )))
}

/// The two keys of a tagged object.
#[derive(Clone, Copy)]
struct Fields {
    tag: &'static str,
    content: &'static str,
}

/// Which of them a key is (read without allocating).
enum Field {
    Tag,
    Content,
    Unknown,
}

impl<'de> DeserializeSeed<'de> for Fields {
    type Value = Field;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Field, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for Fields {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Field, E> {
        Ok(if key == self.tag {
            Field::Tag
        } else if key == self.content {
            Field::Content
        } else {
            Field::Unknown
        })
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<Field, E> {
        match std::str::from_utf8(key) {
            Ok(key) => self.visit_str(key),
            Err(_) => Ok(Field::Unknown),
        }
    }
}

/// The rest of the object after the tag key, seen as an externally tagged enum: the tag's
/// value names the variant, the content key's value is its content.
struct Enum<A> {
    map: A,
    fields: Fields,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Enum<A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Enum<A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        mut self,
        seed: V,
    ) -> Result<(V::Value, Self), A::Error> {
        let variant = self.map.next_value_seed(seed)?;
        Ok((variant, self))
    }
}

impl<'de, A: MapAccess<'de>> Enum<A> {
    /// Moves to the content's value (past unknown keys); false when the object ends first.
    fn at_content(&mut self) -> Result<bool, A::Error> {
        loop {
            match self.map.next_key_seed(self.fields)? {
                Some(Field::Content) => return Ok(true),
                Some(Field::Unknown) => {
                    self.map.next_value::<de::IgnoredAny>()?;
                }
                Some(Field::Tag) => return Err(de::Error::duplicate_field(self.fields.tag)),
                None => return Ok(false),
            }
        }
    }

    fn content_value<T: DeserializeSeed<'de>>(mut self, seed: T) -> Result<T::Value, A::Error> {
        if self.at_content()? {
            self.map.next_value_seed(seed)
        } else {
            Err(de::Error::missing_field(self.fields.content))
        }
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Enum<A> {
    type Error = A::Error;

    fn unit_variant(mut self) -> Result<(), A::Error> {
        if self.at_content()? {
            self.map.next_value::<()>()?;
        }
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.content_value(seed)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.content_value(Shape::Tuple(len, visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.content_value(Shape::Struct(fields, visitor))
    }
}

/// A variant's content read as the shape its visitor expects.
enum Shape<V> {
    Tuple(usize, V),
    Struct(&'static [&'static str], V),
}

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for Shape<V> {
    type Value = V::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        match self {
            Shape::Tuple(len, visitor) => deserializer.deserialize_tuple(len, visitor),
            Shape::Struct(fields, visitor) => deserializer.deserialize_struct("", fields, visitor),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    adjacently_tagged! {
        tag = "type", content = "args";
        #[derive(Debug, PartialEq)]
        enum Sample {
            /// A struct variant.
            Move {
                /// Which.
                task: u32,
                /// Defaulted when absent.
                #[serde(default)]
                note: Option<String>,
            },
            /// A newtype variant.
            Rename(Named),
            /// A unit variant.
            Archive,
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Named {
        name: String,
    }

    /// What serde's own derive writes and reads: the reference for the wire format.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type", content = "args", rename_all = "snake_case")]
    enum Reference {
        Move {
            task: u32,
            #[serde(default)]
            note: Option<String>,
        },
        Rename(Named),
        Archive,
    }

    fn samples() -> Vec<(Sample, Reference)> {
        vec![
            (
                Sample::Move {
                    task: 7,
                    note: Some("n".into()),
                },
                Reference::Move {
                    task: 7,
                    note: Some("n".into()),
                },
            ),
            (
                Sample::Rename(Named {
                    name: "改革".into(),
                }),
                Reference::Rename(Named {
                    name: "改革".into(),
                }),
            ),
            (Sample::Archive, Reference::Archive),
        ]
    }

    #[test]
    fn writes_and_reads_what_serde_derive_does() -> serde_json::Result<()> {
        for (sample, reference) in samples() {
            let text = serde_json::to_string(&sample)?;
            assert_eq!(text, serde_json::to_string(&reference)?);
            assert_eq!(serde_json::from_str::<Sample>(&text)?, sample);
            assert_eq!(serde_json::from_str::<Reference>(&text)?, reference);
        }
        Ok(())
    }

    #[test]
    fn reads_content_before_the_tag_and_ignores_unknown_keys() -> serde_json::Result<()> {
        let text = r#"{"args": {"task": 3}, "extra": [1, {"a": 2}], "type": "move"}"#;
        assert_eq!(
            serde_json::from_str::<Sample>(text)?,
            Sample::Move {
                task: 3,
                note: None
            }
        );
        for text in [
            r#"{"type": "archive", "args": null}"#,
            r#"{"x": 1, "type": "archive"}"#,
        ] {
            assert_eq!(serde_json::from_str::<Sample>(text)?, Sample::Archive);
        }
        let text = r#"{"type": "rename", "args": {"name": "x"}, "extra": null}"#;
        assert_eq!(
            serde_json::from_str::<Sample>(text)?,
            Sample::Rename(Named { name: "x".into() })
        );
        Ok(())
    }

    #[test]
    fn refuses_what_it_cannot_read_with_a_reason() {
        for (text, reason) in [
            (r#"{"type": "fly", "args": {}}"#, "unknown variant `fly`"),
            (r#"{"type": "move"}"#, "missing field `args`"),
            (r#"{"type": "move", "other": 1}"#, "missing field `args`"),
            (
                r#"{"type": "move", "type": "move"}"#,
                "duplicate field `type`",
            ),
            (r#"{"args": {"task": 1}}"#, "missing field `type`"),
            (r#"{}"#, "missing field `type`"),
            (r#"{"type": "move", "args": {"task": "x"}}"#, "invalid type"),
            (r#"["move", {}]"#, "an object with `type` and `args`"),
            (r#"{"type": 1, "args": {}}"#, "invalid type"),
        ] {
            let error = serde_json::from_str::<Sample>(text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(reason), "{text}: {error}");
        }
    }
}
