//! Payments as the API shows them.

use serde_json::{Map, Value};

use super::entity::Model;
use super::schema::{Payment, PaymentStatus};

pub fn payment(row: &Model) -> Payment {
    let method_metadata: Option<Map<String, Value>> = (row.method == "card").then(|| {
        let all: Map<String, Value> =
            serde_json::from_str(&row.method_metadata).unwrap_or_default();
        // `CardPaymentMetadata` has the brand and last four digits.
        all.into_iter()
            .filter(|(key, _)| matches!(key.as_str(), "brand" | "last4"))
            .collect()
    });
    Payment {
        created_at: row.created_at,
        modified_at: row.modified_at,
        id: row.id,
        processor: "stripe",
        status: PaymentStatus::parse(&row.status).unwrap_or(PaymentStatus::Pending),
        amount: row.amount,
        currency: row.currency.clone(),
        method: row.method.clone(),
        trigger: row.trigger.clone(),
        decline_reason: row.decline_reason.clone(),
        decline_message: row.decline_message.clone(),
        organization_id: row.organization_id,
        checkout_id: row.checkout_id,
        order_id: row.order_id,
        processor_metadata: serde_json::from_str(&row.processor_metadata).unwrap_or_default(),
        method_metadata,
    }
}
