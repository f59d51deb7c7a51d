//! The rules of refunds.
//!
//! A refund is made in three steps, so that two refunds of one order can never add up to
//! more than it and nothing is lost between floe and the processor:
//! 1. Under the order's row lock, what is left to refund is worked out (what the order
//!    charged, less what was refunded and what pending refunds hold back), the refund is
//!    written down `pending` and `refund.created` is queued: one transaction.
//! 2. The processor that took the payment is asked, with the refund's ID as idempotency
//!    key (no transaction is held meanwhile).
//! 3. Its answer is applied by [`settle`], under the order's lock again: the one place a
//!    refund's status changes, whether the answer comes from the call, from the
//!    processor's event, or from the worker that asks again about refunds left pending.
//!
//! As at Polar: `amount` is before tax and the tax goes back in proportion (all that is
//! left of it with the last of the amount); what the customer's balance paid is not
//! refunded; a succeeded refund adds to the order's `refunded_amount` (`refunded` once
//! nothing is left, else `partially_refunded`), reduces a positive balance by what it
//! returned, and queues `order.updated` and `order.refunded`; a refund that fails after it
//! succeeded gives the order its amounts back. `revoke_benefits` revokes the order's grants
//! when the refund is made; a subscription's order cannot do that (its benefits end with
//! the subscription).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use uuid::Uuid;

use super::entity::Model;
use super::schema::{Refund, RefundCreate, RefundStatus};
use super::store;
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Loc, Validator};
use crate::orders::OrderRow;
use crate::payments::accounts::Account;
use crate::payments::processor::{RefundAnswer, RefundRequest, RefundState, TestProcessor};
use crate::webhooks::EventType;

/// What an order has left to refund, before tax and of tax, with what pending refunds hold
/// back taken off.
fn refundable(order: &OrderRow, pending: (i64, i64)) -> (i64, i64) {
    (
        (order.net_amount + order.applied_balance_amount - order.refunded_amount - pending.0)
            .max(0),
        (order.tax_amount - order.refunded_tax_amount - pending.1).max(0),
    )
}

/// The tax that goes back with `amount`: in the order's proportion, rounded half up, and
/// all the tax left when `amount` is all that is left.
fn tax_of(order: &OrderRow, amount: i64, left: (i64, i64)) -> i64 {
    if amount == left.0 {
        return left.1;
    }
    if order.tax_amount == 0 || order.net_amount <= 0 {
        return 0;
    }
    let scaled =
        i128::from(amount) * i128::from(order.tax_amount) * 2 + i128::from(order.net_amount);
    let tax = i64::try_from(scaled / (2 * i128::from(order.net_amount))).unwrap_or(i64::MAX);
    tax.min(left.1)
}

/// The payment of `order_id` that took the money.
async fn payment_of(
    txn: &DatabaseTransaction,
    order_id: Uuid,
) -> ApiResult<Option<crate::payments::entity::Model>> {
    use crate::payments::entity::{Column, Entity};
    Ok(Entity::find()
        .filter(Column::OrderId.eq(order_id))
        .filter(Column::Status.eq("succeeded"))
        .order_by_desc(Column::CreatedAt)
        .one(txn)
        .await?)
}

