//! Stripe's refund events (`refund.created`, `refund.updated`, `refund.failed`,
//! `charge.refund.updated`): a refund floe asked for is found by Stripe's ID, or by the
//! `refund_id` floe put in its metadata when the answer to the call was lost, and settled
//! as Stripe says; a refund made in Stripe's dashboard is written down as floe's own
//! (reason from Stripe's, the tax in the order's proportion), then settled the same way.

use serde_json::Value;
use uuid::Uuid;

use super::entity::Model;
use super::schema::{Refund, RefundReason, RefundStatus};
use super::{service, store};
use crate::app::AppState;
use crate::http::ApiResult;
use crate::payments::stripe::{STRIPE, refund_answer};
use crate::webhooks::EventType;

/// Whether floe acts on Stripe events of `kind` here.
pub fn handles(kind: &str) -> bool {
    matches!(
        kind,
        "refund.created" | "refund.updated" | "refund.failed" | "charge.refund.updated"
    )
}

/// Applies the refund in a Stripe event's `data.object` for `organization_id`.
pub async fn apply(app: &AppState, organization_id: Uuid, object: &Value) -> ApiResult<()> {
    let Some(answer) = refund_answer(object) else {
        return Ok(());
    };
    let known = match store::by_processor_id(&app.db, STRIPE, &answer.refund_id).await? {
        Some(row) => Some(row),
        None => match object["metadata"]["refund_id"]
            .as_str()
            .and_then(|id| Uuid::parse_str(id).ok())
        {
            Some(id) => store::get((&app.reader).into(), organization_id, id).await?,
            None => imported(app, organization_id, object).await?,
        },
    };
    if let Some(row) = known.filter(|row| row.organization_id == organization_id) {
        service::settle(app, row.id, Some(answer)).await?;
    }
    Ok(())
}

/// A refund made at Stripe rather than through floe, written down `pending` (with
/// `refund.created`) so that `settle` applies its status like any other; `None` when it
/// is not of a payment floe knows, or is not of this organization.
async fn imported(
    app: &AppState,
    organization_id: Uuid,
    object: &Value,
) -> ApiResult<Option<Model>> {
    let (Some(intent), Some(total)) =
        (object["payment_intent"].as_str(), object["amount"].as_i64())
    else {
        return Ok(None);
    };
    let txn = crate::db::begin_write(&app.db).await?;
    let Some(payment) = crate::payments::store::by_processor_id(&txn, STRIPE, intent)
        .await?
        .filter(|p| p.organization_id == organization_id)
    else {
        return Ok(None);
    };
    let order = match payment.order_id {
        Some(order_id) => crate::orders::lock(&txn, order_id).await?,
        None => None,
    };
    let Some(order) = order else {
        return Ok(None);
    };
    // Stripe's amount includes tax: split as the order was.
    let charged = order.net_amount + order.tax_amount;
    let tax = if charged > 0 {
        i64::try_from(i128::from(total) * i128::from(order.tax_amount) / i128::from(charged))
            .unwrap_or(0)
    } else {
        0
    };
    let now = crate::subscriptions::test_clock::now_for(&txn, &app.clock, organization_id).await?;
    let row = store::insert(
        &txn,
        Model {
            id: Uuid::new_v4(),
            created_at: now,
            modified_at: None,
            organization_id,
            order_id: order.id,
            subscription_id: order.subscription_id,
            customer_id: order.customer_id,
            payment_id: Some(payment.id),
            status: RefundStatus::Pending.as_str().to_owned(),
            reason: RefundReason::from_stripe(object["reason"].as_str())
                .as_str()
                .to_owned(),
            amount: total - tax,
            tax_amount: tax,
            currency: order.currency.clone(),
            comment: None,
            metadata: "{}".to_owned(),
            revoke_benefits: false,
            processor: STRIPE.to_owned(),
            processor_id: object["id"].as_str().map(str::to_owned),
            failure_reason: None,
            dispute_id: None,
            checked_at: Some(now),
        },
    )
    .await?;
    let queued = crate::webhooks::emit(
        &txn,
        organization_id,
        EventType::RefundCreated,
        &Refund::from(&row),
        now,
    )
    .await?;
    app.nudge.commit(txn, queued).await?;
    Ok(Some(row))
}
