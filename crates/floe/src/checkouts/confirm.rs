//! Confirming a checkout: the buyer's last change, the checks a purchase needs, the
//! customer, the discount's redemption, the charge, and what the charge's outcome does.
//!
//! The outcome is one processor event, recorded once (`payments::events`) and applied in
//! the same transaction as the checkout's change: a success makes the payment, the paid
//! order and its events; a decline records the failed payment and puts the checkout back
//! to `open` with the processor's message; an authentication step leaves it `confirmed`
//! until the buyer completes it. A confirmation answered with a 2xx has therefore
//! committed everything it did, and a replay of the same event changes nothing.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entity::Model;
use super::offer::Offers;
use super::present::{self, Flags};
use super::schema::{CheckoutPatch, CheckoutPublicConfirmed, CheckoutStatus};
use super::service::{self, Caller};
use super::store;
use crate::app::AppState;
use crate::discounts::NotRedeemable;
use crate::http::{ApiError, ApiResult, Loc, Validator};
use crate::payments::accounts::Account;
use crate::payments::processor::{
    ChargeRequest, Intent, MethodDetails, Outcome, TEST, TestProcessor,
};
use crate::payments::stripe::STRIPE;

/// At most this many confirmations of one checkout a minute, and an hour.
const PER_MINUTE: usize = 6;
const PER_HOUR: usize = 20;

pub fn expired() -> ApiError {
    ApiError::named(
        StatusCode::GONE,
        "ExpiredCheckoutError",
        "This checkout session has expired.",
    )
}

/// Counts this confirmation against the checkout's limits, in its own transaction so that
/// refused and failed attempts count too.
async fn count_attempt(app: &AppState, id: Uuid) -> ApiResult<()> {
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let Some(mut row) = store::lock(&txn, id).await? else {
        return Err(service::not_found());
    };
    let mut attempts: Vec<DateTime<Utc>> =
        serde_json::from_str(&row.confirm_attempts).unwrap_or_default();
    attempts.retain(|at| now.signed_duration_since(*at) < chrono::Duration::hours(1));
    let last_minute = attempts
        .iter()
        .filter(|at| now.signed_duration_since(**at) < chrono::Duration::minutes(1))
        .count();
    if last_minute >= PER_MINUTE || attempts.len() >= PER_HOUR {
        txn.rollback().await?;
        return Err(ApiError::named(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many confirmation attempts for this checkout; try again later.",
        ));
    }
    attempts.push(now);
    row.confirm_attempts = json!(attempts).to_string();
    store::update(&txn, row).await?;
    txn.commit().await?;
    Ok(())
}

/// What the confirmation needs that the checkout may not have yet.
fn check_required(row: &Model, patch_token: Option<&str>) -> ApiResult<()> {
    let flags = Flags::of(row);
    let mut validator = Validator::new();
    if row.customer_email.is_none() && row.customer_id.is_none() {
        validator.push(
            Loc::body().key("customer_email"),
            "missing",
            "Field is required.",
            Value::Null,
        );
    }
    let address = present::address_of(row.customer_billing_address.as_deref());
    let fields = present::billing_address_fields(row);
    match &address {
        None if flags.is_payment_form_required || row.require_billing_address => validator.push(
            Loc::body().key("customer_billing_address"),
            "missing",
            "Field is required.",
            Value::Null,
        ),
        Some(address) => {
            use super::schema::FieldMode::Required;
            let missing = (fields.line1 == Required && address.line1.is_none())
                || (fields.city == Required && address.city.is_none())
                || (fields.postal_code == Required && address.postal_code.is_none())
                || (fields.state == Required && address.state.is_none());
            if missing {
                validator.push(
                    Loc::body().key("customer_billing_address"),
                    "value_error",
                    "Full billing address is required.",
                    json!(address),
                );
            }
        }
        None => {}
    }
    if flags.is_payment_form_required && patch_token.is_none() {
        validator.push(
            Loc::body().key("confirmation_token_id"),
            "missing",
            "Confirmation token is required.",
            Value::Null,
        );
    }
    validator.finish()
}

