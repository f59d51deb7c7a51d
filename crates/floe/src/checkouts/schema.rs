//! Wire types of the checkouts API, named after the spec's schemas.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::address::Address;
use crate::benefits::schema::BenefitPublic;
use crate::custom_fields::schema::CustomField;
use crate::discounts::schema::{DiscountDuration, DiscountType};
use crate::files::schema::FileRead;
use crate::http::pagination::SortProperty;
use crate::http::patch;
use crate::products::schema::{Interval, Price, ProductVisibility};

/// `CheckoutStatus`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutStatus {
    Open,
    Expired,
    Confirmed,
    Succeeded,
    Failed,
}

impl CheckoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Expired => "expired",
            Self::Confirmed => "confirmed",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Open,
            Self::Expired,
            Self::Confirmed,
            Self::Succeeded,
            Self::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

impl crate::http::pagination::QueryEnum for CheckoutStatus {
    const NAMES: &'static [&'static str] = &["open", "expired", "confirmed", "succeeded", "failed"];

    fn from_name(name: &str) -> Option<Self> {
        Self::parse(name)
    }
}

/// `CheckoutProduct`: a product offered, with its prices, benefits and media.
#[derive(Clone, Debug, Serialize)]
pub struct CheckoutProduct {
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
    pub prices: Vec<Price>,
    pub benefits: Vec<BenefitPublic>,
    pub medias: Vec<FileRead>,
}

/// `CheckoutDiscount…`: the discount applied, as the buyer sees it.
#[derive(Clone, Debug, Serialize)]
pub struct CheckoutDiscount {
    pub duration: DiscountDuration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_in_months: Option<i64>,
    #[serde(rename = "type")]
    pub kind: DiscountType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis_points: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amounts: Option<BTreeMap<String, i64>>,
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
}

/// `BillingAddressFieldMode`.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FieldMode {
    Required,
    Optional,
    Disabled,
}

/// `CheckoutBillingAddressFields`: which address fields the form asks for.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct BillingAddressFields {
    pub country: FieldMode,
    pub state: FieldMode,
    pub city: FieldMode,
    pub postal_code: FieldMode,
    pub line1: FieldMode,
    pub line2: FieldMode,
}

/// `AttachedCustomField`.
#[derive(Clone, Debug, Serialize)]
pub struct AttachedCustomField {
    pub custom_field_id: Uuid,
    pub custom_field: CustomField,
    pub order: i64,
    pub required: bool,
}

/// `CheckoutOrganization`.
#[derive(Clone, Debug, Serialize)]
pub struct CheckoutOrganization {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub avatar_url: Option<String>,
    pub proration_behavior: String,
    pub allow_customer_updates: bool,
}

/// The fields every checkout shape has.
#[derive(Clone, Debug, Serialize)]
pub struct CheckoutBase {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub custom_field_data: Map<String, Value>,
    pub payment_processor: &'static str,
    pub status: CheckoutStatus,
    pub client_secret: String,
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub success_url: String,
    pub return_url: Option<String>,
    pub embed_origin: Option<String>,
    pub amount: i64,
    pub seats: Option<i64>,
    pub min_seats: Option<i64>,
    pub max_seats: Option<i64>,
    pub units: Option<i64>,
    pub min_units: Option<i64>,
    pub max_units: Option<i64>,
    pub discount_amount: i64,
    pub net_amount: i64,
    pub tax_amount: Option<i64>,
    pub tax_behavior: Option<String>,
    pub total_amount: i64,
    pub currency: String,
    pub allow_trial: Option<bool>,
    pub active_trial_interval: Option<Interval>,
    pub active_trial_interval_count: Option<i64>,
    pub trial_end: Option<DateTime<Utc>>,
    pub organization_id: Uuid,
    pub product_id: Option<Uuid>,
    pub product_price_id: Option<Uuid>,
    pub discount_id: Option<Uuid>,
    pub allow_discount_codes: bool,
    pub require_billing_address: bool,
    pub is_discount_applicable: bool,
    pub is_free_product_price: bool,
    pub is_payment_required: bool,
    pub is_payment_setup_required: bool,
    pub is_payment_form_required: bool,
    pub customer_id: Option<Uuid>,
    pub is_business_customer: bool,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub customer_ip_address: Option<String>,
    pub customer_billing_name: Option<String>,
    pub customer_billing_address: Option<Address>,
    pub customer_tax_id: Option<String>,
    pub locale: Option<String>,
    pub payment_method_type: Option<String>,
    pub payment_processor_metadata: Map<String, Value>,
    pub billing_address_fields: BillingAddressFields,
    pub products: Vec<CheckoutProduct>,
    pub product: Option<CheckoutProduct>,
    pub product_price: Option<Price>,
    /// Each product's prices in the checkout, by product ID.
    pub prices: Option<BTreeMap<Uuid, Vec<Price>>>,
    pub discount: Option<CheckoutDiscount>,
    pub attached_custom_fields: Option<Vec<AttachedCustomField>>,
}

