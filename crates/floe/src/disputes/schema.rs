//! Wire types of the disputes API, named after the contract's schemas.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::entity::Model;
use crate::customers::schema::Customer;
use crate::http::pagination::SortProperty;

/// `DisputeStatus`.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DisputeStatus {
    Prevented,
    EarlyWarning,
    NeedsResponse,
    UnderReview,
    Lost,
    Won,
}

impl DisputeStatus {
    pub const ALL: [Self; 6] = [
        Self::Prevented,
        Self::EarlyWarning,
        Self::NeedsResponse,
        Self::UnderReview,
        Self::Lost,
        Self::Won,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Prevented => "prevented",
            Self::EarlyWarning => "early_warning",
            Self::NeedsResponse => "needs_response",
            Self::UnderReview => "under_review",
            Self::Lost => "lost",
            Self::Won => "won",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == stored)
    }

    /// Stripe's dispute statuses in the contract's terms (an inquiry's `warning_*` are
    /// its open states; an inquiry that closed without becoming a dispute was prevented).
    pub fn from_stripe(status: &str) -> Option<Self> {
        Some(match status {
            "needs_response" | "warning_needs_response" => Self::NeedsResponse,
            "under_review" | "warning_under_review" => Self::UnderReview,
            "won" => Self::Won,
            "lost" => Self::Lost,
            "prevented" | "warning_closed" => Self::Prevented,
            _ => return None,
        })
    }

    /// Decided by the bank: won or lost.
    pub fn is_resolved(self) -> bool {
        matches!(self, Self::Won | Self::Lost)
    }

    /// Over: nothing moves it any more.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Prevented | Self::Won | Self::Lost)
    }
}

impl crate::http::pagination::QueryEnum for DisputeStatus {
    const NAMES: &'static [&'static str] = &[
        "prevented",
        "early_warning",
        "needs_response",
        "under_review",
        "lost",
        "won",
    ];

    fn from_name(name: &str) -> Option<Self> {
        Self::parse(name)
    }
}

/// `Dispute`.
#[derive(Clone, Debug, Serialize)]
pub struct Dispute {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub status: DisputeStatus,
    pub resolved: bool,
    pub closed: bool,
    pub amount: i64,
    pub tax_amount: i64,
    pub currency: String,
    pub reason: Option<String>,
    pub evidence_due_by: Option<DateTime<Utc>>,
    pub past_due: bool,
    pub order_id: Uuid,
    pub payment_id: Uuid,
    pub customer: Customer,
    /// Polar's support case for the dispute; floe has none.
    pub case_id: Option<Uuid>,
}

impl Dispute {
    pub fn of(row: &Model, customer: Customer) -> Self {
        let status = DisputeStatus::parse(&row.status).unwrap_or(DisputeStatus::NeedsResponse);
        Self {
            created_at: row.created_at,
            modified_at: row.modified_at,
            id: row.id,
            status,
            resolved: status.is_resolved(),
            closed: status.is_closed(),
            amount: row.amount,
            tax_amount: row.tax_amount,
            currency: row.currency.clone(),
            reason: row.reason.clone(),
            evidence_due_by: row.evidence_due_by,
            past_due: row.past_due,
            order_id: row.order_id,
            payment_id: row.payment_id,
            customer,
            case_id: None,
        }
    }
}

/// `DisputeSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisputeSortProperty {
    CreatedAt,
    Amount,
}

impl SortProperty for DisputeSortProperty {
    const NAMES: &'static [&'static str] = &["created_at", "amount"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "amount" => Self::Amount,
            _ => return None,
        })
    }
}