/// `checkouts:client_confirm`.
pub async fn confirm(
    app: &AppState,
    client_secret: &str,
    patch: CheckoutPatch,
) -> ApiResult<CheckoutPublicConfirmed> {
    let found = store::by_client_secret((&app.reader).into(), client_secret)
        .await?
        .ok_or_else(service::not_found)?;
    count_attempt(app, found.id).await?;
    let now = app.clock.now();
    let token = patch.confirmation_token_id.clone();

    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::lock(&txn, found.id)
        .await?
        .ok_or_else(service::not_found)?;
    if row.expires_at <= now {
        return Err(expired());
    }
    // Read once for the whole confirmation: which products a checkout offers never changes.
    let mut offers = Offers::of_checkout((&txn).into(), app.storage.as_ref(), &row).await?;
    let discount =
        service::apply_patch(app, &txn, &mut row, patch, Caller::Confirm, &offers).await?;
    check_required(&row, token.as_deref())?;

    let offer = offers.of(row.id);
    let product = row
        .product_id
        .and_then(|id| offer.product(id))
        .ok_or_else(service::not_found)?;
    if row.product_price_id.is_some_and(|id| {
        !offer
            .prices_in(product.base.id, &row.currency)
            .iter()
            .any(|p| p.id == id)
    }) {
        return Err(ApiError::validation(
            Loc::body().key("product_price_id"),
            "value_error",
            "Price is archived.",
            json!(row.product_price_id),
        ));
    }

    let customer_metadata: Map<String, Value> =
        serde_json::from_str(&row.customer_metadata).unwrap_or_default();
    let (customer, mut queued) = crate::customers::purchase::settle(
        app,
        &txn,
        row.organization_id,
        crate::customers::purchase::Buyer {
            customer_id: row.customer_id,
            external_id: row.external_customer_id.as_deref(),
            email: row.customer_email.as_deref(),
            name: row.customer_name.as_deref(),
            billing_name: row.customer_billing_name.as_deref(),
            billing_address: row.customer_billing_address.as_deref(),
            tax_id: row.customer_tax_id.as_deref(),
            metadata: &customer_metadata,
        },
    )
    .await?;
    row.customer_id = Some(customer.id);
    if row.customer_email.is_none() {
        row.customer_email = customer.email.clone();
    }
    if row.trial_end.is_some()
        && crate::subscriptions::trials::already_redeemed(
            &txn,
            row.organization_id,
            product.base.id,
            &customer,
        )
        .await?
    {
        return Err(ApiError::named(
            StatusCode::FORBIDDEN,
            "TrialAlreadyRedeemed",
            "You have already used a trial for this product. Trials can only be used once per customer.",
        ));
    }

    // The redemption is taken before the charge (so two buyers cannot both pay for the
    // last one) and given back if the charge fails.
    if let Some(discount) = &discount {
        match crate::discounts::redeem(
            &txn,
            row.organization_id,
            discount.id,
            Some(customer.id),
            Some(row.id),
            now,
        )
        .await?
        {
            Ok(_) => {}
            Err(NotRedeemable::CustomerLimit) => {
                return Err(ApiError::named(
                    StatusCode::FORBIDDEN,
                    "DiscountRedemptionLimitReached",
                    "You have already redeemed this discount the maximum number of times allowed per customer.",
                ));
            }
            Err(_) => {
                return Err(ApiError::validation(
                    Loc::body().key("discount_id"),
                    "value_error",
                    "Discount is no longer redeemable.",
                    json!(discount.id),
                ));
            }
        }
    }

    row.status = CheckoutStatus::Confirmed.as_str().to_owned();
    row.payment_error = None;
    let flags = Flags::of(&row);
    // Nothing to pay now but a method to keep (a trial, a recurring product free for now):
    // a setup, which makes no payment.
    let intent = if flags.is_payment_required {
        Intent::Payment
    } else {
        Intent::Setup
    };
    let attempt = Uuid::new_v4();
    let account = crate::payments::accounts::of(&txn, &app.secret, row.organization_id).await?;
    let payment_error = |detail: String| {
        ApiError::named(
            StatusCode::BAD_REQUEST,
            "PaymentError",
            format!(
                "The payment failed: {detail} Please try again with a different payment method."
            ),
        )
    };

    let (txn, mut row, outcome, processor) = match (&account, flags.is_payment_form_required) {
        (_, false) => (txn, row, None, TEST),
        (Account::Test, true) => {
            let request = ChargeRequest {
                intent,
                // One charge per confirmation attempt (each is counted before it starts):
                // a buyer who retries a declined card makes a new attempt, never a replay.
                idempotency_key: format!("checkout:{}:attempt:{attempt}", row.id),
                amount: match intent {
                    Intent::Payment => row.total_amount,
                    Intent::Setup => 0,
                },
                currency: &row.currency,
                token: token.as_deref().unwrap_or_default(),
                save_method: product.base.is_recurring,
                off_session: false,
            };
            let outcome = TestProcessor
                .charge(&request)
                .map_err(|unknown| payment_error(unknown.to_string()))?;
            (txn, row, Some(outcome), TEST)
        }
        (Account::Stripe(keys), true) => {
            // Stripe is called between two transactions: the confirmation is committed
            // first (so a crash leaves a `confirmed` checkout that Stripe's webhook
            // completes), and no lock is held while Stripe answers.
            let description = format!("{} — {}", row.organization_id, product.base.name);
            let save_method = product.base.is_recurring;
            let (row, _) = service::save_offered(app, txn, row, queued, &mut offers).await?;
            queued = 0;
            let outcome = charge_with_stripe(
                app,
                keys,
                &row,
                &customer,
                StripeAttempt {
                    intent,
                    token: token.as_deref().unwrap_or_default(),
                    save_method,
                    description: &description,
                    attempt,
                },
            )
            .await;
            let txn = crate::db::begin_write(&app.db).await?;
            let mut locked = store::lock(&txn, row.id)
                .await?
                .ok_or_else(service::not_found)?;
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(failure) => {
                    // Nothing was charged (or Stripe will tell by webhook): the checkout
                    // opens again and the discount is given back.
                    if locked.status == CheckoutStatus::Confirmed.as_str() {
                        locked.status = CheckoutStatus::Open.as_str().to_owned();
                        locked.payment_error =
                            Some("The payment could not be processed.".to_owned());
                        if let Some(discount_id) = locked.discount_id {
                            crate::discounts::release_for_checkout(&txn, discount_id, locked.id)
                                .await?;
                        }
                        service::save_offered(app, txn, locked, 0, &mut offers).await?;
                    }
                    tracing::warn!(error = %failure, "a Stripe charge could not be made");
                    return Err(payment_error(
                        "the payment processor could not be reached.".to_owned(),
                    ));
                }
            };
            locked.customer_id = Some(customer.id);
            (txn, locked, Some(outcome), STRIPE)
        }
    };

    let (applied, declined) = apply_outcome(
        app,
        &txn,
        &mut row,
        &offers,
        outcome.as_ref().map(|outcome| (intent, outcome)),
        processor,
    )
    .await?;
    queued += applied;
    let (row, _) = service::save_offered(app, txn, row, queued, &mut offers).await?;
    if row.status == CheckoutStatus::Succeeded.as_str() {
        app.grants.notify_one();
    }
    if let Some(message) = declined {
        return Err(payment_error(message));
    }
    let mut shown = super::show_public_offered(app, &row, &offers).await?;
    // The answer to a confirmation says `confirmed` (the contract's constant), whatever the
    // processor did since; the buyer's page reads the checkout again for the rest.
    shown.base.status = CheckoutStatus::Confirmed;
    Ok(CheckoutPublicConfirmed {
        public: shown,
        customer_session_token: None,
    })
}

