//! Where subscriptions come from: a checkout of a recurring product (in the transaction
//! that pays it) and `subscriptions:create` for a free recurring product. Either way the
//! subscription starts now on the organization's clock, bills the chosen static price and
//! every metered price of the product in the currency. A checkout's first order
//! (`subscription_create`) is recorded in the same transaction, and the grant worker gives
//! the product's benefits for it under the subscription's scope; the API's subscription has
//! no order (as at Polar) and is granted for itself.

use chrono::{DateTime, Datelike, Utc};
use sea_orm::DatabaseTransaction;
use serde_json::{Value, json};
use uuid::Uuid;

use super::entity::Model;
use super::lifecycle::{self, Change};
use super::periods;
use super::schema::{Subscription, SubscriptionCreate, SubscriptionStatus};
use super::store;
use crate::app::AppState;
use crate::customers::CustomerKey;
use crate::http::{ApiError, ApiResult, Loc};
use crate::products::schema::{Interval, Price, Product};

/// What a new subscription starts from.
pub struct Start<'a> {
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub product: &'a Product,
    pub currency: &'a str,
    /// The static price chosen and what it costs a period (before the discount).
    pub price: Option<(Uuid, i64)>,
    pub discount_id: Option<Uuid>,
    pub discount_amount: i64,
    pub seats: Option<i64>,
    pub units: Option<i64>,
    pub trial_end: Option<DateTime<Utc>>,
    pub checkout_id: Option<Uuid>,
    pub payment_method_id: Option<Uuid>,
    pub metadata: String,
    pub custom_field_data: String,
}

/// Records a new subscription (and its prices) in `txn` and queues what its creation
/// tells; returns it and the deliveries queued. `now` is the organization's time.
pub async fn record(
    app: &AppState,
    txn: &DatabaseTransaction,
    start: Start<'_>,
    now: DateTime<Utc>,
) -> ApiResult<(Model, usize)> {
    let base = &start.product.base;
    let interval = base.recurring_interval.unwrap_or(Interval::Month);
    let count = base.recurring_interval_count.unwrap_or(1);
    let (status, period_end) = match start.trial_end {
        Some(trial_end) if trial_end > now => (SubscriptionStatus::Trialing, trial_end),
        _ => (
            SubscriptionStatus::Active,
            periods::next_end(now, interval, count, now.day()),
        ),
    };
    let static_amount = start.price.map_or(0, |(_, amount)| amount);
    let row = Model {
        id: Uuid::new_v4(),
        created_at: now,
        modified_at: None,
        organization_id: start.organization_id,
        customer_id: start.customer_id,
        product_id: base.id,
        checkout_id: start.checkout_id,
        discount_id: start.discount_id,
        payment_method_id: start.payment_method_id,
        status: status.as_str().to_owned(),
        amount: (static_amount - start.discount_amount).max(0),
        currency: start.currency.to_owned(),
        recurring_interval: interval.as_str().to_owned(),
        recurring_interval_count: count,
        current_period_start: now,
        current_period_end: period_end,
        current_meter_period_start: None,
        current_meter_period_end: None,
        trial_start: (status == SubscriptionStatus::Trialing).then_some(now),
        trial_end: (status == SubscriptionStatus::Trialing).then_some(period_end),
        cancel_at_period_end: false,
        canceled_at: None,
        started_at: Some(now),
        ends_at: None,
        ended_at: None,
        past_due_at: None,
        pause_at_period_end: false,
        paused_at: None,
        resumes_at: None,
        anchor_day: i64::from(period_end.day()),
        seats: start.seats,
        units: start.units,
        customer_cancellation_reason: None,
        customer_cancellation_comment: None,
        discount_applied_at: (start.discount_id.is_some() && status == SubscriptionStatus::Active)
            .then_some(now),
        metadata: start.metadata,
        custom_field_data: start.custom_field_data,
        next_action_at: Some(period_end),
        claimed_until: None,
        // A checkout's subscription is granted through its first order.
        grants_done_at: start.checkout_id.map(|_| now),
        meter_interval: None,
        meter_interval_count: None,
        usage_since: None,
    };
    let mut row = row;
    super::meter_cycle::adopt(&mut row, base.meter_interval, base.meter_interval_count);
    super::meter_cycle::arm(&mut row, now);
    row.next_action_at = super::renewal::next_action(&row);
    let row = store::insert(txn, row).await?;
    store::set_prices(
        txn,
        row.id,
        start.price,
        metered_prices(start.product, start.currency).map(|p| p.id),
    )
    .await?;
    let queued = lifecycle::changed(app, txn, None, &row, Change::default(), now).await?;
    Ok((row, queued))
}