/// `refunds:create`.
pub async fn create(
    app: &AppState,
    organization_id: Uuid,
    body: RefundCreate,
) -> ApiResult<Refund> {
    let mut validator = Validator::new();
    if body.amount <= 0 {
        validator.push(
            Loc::body().key("amount"),
            "greater_than",
            "Input should be greater than 0",
            json!(body.amount),
        );
    }
    let metadata = body.metadata.clone().unwrap_or_default();
    crate::metadata::check(&metadata, &Loc::body().key("metadata"), &mut validator);
    validator.finish()?;

    let txn = crate::db::begin_write(&app.db).await?;
    let order = crate::orders::lock(&txn, body.order_id)
        .await?
        .filter(|order| order.organization_id == organization_id)
        .ok_or_else(|| {
            ApiError::validation(
                Loc::body().key("order_id"),
                "value_error",
                "Order not found",
                json!(body.order_id),
            )
        })?;
    if order.status == "refunded" {
        return Err(ApiError::Named {
            status: axum::http::StatusCode::FORBIDDEN,
            error: "RefundedAlready",
            detail: format!("Order is already fully refunded: {}", order.id),
        });
    }
    if !matches!(order.status.as_str(), "paid" | "partially_refunded") {
        return Err(ApiError::validation(
            Loc::body().key("order_id"),
            "value_error",
            "Order is not paid",
            json!(body.order_id),
        ));
    }
    if body.revoke_benefits && order.subscription_id.is_some() {
        return Err(ApiError::Named {
            status: axum::http::StatusCode::BAD_REQUEST,
            error: "RevokeSubscriptionBenefitsProhibited",
            detail: "Subscription benefits can only be revoked upon cancellation".to_owned(),
        });
    }
    let left = refundable(&order, store::pending_of_order(&txn, order.id).await?);
    if body.amount > left.0 {
        return Err(ApiError::validation(
            Loc::body().key("amount"),
            "value_error",
            "Refund amount exceeds refundable amount",
            json!(body.amount),
        ));
    }
    if crate::disputes::blocks_refunds(&txn, order.id).await? {
        // As Stripe refuses it (`charge_disputed`): the bank holds the money now.
        return Err(ApiError::Named {
            status: axum::http::StatusCode::FORBIDDEN,
            error: "RefundDisputedPayment",
            detail: format!(
                "Refund cannot be issued for order with disputed payment: {}",
                order.id
            ),
        });
    }
    let Some(payment) = payment_of(&txn, order.id).await? else {
        return Err(ApiError::validation(
            Loc::body().key("order_id"),
            "value_error",
            "The order has no payment to refund",
            json!(body.order_id),
        ));
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
            reason: body.reason.as_str().to_owned(),
            amount: body.amount,
            tax_amount: tax_of(&order, body.amount, left),
            currency: order.currency.clone(),
            comment: body.comment,
            metadata: crate::metadata::to_text(&metadata),
            revoke_benefits: body.revoke_benefits,
            processor: payment.processor.clone(),
            processor_id: None,
            failure_reason: None,
            dispute_id: None,
            checked_at: Some(now),
        },
    )
    .await?;
    let mut queued = crate::webhooks::emit(
        &txn,
        organization_id,
        EventType::RefundCreated,
        &Refund::from(&row),
        now,
    )
    .await?;
    if row.revoke_benefits {
        queued += crate::orders::revoke_grants(app, &txn, order, now).await?;
    }
    app.nudge.commit(txn, queued).await?;

    let row = match ask_processor(app, &row, &payment).await {
        Ok(answer) => settle(app, row.id, Some(answer)).await?.unwrap_or(row),
        // No answer: the refund stays pending and the worker asks again with the same key.
        Err(Asked::Unanswered(error)) => {
            tracing::warn!(%error, refund = %row.id, "the processor did not answer a refund; will retry");
            row
        }
        Err(Asked::Refused(reason)) => settle(
            app,
            row.id,
            Some(RefundAnswer {
                refund_id: format!("refused-{}", row.id),
                state: RefundState::Failed(reason),
            }),
        )
        .await?
        .unwrap_or(row),
    };
    Ok(Refund::from(&row))
}

/// Why the processor gave no answer to apply.
pub(super) enum Asked {
    /// Nothing came back: it may have refunded; asking again with the same key tells.
    Unanswered(String),
    /// It refused the refund itself (nothing was refunded).
    Refused(String),
}

