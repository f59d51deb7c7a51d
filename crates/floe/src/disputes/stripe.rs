//! Stripe's dispute events (`charge.dispute.created`, `…updated`, `…closed`): the dispute
//! in the event, found by the PaymentIntent it took money from, applied as any report is.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::schema::DisputeStatus;
use super::service::{self, Report};
use crate::app::AppState;
use crate::http::ApiResult;
use crate::payments::stripe::STRIPE;

/// Whether floe acts on Stripe events of `kind` here.
pub fn handles(kind: &str) -> bool {
    matches!(
        kind,
        "charge.dispute.created" | "charge.dispute.updated" | "charge.dispute.closed"
    )
}

/// A Stripe `Dispute` object as a report; `None` when it is not one floe can read.
pub fn report_of(dispute: &Value) -> Option<Report> {
    let due_by = dispute["evidence_details"]["due_by"]
        .as_i64()
        .and_then(|at| DateTime::<Utc>::from_timestamp(at, 0));
    Some(Report {
        processor_id: dispute["id"].as_str()?.to_owned(),
        status: DisputeStatus::from_stripe(dispute["status"].as_str()?)?,
        total: dispute["amount"].as_i64()?,
        currency: dispute["currency"].as_str().unwrap_or("usd").to_owned(),
        reason: dispute["reason"].as_str().map(str::to_owned),
        evidence_due_by: due_by,
        past_due: dispute["evidence_details"]["past_due"]
            .as_bool()
            .unwrap_or(false),
    })
}

/// Applies the dispute in a Stripe event's `data.object` for `organization_id`. One of a
/// payment floe does not know (or of another organization) is acknowledged and left.
pub async fn apply(app: &AppState, organization_id: Uuid, object: &Value) -> ApiResult<()> {
    let (Some(report), Some(intent)) = (report_of(object), object["payment_intent"].as_str())
    else {
        return Ok(());
    };
    let Some(payment) = crate::payments::store::by_processor_id(&app.db, STRIPE, intent).await?
    else {
        return Ok(());
    };
    service::apply(app, organization_id, STRIPE, payment.id, &report).await?;
    Ok(())
}
