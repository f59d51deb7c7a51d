//! Changes of a subscription's plan (decision 0019): another product, seats or units, a
//! discount, each with a proration behaviour (the request's, else the organization's
//! `subscription_settings.proration_behavior`):
//!
//! - `invoice`: the unused part of the current period is credited and the new plan's part
//!   debited, in a `subscription_update` order charged now (a failed charge answers 402 and
//!   changes nothing); a change that leaves a credit is carried to the next order instead.
//!   The test processor charges inside the change's transaction; Stripe is asked after it
//!   commits, so with Stripe the change waits for its invoice (`complete_awaiting`): made
//!   when it is paid, dropped (and the invoice voided) when it is declined;
//! - `prorate`: the same credit and debit wait for the next renewal order;
//! - `next_period`: nothing changes now; the change is the subscription's `pending_update`
//!   and is applied at the period's end;
//! - `reset`: a new period starts now: the unused part is credited and the new plan charged
//!   in full, now.
//!
//! A plan's price per period is what the customer pays for it (its static price, less the
//! subscription's discount); the credit is `−old × remaining / period` and the debit
//! `new × remaining / period` (seconds), each rounded once, half away from zero
//! (`pricing::rounding::prorate`). During a trial a change applies at once and nothing is
//! prorated (nothing was paid). A discount alone applies from the next period.

use axum::http::StatusCode;
use chrono::{DateTime, Datelike, Utc};
use sea_orm::DatabaseTransaction;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entity::Model;
use super::pending;
use super::periods;
use super::schema::SubscriptionStatus;
use super::store;
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Loc};
use crate::orders::service::CycleLine;
use crate::pricing::totals::{DiscountTerms, Fault, Purchase};
use crate::products::schema::{Interval, Price, PriceAmount, Product};

/// `SubscriptionProrationBehavior`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    Invoice,
    Prorate,
    NextPeriod,
    Reset,
}

impl Behavior {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "invoice" => Self::Invoice,
            "prorate" => Self::Prorate,
            "next_period" => Self::NextPeriod,
            "reset" => Self::Reset,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::Prorate => "prorate",
            Self::NextPeriod => "next_period",
            Self::Reset => "reset",
        }
    }
}

/// A change the merchant asked for.
#[derive(Debug, Default)]
pub struct Request {
    pub product_id: Option<Uuid>,
    pub seats: Option<i64>,
    pub units: Option<i64>,
    /// `Some(None)`: take the discount off.
    pub discount: Option<Option<Uuid>>,
    pub behavior: Option<Behavior>,
}

impl Request {
    pub fn changes_plan(&self) -> bool {
        self.product_id.is_some() || self.seats.is_some() || self.units.is_some()
    }
}

/// What a change did.
pub struct Applied {
    pub row: Model,
    /// A `subscription_update` order to charge now (a Stripe account's; the test
    /// processor's was charged in the transaction).
    pub to_collect: Option<Uuid>,
    pub queued: usize,
}

/// A plan: a product, its static price with what it costs a period before the discount,
/// its metered prices, and the seats or units bought.
pub struct Terms {
    pub product: Product,
    pub price: Option<(Uuid, i64)>,
    pub metered: Vec<Uuid>,
    pub seats: Option<i64>,
    pub units: Option<i64>,
}

impl Terms {
    fn interval(&self) -> (Interval, i64) {
        (
            self.product
                .base
                .recurring_interval
                .unwrap_or(Interval::Month),
            self.product.base.recurring_interval_count.unwrap_or(1),
        )
    }

    fn amount(&self) -> i64 {
        self.price.map_or(0, |(_, amount)| amount)
    }
}

fn invalid(field: &str, message: &str, input: Value) -> ApiError {
    ApiError::validation(Loc::body().key(field), "value_error", message, input)
}

fn is_seats(price: &Price) -> bool {
    matches!(price.amount, PriceAmount::SeatBased { .. })
}

fn is_units(price: &Price) -> bool {
    matches!(price.amount, PriceAmount::UnitBased { .. })
}

