//! A draft order's off-session charge on the customer's saved payment method, and what its
//! outcome does. The test processor answers at once, so its charge is applied in the
//! finalizing transaction. Stripe is called between two transactions, as a checkout's
//! confirmation is: the order is first committed `pending` with a `pending` payment that
//! holds the attempt's `Idempotency-Key`, no lock is held while Stripe answers, and the
//! outcome is applied in a second transaction. Stripe's webhook for the same PaymentIntent
//! (its metadata names the order and the payment) goes through [`apply`] too, so the answer
//! and the webhook count once in any order, and a finalize whose answer was lost is settled
//! by the webhook.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use serde_json::json;
use uuid::Uuid;

use super::entity::Model;
use super::schema::OrderStatus;
use super::service::{next_invoice_number, show};
use super::store;
use crate::app::AppState;
use crate::http::ApiResult;
use crate::payments::entity::method;
use crate::payments::processor::{Intent, MethodDetails, Outcome};
use crate::payments::stripe::{self, STRIPE};
use crate::webhooks::EventType;

/// How long a charge sent to Stripe may stay unanswered before `finalize` sends it again,
/// with the same `Idempotency-Key` (so Stripe answers the first request's outcome and never
/// charges twice). The HTTP client gives up after 30 s.
pub const UNANSWERED_AFTER: chrono::Duration = chrono::Duration::minutes(2);

/// Why a draft's charge did not pay it, in the contract's words (`PaymentFailed`,
/// `PaymentActionRequired`) and the processor's message.
#[derive(Debug)]
pub struct Refusal {
    pub error: &'static str,
    pub message: String,
}

/// What a charge's outcome did to its order.
pub struct Settled {
    pub paid: bool,
    /// The outcome was new (not a replay of one applied before).
    pub applied: bool,
    /// Webhook deliveries queued.
    pub queued: usize,
    pub refusal: Option<Refusal>,
}

const REFUSED: &str = "The payment processor refused the charge.";
const NEEDS_AUTHENTICATION: &str = "This payment requires the customer to authenticate.";

fn refusal_of(outcome: &Outcome) -> Option<Refusal> {
    match outcome {
        Outcome::Succeeded { .. } => None,
        Outcome::Declined { code, message, .. } => Some(Refusal {
            error: if code == "authentication_required" {
                "PaymentActionRequired"
            } else {
                "PaymentFailed"
            },
            message: message.clone(),
        }),
        // Off session nobody can answer the bank's question: as good as declined.
        Outcome::RequiresAction { .. } => Some(Refusal {
            error: "PaymentActionRequired",
            message: NEEDS_AUTHENTICATION.to_owned(),
        }),
    }
}

/// The saved method charged, as its payment records it.
pub fn details_of(saved: &method::Model) -> MethodDetails {
    let mut details = MethodDetails::from_metadata(&saved.kind, &saved.method_metadata);
    details.saved_as = Some(saved.processor_id.clone());
    details
}

/// Which attempt an outcome is about, for [`apply`].
pub struct Charged<'a> {
    pub processor: &'a str,
    /// The saved method charged, when known (the outcome's own card description wins).
    pub method: Option<&'a method::Model>,
    /// The `pending` payment written before Stripe was asked.
    pub replaces: Option<Uuid>,
    /// What started the charge, as its payment records it: `purchase` (a draft's
    /// finalize), `subscription_cycle` (a renewal), `retry_dunning`.
    pub trigger: &'a str,
    /// When the outcome is applied: the organization's time (ahead of real time on a test
    /// clock).
    pub at: DateTime<Utc>,
}

/// Applies a charge's outcome to the draft order `row` (locked in `txn`), once: recorded
/// under the processor's ID for the charge, so a replay (the webhook after the answer, or
/// the other way round) changes nothing. A success pays the order (unless another attempt
/// already did: the payment is still recorded, the money decides); a failure records the
/// failed payment and puts a `pending` order back to `draft`.
pub async fn apply(
    txn: &DatabaseTransaction,
    row: &mut Model,
    outcome: &Outcome,
    charged: Charged<'_>,
) -> ApiResult<Settled> {
    let now = charged.at;
    let kind = Intent::Payment.event_kind(outcome);
    let new = crate::payments::events::record_once(
        txn,
        charged.processor,
        &format!("{}:{kind}", outcome.charge_id()),
        kind,
        &json!(outcome),
        now,
    )
    .await?;
    let refusal = refusal_of(outcome);
    if !new {
        return Ok(Settled {
            paid: row.status == OrderStatus::Paid.as_str(),
            applied: false,
            queued: 0,
            refusal,
        });
    }
    let saved = charged.method.map(details_of);
    let (status, method) = match outcome {
        Outcome::Succeeded { method, .. } => ("succeeded", Some(method.clone())),
        Outcome::Declined { method, .. } => ("failed", method.clone()),
        Outcome::RequiresAction { method, .. } => ("failed", Some(method.clone())),
    };
    // A card the processor could not describe (a decline without its method) is the saved
    // one that was charged.
    let method = method
        .filter(|m| m.last4 != "0000" || saved.is_none())
        .or(saved)
        .unwrap_or_else(|| MethodDetails::from_metadata("card", "{}"));
    let decline = match outcome {
        Outcome::Declined { code, message, .. } => Some((code.as_str(), message.as_str())),
        Outcome::RequiresAction { .. } => Some(("authentication_required", NEEDS_AUTHENTICATION)),
        Outcome::Succeeded { .. } => None,
    };
    let payment = record(
        txn,
        row,
        &charged,
        outcome.charge_id(),
        status,
        &method,
        decline,
        now,
    )
    .await?;
    let mut queued = 0;
    if refusal.is_none() {
        if row.status != OrderStatus::Paid.as_str() {
            queued += mark_paid(txn, row, now).await?;
        }
        crate::disputes::open_for_test_payment(txn, &payment, now).await?;
    } else if row.status == OrderStatus::Pending.as_str() && row.subscription_id.is_none() {
        // A draft's failed charge makes it a draft again; a subscription's order stays
        // pending for its retries.
        back_to_draft(txn, row, now).await?;
    }
    Ok(Settled {
        paid: row.status == OrderStatus::Paid.as_str(),
        applied: true,
        queued,
        refusal,
    })
}