/// Asks the processor that took `payment` to refund `refund` (again: the key makes it one
/// refund), or, when it already answered once, where the refund stands now.
pub(super) async fn ask_processor(
    app: &AppState,
    refund: &Model,
    payment: &crate::payments::entity::Model,
) -> Result<RefundAnswer, Asked> {
    let method = crate::payments::processor::MethodDetails::from_metadata(
        &payment.method,
        &payment.method_metadata,
    );
    if refund.processor == crate::payments::processor::TEST {
        return Ok(match &refund.processor_id {
            None => TestProcessor.refund(&RefundRequest {
                idempotency_key: refund.id.to_string(),
                charge_id: &payment.processor_id,
                amount: refund.total(),
                currency: &refund.currency,
                card_last4: &method.last4,
            }),
            Some(id) => RefundAnswer {
                refund_id: id.clone(),
                state: TestProcessor.refund_settled(&method.last4),
            },
        });
    }
    let account = crate::payments::accounts::of(&app.db, &app.secret, refund.organization_id)
        .await
        .map_err(|e| Asked::Unanswered(e.to_string()))?;
    let Account::Stripe(keys) = account else {
        return Err(Asked::Unanswered(
            "the organization has no Stripe account any more".to_owned(),
        ));
    };
    let client =
        crate::payments::stripe::Client::new(&app.config.stripe_api_base, &keys.secret_key);
    let answer = match &refund.processor_id {
        Some(id) => client.read_refund(id).await,
        None => {
            client
                .refund(
                    &payment.processor_id,
                    refund.total(),
                    super::schema::RefundReason::parse(&refund.reason).to_stripe(),
                    &refund.id.to_string(),
                    &refund.order_id.to_string(),
                )
                .await
        }
    };
    answer.map_err(|failure| match failure {
        crate::payments::stripe::Failure::Unanswered(e) => Asked::Unanswered(e),
        crate::payments::stripe::Failure::Refused(e) => Asked::Refused(e),
    })
}

/// Applies what the processor says of refund `id` (or, with no answer, only notes that it
/// was checked): its new status and what that does to the order, each once. Answers the
/// refund as it is now; `None` when there is no such refund.
pub async fn settle(
    app: &AppState,
    id: Uuid,
    answer: Option<RefundAnswer>,
) -> ApiResult<Option<Model>> {
    let txn = crate::db::begin_write(&app.db).await?;
    // The order first, then the refund: the order's lock is what refunds of it queue on.
    let Some(order_id) = super::entity::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .map(|r| r.order_id)
    else {
        return Ok(None);
    };
    let order = crate::orders::lock(&txn, order_id).await?;
    let Some(mut row) = store::lock(&txn, id).await? else {
        return Ok(None);
    };
    let now =
        crate::subscriptions::test_clock::now_for(&txn, &app.clock, row.organization_id).await?;
    let before = row.clone();
    row.checked_at = Some(now);
    let mut queued = 0;
    if let Some(answer) = answer {
        if row.processor_id.is_none() {
            row.processor_id = Some(answer.refund_id.clone());
        }
        let was = RefundStatus::parse(&row.status);
        let becomes = RefundStatus::parse(answer.state.status());
        // A refund that ended stays ended, but one that succeeded may still fail (the bank
        // refused it later): then the order gets its amounts back.
        let moves = match (was, becomes) {
            (a, b) if a == b => false,
            (RefundStatus::Pending, _) => true,
            (RefundStatus::Succeeded, RefundStatus::Failed | RefundStatus::Canceled) => true,
            _ => false,
        };
        if moves {
            row.status = becomes.as_str().to_owned();
            if let RefundState::Failed(reason) = &answer.state {
                row.failure_reason = Some(reason.clone());
            }
            row.modified_at = Some(now);
            if let Some(order) = order {
                queued += match (was, becomes) {
                    (_, RefundStatus::Succeeded) => succeeded(&txn, order, &row, now).await?,
                    (RefundStatus::Succeeded, _) => {
                        change_refunded(&txn, order, -row.amount, -row.tax_amount, now)
                            .await?
                            .1
                    }
                    _ => 0,
                };
            }
        }
    }
    if row == before {
        txn.rollback().await?;
        return Ok(Some(row));
    }
    let status_changed = row.status != before.status;
    let row = store::update(&txn, row).await?;
    if status_changed {
        queued += crate::webhooks::emit(
            &txn,
            row.organization_id,
            EventType::RefundUpdated,
            &Refund::from(&row),
            now,
        )
        .await?;
    }
    app.nudge.commit(txn, queued).await?;
    Ok(Some(row))
}