/// What one Stripe confirmation asks for.
struct StripeAttempt<'a> {
    intent: Intent,
    token: &'a str,
    save_method: bool,
    description: &'a str,
    attempt: Uuid,
}

/// Confirms the buyer's confirmation token with Stripe: the Stripe customer first (made
/// once per floe customer), then a PaymentIntent, or a SetupIntent when nothing is to be
/// paid now, confirmed at once.
async fn charge_with_stripe(
    app: &AppState,
    keys: &crate::payments::accounts::StripeKeys,
    row: &Model,
    customer: &crate::customers::CustomerRow,
    attempt: StripeAttempt<'_>,
) -> Result<Outcome, crate::payments::stripe::Failure> {
    use crate::payments::stripe::{Charge, Client, Setup};
    let stripe = Client::new(&app.config.stripe_api_base, &keys.secret_key);
    let customer_ref = crate::payments::accounts::stripe_customer(app, &stripe, customer).await?;
    let idempotency_key = format!("floe-checkout-{}-{}", row.id, attempt.attempt);
    let return_url = format!(
        "{}/confirmation",
        super::present::page_url(&app.config.public_url, &row.client_secret)
    );
    let metadata = json!({
        "organization_id": row.organization_id.to_string(),
        "checkout_id": row.id.to_string(),
        "type": "product",
    });
    match attempt.intent {
        Intent::Payment => {
            stripe
                .charge(&Charge {
                    idempotency_key: &idempotency_key,
                    amount: row.total_amount,
                    currency: &row.currency,
                    customer: &customer_ref,
                    token: attempt.token,
                    save_method: attempt.save_method,
                    off_session: false,
                    description: attempt.description,
                    return_url: &return_url,
                    metadata,
                })
                .await
        }
        Intent::Setup => {
            stripe
                .setup(&Setup {
                    idempotency_key: &idempotency_key,
                    customer: &customer_ref,
                    token: attempt.token,
                    description: attempt.description,
                    return_url: &return_url,
                    metadata,
                })
                .await
        }
    }
}