/// The draft's payment row, through the one function that writes payments.
#[expect(
    clippy::too_many_arguments,
    reason = "one attempt's facts, named at the call"
)]
async fn record(
    txn: &DatabaseTransaction,
    row: &Model,
    charged: &Charged<'_>,
    charge_id: &str,
    status: &str,
    method: &MethodDetails,
    decline: Option<(&str, &str)>,
    now: DateTime<Utc>,
) -> ApiResult<crate::payments::entity::Model> {
    Ok(crate::payments::store::record(
        txn,
        crate::payments::store::Attempt {
            organization_id: row.organization_id,
            processor: charged.processor,
            charge_id,
            status,
            amount: row.due_amount(),
            currency: &row.currency,
            method,
            decline,
            trigger: charged.trigger,
            checkout_id: None,
            order_id: Some(row.id),
            customer_id: Some(row.customer_id),
            payment_method_id: charged.method.map(|m| m.id),
            replaces: charged.replaces,
        },
        now,
    )
    .await?)
}

/// The order is paid: its invoice number, `paid`, and `order.updated` and `order.paid`.
/// Returns how many deliveries were queued.
pub async fn mark_paid(
    txn: &DatabaseTransaction,
    row: &mut Model,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let (sequence, number) = next_invoice_number(txn, row.organization_id).await?;
    row.status = OrderStatus::Paid.as_str().to_owned();
    row.invoice_sequence = Some(sequence);
    row.invoice_number = Some(number);
    row.paid_at = Some(now);
    row.modified_at = Some(now);
    *row = store::update(txn, row.clone()).await?;
    let order = show(txn, row).await?;
    let endpoints = crate::webhooks::outbox::Endpoints::of(txn, row.organization_id).await?;
    let mut queued = 0;
    for kind in [EventType::OrderUpdated, EventType::OrderPaid] {
        queued += crate::webhooks::outbox::emit_to(
            txn,
            &endpoints,
            row.organization_id,
            kind,
            &order,
            now,
        )
        .await?;
    }
    Ok(queued)
}

async fn back_to_draft(
    txn: &DatabaseTransaction,
    row: &mut Model,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    row.status = OrderStatus::Draft.as_str().to_owned();
    row.modified_at = Some(now);
    *row = store::update(txn, row.clone()).await?;
    Ok(())
}

/// Stripe's webhook for a draft's PaymentIntent (`metadata.order_id`, `metadata.payment_id`):
/// applies its outcome to the order, in `txn` (which holds the raw event's record), and
/// commits. `None` when the order is not this organization's.
pub async fn apply_stripe_outcome(
    app: &AppState,
    txn: DatabaseTransaction,
    organization_id: Uuid,
    order_id: Uuid,
    payment_id: Option<Uuid>,
    outcome: &Outcome,
) -> ApiResult<Option<Settled>> {
    let Some(mut row) = store::lock(&txn, order_id)
        .await?
        .filter(|row| row.organization_id == organization_id)
    else {
        txn.commit().await?;
        return Ok(None);
    };
    // The attempt floe wrote down before asking Stripe, if it is this order's.
    let pending = match payment_id {
        Some(id) => crate::payments::store::by_id(&txn, id)
            .await?
            .filter(|p| p.order_id == Some(row.id)),
        None => None,
    };
    let method = match pending.as_ref().and_then(|p| p.payment_method_id) {
        Some(id) => crate::payments::store::method_by_id(&txn, id).await?,
        None => None,
    };
    let at = match row.subscription_id {
        Some(_) => {
            crate::subscriptions::test_clock::now_for(&txn, &app.clock, row.organization_id).await?
        }
        None => app.clock.now(),
    };
    let mut settled = apply(
        &txn,
        &mut row,
        outcome,
        Charged {
            processor: STRIPE,
            method: method.as_ref(),
            trigger: pending.as_ref().map_or("purchase", trigger_of),
            replaces: pending.as_ref().map(|p| p.id),
            at,
        },
    )
    .await?;
    // A renewal's outcome that its own answer did not bring (lost, or late): the
    // subscription follows it as it would have (active again, or the next retry).
    // A customer's own retry that failed leaves the dunning as it was.
    let customer_retry = pending.as_ref().map(trigger_of) == Some("retry_customer");
    if settled.applied && row.subscription_id.is_some() && (settled.paid || !customer_retry) {
        settled.queued +=
            crate::subscriptions::renewal::follow_outcome(app, &txn, &mut row, settled.paid, at)
                .await?;
    }
    app.nudge.commit(txn, settled.queued).await?;
    Ok(Some(settled))
}

