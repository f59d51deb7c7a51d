//! Wire types of the checkout links API, named after the spec's schemas.

use chrono::{DateTime, Utc};
use serde::ser::Error as _;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::benefits::schema::BenefitPublic;
use crate::discounts::schema::Discount;
use crate::files::schema::FileRead;
use crate::http::pagination::SortProperty;
use crate::http::patch;
use crate::products::schema::{Interval, Price, Product, ProductBase};

/// `PaymentProcessor`: the contract knows one, whatever processes floe's payments.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PaymentProcessor {
    Stripe,
}

/// `CheckoutLink`.
#[derive(Clone, Debug, Serialize)]
pub struct CheckoutLink {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub trial_interval: Option<Interval>,
    pub trial_interval_count: Option<i64>,
    pub metadata: Map<String, Value>,
    pub payment_processor: PaymentProcessor,
    pub client_secret: String,
    pub success_url: Option<String>,
    pub return_url: Option<String>,
    pub label: Option<String>,
    pub allow_discount_codes: bool,
    pub require_billing_address: bool,
    pub discount_id: Option<Uuid>,
    pub seats: Option<i64>,
    /// The SDK's (newer than the contract): units preset for unit-based prices.
    pub units: Option<i64>,
    pub organization_id: Uuid,
    /// The products offered that still exist, in the merchant's order.
    pub products: Vec<CheckoutLinkProduct>,
    /// The discount applied (still shown if deleted since: the checkout then ignores it).
    pub discount: Option<CheckoutLinkDiscount>,
    /// Where a buyer opens the link.
    pub url: String,
}

/// `CheckoutLinkDiscount`: one of the `Discount*Base` shapes, which are `Discount`'s without
/// the products it is limited to.
#[derive(Clone, Debug)]
pub struct CheckoutLinkDiscount(pub Discount);

impl Serialize for CheckoutLinkDiscount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut shown = serde_json::to_value(&self.0).map_err(S::Error::custom)?;
        if let Some(fields) = shown.as_object_mut() {
            fields.remove("products");
        }
        shown.serialize(serializer)
    }
}

/// `CheckoutLinkProduct`: a product with what a buyer sees of it.
#[derive(Clone, Debug, Serialize)]
pub struct CheckoutLinkProduct {
    #[serde(flatten)]
    pub base: ProductBase,
    pub prices: Vec<Price>,
    pub benefits: Vec<BenefitPublic>,
    pub medias: Vec<FileRead>,
}

impl From<&Product> for CheckoutLinkProduct {
    fn from(product: &Product) -> Self {
        Self {
            base: product.base.clone(),
            prices: product.prices.clone(),
            benefits: product.benefits.iter().map(BenefitPublic::from).collect(),
            medias: product.medias.clone(),
        }
    }
}

fn yes() -> bool {
    true
}

/// `CheckoutLinkCreate`: `CheckoutLinkCreateProducts`, or the deprecated
/// `CheckoutLinkCreateProduct` (one `product_id`). Which products are offered is checked by
/// hand.
#[derive(Debug, Deserialize)]
pub struct CheckoutLinkCreate {
    pub payment_processor: PaymentProcessor,
    #[serde(default)]
    pub products: Option<Vec<Uuid>>,
    #[serde(default)]
    pub product_id: Option<Uuid>,
    #[serde(default)]
    pub product_price_id: Option<Uuid>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub success_url: Option<String>,
    #[serde(default)]
    pub return_url: Option<String>,
    #[serde(default = "yes")]
    pub allow_discount_codes: bool,
    #[serde(default)]
    pub require_billing_address: bool,
    #[serde(default)]
    pub discount_id: Option<Uuid>,
    #[serde(default)]
    pub seats: Option<i64>,
    /// The SDK's (newer than the contract): units preset for unit-based prices.
    #[serde(default)]
    pub units: Option<i64>,
    #[serde(default)]
    pub trial_interval: Option<Interval>,
    #[serde(default)]
    pub trial_interval_count: Option<i64>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

/// `CheckoutLinkUpdate`: absent fields stay; `null` clears what may be empty and leaves
/// the products, the two switches and the metadata.
#[derive(Debug, Deserialize)]
pub struct CheckoutLinkUpdate {
    #[serde(default, deserialize_with = "patch::field")]
    pub products: Option<Option<Vec<Uuid>>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub label: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub success_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub return_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub allow_discount_codes: Option<Option<bool>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub require_billing_address: Option<Option<bool>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub discount_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub seats: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub units: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub trial_interval: Option<Option<Interval>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub trial_interval_count: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub metadata: Option<Option<Map<String, Value>>>,
}

/// `CheckoutLinkSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckoutLinkSortProperty {
    CreatedAt,
    Label,
    SuccessUrl,
    AllowDiscountCodes,
}

impl SortProperty for CheckoutLinkSortProperty {
    const NAMES: &'static [&'static str] =
        &["created_at", "label", "success_url", "allow_discount_codes"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "label" => Self::Label,
            "success_url" => Self::SuccessUrl,
            "allow_discount_codes" => Self::AllowDiscountCodes,
            _ => return None,
        })
    }
}
