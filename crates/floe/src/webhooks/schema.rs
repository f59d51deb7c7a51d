//! Wire types of the webhooks API, named after the spec's schemas.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::entity::{delivery, event};
use crate::http::patch;

/// Every `WebhookEventType`, in the spec's order.
pub const EVENT_TYPES: &[&str] = &[
    "checkout.created",
    "checkout.updated",
    "checkout.expired",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.state_changed",
    "customer_seat.assigned",
    "customer_seat.claimed",
    "customer_seat.revoked",
    "member.created",
    "member.updated",
    "member.deleted",
    "order.created",
    "order.updated",
    "order.paid",
    "order.refunded",
    "subscription.created",
    "subscription.updated",
    "subscription.active",
    "subscription.canceled",
    "subscription.uncanceled",
    "subscription.cycled",
    "subscription.revoked",
    "subscription.past_due",
    "subscription.paused",
    "subscription.resumed",
    "refund.created",
    "refund.updated",
    "product.created",
    "product.updated",
    "discount.created",
    "discount.updated",
    "discount.deleted",
    "benefit.created",
    "benefit.updated",
    "benefit_grant.created",
    "benefit_grant.cycled",
    "benefit_grant.updated",
    "benefit_grant.revoked",
    "organization.updated",
];

/// The event types floe emits today; the others can be subscribed to and will be sent once
/// the resources behind them exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    CustomerCreated,
    CustomerUpdated,
    CustomerDeleted,
    CustomerStateChanged,
    OrganizationUpdated,
    BenefitCreated,
    BenefitUpdated,
    BenefitGrantCreated,
    BenefitGrantUpdated,
    BenefitGrantRevoked,
    ProductCreated,
    ProductUpdated,
    DiscountCreated,
    DiscountUpdated,
    DiscountDeleted,
    CheckoutCreated,
    CheckoutUpdated,
    CheckoutExpired,
    OrderCreated,
    OrderPaid,
    OrderUpdated,
    OrderRefunded,
    RefundCreated,
    RefundUpdated,
    SubscriptionCreated,
    SubscriptionUpdated,
    SubscriptionActive,
    SubscriptionCanceled,
    SubscriptionUncanceled,
    SubscriptionCycled,
    SubscriptionRevoked,
    SubscriptionPastDue,
    SubscriptionPaused,
    SubscriptionResumed,
    BenefitGrantCycled,
    CustomerSeatAssigned,
    CustomerSeatClaimed,
    CustomerSeatRevoked,
    MemberCreated,
    MemberUpdated,
    MemberDeleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerCreated => "customer.created",
            Self::CustomerUpdated => "customer.updated",
            Self::CustomerDeleted => "customer.deleted",
            Self::CustomerStateChanged => "customer.state_changed",
            Self::OrganizationUpdated => "organization.updated",
            Self::BenefitCreated => "benefit.created",
            Self::BenefitUpdated => "benefit.updated",
            Self::BenefitGrantCreated => "benefit_grant.created",
            Self::BenefitGrantUpdated => "benefit_grant.updated",
            Self::BenefitGrantRevoked => "benefit_grant.revoked",
            Self::ProductCreated => "product.created",
            Self::ProductUpdated => "product.updated",
            Self::DiscountCreated => "discount.created",
            Self::DiscountUpdated => "discount.updated",
            Self::DiscountDeleted => "discount.deleted",
            Self::CheckoutCreated => "checkout.created",
            Self::CheckoutUpdated => "checkout.updated",
            Self::CheckoutExpired => "checkout.expired",
            Self::OrderCreated => "order.created",
            Self::OrderPaid => "order.paid",
            Self::OrderUpdated => "order.updated",
            Self::OrderRefunded => "order.refunded",
            Self::RefundCreated => "refund.created",
            Self::RefundUpdated => "refund.updated",
            Self::SubscriptionCreated => "subscription.created",
            Self::SubscriptionUpdated => "subscription.updated",
            Self::SubscriptionActive => "subscription.active",
            Self::SubscriptionCanceled => "subscription.canceled",
            Self::SubscriptionUncanceled => "subscription.uncanceled",
            Self::SubscriptionCycled => "subscription.cycled",
            Self::SubscriptionRevoked => "subscription.revoked",
            Self::SubscriptionPastDue => "subscription.past_due",
            Self::SubscriptionPaused => "subscription.paused",
            Self::SubscriptionResumed => "subscription.resumed",
            Self::BenefitGrantCycled => "benefit_grant.cycled",
            Self::CustomerSeatAssigned => "customer_seat.assigned",
            Self::CustomerSeatClaimed => "customer_seat.claimed",
            Self::CustomerSeatRevoked => "customer_seat.revoked",
            Self::MemberCreated => "member.created",
            Self::MemberUpdated => "member.updated",
            Self::MemberDeleted => "member.deleted",
        }
    }
}

