//! Usage charged in arrears (decision 0019): what a subscription's metered prices cost for a
//! window of time, from the customer's own events.
//!
//! For each metered price, over `[from, to)`:
//! - `consumed`: the meter's aggregation over the customer's user events (sent with its ID
//!   or its external ID) that match the meter's filter: the same events, filter and
//!   aggregation that `GET /v1/meters/{id}/quantities` adds up for that customer and window;
//! - `credited`: the meter's `meter.credited` units stamped in the window, summed in time
//!   order and never below zero (as customer meters count them);
//! - billable units `max(0, consumed − credited)`, at the price's unit amount (or its tiers,
//!   on whole units rounded up), rounded once, half away from zero, and held to its cap.
//!
//! The window of a renewal is the period that ends: the previous renewal reset each meter at
//! its start (`meter.reset`), with the unused rollover credits carried over as a credit
//! stamped at the same instant, so a customer meter read during a period shows that period.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value;
use uuid::Uuid;

use crate::db::Reads;
use crate::events::entity::Model as EventRow;
use crate::events::system::METER_CREDITED;
use crate::meters::evaluate::{Accumulator, EventView};
use crate::meters::rollups::CompiledMeter;
use crate::products::schema::{Price, PriceAmount};

/// What one metered price used in a window, and what it costs.
#[derive(Clone, Debug)]
pub struct Usage {
    pub price_id: Uuid,
    pub meter: crate::meters::schema::Meter,
    pub consumed: f64,
    pub credited: i64,
    /// Rollover credits left unused at the window's end (carried into the next).
    pub carried: i64,
    pub amount: i64,
    pub label: String,
}

/// The meter's tally of a window's events.
#[derive(Debug, Default, PartialEq)]
pub struct Tally {
    pub consumed: f64,
    pub credited: i64,
    /// Of `credited`, the units credited as rollover (never below zero).
    pub rollover: i64,
}

impl Tally {
    /// Units over the credit.
    pub fn billable(&self) -> f64 {
        (self.consumed - self.credited as f64).max(0.0)
    }

    /// Rollover credits not used up: the balance, no more than what was credited as
    /// rollover, in whole units.
    pub fn carried(&self) -> i64 {
        let balance = (self.credited as f64 - self.consumed).floor();
        if balance <= 0.0 {
            return 0;
        }
        (balance as i64).min(self.rollover).max(0)
    }
}

/// An event with its metadata parsed, read by every meter of a window.
pub struct Parsed<'a> {
    event: &'a EventRow,
    metadata: serde_json::Map<String, Value>,
}

/// `events` with their metadata parsed once.
pub fn parse(events: &[EventRow]) -> Vec<Parsed<'_>> {
    events
        .iter()
        .map(|event| Parsed {
            event,
            metadata: crate::metadata::from_text(&event.metadata),
        })
        .collect()
}

