//! Wire types of the discounts API, named after the spec's schemas.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::http::pagination::SortProperty;
use crate::http::patch;
use crate::products::schema::ProductBase;

/// `DiscountType`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DiscountType {
    Fixed,
    Percentage,
}

impl DiscountType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Percentage => "percentage",
        }
    }
}

/// `DiscountDuration`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DiscountDuration {
    Once,
    Forever,
    Repeating,
}

impl DiscountDuration {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Once => "once",
            Self::Forever => "forever",
            Self::Repeating => "repeating",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Once, Self::Forever, Self::Repeating]
            .into_iter()
            .find(|d| d.as_str() == name)
    }
}

/// `Discount`: one of the four `Discount{Fixed,Percentage}{OnceForever,Repeat}Duration`
/// shapes; the fields a type or duration does not have are left out.
#[derive(Clone, Debug, Serialize)]
pub struct Discount {
    pub duration: DiscountDuration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_in_months: Option<i64>,
    #[serde(rename = "type")]
    pub kind: DiscountType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis_points: Option<i64>,
    /// Fixed discounts: one of `amounts` (the deprecated single-currency view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amounts: Option<BTreeMap<String, i64>>,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub metadata: Map<String, Value>,
    pub name: String,
    pub code: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub max_redemptions: Option<i64>,
    pub max_redemptions_per_customer: Option<i64>,
    pub redemptions_count: i64,
    pub organization_id: Uuid,
    /// `DiscountProduct`: the products it is limited to (none: every product).
    pub products: Vec<ProductBase>,
}

/// `DiscountCreate` (`DiscountFixedCreate` or `DiscountPercentageCreate`, by `type`).
#[derive(Debug, Deserialize)]
pub struct DiscountCreate {
    #[serde(rename = "type")]
    pub kind: DiscountType,
    pub name: String,
    pub duration: DiscountDuration,
    #[serde(default)]
    pub duration_in_months: Option<i64>,
    #[serde(default)]
    pub basis_points: Option<i64>,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub amounts: Option<Map<String, Value>>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub max_redemptions: Option<i64>,
    #[serde(default)]
    pub max_redemptions_per_customer: Option<i64>,
    #[serde(default)]
    pub products: Option<Vec<Uuid>>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub organization_id: Option<Uuid>,
}

/// `DiscountUpdate`: absent fields stay; `null` clears what may be empty.
#[derive(Debug, Deserialize)]
pub struct DiscountUpdate {
    #[serde(default, deserialize_with = "patch::field")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub starts_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub ends_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub max_redemptions: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub max_redemptions_per_customer: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub duration: Option<Option<DiscountDuration>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub duration_in_months: Option<Option<i64>>,
    #[serde(default, rename = "type", deserialize_with = "patch::field")]
    pub kind: Option<Option<DiscountType>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub amount: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub currency: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub amounts: Option<Option<Map<String, Value>>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub basis_points: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub products: Option<Option<Vec<Uuid>>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub metadata: Option<Option<Map<String, Value>>>,
}

/// `DiscountSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscountSortProperty {
    CreatedAt,
    Name,
    Code,
    RedemptionsCount,
    EndsAt,
}

impl SortProperty for DiscountSortProperty {
    const NAMES: &'static [&'static str] =
        &["created_at", "name", "code", "redemptions_count", "ends_at"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "name" => Self::Name,
            "code" => Self::Code,
            "redemptions_count" => Self::RedemptionsCount,
            "ends_at" => Self::EndsAt,
            _ => return None,
        })
    }
}
