//! A meter cycle apart from the billing cycle (a product's `meter_interval`, as Polar has
//! it): a yearly plan whose usage is billed, and whose meter credits renew, every month.
//!
//! The subscription keeps the cadence its product had when it was bought, and its meter
//! clock (`current_meter_period_start`/`_end`) runs inside the billing period: cycles are
//! counted from the period's start and the last one ends with it (products only take a
//! cadence that divides their billing interval). At each meter boundary before the
//! period's end the usage since `usage_since` is billed in a `subscription_meter_cycle`
//! order (when there is any to charge), the meters are reset with their rollover, and the
//! grants are cycled so meter credits renew; the boundary that is also the period's end is
//! the renewal's, which bills the last meter period with the new period. While the
//! subscription is past due a boundary only moves the clock (as at Polar: no allowance is
//! renewed for time not paid for); its usage waits and is billed at the first boundary
//! after it recovers, because `usage_since` has not moved.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::entity::Model;
use super::periods::MeterClock;
use super::renewal::Bill;
use super::schema::SubscriptionStatus;
use super::store;
use crate::app::AppState;
use crate::discounts::schema::DiscountType;
use crate::http::ApiResult;
use crate::products::schema::Interval;

/// The billing reason of a meter period's order.
pub const BILLING_REASON: &str = "subscription_meter_cycle";

/// The subscription's meter clock, if it has a meter cycle.
fn clock(row: &Model) -> Option<MeterClock> {
    let interval = Interval::parse(row.meter_interval.as_deref()?)?;
    Some(MeterClock {
        interval,
        count: row.meter_interval_count.unwrap_or(1),
        anchor_day: u32::try_from(row.anchor_day).unwrap_or(1),
        period: (row.current_period_start, row.current_period_end),
    })
}

/// Takes the product's cadence (at the purchase, or a change of product).
pub fn adopt(row: &mut Model, interval: Option<Interval>, count: Option<i64>) {
    row.meter_interval = interval.map(|i| i.as_str().to_owned());
    row.meter_interval_count = interval.map(|_| count.unwrap_or(1));
}

/// Sets the meter period `at` falls in, in the current billing period: none during a trial
/// (as the billing period, the clock starts when the trial ends), while paused, or without
/// a meter cycle.
pub fn arm(row: &mut Model, at: DateTime<Utc>) {
    let running = matches!(
        row.current_status(),
        SubscriptionStatus::Active | SubscriptionStatus::PastDue
    );
    let window = clock(row)
        .filter(|_| running)
        .map(|clock| clock.window_at(at));
    row.current_meter_period_start = window.map(|(start, _)| start);
    row.current_meter_period_end = window.map(|(_, end)| end);
}

/// Whether a meter period ends by `now`, before the billing period does (the last one is
/// the renewal's).
pub fn due(row: &Model, now: DateTime<Utc>) -> bool {
    row.current_meter_period_end
        .is_some_and(|end| end <= now && end < row.current_period_end)
}

/// The meter boundary of `row` passed: bills the usage, resets the meters and cycles the
/// grants (unless past due), and moves the clock to the next meter period. Returns the
/// subscription, the order to charge (if any) and the deliveries queued.
pub async fn cycle(
    app: &AppState,
    txn: &DatabaseTransaction,
    mut row: Model,
    now: DateTime<Utc>,
) -> ApiResult<(Model, Option<Uuid>, usize)> {
    let Some(boundary) = row.current_meter_period_end else {
        return Ok((row, None, 0));
    };
    let mut queued = 0;
    let mut to_collect = None;
    if row.current_status() == SubscriptionStatus::Active {
        let from = row.usage_since.unwrap_or(row.current_period_start);
        // A discount counted in months ends at the meter boundary it runs out on.
        let discount = super::renewal::current_discount(txn, &mut row, boundary).await?;
        let bill = Bill::of(txn, &row).await?;
        let used = bill.settle_usage(txn, from, boundary).await?;
        row.usage_since = Some(boundary);
        if used.iter().any(|u| u.amount > 0) {
            let lines = super::renewal::usage_lines(&used, from, boundary);
            // A fixed discount is for a billing period: taken off at every meter period it
            // would be given many times over. A percentage holds at any cadence.
            let discount = discount.filter(|d| d.kind == DiscountType::Percentage);
            let (order, order_queued) = bill
                .record(
                    txn,
                    &row,
                    lines,
                    discount.as_ref(),
                    BILLING_REASON,
                    boundary,
                    now,
                )
                .await?;
            queued += order_queued;
            to_collect = (order.status == "pending").then_some(order.id);
        }
        // Meter credits renew with the meter period, paid or not yet (as the renewal of
        // a free period does), as at Polar.
        queued += crate::benefits::cycle_subscription_grants(app, txn, &row, boundary, now).await?;
    }
    arm(&mut row, boundary);
    row.next_action_at = super::renewal::next_action(&row);
    row.modified_at = Some(now);
    let row = store::update(txn, row).await?;
    Ok((row, to_collect, queued))
}
