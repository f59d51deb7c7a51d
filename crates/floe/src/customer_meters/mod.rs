//! Customer meters: for each customer and meter, the units consumed and credited since the
//! meter was last reset for that customer, and the balance.
//!
//! - `consumed_units`: the meter's aggregation over the customer's user events (sent with
//!   its ID or its external ID) that match the meter's filter, from the latest
//!   `meter.reset` on.
//! - `credited_units`: the `meter.credited` units from the latest reset on, summed in time
//!   order without ever going below zero (taking back more than was credited stops at 0).
//! - `balance = credited_units - consumed_units` (negative when over the credit).
//!
//! A customer has a meter once a matching event or a credit for it exists. Values are
//! computed from the events when read (the reference the faster paths are checked against).

pub mod portal;
mod routes;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::events::entity::Model as EventRow;
use crate::events::system::{METER_CREDITED, METER_RESET};
use crate::meters::evaluate::{Accumulator, EventView};
use crate::meters::rollups::{self, CompiledMeter};

pub use routes::routes;

/// A customer's state for one meter.
#[derive(Clone, Debug)]
pub struct MeterState {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub meter_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub consumed_units: f64,
    pub credited_units: i64,
    pub balance: f64,
}

/// `CustomerStateMeter`.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerStateMeter {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub meter_id: Uuid,
    pub consumed_units: f64,
    pub credited_units: i64,
    pub balance: f64,
}

impl From<&MeterState> for CustomerStateMeter {
    fn from(state: &MeterState) -> Self {
        Self {
            id: state.id,
            created_at: state.created_at,
            modified_at: state.modified_at,
            meter_id: state.meter_id,
            consumed_units: state.consumed_units,
            credited_units: state.credited_units,
            balance: state.balance,
        }
    }
}

