//! The customer pays a failed subscription order itself, from the portal
//! (`customer_portal:orders:confirm_retry_payment`), with one of its saved methods: charged
//! now, not at the next dunning retry. A success is the dunning's success (the order paid,
//! a past-due subscription active again, the method kept for the subscription); a failure
//! is recorded and leaves the dunning schedule as it was, so a customer's tries never bring
//! the subscription's end closer. Five tries per order, as at Polar; the payments say
//! `retry_customer`.

use axum::http::StatusCode;
use uuid::Uuid;

use super::store;
use crate::app::AppState;
use crate::http::{ApiError, ApiResult};
use crate::orders::off_session::{self, Attempted, Charged};
use crate::payments::accounts::Account;
use crate::payments::entity::method;
use crate::payments::processor::{ChargeRequest, Intent, Outcome, TEST, TestProcessor};
use crate::payments::stripe::{Failure, STRIPE};

/// The payments' trigger for a customer's own retry.
pub const TRIGGER: &str = "retry_customer";
/// Tries a customer has per order.
pub const MAX_TRIES: usize = 5;

/// `CustomerOrderPaymentConfirmation`.
#[derive(Debug, serde::Serialize)]
pub struct RetryOutcome {
    pub status: &'static str,
    pub client_secret: Option<String>,
    pub error: Option<String>,
}

fn not_eligible() -> ApiError {
    ApiError::named(
        StatusCode::UNPROCESSABLE_ENTITY,
        "OrderNotEligibleForRetry",
        "This order is not waiting for a payment that can be retried.",
    )
}

fn outcome_of(paid: bool, outcome: Option<&Outcome>) -> RetryOutcome {
    if paid {
        return RetryOutcome {
            status: "succeeded",
            client_secret: None,
            error: None,
        };
    }
    let error = match outcome {
        Some(Outcome::Declined { message, .. }) => message.clone(),
        Some(Outcome::RequiresAction { .. }) => {
            "This payment requires authentication; choose another payment method.".to_owned()
        }
        _ => "The payment was not completed.".to_owned(),
    };
    RetryOutcome {
        status: "failed",
        client_secret: None,
        error: Some(error),
    }
}

/// Charges the order `order_id` (the caller checked it is the customer's) now with `method`.
pub async fn retry(
    app: &AppState,
    order_id: Uuid,
    method: method::Model,
) -> ApiResult<RetryOutcome> {
    let txn = crate::db::begin_write(&app.db).await?;
    let mut order = crate::orders::lock(&txn, order_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let (Some(subscription_id), true, true) = (
        order.subscription_id,
        order.status == "pending",
        order.next_payment_attempt_at.is_some(),
    ) else {
        return Err(not_eligible());
    };
    let tries = crate::payments::store::tries_of_order(&txn, order.id, TRIGGER).await?;
    if tries >= MAX_TRIES {
        return Err(ApiError::named(
            StatusCode::TOO_MANY_REQUESTS,
            "ManualRetryLimitExceeded",
            "This order's payment was retried too many times; contact the seller.",
        ));
    }
    if crate::payments::store::pending_of_order(&txn, order.id)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict {
            error: "PaymentAlreadyInProgress",
            detail: "A payment of this order is in progress.".to_owned(),
        });
    }
    let mut subscription = store::lock(&txn, subscription_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let now = super::test_clock::now_for(&txn, &app.clock, order.organization_id).await?;
    // The method the customer chose is the one its subscription charges from now on.
    if subscription.payment_method_id != Some(method.id) {
        subscription.payment_method_id = Some(method.id);
        subscription.modified_at = Some(now);
        subscription = store::update(&txn, subscription).await?;
    }
    let attempt = tries + 1;
    match crate::payments::accounts::of(&txn, &app.secret, order.organization_id).await? {
        Account::Test => {
            if method.processor != TEST {
                return Err(not_eligible());
            }
            let request = ChargeRequest {
                intent: Intent::Payment,
                idempotency_key: format!(
                    "subscription:{}:order:{}:customer-retry:{attempt}",
                    subscription.id, order.id
                ),
                amount: order.due_amount(),
                currency: &order.currency,
                token: &method.processor_id,
                save_method: false,
                off_session: true,
            };
            let outcome = TestProcessor
                .charge(&request)
                .map_err(|unknown| ApiError::BadRequest(unknown.to_string()))?;
            let settled = off_session::apply(
                &txn,
                &mut order,
                &outcome,
                Charged {
                    processor: TEST,
                    method: Some(&method),
                    replaces: None,
                    trigger: TRIGGER,
                    at: now,
                },
            )
            .await?;
            let mut queued = settled.queued;
            if settled.paid {
                queued +=
                    super::renewal::recovered(app, &txn, &mut order, subscription, now).await?;
            }
            app.nudge.commit(txn, queued).await?;
            if settled.paid {
                app.grants.notify_one();
            }
            Ok(outcome_of(settled.paid, Some(&outcome)))
        }
        Account::Stripe(keys) => {
            let customer =
                crate::payments::accounts::processor_customer(&txn, order.customer_id, STRIPE)
                    .await?;
            let (Some(customer), true) = (customer, method.processor == STRIPE) else {
                return Err(not_eligible());
            };
            // The attempt is written down first (it blocks another retry meanwhile), with
            // its own key; the dunning's schedule is left as it is.
            let payment_id = Uuid::new_v4();
            let key = format!(
                "floe-subscription-{}-order-{}-customer-retry-{attempt}",
                subscription.id, order.id
            );
            let attempted = Attempted {
                payment_id,
                key: &key,
                method: &method,
                customer: &customer,
            };
            off_session::write_down(&txn, &order, &attempted, TRIGGER, now).await?;
            txn.commit().await?;
            let answer =
                off_session::charge_with_stripe(app, &keys.secret_key, &order, &attempted).await;
            let txn = crate::db::begin_write(&app.db).await?;
            let mut order = crate::orders::lock(&txn, order_id)
                .await?
                .ok_or_else(ApiError::not_found)?;
            let subscription = store::lock(&txn, subscription_id)
                .await?
                .ok_or_else(ApiError::not_found)?;
            match answer {
                Ok(outcome) => {
                    let settled = off_session::apply(
                        &txn,
                        &mut order,
                        &outcome,
                        Charged {
                            processor: STRIPE,
                            method: Some(&method),
                            replaces: Some(payment_id),
                            trigger: TRIGGER,
                            at: now,
                        },
                    )
                    .await?;
                    let mut queued = settled.queued;
                    if settled.applied && settled.paid {
                        queued +=
                            super::renewal::recovered(app, &txn, &mut order, subscription, now)
                                .await?;
                    }
                    app.nudge.commit(txn, queued).await?;
                    if settled.paid {
                        app.grants.notify_one();
                    }
                    Ok(outcome_of(settled.paid, Some(&outcome)))
                }
                Err(Failure::Refused(detail)) => {
                    off_session::refused(app, &txn, &mut order, &attempted, &detail).await?;
                    txn.commit().await?;
                    Ok(outcome_of(false, None))
                }
                Err(Failure::Unanswered(detail)) => {
                    // Maybe charged: Stripe's webhook settles it (the pending payment stands
                    // until then).
                    txn.rollback().await?;
                    tracing::warn!(%detail, %order_id, "a customer's retry went unanswered");
                    Ok(RetryOutcome {
                        status: "failed",
                        client_secret: None,
                        error: Some(
                            "The payment processor did not answer; try again later.".to_owned(),
                        ),
                    })
                }
            }
        }
    }
}
