//! Recording orders: a paid purchase from a checkout (the order, its line, its invoice
//! number and the `order.created` / `order.paid` events, in the caller's transaction),
//! and the billing details a merchant may correct.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr};
use serde_json::json;
use uuid::Uuid;

use super::entity::{Model, item};
use super::present;
use super::schema::{Order, OrderStatus, OrderUpdate};
use super::store;
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Loc, Validator};
use crate::webhooks::EventType;

pub(super) fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Order not found.".to_owned())
}

/// Takes the next value of the organization's counter `name` (1, 2, …) in `txn`: one
/// statement that creates or increments the row, so two orders never share a number.
pub async fn next_in_sequence(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    name: &str,
) -> Result<i64, DbErr> {
    let table = Alias::new("counters");
    let value = Alias::new("value");
    let statement = Query::insert()
        .into_table(table.clone())
        .columns([
            Alias::new("organization_id"),
            Alias::new("name"),
            value.clone(),
        ])
        .values_panic([organization_id.into(), name.into(), 1i64.into()])
        .on_conflict(
            OnConflict::columns([Alias::new("organization_id"), Alias::new("name")])
                .value(value.clone(), Expr::col((table, value.clone())).add(1))
                .to_owned(),
        )
        .returning_col(value)
        .to_owned();
    let row = txn
        .query_one(&statement)
        .await?
        .ok_or_else(|| DbErr::Custom("the counter returned no row".to_owned()))?;
    row.try_get::<i64>("", "value")
}

/// An organization's invoice numbers: its slug in capitals, then a running number
/// (`ACME-0001`).
pub(super) async fn next_invoice_number(
    txn: &DatabaseTransaction,
    organization_id: Uuid,
) -> ApiResult<(i64, String)> {
    let sequence = next_in_sequence(txn, organization_id, "invoice").await?;
    let slug = crate::organizations::read(txn, organization_id)
        .await?
        .map(|o| o.slug.to_uppercase())
        .unwrap_or_else(|| "FLOE".to_owned());
    Ok((sequence, format!("{slug}-{sequence:04}")))
}

/// A purchase to record as a paid order.
pub struct Purchase<'a> {
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub checkout_id: Option<Uuid>,
    pub product_id: Uuid,
    pub product_name: &'a str,
    pub product_price_id: Option<Uuid>,
    pub subtotal_amount: i64,
    pub discount_amount: i64,
    pub net_amount: i64,
    pub tax_amount: i64,
    pub total_amount: i64,
    pub currency: &'a str,
    pub seats: Option<i64>,
    pub units: Option<i64>,
    pub discount_id: Option<Uuid>,
    pub billing_name: Option<String>,
    pub billing_address: Option<String>,
    pub metadata: String,
    pub custom_field_data: String,
    /// `purchase`, or `subscription_create` for a subscription's first order.
    pub billing_reason: &'a str,
    pub subscription_id: Option<Uuid>,
    /// The billing period the order is for (a subscription's), and its line's label when
    /// the product's name is not it (a trial's).
    pub period: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub label: Option<String>,
    pub now: DateTime<Utc>,
}