/// Adds up `events` (one customer's, in time order) for `meter`.
pub fn tally(meter: &CompiledMeter, events: &[Parsed<'_>]) -> Tally {
    let mut consumed = Accumulator::default();
    let mut tally = Tally::default();
    for Parsed { event, metadata } in events {
        if event.source == "system" {
            let of_meter = metadata.get("meter_id").and_then(Value::as_str)
                == Some(meter.id.to_string().as_str());
            if event.name == METER_CREDITED && of_meter {
                let units = metadata.get("units").and_then(Value::as_i64).unwrap_or(0);
                tally.credited = tally.credited.saturating_add(units).max(0);
                if metadata.get("rollover").and_then(Value::as_bool) == Some(true) {
                    tally.rollover = tally.rollover.saturating_add(units).max(0);
                }
            }
            continue;
        }
        let view = EventView::of_row(event, metadata);
        if meter.filter.matches(&view)
            && let Some(contribution) = meter.aggregation.contribution(&view)
        {
            consumed.add(&contribution);
        }
    }
    tally.consumed = consumed.value(&meter.aggregation).unwrap_or(0.0);
    tally.rollover = tally.rollover.min(tally.credited);
    tally
}

/// What `billable` units cost at a metered price, and whether the cap held it; `None` for a
/// price that is not metered or whose rate is not a decimal.
pub fn cost(price: &Price, billable: f64) -> Option<(i64, bool)> {
    let units: Decimal = billable.to_string().parse().ok()?;
    let (exact, cap) = match &price.amount {
        PriceAmount::MeteredUnit {
            unit_amount,
            cap_amount,
            ..
        } => (
            unit_amount.parse::<Decimal>().ok()?.checked_mul(units)?,
            *cap_amount,
        ),
        PriceAmount::MeteredTiers {
            tiers, cap_amount, ..
        } => (
            crate::pricing::tiers::cost(tiers, billable.ceil() as u64)?,
            *cap_amount,
        ),
        _ => return None,
    };
    let amount = crate::pricing::rounding::minor_units(exact)?;
    Some(match cap {
        Some(cap) if amount > cap => (cap, true),
        _ => (amount, false),
    })
}

/// A number of units as people write it: no `.0` on whole numbers.
fn units_text(units: f64) -> String {
    if units.fract() == 0.0 && units.abs() < 1e15 {
        format!("{}", units as i64)
    } else {
        format!("{units}")
    }
}

/// The metered prices among `prices`.
pub fn metered(prices: &[Price]) -> Vec<&Price> {
    prices
        .iter()
        .filter(|p| crate::pricing::totals::is_metered(p))
        .collect()
}

fn meter_id_of(price: &Price) -> Option<Uuid> {
    match &price.amount {
        PriceAmount::MeteredUnit { meter_id, .. } | PriceAmount::MeteredTiers { meter_id, .. } => {
            Some(*meter_id)
        }
        _ => None,
    }
}

/// What the customer's use of each of `prices` (a subscription's metered prices) costs over
/// `[from, to)`.
pub async fn of_window(
    db: Reads<'_>,
    organization_id: Uuid,
    customer: (Uuid, Option<&str>),
    prices: &[&Price],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Usage>, DbErr> {
    if prices.is_empty() || from >= to {
        return Ok(Vec::new());
    }
    let meter_ids: Vec<Uuid> = prices.iter().filter_map(|p| meter_id_of(p)).collect();
    let meters = crate::meters::records_in(db, organization_id, &meter_ids).await?;
    let events =
        crate::events::of_customer_between(db, organization_id, customer.0, customer.1, from, to)
            .await?;
    let events = parse(&events);
    Ok(prices
        .iter()
        .filter_map(|price| {
            let meter_id = meter_id_of(price)?;
            let record = meters.iter().find(|m| m.meter.id == meter_id)?;
            let tally = tally(&record.compiled, &events);
            let billable = tally.billable();
            let (amount, capped) = cost(price, billable)?;
            let mut label = format!(
                "{}: {} units used, {} credited, {} billed",
                record.meter.name,
                units_text(tally.consumed),
                tally.credited,
                units_text(billable)
            );
            if capped {
                label.push_str(" (capped)");
            }
            Some(Usage {
                price_id: price.id,
                meter: record.meter.clone(),
                consumed: tally.consumed,
                credited: tally.credited,
                carried: tally.carried(),
                amount,
                label,
            })
        })
        .collect())
}

/// Starts the next window of each meter in `usage` at `at`: a `meter.reset`, and the unused
/// rollover credits credited again (as rollover) at the same instant.
pub async fn reset_meters(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    customer_id: Uuid,
    usage: &[Usage],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut done: Vec<Uuid> = Vec::new();
    for used in usage {
        if done.contains(&used.meter.id) {
            continue;
        }
        done.push(used.meter.id);
        crate::events::system::meter_reset(txn, organization_id, customer_id, used.meter.id, at)
            .await?;
        if used.carried > 0 {
            crate::events::system::meter_credited(
                txn,
                organization_id,
                customer_id,
                used.meter.id,
                used.carried,
                true,
                at,
            )
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carried_is_the_unused_rollover_only() {
        let t = |consumed, credited, rollover| Tally {
            consumed,
            credited,
            rollover,
        };
        assert_eq!(t(3.0, 10, 10).carried(), 7);
        assert_eq!(t(3.0, 10, 4).carried(), 4);
        assert_eq!(t(12.0, 10, 10).carried(), 0);
        assert_eq!(t(2.5, 10, 10).carried(), 7);
        assert_eq!(t(0.0, 10, 0).carried(), 0);
        assert_eq!(t(12.0, 10, 10).billable(), 2.0);
        assert_eq!(t(2.0, 10, 10).billable(), 0.0);
    }

    #[test]
    fn units_are_written_plainly() {
        assert_eq!(units_text(3.0), "3");
        assert_eq!(units_text(2.5), "2.5");
    }
}
