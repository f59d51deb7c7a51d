//! Wire types of the custom fields API, named after the spec's schemas.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::entity::Model;
use crate::http::pagination::{QueryEnum, SortProperty};
use crate::http::patch;

/// `CustomFieldType`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CustomFieldType {
    Text,
    Number,
    Date,
    Checkbox,
    Select,
}

impl CustomFieldType {
    pub const ALL: [Self; 5] = [
        Self::Text,
        Self::Number,
        Self::Date,
        Self::Checkbox,
        Self::Select,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Date => "date",
            Self::Checkbox => "checkbox",
            Self::Select => "select",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// `CustomField` (one of `CustomFieldText`, `…Number`, `…Date`, `…Checkbox`, `…Select`:
/// one shape, told apart by `type`).
#[derive(Clone, Debug, Serialize)]
pub struct CustomField {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub metadata: Map<String, Value>,
    #[serde(rename = "type")]
    pub kind: CustomFieldType,
    pub slug: String,
    pub name: String,
    pub organization_id: Uuid,
    pub properties: Map<String, Value>,
}

impl CustomField {
    /// A stored field; `None` for a type this build does not know (a newer floe's row).
    pub fn from_row(row: &Model) -> Option<Self> {
        Some(Self {
            created_at: row.created_at,
            modified_at: row.modified_at,
            id: row.id,
            metadata: crate::metadata::from_text(&row.metadata),
            kind: CustomFieldType::parse(&row.kind)?,
            slug: row.slug.clone(),
            name: row.name.clone(),
            organization_id: row.organization_id,
            properties: serde_json::from_str(&row.properties).unwrap_or_default(),
        })
    }
}

/// `CustomFieldCreate`: the type's schema is checked by the service, which knows the type.
#[derive(Debug, Deserialize)]
pub struct CustomFieldCreate {
    #[serde(rename = "type")]
    pub kind: CustomFieldType,
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub properties: Option<Value>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub organization_id: Option<Uuid>,
}

/// `CustomFieldUpdate`: `type` names the field's type and cannot change it; absent or
/// `null` fields stay as they are.
#[derive(Debug, Deserialize)]
pub struct CustomFieldUpdate {
    #[serde(rename = "type")]
    pub kind: CustomFieldType,
    #[serde(default, deserialize_with = "patch::field")]
    pub slug: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub properties: Option<Option<Value>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub metadata: Option<Option<Map<String, Value>>>,
}

/// `CustomFieldSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomFieldSortProperty {
    CreatedAt,
    Slug,
    Name,
    Type,
}

impl SortProperty for CustomFieldSortProperty {
    const NAMES: &'static [&'static str] = &["created_at", "slug", "name", "type"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "slug" => Self::Slug,
            "name" => Self::Name,
            "type" => Self::Type,
            _ => return None,
        })
    }
}

impl QueryEnum for CustomFieldType {
    const NAMES: &'static [&'static str] = &["text", "number", "date", "checkbox", "select"];

    fn from_name(name: &str) -> Option<Self> {
        Self::parse(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_names_are_the_types() {
        let names: Vec<&str> = CustomFieldType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(<CustomFieldType as QueryEnum>::NAMES, names.as_slice());
        for name in names {
            assert_eq!(
                <CustomFieldType as QueryEnum>::from_name(name).map(|t| t.as_str()),
                Some(name)
            );
        }
    }
}
