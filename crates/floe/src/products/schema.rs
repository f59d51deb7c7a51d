//! Wire types of the products API, named after the spec's schemas (and the SDK's, where it
//! is newer: `unit_based` and `metered_tiers` prices, `is_deletable`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::benefits::schema::Benefit;
use crate::custom_fields::schema::CustomField;
use crate::files::schema::FileRead;
use crate::http::pagination::{QueryEnum, SortProperty};
use crate::http::patch;

/// `RecurringInterval` and `TrialInterval` (the same four units).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Day, Self::Week, Self::Month, Self::Year]
            .into_iter()
            .find(|i| i.as_str() == name)
    }
}

/// `ProductVisibility`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProductVisibility {
    Draft,
    Private,
    Public,
}

impl ProductVisibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Private => "private",
            Self::Public => "public",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Draft, Self::Private, Self::Public]
            .into_iter()
            .find(|v| v.as_str() == name)
    }
}

impl QueryEnum for ProductVisibility {
    const NAMES: &'static [&'static str] = &["draft", "private", "public"];

    fn from_name(name: &str) -> Option<Self> {
        Self::parse(name)
    }
}

/// `Product`: its own fields, and what it has.
#[derive(Clone, Debug, Serialize)]
pub struct Product {
    #[serde(flatten)]
    pub base: ProductBase,
    pub is_deletable: bool,
    /// The prices on sale (archived ones are left out), in the merchant's order.
    pub prices: Vec<Price>,
    pub benefits: Vec<Benefit>,
    /// `ProductMediaFileRead`: product media files, with their public URL.
    pub medias: Vec<FileRead>,
    pub attached_custom_fields: Vec<AttachedCustomField>,
}

/// `DiscountProduct` (and the start of every product schema): a product without its
/// prices, benefits, media or custom fields.
#[derive(Clone, Debug, Serialize)]
pub struct ProductBase {
    pub metadata: Map<String, Value>,
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub trial_interval: Option<Interval>,
    pub trial_interval_count: Option<i64>,
    pub name: String,
    pub description: Option<String>,
    pub visibility: ProductVisibility,
    pub recurring_interval: Option<Interval>,
    pub recurring_interval_count: Option<i64>,
    pub meter_interval: Option<Interval>,
    pub meter_interval_count: Option<i64>,
    pub is_recurring: bool,
    pub is_archived: bool,
    pub organization_id: Uuid,
}

impl ProductBase {
    pub fn from_row(row: &super::entity::Model) -> Self {
        Self {
            metadata: crate::metadata::from_text(&row.metadata),
            id: row.id,
            created_at: row.created_at,
            modified_at: row.modified_at,
            trial_interval: row.trial_interval.as_deref().and_then(Interval::parse),
            trial_interval_count: row.trial_interval_count,
            name: row.name.clone(),
            description: row.description.clone(),
            visibility: ProductVisibility::parse(&row.visibility)
                .unwrap_or(ProductVisibility::Public),
            recurring_interval: row.recurring_interval.as_deref().and_then(Interval::parse),
            recurring_interval_count: row.recurring_interval_count,
            meter_interval: row.meter_interval.as_deref().and_then(Interval::parse),
            meter_interval_count: row.meter_interval_count,
            is_recurring: row.recurring_interval.is_some(),
            is_archived: row.is_archived,
            organization_id: row.organization_id,
        }
    }
}

/// `AttachedCustomField`.
#[derive(Clone, Debug, Serialize)]
pub struct AttachedCustomField {
    pub custom_field_id: Uuid,
    pub custom_field: CustomField,
    pub order: i64,
    pub required: bool,
}

/// `ProductPrice`: the fields every price has, and those of its amount type.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Price {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub source: &'static str,
    #[serde(flatten)]
    pub amount: PriceAmount,
    pub price_currency: String,
    pub tax_behavior: Option<String>,
    pub is_archived: bool,
    pub product_id: Uuid,
}