/// The plan `product_id` (else the subscription's own) with `seats`/`units` (else the
/// subscription's), checked as Polar checks a change: a live recurring product of the
/// organization with a static price in the subscription's currency, not pay-what-you-want,
/// and seats (units) only where the price counts them, within its bounds.
async fn resolve(
    app: &AppState,
    txn: &DatabaseTransaction,
    row: &Model,
    request: &Request,
) -> ApiResult<Terms> {
    let product_id = request.product_id.unwrap_or(row.product_id);
    let field = if request.product_id.is_some() {
        "product_id"
    } else if request.seats.is_some() {
        "seats"
    } else {
        "units"
    };
    let missing = || invalid("product_id", "Product does not exist.", json!(product_id));
    let product = crate::products::sale::read_many(
        txn.into(),
        app.storage.as_ref(),
        row.organization_id,
        &[product_id],
    )
    .await?
    .pop()
    .ok_or_else(missing)?;
    if request.product_id.is_some() && product.base.is_archived {
        return Err(invalid(
            "product_id",
            "Product is archived.",
            json!(product_id),
        ));
    }
    if !product.base.is_recurring {
        return Err(invalid(
            "product_id",
            "Product is not a recurring product.",
            json!(product_id),
        ));
    }
    let in_currency: Vec<&Price> = product
        .prices
        .iter()
        .filter(|p| p.price_currency == row.currency)
        .collect();
    let statics: Vec<&Price> = in_currency
        .iter()
        .copied()
        .filter(|p| !crate::pricing::totals::is_metered(p))
        .collect();
    let Some(static_price) = statics.first().copied() else {
        return Err(invalid(
            field,
            "The product has no price in the subscription's currency.",
            json!(product_id),
        ));
    };
    if matches!(static_price.amount, PriceAmount::Custom { .. }) {
        return Err(invalid(
            "product_id",
            "A subscription cannot change to a pay-what-you-want price.",
            json!(product_id),
        ));
    }
    let old_links = store::prices_of(txn.into(), &[row.id]).await?;
    let old_ids: Vec<Uuid> = old_links.iter().map(|l| l.price_id).collect();
    let old_prices =
        crate::products::sale::prices_by_ids(txn.into(), row.organization_id, &old_ids).await?;
    let was_seats = old_prices.iter().any(is_seats);
    let was_units = old_prices.iter().any(is_units);
    if request.product_id.is_some() && (was_seats != is_seats(static_price)) {
        return Err(invalid(
            "product_id",
            "A seat-based subscription can only change to a seat-based product, and the other way round.",
            json!(product_id),
        ));
    }
    if request.product_id.is_some() && (was_units != is_units(static_price)) {
        return Err(invalid(
            "product_id",
            "A unit-based subscription can only change to a unit-based product, and the other way round.",
            json!(product_id),
        ));
    }
    if request.seats.is_some() && !is_seats(static_price) {
        return Err(invalid(
            "seats",
            "This subscription is not seat-based.",
            json!(request.seats),
        ));
    }
    if request.units.is_some() && !is_units(static_price) {
        return Err(invalid(
            "units",
            "This subscription is not unit-based.",
            json!(request.units),
        ));
    }
    if let Some(seats) = request.seats {
        let taken = crate::customer_seats::assigned(txn, row.id).await?;
        if seats < taken {
            return Err(invalid(
                "seats",
                &format!("{taken} seats are assigned: revoke some before going below that."),
                json!(seats),
            ));
        }
    }
    let seats = request
        .seats
        .or(row.seats)
        .filter(|_| is_seats(static_price));
    let units = request
        .units
        .or(row.units)
        .filter(|_| is_units(static_price));
    let count = |n: Option<i64>, field: &str| -> ApiResult<Option<u64>> {
        match n {
            None => Ok(None),
            Some(n) => u64::try_from(n)
                .map(Some)
                .map_err(|_| invalid(field, "Must be at least 1.", json!(n))),
        }
    };
    let totals = crate::pricing::totals::compute(&Purchase {
        prices: std::slice::from_ref(static_price),
        recurring: true,
        custom_amount: None,
        seats: count(seats, "seats")?,
        units: count(units, "units")?,
        discount: None,
        on_trial: false,
        tax_amount: Some(0),
    })
    .map_err(|fault| match fault {
        Fault::Seats(message) => invalid("seats", &message, json!(seats)),
        Fault::Units(message) => invalid("units", &message, json!(units)),
        Fault::CustomAmount(message) => invalid("product_id", &message, json!(product_id)),
        Fault::Unpriceable => invalid(field, "This plan cannot be priced.", json!(product_id)),
    })?;
    let metered = in_currency
        .iter()
        .filter(|p| crate::pricing::totals::is_metered(p))
        .map(|p| p.id)
        .collect();
    Ok(Terms {
        price: Some((static_price.id, totals.amount)),
        metered,
        seats: totals.seats.and_then(|s| i64::try_from(s).ok()),
        units: totals.units.and_then(|u| i64::try_from(u).ok()),
        product,
    })
}

