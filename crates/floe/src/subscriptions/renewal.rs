//! What falls due on a subscription, done once: a period's end (the next period and its
//! `subscription_cycle` order, a trial's end, a scheduled cancellation), and the charge of
//! a subscription's order with its dunning retries.
//!
//! Exactly once, whatever crashes and however many processes: a subscription is handled
//! only under its lease (`scheduler`), and each step is one transaction that re-reads the
//! row under lock and moves `next_action_at` forward with what it did, so a replay finds
//! nothing due. A period's order is unique on (subscription, reason, period start), the
//! last guard. The test processor's charge is made inside the transaction that records its
//! outcome (it is a pure function of its request), so a crash loses both or neither; the
//! charge's idempotency key names the order and the attempt.

use chrono::{DateTime, Datelike, Duration, Utc};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::entity::Model;
use super::lifecycle::{self, Change};
use super::periods;
use super::schema::SubscriptionStatus;
use super::store;
use super::usage::{self, Usage};
use crate::app::AppState;
use crate::http::ApiResult;
use crate::orders::OrderRow;
use crate::orders::service::CycleLine;
use crate::payments::accounts::Account;
use crate::payments::processor::{
    ChargeRequest, Intent, MethodDetails, Outcome, TEST, TestProcessor,
};
use crate::products::schema::Interval;
use crate::webhooks::EventType;

/// Polar's dunning: retries 2, 5, 7 and 7 days after each failure, then the subscription
/// is revoked. The operator may set another schedule per organization.
pub const DUNNING_RETRY_DAYS: [i64; 4] = [2, 5, 7, 7];

/// What handling one subscription did.
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    /// A new period started (and its order was made).
    Renewed(Option<Uuid>),
    /// A meter period ended inside the billing period (its usage order, if any).
    MeterCycled(Option<Uuid>),
    /// The subscription ended (a cancellation at the period's end).
    Ended,
    /// Nothing was due (another process did it, or it changed meanwhile).
    Idle,
    /// The lease was lost to another process before the work was done.
    Lost,
}

/// Handles what is due on subscription `id`, which this process claimed with `lease`.
pub async fn handle(app: &AppState, id: Uuid, lease: DateTime<Utc>) -> ApiResult<Handled> {
    let txn = crate::db::begin_write(&app.db).await?;
    let Some(before) = store::lock(&txn, id).await? else {
        txn.rollback().await?;
        return Ok(Handled::Lost);
    };
    if before.claimed_until != Some(lease) {
        txn.rollback().await?;
        return Ok(Handled::Lost);
    }
    let now = super::test_clock::now_for(&txn, &app.clock, before.organization_id).await?;
    let mut row = before.clone();
    row.claimed_until = None;
    let due = row.next_action_at.is_some_and(|at| at <= now);
    let resume_due = row.current_status() == SubscriptionStatus::Paused
        && row.resumes_at.is_some_and(|at| at <= now);
    let period_due = row.current_status().is_billable() && row.current_period_end <= now;
    // A meter period that ends before the billing period comes first.
    let meter_due = row.current_status().is_billable() && super::meter_cycle::due(&row, now);
    if !due || !(resume_due || period_due || meter_due) {
        // Nothing to do now: what is next due is the period's end, a paused subscription's
        // resumption, or nothing.
        row.next_action_at = next_action(&row);
        store::update(&txn, row).await?;
        txn.commit().await?;
        return Ok(Handled::Idle);
    }
    let (handled, to_collect) = if resume_due {
        let (row, order, queued) = resume(app, &txn, &before, row, now).await?;
        let queued = queued
            + lifecycle::changed(app, &txn, Some(&before), &row, Change::default(), now).await?;
        app.nudge.commit(txn, queued).await?;
        (Handled::Renewed(order), order)
    } else if meter_due {
        let (_, order, queued) = super::meter_cycle::cycle(app, &txn, row, now).await?;
        app.nudge.commit(txn, queued).await?;
        (Handled::MeterCycled(order), order)
    } else if row.cancel_at_period_end || row.pause_at_period_end {
        // The last period's usage is billed before it stops.
        let (order, settled) = settle_last_period(&txn, &row, now).await?;
        if row.cancel_at_period_end {
            end(&mut row, now);
        } else {
            // Paused instead of renewed: benefits revoked until it resumes.
            row.status = SubscriptionStatus::Paused.as_str().to_owned();
            row.paused_at = Some(now);
            row.pause_at_period_end = false;
            row.usage_since = Some(row.current_period_end);
            super::meter_cycle::arm(&mut row, now);
            row.next_action_at = row.resumes_at;
            row.modified_at = Some(now);
        }
        let row = store::update(&txn, row).await?;
        let queued = settled
            + lifecycle::changed(app, &txn, Some(&before), &row, Change::default(), now).await?;
        app.nudge.commit(txn, queued).await?;
        (Handled::Ended, order)
    } else {
        let start = row.current_period_end;
        let (row, order, queued) = cycle(app, &txn, &before, row, start, now).await?;
        let queued = queued
            + lifecycle::changed(
                app,
                &txn,
                Some(&before),
                &row,
                Change {
                    cycled: true,
                    ..Change::default()
                },
                now,
            )
            .await?;
        app.nudge.commit(txn, queued).await?;
        (Handled::Renewed(order), order)
    };
    if let Some(order_id) = to_collect {
        // Charged at once; a crash before leaves the order due for the next pass.
        collect(app, order_id).await?;
    }
    Ok(handled)
}

