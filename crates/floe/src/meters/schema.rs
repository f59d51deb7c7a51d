//! Wire types of the meters API, named after the spec's schemas.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::entity::Model;
use crate::http::pagination::SortProperty;

/// `Meter`.
#[derive(Clone, Debug, Serialize)]
pub struct Meter {
    pub metadata: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub name: String,
    pub unit: String,
    pub custom_label: Option<String>,
    pub custom_multiplier: Option<i64>,
    pub filter: Value,
    pub aggregation: Value,
    pub organization_id: Uuid,
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<&Model> for Meter {
    fn from(row: &Model) -> Self {
        Self {
            metadata: crate::metadata::from_text(&row.metadata),
            created_at: row.created_at,
            modified_at: row.modified_at,
            id: row.id,
            name: row.name.clone(),
            unit: row.unit.clone(),
            custom_label: row.custom_label.clone(),
            custom_multiplier: row.custom_multiplier,
            filter: serde_json::from_str(&row.filter).unwrap_or(Value::Null),
            aggregation: serde_json::from_str(&row.aggregation).unwrap_or(Value::Null),
            organization_id: row.organization_id,
            archived_at: row.archived_at,
        }
    }
}

/// `MeterSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeterSortProperty {
    CreatedAt,
    Name,
}

impl SortProperty for MeterSortProperty {
    const NAMES: &'static [&'static str] = &["created_at", "name"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "name" => Self::Name,
            _ => return None,
        })
    }
}
