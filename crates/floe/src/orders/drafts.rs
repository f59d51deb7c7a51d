//! Draft orders and off-session charges: `POST /v1/orders/` records what a customer will
//! be charged for (a one-time, fixed-price or free product, or an amount the merchant
//! sets), and `POST /v1/orders/{id}/finalize` charges their saved payment method at once.
//! A decline leaves the order a draft and answers 402 with the processor's message; the
//! attempt is kept among the payments either way.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entity::{Model, item};
use super::schema::{Order, OrderStatus};
use super::service::{next_invoice_number, not_found, show};
use super::store;
use crate::app::AppState;
use crate::customers::CustomerKey;
use crate::http::{ApiError, ApiResult, Loc, Validator};
use crate::payments::processor::{ChargeRequest, Outcome, TEST, TestProcessor};
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

/// `orders:finalize`: charges the customer's saved payment method for a draft order.
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
    if row.status != OrderStatus::Draft.as_str() {
        return Err(refuse(
            StatusCode::PRECONDITION_FAILED,
            "OrderNotDraft",
            format!("Order {} is not a draft: {}", row.id, row.status),
        ));
    }
    check_enabled(app, organization_id).await?;
    let mut queued = 0;
    if row.total_amount > 0 {
        let method = crate::payments::store::method_of_customer(
            &txn,
            row.customer_id,
            body.payment_method_id,
        )
        .await?
        .ok_or_else(|| {
            refuse(
                StatusCode::PAYMENT_REQUIRED,
                "PaymentFailed",
                "The customer has no saved payment method to charge.",
            )
        })?;
        let request = ChargeRequest {
            idempotency_key: format!("order:{}:{}", row.id, Uuid::new_v4()),
            amount: row.total_amount,
            currency: &row.currency,
            token: &method.processor_id,
            save_method: false,
            off_session: true,
        };
        let outcome = TestProcessor.charge(&request).map_err(|unknown| {
            refuse(
                StatusCode::PAYMENT_REQUIRED,
                "PaymentFailed",
                unknown.to_string(),
            )
        })?;
        let (status, decline) = match &outcome {
            Outcome::Succeeded { .. } => ("succeeded", None),
            Outcome::Declined { code, message, .. } => {
                ("failed", Some((code.clone(), message.clone())))
            }
            Outcome::RequiresAction { .. } => (
                "failed",
                Some((
                    "authentication_required".to_owned(),
                    "This payment requires the customer to authenticate.".to_owned(),
                )),
            ),
        };
        crate::payments::events::record_once(
            &txn,
            TEST,
            &format!("{}:{status}", outcome.charge_id()),
            status,
            &json!(outcome),
            now,
        )
        .await?;
        let payment = crate::payments::entity::Model {
            id: Uuid::new_v4(),
            created_at: now,
            modified_at: None,
            organization_id,
            processor: TEST.to_owned(),
            processor_id: outcome.charge_id().to_owned(),
            status: status.to_owned(),
            amount: row.total_amount,
            currency: row.currency.clone(),
            method: "card".to_owned(),
            method_metadata: method.method_metadata.clone(),
            trigger: Some("purchase".to_owned()),
            decline_reason: decline.as_ref().map(|(code, _)| code.clone()),
            decline_message: decline.as_ref().map(|(_, message)| message.clone()),
            processor_metadata: json!({"charge_id": outcome.charge_id()}).to_string(),
            checkout_id: None,
            order_id: Some(row.id),
            customer_id: Some(row.customer_id),
            payment_method_id: Some(method.id),
        };
        crate::payments::store::insert(&txn, payment).await?;
        if let Some((code, message)) = decline {
            // The attempt is kept; the order stays a draft.
            txn.commit().await?;
            let error = if code == "authentication_required" {
                "PaymentActionRequired"
            } else {
                "PaymentFailed"
            };
            return Err(refuse(StatusCode::PAYMENT_REQUIRED, error, message));
        }
    }
    let (sequence, number) = next_invoice_number(&txn, organization_id).await?;
    row.status = OrderStatus::Paid.as_str().to_owned();
    row.invoice_sequence = Some(sequence);
    row.invoice_number = Some(number);
    row.paid_at = Some(now);
    row.modified_at = Some(now);
    let row = store::update(&txn, row).await?;
    let order = show(&txn, &row).await?;
    let endpoints = crate::webhooks::outbox::Endpoints::of(&txn, organization_id).await?;
    for kind in [EventType::OrderUpdated, EventType::OrderPaid] {
        queued +=
            crate::webhooks::outbox::emit_to(&txn, &endpoints, organization_id, kind, &order, now)
                .await?;
    }
    app.nudge.commit(txn, queued).await?;
    app.grants.notify_one();
    Ok(order)
}