/// When something is next due on `row`, as it stands: the end of its billing period or of
/// its meter period, whichever comes first.
pub(super) fn next_action(row: &Model) -> Option<DateTime<Utc>> {
    let status = row.current_status();
    if status.is_billable() {
        Some(
            row.current_meter_period_end
                .map_or(row.current_period_end, |end| {
                    end.min(row.current_period_end)
                }),
        )
    } else if status == SubscriptionStatus::Paused {
        row.resumes_at
    } else {
        None
    }
}

/// A paused subscription resumes: active again, a new period from now (renewals fall on
/// today's day from now on), its order charged at once, its benefits given back. Returns
/// the subscription, the order to charge (if any) and the deliveries queued.
pub async fn resume(
    app: &AppState,
    txn: &DatabaseTransaction,
    before: &Model,
    mut row: Model,
    now: DateTime<Utc>,
) -> ApiResult<(Model, Option<Uuid>, usize)> {
    row.status = SubscriptionStatus::Active.as_str().to_owned();
    row.paused_at = None;
    row.resumes_at = None;
    row.anchor_day = i64::from(now.day());
    cycle(app, txn, before, row, now, now).await
}

/// A cancellation at the period's end takes effect.
fn end(row: &mut Model, now: DateTime<Utc>) {
    row.status = SubscriptionStatus::Canceled.as_str().to_owned();
    row.ended_at = Some(now);
    row.next_action_at = None;
    row.modified_at = Some(now);
}