/// Applies a processor's outcome for the checkout `row` (locked in `txn`), once: the event
/// is recorded under the processor's ID for it, so the confirmation's own answer and the
/// processor's webhook for the same charge apply it a single time, in either order. A
/// success pays (the payment, the order, the saved method); a decline records the failed
/// payment, reopens the checkout with the processor's message and gives the discount back
/// (returned, for the caller to answer with); an authentication step leaves the checkout
/// `confirmed` with what the buyer's page needs. No outcome: a free purchase, paid at once.
///
/// A setup (nothing to pay now, a method kept) has the same outcomes but makes no payment:
/// nothing was charged, so the payments list nothing; its success saves the method and
/// makes the order, as a charge's does.
pub async fn apply_outcome(
    app: &AppState,
    txn: &DatabaseTransaction,
    row: &mut Model,
    offers: &Offers,
    outcome: Option<(Intent, &Outcome)>,
    processor: &str,
) -> ApiResult<(usize, Option<String>)> {
    let now = app.clock.now();
    let Some((intent, outcome)) = outcome else {
        return Ok((
            succeed(app, txn, row, offers, processor, None, None).await?,
            None,
        ));
    };
    let kind = intent.event_kind(outcome);
    let new = crate::payments::events::record_once(
        txn,
        processor,
        &format!("{}:{kind}", outcome.charge_id()),
        kind,
        &json!(outcome),
        now,
    )
    .await?;
    if !new {
        // Applied already (the processor's webhook came first): the answer still tells.
        let declined = match outcome {
            Outcome::Declined { message, .. } => Some(message.clone()),
            _ => None,
        };
        return Ok((0, declined));
    }
    let mut metadata: Map<String, Value> =
        serde_json::from_str(&row.payment_processor_metadata).unwrap_or_default();
    let charged = intent == Intent::Payment;
    let result = match outcome {
        Outcome::Succeeded { charge_id, method } => {
            let payment = if charged {
                Some(
                    record_payment(
                        txn,
                        row,
                        processor,
                        charge_id,
                        "succeeded",
                        method,
                        None,
                        now,
                    )
                    .await?,
                )
            } else {
                None
            };
            metadata.insert("intent_status".to_owned(), json!("succeeded"));
            (
                succeed(app, txn, row, offers, processor, payment, Some(method)).await?,
                None,
            )
        }
        Outcome::Declined {
            charge_id,
            method,
            code,
            message,
        } => {
            if charged {
                let method = method.clone().unwrap_or_else(unknown_method);
                let decline = Some((code.as_str(), message.as_str()));
                record_payment(
                    txn, row, processor, charge_id, "failed", &method, decline, now,
                )
                .await?;
            }
            if let Some(discount_id) = row.discount_id {
                crate::discounts::release_for_checkout(txn, discount_id, row.id).await?;
            }
            metadata.insert("intent_status".to_owned(), json!("requires_payment_method"));
            row.status = CheckoutStatus::Open.as_str().to_owned();
            row.payment_error = Some(message.clone());
            (0, Some(message.clone()))
        }
        Outcome::RequiresAction {
            charge_id,
            method,
            client_secret,
        } => {
            if charged {
                record_payment(txn, row, processor, charge_id, "pending", method, None, now)
                    .await?;
            }
            metadata.insert("intent_status".to_owned(), json!("requires_action"));
            metadata.insert("intent_client_secret".to_owned(), json!(client_secret));
            metadata.insert("intent_id".to_owned(), json!(charge_id));
            metadata.insert("intent".to_owned(), json!(intent.as_str()));
            (0, None)
        }
    };
    row.payment_processor_metadata = Value::Object(metadata).to_string();
    Ok(result)
}