/// `WebhookFormat`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    Raw,
    Discord,
    Slack,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Discord => "discord",
            Self::Slack => "slack",
        }
    }

    pub fn parse(stored: &str) -> Self {
        match stored {
            "discord" => Self::Discord,
            "slack" => Self::Slack,
            _ => Self::Raw,
        }
    }
}

/// `WebhookEndpoint`.
#[derive(Debug, Serialize)]
pub struct WebhookEndpoint {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub url: String,
    pub name: Option<String>,
    pub api_version: String,
    pub format: &'static str,
    pub secret: String,
    pub organization_id: Uuid,
    pub events: Vec<String>,
    pub enabled: bool,
    /// floe signs as Polar always has (the key is the whole secret's bytes), not with the
    /// base64-decoded key of the Standard Webhooks libraries.
    pub uses_standard_webhook_signature: bool,
}

/// `WebhookEndpointCreate`. Event types are checked by hand so that a wrong one is
/// reported at its index.
#[derive(Debug, Deserialize)]
pub struct WebhookEndpointCreate {
    pub url: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub api_version: Option<String>,
    pub format: WebhookFormat,
    pub events: Vec<String>,
    #[serde(default)]
    pub organization_id: Option<Uuid>,
}

/// `WebhookEndpointUpdate`.
#[derive(Debug, Default, Deserialize)]
pub struct WebhookEndpointUpdate {
    #[serde(default, deserialize_with = "patch::field")]
    pub url: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub api_version: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub format: Option<Option<WebhookFormat>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub events: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub enabled: Option<Option<bool>>,
}

/// `WebhookEvent`.
#[derive(Debug, Serialize)]
pub struct WebhookEvent {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub last_http_code: Option<i32>,
    pub succeeded: Option<bool>,
    pub skipped: bool,
    pub api_version: String,
    pub payload: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub is_archived: bool,
}

impl From<event::Model> for WebhookEvent {
    fn from(row: event::Model) -> Self {
        Self {
            created_at: row.created_at,
            modified_at: row.modified_at,
            id: row.id,
            last_http_code: row.last_http_code,
            succeeded: row.succeeded,
            skipped: row.skipped,
            api_version: row.api_version,
            is_archived: row.payload.is_none(),
            payload: row.payload,
            kind: row.kind,
        }
    }
}

/// `WebhookDelivery`, plus how long the attempt took (beyond the spec; clients ignore it).
#[derive(Debug, Serialize)]
pub struct WebhookDelivery {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub succeeded: bool,
    pub http_code: Option<i32>,
    pub response: Option<String>,
    pub webhook_event: WebhookEvent,
    pub duration_ms: i64,
}

impl WebhookDelivery {
    pub fn new(row: delivery::Model, event: event::Model) -> Self {
        Self {
            created_at: row.created_at,
            modified_at: row.modified_at,
            id: row.id,
            succeeded: row.succeeded,
            http_code: row.http_code,
            response: row.response,
            webhook_event: event.into(),
            duration_ms: row.duration_ms,
        }
    }
}