/// Starts the next period at `start` (a trial's end starts the first paid one) and records
/// its order: the fixed prices for the new period, paid ahead, and the usage of the period
/// that ends, in arrears (not a trial's: usage during a trial is free). Paid at once when it
/// is for nothing, else `pending` and due for its charge now.
async fn cycle(
    app: &AppState,
    txn: &DatabaseTransaction,
    before: &Model,
    mut row: Model,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<(Model, Option<Uuid>, usize)> {
    let trial_ends = before.current_status() == SubscriptionStatus::Trialing;
    // The usage of the period that ends is billed at the prices it had; the change
    // scheduled for this boundary applies to the new period (its interval too).
    let closing = Bill::of(txn, &row).await?;
    let changed = super::change::apply_due(app, txn, &mut row, start, now).await?;
    let interval = Interval::parse(&row.recurring_interval).unwrap_or(Interval::Month);
    if trial_ends {
        // Renewals fall on the day the trial ended, from now on.
        row.anchor_day = i64::from(start.day());
        row.status = SubscriptionStatus::Active.as_str().to_owned();
    }
    let anchor = u32::try_from(row.anchor_day).unwrap_or(1);
    let end = periods::next_end(start, interval, row.recurring_interval_count, anchor);
    // The usage not billed yet: since the period's start, or the last meter period's.
    let usage_from = before.usage_since.unwrap_or(before.current_period_start);
    row.current_period_start = start;
    row.current_period_end = end;
    row.usage_since = None;
    super::meter_cycle::arm(&mut row, start);
    row.next_action_at = next_action(&row);
    row.modified_at = Some(now);
    // A discount for the first period(s) only ends as its months run out.
    let discount = current_discount(txn, &mut row, start).await?;
    let row = store::update(txn, row).await?;
    let bill = if changed {
        Bill::of(txn, &row).await?
    } else {
        closing.clone()
    };
    // The period that ends now (none for a paused subscription: its last one was settled
    // when it paused).
    let used = if before.current_status().is_billable() {
        closing.settle_usage(txn, usage_from, start).await?
    } else {
        Vec::new()
    };
    let mut lines: Vec<CycleLine> = bill
        .fixed
        .iter()
        .filter(|p| p.amount != 0)
        .map(|p| CycleLine {
            label: bill.name.clone(),
            amount: p.amount,
            price_id: Some(p.price_id),
            start,
            end,
            proration: false,
        })
        .collect();
    if !trial_ends {
        lines.extend(usage_lines(&used, usage_from, start));
    }
    if lines.is_empty() {
        // A free period still has its order, of one line at 0.
        lines.push(CycleLine {
            label: bill.name.clone(),
            amount: 0,
            price_id: bill.fixed.first().map(|p| p.price_id),
            start,
            end,
            proration: false,
        });
    }
    let (order, mut queued) = bill
        .record(
            txn,
            &row,
            lines,
            discount.as_ref(),
            "subscription_cycle",
            start,
            now,
        )
        .await?;
    if order.status == "paid" {
        // Paid at once (nothing to charge): the new period renews the benefits now.
        queued += crate::benefits::cycle_subscription_grants(app, txn, &row, start, now).await?;
    }
    let to_collect = (order.status == "pending").then_some(order.id);
    Ok((row, to_collect, queued))
}

/// The last period of a subscription that stops renewing (it ends, or pauses) is settled:
/// its usage billed in one more order when there is any to charge. Returns the order to
/// charge, if any, and the deliveries queued.
async fn settle_last_period(
    txn: &DatabaseTransaction,
    row: &Model,
    now: DateTime<Utc>,
) -> ApiResult<(Option<Uuid>, usize)> {
    let bill = Bill::of(txn, row).await?;
    let (start, end) = (
        row.usage_since.unwrap_or(row.current_period_start),
        row.current_period_end,
    );
    let used = bill.settle_usage(txn, start, end).await?;
    let owed = super::pending::waiting(txn, row.id)
        .await?
        .iter()
        .any(|line| line.amount > 0);
    if used.iter().all(|u| u.amount == 0) && !owed {
        return Ok((None, 0));
    }
    let lines = usage_lines(&used, start, end);
    let discount = discount_of(txn, row).await?;
    // Unique beside the period's own order: this one is dated at the period's end.
    let (order, queued) = bill
        .record(
            txn,
            row,
            lines,
            discount.as_ref(),
            "subscription_cycle",
            end,
            now,
        )
        .await?;
    Ok(((order.status == "pending").then_some(order.id), queued))
}

/// The lines of the usage of `[start, end)`, billed in arrears.
pub(super) fn usage_lines(
    used: &[Usage],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<CycleLine> {
    used.iter()
        .map(|u| CycleLine {
            label: u.label.clone(),
            amount: u.amount,
            price_id: Some(u.price_id),
            start,
            end,
            proration: false,
        })
        .collect()
}

/// What a subscription bills: its product's name, its fixed prices, its metered prices,
/// and its customer.
#[derive(Clone)]
pub(super) struct Bill {
    name: String,
    fixed: Vec<super::entity::price::Model>,
    metered: Vec<crate::products::schema::Price>,
    customer: Option<crate::customers::CustomerRow>,
    organization_id: Uuid,
}

impl Bill {
    pub(super) async fn of(txn: &DatabaseTransaction, row: &Model) -> ApiResult<Self> {
        let links = store::prices_of(txn.into(), &[row.id]).await?;
        let ids: Vec<Uuid> = links.iter().map(|p| p.price_id).collect();
        let metered: Vec<crate::products::schema::Price> =
            crate::products::sale::prices_by_ids(txn.into(), row.organization_id, &ids)
                .await?
                .into_iter()
                .filter(crate::pricing::totals::is_metered)
                .collect();
        let fixed = links
            .into_iter()
            .filter(|link| !metered.iter().any(|m| m.id == link.price_id))
            .collect();
        // Only its name: the product's base, not its whole presentation.
        let name =
            crate::products::bases_with_deleted(txn.into(), row.organization_id, &[row.product_id])
                .await?
                .pop()
                .map_or_else(|| "Subscription".to_owned(), |p| p.name);
        let customer = crate::customers::purchase::find(
            txn,
            row.organization_id,
            crate::customers::CustomerKey::Id(row.customer_id),
        )
        .await?;
        Ok(Self {
            name,
            fixed,
            metered,
            customer,
            organization_id: row.organization_id,
        })
    }

    /// The usage of `[from, to)` priced, and each meter reset at `to` for the next window.
    pub(super) async fn settle_usage(
        &self,
        txn: &DatabaseTransaction,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ApiResult<Vec<Usage>> {
        let Some(customer) = &self.customer else {
            return Ok(Vec::new());
        };
        let metered: Vec<&crate::products::schema::Price> = self.metered.iter().collect();
        let used = usage::of_window(
            txn.into(),
            self.organization_id,
            (customer.id, customer.external_id.as_deref()),
            &metered,
            from,
            to,
        )
        .await?;
        usage::reset_meters(txn, self.organization_id, customer.id, &used, to).await?;
        Ok(used)
    }

    /// Records the subscription's order of `lines` for `reason`. A period's order also
    /// bills the prorated lines waiting for it. The discount comes off what is not prorated
    /// (the prorations were computed from discounted amounts already). An order is never
    /// paid out: what its credits leave below zero goes to the customer's balance.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn record(
        &self,
        txn: &DatabaseTransaction,
        row: &Model,
        mut lines: Vec<CycleLine>,
        discount: Option<&crate::discounts::schema::Discount>,
        billing_reason: &'static str,
        period_start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> ApiResult<(OrderRow, usize)> {
        let waiting = if billing_reason == "subscription_cycle" {
            super::pending::waiting(txn, row.id).await?
        } else {
            Vec::new()
        };
        lines.extend(waiting.iter().map(|line| CycleLine {
            label: line.label.clone(),
            amount: line.amount,
            price_id: line.price_id,
            start: line.start_timestamp,
            end: line.end_timestamp,
            proration: true,
        }));
        let discountable: i64 = lines
            .iter()
            .filter(|line| !line.proration)
            .map(|line| line.amount)
            .sum();
        let discount_amount = match discount {
            Some(discount) => crate::pricing::totals::DiscountTerms::of(discount, &row.currency)
                .off(discountable.max(0))
                .unwrap_or(0),
            None => 0,
        };
        let subtotal: i64 = lines.iter().map(|line| line.amount).sum();
        let short = subtotal - discount_amount;
        if short < 0 {
            lines.push(CycleLine {
                label: CREDIT_TO_BALANCE.to_owned(),
                amount: -short,
                price_id: None,
                start: now,
                end: now,
                proration: true,
            });
        }
        let (order, queued) = crate::orders::service::record_cycle(
            txn,
            crate::orders::service::Cycle {
                subscription: row,
                description: &self.name,
                billing_reason,
                period_start,
                lines,
                discount_id: discount.map(|d| d.id),
                discount_amount,
                total: short.max(0),
                billing_name: self
                    .customer
                    .as_ref()
                    .and_then(|c| c.billing_name.clone().or_else(|| c.name.clone())),
                billing_address: self
                    .customer
                    .as_ref()
                    .and_then(|c| c.billing_address.clone()),
                now,
            },
        )
        .await?;
        let ids: Vec<Uuid> = waiting.iter().map(|line| line.id).collect();
        super::pending::billed(txn, &ids, order.id).await?;
        if short < 0 {
            // What the credits leave over goes to the customer's balance, which the next
            // subscription order in this currency draws on first.
            crate::wallets::ledger::credit(
                txn,
                crate::wallets::ledger::Holder {
                    organization_id: row.organization_id,
                    customer_id: row.customer_id,
                    currency: &row.currency,
                },
                -short,
                order.id,
                crate::wallets::ledger::Reason::Credit,
                now,
            )
            .await?;
        }
        Ok((order, queued))
    }
}

/// The subscription's discount for its current period (one that ran out was taken off at
/// the renewal that started this period).
pub(super) async fn discount_of(
    txn: &DatabaseTransaction,
    row: &Model,
) -> ApiResult<Option<crate::discounts::schema::Discount>> {
    let Some(id) = row.discount_id else {
        return Ok(None);
    };
    Ok(
        crate::discounts::read_many(txn.into(), row.organization_id, &[id])
            .await?
            .pop(),
    )
}

/// The subscription's discount if it still applies to a period starting at `start`:
/// `forever` always, `once` for the first period only, `repeating` for its months from
/// when it was first applied. One that ran out is taken off the subscription.
pub(super) async fn current_discount(
    txn: &DatabaseTransaction,
    row: &mut Model,
    start: DateTime<Utc>,
) -> ApiResult<Option<crate::discounts::schema::Discount>> {
    use crate::discounts::schema::DiscountDuration;
    let Some(id) = row.discount_id else {
        return Ok(None);
    };
    let discount = crate::discounts::read_many(txn.into(), row.organization_id, &[id])
        .await?
        .pop();
    let Some(discount) = discount else {
        return Ok(None);
    };
    let applied_at = *row.discount_applied_at.get_or_insert(start);
    let applies = match discount.duration {
        DiscountDuration::Forever => true,
        DiscountDuration::Once => start <= applied_at,
        DiscountDuration::Repeating => {
            let months =
                u32::try_from(discount.duration_in_months.unwrap_or(1).max(1) - 1).unwrap_or(0);
            applied_at
                .checked_add_months(chrono::Months::new(months))
                .is_some_and(|last| start <= last)
        }
    };
    if applies {
        Ok(Some(discount))
    } else {
        row.discount_id = None;
        row.discount_applied_at = None;
        Ok(None)
    }
}

/// Charges the subscription order `order_id` if it is still due, on the subscription's
/// saved method (else the customer's default), and applies the outcome with dunning: the
/// first failure makes the subscription `past_due` and schedules retries; a success makes
/// it `active` again; the last failed retry revokes it.
pub async fn collect(app: &AppState, order_id: Uuid) -> ApiResult<bool> {
    let txn = crate::db::begin_write(&app.db).await?;
    let Some(mut order) = crate::orders::lock(&txn, order_id).await? else {
        txn.rollback().await?;
        return Ok(false);
    };
    let Some(subscription_id) = order.subscription_id else {
        txn.rollback().await?;
        return Ok(false);
    };
    let now = super::test_clock::now_for(&txn, &app.clock, order.organization_id).await?;
    let due =
        order.status == "pending" && order.next_payment_attempt_at.is_some_and(|at| at <= now);
    let Some(subscription) = store::lock(&txn, subscription_id).await?.filter(|_| due) else {
        txn.rollback().await?;
        return Ok(false);
    };
    if subscription.current_status().is_revoked()
        && order.billing_reason != super::meter_cycle::BILLING_REASON
        && subscription
            .ended_at
            .is_some_and(|ended| order.created_at < ended)
    {
        // Nothing more is collected for a period cut short by the subscription's end (its
        // usage, settled as it ended or at a meter period's end, still is).
        let queued = void(&txn, &mut order, now).await?;
        app.nudge.commit(txn, queued).await?;
        return Ok(false);
    }
    let failures = crate::payments::store::failures_of_order(&txn, order.id).await?;
    let trigger = if failures == 0 {
        "subscription_cycle"
    } else {
        "retry_dunning"
    };
    let outcome =
        match crate::payments::accounts::of(&txn, &app.secret, order.organization_id).await? {
            Account::Test => test_charge(&txn, &order, &subscription, failures + 1).await?,
            Account::Stripe(keys) => {
                return collect_with_stripe(
                    app,
                    txn,
                    order,
                    subscription,
                    StripeCharge {
                        secret_key: &keys.secret_key,
                        attempt: failures + 1,
                        trigger,
                        now,
                    },
                )
                .await;
            }
        };
    let mut queued = 0;
    let paid = match outcome {
        Some((outcome, method)) => {
            let settled = crate::orders::off_session::apply(
                &txn,
                &mut order,
                &outcome,
                crate::orders::off_session::Charged {
                    processor: TEST,
                    method: method.as_ref(),
                    replaces: None,
                    trigger,
                    at: now,
                },
            )
            .await?;
            queued += settled.queued;
            settled.paid
        }
        None => false,
    };
    queued += if paid {
        recovered(app, &txn, &mut order, subscription, now).await?
    } else {
        failed(app, &txn, &mut order, subscription, failures + 1, now).await?
    };
    app.nudge.commit(txn, queued).await?;
    if paid {
        app.grants.notify_one();
    } else {
        app.mail.notify_one();
    }
    Ok(paid)
}

/// The test processor's charge of `order` on the subscription's saved method (else the
/// customer's); `None` when there is no method to charge.
async fn test_charge(
    txn: &DatabaseTransaction,
    order: &OrderRow,
    subscription: &Model,
    attempt: usize,
) -> ApiResult<Option<(Outcome, Option<crate::payments::entity::method::Model>)>> {
    let method = match subscription.payment_method_id {
        Some(id) => crate::payments::store::method_by_id(txn, id)
            .await?
            .filter(|m| m.deleted_at.is_none()),
        None => None,
    };
    let method = match method {
        Some(method) => Some(method),
        None => {
            crate::payments::store::method_of_customer(txn, order.customer_id, TEST, None).await?
        }
    };
    let Some(method) = method else {
        return Ok(None);
    };
    let request = ChargeRequest {
        intent: Intent::Payment,
        idempotency_key: format!(
            "subscription:{}:order:{}:attempt:{attempt}",
            subscription.id, order.id
        ),
        amount: order.due_amount(),
        currency: &order.currency,
        token: &method.processor_id,
        save_method: false,
        off_session: true,
    };
    Ok(Some(match TestProcessor.charge(&request) {
        Ok(outcome) => (outcome, Some(method)),
        Err(unknown) => (
            declined(&request.idempotency_key, &unknown.to_string()),
            Some(method),
        ),
    }))
}

/// How a change's invoice went.
pub enum Charged {
    /// Paid in the transaction (the deliveries it queued).
    Paid(usize),
    /// Declined: the caller rolls the change back.
    Declined(String),
    /// The account's processor is charged outside the transaction (Stripe): the caller
    /// collects it after committing, like a renewal's order.
    Later,
}

/// Charges a change's `subscription_update` order inside the change's transaction, when the
/// account's processor allows it (the test processor).
pub async fn charge_in(
    app: &AppState,
    txn: &DatabaseTransaction,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Charged> {
    let Some(mut order) = crate::orders::lock(txn, order_id).await? else {
        return Ok(Charged::Later);
    };
    let Some(subscription) = (match order.subscription_id {
        Some(id) => store::lock(txn, id).await?,
        None => None,
    }) else {
        return Ok(Charged::Later);
    };
    if !matches!(
        crate::payments::accounts::of(txn, &app.secret, order.organization_id).await?,
        Account::Test
    ) {
        return Ok(Charged::Later);
    }
    let Some((outcome, method)) = test_charge(txn, &order, &subscription, 1).await? else {
        return Ok(Charged::Declined(
            "The customer has no saved payment method to charge.".to_owned(),
        ));
    };
    let settled = crate::orders::off_session::apply(
        txn,
        &mut order,
        &outcome,
        crate::orders::off_session::Charged {
            processor: TEST,
            method: method.as_ref(),
            replaces: None,
            // Polar marks every subscription order's charge so (the contract has no other).
            trigger: "subscription_cycle",
            at: now,
        },
    )
    .await?;
    if !settled.paid {
        let message = match &outcome {
            Outcome::Declined { message, .. } => message.clone(),
            _ => "The payment was not completed.".to_owned(),
        };
        return Ok(Charged::Declined(message));
    }
    order.next_payment_attempt_at = None;
    crate::orders::update_row(txn, order).await?;
    Ok(Charged::Paid(settled.queued))
}

/// What a renewal's Stripe charge needs.
struct StripeCharge<'a> {
    secret_key: &'a str,
    /// 1 for the renewal's first charge, then one more per failed retry.
    attempt: usize,
    trigger: &'a str,
    now: DateTime<Utc>,
}

/// A renewal's charge with Stripe, in two transactions as `orders::off_session` makes a
/// draft's: `txn` (holding the order and the subscription) writes the attempt down (a
/// `pending` payment holding its `Idempotency-Key`, one per attempt) and pushes the order's
/// next attempt past the wait for an answer, and commits; Stripe is asked with no lock held;
/// a second transaction applies the answer with its dunning. An answer that never comes is
/// settled by Stripe's webhook (through [`follow_outcome`]), or, after the wait, by asking
/// again with the same key (Stripe answers the first request's outcome, never a second
/// charge).
async fn collect_with_stripe(
    app: &AppState,
    txn: DatabaseTransaction,
    mut order: OrderRow,
    subscription: Model,
    charge: StripeCharge<'_>,
) -> ApiResult<bool> {
    use crate::orders::off_session::{self, Attempted, Charged, UNANSWERED_AFTER};
    use crate::payments::stripe::{Failure, STRIPE};
    let now = charge.now;
    let method = match subscription.payment_method_id {
        Some(id) => crate::payments::store::method_by_id(&txn, id)
            .await?
            .filter(|m| m.deleted_at.is_none() && m.processor == STRIPE),
        None => None,
    };
    let method = match method {
        Some(method) => Some(method),
        None => {
            crate::payments::store::method_of_customer(&txn, order.customer_id, STRIPE, None)
                .await?
        }
    };
    let customer =
        crate::payments::accounts::processor_customer(&txn, order.customer_id, STRIPE).await?;
    let (Some(method), Some(customer)) = (method, customer) else {
        // Nothing Stripe could charge: a failed attempt for dunning.
        let queued = failed(app, &txn, &mut order, subscription, charge.attempt, now).await?;
        app.nudge.commit(txn, queued).await?;
        return Ok(false);
    };
    // The attempt left unanswered (a crash, a timeout) is asked again with its own key.
    let pending = crate::payments::store::pending_of_order(&txn, order.id)
        .await?
        .filter(|p| p.processor == STRIPE);
    let (payment_id, key) = match pending {
        Some(pending) => (pending.id, pending.processor_id),
        None => (
            Uuid::new_v4(),
            format!(
                "floe-subscription-{}-order-{}-attempt-{}",
                subscription.id, order.id, charge.attempt
            ),
        ),
    };
    let attempt = Attempted {
        payment_id,
        key: &key,
        method: &method,
        customer: &customer,
    };
    off_session::write_down(&txn, &order, &attempt, charge.trigger, now).await?;
    order.next_payment_attempt_at = Some(now + UNANSWERED_AFTER);
    let order = crate::orders::update_row(&txn, order).await?;
    txn.commit().await?;

    let answer = off_session::charge_with_stripe(app, charge.secret_key, &order, &attempt).await;
    let txn = crate::db::begin_write(&app.db).await?;
    let Some(mut order) = crate::orders::lock(&txn, order.id).await? else {
        txn.rollback().await?;
        return Ok(false);
    };
    let Some(subscription) = store::lock(&txn, subscription.id).await? else {
        txn.rollback().await?;
        return Ok(false);
    };
    let now = super::test_clock::now_for(&txn, &app.clock, order.organization_id).await?;
    let mut queued = 0;
    let paid = match answer {
        Ok(outcome) => {
            let settled = off_session::apply(
                &txn,
                &mut order,
                &outcome,
                Charged {
                    processor: STRIPE,
                    method: Some(&method),
                    replaces: Some(payment_id),
                    trigger: charge.trigger,
                    at: now,
                },
            )
            .await?;
            queued += settled.queued;
            if settled.applied {
                queued += if settled.paid {
                    recovered(app, &txn, &mut order, subscription, now).await?
                } else {
                    failed(app, &txn, &mut order, subscription, charge.attempt, now).await?
                };
            }
            settled.paid
        }
        Err(Failure::Refused(detail)) => {
            off_session::refused(app, &txn, &mut order, &attempt, &detail).await?;
            queued += failed(app, &txn, &mut order, subscription, charge.attempt, now).await?;
            false
        }
        Err(Failure::Unanswered(detail)) => {
            // Maybe charged: Stripe's webhook tells, or the next attempt asks again.
            txn.rollback().await?;
            tracing::warn!(%detail, order_id = %order.id, "a renewal's charge went unanswered");
            return Ok(false);
        }
    };
    app.nudge.commit(txn, queued).await?;
    if paid {
        app.grants.notify_one();
    } else {
        app.mail.notify_one();
    }
    Ok(paid)
}

/// A subscription order's charge outcome that arrived by the processor's webhook (its own
/// answer was lost): the subscription follows it, in `txn`.
pub async fn follow_outcome(
    app: &AppState,
    txn: &DatabaseTransaction,
    order: &mut OrderRow,
    paid: bool,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let Some(subscription) = (match order.subscription_id {
        Some(id) => store::lock(txn, id).await?,
        None => None,
    }) else {
        return Ok(0);
    };
    if paid {
        recovered(app, txn, order, subscription, now).await
    } else {
        let failures = crate::payments::store::failures_of_order(txn, order.id).await?;
        failed(app, txn, order, subscription, failures.max(1), now).await
    }
}

fn declined(key: &str, message: &str) -> Outcome {
    Outcome::Declined {
        charge_id: format!("py_test_{key}"),
        method: None::<MethodDetails>,
        code: "processing_error".to_owned(),
        message: message.to_owned(),
    }
}

/// The order was paid: no more retries, and a past-due subscription is active again.
pub(super) async fn recovered(
    app: &AppState,
    txn: &DatabaseTransaction,
    order: &mut OrderRow,
    subscription: Model,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    order.next_payment_attempt_at = None;
    *order = crate::orders::update_row(txn, order.clone()).await?;
    // A change that waited for this invoice is made now.
    if let Some(queued) =
        super::change::complete_awaiting(app, txn, &subscription, order.id, true, now).await?
    {
        return Ok(queued);
    }
    // The period it paid for renews the subscription's benefits.
    let mut queued = match order.billing_period_start {
        Some(start) if order.billing_reason == "subscription_cycle" => {
            crate::benefits::cycle_subscription_grants(app, txn, &subscription, start, now).await?
        }
        _ => 0,
    };
    // A meter period's usage order is dunned alone: paying it does not pay the period a
    // past-due subscription owes.
    if subscription.current_status() != SubscriptionStatus::PastDue
        || order.billing_reason == super::meter_cycle::BILLING_REASON
    {
        return Ok(queued);
    }
    let mut row = subscription.clone();
    row.status = SubscriptionStatus::Active.as_str().to_owned();
    row.past_due_at = None;
    row.modified_at = Some(now);
    let row = store::update(txn, row).await?;
    queued +=
        lifecycle::changed(app, txn, Some(&subscription), &row, Change::default(), now).await?;
    Ok(queued)
}

/// A charge failed (or could not be made: no saved method): the subscription is past due
/// and the order retried on the dunning schedule, until the schedule runs out and the
/// subscription is revoked.
async fn failed(
    app: &AppState,
    txn: &DatabaseTransaction,
    order: &mut OrderRow,
    subscription: Model,
    failures: usize,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    // The invoice of a change that waited for it: the change is dropped and the invoice
    // voided, with no dunning (the subscription owes nothing for a change it did not get).
    if let Some(queued) =
        super::change::complete_awaiting(app, txn, &subscription, order.id, false, now).await?
    {
        return Ok(queued + void(txn, order, now).await?);
    }
    let mut row = subscription.clone();
    let mut queued = 0;
    // The usage order of a subscription that stopped (ended or paused) is retried alone:
    // the subscription has nothing left to lose. So is a meter period's order, as at Polar:
    // it is voided when its retries run out, and the subscription goes on.
    let stopped = !row.current_status().is_billable()
        || order.billing_reason == super::meter_cycle::BILLING_REASON;
    let schedule =
        crate::organizations::dunning_retry_days(txn, order.organization_id, &DUNNING_RETRY_DAYS)
            .await?;
    let retry_at = schedule
        .get(failures - 1)
        .map(|days| now + Duration::days(*days));
    notify_failure(txn, order, &subscription, retry_at, now).await?;
    if let Some(days) = schedule.get(failures - 1) {
        order.next_payment_attempt_at = Some(now + Duration::days(*days));
        order.modified_at = Some(now);
        *order = crate::orders::update_row(txn, order.clone()).await?;
        queued += crate::orders::emit(txn, order, EventType::OrderUpdated, now).await?;
        if stopped {
            return Ok(queued);
        }
        if row.current_status() != SubscriptionStatus::PastDue {
            row.status = SubscriptionStatus::PastDue.as_str().to_owned();
            row.past_due_at = Some(now);
        }
    } else {
        queued += void(txn, order, now).await?;
        if stopped {
            return Ok(queued);
        }
        row.status = SubscriptionStatus::Canceled.as_str().to_owned();
        row.canceled_at = Some(row.canceled_at.unwrap_or(now));
        row.ends_at = Some(now);
        row.ended_at = Some(now);
        row.cancel_at_period_end = false;
        row.next_action_at = None;
    }
    if row == subscription {
        return Ok(queued);
    }
    row.modified_at = Some(now);
    let row = store::update(txn, row).await?;
    queued +=
        lifecycle::changed(app, txn, Some(&subscription), &row, Change::default(), now).await?;
    Ok(queued)
}

/// Tells the customer a charge failed: when it is tried again, or that the subscription
/// ended (queued mail, sent by the mail worker after the commit).
async fn notify_failure(
    txn: &DatabaseTransaction,
    order: &OrderRow,
    subscription: &Model,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let customer = crate::customers::purchase::find(
        txn,
        order.organization_id,
        crate::customers::CustomerKey::Id(order.customer_id),
    )
    .await?;
    let Some(email) = customer.and_then(|c| c.email) else {
        return Ok(());
    };
    let seller = crate::organizations::read(txn, order.organization_id)
        .await?
        .map_or_else(|| "the seller".to_owned(), |org| org.name);
    let amount = crate::money::display(order.due_amount(), &order.currency);
    let product = &order.description;
    let next = match (retry_at, subscription.current_status().is_billable()) {
        (Some(at), true) => format!(
            "We will try again on {}. To avoid an interruption, please make sure your payment method can be charged.",
            at.format("%B %-d, %Y")
        ),
        (Some(at), false) => format!("We will try again on {}.", at.format("%B %-d, %Y")),
        (None, true) => "We could not collect it after several attempts, so your subscription has been canceled.".to_owned(),
        (None, false) => "We could not collect it after several attempts.".to_owned(),
    };
    let body = format!(
        "Hello,\n\nWe could not charge {amount} for your subscription to {product} from {seller}.\n{next}\n\nSubscription: {}\nOrder: {}\n",
        subscription.id, order.id
    );
    crate::mail::queue(
        txn,
        Some(order.organization_id),
        crate::mail::Mail {
            kind: "payment_failed",
            to: &email,
            subject: &format!("Payment failed for your {product} subscription"),
            body: &body,
        },
        now,
    )
    .await?;
    Ok(())
}

/// The label of the line that settles an order whose credits exceed its charges at zero.
pub const CREDIT_TO_BALANCE: &str = "Credit added to your balance";

/// An order that will not be collected; what the customer's balance paid of it goes back.
async fn void(
    txn: &DatabaseTransaction,
    order: &mut OrderRow,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    if order.applied_balance_amount < 0 {
        crate::wallets::ledger::credit(
            txn,
            crate::wallets::ledger::Holder {
                organization_id: order.organization_id,
                customer_id: order.customer_id,
                currency: &order.currency,
            },
            -order.applied_balance_amount,
            order.id,
            crate::wallets::ledger::Reason::Restored,
            now,
        )
        .await?;
    }
    order.status = "void".to_owned();
    order.next_payment_attempt_at = None;
    order.modified_at = Some(now);
    *order = crate::orders::update_row(txn, order.clone()).await?;
    crate::orders::emit(txn, order, EventType::OrderUpdated, now).await
}