/// `Checkout`: what the merchant's API shows.
#[derive(Clone, Debug, Serialize)]
pub struct Checkout {
    #[serde(flatten)]
    pub base: CheckoutBase,
    pub trial_interval: Option<Interval>,
    pub trial_interval_count: Option<i64>,
    pub metadata: Map<String, Value>,
    pub external_customer_id: Option<String>,
    pub subscription_id: Option<Uuid>,
    pub customer_metadata: Map<String, Value>,
}

/// `CheckoutPublic`: what the buyer's side shows.
#[derive(Clone, Debug, Serialize)]
pub struct CheckoutPublic {
    #[serde(flatten)]
    pub base: CheckoutBase,
    pub organization: CheckoutOrganization,
}

/// `CheckoutPublicConfirmed`: the answer to a confirmation (`status` is `confirmed`).
#[derive(Clone, Debug, Serialize)]
pub struct CheckoutPublicConfirmed {
    #[serde(flatten)]
    pub public: CheckoutPublic,
    pub customer_session_token: Option<String>,
}

/// `CheckoutProductsCreate` (with the SDK's `units`, `min_units` and `max_units`).
#[derive(Debug, Deserialize)]
pub struct CheckoutCreate {
    pub products: Vec<Uuid>,
    #[serde(default)]
    pub prices: Option<BTreeMap<String, Vec<Value>>>,
    #[serde(default)]
    pub trial_interval: Option<Interval>,
    #[serde(default)]
    pub trial_interval_count: Option<i64>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub custom_field_data: Option<Map<String, Value>>,
    #[serde(default)]
    pub discount_id: Option<Uuid>,
    #[serde(default)]
    pub allow_discount_codes: Option<bool>,
    #[serde(default)]
    pub require_billing_address: Option<bool>,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub seats: Option<i64>,
    #[serde(default)]
    pub min_seats: Option<i64>,
    #[serde(default)]
    pub max_seats: Option<i64>,
    #[serde(default)]
    pub units: Option<i64>,
    #[serde(default)]
    pub min_units: Option<i64>,
    #[serde(default)]
    pub max_units: Option<i64>,
    #[serde(default)]
    pub allow_trial: Option<bool>,
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    #[serde(default)]
    pub is_business_customer: Option<bool>,
    #[serde(default)]
    pub external_customer_id: Option<String>,
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub customer_ip_address: Option<String>,
    #[serde(default)]
    pub customer_billing_name: Option<String>,
    #[serde(default)]
    pub customer_billing_address: Option<Address>,
    #[serde(default)]
    pub customer_tax_id: Option<String>,
    #[serde(default)]
    pub customer_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub subscription_id: Option<Uuid>,
    #[serde(default)]
    pub success_url: Option<String>,
    #[serde(default)]
    pub return_url: Option<String>,
    #[serde(default)]
    pub embed_origin: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
}

/// `CheckoutUpdate`, `CheckoutUpdatePublic` and `CheckoutConfirmStripe` in one: each caller
/// takes the fields its schema has (see `service::Caller`). Absent fields stay; `null`
/// clears what may be empty.
#[derive(Debug, Default, Deserialize)]
pub struct CheckoutPatch {
    #[serde(default)]
    pub custom_field_data: Option<Map<String, Value>>,
    #[serde(default)]
    pub product_id: Option<Uuid>,
    #[serde(default)]
    pub product_price_id: Option<Uuid>,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub seats: Option<i64>,
    #[serde(default)]
    pub units: Option<i64>,
    #[serde(default)]
    pub is_business_customer: Option<bool>,
    #[serde(default, deserialize_with = "patch::field")]
    pub customer_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub customer_email: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub customer_billing_name: Option<Option<String>>,
    #[serde(default)]
    pub customer_billing_address: Option<Address>,
    #[serde(default, deserialize_with = "patch::field")]
    pub customer_tax_id: Option<Option<String>>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub payment_method_type: Option<String>,
    #[serde(default, deserialize_with = "patch::field")]
    pub discount_code: Option<Option<String>>,
    #[serde(default)]
    pub allow_trial: Option<bool>,
    #[serde(default)]
    pub confirmation_token_id: Option<String>,
    // The merchant's fields.
    #[serde(default)]
    pub trial_interval: Option<Interval>,
    #[serde(default)]
    pub trial_interval_count: Option<i64>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "patch::field")]
    pub discount_id: Option<Option<Uuid>>,
    #[serde(default)]
    pub allow_discount_codes: Option<bool>,
    #[serde(default)]
    pub require_billing_address: Option<bool>,
    #[serde(default)]
    pub customer_ip_address: Option<String>,
    #[serde(default)]
    pub customer_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub success_url: Option<String>,
    #[serde(default)]
    pub return_url: Option<String>,
    #[serde(default)]
    pub embed_origin: Option<String>,
}

/// `CheckoutSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckoutSortProperty {
    CreatedAt,
    ExpiresAt,
    Status,
}

impl SortProperty for CheckoutSortProperty {
    const NAMES: &'static [&'static str] = &["created_at", "expires_at", "status"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "expires_at" => Self::ExpiresAt,
            "status" => Self::Status,
            _ => return None,
        })
    }
}