/// What `amount` a period costs after the discount.
fn after_discount(
    amount: i64,
    discount: Option<&crate::discounts::schema::Discount>,
    currency: &str,
) -> i64 {
    let off = discount
        .map(|d| {
            DiscountTerms::of(d, currency)
                .off(amount.max(0))
                .unwrap_or(0)
        })
        .unwrap_or(0);
    amount - off
}

/// Makes the subscription bill `terms` from now on: its prices, product, seats, units,
/// interval and amount.
/// Puts `row` on the plan of `terms` at `at`, with the product's meter cycle.
async fn switch(
    txn: &DatabaseTransaction,
    row: &mut Model,
    terms: &Terms,
    discount: Option<&crate::discounts::schema::Discount>,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    store::set_prices(txn, row.id, terms.price, terms.metered.iter().copied()).await?;
    let (interval, count) = terms.interval();
    row.product_id = terms.product.base.id;
    row.seats = terms.seats;
    row.units = terms.units;
    row.recurring_interval = interval.as_str().to_owned();
    row.recurring_interval_count = count;
    row.amount = after_discount(terms.amount(), discount, &row.currency).max(0);
    let base = &terms.product.base;
    super::meter_cycle::adopt(row, base.meter_interval, base.meter_interval_count);
    super::meter_cycle::arm(row, at);
    row.next_action_at = super::renewal::next_action(row);
    Ok(())
}

fn already_canceled() -> ApiError {
    ApiError::named(
        StatusCode::FORBIDDEN,
        "AlreadyCanceledSubscription",
        "This subscription is already canceled or will be at the end of the period.",
    )
}

