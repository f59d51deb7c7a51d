//! Draft orders and off-session charges: `POST /v1/orders/` records what a customer will
//! be charged for (a one-time, fixed-price or free product, or an amount the merchant
//! sets), and `POST /v1/orders/{id}/finalize` charges their saved payment method at once.
//! A decline leaves the order a draft and answers 402 with the processor's message; the
//! attempt is kept among the payments either way. The charge itself is `off_session`'s.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entity::{Model, item};
use super::schema::{Order, OrderStatus};
use super::service::{not_found, show};
use super::{off_session, store};
use crate::app::AppState;
use crate::customers::CustomerKey;
use crate::http::{ApiError, ApiResult, Loc, Validator};
use crate::payments::accounts::Account;
use crate::payments::processor::{ChargeRequest, Intent, TEST, TestProcessor};
use crate::payments::stripe::{self, STRIPE};
use crate::products::schema::PriceAmount;
use crate::webhooks::EventType;

const MAX_DESCRIPTION_CHARS: usize = 500;

/// `OrderCreate`.
#[derive(Debug, Deserialize)]
pub struct OrderCreate {
    pub customer_id: Uuid,
    pub product_id: Uuid,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub custom_field_data: Option<Map<String, Value>>,
    #[serde(default)]
    pub organization_id: Option<Uuid>,
}

/// `OrderFinalize`.
#[derive(Debug, Default, Deserialize)]
pub struct OrderFinalize {
    #[serde(default)]
    pub payment_method_id: Option<Uuid>,
}

fn refuse(status: StatusCode, error: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::named(status, error, detail)
}

async fn check_enabled(app: &AppState, organization_id: Uuid) -> ApiResult<()> {
    let organization = crate::organizations::read(&app.db, organization_id)
        .await?
        .ok_or_else(not_found)?;
    if !organization.feature_settings.off_session_charges_enabled {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "OffSessionChargesNotEnabled",
            format!(
                "Off-session charges are not enabled for this organization ({organization_id}); turn on `off_session_charges_enabled` in its feature settings."
            ),
        ));
    }
    Ok(())
}

/// `orders:create`: a draft order, without an invoice number until it is paid.
pub async fn create(app: &AppState, organization_id: Uuid, body: OrderCreate) -> ApiResult<Order> {
    let mut validator = Validator::new();
    validator.reject_organization_id(body.organization_id.filter(|id| *id != organization_id));
    let metadata = body.metadata.unwrap_or_default();
    crate::metadata::check(&metadata, &Loc::body().key("metadata"), &mut validator);
    if let Some(description) = &body.description
        && description.chars().count() > MAX_DESCRIPTION_CHARS
    {
        validator.push(
            Loc::body().key("description"),
            "string_too_long",
            format!("String should have at most {MAX_DESCRIPTION_CHARS} characters"),
            json!(description),
        );
    }
    validator.finish()?;
    check_enabled(app, organization_id).await?;

    let product_fault = |msg: &str| {
        ApiError::validation(
            Loc::body().key("product_id"),
            "value_error",
            msg,
            json!(body.product_id),
        )
    };
    let product = crate::products::sale::read_many(
        (&app.reader).into(),
        app.storage.as_ref(),
        organization_id,
        &[body.product_id],
    )
    .await?
    .pop()
    .ok_or_else(|| product_fault("Product does not exist."))?;
    if product.base.is_recurring {
        return Err(product_fault(
            "Subscription products cannot be charged off-session; use a one-time product.",
        ));
    }
    let currency = match &body.currency {
        Some(currency) => currency.to_lowercase(),
        None => {
            crate::organizations::default_presentment_currency(&app.db, organization_id).await?
        }
    };
    let prices: Vec<_> = product
        .prices
        .iter()
        .filter(|p| !p.is_archived && p.price_currency == currency)
        .collect();
    if prices.is_empty() {
        return Err(ApiError::validation(
            Loc::body().key("currency"),
            "value_error",
            format!("Product has no price in currency '{currency}'."),
            json!(body.currency),
        ));
    }
    let Some((price_id, price_amount)) = prices.iter().find_map(|p| match p.amount {
        PriceAmount::Fixed { price_amount } => Some((p.id, price_amount)),
        _ => None,
    }) else {
        return Err(product_fault(
            "Off-session charges only support fixed-price and free products.",
        ));
    };
    let amount = body.amount.unwrap_or(price_amount);
    let floor = crate::money::minimum_amount(&currency);
    let ceiling = crate::money::maximum_amount(&currency);
    if amount < 0 || (amount > 0 && amount < floor) || amount > ceiling {
        return Err(ApiError::validation(
            Loc::body().key("amount"),
            "value_error",
            format!(
                "Amount must be 0 or between {} and {}.",
                crate::money::display(floor, &currency),
                crate::money::display(ceiling, &currency)
            ),
            json!(amount),
        ));
    }

    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let customer =
        crate::customers::purchase::find(&txn, organization_id, CustomerKey::Id(body.customer_id))
            .await?
            .ok_or_else(|| {
                ApiError::validation(
                    Loc::body().key("customer_id"),
                    "value_error",
                    "Customer does not exist.",
                    json!(body.customer_id),
                )
            })?;
    let label = body
        .description
        .clone()
        .unwrap_or_else(|| product.base.name.clone());
    let row = Model {
        id: Uuid::new_v4(),
        created_at: now,
        modified_at: None,
        organization_id,
        status: OrderStatus::Draft.as_str().to_owned(),
        subtotal_amount: amount,
        discount_amount: 0,
        net_amount: amount,
        tax_amount: 0,
        total_amount: amount,
        applied_balance_amount: 0,
        refunded_amount: 0,
        refunded_tax_amount: 0,
        platform_fee_amount: 0,
        currency,
        billing_reason: "purchase".to_owned(),
        billing_name: customer
            .billing_name
            .clone()
            .or_else(|| customer.name.clone()),
        billing_address: customer.billing_address.clone(),
        invoice_sequence: None,
        invoice_number: None,
        is_invoice_generated: false,
        seats: None,
        units: None,
        customer_id: customer.id,
        product_id: Some(product.base.id),
        discount_id: None,
        subscription_id: None,
        checkout_id: None,
        description: label.clone(),
        metadata: crate::metadata::to_text(&metadata),
        custom_field_data: Value::Object(body.custom_field_data.unwrap_or_default()).to_string(),
        next_payment_attempt_at: None,
        paid_at: None,
        grants_done_at: None,
        billing_period_start: None,
    };
    let row = store::insert(&txn, row).await?;
    store::insert_item(
        &txn,
        item::Model {
            id: Uuid::new_v4(),
            created_at: now,
            modified_at: None,
            order_id: row.id,
            position: 0,
            label,
            amount,
            tax_amount: 0,
            proration: false,
            product_price_id: Some(price_id),
            start_timestamp: None,
            end_timestamp: None,
        },
    )
    .await?;
    let order = show(&txn, &row).await?;
    let queued =
        crate::webhooks::emit(&txn, organization_id, EventType::OrderCreated, &order, now).await?;
    app.nudge.commit(txn, queued).await?;
    Ok(order)
}

