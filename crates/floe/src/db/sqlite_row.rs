//! A rusqlite row read as a serde map from column name to value, so that a model's derived
//! `Deserialize` decodes it: [`SqliteRow::decode`].
//!
//! Values arrive as sqlx-sqlite stored them: UUIDs as 16-byte blobs (uuid's `Deserialize`
//! takes bytes), timestamps as RFC 3339 text (chrono's takes the string), booleans as
//! integers, JSON columns as text, which is parsed when the table declares the column
//! `json…`. A model field's name must be its column's name (SeaORM's default).

use std::fmt;

use rusqlite::types::ValueRef;
use sea_orm::DbErr;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor,
};

use super::reader::query_error;

/// The result columns of a prepared statement: names, and which ones hold JSON.
pub struct Columns {
    names: Vec<String>,
    json: Vec<bool>,
}

impl Columns {
    pub fn of(statement: &rusqlite::Statement<'_>) -> Self {
        let columns = statement.columns();
        Self {
            names: columns.iter().map(|c| c.name().to_owned()).collect(),
            json: columns
                .iter()
                .map(|c| {
                    c.decl_type()
                        .and_then(|t| t.get(..4))
                        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("json"))
                })
                .collect(),
        }
    }
}

/// One result row and its columns.
pub struct SqliteRow<'a> {
    row: &'a rusqlite::Row<'a>,
    columns: &'a Columns,
}

impl<'a> SqliteRow<'a> {
    pub fn new(row: &'a rusqlite::Row<'a>, columns: &'a Columns) -> Self {
        Self { row, columns }
    }

    /// The row as a `T`, field by column name; columns `T` has no field for are ignored.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, DbErr> {
        T::deserialize(RowDeserializer {
            row: self.row,
            columns: self.columns,
        })
        .map_err(|e| DbErr::Type(e.0))
    }

    /// The integer in column `index`.
    pub fn get_i64(&self, index: usize) -> Result<i64, DbErr> {
        self.row.get(index).map_err(query_error)
    }

    /// The integer, or null, in column `index`.
    pub fn get_optional_i64(&self, index: usize) -> Result<Option<i64>, DbErr> {
        self.row.get(index).map_err(query_error)
    }

    /// The integer in the column named `name`.
    pub fn get_i64_named(&self, name: &str) -> Result<i64, DbErr> {
        self.row.get(name).map_err(query_error)
    }
}

/// Why a row did not decode.
#[derive(Debug)]
pub struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

struct RowDeserializer<'a> {
    row: &'a rusqlite::Row<'a>,
    columns: &'a Columns,
}

impl<'de> Deserializer<'de> for RowDeserializer<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_map(Fields {
            row: self.row,
            columns: self.columns,
            next: 0,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct Fields<'a> {
    row: &'a rusqlite::Row<'a>,
    columns: &'a Columns,
    next: usize,
}

impl<'de> MapAccess<'de> for Fields<'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        let Some(name) = self.columns.names.get(self.next) else {
            return Ok(None);
        };
        seed.deserialize(name.as_str().into_deserializer())
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let index = self.next;
        self.next += 1;
        let name = &self.columns.names[index];
        let value = self
            .row
            .get_ref(index)
            .map_err(|e| DecodeError(format!("column {name}: {e}")))?;
        seed.deserialize(ValueDeserializer {
            value,
            json: self.columns.json[index],
        })
        .map_err(|e| DecodeError(format!("column {name}: {e}")))
    }
}

struct ValueDeserializer<'a> {
    value: ValueRef<'a>,
    json: bool,
}

impl<'a> ValueDeserializer<'a> {
    fn text(&self) -> Result<Option<&'a str>, DecodeError> {
        match self.value {
            ValueRef::Text(text) => std::str::from_utf8(text)
                .map(Some)
                .map_err(|e| DecodeError(e.to_string())),
            _ => Ok(None),
        }
    }

    /// A JSON column's text, to hand to serde_json.
    fn json_text(&self) -> Option<&'a [u8]> {
        match self.value {
            ValueRef::Text(text) if self.json => Some(text),
            _ => None,
        }
    }
}

fn json_error(e: serde_json::Error) -> DecodeError {
    DecodeError(e.to_string())
}

impl<'de> Deserializer<'de> for ValueDeserializer<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        if let Some(text) = self.json_text() {
            let mut json = serde_json::Deserializer::from_slice(text);
            return json.deserialize_any(visitor).map_err(json_error);
        }
        match self.value {
            ValueRef::Null => visitor.visit_unit(),
            ValueRef::Integer(v) => visitor.visit_i64(v),
            ValueRef::Real(v) => visitor.visit_f64(v),
            ValueRef::Text(_) => visitor.visit_borrowed_str(self.text()?.unwrap_or_default()),
            ValueRef::Blob(bytes) => visitor.visit_borrowed_bytes(bytes),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            ValueRef::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            ValueRef::Integer(v) => visitor.visit_bool(v != 0),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        if let Some(text) = self.json_text() {
            let mut json = serde_json::Deserializer::from_slice(text);
            return json
                .deserialize_enum(name, variants, visitor)
                .map_err(json_error);
        }
        match self.text()? {
            Some(text) => visitor.visit_enum(text.into_deserializer()),
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier
    }
}