/// A refund went through: the order's refunded amounts grow (`order.updated`), a positive
/// balance of the customer shrinks by what went back, and `order.refunded` is queued.
async fn succeeded(
    txn: &DatabaseTransaction,
    order: OrderRow,
    refund: &Model,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let (order, mut queued) =
        change_refunded(txn, order, refund.amount, refund.tax_amount, now).await?;
    crate::wallets::ledger::take(
        txn,
        crate::wallets::ledger::Holder {
            organization_id: order.organization_id,
            customer_id: order.customer_id,
            currency: &order.currency,
        },
        refund.total(),
        order.id,
        crate::wallets::ledger::Reason::Refunded,
        now,
    )
    .await?;
    queued += crate::orders::emit(txn, &order, EventType::OrderRefunded, now).await?;
    Ok(queued)
}

/// Adds to (or, for a refund that failed after all, takes back from) the order's refunded
/// amounts, sets its status from them and queues `order.updated`.
async fn change_refunded(
    txn: &DatabaseTransaction,
    mut order: OrderRow,
    amount: i64,
    tax: i64,
    now: DateTime<Utc>,
) -> ApiResult<(OrderRow, usize)> {
    order.refunded_amount += amount;
    order.refunded_tax_amount += tax;
    order.status = if order.refunded_amount <= 0 {
        "paid"
    } else if order.refunded_amount >= order.net_amount + order.applied_balance_amount {
        "refunded"
    } else {
        "partially_refunded"
    }
    .to_owned();
    order.modified_at = Some(now);
    let order = crate::orders::update_row(txn, order).await?;
    let queued = crate::orders::emit(txn, &order, EventType::OrderUpdated, now).await?;
    Ok((order, queued))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(net: i64, tax: i64) -> OrderRow {
        let mut row: OrderRow = serde_json::from_value(json!({
            "id": Uuid::nil(), "created_at": "2026-01-01T00:00:00Z", "modified_at": null,
            "organization_id": Uuid::nil(), "status": "paid", "subtotal_amount": net,
            "discount_amount": 0, "net_amount": net, "tax_amount": tax,
            "total_amount": net + tax, "applied_balance_amount": 0, "refunded_amount": 0,
            "refunded_tax_amount": 0, "platform_fee_amount": 0, "currency": "usd",
            "billing_reason": "purchase", "billing_name": null, "billing_address": null,
            "invoice_sequence": null, "invoice_number": null, "is_invoice_generated": false,
            "seats": null, "units": null, "customer_id": Uuid::nil(), "product_id": null,
            "discount_id": null, "subscription_id": null, "checkout_id": null,
            "description": "", "metadata": "{}", "custom_field_data": "{}",
            "next_payment_attempt_at": null, "paid_at": null, "grants_done_at": null,
            "billing_period_start": null
        }))
        .expect("an order row");
        row.status = "paid".to_owned();
        row
    }

    #[test]
    fn tax_goes_back_in_proportion_and_the_rest_with_the_last_refund() {
        let order = order(1000, 250);
        let left = refundable(&order, (0, 0));
        assert_eq!(left, (1000, 250));
        assert_eq!(tax_of(&order, 333, left), 83); // 83.25
        assert_eq!(tax_of(&order, 2, left), 1); // 0.5 rounds up
        assert_eq!(tax_of(&order, 1000, left), 250);
        // After 333 (83) pending, the last 667 takes the 167 of tax left, not 166.75.
        let left = refundable(&order, (333, 83));
        assert_eq!(tax_of(&order, 667, left), 167);
        assert_eq!(tax_of(&self::order(1000, 0), 500, (1000, 0)), 0);
    }
}