/// `orders:finalize`: charges the customer's saved payment method for a draft order, with
/// the processor its organization uses now (`off_session`).
pub async fn finalize(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    body: OrderFinalize,
) -> ApiResult<Order> {
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::lock(&txn, id)
        .await?
        .filter(|row| row.organization_id == organization_id)
        .ok_or_else(not_found)?;
    // A Stripe charge left unanswered long enough (a crash, a timeout) is sent again with
    // its own key; one still in flight makes the order not a draft, as Polar answers.
    let unanswered = match OrderStatus::parse(&row.status) {
        Some(OrderStatus::Pending) => crate::payments::store::pending_of_order(&txn, row.id)
            .await?
            .filter(|p| {
                p.processor == STRIPE
                    && now.signed_duration_since(p.modified_at.unwrap_or(p.created_at))
                        >= off_session::UNANSWERED_AFTER
            }),
        _ => None,
    };
    if row.status != OrderStatus::Draft.as_str() && unanswered.is_none() {
        return Err(refuse(
            StatusCode::PRECONDITION_FAILED,
            "OrderNotDraft",
            format!("Order {} is not a draft: {}", row.id, row.status),
        ));
    }
    check_enabled(app, organization_id).await?;
    if row.due_amount() == 0 {
        let queued = off_session::mark_paid(&txn, &mut row, now).await?;
        return paid(app, txn, &row, queued).await;
    }
    let no_method = || {
        refuse(
            StatusCode::PAYMENT_REQUIRED,
            "PaymentFailed",
            "The customer has no saved payment method to charge.",
        )
    };
    match crate::payments::accounts::of(&txn, &app.secret, organization_id).await? {
        Account::Test => {
            let method = crate::payments::store::method_of_customer(
                &txn,
                row.customer_id,
                TEST,
                body.payment_method_id,
            )
            .await?
            .ok_or_else(no_method)?;
            let outcome = TestProcessor
                .charge(&ChargeRequest {
                    intent: Intent::Payment,
                    idempotency_key: format!("order:{}:{}", row.id, Uuid::new_v4()),
                    amount: row.due_amount(),
                    currency: &row.currency,
                    token: &method.processor_id,
                    save_method: false,
                    off_session: true,
                })
                .map_err(|unknown| {
                    refuse(
                        StatusCode::PAYMENT_REQUIRED,
                        "PaymentFailed",
                        unknown.to_string(),
                    )
                })?;
            let settled = off_session::apply(
                &txn,
                &mut row,
                &outcome,
                off_session::Charged {
                    processor: TEST,
                    method: Some(&method),
                    replaces: None,
                    trigger: "purchase",
                    at: now,
                },
            )
            .await?;
            answer(app, txn, &row, settled).await
        }
        Account::Stripe(keys) => {
            // Written down first: the attempt (a `pending` payment holding its key) and the
            // order `pending`, committed, so that no lock is held while Stripe answers and
            // a crash leaves what the webhook, or a later finalize, completes.
            let (payment_id, key, method) = match unanswered {
                Some(pending) => {
                    let method = match pending.payment_method_id {
                        Some(id) => crate::payments::store::method_by_id(&txn, id).await?,
                        None => None,
                    }
                    .ok_or_else(no_method)?;
                    (pending.id, pending.processor_id, method)
                }
                None => {
                    let method = crate::payments::store::method_of_customer(
                        &txn,
                        row.customer_id,
                        STRIPE,
                        body.payment_method_id,
                    )
                    .await?
                    .ok_or_else(no_method)?;
                    let key = format!("floe-order-{}-{}", row.id, Uuid::new_v4());
                    (Uuid::new_v4(), key, method)
                }
            };
            let customer =
                crate::payments::accounts::processor_customer(&txn, row.customer_id, STRIPE)
                    .await?
                    .ok_or_else(no_method)?;
            let attempt = off_session::Attempted {
                payment_id,
                key: &key,
                method: &method,
                customer: &customer,
            };
            off_session::write_down(&txn, &row, &attempt, "purchase", now).await?;
            row.status = OrderStatus::Pending.as_str().to_owned();
            row.modified_at = Some(now);
            let row = store::update(&txn, row).await?;
            txn.commit().await?;

            let attempt = off_session::Attempted {
                payment_id,
                key: &key,
                method: &method,
                customer: &customer,
            };
            let charged =
                off_session::charge_with_stripe(app, &keys.secret_key, &row, &attempt).await;
            let txn = crate::db::begin_write(&app.db).await?;
            let mut row = store::lock(&txn, id).await?.ok_or_else(not_found)?;
            match charged {
                Ok(outcome) => {
                    let settled = off_session::apply(
                        &txn,
                        &mut row,
                        &outcome,
                        off_session::Charged {
                            processor: STRIPE,
                            method: Some(&method),
                            replaces: Some(payment_id),
                            trigger: "purchase",
                            at: app.clock.now(),
                        },
                    )
                    .await?;
                    answer(app, txn, &row, settled).await
                }
                Err(stripe::Failure::Refused(detail)) => {
                    let refusal =
                        off_session::refused(app, &txn, &mut row, &attempt, &detail).await?;
                    txn.commit().await?;
                    Err(refuse(
                        StatusCode::PAYMENT_REQUIRED,
                        refusal.error,
                        refusal.message,
                    ))
                }
                // Stripe's webhook came while its answer did not: it settled the order.
                Err(stripe::Failure::Unanswered(_)) if row.status == OrderStatus::Paid.as_str() => {
                    paid(app, txn, &row, 0).await
                }
                Err(stripe::Failure::Unanswered(detail)) => {
                    // Maybe charged: the order stays `pending` for Stripe's webhook, or for
                    // a finalize after a while, which asks again with the same key.
                    txn.rollback().await?;
                    tracing::warn!(%detail, order_id = %id, "an off-session charge went unanswered");
                    Err(refuse(
                        StatusCode::PAYMENT_REQUIRED,
                        "PaymentFailed",
                        "The payment processor did not answer; the charge may still complete. The order stays pending until it does, or finalize it again in a few minutes.",
                    ))
                }
            }
        }
    }
}

/// Commits a charge's outcome and answers with the paid order, or the refusal (the failed
/// attempt is kept, the order is a draft again).
async fn answer(
    app: &AppState,
    txn: sea_orm::DatabaseTransaction,
    row: &Model,
    settled: off_session::Settled,
) -> ApiResult<Order> {
    match settled.refusal {
        None => paid(app, txn, row, settled.queued).await,
        Some(refusal) => {
            app.nudge.commit(txn, settled.queued).await?;
            Err(refuse(
                StatusCode::PAYMENT_REQUIRED,
                refusal.error,
                refusal.message,
            ))
        }
    }
}

async fn paid(
    app: &AppState,
    txn: sea_orm::DatabaseTransaction,
    row: &Model,
    queued: usize,
) -> ApiResult<Order> {
    let order = show(&txn, row).await?;
    app.nudge.commit(txn, queued).await?;
    app.grants.notify_one();
    Ok(order)
}