/// Records `purchase` as a paid order in `txn` with its line and invoice number, and
/// queues `order.created` and `order.paid`. The unique index on the checkout makes a second
/// recording of the same checkout fail instead of paying twice.
pub async fn record_paid(
    txn: &DatabaseTransaction,
    purchase: Purchase<'_>,
) -> ApiResult<(Order, usize)> {
    let (sequence, number) = next_invoice_number(txn, purchase.organization_id).await?;
    let row = Model {
        id: Uuid::new_v4(),
        created_at: purchase.now,
        modified_at: None,
        organization_id: purchase.organization_id,
        status: OrderStatus::Paid.as_str().to_owned(),
        subtotal_amount: purchase.subtotal_amount,
        discount_amount: purchase.discount_amount,
        net_amount: purchase.net_amount,
        tax_amount: purchase.tax_amount,
        total_amount: purchase.total_amount,
        applied_balance_amount: 0,
        refunded_amount: 0,
        refunded_tax_amount: 0,
        platform_fee_amount: 0,
        currency: purchase.currency.to_owned(),
        billing_reason: purchase.billing_reason.to_owned(),
        billing_name: purchase.billing_name,
        billing_address: purchase.billing_address,
        invoice_sequence: Some(sequence),
        invoice_number: Some(number),
        is_invoice_generated: false,
        seats: purchase.seats,
        units: purchase.units,
        customer_id: purchase.customer_id,
        product_id: Some(purchase.product_id),
        discount_id: purchase.discount_id,
        subscription_id: purchase.subscription_id,
        checkout_id: purchase.checkout_id,
        description: purchase.product_name.to_owned(),
        metadata: purchase.metadata,
        custom_field_data: purchase.custom_field_data,
        next_payment_attempt_at: None,
        paid_at: Some(purchase.now),
        grants_done_at: None,
        billing_period_start: purchase.period.map(|(start, _)| start),
    };
    let row = store::insert(txn, row).await?;
    let label = match (purchase.label, purchase.seats) {
        (Some(label), _) => label,
        (None, Some(seats)) => format!("{} ({seats} seats)", purchase.product_name),
        (None, None) => purchase.product_name.to_owned(),
    };
    store::insert_item(
        txn,
        item::Model {
            id: Uuid::new_v4(),
            created_at: purchase.now,
            modified_at: None,
            order_id: row.id,
            position: 0,
            label,
            amount: purchase.subtotal_amount,
            tax_amount: purchase.tax_amount,
            proration: false,
            product_price_id: purchase.product_price_id,
            start_timestamp: purchase.period.map(|(start, _)| start),
            end_timestamp: purchase.period.map(|(_, end)| end),
        },
    )
    .await?;
    let order = show(txn, &row).await?;
    let endpoints = crate::webhooks::outbox::Endpoints::of(txn, row.organization_id).await?;
    let mut queued = 0;
    for kind in [EventType::OrderCreated, EventType::OrderPaid] {
        queued += crate::webhooks::outbox::emit_to(
            txn,
            &endpoints,
            row.organization_id,
            kind,
            &order,
            purchase.now,
        )
        .await?;
    }
    Ok((order, queued))
}

/// A subscription's period to bill: its lines (label, amount, price), the discount that
/// applies and the total.
pub struct Cycle<'a> {
    pub subscription: &'a crate::subscriptions::SubscriptionRow,
    pub description: &'a str,
    /// `subscription_cycle` (a period's order, a last period's usage) or
    /// `subscription_update` (a change of plan invoiced at once).
    pub billing_reason: &'static str,
    /// The order's `billing_period_start`: with the subscription and the reason, what makes
    /// the order unique (a period is billed once).
    pub period_start: DateTime<Utc>,
    pub lines: Vec<CycleLine>,
    pub discount_id: Option<Uuid>,
    pub discount_amount: i64,
    pub total: i64,
    pub billing_name: Option<String>,
    pub billing_address: Option<String>,
    pub now: DateTime<Utc>,
}

/// One line of a subscription's order: a price for the period it covers (the new period for
/// a fixed price, paid ahead; the period that ended for usage, paid in arrears).
pub struct CycleLine {
    pub label: String,
    pub amount: i64,
    pub price_id: Option<Uuid>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// A prorated charge or credit for part of a period (a change of plan).
    pub proration: bool,
}