fn unknown_method() -> MethodDetails {
    MethodDetails {
        kind: "card".to_owned(),
        brand: "unknown".to_owned(),
        last4: "0000".to_owned(),
        exp_month: 1,
        exp_year: 2000,
        saved_as: None,
    }
}

/// Records the checkout's charge attempt (or updates the one the processor already
/// reported).
#[expect(
    clippy::too_many_arguments,
    reason = "one attempt's facts, named at the call"
)]
async fn record_payment(
    txn: &DatabaseTransaction,
    row: &Model,
    processor: &str,
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
            processor,
            charge_id,
            status,
            amount: row.total_amount,
            currency: &row.currency,
            method,
            decline,
            trigger: "purchase",
            checkout_id: Some(row.id),
            order_id: None,
            customer_id: row.customer_id,
            payment_method_id: None,
            replaces: None,
        },
        now,
    )
    .await?)
}

/// The checkout's purchase succeeded: its paid order (once: a checkout that already has
/// one is left as it is), the payment linked to it, the method saved when the processor
/// kept it for later charges, the checkout `succeeded`. Returns how many events were
/// queued.
pub async fn succeed(
    app: &AppState,
    txn: &DatabaseTransaction,
    row: &mut Model,
    offers: &Offers,
    processor: &str,
    payment: Option<crate::payments::entity::Model>,
    method: Option<&MethodDetails>,
) -> ApiResult<usize> {
    let now = app.clock.now();
    if crate::orders::of_checkout(txn, row.id).await?.is_some() {
        return Ok(0);
    }
    let offer = offers.of(row.id);
    let product = row
        .product_id
        .and_then(|id| offer.product(id))
        .ok_or_else(service::not_found)?;
    let customer_id = row.customer_id.ok_or_else(service::not_found)?;
    // The method first: a subscription charges it at each renewal.
    let saved = match method.and_then(|m| m.saved_as.as_ref().map(|id| (m, id))) {
        Some((method, saved_as)) => Some(
            crate::payments::store::save_method(
                txn,
                crate::payments::entity::method::Model {
                    id: Uuid::new_v4(),
                    created_at: now,
                    modified_at: None,
                    organization_id: row.organization_id,
                    customer_id,
                    processor: processor.to_owned(),
                    processor_id: saved_as.clone(),
                    kind: method.kind.clone(),
                    method_metadata: method.metadata(),
                    deleted_at: None,
                },
            )
            .await?,
        ),
        None => None,
    };
    let mut queued = 0;
    // A recurring product starts its subscription, on the organization's clock; a trial's
    // first order is for nothing (the buyer pays when the trial ends).
    let subscription = if product.base.is_recurring {
        let started =
            crate::subscriptions::test_clock::now_for(txn, &app.clock, row.organization_id).await?;
        let (subscription, subscription_queued) = crate::subscriptions::create::record(
            app,
            txn,
            crate::subscriptions::create::Start {
                organization_id: row.organization_id,
                customer_id,
                product,
                currency: &row.currency,
                price: row.product_price_id.map(|id| (id, row.amount)),
                discount_id: row.discount_id,
                discount_amount: row.discount_amount,
                seats: row.seats,
                units: row.units,
                trial_end: row.trial_end,
                checkout_id: Some(row.id),
                payment_method_id: saved.as_ref().map(|m| m.id),
                metadata: row.metadata.clone(),
                custom_field_data: row.custom_field_data.clone(),
            },
            started,
        )
        .await?;
        queued += subscription_queued;
        row.subscription_id = Some(subscription.id);
        Some(subscription)
    } else {
        None
    };
    let trial = subscription
        .as_ref()
        .and_then(|s| s.trial_start.zip(s.trial_end));
    let charged = |amount: i64| if trial.is_some() { 0 } else { amount };
    let (order, order_queued) = crate::orders::service::record_paid(
        txn,
        crate::orders::service::Purchase {
            organization_id: row.organization_id,
            customer_id,
            checkout_id: Some(row.id),
            product_id: product.base.id,
            product_name: &product.base.name,
            product_price_id: row.product_price_id,
            subtotal_amount: charged(row.amount),
            discount_amount: charged(row.discount_amount),
            net_amount: charged(row.net_amount),
            tax_amount: charged(row.tax_amount.unwrap_or(0)),
            total_amount: charged(row.total_amount),
            currency: &row.currency,
            seats: row.seats,
            units: row.units,
            discount_id: row.discount_id,
            billing_name: row
                .customer_billing_name
                .clone()
                .or_else(|| row.customer_name.clone()),
            billing_address: row.customer_billing_address.clone(),
            metadata: row.metadata.clone(),
            custom_field_data: row.custom_field_data.clone(),
            billing_reason: if subscription.is_some() {
                "subscription_create"
            } else {
                "purchase"
            },
            subscription_id: subscription.as_ref().map(|s| s.id),
            period: subscription
                .as_ref()
                .map(|s| (s.current_period_start, s.current_period_end)),
            label: trial.map(|(start, end)| {
                crate::subscriptions::create::trial_label(&product.base.name, start, end)
            }),
            now,
        },
    )
    .await?;
    queued += order_queued;
    if row.seats.is_some_and(|seats| seats >= 1) && row.success_url.is_none() {
        // Through floe's own confirmation page, the buyer of seats takes one (a merchant
        // with its own success page assigns seats itself).
        queued += crate::customer_seats::claim_for_buyer(
            app,
            txn,
            crate::customer_seats::Buyer {
                organization_id: row.organization_id,
                customer_id,
                email: row.customer_email.as_deref(),
                subscription_id: subscription.as_ref().map(|s| s.id),
                order_id: subscription.is_none().then_some(order.id),
                product_id: product.base.id,
            },
            now,
        )
        .await?;
    }
    if let Some(mut payment) = payment {
        payment.order_id = Some(order.id);
        payment.payment_method_id = saved.map(|saved| saved.id);
        let payment = crate::payments::store::update(txn, payment).await?;
        crate::disputes::open_for_test_payment(txn, &payment, now).await?;
    }
    row.status = CheckoutStatus::Succeeded.as_str().to_owned();
    Ok(queued)
}

