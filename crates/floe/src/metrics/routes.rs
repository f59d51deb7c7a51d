//! `GET /v1/metrics/`, `/v1/metrics/export` (CSV) and `/v1/metrics/limits`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::catalog::METRICS;
use super::compute::{Computed, Num, compute};
use super::dashboards::MetricsRead;
use super::params::{self, Request};
use super::periods::Periods;
use crate::app::AppState;
use crate::auth::Authorized;
use crate::csv_export::{csv_row, iso_datetime};
use crate::http::{ApiResult, QueryParams};

/// The request's periods and every metric's values in them (zeros for another
/// organization's ID, which filters everything out).
async fn answer(
    app: &AppState,
    organization_id: uuid::Uuid,
    query: &QueryParams,
) -> ApiResult<(Request, Periods, Computed)> {
    let request = params::parse(query)?;
    let periods = Periods::new(request.start, request.end, request.interval, request.tz);
    let began = std::time::Instant::now();
    let inputs = if query.allows_organization(organization_id)? {
        super::inputs::load(
            &app.db,
            organization_id,
            &request,
            periods.until,
            periods.from,
        )
        .await?
    } else {
        super::inputs::Inputs::default()
    };
    let loaded = began.elapsed();
    let computed = compute(&periods, &inputs);
    // Where a request's time goes, for the rollups to come (docs/decisions/0023).
    tracing::info!(
        load_ms = loaded.as_secs_f64() * 1000.0,
        compute_ms = (began.elapsed() - loaded).as_secs_f64() * 1000.0,
        orders = inputs.orders.len(),
        subscriptions = inputs.subscriptions.len(),
        periods = periods.len(),
        "metrics computed"
    );
    Ok((request, periods, computed))
}

/// The metrics the answer shows, as places in `METRICS`.
fn shown(request: &Request) -> Vec<usize> {
    request
        .metrics
        .clone()
        .unwrap_or_else(|| (0..METRICS.len()).collect())
}

/// `metrics:get`.
pub async fn get(
    auth: Authorized<MetricsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<Value>> {
    let (request, periods, computed) = answer(&app, auth.organization_id, &query).await?;
    let shown = shown(&request);
    let rows: Vec<Value> = (0..periods.len())
        .map(|p| {
            let mut row = Map::new();
            row.insert("timestamp".to_owned(), json!(periods.start(p)));
            for &m in &shown {
                row.insert(METRICS[m].slug.to_owned(), json!(computed.values[m][p]));
            }
            Value::Object(row)
        })
        .collect();
    let mut totals = Map::new();
    let mut described = Map::new();
    for &m in &shown {
        let metric = &METRICS[m];
        totals.insert(metric.slug.to_owned(), json!(computed.totals[m]));
        described.insert(
            metric.slug.to_owned(),
            json!({"slug": metric.slug, "display_name": metric.display_name, "type": metric.unit}),
        );
    }
    Ok(axum::Json(
        json!({"periods": rows, "totals": totals, "metrics": described}),
    ))
}

/// A value as Python's `str()` writes it, which is what Polar's export holds.
fn cell(value: Num) -> String {
    match value {
        Num::Int(v) => v.to_string(),
        Num::Float(v) => format!("{v:?}"),
    }
}

/// `metrics:export`: the periods as CSV, one column per metric (its display name).
pub async fn export(
    auth: Authorized<MetricsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<Response> {
    let (request, periods, computed) = answer(&app, auth.organization_id, &query).await?;
    let shown = shown(&request);
    let mut csv = Vec::new();
    let header = std::iter::once("Timestamp".to_owned())
        .chain(shown.iter().map(|&m| METRICS[m].display_name.to_owned()));
    csv.extend_from_slice(&csv_row(header)?);
    for p in 0..periods.len() {
        let row = std::iter::once(iso_datetime(periods.start(p), chrono_tz::Tz::UTC))
            .chain(shown.iter().map(|&m| cell(computed.values[m][p])));
        csv.extend_from_slice(&csv_row(row)?);
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"polar-metrics.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// `metrics:limits`.
pub async fn limits(_auth: Authorized<MetricsRead>) -> axum::Json<Value> {
    axum::Json(params::limits())
}