/// Records the order of a subscription's current period (`subscription_cycle`) in `txn`:
/// paid from the customer's balance as far as it goes, paid at once when nothing is left to
/// charge, else `pending` and due for its charge now (the renewal worker collects it). Queues `order.created` (and `order.updated` and
/// `order.paid` when paid).
pub async fn record_cycle(
    txn: &DatabaseTransaction,
    cycle: Cycle<'_>,
) -> ApiResult<(Model, usize)> {
    let subscription = cycle.subscription;
    let subtotal: i64 = cycle.lines.iter().map(|line| line.amount).sum();
    let id = Uuid::new_v4();
    // The customer's credit pays first (as at Polar, subscription orders only).
    let from_balance = crate::wallets::ledger::apply(
        txn,
        crate::wallets::ledger::Holder {
            organization_id: subscription.organization_id,
            customer_id: subscription.customer_id,
            currency: &subscription.currency,
        },
        cycle.total,
        id,
        cycle.now,
    )
    .await?;
    let due = cycle.total - from_balance;
    let row = Model {
        id,
        created_at: cycle.now,
        modified_at: None,
        organization_id: subscription.organization_id,
        status: OrderStatus::Pending.as_str().to_owned(),
        subtotal_amount: subtotal,
        discount_amount: cycle.discount_amount,
        net_amount: cycle.total,
        tax_amount: 0,
        total_amount: cycle.total,
        applied_balance_amount: -from_balance,
        refunded_amount: 0,
        refunded_tax_amount: 0,
        platform_fee_amount: 0,
        currency: subscription.currency.clone(),
        billing_reason: cycle.billing_reason.to_owned(),
        billing_name: cycle.billing_name,
        billing_address: cycle.billing_address,
        invoice_sequence: None,
        invoice_number: None,
        is_invoice_generated: false,
        seats: subscription.seats,
        units: subscription.units,
        customer_id: subscription.customer_id,
        product_id: Some(subscription.product_id),
        discount_id: cycle.discount_id,
        subscription_id: Some(subscription.id),
        checkout_id: None,
        description: cycle.description.to_owned(),
        metadata: subscription.metadata.clone(),
        custom_field_data: subscription.custom_field_data.clone(),
        next_payment_attempt_at: (due > 0).then_some(cycle.now),
        paid_at: None,
        grants_done_at: None,
        billing_period_start: Some(cycle.period_start),
    };
    let mut row = store::insert(txn, row).await?;
    for (position, line) in cycle.lines.into_iter().enumerate() {
        store::insert_item(
            txn,
            item::Model {
                id: Uuid::new_v4(),
                created_at: cycle.now,
                modified_at: None,
                order_id: row.id,
                position: position as i64,
                label: line.label,
                amount: line.amount,
                tax_amount: 0,
                proration: line.proration,
                product_price_id: line.price_id,
                start_timestamp: Some(line.start),
                end_timestamp: Some(line.end),
            },
        )
        .await?;
    }
    let mut queued = crate::orders::emit(txn, &row, EventType::OrderCreated, cycle.now).await?;
    if due <= 0 {
        queued += super::off_session::mark_paid(txn, &mut row, cycle.now).await?;
    }
    Ok((row, queued))
}

pub(super) async fn show(txn: &DatabaseTransaction, row: &Model) -> ApiResult<Order> {
    present::orders(txn.into(), row.organization_id, std::slice::from_ref(row))
        .await?
        .pop()
        .ok_or_else(not_found)
}

/// `orders:update`: the billing name and the address lines (not the country or state, which
/// decided the tax).
pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    patch: OrderUpdate,
) -> ApiResult<Order> {
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::get((&txn).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    let before = row.clone();
    if let Some(name) = patch.billing_name {
        row.billing_name = name;
    }
    if let Some(address) = patch.billing_address {
        let mut validator = Validator::new();
        let current: Option<crate::address::Address> = row
            .billing_address
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok());
        match (address, current) {
            (Some(address), Some(current)) => {
                if address.country != current.country || address.state != current.state {
                    validator.push(
                        Loc::body().key("billing_address"),
                        "value_error",
                        "Country and state cannot be changed.",
                        json!(address),
                    );
                }
                row.billing_address = Some(json!(address).to_string());
            }
            (Some(address), None) => {
                address.check(&Loc::body().key("billing_address"), &mut validator);
                row.billing_address = Some(json!(address).to_string());
            }
            (None, _) => row.billing_address = None,
        }
        validator.finish()?;
    }
    if row == before {
        txn.commit().await?;
        return show_read(app, organization_id, &row).await;
    }
    row.modified_at = Some(app.clock.now());
    let row = store::update(&txn, row).await?;
    let order = show(&txn, &row).await?;
    let queued = crate::webhooks::emit(
        &txn,
        organization_id,
        EventType::OrderUpdated,
        &order,
        app.clock.now(),
    )
    .await?;
    app.nudge.commit(txn, queued).await?;
    Ok(order)
}

async fn show_read(app: &AppState, organization_id: Uuid, row: &Model) -> ApiResult<Order> {
    present::orders(
        (&app.reader).into(),
        organization_id,
        std::slice::from_ref(row),
    )
    .await?
    .pop()
    .ok_or_else(not_found)
}