/// Applies `request` to `before` (locked in `txn`) at `now`.
pub async fn apply(
    app: &AppState,
    txn: &DatabaseTransaction,
    before: &Model,
    request: Request,
    now: DateTime<Utc>,
) -> ApiResult<Applied> {
    let status = before.current_status();
    if status.is_revoked() || before.cancel_at_period_end || before.ended_at.is_some() {
        return Err(already_canceled());
    }
    if !status.is_billable() {
        return Err(ApiError::named(
            StatusCode::FORBIDDEN,
            "InactiveSubscription",
            format!("Subscription {} is not active.", before.id),
        ));
    }
    if before
        .claimed_until
        .is_some_and(|until| until > app.clock.now())
        || pending::is_awaiting(txn, before.id).await?
    {
        // A renewal is being made (or a change waits for its payment): a change now could
        // bill the period twice or not at all.
        return Err(ApiError::named(
            StatusCode::CONFLICT,
            "SubscriptionLocked",
            "This subscription is pending an update. Please try again later.",
        ));
    }
    let mut row = before.clone();
    let mut metadata = Map::new();
    if let Some(discount) = request.discount {
        change_discount(txn, &mut row, discount, now).await?;
        metadata.insert("discount_id".to_owned(), json!(row.discount_id));
    }
    if !request.changes_plan() {
        return finish(app, txn, before, row, None, metadata, now).await;
    }
    let terms = resolve(app, txn, &row, &request).await?;
    let behavior = match request.behavior {
        Some(behavior) => behavior,
        None => crate::organizations::read(txn, row.organization_id)
            .await?
            .and_then(|org| Behavior::parse(&org.proration_behavior))
            .unwrap_or(Behavior::Prorate),
    };
    describe(&request, behavior, &mut metadata);
    let same_plan = terms.product.base.id == row.product_id
        && terms.seats == row.seats
        && terms.units == row.units;
    if same_plan {
        // Back to the plan it has: a change scheduled for the next period is dropped.
        pending::clear(txn, row.id, now).await?;
        return finish(app, txn, before, row, None, metadata, now).await;
    }
    let discount = super::renewal::discount_of(txn, &row).await?;
    if status == SubscriptionStatus::Trialing {
        // Nothing was paid for a trial: the new plan applies at once, unprorated.
        pending::clear(txn, row.id, now).await?;
        switch(txn, &mut row, &terms, discount.as_ref(), now).await?;
        return finish(app, txn, before, row, None, metadata, now).await;
    }
    if behavior == Behavior::NextPeriod {
        pending::schedule(
            txn,
            row.id,
            row.current_period_end,
            pending::Scheduled {
                product_id: request.product_id,
                seats: request.seats,
                units: request.units,
            },
            now,
        )
        .await?;
        return finish(app, txn, before, row, None, metadata, now).await;
    }

    // What the customer pays a period for the old plan and for the new one.
    let links = store::prices_of(txn.into(), &[row.id]).await?;
    let old_amount: i64 = links.iter().map(|l| l.amount).sum();
    let old = after_discount(old_amount, discount.as_ref(), &row.currency);
    let new = after_discount(terms.amount(), discount.as_ref(), &row.currency);
    let (start, end) = (row.current_period_start, row.current_period_end);
    let period = (end - start).num_seconds().max(1);
    let remaining = (end - now).num_seconds().clamp(0, period);
    let old_name =
        crate::products::bases_with_deleted(txn.into(), row.organization_id, &[row.product_id])
            .await?
            .pop()
            .map_or_else(|| "Subscription".to_owned(), |p| p.name);
    let new_name = terms.product.base.name.clone();
    let (interval, count) = terms.interval();
    let interval_changes =
        interval.as_str() != row.recurring_interval || count != row.recurring_interval_count;
    // A new interval cannot share the old period: it starts a new one, as a reset does.
    let behavior = if interval_changes {
        Behavior::Reset
    } else {
        behavior
    };
    let credit = CycleLine {
        label: format!("Unused time on {old_name}"),
        amount: crate::pricing::rounding::prorate(-old, remaining, period),
        price_id: links.first().map(|l| l.price_id),
        start: now,
        end,
        proration: true,
    };
    let new_end = periods::next_end(now, interval, count, now.day());
    let debit = if behavior == Behavior::Reset {
        CycleLine {
            label: new_name.clone(),
            amount: new,
            price_id: terms.price.map(|(id, _)| id),
            start: now,
            end: new_end,
            proration: false,
        }
    } else {
        CycleLine {
            label: format!("Remaining time on {new_name}"),
            amount: crate::pricing::rounding::prorate(new, remaining, period),
            price_id: terms.price.map(|(id, _)| id),
            start: now,
            end,
            proration: true,
        }
    };
    let lines: Vec<CycleLine> = [credit, debit]
        .into_iter()
        .filter(|line| line.amount != 0)
        .collect();
    let net: i64 = lines.iter().map(|line| line.amount).sum();
    let invoice_now = match behavior {
        Behavior::Reset => true,
        Behavior::Invoice => net > 0,
        Behavior::Prorate | Behavior::NextPeriod => false,
    };
    if invoice_now
        && net > 0
        && !matches!(
            crate::payments::accounts::of(txn, &app.secret, row.organization_id).await?,
            crate::payments::accounts::Account::Test
        )
    {
        // Stripe answers after this transaction: the invoice is recorded now and the change
        // waits for its payment (`complete_awaiting`), so that a declined card changes
        // nothing, as at Polar, whose charge comes before its commit.
        let mut invoiced = row.clone();
        invoiced.product_id = terms.product.base.id;
        invoiced.seats = terms.seats;
        invoiced.units = terms.units;
        let bill = super::renewal::Bill::of(txn, &invoiced).await?;
        let (order, queued) = bill
            .record(txn, &invoiced, lines, None, "subscription_update", now, now)
            .await?;
        pending::await_payment(
            txn,
            row.id,
            order.id,
            pending::Scheduled {
                product_id: request.product_id,
                seats: request.seats,
                units: request.units,
            },
            behavior.as_str(),
            now,
        )
        .await?;
        if request.discount.is_none() {
            // Nothing about the subscription changed yet: nothing to tell.
            return Ok(Applied {
                row,
                to_collect: Some(order.id),
                queued,
            });
        }
        let discount_only = metadata
            .into_iter()
            .filter(|(key, _)| key == "discount_id")
            .collect();
        let mut applied = finish(app, txn, before, row, Some(order.id), discount_only, now).await?;
        applied.queued += queued;
        return Ok(applied);
    }
    pending::clear(txn, row.id, now).await?;
    switch(txn, &mut row, &terms, discount.as_ref(), now).await?;
    if behavior == Behavior::Reset {
        start_new_period(&mut row, now, new_end);
    }
    if !invoice_now {
        for line in &lines {
            pending::add_proration(
                txn,
                row.id,
                pending::Line {
                    label: &line.label,
                    amount: line.amount,
                    start: line.start,
                    end: line.end,
                    price_id: line.price_id,
                },
                now,
            )
            .await?;
        }
        return finish(app, txn, before, row, None, metadata, now).await;
    }
    let row = store::update(txn, row).await?;
    let bill = super::renewal::Bill::of(txn, &row).await?;
    let (order, queued) = bill
        .record(txn, &row, lines, None, "subscription_update", now, now)
        .await?;
    let mut applied = finish(app, txn, before, row, None, metadata, now).await?;
    applied.queued += queued;
    if order.status == "pending" {
        match super::renewal::charge_in(app, txn, order.id, now).await? {
            super::renewal::Charged::Paid(queued) => applied.queued += queued,
            super::renewal::Charged::Declined(message) => {
                return Err(ApiError::named(
                    StatusCode::PAYMENT_REQUIRED,
                    "PaymentFailed",
                    message,
                ));
            }
            super::renewal::Charged::Later => applied.to_collect = Some(order.id),
        }
    }
    Ok(applied)
}