/// The part of a price its `amount_type` decides.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "amount_type", rename_all = "snake_case")]
pub enum PriceAmount {
    Fixed {
        price_amount: i64,
    },
    Custom {
        minimum_amount: i64,
        maximum_amount: Option<i64>,
        preset_amount: Option<i64>,
    },
    SeatBased {
        seat_tiers: SeatTiers,
    },
    UnitBased {
        tiers: Tiers,
        minimum_units: Option<i64>,
        unit_label: Option<Value>,
        maximum_units: Option<i64>,
    },
    MeteredUnit {
        unit_amount: String,
        cap_amount: Option<i64>,
        meter_id: Uuid,
        meter: PriceMeter,
    },
    MeteredTiers {
        tiers: Tiers,
        cap_amount: Option<i64>,
        meter_id: Uuid,
        meter: PriceMeter,
    },
}

/// `Tiers`: per-unit rates, each up to and including its `bound` (the last may be
/// unbounded), applied to the whole quantity (`volume`) or tier by tier (`graduated`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Tiers {
    #[serde(rename = "type")]
    pub kind: String,
    pub tiers: Vec<Tier>,
}

/// `Tier`: a rate in minor units as a decimal string.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Tier {
    pub bound: Option<i64>,
    pub unit_amount: String,
}

/// `ProductPriceSeatTiers-Output`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SeatTiers {
    pub seat_tier_type: String,
    pub tiers: Vec<SeatTier>,
    pub minimum_seats: i64,
    pub maximum_seats: Option<i64>,
}

/// `ProductPriceSeatTier`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SeatTier {
    pub min_seats: i64,
    pub max_seats: Option<i64>,
    pub price_per_seat: i64,
}

/// `ProductPriceMeter`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PriceMeter {
    pub id: Uuid,
    pub name: String,
    pub unit: String,
    pub custom_label: Option<String>,
    pub custom_multiplier: Option<i64>,
}

/// `AttachedCustomFieldCreate`.
#[derive(Clone, Debug, Deserialize)]
pub struct AttachedCustomFieldCreate {
    pub custom_field_id: Uuid,
    pub required: bool,
}

/// `ProductCreate` (`ProductCreateRecurring` or `ProductCreateOneTime`, told apart by
/// `recurring_interval`). Prices are checked by hand (`prices::check`).
#[derive(Debug, Deserialize)]
pub struct ProductCreate {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub visibility: Option<ProductVisibility>,
    pub prices: Value,
    #[serde(default)]
    pub medias: Option<Vec<Uuid>>,
    #[serde(default)]
    pub attached_custom_fields: Option<Vec<AttachedCustomFieldCreate>>,
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub recurring_interval: Option<Interval>,
    #[serde(default)]
    pub recurring_interval_count: Option<i64>,
    #[serde(default)]
    pub trial_interval: Option<Interval>,
    #[serde(default)]
    pub trial_interval_count: Option<i64>,
    #[serde(default)]
    pub meter_interval: Option<Interval>,
    #[serde(default)]
    pub meter_interval_count: Option<i64>,
}

/// `ProductUpdate`: absent fields stay as they are; `null` clears the trial and the
/// description, and leaves the others.
#[derive(Debug, Deserialize)]
pub struct ProductUpdate {
    #[serde(default, deserialize_with = "patch::field")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub visibility: Option<Option<ProductVisibility>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub is_archived: Option<Option<bool>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub prices: Option<Option<Value>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub medias: Option<Option<Vec<Uuid>>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub attached_custom_fields: Option<Option<Vec<AttachedCustomFieldCreate>>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub metadata: Option<Option<Map<String, Value>>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub recurring_interval: Option<Option<Interval>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub recurring_interval_count: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub trial_interval: Option<Option<Interval>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub trial_interval_count: Option<Option<i64>>,
}

/// `ProductBenefitsUpdate`.
#[derive(Debug, Deserialize)]
pub struct ProductBenefitsUpdate {
    pub benefits: Vec<Uuid>,
}

/// `ProductSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProductSortProperty {
    CreatedAt,
    Name,
    PriceAmountType,
    PriceAmount,
}

impl SortProperty for ProductSortProperty {
    const NAMES: &'static [&'static str] =
        &["created_at", "name", "price_amount_type", "price_amount"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "name" => Self::Name,
            "price_amount_type" => Self::PriceAmountType,
            "price_amount" => Self::PriceAmount,
            _ => return None,
        })
    }
}
