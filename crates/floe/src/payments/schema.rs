//! Wire types of the payments API, named after the spec's schemas.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::http::pagination::{QueryEnum, SortProperty};

/// `PaymentStatus`.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Succeeded,
    Failed,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

impl QueryEnum for PaymentStatus {
    const NAMES: &'static [&'static str] = &["pending", "succeeded", "failed"];

    fn from_name(name: &str) -> Option<Self> {
        Self::parse(name)
    }
}

/// `Payment` (`CardPayment` when `method` is `card`, with `method_metadata`; else
/// `GenericPayment`).
#[derive(Clone, Debug, Serialize)]
pub struct Payment {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub processor: &'static str,
    pub status: PaymentStatus,
    pub amount: i64,
    pub currency: String,
    pub method: String,
    pub trigger: Option<String>,
    pub decline_reason: Option<String>,
    pub decline_message: Option<String>,
    pub organization_id: Uuid,
    pub checkout_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub processor_metadata: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method_metadata: Option<Map<String, Value>>,
}

/// `PaymentSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentSortProperty {
    CreatedAt,
    Status,
    Amount,
    Method,
}

impl SortProperty for PaymentSortProperty {
    const NAMES: &'static [&'static str] = &["created_at", "status", "amount", "method"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "status" => Self::Status,
            "amount" => Self::Amount,
            "method" => Self::Method,
            _ => return None,
        })
    }
}