/// The product's metered prices in `currency` (charged in arrears from usage).
fn metered_prices<'a>(product: &'a Product, currency: &'a str) -> impl Iterator<Item = &'a Price> {
    product
        .prices
        .iter()
        .filter(move |p| p.price_currency == currency && crate::pricing::totals::is_metered(p))
}

/// The label of a trial's zero order.
pub fn trial_label(product_name: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    format!(
        "Trial period for {product_name} ({} - {})",
        start.format("%b %-d, %Y"),
        end.format("%b %-d, %Y")
    )
}

fn invalid(field: &str, message: &str, input: Value) -> ApiError {
    ApiError::validation(Loc::body().key(field), "value_error", message, input)
}

/// `subscriptions:create`: a free recurring product's subscription for an existing
/// customer. A paid one goes through a checkout (the customer pays, and a method is kept).
pub async fn create(
    app: &AppState,
    organization_id: Uuid,
    body: SubscriptionCreate,
) -> ApiResult<Subscription> {
    let product_missing = || {
        invalid(
            "product_id",
            "Product does not exist.",
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
    .ok_or_else(product_missing)?;
    if !product.base.is_recurring {
        return Err(invalid(
            "product_id",
            "Product is not a recurring product.",
            json!(body.product_id),
        ));
    }
    let currency =
        crate::organizations::default_presentment_currency(&app.db, organization_id).await?;
    let prices: Vec<&Price> = product
        .prices
        .iter()
        .filter(|p| p.price_currency == currency && !crate::pricing::totals::is_metered(p))
        .collect();
    let static_price = prices.first().copied();
    if static_price.is_some_and(|p| !crate::pricing::totals::is_free_price(p)) {
        return Err(invalid(
            "product_id",
            "Product is not free. The customer should go through a checkout to create a paid subscription.",
            json!(body.product_id),
        ));
    }
    let (key, field, input) =
        CustomerKey::from_body(body.customer_id, body.external_customer_id.as_deref())?;
    let metadata = body.metadata.clone().unwrap_or_default();
    let mut validator = crate::http::Validator::new();
    crate::metadata::check(&metadata, &Loc::body().key("metadata"), &mut validator);
    validator.finish()?;

    let txn = crate::db::begin_write(&app.db).await?;
    let customer = crate::customers::purchase::find(&txn, organization_id, key)
        .await?
        .filter(|c| c.deleted_at.is_none())
        .ok_or_else(|| invalid(field, "Customer does not exist.", input))?;
    let now = super::test_clock::now_for(&txn, &app.clock, organization_id).await?;
    let seats = seats_minimum(static_price);
    let (row, queued) = record(
        app,
        &txn,
        Start {
            organization_id,
            customer_id: customer.id,
            product: &product,
            currency: &currency,
            price: static_price.map(|p| (p.id, 0)),
            discount_id: None,
            discount_amount: 0,
            seats,
            units: None,
            trial_end: None,
            checkout_id: None,
            payment_method_id: None,
            metadata: Value::Object(metadata.clone()).to_string(),
            custom_field_data: "{}".to_owned(),
        },
        now,
    )
    .await?;
    let shown = super::show_in(app, &txn, &row).await?;
    app.nudge.commit(txn, queued).await?;
    app.grants.notify_one();
    Ok(shown)
}

fn seats_minimum(price: Option<&Price>) -> Option<i64> {
    match price.map(|p| &p.amount) {
        Some(crate::products::schema::PriceAmount::SeatBased { seat_tiers }) => {
            Some(seat_tiers.minimum_seats.max(1))
        }
        _ => None,
    }
}