/// The trigger the pending attempt was written with.
fn trigger_of(payment: &crate::payments::entity::Model) -> &'static str {
    match payment.trigger.as_deref().unwrap_or_default() {
        "subscription_cycle" => "subscription_cycle",
        "retry_dunning" => "retry_dunning",
        "retry_customer" => "retry_customer",
        _ => "purchase",
    }
}

/// Stripe refused the charge request itself (nothing was charged): the attempt failed and
/// the order is a draft again.
pub async fn refused(
    app: &AppState,
    txn: &DatabaseTransaction,
    row: &mut Model,
    attempt: &Attempted<'_>,
    detail: &str,
) -> ApiResult<Refusal> {
    let now = app.clock.now();
    let pending = crate::payments::store::by_id(txn, attempt.payment_id).await?;
    if pending.as_ref().is_some_and(|p| p.status == "pending") {
        let charged = Charged {
            processor: STRIPE,
            method: Some(attempt.method),
            replaces: Some(attempt.payment_id),
            trigger: pending.as_ref().map_or("purchase", trigger_of),
            at: now,
        };
        record(
            txn,
            row,
            &charged,
            attempt.key,
            "failed",
            &details_of(attempt.method),
            Some(("processing_error", REFUSED)),
            now,
        )
        .await?;
        if row.status == OrderStatus::Pending.as_str() {
            back_to_draft(txn, row, now).await?;
        }
    }
    tracing::warn!(%detail, order_id = %row.id, "Stripe refused an off-session charge");
    Ok(Refusal {
        error: "PaymentFailed",
        message: REFUSED.to_owned(),
    })
}

/// An off-session charge written down, about to be sent to Stripe.
pub struct Attempted<'a> {
    /// The `pending` payment that stands for it until Stripe answers.
    pub payment_id: Uuid,
    /// Its `Idempotency-Key` (also the pending payment's processor ID until then).
    pub key: &'a str,
    pub method: &'a method::Model,
    /// The Stripe customer the method is attached to.
    pub customer: &'a str,
}

/// Writes the Stripe attempt down before Stripe is asked: a `pending` payment of `order`
/// on `attempt`'s method, holding its `Idempotency-Key`, under `attempt.payment_id` (so the
/// answer, or the webhook, replaces it).
pub async fn write_down(
    txn: &DatabaseTransaction,
    order: &Model,
    attempt: &Attempted<'_>,
    trigger: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    crate::payments::store::record(
        txn,
        crate::payments::store::Attempt {
            organization_id: order.organization_id,
            processor: STRIPE,
            charge_id: attempt.key,
            status: "pending",
            amount: order.due_amount(),
            currency: &order.currency,
            method: &details_of(attempt.method),
            decline: None,
            trigger,
            checkout_id: None,
            order_id: Some(order.id),
            customer_id: Some(order.customer_id),
            payment_method_id: Some(attempt.method.id),
            replaces: Some(attempt.payment_id),
        },
        now,
    )
    .await?;
    Ok(())
}

/// Sends the attempt to Stripe (no transaction is open): a PaymentIntent on the saved
/// method, off session, confirmed at once, its metadata naming the order and the payment
/// so that the webhook finds them.
pub async fn charge_with_stripe(
    app: &AppState,
    secret_key: &str,
    row: &Model,
    attempt: &Attempted<'_>,
) -> Result<Outcome, stripe::Failure> {
    stripe::Client::new(&app.config.stripe_api_base, secret_key)
        .charge(&stripe::Charge {
            idempotency_key: attempt.key,
            amount: row.due_amount(),
            currency: &row.currency,
            customer: attempt.customer,
            token: &attempt.method.processor_id,
            save_method: false,
            off_session: true,
            description: &row.description,
            return_url: "",
            metadata: json!({
                "organization_id": row.organization_id.to_string(),
                "order_id": row.id.to_string(),
                "payment_id": attempt.payment_id.to_string(),
                "type": "order",
            }),
        })
        .await
}