/// What a change of plan sets, for the `subscription.updated` system event.
fn describe(request: &Request, behavior: Behavior, metadata: &mut Map<String, Value>) {
    if let Some(product_id) = request.product_id {
        metadata.insert("product_id".to_owned(), json!(product_id));
    }
    if let Some(seats) = request.seats {
        metadata.insert("seats".to_owned(), json!(seats));
    }
    if let Some(units) = request.units {
        metadata.insert("units".to_owned(), json!(units));
    }
    metadata.insert("proration_behavior".to_owned(), json!(behavior.as_str()));
}

/// A reset, or a new interval: the period starts at `at`. The usage so far is not billed by
/// the reset: it waits for the next invoice.
fn start_new_period(row: &mut Model, at: DateTime<Utc>, end: DateTime<Utc>) {
    row.usage_since = Some(row.usage_since.unwrap_or(row.current_period_start));
    row.current_period_start = at;
    row.current_period_end = end;
    row.anchor_day = i64::from(at.day());
    super::meter_cycle::arm(row, at);
    row.next_action_at = super::renewal::next_action(row);
}

/// The change waiting for `order`'s payment: applied now that it is paid (as it was asked,
/// at its time), or dropped when the payment was declined. Returns the deliveries queued.
pub async fn complete_awaiting(
    app: &AppState,
    txn: &DatabaseTransaction,
    subscription: &Model,
    order_id: Uuid,
    paid: bool,
    now: DateTime<Utc>,
) -> ApiResult<Option<usize>> {
    let Some(update) = pending::awaiting_order(txn, order_id).await? else {
        return Ok(None);
    };
    if !paid {
        pending::drop_awaiting(txn, update.id, now).await?;
        return Ok(Some(0));
    }
    let at = update.applies_at;
    let behavior = update
        .proration_behavior
        .as_deref()
        .and_then(Behavior::parse)
        .unwrap_or(Behavior::Invoice);
    let request = Request {
        product_id: update.product_id,
        seats: update.seats,
        units: update.units,
        ..Request::default()
    };
    pending::mark_applied(txn, update.id, now).await?;
    let mut row = subscription.clone();
    let terms = match resolve(app, txn, &row, &request).await {
        Ok(terms) => terms,
        Err(ApiError::Validation(issues)) => {
            // The product changed since (archived, repriced): the invoice stays paid, and
            // the plan as it was.
            tracing::warn!(subscription_id = %row.id, ?issues, "a paid change could no longer be applied");
            return Ok(Some(0));
        }
        Err(other) => return Err(other),
    };
    let (interval, count) = terms.interval();
    let interval_changes =
        interval.as_str() != row.recurring_interval || count != row.recurring_interval_count;
    pending::clear(txn, row.id, now).await?;
    let discount = super::renewal::discount_of(txn, &row).await?;
    switch(txn, &mut row, &terms, discount.as_ref(), at).await?;
    if behavior == Behavior::Reset || interval_changes {
        start_new_period(
            &mut row,
            at,
            periods::next_end(at, interval, count, at.day()),
        );
    }
    let mut metadata = Map::new();
    describe(&request, behavior, &mut metadata);
    let applied = finish(app, txn, subscription, row, None, metadata, now).await?;
    Ok(Some(applied.queued))
}