/// A stable ID for a customer's meter, shaped like the random UUIDs the API uses.
pub fn state_id(customer_id: Uuid, meter_id: Uuid) -> Uuid {
    let digest = Sha256::new()
        .chain_update(b"floe customer meter\0")
        .chain_update(customer_id.as_bytes())
        .chain_update(meter_id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

fn meter_of(event: &EventRow) -> Option<Uuid> {
    let metadata: Value = serde_json::from_str(&event.metadata).ok()?;
    Uuid::try_parse(metadata.get("meter_id")?.as_str()?).ok()
}

/// The states of one customer's meters, from all its events (oldest first or not).
pub fn compute(
    customer_id: Uuid,
    meters: &[&CompiledMeter],
    events: &[EventRow],
) -> Vec<MeterState> {
    let mut sorted: Vec<&EventRow> = events.iter().collect();
    sorted.sort_by_key(|e| (e.timestamp, e.id));
    let parsed: HashMap<Uuid, serde_json::Map<String, Value>> = sorted
        .iter()
        .map(|e| (e.id, crate::metadata::from_text(&e.metadata)))
        .collect();
    let mut states = Vec::new();
    for meter in meters {
        let system_for_meter = |e: &&&EventRow, name: &str| {
            e.source == "system" && e.name == name && meter_of(e) == Some(meter.id)
        };
        let reset_at = sorted
            .iter()
            .filter(|e| system_for_meter(e, METER_RESET))
            .map(|e| e.timestamp)
            .max();
        let mut consumed = Accumulator::default();
        let mut credited: i64 = 0;
        let mut first: Option<DateTime<Utc>> = None;
        let mut last: Option<DateTime<Utc>> = None;
        let mut seen = |at: DateTime<Utc>| {
            first = Some(first.map_or(at, |f| f.min(at)));
            last = Some(last.map_or(at, |l| l.max(at)));
        };
        for event in &sorted {
            let current = reset_at.is_none_or(|reset| event.timestamp >= reset);
            if event.source == "system" {
                if system_for_meter(&event, METER_CREDITED) {
                    seen(event.timestamp);
                    if current {
                        let units = parsed
                            .get(&event.id)
                            .and_then(|m| m.get("units"))
                            .and_then(Value::as_i64)
                            .unwrap_or(0);
                        credited = credited.saturating_add(units).max(0);
                    }
                } else if system_for_meter(&event, METER_RESET) {
                    seen(event.timestamp);
                }
                continue;
            }
            let Some(metadata) = parsed.get(&event.id) else {
                continue;
            };
            let view = EventView::of_row(event, metadata);
            if !meter.filter.matches(&view) {
                continue;
            }
            seen(event.timestamp);
            if current && let Some(contribution) = meter.aggregation.contribution(&view) {
                consumed.add(&contribution);
            }
        }
        let Some(created_at) = first else { continue };
        let consumed_units = consumed.value(&meter.aggregation).unwrap_or(0.0);
        states.push(MeterState {
            id: state_id(customer_id, meter.id),
            customer_id,
            meter_id: meter.id,
            created_at,
            modified_at: last.filter(|l| *l != created_at),
            consumed_units,
            credited_units: credited,
            balance: credited as f64 - consumed_units,
        });
    }
    states
}

/// The meter states of one customer (for `CustomerState.active_meters`).
pub async fn for_customer(
    app: &crate::app::AppState,
    organization_id: Uuid,
    customer_id: Uuid,
    external_id: Option<&str>,
) -> Result<Vec<MeterState>, sea_orm::DbErr> {
    let meters = routes::active_meters(app, organization_id, None).await?;
    states(app, organization_id, customer_id, external_id, &meters).await
}

/// One customer's states of `meters`: from the rollups, or from all its events when the
/// server is told to (the reference the rollups are tested against).
pub async fn states(
    app: &crate::app::AppState,
    organization_id: Uuid,
    customer_id: Uuid,
    external_id: Option<&str>,
    meters: &[CompiledMeter],
) -> Result<Vec<MeterState>, sea_orm::DbErr> {
    let (ready, building): (Vec<&CompiledMeter>, Vec<&CompiledMeter>) =
        meters.iter().partition(|m| m.reads_rollups(&app.config));
    let mut states = Vec::new();
    if !building.is_empty() {
        let events =
            crate::events::of_customer(&app.reader, organization_id, customer_id, external_id)
                .await?;
        states = compute(customer_id, &building, &events);
    }
    if ready.is_empty() {
        return Ok(states);
    }
    let system =
        crate::events::system_of_customer(&app.reader, organization_id, customer_id).await?;
    let keys: Vec<String> = std::iter::once(rollups::customer_key(Some(customer_id), None))
        .chain(external_id.map(rollups::external_key))
        .collect();
    for meter in ready {
        let mut sorted: Vec<&EventRow> = system
            .iter()
            .filter(|e| meter_of(e) == Some(meter.id))
            .collect();
        sorted.sort_by_key(|e| (e.timestamp, e.id));
        let reset_at = sorted
            .iter()
            .filter(|e| e.name == METER_RESET)
            .map(|e| e.timestamp)
            .max();
        let mut seen: Vec<DateTime<Utc>> = sorted
            .iter()
            .filter(|e| e.name == METER_RESET || e.name == METER_CREDITED)
            .map(|e| e.timestamp)
            .collect();
        let credited = credited_since(&sorted, reset_at);
        // First and last matching user events, ever.
        for key in &keys {
            let (first, last) = rollups::first_and_last(&app.reader, meter.id, key).await?;
            seen.extend(first);
            seen.extend(last);
        }
        // Consumption since the reset: whole buckets from the rollups; the part of the
        // bucket the reset falls in that follows it, from the events.
        let whole_from = match reset_at {
            None => rollups::earliest(),
            Some(reset) if rollups::bucket_of(reset) == reset => reset,
            Some(reset) => rollups::bucket_of(reset) + rollups::BUCKET,
        };
        let (rows, values) = rollups::read(
            &app.reader,
            &rollups::Read {
                meter_id: meter.id,
                whose: rollups::Whose::Keys(&keys),
                user_only: true,
                aggregation: &meter.aggregation,
                from: whole_from,
                to: rollups::latest(),
                // Added up by the database: a meter's whole history is many buckets.
                grain: rollups::Grain::Whole,
            },
        )
        .await?;
        let mut consumed = Accumulator::default();
        for partial in rollups::fold(rows, values).values() {
            consumed.merge(partial);
        }
        if let Some(reset) = reset_at.filter(|reset| *reset < whole_from) {
            let events = crate::events::in_range(
                &app.reader,
                app.db.get_database_backend(),
                organization_id,
                reset,
                whole_from,
                Some((
                    vec![customer_id],
                    external_id.into_iter().map(str::to_owned).collect(),
                )),
                &[],
            )
            .await?;
            for event in events.iter().filter(|e| e.source != "system") {
                let metadata = crate::metadata::from_text(&event.metadata);
                let view = EventView::of_row(event, &metadata);
                if meter.filter.matches(&view)
                    && let Some(contribution) = meter.aggregation.contribution(&view)
                {
                    consumed.add(&contribution);
                }
            }
        }
        let (Some(created_at), Some(last)) = (seen.iter().min(), seen.iter().max()) else {
            continue;
        };
        let consumed_units = consumed.value(&meter.aggregation).unwrap_or(0.0);
        states.push(MeterState {
            id: state_id(customer_id, meter.id),
            customer_id,
            meter_id: meter.id,
            created_at: *created_at,
            modified_at: Some(*last).filter(|l| l != created_at),
            consumed_units,
            credited_units: credited,
            balance: credited as f64 - consumed_units,
        });
    }
    // In the order of `meters`, whichever way each was computed.
    states.sort_by_key(|state| meters.iter().position(|m| m.id == state.meter_id));
    Ok(states)
}

/// Credits from the latest reset on, in time order, never below zero.
fn credited_since(sorted: &[&EventRow], reset_at: Option<DateTime<Utc>>) -> i64 {
    let mut credited: i64 = 0;
    for event in sorted {
        if event.name != METER_CREDITED || reset_at.is_some_and(|reset| event.timestamp < reset) {
            continue;
        }
        let units = crate::metadata::from_text(&event.metadata)
            .get("units")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        credited = credited.saturating_add(units).max(0);
    }
    credited
}

/// When `meter_id` was last reset for a customer (its current window's start), if ever.
pub async fn last_reset(
    db: crate::db::Reads<'_>,
    organization_id: Uuid,
    customer_id: Uuid,
    meter_id: Uuid,
) -> Result<Option<DateTime<Utc>>, sea_orm::DbErr> {
    use crate::events::entity::{Column, Entity};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let resets = db
        .all(
            Entity::find()
                .filter(Column::OrganizationId.eq(organization_id))
                .filter(Column::CustomerId.eq(customer_id))
                .filter(Column::Source.eq("system"))
                .filter(Column::Name.eq(METER_RESET)),
        )
        .await?;
    Ok(resets
        .iter()
        .filter(|e| meter_of(e) == Some(meter_id))
        .map(|e| e.timestamp)
        .max())
}
