//! Wire types of the subscriptions API, named after the spec's schemas.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::customers::schema::Customer;
use crate::http::pagination::{QueryEnum, SortProperty};
use crate::products::schema::{Interval, Price, Product};

/// `SubscriptionStatus`. floe sets `trialing`, `active`, `past_due`, `paused` and
/// `canceled`; the others are in the contract's enum and Polar never sets them either.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Incomplete,
    IncompleteExpired,
    Trialing,
    Active,
    PastDue,
    Canceled,
    Unpaid,
    Paused,
}

impl SubscriptionStatus {
    pub const ALL: [Self; 8] = [
        Self::Incomplete,
        Self::IncompleteExpired,
        Self::Trialing,
        Self::Active,
        Self::PastDue,
        Self::Canceled,
        Self::Unpaid,
        Self::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incomplete => "incomplete",
            Self::IncompleteExpired => "incomplete_expired",
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Canceled => "canceled",
            Self::Unpaid => "unpaid",
            Self::Paused => "paused",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Gives access to the product's benefits (Polar's "active" set).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Trialing | Self::Active)
    }

    /// Still billed each period (active, or trying to collect).
    pub fn is_billable(self) -> bool {
        matches!(self, Self::Trialing | Self::Active | Self::PastDue)
    }

    /// Ended for good.
    pub fn is_revoked(self) -> bool {
        matches!(self, Self::Canceled | Self::Unpaid)
    }
}

impl QueryEnum for SubscriptionStatus {
    const NAMES: &'static [&'static str] = &[
        "incomplete",
        "incomplete_expired",
        "trialing",
        "active",
        "past_due",
        "canceled",
        "unpaid",
        "paused",
    ];

    fn from_name(name: &str) -> Option<Self> {
        Self::parse(name)
    }
}

/// `CustomerCancellationReason`.
pub const CANCELLATION_REASONS: &[&str] = &[
    "customer_service",
    "low_quality",
    "missing_features",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
    "other",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancellationReason(pub &'static str);

impl QueryEnum for CancellationReason {
    const NAMES: &'static [&'static str] = CANCELLATION_REASONS;

    fn from_name(name: &str) -> Option<Self> {
        CANCELLATION_REASONS
            .iter()
            .find(|reason| **reason == name)
            .map(|reason| Self(reason))
    }
}

/// `OrderSubscription`: a subscription's own fields, the start of `Subscription`.
#[derive(Clone, Debug, Serialize)]
pub struct SubscriptionBase {
    pub metadata: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub amount: i64,
    pub currency: String,
    pub recurring_interval: Interval,
    pub recurring_interval_count: i64,
    pub status: SubscriptionStatus,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub current_meter_period_start: Option<DateTime<Utc>>,
    pub current_meter_period_end: Option<DateTime<Utc>>,
    pub trial_start: Option<DateTime<Utc>>,
    pub trial_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub past_due_at: Option<DateTime<Utc>>,
    pub pause_at_period_end: bool,
    pub paused_at: Option<DateTime<Utc>>,
    pub resumes_at: Option<DateTime<Utc>>,
    pub customer_id: Uuid,
    pub product_id: Uuid,
    pub discount_id: Option<Uuid>,
    pub checkout_id: Option<Uuid>,
    pub seats: Option<i64>,
    /// The SDK's units of a unit-priced subscription.
    pub units: Option<i64>,
    pub customer_cancellation_reason: Option<String>,
    pub customer_cancellation_comment: Option<String>,
}

/// `Subscription`.
#[derive(Clone, Debug, Serialize)]
pub struct Subscription {
    #[serde(flatten)]
    pub base: SubscriptionBase,
    pub custom_field_data: Map<String, Value>,
    pub customer: Customer,
    pub product: Product,
    /// The discount without its products (`DiscountBase`'s variants).
    pub discount: Option<Value>,
    pub prices: Vec<Price>,
    pub meters: Vec<SubscriptionMeter>,
    pub pending_update: Option<Value>,
}

/// `CustomerStateSubscriptionMeter`: what a metered price of the subscription used in the
/// current period, and what it costs so far.
#[derive(Clone, Debug, Serialize)]
pub struct SubscriptionMeterState {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub consumed_units: f64,
    pub credited_units: i64,
    pub amount: i64,
    pub meter_id: Uuid,
}

/// `SubscriptionMeter`: the same with its meter.
#[derive(Clone, Debug, Serialize)]
pub struct SubscriptionMeter {
    #[serde(flatten)]
    pub state: SubscriptionMeterState,
    pub meter: crate::meters::schema::Meter,
}

/// `CustomerStateSubscription`: an active or trialing subscription in the customer's state.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerStateSubscription {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub custom_field_data: Map<String, Value>,
    pub metadata: Map<String, Value>,
    pub status: SubscriptionStatus,
    pub amount: i64,
    pub currency: String,
    pub recurring_interval: Interval,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub trial_start: Option<DateTime<Utc>>,
    pub trial_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub product_id: Uuid,
    pub discount_id: Option<Uuid>,
    pub seats: Option<i64>,
    pub units: Option<i64>,
    pub meters: Vec<SubscriptionMeterState>,
}

/// `SubscriptionCreateCustomer` / `SubscriptionCreateExternalCustomer`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionCreate {
    pub product_id: Uuid,
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    #[serde(default)]
    pub external_customer_id: Option<String>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

/// `SubscriptionSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionSortProperty {
    Customer,
    Status,
    StartedAt,
    CurrentPeriodEnd,
    EndedAt,
    EndsAt,
    Amount,
    Product,
    Discount,
}

impl SortProperty for SubscriptionSortProperty {
    const NAMES: &'static [&'static str] = &[
        "customer",
        "status",
        "started_at",
        "current_period_end",
        "ended_at",
        "ends_at",
        "amount",
        "product",
        "discount",
    ];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "customer" => Self::Customer,
            "status" => Self::Status,
            "started_at" => Self::StartedAt,
            "current_period_end" => Self::CurrentPeriodEnd,
            "ended_at" => Self::EndedAt,
            "ends_at" => Self::EndsAt,
            "amount" => Self::Amount,
            "product" => Self::Product,
            "discount" => Self::Discount,
            _ => return None,
        })
    }
}