/// The buyer answered the test processor's authentication step (3-D Secure, the test card
/// 4000 0025 0000 3155): `approved` completes the charge (or the setup), else it fails.
/// The answer becomes the processor's outcome for the waiting intent and is applied as any
/// outcome is, once: answering twice changes nothing more. Only an intent the test
/// processor reported waits here: Stripe's step is Stripe's own, and its webhook tells.
pub async fn complete_authentication(
    app: &AppState,
    client_secret: &str,
    approved: bool,
) -> ApiResult<()> {
    let found = store::by_client_secret((&app.reader).into(), client_secret)
        .await?
        .ok_or_else(service::not_found)?;
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::lock(&txn, found.id)
        .await?
        .ok_or_else(service::not_found)?;
    let metadata: Map<String, Value> =
        serde_json::from_str(&row.payment_processor_metadata).unwrap_or_default();
    let intent = match metadata.get("intent").and_then(Value::as_str) {
        Some("setup") => Intent::Setup,
        _ => Intent::Payment,
    };
    let waiting = Outcome::RequiresAction {
        charge_id: String::new(),
        method: unknown_method(),
        client_secret: String::new(),
    };
    let recorded = match metadata.get("intent_id").and_then(Value::as_str) {
        Some(intent_id) if row.status == CheckoutStatus::Confirmed.as_str() => {
            crate::payments::events::payload_of(
                &txn,
                TEST,
                &format!("{intent_id}:{}", intent.event_kind(&waiting)),
            )
            .await?
        }
        _ => None,
    };
    let Some(Outcome::RequiresAction {
        charge_id, method, ..
    }) = recorded.and_then(|payload| serde_json::from_value(payload).ok())
    else {
        txn.rollback().await?;
        return Err(service::not_open(&row));
    };
    let answer = if approved {
        Outcome::Succeeded { charge_id, method }
    } else {
        Outcome::Declined {
            charge_id,
            method: Some(method),
            code: "authentication_failed".to_owned(),
            message: "We are unable to authenticate your payment method. Please choose a different payment method and try again.".to_owned(),
        }
    };
    let mut offers = Offers::of_checkout((&txn).into(), app.storage.as_ref(), &row).await?;
    let (queued, _) =
        apply_outcome(app, &txn, &mut row, &offers, Some((intent, &answer)), TEST).await?;
    let (row, _) = service::save_offered(app, txn, row, queued, &mut offers).await?;
    if row.status == CheckoutStatus::Succeeded.as_str() {
        app.grants.notify_one();
    }
    Ok(())
}