/// Saves `row` (unless nothing changed) and queues what the change tells.
async fn finish(
    app: &AppState,
    txn: &DatabaseTransaction,
    before: &Model,
    mut row: Model,
    to_collect: Option<Uuid>,
    metadata: Map<String, Value>,
    now: DateTime<Utc>,
) -> ApiResult<Applied> {
    row.modified_at = Some(now);
    let row = store::update(txn, row).await?;
    let mut event = metadata;
    let updated = if event.is_empty() {
        None
    } else {
        event.insert("subscription_id".to_owned(), json!(row.id));
        Some(event)
    };
    let queued = super::lifecycle::changed(
        app,
        txn,
        Some(before),
        &row,
        super::lifecycle::Change {
            updated,
            ..super::lifecycle::Change::default()
        },
        now,
    )
    .await?;
    Ok(Applied {
        row,
        to_collect,
        queued,
    })
}

/// A discount for the subscription from its next period (`None`: none from then).
async fn change_discount(
    txn: &DatabaseTransaction,
    row: &mut Model,
    discount_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Some(id) = discount_id else {
        row.discount_id = None;
        row.discount_applied_at = None;
        return Ok(());
    };
    if row.discount_id == Some(id) {
        return Err(invalid(
            "discount_id",
            "This discount is already applied to the subscription.",
            json!(id),
        ));
    }
    let discount = crate::discounts::find(
        txn.into(),
        row.organization_id,
        crate::discounts::DiscountKey::Id(id),
    )
    .await?
    .filter(|d| crate::discounts::applies(d, row.product_id, &row.currency, now))
    .ok_or_else(|| {
        invalid(
            "discount_id",
            "This discount does not exist or cannot be applied to this subscription.",
            json!(id),
        )
    })?;
    match crate::discounts::redeem(
        txn,
        row.organization_id,
        discount.id,
        Some(row.customer_id),
        None,
        now,
    )
    .await?
    {
        Ok(_) => {}
        Err(_) => {
            return Err(invalid(
                "discount_id",
                "This discount cannot be redeemed any more.",
                json!(id),
            ));
        }
    }
    row.discount_id = Some(discount.id);
    // Counted from the period it first applies to.
    row.discount_applied_at = None;
    Ok(())
}

/// Applies the change scheduled for the boundary `at` (called by the renewal before it
/// bills the new period); whether the plan changed. A change whose product can no longer
/// be sold is dropped.
pub async fn apply_due(
    app: &AppState,
    txn: &DatabaseTransaction,
    row: &mut Model,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let Some(update) = pending::due(txn, row.id, at).await? else {
        return Ok(false);
    };
    let request = Request {
        product_id: update.product_id,
        seats: update.seats,
        units: update.units,
        ..Request::default()
    };
    match resolve(app, txn, row, &request).await {
        Ok(terms) => {
            pending::mark_applied(txn, update.id, now).await?;
            let discount = super::renewal::discount_of(txn, row).await?;
            switch(txn, row, &terms, discount.as_ref(), at).await?;
            Ok(true)
        }
        Err(ApiError::Validation(issues)) => {
            tracing::warn!(subscription_id = %row.id, ?issues, "a scheduled change could not be applied; dropped");
            pending::clear(txn, row.id, now).await?;
            Ok(false)
        }
        Err(other) => Err(other),
    }
}

/// The contract's `PendingSubscriptionUpdate` of a scheduled change.
pub fn shown(update: &super::entity::pending::Model) -> Value {
    json!({
        "created_at": update.created_at,
        "modified_at": update.modified_at,
        "id": update.id,
        "applies_at": update.applies_at,
        "product_id": update.product_id,
        "seats": update.seats,
        "units": update.units,
    })
}
