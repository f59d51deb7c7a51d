//! Wire types of the refunds API, named after the contract's schemas.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::entity::Model;
use crate::http::pagination::SortProperty;

/// `RefundReason`. `dispute_prevention` is floe's own (a refund a dispute stands for); a
/// merchant cannot give it.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    Duplicate,
    Fraudulent,
    CustomerRequest,
    ServiceDisruption,
    SatisfactionGuarantee,
    #[serde(skip_deserializing)]
    DisputePrevention,
    Other,
}

impl RefundReason {
    const ALL: [Self; 7] = [
        Self::Duplicate,
        Self::Fraudulent,
        Self::CustomerRequest,
        Self::ServiceDisruption,
        Self::SatisfactionGuarantee,
        Self::DisputePrevention,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Duplicate => "duplicate",
            Self::Fraudulent => "fraudulent",
            Self::CustomerRequest => "customer_request",
            Self::ServiceDisruption => "service_disruption",
            Self::SatisfactionGuarantee => "satisfaction_guarantee",
            Self::DisputePrevention => "dispute_prevention",
            Self::Other => "other",
        }
    }

    pub fn parse(stored: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|reason| reason.as_str() == stored)
            .unwrap_or(Self::Other)
    }

    /// Stripe's `reason` for a refund (Stripe knows three; the rest go without one).
    pub fn to_stripe(self) -> Option<&'static str> {
        match self {
            Self::Duplicate => Some("duplicate"),
            Self::Fraudulent => Some("fraudulent"),
            Self::CustomerRequest => Some("requested_by_customer"),
            _ => None,
        }
    }

    /// Floe's reason for a refund made at Stripe (its dashboard).
    pub fn from_stripe(reason: Option<&str>) -> Self {
        match reason {
            Some("duplicate") => Self::Duplicate,
            Some("fraudulent") => Self::Fraudulent,
            Some("requested_by_customer") => Self::CustomerRequest,
            _ => Self::Other,
        }
    }
}

/// `RefundStatus`.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
    Canceled,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(stored: &str) -> Self {
        match stored {
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "canceled" => Self::Canceled,
            _ => Self::Pending,
        }
    }
}

/// `Refund`.
#[derive(Clone, Debug, Serialize)]
pub struct Refund {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub metadata: Map<String, Value>,
    pub status: RefundStatus,
    pub reason: RefundReason,
    pub amount: i64,
    pub tax_amount: i64,
    pub currency: String,
    pub organization_id: Uuid,
    pub order_id: Uuid,
    pub subscription_id: Option<Uuid>,
    pub customer_id: Uuid,
    pub revoke_benefits: bool,
    /// `RefundDispute` when a dispute stands behind the refund.
    pub dispute: Option<Value>,
}

impl From<&Model> for Refund {
    fn from(row: &Model) -> Self {
        Self {
            created_at: row.created_at,
            modified_at: row.modified_at,
            id: row.id,
            metadata: crate::metadata::from_text(&row.metadata),
            status: RefundStatus::parse(&row.status),
            reason: RefundReason::parse(&row.reason),
            amount: row.amount,
            tax_amount: row.tax_amount,
            currency: row.currency.clone(),
            organization_id: row.organization_id,
            order_id: row.order_id,
            subscription_id: row.subscription_id,
            customer_id: row.customer_id,
            revoke_benefits: row.revoke_benefits,
            dispute: None,
        }
    }
}

/// `RefundCreate`.
#[derive(Debug, Deserialize)]
pub struct RefundCreate {
    pub order_id: Uuid,
    pub reason: RefundReason,
    pub amount: i64,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub revoke_benefits: bool,
}

/// `RefundSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundSortProperty {
    CreatedAt,
    Amount,
}

impl SortProperty for RefundSortProperty {
    const NAMES: &'static [&'static str] = &["created_at", "amount"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "amount" => Self::Amount,
            _ => return None,
        })
    }
}
