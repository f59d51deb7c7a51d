//! What a quantities request adds up: rollup buckets when they can answer it, or else the
//! matching events themselves (the reference; also what a metadata filter needs).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::evaluate::{Accumulator, EventView};
use super::filter::{Aggregation, Filter};
use super::quantities::{Interval, Sample, same_period};
use super::rollup_entity::rollup;
use super::rollups::{self, Grain, Whose};
use crate::app::AppState;
use crate::http::ApiResult;

pub struct Request<'a> {
    pub organization_id: Uuid,
    pub meter_id: Uuid,
    pub filter: &'a Filter,
    pub aggregation: &'a Aggregation,
    pub interval: Interval,
    pub tz: Tz,
    /// The events' time range (whole periods).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The customers asked about: their IDs and external IDs.
    pub customers: Option<(Vec<Uuid>, Vec<String>)>,
    /// Whether values are aggregated per customer first.
    pub per_customer: bool,
    pub metadata: &'a [(String, Vec<String>)],
}

/// Names events by customer for per-customer aggregation: an external ID that a customer
/// has is that customer.
async fn owners(
    app: &AppState,
    organization_id: Uuid,
    external: Vec<String>,
) -> ApiResult<HashMap<String, Uuid>> {
    if external.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(
        crate::customers::find_many(&app.reader, organization_id, &[], &external)
            .await?
            .into_iter()
            .filter_map(|c| Some((c.external_id?, c.id)))
            .collect(),
    )
}

fn customer_label(
    customer_id: Option<&str>,
    external: Option<&str>,
    owners: &HashMap<String, Uuid>,
) -> String {
    match (customer_id, external) {
        (Some(id), _) => id.to_owned(),
        (None, Some(ext)) => owners
            .get(ext)
            .map_or_else(|| format!("external:{ext}"), Uuid::to_string),
        (None, None) => String::new(),
    }
}

/// From the rollups; `None` when a bucket in range spans two periods (an offset that is
/// not a whole number of quarter hours), so only the events can answer.
pub async fn from_rollups(app: &AppState, request: &Request<'_>) -> ApiResult<Option<Vec<Sample>>> {
    let keys: Vec<String>;
    let whose = match (&request.customers, request.per_customer) {
        (Some((ids, external)), _) => {
            keys = ids
                .iter()
                .map(Uuid::to_string)
                .chain(external.iter().map(|e| rollups::external_key(e)))
                .collect();
            Whose::Keys(&keys)
        }
        (None, true) => Whose::EachCustomer,
        (None, false) => Whose::All,
    };
    // Hours when every hour in range lies in one period (whole-hour offsets), else the
    // stored quarter hours; a bucket that straddles two periods leaves it to the events.
    let mut answer = None;
    for grain in [Grain::Hour, Grain::Bucket] {
        let (rows, values) = rollups::read(
            &app.reader,
            &rollups::Read {
                meter_id: request.meter_id,
                whose,
                user_only: false,
                aggregation: request.aggregation,
                from: rollups::bucket_of(request.from),
                to: request.to,
                grain,
            },
        )
        .await?;
        if !straddles(request, &rows, grain) {
            answer = Some((rows, values));
            break;
        }
    }
    let Some((rows, values)) = answer else {
        return Ok(None);
    };
    let external: Vec<String> = rows
        .iter()
        .filter_map(|r| r.customer_key.strip_prefix("ext:").map(str::to_owned))
        .collect();
    let owners = if request.per_customer {
        owners(app, request.organization_id, external).await?
    } else {
        HashMap::new()
    };
    Ok(Some(
        rollups::fold(rows, values)
            .into_iter()
            .map(|((key, bucket_start), partial)| {
                let customer = match key.strip_prefix("ext:") {
                    Some(ext) => customer_label(None, Some(ext), &owners),
                    None => key,
                };
                Sample {
                    timestamp: bucket_start,
                    customer,
                    partial,
                }
            })
            .collect(),
    ))
}

/// Whether a row of `grain` covers instants of two periods of the series.
fn straddles(request: &Request<'_>, rows: &[rollup::Model], grain: Grain) -> bool {
    let Some(width) = grain.width() else {
        return true;
    };
    let last_instant = width - chrono::TimeDelta::nanoseconds(1);
    rows.iter().any(|row| {
        !same_period(
            request.interval,
            request.tz,
            row.bucket_start,
            row.bucket_start + last_instant,
        )
    })
}

/// From the events: every event in range is read and evaluated.
pub async fn from_events(app: &AppState, request: &Request<'_>) -> ApiResult<Vec<Sample>> {
    let rows = crate::events::in_range(
        &app.reader,
        app.db.get_database_backend(),
        request.organization_id,
        request.from,
        request.to,
        request.customers.clone(),
        request.metadata,
    )
    .await?;
    let external: Vec<String> = rows
        .iter()
        .filter_map(|r| r.external_customer_id.clone())
        .collect();
    let owners = owners(app, request.organization_id, external).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let metadata = crate::metadata::from_text(&row.metadata);
            let view = EventView::of_row(row, &metadata);
            if !request.filter.matches(&view) {
                return None;
            }
            let contribution = request.aggregation.contribution(&view)?;
            let customer_id = row.customer_id.map(|id| id.to_string());
            Some(Sample {
                timestamp: row.timestamp,
                customer: customer_label(
                    customer_id.as_deref(),
                    row.external_customer_id.as_deref(),
                    &owners,
                ),
                partial: Accumulator::of(&contribution),
            })
        })
        .collect())
}
