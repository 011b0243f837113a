//! One field of a request body as it was sent: absent, `null`, a value of its type, or
//! something else (kept as the JSON text that was sent). A request type made of `Field`s
//! always deserialises, so its conversion into a command can report every broken field at once
//! instead of stopping at serde's first error — and a PATCH can tell "not sent" from "cleared".
//!
//! It sits below every layer: `domain` input types use it, `api` request types are made of it.
//! The OpenAPI schema of a `Field<T>` is `T`'s, named on the field with
//! `#[schema(value_type = …)]`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny};

/// What a client sent in one field.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    /// Not in the body (a request type puts `#[serde(default)]` on its fields).
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A value of the field's type.
    Given(T),
    /// Anything else.
    Wrong(Sent),
}

/// The JSON text of a value that did not have its field's type (for messages and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent(pub String);

impl fmt::Display for Sent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<T> Field<T> {
    /// The value, when one of the right type was sent.
    pub fn given(self) -> Option<T> {
        match self {
            Field::Given(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the body named the field at all (even with `null` or a wrong value).
    pub fn is_sent(&self) -> bool {
        !matches!(self, Field::Absent)
    }

    /// Absent or `null` → `Ok(None)`; a value → `Ok(Some)`; a wrong value → `Err`.
    pub fn optional(self) -> Result<Option<T>, Sent> {
        match self {
            Field::Absent | Field::Null => Ok(None),
            Field::Given(v) => Ok(Some(v)),
            Field::Wrong(s) => Err(s),
        }
    }

    /// `self` where it was sent, `base` otherwise (a patch laid over what is stored).
    pub fn or(self, base: Field<T>) -> Field<T> {
        if self.is_sent() { self } else { base }
    }

    /// The value as it is stored: `None` is `null`.
    pub fn of(value: Option<T>) -> Field<T> {
        value.map_or(Field::Null, Field::Given)
    }

    pub fn as_ref(&self) -> Field<&T> {
        match self {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Given(v) => Field::Given(v),
            Field::Wrong(s) => Field::Wrong(s.clone()),
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let sent = serde_json::Value::deserialize(d)?;
        if sent.is_null() {
            return Ok(Field::Null);
        }
        Ok(match T::deserialize(&sent) {
            Ok(v) => Field::Given(v),
            Err(_) => Field::Wrong(Sent(sent.to_string())),
        })
    }
}

/// The names of the fields a request type does not have (`#[serde(flatten)] other: Others`):
/// refused by name, never ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Others(BTreeMap<String, ()>);

impl Others {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// These names and `name`.
    pub fn with(mut self, name: &str) -> Others {
        self.0.insert(name.to_owned(), ());
        self
    }
}

impl<'de> Deserialize<'de> for Others {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = BTreeMap::<String, IgnoredAny>::deserialize(d)?;
        Ok(Others(names.into_keys().map(|k| (k, ())).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(default)]
    struct Body {
        name: Field<String>,
        count: Field<u32>,
        tags: Field<Vec<String>>,
        #[serde(flatten)]
        other: Others,
    }

    #[test]
    fn every_field_keeps_what_was_sent() {
        let b: Body =
            serde_json::from_str(r#"{"name": 5, "count": null, "x": [1], "y": 2}"#).unwrap();
        assert_eq!(b.name, Field::Wrong(Sent("5".into())));
        assert_eq!(b.count, Field::Null);
        assert_eq!(b.tags, Field::Absent);
        assert_eq!(b.other.names().collect::<Vec<_>>(), ["x", "y"]);

        let b: Body =
            serde_json::from_str(r#"{"name": "李雷", "count": 3, "tags": ["a"]}"#).unwrap();
        assert_eq!(b.name.clone().given().as_deref(), Some("李雷"));
        assert_eq!(b.count.optional(), Ok(Some(3)));
        assert_eq!(b.tags, Field::Given(vec!["a".to_owned()]));
        assert!(b.other.is_empty());

        let b: Body = serde_json::from_str(r#"{"count": -1, "tags": ["a", 2]}"#).unwrap();
        assert_eq!(b.count.optional(), Err(Sent("-1".into())));
        assert_eq!(b.tags, Field::Wrong(Sent(r#"["a",2]"#.into())));
    }

    #[test]
    fn a_patch_field_lies_over_the_stored_one_only_where_sent() {
        assert_eq!(Field::Absent.or(Field::Given(1)), Field::Given(1));
        assert_eq!(Field::Null.or(Field::Given(1)), Field::Null);
        assert_eq!(Field::Given(2).or(Field::Given(1)), Field::Given(2));
        assert_eq!(Field::of(None::<u8>), Field::Null);
    }
}
